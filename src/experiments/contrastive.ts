/**
 * One contrastive CLIP run on the shapes world, as experiments need it: seeded from end to end, trained by
 * the training engine (`src/train/`), and measured at checkpoints through the inference path's zero-shot
 * functions (`src/zeroshot/`), so that two runs with the same seed on the same backend give the same
 * numbers bit for bit.
 *
 * seed ─► initStateDict(architecture, seed), logit scale set per run ─► TrainingSession (AdamW)
 * step s: the train split's examples s·B … s·B+B−1 (generateBatch) ─► tokenize (padded to the longest)
 *         ─► session.step(batch, warm-up + cosine lr(s)) ─► (frozen scale: put the value back)
 * every `eval_every` steps: the validation split ─► loss and image features ([N, D], one forward graph)
 *         prompts (class × template) ─► the session's text tower ─► zeroShotClassifier ─► accuracies
 *
 * A frozen logit scale is the value restored after every update. AdamW updates each parameter from its own
 * gradient and moments only, so every other parameter follows exactly the trajectory it would follow with
 * the scale excluded from the optimiser (PyTorch's `requires_grad = False`).
 * @module
 */
import { fileURLToPath } from "node:url";
import { type ArchitecturePreset, loadArchitecture } from "../model/architecture.ts";
import type { BackendChoice } from "../model/runtime.ts";
import type { Progress } from "../model/progress.ts";
import { ClipTokenizer } from "../text/tokenizer.ts";
import { classNames, generateBatch, type ShapesTask } from "../data/shapes.ts";
import { Matrix, selectRows } from "../math/matrix.ts";
import { type TextEncoderLike, zeroShotClassifier } from "../zeroshot/classifier.ts";
import { type EngineArchitecture, initStateDict, TrainingSession } from "../train/mod.ts";
import { cosineLr } from "../train/schedule.ts";
import { ExperimentError, TrainingDivergedError } from "../errors.ts";
import { MAX_LOGIT_SCALE } from "../constants.ts";

/** The tokenizer of the shipped tiny CLIP: the BPE vocabulary learned from the shapes world's captions. */
export const SHAPES_TOKENIZER: string = fileURLToPath(
  new URL("../../models/tiny-clip-classic", import.meta.url),
);

/** How a run trains: the optimiser, its schedule and the checkpoints (fields as in the experiment configs). */
export interface ContrastiveSchedule {
  /** Architecture preset (src/model/architectures/); the vocabulary comes from the tokenizer. */
  model: ArchitecturePreset;
  /** AdamW updates. */
  steps: number;
  /** Image–caption pairs per step (the contrastive batch: B − 1 negatives per pair). */
  batch_size: number;
  /** Peak learning rate. */
  lr: number;
  /** Share of the steps spent warming the learning rate up linearly, before the cosine decay. */
  warmup_fraction: number;
  /** AdamW's decoupled weight decay (on weight matrices only). */
  weight_decay: number;
  /** Steps between two checkpoints (step 0 and the last step are always measured). */
  eval_every: number;
  /** Validation pictures measured at each checkpoint (a multiple of `batch_size`). */
  validation_size: number;
}

/** The logit scale of a run: its starting value, and whether the optimiser may change it. */
export interface LogitScaleSetting {
  /** exp(t) = 1 / temperature at step 0 (openai/CLIP: 1/0.07). */
  logit_scale: number;
  /** `true`: t is a trained parameter (clamped at ln 100); `false`: t stays at its value. */
  learned: boolean;
}

/** Zero-shot top-1 accuracies (0–1) on the validation split, through `zeroShotClassifier`. */
export interface ZeroShotScores {
  /** 10-way colour. */
  colour: number;
  /** 8-way shape. */
  shape: number;
  /** 80-way colour+shape, every validation picture. */
  combo: number;
  /** 80-way colour+shape, pictures of combinations seen in training. */
  seen: number;
  /** 80-way colour+shape, pictures of the held-out combinations. */
  unseen: number;
}

