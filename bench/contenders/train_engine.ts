/**
 * clipkit's training engine as a training contender: `TrainingSession` from `src/train/mod.ts` on the
 * native (`engine-node`) or WASM (`engine-web`) backend, given openai/CLIP `state_dict` weights in PyTorch
 * layouts and stepped on the job's batch.
 *
 * The engine is imported dynamically: while `src/train/mod.ts` has no `TrainingSession`, the contender
 * reports why it is not available instead of failing the benchmark.
 *
 *   initWeights ([in, out]) ──► torchStateDict ([out, in]) ──► TrainingSession.create ──► step(batch, lr)
 * @module
 */
import { type ClipArchitecture, initWeights, parameterCount } from "../../src/model/architecture.ts";
import type { TrainJob, TrainRunner } from "../train_child.ts";

/** The training engine's module (a variable, so that type checking does not require it to exist yet). */
const ENGINE_MODULE = new URL("../../src/train/mod.ts", import.meta.url).href;

/** What the benchmark uses of a `TrainingSession`. */
interface TrainingSessionLike {
  step(batch: { pixels: Float32Array; ids: Int32Array; size: number }, lr: number): Promise<number>;
  dispose(): unknown;
  /** Intra-op threads, where the session says. */
  threads?: number;
}

interface EngineModule {
  TrainingSession?: {
    create(
      architecture: ClipArchitecture,
      stateDict: Record<string, Float32Array>,
      options: {
        backend: "node" | "web";
        lr: number;
        betas: [number, number];
        eps: number;
        weightDecay: number;
        batchSize: number;
        threads?: number;
      },
    ): Promise<TrainingSessionLike>;
  };
}

/** Weights stored `[in, out]` by `initWeights` whose PyTorch layout is `[out, in]` (conv1: `[W, 3, p, p]`). */
const TRANSPOSED =
  /(attn\.in_proj_weight|attn\.out_proj\.weight|mlp\.c_fc\.weight|mlp\.c_proj\.weight|conv1\.weight)$/;

/**
 * openai/CLIP's initial weights with its `state_dict` names, in PyTorch layouts: `initWeights`' `[in, out]`
 * matrices transposed (`visual.conv1.weight` `[3·p·p, W]` → `[W, 3, p, p]`, same values).
 * @example
 * ```ts
 * const sd = torchStateDict(loadArchitecture("tiny"), 0);
 * sd["visual.transformer.resblocks.0.attn.in_proj_weight"].length; // 12288 ([192, 64])
 * ```
 */
export function torchStateDict(a: ClipArchitecture, seed: number): Record<string, Float32Array> {
  const weights = initWeights(a, seed);
  const widths: Record<string, number> = {};
  for (const name of Object.keys(weights)) {
    if (!TRANSPOSED.test(name)) continue;
    const visual = name.startsWith("visual.");
    const w = visual ? a.vision_width : a.transformer_width;
    // [rows, cols] of the stored [in, out] matrix
    widths[name] = name.endsWith("in_proj_weight") ? 3 * w : name.endsWith("c_fc.weight") ? 4 * w : w;
  }
  const out: Record<string, Float32Array> = {};
  for (const [name, values] of Object.entries(weights)) {
    const cols = widths[name];
    out[name] = cols ? transpose(values, values.length / cols, cols) : values;
  }
  return out;
}

/** A row-major `[rows, cols]` matrix transposed to `[cols, rows]`. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(m.length); // [cols, rows]
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
  return t;
}

/**
 * The engine ready to step on the job's batch, or why it is not available.
 * @example
 * ```ts
 * const runner = await prepareEngineTraining(job, batch);
 * typeof runner === "string" ? runner : await runner.step(); // 4.85
 * ```
 */
export async function prepareEngineTraining(
  job: TrainJob,
  batch: { pixels: Float32Array; ids: Int32Array },
): Promise<TrainRunner | string> {
  let engine: EngineModule;
  try {
    engine = await import(ENGINE_MODULE);
  } catch (e) {
    const missing = e instanceof Error && /Module not found/.test(e.message) &&
      e.message.includes("src/train/mod.ts");
    return missing
      ? "the training engine is not available: src/train/mod.ts does not exist yet"
      : `the training engine is not available: src/train/mod.ts did not load (${firstLine(e)})`;
  }
  if (typeof engine.TrainingSession?.create !== "function") {
    return "the training engine is not available: src/train/mod.ts exports no TrainingSession";
  }
  const backend = job.contender === "engine-web" ? "web" : "node";
  const session = await engine.TrainingSession.create(
    job.architecture,
    torchStateDict(job.architecture, job.seed),
    {
      backend,
      lr: job.lr,
      betas: job.betas,
      eps: job.eps,
      weightDecay: job.weightDecay,
      batchSize: job.batch,
      threads: job.threads,
    },
  );
  const feed = { pixels: batch.pixels, ids: batch.ids, size: job.batch };
  return {
    label: `clipkit training engine (${backend === "node" ? "onnxruntime-node" : "onnxruntime-web WASM"})`,
    threads: session.threads ?? job.threads,
    parameters: parameterCount(job.architecture),
    step: () => session.step(feed, job.lr),
    dispose: async () => {
      await session.dispose();
    },
  };
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split("\n")[0].slice(0, 200);
}
