/**
 * Comparison 6: training speed. clipkit's training engine (native and WASM), today's TensorFlow.js trainer
 * and PyTorch (openai/CLIP's architecture, `torch.optim.AdamW`) take AdamW steps of CLIP's loss on the
 * same batch of the shapes world, next to a bare onnxruntime-node MatMul of a large product (the machine's
 * peak, which the GFLOP/s are set against). Each contender runs in its own process (own threads,
 * own peak RSS); all are loaded first, then timed in turns, the order rotating each round, so that the
 * machine's drifting load falls on all alike.
 *
 *   train.json (configurations, turns) + pretrain.json (the recipe: batch, lr, weight decay)
 *     ──► batch files (pixels [B,3,R,R] f32, ids [B,L] i32) ──► one process per contender (train_child.ts,
 *         contenders/pytorch_train.py) ──► rounds of turns ──► ms/step, pairs/s, GFLOP/s, peak RSS
 * @module
 */
import { join } from "node:path";
import { type ClipArchitecture, loadArchitecture, validateArchitecture } from "../src/model/architecture.ts";
import { generateBatch } from "../src/data/shapes.ts";
import { ClipTokenizer } from "../src/text/tokenizer.ts";
import { trainingStepFlops } from "./flops.ts";
import { MATMUL_RUNS } from "./contenders/ort.ts";
import { PYTHON } from "./jobs.ts";
import { ROOT } from "./shared.ts";
import { type Timing, timing } from "./stats.ts";
import { fmt, markdownTable, mib, withSpread } from "./table.ts";
import { TRAIN_MARKS, type TrainContender, type TrainJob } from "./train_child.ts";

/** One configuration of `train.json`. */
interface ConfigSpec {
  name: string;
  preset: "tiny" | "vit-b-32";
  shipped: boolean;
  override?: Partial<ClipArchitecture>;
  why: string;
}

/** `train.json`. */
interface TrainSpec {
  recipe: string;
  betas: [number, number];
  eps: number;
  seed: number;
  rounds: number;
  turn_seconds: number;
  warmup_steps: number;
  /** Intra-op threads of PyTorch and the engine. */
  threads: number;
  /** The MatMul whose speed is the machine's peak: `[m, k] × [k, n]`. */
  peak_matmul: { m: number; k: number; n: number };
  /** The contenders timed by default, in table order. */
  contenders: TrainContender[];
  /** What the default list leaves out, and why (printed in the report). */
  left_out: string;
  configs: ConfigSpec[];
}

const SPEC: TrainSpec = JSON.parse(Deno.readTextFileSync(join(import.meta.dirname!, "train.json")));
/** The pretraining recipes (batch size, learning rate, weight decay). */
const RECIPES_PATH = join(ROOT, "src", "train", "configs", "pretrain.json");
/** The shipped model's tokenizer: the batch's captions are tokenized with it, as pretraining does. */
const TOKENIZER_DIR = join(ROOT, "models", "tiny-clip");
/** Where the batch files go (gitignored). */
const OUT_DIR = join(ROOT, "bench", "out", "train");

/** The contenders timed by default, in table order (train.json). */
export const TRAIN_CONTENDERS: readonly TrainContender[] = SPEC.contenders;

/** One contender's steps on one configuration. */
export interface TrainRow {
  contender: TrainContender;
  label: string;
  threads: number;
  parameters: number;
  /** Seconds per step, every timed step of every turn. */
  timing: Timing;
  pairsPerSecond: number;
  /** Achieved GFLOP/s at the median step (the MatMul: of its products). */
  gflops: number;
  /** CPU seconds (all threads) per step, over all timed steps. */
  cpuSecondsPerStep: number;
  peakRss: number;
  loadSeconds: number;
  /** The loss of the last step (the MatMul: none). */
  loss?: number;
  note?: string;
}

/** The MatMul peak (train.json's `peak_matmul`, `[m, k] × [k, n]`), {@link MATMUL_RUNS} products per timed step. */
export interface TrainPeak {
  label: string;
  m: number;
  k: number;
  n: number;
  gflops: number;
  threads: number;
}

