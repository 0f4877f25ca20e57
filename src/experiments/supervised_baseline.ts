/**
 * The supervised baseline the probe and robustness experiments compare zero-shot CLIP with: the tiny CLIP's
 * image tower (the same ViT preset) and a linear head, trained by cross-entropy on the labels of ONE dataset
 * of the suite — the kit's "ImageNet": 80-way colour+shape on the classic medium, the pictures the shipped
 * `models/tiny-clip` was trained on with captions. Seeded from end to end and cached on disk (weights at
 * every checkpoint), so that both experiments share one training run and a rerun gives the same numbers.
 *
 * seed ─► initSupervisedStateDict ─► SupervisedSession (AdamW, warm-up + cosine lr)
 * step s: the train split's examples s·B … s·B+B−1 (generateBatch, classic) ─► labels: comboIndex ─► step
 * every `eval_every` steps: accuracy on the classic validation split's seen combinations; weights kept
 * cache: $CLIPKIT_CACHE/supervised/<sha256 of schedule, seed, backend>/ (record.json, weights-STEP.f32)
 *
 * Also here: the pictures of a medium, preprocessed as CLIP's pipeline does, and the features of both models.
 * @module
 */
import { dirname, join } from "node:path";
import { createHash } from "node:crypto";
import { type ArchitecturePreset, loadArchitecture } from "../model/architecture.ts";
import type { BackendChoice } from "../model/runtime.ts";
import type { Progress } from "../model/progress.ts";
import { classNames, generateBatch } from "../data/shapes.ts";
import type { DecodedImage } from "../image/types.ts";
import { preprocessInto, type PreprocessOptions } from "../image/preprocess.ts";
import { defaultCacheDir } from "../zeroshot/text_cache.ts";
import { writeAtomic } from "../fs.ts";
import type { RunRecord } from "./result.ts";
import { type EngineArchitecture, flatten, unflatten } from "../train/mod.ts";
import {
  imageTowerMacs,
  initSupervisedStateDict,
  supervisedLayout,
  SupervisedSession,
} from "../train/engine/supervised.ts";
import { cosineLr } from "../train/schedule.ts";
import { ExperimentError, TrainingDivergedError } from "../errors.ts";

/** How the supervised baseline trains (fields as in the experiment configs' `supervised` block). */
export interface SupervisedSchedule {
  /** Architecture preset of the image tower (the tiny CLIP's: `"tiny"`). */
  model: ArchitecturePreset;
  /** AdamW updates. */
  steps: number;
  /** Labelled pictures per step. */
  batch_size: number;
  lr: number;
  warmup_fraction: number;
  weight_decay: number;
  /** Steps between two checkpoints (weights kept, validation accuracy measured). */
  eval_every: number;
  /** Classic validation pictures measured at each checkpoint (the seen combinations among them count). */
  validation_size: number;
}

/** One checkpoint of the supervised run. */
export interface SupervisedCheckpoint {
  step: number;
  /** Labelled pictures seen (step × batch). */
  examples: number;
  /** Mean training loss since the previous checkpoint (null at step 0). */
  trainLoss: number | null;
  /** 80-way accuracy of the head on the classic validation pictures of seen combinations. */
  validation: number;
}

/** Training compute, as multiply–adds (MACs) of matrix products; FLOPs = 2 × MACs, training ≈ 3 forward passes. */
export interface ComputeRecord {
  /** Pictures through the supervised model (steps × batch). */
  images: number;
  /** Forward MACs per picture of the image tower and head. */
  macsPerImage: number;
  /** ≈ 6 × macsPerImage × images. */
  trainingFlops: number;
  /** The shipped CLIP's pictures (its steps × batch, from models/tiny-clip/training.json). */
  clipImages: number;
  /** The shipped CLIP's training FLOPs: image tower + text tower (captions at the full 24-token context, an upper bound). */
  clipTrainingFlops: number;
}

/** What {@link trainSupervised} returns. */
export interface SupervisedTraining {
  checkpoints: SupervisedCheckpoint[];
  /** Weights at every checkpoint, by step. */
  snapshots: Map<number, Record<string, Float32Array>>;
  /** Seconds of the training run (the original run's, when read from the cache). */
  wallSeconds: number;
  backend: string;
  /** Whether the run was read from the cache. */
  cached: boolean;
  compute: ComputeRecord;
}

/**
 * The supervised baseline as a result's run record (the one run of the experiments that train it).
 *
 * @example
 * ```ts
 * import { supervisedRunRecord } from "./supervised_baseline.ts";
 * const checkpoints = [{ step: 0, examples: 0, trainLoss: null, validation: 0.0125 }];
 * supervisedRunRecord({ checkpoints, wallSeconds: 2.5 }, 0).settings; // → { task: "classic-seen" }
 * ```
 */