/** The numbers of one checkpoint. */
export interface ContrastiveCheckpoint {
  /** Updates done. */
  step: number;
  /** Training pairs seen (step × batch size). */
  examples: number;
  /** Mean training loss of the steps since the previous checkpoint (null at step 0). */
  trainLoss: number | null;
  /** Mean contrastive loss of the validation batches, at the run's current logit scale. */
  valLoss: number;
  /** exp(t), the multiplier of cosines into logits. */
  logitScale: number;
  zeroShot: ZeroShotScores;
}

/** Options of {@link contrastiveRun}. */
export interface ContrastiveRunOptions {
  schedule: ContrastiveSchedule;
  logitScale: LogitScaleSetting;
  /** Seeds the initial weights, the order of the training data and the validation pictures. */
  seed: number;
  /** Zero-shot prompt templates (each with one `{}`). */
  templates: readonly string[];
  /** ONNX Runtime backend of the engine (default `"node"`). */
  backend?: BackendChoice;
  /** Intra-op threads (default: all cores). */
  threads?: number;
  /** Ticked once per step. */
  progress?: Progress;
  /** A tokenizer folder or file (default {@link SHAPES_TOKENIZER}). */
  tokenizer?: string;
}

/** What {@link contrastiveRun} returns. */
export interface ContrastiveRunResult {
  checkpoints: ContrastiveCheckpoint[];
  /** Seconds from the first step to the last checkpoint. */
  wallSeconds: number;
  /** The engine's runtime in one line (`onnxruntime-node 1.30.0 (native CPU, 2 threads)`). */
  backend: string;
}

/** Zero-shot tasks and the label of each validation picture they use. */
const TASKS: [keyof ZeroShotScores, ShapesTask][] = [["colour", "colour"], ["shape", "shape"], [
  "combo",
  "combo",
]];

/** Check a schedule; throws {@link ExperimentError} naming the field. */
export function checkSchedule(s: ContrastiveSchedule): void {
  const positive = ["steps", "batch_size", "eval_every", "validation_size"] as const;
  for (const f of positive) {
    if (!Number.isInteger(s[f]) || s[f] < 1) {
      throw new ExperimentError(`${f} = ${s[f]} is not a whole number ≥ 1`, { fix: `set ${f} to 1 or more` });
    }
  }
  if (s.batch_size < 2) {
    throw new ExperimentError(`batch_size ${s.batch_size} leaves no negatives`, {
      fix: "use batch_size 2 or more",
    });
  }
  if (s.validation_size % s.batch_size !== 0) {
    throw new ExperimentError(
      `validation_size ${s.validation_size} is not a multiple of batch_size ${s.batch_size}`,
      {
        fix: `use e.g. validation_size ${
          Math.max(1, Math.round(s.validation_size / s.batch_size)) * s.batch_size
        }`,
      },
    );
  }
  if (!(s.lr > 0) || !Number.isFinite(s.lr)) {
    throw new ExperimentError(`lr = ${s.lr} is not a positive number`, { fix: "use e.g. lr 0.002" });
  }
  if (!(s.warmup_fraction >= 0 && s.warmup_fraction < 1)) {
    throw new ExperimentError(`warmup_fraction = ${s.warmup_fraction} is outside [0, 1)`, {
      fix: "use e.g. 0.1",
    });
  }
  if (!(s.weight_decay >= 0)) {
    throw new ExperimentError(`weight_decay = ${s.weight_decay} is negative`, { fix: "use e.g. 0.1" });
  }
  loadArchitecture(s.model);
}

