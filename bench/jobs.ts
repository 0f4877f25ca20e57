/**
 * Benchmark jobs: each contender runs in a fresh child process (its own threads, memory and one
 * ONNX Runtime instance; its peak RSS is its own), one after another, and prints one result line.
 *
 * `runJob(job)` spawns `deno run -A bench/child.ts '<job json>'` (or python3 for PyTorch) and parses the
 * line starting with {@link RESULT_MARK}.
 * @module
 */
import { join } from "node:path";
import type { Timing } from "./stats.ts";

/** The line prefix of a child's result (everything else it prints is passed through to stderr). */
export const RESULT_MARK = "BENCH_RESULT ";

/** Who is measured. */
export type Contender =
  | "clipkit-node"
  | "clipkit-web"
  | "ort-node"
  | "ort-node-prealloc"
  | "ort-node-nospin"
  | "transformers.js"
  | "transformers.js-threads"
  | "transformers.js-wasm"
  | "pytorch";

/** ONNX variant. */
export type Variant = "fp32" | "fp16" | "q8";

/** Files (decode + preprocess + tower) or ready pixel tensors (tower alone) → image embeddings. */
export interface ImageJob {
  task: "images";
  contender: Contender;
  model: string;
  input: "files" | "pixels";
  /** Images per inference; with 1, each image of a repetition is its own call. */
  batch: number;
  /** The images of one repetition. */
  files: string[];
  /** clipkit only: threads instead of its default (all cores). */
  threads?: number;
  warmup: number;
  reps: number;
}

/** Prompts → text embeddings. */
export interface TextJob {
  task: "text";
  contender: Contender;
  model: string;
  prompts: string[];
  batch: number;
  /** `dynamic`: clipkit's length-sorted batches; `longest`: pad each batch to its longest; `77`: full context. */
  padding: "dynamic" | "longest" | "77";
  /** PyTorch only: the prompts' token ids, `[prompts, 77]` (it has no CLIP tokenizer of its own here). */
  ids?: number[][];
  /** Timed passes over all prompts (after one untimed batch). */
  reps: number;
}

/** The zero-shot head rebuilt from clipkit's disk cache (no encoder run). */
export interface HeadCacheJob {
  task: "head-cache";
  contender: "clipkit-node";
  model: string;
  classes: (string | string[])[];
  templates: string[];
  reps: number;
}

/** Peak resident memory for loading the image tower and embedding one image. */
export interface MemoryJob {
  task: "memory";
  /** `ort-node` with `model` empty: the runtime alone (the baseline). */
  contender: Contender;
  model: string;
  variant: Variant;
  /** Bare onnxruntime-node only: create the session from the file's path (default) or from its bytes. */
  load?: "path" | "bytes";
  /** Bare onnxruntime-node only: `false` turns off weight prepacking (`session.disable_prepacking`). */
  prepack?: boolean;
}

/**
 * Contenders loaded in one process and timed in turns each repetition (the order rotating), so that the
 * machine's changing load falls on all alike. Sets:
 * - `native`: clipkit native from files, a bare onnxruntime-node session fed tensors (pre-allocated outputs),
 *   transformers.js (default) from files;
 * - `web`: clipkit on WASM and transformers.js forced to WASM, from files, both on one WASM thread;
 * - `text`: clipkit's `encodeText` (cut to length) and a bare session padded to 77, on `prompts`;
 * - `gflops`: a lone MatMul (fresh and pre-allocated outputs), the bare session and clipkit's `encodePixels`
 *   on the image tower fed tensors.
 */
export interface HeadToHeadJob {
  task: "head-to-head";
  contender: "clipkit-node";
  set: "native" | "web" | "text" | "gflops";
  model: string;
  batch: number;
  files: string[];
  prompts?: string[];
  /** `gflops`: the MatMul's shape. */
  matmul?: { m: number; k: number; n: number };
  warmup: number;
  reps: number;
}

export type Job = ImageJob | TextJob | HeadCacheJob | MemoryJob | HeadToHeadJob;