/** One configuration's measurements. */
export interface TrainConfigResult {
  name: string;
  shipped: boolean;
  why: string;
  architecture: ClipArchitecture;
  batch: number;
  /** Tokens per caption row (the batch's longest caption with SOT and EOT). */
  textLength: number;
  /** FLOPs of one training step (forward × 3; see flops.ts). */
  flopsPerStep: number;
  rows: TrainRow[];
  peak?: TrainPeak;
  skipped: { contender: TrainContender; reason: string }[];
  rounds: number;
}

/** The training section's measurements. */
export interface TrainResult {
  configs: TrainConfigResult[];
  recipe: { name: string; lr: number; betas: [number, number]; eps: number; weightDecay: number };
  /** Contenders of the default list that were left out, and why (when the default list was used). */
  leftOut?: string;
}

/** Options of {@link benchTraining}. */
export interface TrainBenchOptions {
  /** The configurations of train.json to run, by name (default all; quick: the shipped recipe). */
  configs?: string[];
  /** Pairs per step (default the recipe's, 128). */
  batch?: number;
  /** Rounds of turns (default train.json's; quick 1). */
  rounds?: number;
  /** Seconds of steps per turn (default train.json's; quick: one step). */
  turnSeconds?: number;
  /** The contenders (default train.json's list; all: engine-node, engine-web, pytorch, tfjs, matmul). */
  contenders?: TrainContender[];
  quick?: boolean;
  log?: (line: string) => void;
}

/**
 * Run comparison 6.
 * @example
 * ```ts
 * const { configs } = await benchTraining({ quick: true });
 * configs[0].rows.map((r) => r.contender); // ["engine-node", "engine-web", "pytorch", "tfjs", "matmul"]
 * ```
 */
export async function benchTraining(options: TrainBenchOptions = {}): Promise<TrainResult> {
  const log = options.log ?? (() => {});
  const recipes = JSON.parse(await Deno.readTextFile(RECIPES_PATH));
  const recipe = recipes[SPEC.recipe];
  const tokenizer = await ClipTokenizer.load(TOKENIZER_DIR);
  const wanted = options.configs ??
    (options.quick ? SPEC.configs.filter((c) => c.shipped).map((c) => c.name) : undefined);
  const specs = SPEC.configs.filter((c) => !wanted || wanted.includes(c.name));
  const result: TrainResult = {
    configs: [],
    recipe: {
      name: SPEC.recipe,
      lr: recipe.lr,
      betas: SPEC.betas,
      eps: SPEC.eps,
      weightDecay: recipe.weight_decay,
    },
    ...(options.contenders ? {} : { leftOut: SPEC.left_out }),
  };
  await Deno.mkdir(OUT_DIR, { recursive: true });
  for (const spec of specs) {
    const architecture: ClipArchitecture = {
      ...loadArchitecture(spec.preset),
      ...spec.override,
      vocab_size: tokenizer.vocabSize,
    };
    validateArchitecture(architecture);
    const B = options.batch ?? recipe.batch_size;
    const { pixels, ids, textLength } = trainingBatch(architecture, B, tokenizer, SPEC.seed);
    const slug = `${spec.preset}-${architecture.vision_width}-${architecture.image_resolution}-${B}`;
    const pixelsFile = join(OUT_DIR, `${slug}.pixels.f32`), idsFile = join(OUT_DIR, `${slug}.ids.i32`);
    await Deno.writeFile(pixelsFile, new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength));
    await Deno.writeFile(idsFile, new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength));
    const matmul = SPEC.peak_matmul;
    const job = (contender: TrainContender): TrainJob => ({
      contender,
      architecture,
      pixelsFile,
      idsFile,
      batch: B,
      textLength,
      lr: recipe.lr,
      betas: SPEC.betas,
      eps: SPEC.eps,
      weightDecay: recipe.weight_decay,
      seed: SPEC.seed,
      warmup: options.quick ? 1 : SPEC.warmup_steps,
      threads: SPEC.threads,
      ...(contender === "matmul" ? { matmul } : {}),
    });
    const flopsPerStep = trainingStepFlops(architecture, B, textLength);
    const rounds = options.rounds ?? (options.quick ? 1 : SPEC.rounds);
    const measured = await inTurns(
      (options.contenders ?? TRAIN_CONTENDERS).map(job),
      rounds,
      options.turnSeconds ?? (options.quick ? 0 : SPEC.turn_seconds),
      (line) => log(`train (${spec.name}): ${line}`),
    );
    const rows: TrainRow[] = measured.done.map((m) => {
      const t = timing(m.seconds);
      const flops = m.contender === "matmul"
        ? MATMUL_RUNS * 2 * matmul.m * matmul.k * matmul.n
        : flopsPerStep;
      return {
        contender: m.contender,
        label: m.ready.label,
        threads: m.ready.threads,
        parameters: m.ready.parameters,
        timing: t,
        pairsPerSecond: B / t.median,
        gflops: flops / t.median / 1e9,
        cpuSecondsPerStep: m.cpuSeconds / m.seconds.length,
        peakRss: m.peakRss,
        loadSeconds: m.ready.loadSeconds,
        ...(m.contender === "matmul" ? {} : { loss: m.loss }),
        ...(m.ready.note ? { note: m.ready.note } : {}),
      };
    });
    const peakRow = rows.find((r) => r.contender === "matmul");
    result.configs.push({
      name: spec.name,
      shipped: spec.shipped,
      why: spec.why,
      architecture,
      batch: B,
      textLength,
      flopsPerStep,
      rows: rows.filter((r) => r.contender !== "matmul"),
      peak: peakRow
        ? { label: peakRow.label, ...matmul, gflops: peakRow.gflops, threads: peakRow.threads }
        : undefined,
      skipped: measured.skipped,
      rounds,
    });
  }
  return result;
}

