/**
 * A bare `onnxruntime-node` session as a benchmark contender: the practical ceiling of any library on
 * top of it. It is fed ready tensors (files decoded and preprocessed once, untimed; prompts tokenized to
 * 77 once, untimed), with all cores, and either fresh outputs (`ort-node`) or outputs pre-allocated once
 * and reused (`ort-node-prealloc`), the latter also without spin-waiting threads (`ort-node-nospin`:
 * `session.intra_op.allow_spinning = 0`). Also: a lone MatMul for the machine's matmul peak, and the memory
 * baseline (the runtime loaded, no model).
 * @module
 */
import * as ort from "onnxruntime-node";
import { join } from "node:path";
import { FLOAT, GraphBuilder } from "../../src/onnx/graph.ts";
import { preprocessorOptions } from "../../src/image/mod.ts";
import { onnxPath, readJson } from "../../src/model/config.ts";
import { ClipTokenizer } from "../../src/text/tokenizer.ts";
import type { ImageJob, ImageRunner, JobResult, MemoryJob, Runner, TextJob } from "../jobs.ts";
import { residentMemory, timeRunner } from "../stats.ts";
import { VERSIONS } from "../versions.ts";
import { imageSide, loadPixels } from "./pixels.ts";

/** onnxruntime-node's version (pinned in deno.json). */
const ORT_VERSION = VERSIONS.ortNode;
const THREADS = navigator.hardwareConcurrency;

/** Session settings beyond clipkit's (which these default to). */
interface Tuning {
  /** Worker threads spin while waiting for work (ONNX Runtime's default: true). */
  spin?: boolean;
  /** Weights repacked for the matmul kernels at load (ONNX Runtime's default: true). */
  prepack?: boolean;
}

function sessionOptions(tuning: Tuning = {}): ort.InferenceSession.SessionOptions {
  const session: Record<string, unknown> = {};
  if (tuning.spin === false) session.intra_op = { allow_spinning: "0" };
  if (tuning.prepack === false) session.disable_prepacking = "1";
  return {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    ...(Object.keys(session).length ? { extra: { session } } : {}),
  } as ort.InferenceSession.SessionOptions;
}

async function open(path: string, tuning: Tuning = {}) {
  const start = performance.now();
  const session = await ort.InferenceSession.create(path, sessionOptions(tuning));
  return { session, loadSeconds: (performance.now() - start) / 1000 };
}

function label(contender: string): string {
  const how = contender === "ort-node-prealloc"
    ? ", pre-allocated outputs"
    : contender === "ort-node-nospin"
    ? ", pre-allocated outputs, no spin-waiting"
    : "";
  return `bare onnxruntime-node ${ORT_VERSION}${how}`;
}

/** Run `session` on `feeds`; into `out` (reused) when given. */
function run(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  out: { name: string; tensor: ort.Tensor } | undefined,
) {
  return out ? session.run(feeds, { [out.name]: out.tensor }) : session.run(feeds);
}

/**
 * Ready pixel tensors → image embeddings (the job's `input` is ignored: this contender never decodes).
 * @example
 * await ortImages({ task: "images", contender: "ort-node", model: dir, input: "pixels", batch: 32, files, warmup: 1, reps: 5 })
 */
export async function ortImages(job: ImageJob): Promise<JobResult> {
  return timeRunner(await prepareOrtImages(job), job.files.length, job);
}

/** A bare session ready to embed the job's images, fed tensors made here (decoded and preprocessed once). */
export async function prepareOrtImages(job: ImageJob): Promise<ImageRunner> {
  const prealloc = job.contender !== "ort-node";
  const { session, loadSeconds } = await open(onnxPath(job.model, "vision", "fp32"), {
    spin: job.contender !== "ort-node-nospin",
  });
  const options = preprocessorOptions(
    await readJson(join(job.model, "preprocessor_config.json"), "preprocessor"),
  );
  const pixels = await loadPixels(job.files, options); // [files, 3, R, R]
  const side = options.cropSize ?? options.size;
  const chw = 3 * side * side;
  const dim = Number(outputShape(session)[1]);
  const batches: { feeds: Record<string, ort.Tensor>; out?: { name: string; tensor: ort.Tensor } }[] = [];
  for (let i = 0; i < job.files.length; i += job.batch) {
    const rows = Math.min(job.batch, job.files.length - i);
    const data = pixels.subarray(i * chw, (i + rows) * chw); // [rows, 3, R, R]
    batches.push({
      feeds: { [session.inputNames[0]]: new ort.Tensor("float32", data, [rows, 3, side, side]) },
      out: prealloc
        ? {
          name: session.outputNames[0],
          tensor: new ort.Tensor("float32", new Float32Array(rows * dim), [rows, dim]), // [rows, dim]
        }
        : undefined,
    });
  }
  return {
    label: label(job.contender),
    threads: THREADS,
    loadSeconds,
    run: async () => {
      for (const b of batches) await run(session, b.feeds, b.out);
    },
    dispose: () => session.release(),
  };
}

/** Prompts tokenized to 77 (untimed) → text embeddings, in batches of the job's size. */
export async function ortText(job: TextJob): Promise<JobResult> {
  return timeRunner(await prepareOrtText(job), job.prompts.length, { warmup: 0, reps: job.reps });
}

