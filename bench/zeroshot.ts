/**
 * Zero-shot benchmark: building a 1000-class × 80-template ImageNet head on the PyTorch fixture model
 * (cold, i.e. encoding every prompt, then again from the disk cache), and scoring 10,000 images against
 * 1,000 classes (logits, softmax, top-5).
 *
 *   deno run -A bench/zeroshot.ts                    # cold on 100 classes (8,000 prompts), extrapolated
 *   deno run -A bench/zeroshot.ts --cold-classes 1000  # cold on all 80,000 prompts (minutes on 2 cores)
 *   deno run -A bench/zeroshot.ts --cache .cache/bench # keep the full head's cache for the next run
 *
 * The cold run uses a fresh temporary cache folder, so "cold" is really cold. The from-cache rebuild needs
 * all 80,000 prompt embeddings on disk: they are encoded first, untimed, into `--cache DIR` (kept, so a second
 * run skips this) or into the temporary folder.
 * Scoring uses deterministic pseudo-random unit embeddings: its cost does not depend on what the image
 * encoder produced, only on N, classes and width (64 for the fixture, 512 for ViT-B/32).
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { join } from "node:path";
import { ClipModel } from "../src/model/clip_model.ts";
import { matmulT, Matrix, scale } from "../src/math/matrix.ts";
import { normalize, softmax, topK } from "../src/math/similarity.ts";
import { loadPromptFile } from "../src/zeroshot/templates.ts";
import { TextEmbeddingCache } from "../src/zeroshot/text_cache.ts";
import { zeroShotClassifier } from "../src/zeroshot/classifier.ts";
import { SHARED } from "./shared.ts";

/** One line of the table. */
export interface BenchRow {
  task: string;
  size: string;
  /** Wall time in milliseconds (measured, or extrapolated where `note` says so). */
  ms: number;
  /** CPU time of this process (user + system, all threads) in milliseconds: less sensitive to other load. */
  cpuMs: number;
  throughput: string;
  note: string;
}

