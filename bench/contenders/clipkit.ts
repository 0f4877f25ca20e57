/**
 * clipkit as a benchmark contender: `ClipModel` on onnxruntime-node (`clipkit-node`) or onnxruntime-web
 * (`clipkit-web`), with its defaults (all cores, batches of the job's size).
 * @module
 */
import { ClipModel } from "../../src/model/clip_model.ts";
import { onnxPath } from "../../src/model/config.ts";
import { loadRuntime } from "../../src/model/runtime.ts";
import { TextEmbeddingCache } from "../../src/zeroshot/text_cache.ts";
import { Tower } from "../../src/model/tower.ts";
import { zeroShotClassifier } from "../../src/zeroshot/classifier.ts";
import { Matrix } from "../../src/math/matrix.ts";
import type { HeadCacheJob, ImageJob, ImageRunner, JobResult, MemoryJob, Runner, TextJob } from "../jobs.ts";
import { measure, residentMemory, seconds, timeRunner, timing } from "../stats.ts";
import { loadPixels } from "./pixels.ts";

function backendOf(contender: string): "node" | "web" {
  return contender === "clipkit-web" ? "web" : "node";
}

async function load(job: { contender: string; model: string; threads?: number }, batchSize = 32) {
  const start = performance.now();
  const model = await ClipModel.load(job.model, {
    backend: backendOf(job.contender),
    batchSize,
    threads: job.threads,
  });
  return { model, loadSeconds: (performance.now() - start) / 1000 };
}

function label(model: ClipModel): string {
  return `clipkit (${model.backend === "node" ? "onnxruntime-node" : "onnxruntime-web WASM"})`;
}

/**
 * Image files → embeddings (`encodeImages`), or pixel tensors → embeddings (`encodePixels`). From files on
 * the native backend, the same images as ready tensors are timed too, alternating with the files (same process, same load):
 * `timings.pixels`, so that the cost of decoding and preprocessing is measured on its own.
 * @example
 * await clipkitImages({ task: "images", contender: "clipkit-node", model: dir, input: "files", batch: 32, files, warmup: 1, reps: 5 })
 * // { label: "clipkit (onnxruntime-node)", threads: 2, items: 32, timing: { median: 1.1, … }, timings: { pixels: … }, … }
 */
export async function clipkitImages(job: ImageJob): Promise<JobResult> {
  const runner = await prepareClipkitImages(job);
  const main = job.input === "pixels" ? runner.runPixels : runner.run;
  const alternate = job.input === "files" && job.contender === "clipkit-node"; // WASM is too slow to time twice
  for (let i = 0; i < job.warmup; i++) await main();
  const samples: number[] = [], pixelSamples: number[] = [];
  for (let r = 0; r < job.reps; r++) {
    samples.push(await seconds(main));
    if (alternate) pixelSamples.push(await seconds(runner.runPixels));
  }
  await runner.dispose();
  return {
    label: runner.label,
    threads: runner.threads,
    items: job.files.length,
    timing: timing(samples),
    ...(pixelSamples.length ? { timings: { pixels: timing(pixelSamples) } } : {}),
    loadSeconds: runner.loadSeconds,
    peakRss: residentMemory().peak,
  };
}

/**
 * clipkit ready to embed the job's images: `run` from the files (`encodeImages`, one call per image at batch 1),
 * `runPixels` from the same images as ready tensors (`encodePixels`), decoded once here.
 */
export async function prepareClipkitImages(
  job: ImageJob,
): Promise<ImageRunner & { runPixels(): Promise<void> }> {
  const { model, loadSeconds } = await load(job, job.batch);
  const pixels = await loadPixels(job.files, model.preprocessOptions); // [files, 3, R, R]
  const chw = 3 * model.imageSize * model.imageSize;
  return {
    label: label(model),
    threads: model.runtime.threads,
    loadSeconds,
    run: async () => {
      if (job.batch === 1) { for (const file of job.files) await model.encodeImages([file]); }
      else await model.encodeImages(job.files, { progress: false });
    },
    runPixels: async () => {
      for (let i = 0; i < job.files.length; i += job.batch) {
        await model.encodePixels(pixels.subarray(i * chw, Math.min(job.files.length, i + job.batch) * chw));
      }
    },
    dispose: () => model.dispose(),
  };
}