export function supervisedRunRecord(
  training: Pick<SupervisedTraining, "checkpoints" | "wallSeconds">,
  seed: number,
): RunRecord {
  return {
    name: "supervised",
    label: "supervised baseline (classic colour+shape labels)",
    seed,
    settings: { task: "classic-seen" },
    checkpoints: training.checkpoints as unknown as RunRecord["checkpoints"],
    wallSeconds: training.wallSeconds,
  };
}

/** The 80 classes of the source task (colour + shape). */
export const SOURCE_CLASSES: readonly string[] = classNames("combo");

/** The shipped CLIP's training run (steps × batch), for the compute comparison. */
const CLIP_STEPS = 4500, CLIP_BATCH = 128;

/** Check a schedule; throws {@link ExperimentError} naming the field. */
export function checkSupervisedSchedule(s: SupervisedSchedule): void {
  for (const f of ["steps", "batch_size", "eval_every", "validation_size"] as const) {
    if (!Number.isInteger(s[f]) || s[f] < 1) {
      throw new ExperimentError(`supervised.${f} = ${s[f]} is not a whole number ≥ 1`, {
        fix: `set ${f} to 1 or more`,
      });
    }
  }
  if (!(s.lr > 0) || !Number.isFinite(s.lr)) {
    throw new ExperimentError(`supervised.lr = ${s.lr} is not a positive number`, {
      fix: "use e.g. lr 0.002",
    });
  }
  if (!(s.warmup_fraction >= 0 && s.warmup_fraction < 1)) {
    throw new ExperimentError(`supervised.warmup_fraction = ${s.warmup_fraction} is outside [0, 1)`, {
      fix: "use e.g. 0.1",
    });
  }
  if (!(s.weight_decay >= 0)) {
    throw new ExperimentError(`supervised.weight_decay = ${s.weight_decay} is negative`, {
      fix: "use e.g. 0.1",
    });
  }
  loadArchitecture(s.model);
}

/** Forward MACs per caption of a CLIP text tower at `L` tokens. */
function textTowerMacs(a: EngineArchitecture, L: number): number {
  const W = a.transformer_width;
  return a.transformer_layers * (L * W * 3 * W + 2 * L * L * W + L * W * W + 2 * L * W * 4 * W) +
    W * a.embed_dim;
}

/** The compute of a schedule next to the shipped CLIP's. */
export function computeOf(s: SupervisedSchedule): ComputeRecord {
  const a = loadArchitecture(s.model), macs = imageTowerMacs(a, SOURCE_CLASSES.length);
  const images = s.steps * s.batch_size, clipImages = CLIP_STEPS * CLIP_BATCH;
  return {
    images,
    macsPerImage: macs,
    trainingFlops: 6 * macs * images,
    clipImages,
    clipTrainingFlops: 6 * (imageTowerMacs(a) + textTowerMacs(a, a.context_length)) * clipImages,
  };
}

/** The cache folder of a run. */
function cacheDirOf(s: SupervisedSchedule, seed: number, backend: string): string {
  const key = createHash("sha256").update(
    JSON.stringify({ format: 1, schedule: s, seed, backend, task: "classic-combo" }),
  )
    .digest("hex");
  return join(dirname(defaultCacheDir()), "supervised", key);
}

interface CacheRecord {
  checkpoints: SupervisedCheckpoint[];
  wallSeconds: number;
  backend: string;
}

async function readCache(
  dir: string,
  s: SupervisedSchedule,
): Promise<{ record: CacheRecord; snapshots: Map<number, Record<string, Float32Array>> } | null> {
  try {
    const record = JSON.parse(await Deno.readTextFile(join(dir, "record.json"))) as CacheRecord;
    const layout = supervisedLayout(loadArchitecture(s.model), SOURCE_CLASSES.length);
    const snapshots = new Map<number, Record<string, Float32Array>>();
    for (const c of record.checkpoints) {
      const bytes = await Deno.readFile(join(dir, `weights-${c.step}.f32`));
      if (bytes.length !== layout.total * 4) return null;
      snapshots.set(
        c.step,
        unflatten(layout, new Float32Array(bytes.buffer, bytes.byteOffset, layout.total)),
      );
    }
    return { record, snapshots };
  } catch {
    return null;
  }
}

/** Options of {@link trainSupervised}. */
export interface TrainSupervisedOptions {
  backend?: BackendChoice;
  threads?: number;
  /** Ticked once per step (not when read from the cache). */
  progress?: Progress;
  /** Read and write the cache (default true). */
  cache?: boolean;
}

/**
 * Train the supervised baseline (or read the same run from the cache); see the module documentation.
 *
 * @example
 * ```ts
 * import { trainSupervised } from "./supervised_baseline.ts";
 * const r = await trainSupervised({ model: "tiny", steps: 4, batch_size: 16, lr: 0.002, warmup_fraction: 0.25,
 *   weight_decay: 0.1, eval_every: 2, validation_size: 64 }, 0, { cache: false });
 * r.checkpoints.map((c) => c.step); // → [0, 2, 4]
 * ```
 */
