/**
 * The measuring half of `deno task bench`: run the chosen sections (each contender in its own process, see
 * `jobs.ts`) and return their numbers as a {@link BenchResults} object, with no prose. `report.ts` turns
 * that object into the Markdown report; `goals.ts` checks it against the goals of `goals.json`.
 *
 *   sections ──► benchImages / benchText / … / benchTraining / search / world / probe ──► BenchResults
 * @module
 */
import { join } from "node:path";
import { statSync } from "node:fs";
import { loadPromptFile } from "../src/zeroshot/templates.ts";
import { shared } from "./shared.ts";
import { benchImages, type ImageRow } from "./images.ts";
import { benchText } from "./text.ts";
import { benchMemory } from "./memory.ts";
import { measureGflops, visionFlops, visionShape } from "./gflops.ts";
import { runTokenizerBench } from "./tokenizer.ts";
import { runPreprocessBench } from "./preprocess.ts";
import { benchTraining, type TrainBenchOptions } from "./train.ts";
import { ensureModel, VITB32_DIR } from "./vitb32.ts";
import {
  approximateIndexThreshold,
  benchEmbedFolder,
  benchSearch,
  benchSearchFromDisk,
  randomUnitRows,
} from "./search.ts";
import { measureWorld } from "./world.ts";
import { benchLinearProbe } from "./linear_probe.ts";
import { machineDescription, machineIsLoaded } from "./stats.ts";
import { mib } from "./table.ts";
import { pythonHasTorch, type Variant } from "./jobs.ts";
import {
  type BenchResults,
  MODEL_SECTIONS,
  type ModelInfo,
  RESULTS_SCHEMA,
  type RunInfo,
  type Section,
  SECTIONS,
} from "./results.ts";

/** Photographs and drawings among the golden preprocessing inputs (PNG, JPEG; RGB, RGBA, L, P; 256–640 px). */
export const IMAGE_FILES = [
  "astronaut_256.png",
  "chelsea.png",
  "rocket.jpg",
  "horse.png",
  "camera.png",
  "brick.png",
  "text.png",
  "green_palette.png",
];

/** The small trained model shipped with the kit (the search and world sections embed with it). */
const TINY_CLIP = join(import.meta.dirname!, "..", "models", "tiny-clip");

/** Options of {@link measureBench}. */
export interface MeasureBenchOptions {
  /** Model directory (default: the ViT-B/32-shaped model, written into bench/out/ if absent). */
  model?: string;
  /** Sections to run (default all). */
  only?: Section[];
  quick?: boolean;
  /** Timed repetitions of the image and text comparisons (default 2, head-to-head images 3; quick: 1, 2). */
  reps?: number;
  /** Batch sizes of comparison 1 (default [1, 32]). */
  batches?: number[];
  /** ImageNet classes in the timed text sample (default 25; quick 10). */
  sampleClasses?: number;
  /** Graphs of the memory comparison (default fp32, fp16, q8). */
  memoryVariants?: Variant[];
  /** Texts of the tokenizer benchmark (default 30,000; quick 5,000). */
  tokenizerTexts?: number;
  /** Rows of the searched corpus (default 100,000; quick 20,000; 512 wide). */
  searchRows?: number;
  /** The training section's options (configurations, batch size, turns); see `train.ts`. */
  train?: Omit<TrainBenchOptions, "quick" | "log">;
  log?: (line: string) => void;
}

/**
 * Measure the chosen sections and return their numbers (one run).
 * @example
 * ```ts
 * const results = await measureBench({ only: ["tokenizer"] });
 * results.sections.tokenizer?.rows[0].tokenizer; // "clipkit"
 * ```
 */