/** A bare session ready to embed the job's prompts, tokenized to 77 here, warmed up with one batch. */
export async function prepareOrtText(job: TextJob): Promise<Runner> {
  const prealloc = job.contender !== "ort-node";
  const { session, loadSeconds } = await open(onnxPath(job.model, "text", "fp32"), {
    spin: job.contender !== "ort-node-nospin",
  });
  const tokenizer = await ClipTokenizer.load(job.model);
  const { ids } = tokenizer.tokenize(job.prompts, { contextLength: 77, truncate: true }); // [prompts, 77]
  const dim = Number(outputShape(session)[1]);
  const batches: { feeds: Record<string, ort.Tensor>; out?: { name: string; tensor: ort.Tensor } }[] = [];
  for (let i = 0; i < job.prompts.length; i += job.batch) {
    const rows = Math.min(job.batch, job.prompts.length - i);
    const wide = BigInt64Array.from(ids.subarray(i * 77, (i + rows) * 77), BigInt); // [rows, 77] int64
    batches.push({
      feeds: { [session.inputNames[0]]: new ort.Tensor("int64", wide, [rows, 77]) },
      out: prealloc
        ? {
          name: session.outputNames[0],
          tensor: new ort.Tensor("float32", new Float32Array(rows * dim), [rows, dim]), // [rows, dim]
        }
        : undefined,
    });
  }
  await run(session, batches[0].feeds, batches[0].out); // warm-up: one batch
  return {
    label: label(job.contender),
    threads: THREADS,
    loadSeconds,
    run: async () => {
      for (const b of batches) await run(session, b.feeds, b.out);
    },
    dispose: () => session.release(),
  };
}

/**
 * Peak RSS of a bare session on the image tower (created from the file's path, so ONNX Runtime reads the
 * file itself, or from its bytes read first, as clipkit does; prepacking on or off) embedding one image; with `model` empty, of the runtime alone (the baseline of every process).
 */
export async function ortMemory(job: MemoryJob): Promise<JobResult> {
  if (!job.model) {
    await ort.InferenceSession.create(matmulGraph(1, 1, 1), sessionOptions()); // load the native runtime
    return {
      label: `deno + onnxruntime-node ${ORT_VERSION}, no model`,
      threads: THREADS,
      items: 0,
      loadSeconds: 0,
      peakRss: residentMemory().peak,
    };
  }
  const path = onnxPath(job.model, "vision", job.variant);
  const start = performance.now();
  const options = sessionOptions({ prepack: job.prepack });
  const session = job.load === "bytes"
    ? await ort.InferenceSession.create(await Deno.readFile(path), options)
    : await ort.InferenceSession.create(path, options);
  const loadSeconds = (performance.now() - start) / 1000;
  const side = await imageSide(job.model);
  await session.run({
    [session.inputNames[0]]: new ort.Tensor("float32", new Float32Array(3 * side * side).fill(0.5), [
      1,
      3,
      side,
      side,
    ]),
  });
  const peakRss = residentMemory().peak;
  await session.release();
  const how = `${job.load === "bytes" ? "from the file's bytes" : "from the path"}${
    job.prepack === false ? ", prepacking off" : ""
  }`;
  return { label: `${label("ort-node")}, ${how}`, threads: THREADS, items: 1, loadSeconds, peakRss };
}

/** A graph computing `x [m, k] × w [k, n]` with a constant `w`. */
function matmulGraph(m: number, k: number, n: number): Uint8Array {
  const g = new GraphBuilder("matmul");
  const x = g.input("x", FLOAT, [m, k]);
  const w = new Float32Array(k * n).map((_, i) => Math.sin(i) * 0.05); // [k, n]
  g.node("MatMul", [x, g.float("w", w, [k, n])], {}, "matmul");
  g.renameLast("y");
  g.output("y", FLOAT, [m, n]);
  return g.encode();
}

/** MatMuls per `run()` of {@link prepareOrtMatMul}: ≈1 s of work, like the tower's batch, not one short call. */
export const MATMUL_RUNS = 10;

/**
 * A lone MatMul session ready to run ({@link MATMUL_RUNS} times per `run()`), with a fresh output each time or
 * one pre-allocated output reused.
 */
export async function prepareOrtMatMul(
  shape: { m: number; k: number; n: number },
  prealloc: boolean,
): Promise<Runner> {
  const { m, k, n } = shape;
  const start = performance.now();
  const session = await ort.InferenceSession.create(matmulGraph(m, k, n), sessionOptions());
  const loadSeconds = (performance.now() - start) / 1000;
  const x = new ort.Tensor("float32", new Float32Array(m * k).map((_, i) => Math.cos(i)), [m, k]); // [m, k]
  const y = new ort.Tensor("float32", new Float32Array(m * n), [m, n]); // [m, n]
  return {
    label: `bare ORT MatMul [${m}, ${k}] × [${k}, ${n}], ${
      prealloc ? "pre-allocated output" : "fresh output each run"
    }`,
    threads: THREADS,
    loadSeconds,
    run: async () => {
      for (let i = 0; i < MATMUL_RUNS; i++) await (prealloc ? session.run({ x }, { y }) : session.run({ x }));
    },
    dispose: () => session.release(),
  };
}

function outputShape(session: ort.InferenceSession): (number | string)[] {
  const meta = session.outputMetadata[0];
  return meta.isTensor ? [...meta.shape] : [];
}