/**
 * The training batch: `batch` examples of the shapes world's training split (pixels normalised as CLIP
 * does, `[B, 3, R, R]`) and their captions tokenized with the shipped tokenizer, cut to the longest
 * (`[B, L]`, SOT … EOT, zero padded), as pretraining feeds its trainer.
 * @example
 * ```ts
 * const { textLength } = trainingBatch(loadArchitecture("tiny"), 128, tokenizer, 0);
 * textLength; // 8
 * ```
 */
export function trainingBatch(
  a: ClipArchitecture,
  batch: number,
  tokenizer: ClipTokenizer,
  seed: number,
): { pixels: Float32Array; ids: Int32Array; textLength: number } {
  const data = generateBatch(seed, batch, { split: "train", offset: 0, size: a.image_resolution });
  const { ids, shape } = tokenizer.tokenize(data.captions, {
    contextLength: a.context_length,
    padding: "longest",
    truncate: true,
  }); // [B, L]
  return { pixels: data.pixels, ids, textLength: shape[1] };
}

/** What a contender's process said after its turns. */
interface Measured {
  contender: TrainContender;
  ready: {
    label: string;
    threads: number;
    parameters: number;
    loadSeconds: number;
    warmupSeconds: number;
    note?: string;
  };
  seconds: number[];
  cpuSeconds: number;
  loss: number;
  peakRss: number;
}

/** Longest wait for one answer of a contender (its load and warm-up steps included). */
const ANSWER_TIMEOUT_MS = 10 * 60 * 1000;

