/**
 * The supervised baseline the probe and robustness experiments compare zero-shot CLIP with: an image tower of
 * the shipped CLIP's size (the same ViT preset, `world-tiny`, at the CLIP's 40 px) and a linear head, trained by
 * cross-entropy on the labels of ONE dataset of the suite — the kit's "ImageNet": 80-way colour+shape on one
 * medium, the source (`icon` by default; the shipped `models/tiny-clip` saw icons, with captions and no labels,
 * among its five media). Seeded from end to end and cached on disk (weights at every checkpoint), so that both
 * experiments share one training run and a rerun gives the same numbers.
 *
 * seed ─► initSupervisedStateDict ─► SupervisedSession (AdamW, warm-up + cosine lr)
 * step s: the source's train examples s·B … s·B+B−1 at the tower's side R ─► labels: comboIndex ─► step
 *   (rendered at the medium's own size and resized by CLIP's preprocessing when that is not R)
 * every `eval_every` steps: accuracy on the source's validation split's seen combinations; weights kept
 * cache: $CLIPKIT_CACHE/supervised/<sha256 of schedule, source, seed, backend>/ (record.json, weights-STEP.f32)
 *
 * Also here: the shipped CLIP's training record (pictures seen, architecture, media; for the compute
 * comparison), the pictures of a medium preprocessed as CLIP's pipeline does, and the supervised features.
 * @module
 */
import { dirname, join } from "node:path";
import { createHash } from "node:crypto";
import { type ArchitecturePreset, type ClipArchitecture, loadArchitecture } from "../model/architecture.ts";
import type { BackendChoice } from "../model/runtime.ts";
import type { Progress } from "../model/progress.ts";
import { classNames, exampleSeed, generateBatch, generateExample, type Split } from "../data/shapes.ts";
import { SUITE_MEDIA, suiteDatasets, type SuiteMedium } from "../data/suite.ts";
import { MEDIA } from "../data/world.ts";
import type { DecodedImage } from "../image/types.ts";
import { preprocessInto, type PreprocessOptions } from "../image/preprocess.ts";
import { CLIP_MEAN, CLIP_STD } from "../constants.ts";
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
  /** Architecture preset of the image tower (the shipped CLIP's: `"world-tiny"`, 40 px). */
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
  /** Source validation pictures measured at each checkpoint (the seen combinations among them count). */
  validation_size: number;
}

/** One checkpoint of the supervised run. */
export interface SupervisedCheckpoint {
  step: number;
  /** Labelled pictures seen (step × batch). */
  examples: number;
  /** Mean training loss since the previous checkpoint (null at step 0). */
  trainLoss: number | null;
  /** 80-way accuracy of the head on the source's validation pictures of seen combinations. */
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
  /** Forward MACs per picture of the CLIP's image tower (equal to `macsPerImage` less the head: the same size). */
  clipMacsPerImage: number;
  /** The CLIP's image–caption pairs (its steps × batch, from its training.json or curve.json). */
  clipImages: number;
  /** The CLIP's training FLOPs: image tower + text tower (captions at the full context, an upper bound). */
  clipTrainingFlops: number;
  /** The CLIP's text context (tokens) the upper bound counts. */
  clipContext: number;
}

/** What the experiments need from the CLIP's training record. */
export interface ClipRecord {
  /** Training steps and pairs per step. */
  steps: number;
  batchSize: number;
  /** Image–caption pairs seen (steps × batch). */
  images: number;
  architecture: ClipArchitecture;
  /** The looks its pretraining showed (captions only, never labels). */
  media: SuiteMedium[];
  /** The file these came from. */
  file: "training.json" | "curve.json";
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
  /** The medium whose labels it was trained on. */
  source: SuiteMedium;
}

/**
 * The supervised baseline as a result's run record (the one run of the experiments that train it).
 *
 * @example
 * ```ts
 * import { supervisedRunRecord } from "./supervised_baseline.ts";
 * const checkpoints = [{ step: 0, examples: 0, trainLoss: null, validation: 0.0125 }];
 * supervisedRunRecord({ checkpoints, wallSeconds: 2.5, source: "icon" }, 0).settings; // → { task: "icon-seen" }
 * ```
 */
export function supervisedRunRecord(
  training: Pick<SupervisedTraining, "checkpoints" | "wallSeconds" | "source">,
  seed: number,
): RunRecord {
  return {
    name: "supervised",
    label: `supervised baseline (${training.source} colour+shape labels)`,
    seed,
    settings: { task: `${training.source}-seen` },
    checkpoints: training.checkpoints as unknown as RunRecord["checkpoints"],
    wallSeconds: training.wallSeconds,
  };
}

/** The 80 classes of the source task (colour + shape). */
export const SOURCE_CLASSES: readonly string[] = classNames("combo");

/** The medium the supervised baseline is trained on unless a config says otherwise. */
export const DEFAULT_SOURCE: SuiteMedium = "icon";

