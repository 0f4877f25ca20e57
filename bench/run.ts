/**
 * `deno task bench`: clipkit side by side with a bare onnxruntime-node session, transformers.js and
 * PyTorch on a full-size (ViT-B/32-shaped, random-weight) CLIP written by the project's exporter, plus the
 * tokenizer and preprocessing benchmarks; prints Markdown tables and writes them, with the machine's
 * description, to `bench/RESULTS.md`.
 *
 *   deno task bench                              # everything (≈15 min on 2 cores)
 *   deno task bench --quick                      # fewer repetitions and rows
 *   deno task bench --only images,text           # some of: images, text, tokenizer, preprocess, memory, gflops
 *   deno task bench --model DIR --out FILE --reps N --sample-classes N
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { statSync } from "node:fs";
import { loadPromptFile } from "../src/zeroshot/templates.ts";
import { shared } from "../test/_shared.ts";
import { benchImages, headToHeadTable, type ImageRow, imagesTable } from "./images.ts";
import { benchText, duration, textTable } from "./text.ts";
import { benchMemory, type MemoryRow, memoryTable } from "./memory.ts";
import { gflopsTable, measureGflops, visionFlops, visionShape } from "./gflops.ts";
import { runTokenizerBench } from "./tokenizer.ts";
import { runPreprocessBench } from "./preprocess.ts";
import { ensureModel, VITB32_DIR } from "./vitb32.ts";
import { machineDescription, machineIsLoaded } from "./stats.ts";
import { fmt, markdownTable, mib } from "./table.ts";
import { pythonHasTorch, type Variant } from "./jobs.ts";

/** The benchmark's sections. */
export const SECTIONS = ["images", "text", "tokenizer", "preprocess", "memory", "gflops"] as const;
export type Section = typeof SECTIONS[number];

/** Where the report goes by default. */
export const RESULTS_PATH = join(import.meta.dirname!, "RESULTS.md");

/** Photographs and drawings among the golden preprocessing inputs (PNG, JPEG; RGB, RGBA, L, P; 256–640 px). */
const IMAGE_FILES = [
  "astronaut_256.png",
  "chelsea.png",
  "rocket.jpg",
  "horse.png",
  "camera.png",
  "brick.png",
  "text.png",
  "green_palette.png",
];

/** Options of {@link runBench}. */
export interface BenchOptions {
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
  /** Report file (default bench/RESULTS.md); `null` to write none. */
  out?: string | null;
  log?: (line: string) => void;
}

/** A goal of the issue and whether the run met it. */
interface Goal {
  goal: string;
  measured: string;
  met: boolean | undefined;
}

/**
 * Run the benchmark and return the report (Markdown); writes it to `out` (atomically) unless `out` is null.
 * @example
 * const report = await runBench({ only: ["memory"], out: null });
 * report.includes("## 4. Peak resident memory") // true
 */