/** Start every contender, then time them in rounds of turns; each turn is ≈ `turnSeconds` of steps (≥ 1). */
async function inTurns(
  jobs: TrainJob[],
  rounds: number,
  turnSeconds: number,
  log: (line: string) => void,
): Promise<{ done: Measured[]; skipped: { contender: TrainContender; reason: string }[] }> {
  const skipped: { contender: TrainContender; reason: string }[] = [];
  const live: { job: TrainJob; child: Contender; ready: Measured["ready"]; steps: number; m: Measured }[] =
    [];
  try {
    for (const job of jobs) {
      log(`starting ${job.contender}`);
      const started = await Contender.start(job).then((s) => typeof s === "string" ? explain(job, s) : s);
      if (typeof started === "string") {
        log(`${job.contender}: ${started}`);
        skipped.push({ contender: job.contender, reason: started });
        continue;
      }
      const { child, ready } = started;
      const steps = Math.max(1, Math.min(100, Math.round(turnSeconds / Math.max(ready.warmupSeconds, 1e-3))));
      live.push({
        job,
        child,
        ready,
        steps,
        m: { contender: job.contender, ready, seconds: [], cpuSeconds: 0, loss: NaN, peakRss: 0 },
      });
    }
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < live.length; k++) {
        const c = live[(round + k) % live.length]; // rotate who goes first
        if (!c.child.alive) continue;
        log(`round ${round + 1}/${rounds}: ${c.job.contender}, ${c.steps} step(s)`);
        const done = await c.child.ask<{ seconds: number[]; cpuSeconds: number; loss: number }>(
          `run ${c.steps}`,
          TRAIN_MARKS.done,
        );
        if (typeof done === "string") {
          skipped.push({ contender: c.job.contender, reason: done });
          continue;
        }
        c.m.seconds.push(...done.seconds);
        c.m.cpuSeconds += done.cpuSeconds;
        c.m.loss = done.loss;
      }
    }
    for (const c of live) {
      if (!c.child.alive) continue;
      const end = await c.child.ask<{ peakRss: number }>("end", TRAIN_MARKS.end);
      if (typeof end === "string") skipped.push({ contender: c.job.contender, reason: end });
      else c.m.peakRss = end.peakRss;
    }
  } finally {
    for (const c of live) await c.child.close();
  }
  const failed = new Set(skipped.map((s) => s.contender));
  return { done: live.filter((c) => !failed.has(c.job.contender)).map((c) => c.m), skipped };
}

/** A failure with what it most likely means. */
function explain(job: TrainJob, reason: string): string {
  if (job.contender === "tfjs" && reason.includes("Aborted()")) {
    return `${reason} (most likely out of WebAssembly memory, 4 GiB at most: TF.js keeps every activation ` +
      `of the step, ${job.batch} pairs here)`;
  }
  return reason;
}

/** A contender's process and its side of the protocol of train_child.ts. */
class Contender {
  alive = true;
  private stderr = "";
  private readonly lines: AsyncIterator<string>;
  private readonly stdin: WritableStreamDefaultWriter<Uint8Array>;

  private constructor(readonly job: TrainJob, private readonly process: Deno.ChildProcess) {
    this.lines = readLines(process.stdout);
    this.stdin = process.stdin.getWriter();
    (async () => {
      for await (const chunk of process.stderr.pipeThrough(new TextDecoderStream())) {
        this.stderr = (this.stderr + chunk).slice(-4000);
      }
    })();
  }