export async function measureBench(options: MeasureBenchOptions = {}): Promise<BenchResults> {
  const log = options.log ?? ((line: string) => console.error(line));
  const only = new Set(options.only ?? SECTIONS);
  const quick = options.quick ?? false;
  const started = new Date();
  const loadedAtStart = machineIsLoaded();
  const machineAtStart = machineDescription();
  const results: BenchResults = { schema: RESULTS_SCHEMA, runs: [], sections: {} };
  const usesModel = MODEL_SECTIONS.some((s) => only.has(s));
  const model = usesModel ? options.model ?? await ensureModel(VITB32_DIR, { log }) : "";
  if (usesModel) results.model = await modelInfo(model);
  const shape = results.model?.vision;
  const files = IMAGE_FILES.map((f) => shared("golden", "preprocess", "inputs", f));
  const s = results.sections;
  let imageRows: ImageRow[] = [];

  if (only.has("images") || only.has("gflops")) {
    const measured = await benchImages({
      model,
      files,
      batches: only.has("images") ? options.batches : [32],
      reps: options.reps ?? (quick ? 1 : 2),
      quick: quick || !only.has("images"),
      log,
    });
    imageRows = measured.rows;
    if (only.has("images")) s.images = { ...measured, run: 0 };
  }

  if (only.has("text")) {
    const prompts = await loadPromptFile(shared("clip", "prompts.json"));
    const { classes, templates } = prompts.ImageNet;
    const measured = await benchText({
      model,
      classes: classes! as (string | string[])[],
      templates,
      sampleClasses: options.sampleClasses ?? (quick ? 10 : 25),
      reps: options.reps ?? (quick ? 1 : 2),
      quick,
      log,
    });
    s.text = { ...measured, classes: classes!.length, templates: templates.length, run: 0 };
  }

  if (only.has("tokenizer")) {
    log("tokenizer: clipkit vs transformers.js");
    const rows = await runTokenizerBench({
      passes: quick ? 1 : 3,
      limit: options.tokenizerTexts ?? (quick ? 5000 : 30_000),
    });
    s.tokenizer = { rows, run: 0 };
  }

  if (only.has("preprocess")) {
    log("preprocess: clipkit vs transformers.js vs PIL + torchvision");
    s.preprocess = { rows: await runPreprocessBench({ passes: quick ? 1 : 3 }), run: 0 };
  }

  if (only.has("memory")) {
    s.memory = {
      ...await benchMemory({ model, quick, variants: options.memoryVariants, log }),
      run: 0,
    };
  }

  if (only.has("gflops")) {
    log("gflops: MatMul peak and the image tower, one process, in turns");
    const run = await measureGflops(model, shape!, files, quick ? 2 : 5);
    s.gflops = {
      inTurns: typeof run === "string" ? { skipped: run } : run,
      imageRows: imageRows.filter((r) => r.batch === 32),
      run: 0,
    };
  }

  if (only.has("train")) {
    s.train = { ...await benchTraining({ ...options.train, quick, log }), run: 0 };
  }

  if (only.has("search")) {
    const rows = options.searchRows ?? (quick ? 20_000 : 100_000), dim = 512, reps = quick ? 1 : 5;
    log(`search: exact top-10 over ${rows} × ${dim}, then embedding a folder with models/tiny-clip`);
    const corpus = randomUnitRows(rows, dim, 1);
    const measured = [
      await benchSearch(corpus, 1, reps),
      await benchSearch(corpus, 16, reps),
      await benchSearchFromDisk(corpus, reps),
      await benchEmbedFolder(TINY_CLIP, quick ? 80 : 320, quick ? 1 : 3),
    ];
    s.search = {
      rows: measured,
      corpus: { rows, dim },
      approximate: approximateIndexThreshold(measured[0], rows, dim),
      run: 0,
    };
  }

  if (only.has("world")) {
    log(`world: shapes-world generator per medium${quick ? "" : ", then one quick suite pass"}`);
    s.world = { rows: await measureWorld({ quick, suite: !quick, model: TINY_CLIP }), run: 0 };
  }

  if (only.has("probe")) {
    const data = quick
      ? { rows: 2000, dim: 128, classes: 20, C: 1 }
      : { rows: 10_000, dim: 512, classes: 100, C: 1 };
    const skipped: string[] = [];
    const rows = await benchLinearProbe({
      ...data,
      test: quick ? 500 : 2000,
      log: (line) => {
        if (line.startsWith("scikit-learn skipped: ")) {
          skipped.push(line.slice("scikit-learn skipped: ".length));
        }
        log(`probe: ${line}`);
      },
    });
    s.probe = { rows, data, skipped, run: 0 };
  }

  results.runs.push(
    {
      started: started.toISOString(),
      finished: new Date().toISOString(),
      quick,
      sections: SECTIONS.filter((x) => only.has(x)),
      machineAtStart,
      machineAtEnd: machineDescription(),
      loaded: loadedAtStart || machineIsLoaded(),
      pytorch: await pythonHasTorch(),
    } satisfies RunInfo,
  );
  return results;
}

/** What the report says about the model directory. */
async function modelInfo(model: string): Promise<ModelInfo> {
  const config = JSON.parse(await Deno.readTextFile(join(model, "config.json")));
  const vision = await visionShape(model);
  const files = ["text_model", "vision_model"].flatMap((t) =>
    ["", "_fp16", "_quantized"].map((v) => {
      try {
        return `${t}${v}.onnx ${mib(statSync(join(model, "onnx", `${t}${v}.onnx`)).size)}`;
      } catch {
        return "";
      }
    })
  ).filter(Boolean);
  return {
    path: model,
    comment: config._comment,
    vision,
    text: {
      width: config.text_config?.hidden_size,
      layers: config.text_config?.num_hidden_layers,
      vocab: config.text_config?.vocab_size,
    },
    projection: config.projection_dim,
    files,
    visionFlops: visionFlops(vision),
  };
}
