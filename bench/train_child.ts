/**
 * One training contender in its own process, driven in turns by `train.ts` over stdin/stdout:
 * `deno run -A bench/train_child.ts '<TrainJob json>'` loads the contender and the batch, takes the
 * warm-up steps, then answers commands, one per line (the PyTorch contender, `contenders/pytorch_train.py`,
 * speaks the same protocol):
 *
 *   child ─► `TRAIN_READY {label, threads, parameters, warmupSeconds, loadSeconds, note?}`
 *            (or `TRAIN_UNAVAILABLE {reason}`, then it exits)
 *   `run N` ─► N timed steps ─► `TRAIN_DONE {seconds: [...], cpuSeconds, loss}`
 *   `end`   ─► `TRAIN_END {peakRss}` and exit
 *
 * Not meant to be run by hand.
 * @module
 */
import process from "node:process";
import type { ClipArchitecture } from "../src/model/architecture.ts";
import { residentMemory } from "./stats.ts";
import { prepareOrtMatMul } from "./contenders/ort.ts";

/** Who trains: the engine on either backend, today's TF.js trainer, PyTorch, or the bare MatMul peak. */
export type TrainContender = "engine-node" | "engine-web" | "tfjs" | "pytorch" | "matmul";

/** What a training contender's process is told (as JSON, its one argument). */
export interface TrainJob {
  contender: TrainContender;
  architecture: ClipArchitecture;
  /** `[batch, 3, R, R]` float32 and `[batch, textLength]` int32 files, little-endian, no header. */
  pixelsFile: string;
  idsFile: string;
  batch: number;
  textLength: number;
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  /** Seed of the initial weights. */
  seed: number;
  /** Untimed steps before `TRAIN_READY`. */
  warmup: number;
  /** Intra-op threads of PyTorch and of the engine (TF.js runs one WASM thread under Deno). */
  threads: number;
  /** `matmul`: the product's shape. */
  matmul?: { m: number; k: number; n: number };
}

/** A contender loaded and ready to take training steps. */
export interface TrainRunner {
  label: string;
  threads: number;
  parameters: number;
  note?: string;
  /** One step on the batch; the loss before the update (the MatMul peak: 0). */
  step(): Promise<number>;
  dispose(): Promise<void> | void;
}

/** Line prefixes of the protocol. */
export const TRAIN_MARKS = {
  ready: "TRAIN_READY ",
  unavailable: "TRAIN_UNAVAILABLE ",
  done: "TRAIN_DONE ",
  end: "TRAIN_END ",
} as const;

async function prepare(job: TrainJob): Promise<TrainRunner | string> {
  if (job.contender === "matmul") {
    const runner = await prepareOrtMatMul(job.matmul!, true);
    return { ...runner, parameters: 0, step: async () => (await runner.run(), 0) };
  }
  const pixelBytes = await Deno.readFile(job.pixelsFile), idBytes = await Deno.readFile(job.idsFile);
  const pixels = new Float32Array(pixelBytes.buffer, pixelBytes.byteOffset, pixelBytes.byteLength / 4); // [B, 3, R, R]
  const ids = new Int32Array(idBytes.buffer, idBytes.byteOffset, idBytes.byteLength / 4); // [B, L]
  if (job.contender === "tfjs") {
    const { prepareTfjsTraining } = await import("./contenders/train_tfjs.ts");
    return prepareTfjsTraining(job, { pixels, ids });
  }
  const { prepareEngineTraining } = await import("./contenders/train_engine.ts");
  return prepareEngineTraining(job, { pixels, ids });
}

/** Lines of stdin, one at a time. */
async function* lines(): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let at;
    while ((at = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, at).trim();
      buffered = buffered.slice(at + 1);
    }
  }
}

function say(mark: string, value: unknown): void {
  console.log(mark + JSON.stringify(value));
}

if (import.meta.main) {
  const job = JSON.parse(Deno.args[0]) as TrainJob;
  const start = performance.now();
  const runner = await prepare(job);
  if (typeof runner === "string") {
    say(TRAIN_MARKS.unavailable, { reason: runner });
    Deno.exit(0);
  }
  const loadSeconds = (performance.now() - start) / 1000;
  let warmupSeconds = 0;
  for (let i = 0; i < job.warmup; i++) {
    const t0 = performance.now();
    await runner.step();
    warmupSeconds = (performance.now() - t0) / 1000; // the last warm-up step: kernels compiled, memory allocated
  }
  say(TRAIN_MARKS.ready, {
    label: runner.label,
    threads: runner.threads,
    parameters: runner.parameters,
    note: runner.note,
    loadSeconds,
    warmupSeconds,
  });
  for await (const line of lines()) {
    const [command, count] = line.split(" ");
    if (command === "run") {
      const seconds: number[] = [];
      let loss = 0;
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < Number(count); i++) {
        const t0 = performance.now();
        loss = await runner.step();
        seconds.push((performance.now() - t0) / 1000);
      }
      const cpu = process.cpuUsage(cpu0);
      say(TRAIN_MARKS.done, { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, loss });
    } else if (command === "end") break;
  }
  await runner.dispose();
  say(TRAIN_MARKS.end, { peakRss: residentMemory().peak });
  Deno.exit(0); // worker threads of the runtimes must not keep the process alive
}