/** Check a source medium; throws {@link ExperimentError}. */
export function checkSource(source: unknown, field = "source"): asserts source is SuiteMedium {
  if (!(SUITE_MEDIA as readonly unknown[]).includes(source)) {
    throw new ExperimentError(`${field} ${JSON.stringify(source)} is not a medium of the suite`, {
      fix: `use one of ${SUITE_MEDIA.join(", ")}`,
    });
  }
}

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

/**
 * The compute of a schedule next to the CLIP's (its record: {@link readClipRecord}).
 *
 * @example
 * ```ts
 * import { computeOf, readClipRecord } from "./supervised_baseline.ts";
 * const clip = await readClipRecord("models/tiny-clip");
 * const s = { model: "world-tiny" as const, steps: 100, batch_size: 128, lr: 0.002, warmup_fraction: 0.1,
 *   weight_decay: 0.1, eval_every: 50, validation_size: 64 };
 * const c = computeOf(s, clip);
 * [c.images, c.clipImages, c.macsPerImage - c.clipMacsPerImage]; // → [12800, 1152000, 5120] (the head: 64 × 80)
 * ```
 */
export function computeOf(s: SupervisedSchedule, clip: ClipRecord): ComputeRecord {
  const a = loadArchitecture(s.model), macs = imageTowerMacs(a, SOURCE_CLASSES.length);
  const c = clip.architecture, images = s.steps * s.batch_size;
  return {
    images,
    macsPerImage: macs,
    trainingFlops: 6 * macs * images,
    clipMacsPerImage: imageTowerMacs(c),
    clipImages: clip.images,
    clipTrainingFlops: 6 * (imageTowerMacs(c) + textTowerMacs(c, c.context_length)) * clip.images,
    clipContext: c.context_length,
  };
}

/** The media a world recipe's `media_mix` draws from (`mixed`: all five). */
function mediaOfMix(mix: Record<string, number> | undefined): SuiteMedium[] {
  const keys = Object.entries(mix ?? { mixed: 1 }).filter(([, w]) => w > 0).map(([k]) => k);
  const media = new Set<SuiteMedium>();
  for (const k of keys) {
    if (k === "mixed") MEDIA.forEach((m) => media.add(m));
    else if ((SUITE_MEDIA as readonly string[]).includes(k)) media.add(k as SuiteMedium);
  }
  return SUITE_MEDIA.filter((m) => media.has(m));
}

/**
 * The training record of a CLIP model folder, in any of the formats the kit writes: `training.json` of
 * `deno task train-world` (`steps`, `images_seen`, `recipe`, `architecture`), `training.json` of
 * `deno task pretrain` (`train.steps` × `train.batch_size`, `config`; the classic pictures only), or, for a
 * media-world run older than `training.json`, `curve.json` (its `recipe`'s steps × batch size — the last
 * curve point's step when a time limit may have ended the run early — and `architecture`). Throws
 * {@link ExperimentError} when the folder has neither file or the file lacks the numbers.
 *
 * @example
 * ```ts
 * import { readClipRecord } from "./supervised_baseline.ts";
 * const r = await readClipRecord("models/tiny-clip");
 * [r.images, r.architecture.image_resolution, r.media.length]; // → [1152000, 40, 5]
 * (await readClipRecord("models/tiny-clip-classic")).media; // → ["classic"]
 * ```
 */
export async function readClipRecord(dir: string): Promise<ClipRecord> {
  const read = async (name: string) => {
    try {
      return JSON.parse(await Deno.readTextFile(join(dir, name))) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw new ExperimentError(`${name} of the CLIP cannot be read as JSON`, {
        path: join(dir, name),
        fix: "restore the file from the repository, or retrain the model",
        cause: error,
      });
    }
  };
  const bad = (name: string, what: string): never => {
    throw new ExperimentError(`${name} of the CLIP lacks ${what}`, {
      path: join(dir, name),
      fix: "restore the file from the repository, or retrain the model (the trainer writes it)",
    });
  };
  const whole = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v > 0;
  // deno-lint-ignore no-explicit-any
  type Loose = any;
  const training = await read("training.json") as Loose;
  if (training) {
    if (training.train) { // `deno task pretrain` (the classic world)
      const { steps, batch_size } = training.train;
      if (!whole(steps) || !whole(batch_size)) bad("training.json", "train.steps and train.batch_size");
      if (!training.config) bad("training.json", "config (the architecture)");
      return {
        steps,
        batchSize: batch_size,
        images: steps * batch_size,
        architecture: training.config,
        media: ["classic"],
        file: "training.json",
      };
    }
    const batch = training.recipe?.batch_size, steps = training.steps;
    if (!whole(steps) || !whole(batch)) bad("training.json", "steps and recipe.batch_size");
    if (!training.architecture) bad("training.json", "architecture");
    return {
      steps,
      batchSize: batch,
      images: whole(training.images_seen) ? training.images_seen : steps * batch,
      architecture: training.architecture,
      media: mediaOfMix(training.recipe.media_mix),
      file: "training.json",
    };
  }
  const curve = await read("curve.json") as Loose;
  if (!curve) {
    throw new ExperimentError(
      `the CLIP folder has neither training.json nor curve.json: how many pictures it was trained on is unknown`,
      {
        path: dir,
        fix:
          "point the config's clip at a model folder trained by `deno task train-world` or `deno task pretrain` " +
          "(both write a training record), or copy the record beside the model",
      },
    );
  }
  const recipe = curve.recipe;
  if (!whole(recipe?.steps) || !whole(recipe?.batch_size)) {
    bad("curve.json", "recipe.steps and recipe.batch_size");
  }
  if (!curve.architecture) bad("curve.json", "architecture");
  const last = Array.isArray(curve.curve) ? curve.curve.at(-1)?.step : undefined;
  const steps = recipe.time_limit_s > 0 && whole(last) ? Math.min(last, recipe.steps) : recipe.steps;
  return {
    steps,
    batchSize: recipe.batch_size,
    images: steps * recipe.batch_size,
    architecture: curve.architecture,
    media: mediaOfMix(recipe.media_mix),
    file: "curve.json",
  };
}