/** Check a logit-scale setting: 1 ≤ scale ≤ 100 (the range the engine clamps a learned scale to). */
export function checkLogitScale(l: LogitScaleSetting): void {
  if (!(l.logit_scale >= 1 && l.logit_scale <= MAX_LOGIT_SCALE)) {
    throw new ExperimentError(`logit_scale ${l.logit_scale} is outside [1, ${MAX_LOGIT_SCALE}]`, {
      fix: `pick a multiplier between 1 and ${MAX_LOGIT_SCALE} (openai/CLIP starts at 1/0.07 ≈ 14.3)`,
    });
  }
  if (typeof l.learned !== "boolean") {
    throw new ExperimentError(`learned is ${JSON.stringify(l.learned)}, not true or false`, {
      fix: "set learned: true or false",
    });
  }
}

/**
 * Train one contrastive CLIP and measure it at every checkpoint; see the module documentation.
 *
 * @example
 * ```ts
 * import { contrastiveRun } from "./contrastive.ts";
 * import { templates } from "../zeroshot/templates.ts";
 * const r = await contrastiveRun({
 *   schedule: { model: "tiny", steps: 4, batch_size: 16, lr: 0.002, warmup_fraction: 0.25, weight_decay: 0.1, eval_every: 2, validation_size: 32 },
 *   logitScale: { logit_scale: 1 / 0.07, learned: true },
 *   seed: 0,
 *   templates: templates.shapes,
 * });
 * r.checkpoints.map((c) => c.step); // → [0, 2, 4]
 * ```
 */
export async function contrastiveRun(o: ContrastiveRunOptions): Promise<ContrastiveRunResult> {
  const s = o.schedule;
  checkSchedule(s);
  checkLogitScale(o.logitScale);
  const tokenizer = await ClipTokenizer.load(o.tokenizer ?? SHAPES_TOKENIZER);
  const architecture: EngineArchitecture = { ...loadArchitecture(s.model), vocab_size: tokenizer.vocabSize };
  const R = architecture.image_resolution, C = architecture.context_length, B = s.batch_size;
  const t = Math.fround(Math.log(o.logitScale.logit_scale)); // the parameter is float32
  const weights = initStateDict(architecture, o.seed);
  weights["logit_scale"] = Float32Array.of(t);
  const session = await TrainingSession.create(architecture, weights, {
    backend: o.backend ?? "node",
    threads: o.threads,
    batchSize: B,
    lr: s.lr,
    weightDecay: s.weight_decay,
  });
  try {
    const validation = generateBatch(o.seed, s.validation_size, { split: "validation", size: R });
    const warmup = Math.round(s.warmup_fraction * s.steps);
    const checkpoints: ContrastiveCheckpoint[] = [];
    const started = performance.now();
    let lossSum = 0, lossSteps = 0;
    const measure = async (step: number) => {
      checkpoints.push({
        step,
        examples: step * B,
        trainLoss: lossSteps ? lossSum / lossSteps : null,
        ...(await evaluate(session, tokenizer, validation, o.templates, step)),
      });
      lossSum = 0;
      lossSteps = 0;
    };
    await measure(0);
    for (let step = 0; step < s.steps; step++) {
      const batch = generateBatch(o.seed, B, { split: "train", offset: step * B, size: R });
      const { ids } = tokenizer.tokenize(batch.captions, { contextLength: C, padding: "longest" }); // [B, L]
      const lr = cosineLr(step, s.steps, warmup, s.lr);
      const loss = await session.step({ pixels: batch.pixels, ids, size: B }, lr);
      if (!Number.isFinite(loss)) {
        throw new TrainingDivergedError(
          `the loss became ${loss} at step ${step} (learning rate ${lr.toExponential(2)})`,
          {
            fix: "lower lr in the experiment's config (or pass a smaller one in overrides)",
          },
        );
      }
      if (!o.logitScale.learned) setLogitScale(session, t);
      lossSum += loss;
      lossSteps += 1;
      o.progress?.tick();
      const done = step + 1;
      if (done % s.eval_every === 0 || done === s.steps) await measure(done);
    }
    return {
      checkpoints,
      wallSeconds: (performance.now() - started) / 1000,
      backend: session.runtime.describe(),
    };
  } finally {
    await session.dispose();
  }
}