  /** Start a contender and wait for it to be ready; why not, as a string. */
  static async start(job: TrainJob): Promise<{ child: Contender; ready: Measured["ready"] } | string> {
    if (job.contender === "pytorch" && !(await pythonImportsTorch())) {
      return `PyTorch not available (${PYTHON} cannot import torch): apt-get install python3-torch`;
    }
    const command = job.contender === "pytorch"
      ? new Deno.Command(PYTHON, {
        args: [join(ROOT, "bench", "contenders", "pytorch_train.py"), JSON.stringify(job)],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      })
      : new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(ROOT, "bench", "train_child.ts"), JSON.stringify(job)],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      });
    const child = new Contender(job, command.spawn());
    const first = await child.next(TRAIN_MARKS.ready);
    if (typeof first === "string") {
      await child.close();
      return first;
    }
    return { child, ready: first };
  }

  /** Send one command and wait for the answer starting with `mark`. */
  async ask<T = never>(command: string, mark: string): Promise<T | string> {
    try {
      await this.stdin.write(new TextEncoder().encode(command + "\n"));
    } catch {
      this.alive = false;
      return `${this.job.contender} exited: ${lastError(this.stderr)}`;
    }
    return this.next<T>(mark);
  }

  /** The next protocol line with `mark` (or unavailable), parsed; a failure as a string. */
  // deno-lint-ignore no-explicit-any
  private async next<T = any>(mark: string): Promise<T | string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) =>
      timer = setTimeout(() => resolve("timeout"), ANSWER_TIMEOUT_MS)
    );
    try {
      while (true) {
        const got = await Promise.race([this.lines.next(), timeout]);
        if (got === "timeout") {
          this.alive = false;
          return `${this.job.contender} did not answer within ${ANSWER_TIMEOUT_MS / 60000} min`;
        }
        if (got.done) {
          this.alive = false;
          const status = await this.process.status;
          return `${this.job.contender} failed (exit ${status.code}): ${lastError(this.stderr)}`;
        }
        const line = got.value;
        if (line.startsWith(TRAIN_MARKS.unavailable)) {
          this.alive = false;
          return JSON.parse(line.slice(TRAIN_MARKS.unavailable.length)).reason;
        }
        if (line.startsWith(mark)) return JSON.parse(line.slice(mark.length)) as T;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** End the process (killed if still running) and release its streams. */
  async close(): Promise<void> {
    try {
      await this.stdin.close();
    } catch {
      // already closed
    }
    try {
      this.process.kill("SIGKILL");
    } catch {
      // already exited
    }
    await this.process.status;
    this.alive = false;
  }
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let at;
    while ((at = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
    }
  }
  if (buffered) yield buffered;
}

/** The child's error in one line: its last line naming an error (ANSI colours removed), else its last line. */
function lastError(stderr: string): string {
  // deno-lint-ignore no-control-regex
  const lines = stderr.replace(/\x1b\[[0-9;]*m/g, "").trim().split("\n").map((l) => l.trim());
  return ([...lines].reverse().find((l) => /error/i.test(l) && !l.startsWith("at ")) ?? lines.at(-1) ?? "")
    .slice(0, 300);
}

let torchChecked: Promise<boolean> | undefined;

/** Whether `/usr/bin/python3` imports torch (checked once; training needs neither torchvision nor PIL). */
export function pythonImportsTorch(): Promise<boolean> {
  torchChecked ??= new Deno.Command(PYTHON, { args: ["-c", "import torch"], stdout: "null", stderr: "null" })
    .output().then((o) => o.success, () => false);
  return torchChecked;
}

/**
 * The Markdown table of one configuration: each contender's step time, pairs/s, GFLOP/s against the MatMul
 * peak, CPU time, peak RSS; the engine's speed-up over each.
 */
export function trainTable(config: TrainConfigResult): string {
  const engine = config.rows.find((r) => r.contender === "engine-node");
  const peak = config.peak?.gflops;
  const out = config.rows.map((r) => [
    r.label + (r.note ? ` — ${r.note}` : ""),
    String(r.threads),
    withSpread(r.timing.median * 1000, r.timing.min * 1000, r.timing.max * 1000),
    fmt(r.pairsPerSecond),
    fmt(r.gflops),
    peak ? `${((100 * r.gflops) / peak).toFixed(0)}%` : "–",
    fmt(r.cpuSecondsPerStep * 1000),
    mib(r.peakRss),
    engine ? `${(engine.pairsPerSecond / r.pairsPerSecond).toFixed(2)}×` : "–",
    String(r.timing.samples.length),
  ]);
  if (config.peak) {
    out.push([
      `${config.peak.label} (the peak)`,
      String(config.peak.threads),
      "–",
      "–",
      fmt(config.peak.gflops),
      "100%",
      "–",
      "–",
      "–",
      "–",
    ]);
  }
  return markdownTable(
    [
      "contender",
      "threads",
      "ms/step",
      "pairs/s",
      "GFLOP/s",
      "of the MatMul peak",
      "CPU ms/step",
      "peak RSS",
      "engine (native) speed-up",
      "steps timed",
    ],
    out,
    ["left", "right", "right", "right", "right", "right", "right", "right", "right", "right"],
  );
}