/** A contender loaded and ready to do a job's work once per `run()`. */
export interface Runner {
  /** As printed in the tables. */
  label: string;
  threads: number;
  loadSeconds: number;
  /** Do the job's work once (embed its images or prompts, or one MatMul). */
  run(): Promise<void>;
  dispose(): Promise<void>;
}

/** A runner that embeds a job's images. */
export type ImageRunner = Runner;

/** What a child reports. */
export interface JobResult {
  /** Who ran, as printed in the tables (library, version, backend). */
  label: string;
  /** Intra-op threads of the measured run. */
  threads: number;
  /** Items (images or prompts) per repetition. */
  items: number;
  /** Seconds per repetition (absent for memory jobs). */
  timing?: Timing;
  /** Extra timings by name (the MatMul's pre-allocated outputs; clipkit's ready tensors, timed alternately with files). */
  timings?: Record<string, Timing>;
  /** Head-to-head jobs: each contender's label, by the keys of `timings`. */
  labels?: Record<string, string>;
  /** Seconds to load the model. */
  loadSeconds: number;
  /** Peak resident memory of the child (VmHWM), bytes. */
  peakRss: number;
  /** Anything the table should say about this row. */
  note?: string;
}

/** A job that could not run (e.g. PyTorch absent): the reason instead of a result. */
export interface JobSkipped {
  skipped: string;
}

const HERE = import.meta.dirname!;
/** The Python interpreter with Debian's python3-torch. */
export const PYTHON = "/usr/bin/python3";

/**
 * Run a job in a child process and return its result, or why it could not run.
 * @example
 * await runJob({ task: "memory", contender: "clipkit-node", model: dir, variant: "fp32" })
 * // { label: "clipkit (onnxruntime-node)", threads: 2, items: 1, loadSeconds: 2.1, peakRss: 521142272 }
 */
export async function runJob(
  job: Job,
  options: { timeoutSeconds?: number } = {},
): Promise<JobResult | JobSkipped> {
  const python = job.contender === "pytorch";
  if (python && !(await pythonHasTorch())) {
    return {
      skipped: `PyTorch not available (${PYTHON} cannot import torch): apt-get install python3-torch`,
    };
  }
  const args = JSON.stringify(job);
  const child = new Deno.Command(python ? PYTHON : Deno.execPath(), {
    args: python
      ? [join(HERE, "contenders", "pytorch_clip.py"), args]
      : ["run", "-A", join(HERE, "child.ts"), args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), (options.timeoutSeconds ?? 600) * 1000);
  const output = await child.output();
  clearTimeout(timer);
  const stdout = new TextDecoder().decode(output.stdout);
  const line = stdout.split("\n").find((l) => l.startsWith(RESULT_MARK));
  if (!output.success || !line) {
    const stderr = errorLine(output.stderr);
    return {
      skipped: `${job.contender} ${job.task} failed (exit ${output.code}): ${stderr || stdout.slice(-300)}`,
    };
  }
  return JSON.parse(line.slice(RESULT_MARK.length)) as JobResult;
}

let torchChecked: Promise<boolean> | undefined;

/** Whether `/usr/bin/python3` imports torch, torchvision and PIL (checked once). */
export function pythonHasTorch(): Promise<boolean> {
  torchChecked ??= new Deno.Command(PYTHON, {
    args: ["-c", "import torch, torchvision, PIL"],
    stdout: "null",
    stderr: "null",
  }).output().then((o) => o.success, () => false);
  return torchChecked;
}

/** Whether a job result is a skip. */
export function isSkipped(r: JobResult | JobSkipped): r is JobSkipped {
  return "skipped" in r;
}

/** The child's error in one line: its last line naming an error (ANSI colours removed), else its last line. */
function errorLine(stderr: Uint8Array): string {
  // deno-lint-ignore no-control-regex
  const text = new TextDecoder().decode(stderr).replace(/\x1b\[[0-9;]*m/g, "").trim();
  const lines = text.split("\n").map((l) => l.trim());
  return [...lines].reverse().find((l) => /error/i.test(l) && !l.startsWith("at ")) ?? lines.at(-1) ?? "";
}