/** The cache folder of a run. */
function cacheDirOf(s: SupervisedSchedule, source: SuiteMedium, seed: number, backend: string): string {
  const key = createHash("sha256").update(
    JSON.stringify({ format: 2, schedule: s, seed, backend, task: `${source}-combo` }),
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
  /** The medium whose labelled pictures it learns from (default {@link DEFAULT_SOURCE}). */
  source?: SuiteMedium;
}

/** A medium's picture side as the suite draws it (40 for the media world, 32 for the classic world). */
export function nativeSize(medium: SuiteMedium): number {
  return suiteDatasets().find((d) => d.medium === medium)!.size;
}

/**
 * Examples `offset … offset + n − 1` of a split of `medium` as a tower of side `R` takes them: `[n, 3, R, R]`
 * pixels and their colour+shape labels. At the medium's own side they are drawn straight at `R`
 * (`generateBatch`); otherwise drawn at the medium's side and resized by CLIP's preprocessing, as the
 * experiments' test pictures are (`probe_data.ts`).
 *
 * @example
 * ```ts
 * import { sourceBatch } from "./supervised_baseline.ts";
 * const b = sourceBatch(0, 2, "train", 0, "classic", 40);
 * [b.pixels.length, b.comboIndex.length]; // → [9600, 2] (classic pictures drawn at 32 px, resized to 40)
 * ```
 */
export function sourceBatch(
  seed: number,
  n: number,
  split: Split,
  offset: number,
  medium: SuiteMedium,
  R: number,
): { pixels: Float32Array; comboIndex: Int32Array; heldOut: Uint8Array } {
  if (nativeSize(medium) === R) {
    const b = generateBatch(seed, n, { split, offset, size: R, medium });
    return { pixels: b.pixels, comboIndex: b.comboIndex, heldOut: b.heldOut };
  }
  const images: DecodedImage[] = [], comboIndex = new Int32Array(n), heldOut = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const ex = generateExample(exampleSeed(seed, split, offset + i), { split, medium });
    images.push({ width: ex.size, height: ex.size, mode: "RGBA", data: ex.rgba, format: "RAW" });
    comboIndex[i] = ex.comboIndex;
    heldOut[i] = ex.heldOut ? 1 : 0;
  }
  const pixels = preprocessAll(images, R, { size: R, cropSize: R, mean: CLIP_MEAN, std: CLIP_STD }); // [n, 3, R, R]
  return { pixels, comboIndex, heldOut };
}

/**
 * Train the supervised baseline (or read the same run from the cache); see the module documentation.
 *
 * @example
 * ```ts
 * import { trainSupervised } from "./supervised_baseline.ts";
 * const r = await trainSupervised({ model: "world-tiny", steps: 4, batch_size: 16, lr: 0.002,
 *   warmup_fraction: 0.25, weight_decay: 0.1, eval_every: 2, validation_size: 64 }, 0, { cache: false });
 * [r.source, r.checkpoints.map((c) => c.step)]; // → ["icon", [0, 2, 4]]
 * ```
 */
export async function trainSupervised(
  s: SupervisedSchedule,
  seed: number,
  o: TrainSupervisedOptions = {},
): Promise<SupervisedTraining> {
  checkSupervisedSchedule(s);
  const source = o.source ?? DEFAULT_SOURCE;
  checkSource(source);
  const backend = o.backend ?? "node";
  const dir = cacheDirOf(s, source, seed, backend);
  if (o.cache !== false) {
    const hit = await readCache(dir, s);
    if (hit) {
      o.progress?.tick(s.steps);
      return { ...hit.record, snapshots: hit.snapshots, cached: true, source };
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
    const validation = sourceBatch(seed, s.validation_size, "validation", 0, source, R);
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
      const batch = sourceBatch(seed, B, "train", step * B, source, R);
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
    return { ...record, snapshots, cached: false, source };
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