/** Put `t` back as the logit scale (weights and AdamW's moments otherwise unchanged). */
function setLogitScale(session: TrainingSession, t: number): void {
  const weights = session.stateDict();
  weights["logit_scale"][0] = t;
  session.loadState(session.optimizerState(), weights);
}

/**
 * The session's text tower as a text encoder for `zeroShotClassifier`: prompts in batches of the session's
 * size, padded to the context length (a causal tower's EOT output ignores the padding), with blank pictures
 * beside them (the forward graph runs both towers; only the text features are kept).
 */
function textEncoder(session: TrainingSession, tokenizer: ClipTokenizer, step: number): TextEncoderLike {
  const a = session.architecture, B = session.batchSize, D = a.embed_dim;
  const blank = new Float32Array(B * 3 * a.image_resolution * a.image_resolution); // [B, 3, R, R]
  const scale = Math.exp(session.stateDict()["logit_scale"][0]);
  return {
    id: `contrastive-run-step-${step}`,
    logitScale: scale,
    async encodeText(texts: string[]): Promise<Matrix> {
      const out = new Float32Array(texts.length * D); // [texts, D]
      for (let at = 0; at < texts.length; at += B) {
        const chunk = texts.slice(at, at + B);
        const n = chunk.length;
        while (chunk.length < B) chunk.push(chunk[0]);
        const { ids } = tokenizer.tokenize(chunk, { contextLength: a.context_length }); // [B, C]
        const { text } = await session.evaluate({ pixels: blank, ids, size: B });
        out.set(text!.subarray(0, n * D), at * D);
      }
      return new Matrix(out, texts.length, D);
    },
  };
}

/** Loss, logit scale and zero-shot accuracies of the session's current weights on the validation pictures. */
async function evaluate(
  session: TrainingSession,
  tokenizer: ClipTokenizer,
  validation: ReturnType<typeof generateBatch>,
  templates: readonly string[],
  step: number,
): Promise<Omit<ContrastiveCheckpoint, "step" | "examples" | "trainLoss">> {
  const a = session.architecture, B = session.batchSize, D = a.embed_dim, N = validation.captions.length;
  const plane = 3 * a.image_resolution * a.image_resolution;
  const features = new Float32Array(N * D); // [N, D]
  let lossSum = 0;
  for (let at = 0; at < N; at += B) {
    const { ids } = tokenizer.tokenize(validation.captions.slice(at, at + B), {
      contextLength: a.context_length,
    }); // [B, C]
    const out = await session.evaluate({
      pixels: validation.pixels.subarray(at * plane, (at + B) * plane),
      ids,
      size: B,
    });
    features.set(out.image, at * D);
    lossSum += out.loss;
  }
  const images = new Matrix(features, N, D);
  const text = textEncoder(session, tokenizer, step);
  const labels: Record<string, Int32Array> = {
    colour: validation.colourIndex,
    shape: validation.shapeIndex,
    combo: validation.comboIndex,
  };
  const zeroShot = {} as ZeroShotScores;
  for (const [key, task] of TASKS) {
    const head = await zeroShotClassifier(text, classNames(task), templates, { cache: false });
    zeroShot[key] = (await head.evaluate({ images, labels: Array.from(labels[key]) })).top1;
    if (task === "combo") {
      for (const [part, flag] of [["seen", 0], ["unseen", 1]] as const) {
        const rows = [...validation.heldOut.keys()].filter((i) => validation.heldOut[i] === flag);
        if (rows.length === 0) {
          throw new ExperimentError(`the ${N} validation pictures hold no ${part} combination`, {
            fix: "measure more validation pictures (validation_size 128 or more)",
          });
        }
        const subset = {
          images: selectRows(images, rows),
          labels: rows.map((i) => validation.comboIndex[i]),
        };
        zeroShot[part] = (await head.evaluate(subset)).top1;
      }
    }
  }
  return { valLoss: lossSum / (N / B), logitScale: text.logitScale, zeroShot };
}
