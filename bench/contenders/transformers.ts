/**
 * transformers.js (the version pinned in deno.json) as a benchmark contender, loading the same model directory offline
 * (`env.allowRemoteModels = false`, `env.localModelPath` = its parent folder):
 * - `transformers.js`: its default in Deno, onnxruntime-node with ONNX Runtime's default session options as
 *   transformers.js passes them (one intra-op thread here);
 * - `transformers.js-threads`: the same, told to use every core (`session_options.intraOpNumThreads`);
 * - `transformers.js-wasm`: forced to WASM. In Deno transformers.js takes the Node path and refuses
 *   `device: "wasm"`, so onnxruntime-web (the version clipkit uses) is handed to it through
 *   `globalThis[Symbol.for("onnxruntime")]` before it is imported, with its default WASM threads.
 * Images go through `RawImage.read` + its `CLIPImageProcessor` (from preprocessor_config.json); prompts
 * through its `CLIPTokenizer` with `padding: true` (to the batch's longest) or to 77.
 * @module
 */
import { basename, dirname, join } from "node:path";
import type { Contender, ImageJob, ImageRunner, JobResult, MemoryJob, TextJob } from "../jobs.ts";
import { measure, residentMemory, timeRunner } from "../stats.ts";
import { imageSide } from "./pixels.ts";
import { VERSIONS } from "../versions.ts";

const VERSION = VERSIONS.transformers;
const ROOT = join(import.meta.dirname!, "..", "..");

type Transformers = typeof import("@huggingface/transformers");

/** Import transformers.js for a contender (wiring onnxruntime-web in first for the WASM one). */
async function importFor(contender: Contender): Promise<{ tjs: Transformers; threads: () => number }> {
  if (contender === "transformers.js-wasm") {
    const ortWeb = await import("onnxruntime-web");
    // Local WASM files: left unset, transformers.js would point onnxruntime-web at a CDN.
    (ortWeb.env.wasm as { wasmPaths?: string }).wasmPaths = "file://" +
      join(ROOT, "node_modules", "onnxruntime-web", "dist") + "/";
    (globalThis as Record<symbol, unknown>)[Symbol.for("onnxruntime")] = ortWeb;
    const tjs = await import("@huggingface/transformers");
    return { tjs, threads: () => ortWeb.env.wasm.numThreads ?? 1 };
  }
  const tjs = await import("@huggingface/transformers");
  return {
    tjs,
    threads: () => (contender === "transformers.js-threads" ? navigator.hardwareConcurrency : 1),
  };
}

function modelOptions(contender: Contender): Record<string, unknown> {
  if (contender === "transformers.js-wasm") {
    return { dtype: "fp32", device: "auto", session_options: { executionProviders: ["wasm"] } };
  }
  if (contender === "transformers.js-threads") {
    return { dtype: "fp32", session_options: { intraOpNumThreads: navigator.hardwareConcurrency } };
  }
  return { dtype: "fp32" };
}

function label(contender: Contender): string {
  if (contender === "transformers.js-wasm") return `transformers.js ${VERSION} (forced to WASM)`;
  if (contender === "transformers.js-threads") return `transformers.js ${VERSION} (told to use all cores)`;
  return `transformers.js ${VERSION} (default: onnxruntime-node)`;
}

function setUp(tjs: Transformers, model: string): string {
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = dirname(model) + "/";
  return basename(model);
}

/**
 * Image files → embeddings with `CLIPVisionModelWithProjection` and its processor.
 * @example
 * await transformersImages({ task: "images", contender: "transformers.js", model: dir, input: "files", batch: 32, files, warmup: 1, reps: 3 })
 */
export async function transformersImages(job: ImageJob): Promise<JobResult> {
  return timeRunner(await prepareTransformersImages(job), job.files.length, job);
}

/** transformers.js ready to embed the job's image files (`RawImage.read` → processor → model). */
export async function prepareTransformersImages(job: ImageJob): Promise<ImageRunner> {
  const { tjs, threads } = await importFor(job.contender);
  const name = setUp(tjs, job.model);
  const start = performance.now();
  const processor = await tjs.AutoProcessor.from_pretrained(name);
  const model = await tjs.CLIPVisionModelWithProjection.from_pretrained(
    name,
    modelOptions(job.contender) as never,
  );
  const loadSeconds = (performance.now() - start) / 1000;
  const embed = async (files: string[]) => {
    const images = await Promise.all(files.map((f) => tjs.RawImage.read(f)));
    await model(await processor(images));
  };
  return {
    label: label(job.contender),
    threads: threads(),
    loadSeconds,
    run: async () => {
      if (job.batch === 1) { for (const file of job.files) await embed([file]); }
      else {for (let i = 0; i < job.files.length; i += job.batch) {
          await embed(job.files.slice(i, i + job.batch));
        }}
    },
    dispose: async () => {
      await model.dispose();
    },
  };
}

/** Prompts → embeddings with `CLIPTextModelWithProjection` and its tokenizer. */
export async function transformersText(job: TextJob): Promise<JobResult> {
  const { tjs, threads } = await importFor(job.contender);
  const name = setUp(tjs, job.model);
  const start = performance.now();
  const tokenizer = await tjs.AutoTokenizer.from_pretrained(name);
  const model = await tjs.CLIPTextModelWithProjection.from_pretrained(
    name,
    modelOptions(job.contender) as never,
  );
  const loadSeconds = (performance.now() - start) / 1000;
  const padding = job.padding === "77"
    ? { padding: "max_length" as const, max_length: 77 }
    : { padding: true };
  const embed = (prompts: string[]) => model(tokenizer(prompts, { ...padding, truncation: true }));
  await embed(job.prompts.slice(0, job.batch)); // warm-up: one batch
  const timing = await measure(async () => {
    for (let i = 0; i < job.prompts.length; i += job.batch) await embed(job.prompts.slice(i, i + job.batch));
  }, { warmup: 0, reps: job.reps });
  await model.dispose();
  return {
    label: `${label(job.contender)}, ${
      job.padding === "77" ? "padding to 77" : "padding: true (batch's longest)"
    }`,
    threads: threads(),
    items: job.prompts.length,
    timing,
    loadSeconds,
    peakRss: residentMemory().peak,
  };
}

/** Peak RSS for loading its image tower (fp32) and embedding one ready tensor. */
export async function transformersMemory(job: MemoryJob): Promise<JobResult> {
  const { tjs, threads } = await importFor(job.contender);
  const name = setUp(tjs, job.model);
  const start = performance.now();
  const dtype = { fp32: "fp32", fp16: "fp16", q8: "q8" }[job.variant];
  const model = await tjs.CLIPVisionModelWithProjection.from_pretrained(
    name,
    { ...modelOptions(job.contender), dtype } as never,
  );
  const loadSeconds = (performance.now() - start) / 1000;
  const side = await imageSide(job.model);
  await model({
    pixel_values: new tjs.Tensor("float32", new Float32Array(3 * side * side).fill(0.5), [1, 3, side, side]),
  });
  const peakRss = residentMemory().peak;
  await model.dispose();
  return { label: label(job.contender), threads: threads(), items: 1, loadSeconds, peakRss };
}