export async function runBench(options: BenchOptions = {}): Promise<string> {
  const log = options.log ?? ((line: string) => console.error(line));
  const only = new Set(options.only ?? SECTIONS);
  const quick = options.quick ?? false;
  const started = new Date();
  const loadedAtStart = machineIsLoaded();
  const machineAtStart = machineDescription();
  const model = options.model ?? await ensureModel(VITB32_DIR, { log });
  const config = JSON.parse(await Deno.readTextFile(join(model, "config.json")));
  const shape = await visionShape(model);
  const flops = visionFlops(shape);
  const files = IMAGE_FILES.map((f) => shared("golden", "preprocess", "inputs", f));
  const sections: string[] = [];
  const goals: Goal[] = [];
  const notes: string[] = [];
  let imageRows: ImageRow[] = [];

  if (only.has("images") || only.has("gflops")) {
    const { rows, headToHead, headToHeadLabel, skipped } = await benchImages({
      model,
      files,
      batches: only.has("images") ? options.batches : [32],
      reps: options.reps ?? (quick ? 1 : 2),
      quick: quick || !only.has("images"),
      log,
    });
    imageRows = rows;
    if (only.has("images")) {
      sections.push(
        "## 1. Image embeddings per second\n\n" +
          "Image files → embeddings (decode, CLIP preprocessing, vision tower), batch 1 (8 images, one call each) and " +
          "32 (the 8 images repeated; one call). The bare onnxruntime-node session and clipkit's `encodePixels` " +
          "are fed ready tensors (decoded and preprocessed once, untimed): the tower alone. Median of the timed " +
          "repetitions after one warm-up, ± half the range; each contender in its own process, back to back.\n\n" +
          imagesTable(rows) + skippedNote(skipped) +
          (headToHead.length
            ? "\n\n### Head to head\n\nThe same files, contenders loaded side by side in one process and timed in " +
              "turns (the order rotating each repetition), so that the machine's drifting load falls on all alike: " +
              "clipkit native, a bare session fed tensors and transformers.js (default); then, in another process, " +
              "clipkit WASM and transformers.js forced to WASM, both on one WASM thread (one onnxruntime-web per " +
              `process). Threads: ${headToHeadLabel}.\n\n` +
              headToHeadTable(headToHead)
            : ""),
      );
      for (const batch of new Set(rows.map((r) => r.batch))) {
        const at = (c: string, input: string, pinned = false) =>
          rows.find((r) =>
            r.batch === batch && r.contender === c && r.input === input && r.pinnedThreads === pinned
          );
        const oursPixels = at("clipkit-node", "pixels"), web1 = at("clipkit-web", "files", true);
        const h2h = (c: string) => headToHead.find((r) => r.batch === batch && r.contender === c);
        const together = h2h("clipkit-node") !== undefined;
        const ours = h2h("clipkit-node") ?? at("clipkit-node", "files"),
          bare = h2h("ort-node-prealloc") ?? at("ort-node-prealloc", "pixels") ?? at("ort-node", "pixels");
        const tjs = h2h("transformers.js") ?? at("transformers.js", "files"),
          web = at("clipkit-web", "files"),
          tjsWasm = at("transformers.js-wasm", "files");
        const oursFiles = at("clipkit-node", "files");
        if (oursFiles && oursPixels) {
          const share = oursPixels.perSecond / oursFiles.perSecond - 1; // decode + preprocess time / tower time
          goals.push({
            goal:
              `decode + preprocess ≤ 1/5 of the forward pass (clipkit native, batch ${batch}, same process)`,
            measured: `${(share * 100).toFixed(0)}% of it`,
            met: share <= 0.2,
          });
        }
        if (ours && bare) {
          const r = ours.perSecond / bare.perSecond;
          goals.push({
            goal: `clipkit native from files ≥ 0.8× bare ORT fed tensors (batch ${batch}${
              together ? ", head to head" : ""
            })`,
            measured: `${r.toFixed(2)}×`,
            met: r >= 0.8,
          });
        }
        if (ours && tjs) {
          const r = ours.perSecond / tjs.perSecond;
          goals.push({
            goal: `clipkit native ≥ 1.3× transformers.js, same files (batch ${batch}${
              together ? ", head to head" : ""
            })`,
            measured: `${r.toFixed(2)}×`,
            met: r >= 1.3,
          });
        }
        if (web && tjsWasm) {
          const r = web.perSecond / tjsWasm.perSecond;
          goals.push({
            goal: `clipkit WASM ≥ transformers.js forced to WASM (batch ${batch})`,
            measured: `${r.toFixed(2)}× (${web.threads} vs ${tjsWasm.threads} threads)`,
            met: r >= 1,
          });
        }
        const webTogether = h2h("clipkit-web"), tjsWasmTogether = h2h("transformers.js-wasm");
        if (webTogether && tjsWasmTogether) {
          const r = webTogether.perSecond / tjsWasmTogether.perSecond;
          goals.push({
            goal:
              `clipkit WASM ≥ transformers.js forced to WASM (batch ${batch}), both on 1 thread, head to head`,
            measured: `${r.toFixed(2)}×`,
            met: r >= 1,
          });
        } else if (web1 && tjsWasm) {
          const r = web1.perSecond / tjsWasm.perSecond;
          goals.push({
            goal: `clipkit WASM ≥ transformers.js forced to WASM (batch ${batch}), both on 1 thread`,
            measured: `${r.toFixed(2)}×`,
            met: r >= 1,
          });
        }
      }
    }
  }

  if (only.has("text")) {
    const prompts = await loadPromptFile(shared("clip", "prompts.json"));
    const { classes, templates } = prompts.ImageNet;
    const { rows, together, cached, skipped, total } = await benchText({
      model,
      classes: classes! as (string | string[])[],
      templates,
      sampleClasses: options.sampleClasses ?? (quick ? 10 : 25),
      reps: options.reps ?? (quick ? 1 : 2),
      quick,
      log,
    });
    sections.push(
      `## 2. Text embeddings: CLIP's ImageNet head (${
        classes!.length
      } classes × ${templates.length} templates)\n\n` +
        "Cold: every prompt through the text tower, measured on an even sample of the classes (all templates) " +
        `and projected to the ${
          total.toLocaleString("en")
        } prompts; slower contenders time a strided subset of ` +
        "the sample (mean prompt lengths shown). Cached: the whole head rebuilt from clipkit's disk cache " +
        "(the cache was filled untimed, with stand-in rows of the model's width: reading does not depend on the values).\n\n" +
        textTable(rows, total, cached) + skippedNote(skipped) +
        (together
          ? `\n\n### Head to head\n\nThe same ${together.prompts} prompts (${
            fmt(together.meanTokens)
          } tokens each ` +
            "on average) in one process, timed in turns: clipkit's `encodeText` (length-sorted batches cut to their " +
            `longest prompt) ${
              fmt(together.perSecond["clipkit-node"])
            } prompts/s, a bare onnxruntime-node session ` +
            `padded to 77 ${fmt(together.perSecond["ort-node"])} prompts/s: ` +
            `${
              (together.perSecond["clipkit-node"] / together.perSecond["ort-node"]).toFixed(1)
            }× (80,000 prompts: ` +
            `${duration(total / together.perSecond["clipkit-node"])} vs ${
              duration(total / together.perSecond["ort-node"])
            }).`
          : ""),
    );
    const ours = rows.find((r) => r.contender === "clipkit-node");
    const padded = rows.find((r) => r.contender === "ort-node" && r.padding === "77");
    if (cached) {
      goals.push({
        goal: `cached ${total.toLocaleString("en")}-prompt head rebuild < 1 s`,
        measured: duration(cached.timing.median),
        met: cached.timing.median < 1,
      });
    }
    if (together) {
      const [a, b] = [together.perSecond["clipkit-node"], together.perSecond["ort-node"]];
      goals.push({
        goal: "cold head ≥ 5× faster than padding to 77 (head to head)",
        measured: `${(a / b).toFixed(1)}× (${duration(total / a)} vs ${duration(total / b)})`,
        met: a / b >= 5,
      });
    } else if (ours && padded) {
      const r = ours.perSecond / padded.perSecond;
      goals.push({
        goal: "cold head ≥ 5× faster than padding to 77",
        measured: `${r.toFixed(1)}× (${duration(ours.projectedSeconds)} vs ${
          duration(padded.projectedSeconds)
        })`,
        met: r >= 5,
      });
    }
  }

  if (only.has("tokenizer")) {
    log("tokenizer: clipkit vs transformers.js");
    const rows = await runTokenizerBench({
      passes: quick ? 1 : 3,
      limit: options.tokenizerTexts ?? (quick ? 5000 : 30_000),
    });
    sections.push(
      `## 3a. Tokenizer (${
        rows[0].texts.toLocaleString("en")
      } texts: the golden captions, then template × class ` +
        "name prompts of CLIP's prompts.json; best pass after a warm-up)\n\n" +
        markdownTable(
          ["tokenizer", "mode", "texts/s", "tokens/s", "clipkit speed-up"],
          rows.map((
            r,
          ) => [
            r.tokenizer,
            r.mode,
            fmt(r.textsPerSecond),
            fmt(r.tokensPerSecond),
            `${r.speedup.toFixed(2)}×`,
          ]),
          ["left", "left", "right", "right", "right"],
        ),
    );
  }

  if (only.has("preprocess")) {
    log("preprocess: clipkit vs transformers.js vs PIL + torchvision");
    const rows = await runPreprocessBench({ passes: quick ? 1 : 3 });
    const failed = rows.filter((r) => r.failed.length).map((r) =>
      `${r.implementation} could not load: ${r.failed.join(", ")}.`
    );
    sections.push(
      `## 3b. Decode + CLIP preprocessing to 224 (${
        rows[0].images
      } golden images; best pass after a warm-up)\n\n` +
        markdownTable(
          ["implementation", "images/s", "ms/image", "clipkit speed-up", "max abs diff vs golden"],
          rows.map((
            r,
          ) => [
            r.implementation,
            fmt(r.imagesPerSecond),
            fmt(1000 * r.seconds / r.images),
            `${r.speedup.toFixed(2)}×`,
            r.maxAbsDiff.toExponential(2),
          ]),
          ["left", "right", "right", "right", "right"],
        ) + (failed.length ? `\n\n${failed.join(" ")}` : ""),
    );
  }

  if (only.has("memory")) {
    const { rows, skipped } = await benchMemory({ model, quick, variants: options.memoryVariants, log });
    sections.push(
      "## 4. Peak resident memory: load the image tower, embed one image\n\n" +
        "VmHWM of a fresh process per row. The baseline, a Deno process with onnxruntime-node loaded and no model, " +
        `peaks at ${rows[0] ? mib(rows[0].baseline) : "–"}.\n\n` + memoryTable(rows) + skippedNote(skipped),
    );
    for (const prepack of [undefined, false] as const) {
      const fp32 = rows.find((r: MemoryRow) =>
        r.contender === "clipkit-node" && r.variant === "fp32" && r.prepack === prepack
      );
      if (!fp32) continue;
      const whole = fp32.peakRss / fp32.weights, extra = (fp32.peakRss - fp32.baseline) / fp32.weights;
      goals.push({
        goal: `peak RSS ≤ 1.5× the weights (clipkit, fp32 image tower${
          prepack === false ? ", lowMemory" : ""
        })`,
        measured: `${whole.toFixed(2)}× whole process, ${extra.toFixed(2)}× above the runtime alone`,
        met: extra <= 1.5,
      });
    }
  }

  if (only.has("gflops")) {
    log("gflops: MatMul peak and the image tower, one process, in turns");
    const run = await measureGflops(model, shape, files, quick ? 2 : 5);
    if (typeof run === "string") sections.push(`## 5. GFLOP/s\n\nNot measured: ${run}`);
    else {
      sections.push(
        "## 5. Achieved GFLOP/s of the image tower vs the machine's MatMul peak\n\n" +
          `The tower does ${fmt(flops / 1e9)} GFLOP per image (matrix products counted from its shape, ` +
          "2 per multiply-add). The peak is a bare onnxruntime-node MatMul of the tower's largest product at batch " +
          `32, [${run.m}, ${run.k}] × [${run.k}, ${run.n}], timed in turns with the tower (batch 32, ready tensors) ` +
          `in one process, median of ${
            run.timings["matmul-prealloc"].samples.length
          }. The rows from comparison 1 ` +
          "ran in their own processes, under whatever load the machine had then.\n\n" +
          gflopsTable(flops, run, imageRows),
      );
      const [fresh, prealloc] = [run.gflops["matmul-fresh"], run.gflops["matmul-prealloc"]];
      notes.push(
        `Fresh vs pre-allocated MatMul output: ${fmt(fresh)} vs ${fmt(prealloc)} GFLOP/s (${
          (prealloc / fresh).toFixed(2)
        }×).`,
      );
      const tower = run.gflops["ort-node-prealloc"], ours = run.gflops["clipkit-node"];
      goals.push({
        goal: "image tower GFLOP/s vs the MatMul peak (bare session / clipkit, one process)",
        measured: `${fmt(tower)} / ${fmt(ours)} of ${fmt(prealloc)} GFLOP/s (${
          (100 * tower / prealloc).toFixed(0)
        }% / ${(100 * ours / prealloc).toFixed(0)}%)`,
        met: undefined,
      });
    }
  }

  const finished = new Date();
  const loaded = loadedAtStart || machineIsLoaded();
  const sizes = ["text_model", "vision_model"].flatMap((t) =>
    ["", "_fp16", "_quantized"].map((s) => {
      try {
        return `${t}${s}.onnx ${mib(statSync(join(model, "onnx", `${t}${s}.onnx`)).size)}`;
      } catch {
        return "";
      }
    })
  ).filter(Boolean);
  const report = [
    "# clipkit benchmarks",
    "",
    `Generated by \`deno task bench${quick ? " --quick" : ""}\` (bench/run.ts) on ${
      started.toISOString().slice(0, 16).replace("T", " ")
    } UTC, ` +
    `${((finished.getTime() - started.getTime()) / 60000).toFixed(1)} min. Do not edit: re-run the task.`,
    "",
    `- **Machine:** ${machineAtStart}.`,
    `- **At the end:** ${machineDescription().split("; ")[1]}.`,
    loaded
      ? "- **This run was on a loaded machine** (other work competed for the CPUs: the load average exceeded half the cores), " +
        "so absolute speeds are low and noisy; the ratios between contenders, measured back to back, are the meaningful part."
      : "- The machine was otherwise idle during the run.",
    `- **Model:** \`${model}\`: ${
      config._comment ?? "a CLIP model directory"
    }; ViT image ${shape.imageSize}, patch ${shape.patchSize}, ` +
    `width ${shape.width}, ${shape.layers} layers; text width ${config.text_config?.hidden_size}, ${config.text_config?.num_hidden_layers} layers, ` +
    `vocab ${config.text_config?.vocab_size}; projection ${config.projection_dim}. Files: ${
      sizes.join(", ")
    }. fp16: float16 weights, ` +
    "float32 inputs/outputs; int8: dynamic quantisation of the MatMul weights (per-column scales), written by src/onnx/variants.ts.",
    `- **Contenders:** clipkit (onnxruntime-node 1.30.0 native; onnxruntime-web 1.30.0 WASM SIMD + threads), bare onnxruntime-node 1.30.0, ` +
    `transformers.js 4.3.2, ${
      (await pythonHasTorch()) ? "PyTorch (Debian python3-torch, CPU)" : "PyTorch (not installed: skipped)"
    }.`,
    "",
    "## Goals",
    "",
    goals.length
      ? markdownTable(
        ["goal", "measured", "met"],
        goals.map((g) => [g.goal, g.measured, g.met === undefined ? "–" : g.met ? "yes" : "**no**"]),
        ["left", "left", "left"],
      )
      : "(no goal measured in this run)",
    "",
    ...sections.flatMap((s) => [s, ""]),
    ...(notes.length ? ["## Notes", "", ...notes.map((n) => `- ${n}`), ""] : []),
  ].join("\n");
  if (options.out !== null) {
    const out = options.out ?? RESULTS_PATH;
    const tmp = `${out}.tmp-${Deno.pid}`;
    await Deno.writeTextFile(tmp, report);
    await Deno.rename(tmp, out);
    log(`wrote ${out}`);
  }
  return report;
}

function skippedNote(skipped: string[]): string {
  return skipped.length ? `\n\nNot measured: ${skipped.join("; ")}.` : "";
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      model: { type: "string" },
      reps: { type: "string" },
      out: { type: "string" },
      "sample-classes": { type: "string" },
    },
  });
  const only = values.only?.split(",").map((s) => s.trim()) as Section[] | undefined;
  const unknown = only?.filter((s) => !SECTIONS.includes(s));
  if (unknown?.length) {
    console.error(`unknown section(s) ${unknown.join(", ")}: use --only with some of ${SECTIONS.join(", ")}`);
    Deno.exit(2);
  }
  const report = await runBench({
    model: values.model,
    only,
    quick: values.quick,
    reps: values.reps ? Number(values.reps) : undefined,
    out: values.out,
    sampleClasses: values["sample-classes"] ? Number(values["sample-classes"]) : undefined,
  });
  console.log(report);
}