/**
 * Prompts → embeddings with `encodeText` (length-sorted batches cut to their longest prompt when the graph's
 * sequence axis is dynamic, as it is for the project's exporter).
 */
export async function clipkitText(job: TextJob): Promise<JobResult> {
  return timeRunner(await prepareClipkitText(job), job.prompts.length, { warmup: 0, reps: job.reps });
}

/** clipkit ready to embed the job's prompts (`encodeText`), warmed up with one batch. */
export async function prepareClipkitText(job: TextJob): Promise<Runner> {
  const { model, loadSeconds } = await load(job, job.batch);
  await model.encodeText(job.prompts.slice(0, job.batch), { truncate: true }); // warm-up: one batch
  return {
    label: label(model),
    threads: model.runtime.threads,
    loadSeconds,
    run: async () => {
      await model.encodeText(job.prompts, { truncate: true, progress: false });
    },
    dispose: () => model.dispose(),
  };
}

/**
 * The full zero-shot head rebuilt from the disk cache. The cache is filled first (untimed) for the model's id
 * with unit rows of the model's width standing in for the 80,000 prompt embeddings (encoding them all takes
 * far longer than the benchmark may); reading them back does not depend on their values.
 */
export async function clipkitHeadFromCache(job: HeadCacheJob): Promise<JobResult> {
  const { model, loadSeconds } = await load(job);
  const dir = await Deno.makeTempDir({ prefix: "clipkit-bench-head-" });
  try {
    const cache = new TextEmbeddingCache(dir);
    const standIn = {
      id: model.id,
      logitScale: model.logitScale,
      encodeText: (texts: string[]) => {
        const data = new Float32Array(texts.length * model.dim); // [texts, dim]
        for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.618) + ((i % model.dim) === 0 ? 2 : 0);
        return Promise.resolve(new Matrix(data, texts.length, model.dim));
      },
    };
    // CLIP's ImageNet list has "missile" twice: kept as it is, the head is CLIP's.
    await zeroShotClassifier(standIn, job.classes, job.templates, { cache, allowDuplicateNames: true });
    const timing = await measure(async () => {
      await zeroShotClassifier(model, job.classes, job.templates, { cache, allowDuplicateNames: true });
      if (cache.lastStats.encoded !== 0) throw new Error("the from-cache rebuild encoded prompts");
    }, { warmup: 0, reps: job.reps });
    const items = job.classes.flat().length * job.templates.length;
    return {
      label: label(model),
      threads: model.runtime.threads,
      items,
      timing,
      loadSeconds,
      peakRss: residentMemory().peak,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
    await model.dispose();
  }
}

/** Peak RSS for loading clipkit's image tower (one `Tower`, as `ClipModel` loads it) and embedding one image. */
export async function clipkitMemory(job: MemoryJob): Promise<JobResult> {
  const start = performance.now();
  const lowMemory = job.prepack === false;
  const runtime = await loadRuntime(backendOf(job.contender), { lowMemory });
  const tower = await Tower.load(runtime, "vision", onnxPath(job.model, "vision", job.variant));
  const loadSeconds = (performance.now() - start) / 1000;
  const side = tower.fixedLength ?? 224;
  const out = new Float32Array(tower.dim ?? 512);
  await tower.run(new Float32Array(3 * side * side).fill(0.5), 1, side, out);
  const peakRss = residentMemory().peak;
  await tower.release();
  return {
    label: `clipkit (${runtime.describe()})${lowMemory ? ", lowMemory" : ""}`,
    threads: runtime.threads,
    items: 1,
    loadSeconds,
    peakRss,
  };
}