/** Options of {@link benchZeroShot}. */
export interface ZeroShotBenchOptions {
  /** Model directory (default: the PyTorch fixture in ../shared). */
  modelDir?: string;
  /** CLIP's BPE file for a directory without its own tokenizer. */
  tokenizer?: string;
  /** CLIP's prompts.json. */
  prompts?: string;
  /** Classes encoded in the timed cold build (default 100 of 1000; the rest are extrapolated). */
  coldClasses?: number;
  /** Images scored (default 10,000). */
  images?: number;
  /** Cache folder for the full head (kept); default: the temporary folder of the cold run. */
  cacheDir?: string;
  /** Timed repetitions of the from-cache rebuild and of scoring; the median is reported (default 3). */
  repeats?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Run `fn`, returning its wall and CPU milliseconds. */
async function timed(fn: () => unknown): Promise<{ ms: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

/** Deterministic pseudo-random unit rows (LCG). */
function randomUnit(rows: number, cols: number, seed: number): Matrix {
  let s = seed >>> 0;
  const data = new Float32Array(rows * cols);
  for (let k = 0; k < data.length; k++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[k] = s / 2 ** 31 - 1;
  }
  return normalize(new Matrix(data, rows, cols));
}

/** Score `images` against `weights`: logits, softmax, top-5; returns the milliseconds of each step. */
function score(
  images: Matrix,
  weights: Matrix,
  logitScale: number,
): { matmul: number; softmax: number; topk: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  let t = performance.now();
  const logits = scale(matmulT(images, weights), logitScale); // [N, classes]
  const matmul = performance.now() - t;
  t = performance.now();
  const probs = softmax(logits); // [N, classes]
  const sm = performance.now() - t;
  t = performance.now();
  topK(probs, 5);
  const topk = performance.now() - t;
  const used = process.cpuUsage(cpu);
  return { matmul, softmax: sm, topk, cpuMs: (used.user + used.system) / 1000 };
}

/** Run the benchmark and return its rows. */
export async function benchZeroShot(options: ZeroShotBenchOptions = {}): Promise<BenchRow[]> {
  const modelDir = options.modelDir ?? join(SHARED, "fixtures", "clip-tiny-torch");
  const tokenizer = options.tokenizer ?? join(SHARED, "clip", "bpe_simple_vocab_16e6.txt.gz");
  const prompts = await loadPromptFile(options.prompts ?? join(SHARED, "clip", "prompts.json"));
  const { classes, templates } = prompts.ImageNet;
  const coldClasses = Math.min(options.coldClasses ?? 100, classes!.length);
  const nImages = options.images ?? 10_000;
  const repeats = options.repeats ?? 3;
  const model = await ClipModel.load(modelDir, { tokenizer });
  model.id; // hash the ONNX files now, not inside the timings
  const rows: BenchRow[] = [];
  const dir = await Deno.makeTempDir({ prefix: "clipkit-bench-cache-" });
  try {
    const coldCache = new TextEmbeddingCache(dir);
    const cache = new TextEmbeddingCache(options.cacheDir ?? dir);
    const all = classes!.length * templates.length;
    // Cold: every prompt of the first coldClasses classes goes through the text encoder.
    const coldPrompts = coldClasses * templates.length;
    const cold = await timed(() =>
      zeroShotClassifier(model, classes!.slice(0, coldClasses), templates, {
        cache: coldCache,
        allowDuplicateNames: true,
      })
    );
    const coldMs = cold.ms;
    rows.push({
      task: "head, cold (encode prompts)",
      size: `${coldClasses} classes × ${templates.length} templates`,
      ms: coldMs,
      cpuMs: cold.cpuMs,
      throughput: `${(coldPrompts / coldMs * 1000).toFixed(0)} prompts/s`,
      note: `measured; ${model.backend} backend, batch ${model.batchSize}`,
    });
    if (coldClasses < classes!.length) {
      rows.push({
        task: "head, cold (encode prompts)",
        size: `${classes!.length} classes × ${templates.length} templates`,
        ms: coldMs * all / coldPrompts,
        cpuMs: cold.cpuMs * all / coldPrompts,
        throughput: `${(coldPrompts / coldMs * 1000).toFixed(0)} prompts/s`,
        note: `EXTRAPOLATED from ${coldPrompts} prompts (linear in prompts)`,
      });
    }
    // Fill the cache with every prompt (untimed) so the full head can be rebuilt from disk.
    await zeroShotClassifier(model, classes!, templates, { cache, allowDuplicateNames: true });
    // From cache: the same full head again, no encoder runs.
    const times: { ms: number; cpuMs: number }[] = [];
    let head;
    for (let r = 0; r < repeats; r++) {
      times.push(
        await timed(async () =>
          head = await zeroShotClassifier(model, classes!, templates, { cache, allowDuplicateNames: true })
        ),
      );
      if (cache.lastStats.encoded !== 0) throw new Error("the from-cache rebuild encoded prompts");
    }
    const bytes = [...Deno.readDirSync(cache.modelDir(model.id))]
      .map((e) => Deno.statSync(join(cache.modelDir(model.id), e.name)).size)
      .reduce((a, b) => Math.max(a, b), 0);
    rows.push({
      task: "head, from disk cache",
      size: `${classes!.length} classes × ${templates.length} templates`,
      ms: median(times.map((x) => x.ms)),
      cpuMs: median(times.map((x) => x.cpuMs)),
      throughput: `${(all / median(times.map((x) => x.ms)) * 1000).toFixed(0)} prompts/s`,
      note: `median of ${repeats}; one ${(bytes / 2 ** 20).toFixed(1)} MiB file`,
    });
    // Scoring: fixture width, then CLIP ViT-B/32 width.
    for (const width of [head!.weights.cols, 512]) {
      const weights = width === head!.weights.cols ? head!.weights : randomUnit(classes!.length, width, 7);
      const images = randomUnit(nImages, width, 11);
      const runs = Array.from({ length: repeats }, () => score(images, weights, model.logitScale));
      const parts = {
        matmul: median(runs.map((r) => r.matmul)),
        softmax: median(runs.map((r) => r.softmax)),
        topk: median(runs.map((r) => r.topk)),
      };
      const total = parts.matmul + parts.softmax + parts.topk;
      rows.push({
        task: `score images (logits + softmax + top-5), D=${width}`,
        size: `${nImages} images × ${classes!.length} classes`,
        ms: total,
        cpuMs: median(runs.map((r) => r.cpuMs)),
        throughput: `${(nImages / total * 1000).toFixed(0)} images/s`,
        note: `median of ${repeats}: matmulT ${parts.matmul.toFixed(0)} ms, softmax ${
          parts.softmax.toFixed(0)
        } ms, top-5 ${parts.topk.toFixed(0)} ms; ${
          (2 * nImages * classes!.length * width / parts.matmul / 1e6)
            .toFixed(2)
        } GFLOP/s`,
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await model.dispose();
  }
  return rows;
}

/** The rows as a plain-text table. */
export function formatTable(rows: BenchRow[]): string {
  const time = (ms: number) => ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(1)} ms`;
  const cells = [
    ["task", "size", "wall", "CPU", "throughput (wall)", "note"],
    ...rows.map((r) => [
      r.task,
      r.size,
      time(r.ms),
      time(r.cpuMs),
      r.throughput,
      r.note,
    ]),
  ];
  const widths = cells[0].map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  return cells.map((row) => row.map((v, c) => v.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "cold-classes": { type: "string" },
      images: { type: "string" },
      repeats: { type: "string" },
      model: { type: "string" },
      cache: { type: "string" },
    },
  });
  const rows = await benchZeroShot({
    coldClasses: values["cold-classes"] ? Number(values["cold-classes"]) : undefined,
    images: values.images ? Number(values.images) : undefined,
    repeats: values.repeats ? Number(values.repeats) : undefined,
    modelDir: values.model,
    cacheDir: values.cache,
  });
  console.log(
    `clipkit zero-shot benchmark — ${navigator.hardwareConcurrency} logical CPUs, ` +
      `load average ${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")}, Deno ${Deno.version.deno}`,
  );
  console.log(formatTable(rows));
}