export async function trainSupervised(
  s: SupervisedSchedule,
  seed: number,
  o: TrainSupervisedOptions = {},
): Promise<SupervisedTraining> {
  checkSupervisedSchedule(s);
  const backend = o.backend ?? "node";
  const dir = cacheDirOf(s, seed, backend);
  const compute = computeOf(s);
  if (o.cache !== false) {
    const hit = await readCache(dir, s);
    if (hit) {
      o.progress?.tick(s.steps);
      return { ...hit.record, snapshots: hit.snapshots, cached: true, compute };
    }
  }
  const a = loadArchitecture(s.model), K = SOURCE_CLASSES.length, R = a.image_resolution, B = s.batch_size;
  const session = await SupervisedSession.create(a, K, initSupervisedStateDict(a, K, seed), {
    backend,
    threads: o.threads,
    batchSize: B,
    weightDecay: s.weight_decay,
  });
  try {
    const validation = generateBatch(seed, s.validation_size, { split: "validation", size: R });
    const seen = [...validation.heldOut.keys()].filter((i) => validation.heldOut[i] === 0);
    const warmup = Math.round(s.warmup_fraction * s.steps);
    const checkpoints: SupervisedCheckpoint[] = [];
    const snapshots = new Map<number, Record<string, Float32Array>>();
    const started = performance.now();
    let lossSum = 0, lossSteps = 0;
    const measure = async (step: number) => {
      const { logits } = await session.features(validation.pixels, s.validation_size); // [N, K]
      let hits = 0;
      for (const i of seen) if (argmax(logits, i * K, K) === validation.comboIndex[i]) hits++;
      checkpoints.push({
        step,
        examples: step * B,
        trainLoss: lossSteps ? lossSum / lossSteps : null,
        validation: seen.length ? hits / seen.length : 0,
      });
      snapshots.set(step, session.stateDict());
      lossSum = 0;
      lossSteps = 0;
    };
    await measure(0);
    for (let step = 0; step < s.steps; step++) {
      const batch = generateBatch(seed, B, { split: "train", offset: step * B, size: R });
      const lr = cosineLr(step, s.steps, warmup, s.lr);
      const loss = await session.step(batch.pixels, batch.comboIndex, lr);
      if (!Number.isFinite(loss)) {
        throw new TrainingDivergedError(`the supervised loss became ${loss} at step ${step}`, {
          fix: "lower supervised.lr in the experiment's config",
        });
      }
      lossSum += loss;
      lossSteps += 1;
      o.progress?.tick();
      const done = step + 1;
      if (done % s.eval_every === 0 || done === s.steps) await measure(done);
    }
    const record: CacheRecord = {
      checkpoints,
      wallSeconds: (performance.now() - started) / 1000,
      backend: session.runtime.describe(),
    };
    if (o.cache !== false) {
      const layout = session.layout;
      await Deno.mkdir(dir, { recursive: true });
      for (const [step, w] of snapshots) {
        await writeAtomic(join(dir, `weights-${step}.f32`), new Uint8Array(flatten(layout, w).buffer));
      }
      await writeAtomic(join(dir, "record.json"), JSON.stringify(record)); // written last: marks the folder complete
    }
    return { ...record, snapshots, cached: false, compute };
  } finally {
    await session.dispose();
  }
}

/** Index of the largest of `n` values of `v` from `at`. */
export function argmax(v: ArrayLike<number>, at: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (v[at + j] > v[at + best]) best = j;
  return best;
}

/** Pictures preprocessed as CLIP's pipeline does (resize to the model's side, normalise): `[N, 3, R, R]`. */
export function preprocessAll(
  images: readonly DecodedImage[],
  size: number,
  options: PreprocessOptions,
): Float32Array {
  const chw = 3 * size * size;
  const pixels = new Float32Array(images.length * chw); // [N, 3, R, R]
  images.forEach((image, i) => preprocessInto(image, pixels, i * chw, options));
  return pixels;
}

/** Features `[N, D]` and head logits `[N, K]` of the supervised model with `weights` on preprocessed pixels. */
export async function supervisedOutputs(
  model: ArchitecturePreset,
  weights: Record<string, Float32Array>,
  pixels: Float32Array,
  o: { backend?: BackendChoice; threads?: number } = {},
): Promise<{ features: Float32Array; logits: Float32Array }> {
  const a = loadArchitecture(model), R = a.image_resolution, n = pixels.length / (3 * R * R);
  const session = await SupervisedSession.create(a, SOURCE_CLASSES.length, weights, {
    backend: o.backend ?? "node",
    threads: o.threads,
    batchSize: 1,
  });
  try {
    return await session.features(pixels, n);
  } finally {
    await session.dispose();
  }
}
