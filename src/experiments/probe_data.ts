/**
 * The data and the two heads the probe and robustness experiments share: a medium's pictures in the
 * train, validation and test splits, embedded by both models (zero-shot CLIP and the supervised
 * baseline), the labels of each suite task, a zero-shot head (ensemble of the dataset's templates) and a
 * linear probe (src/math/linear_probe.ts, C swept on validation data, refitted on train + validation).
 *
 * medium ─► suiteImages(train | validation | test, all | unseen) ─► preprocess ─► CLIP image features [N, D]
 *                                                                            └─► supervised features [N, D], logits [N, 80]
 * task ─► labels and which pictures count (seen: seen combinations; unseen: the held-out ones)
 * @module
 */
import {
  type SuiteDataset,
  type SuiteImages,
  suiteImages,
  type SuiteMedium,
  type SuiteTask,
} from "../data/suite.ts";
import type { ClipModel } from "../model/clip_model.ts";
import { Matrix, selectRows } from "../math/matrix.ts";
import { normalize } from "../math/similarity.ts";
import { linearProbe } from "../math/linear_probe.ts";
import { accuracyOf, classWeights, embedPrompts, type TextEncoderLike } from "../zeroshot/classifier.ts";
import { preprocessAll, supervisedOutputs } from "./supervised_baseline.ts";
import { type ArchitecturePreset, loadArchitecture } from "../model/architecture.ts";
import type { BackendChoice } from "../model/runtime.ts";

/** How many pictures of each split (per medium). */
export interface SplitSizes {
  /** Train-split pictures (seen combinations only, as in training) for the probes. */
  train_examples: number;
  /** Validation-split pictures (all combinations): the probes' C sweep. */
  validation_examples: number;
  /** Test-split pictures (all combinations): every reported accuracy. */
  test_examples: number;
  /** Validation and test pictures of held-out combinations (the unseen task). */
  unseen_examples: number;
}

/** The probes' sweep of C (a logarithmic grid, then a finer one around the best). */
export interface ProbeSweep {
  min: number;
  max: number;
  steps: number;
  refine_steps: number;
  /** L-BFGS iterations per fit at most. */
  max_iterations: number;
}

/** One split of a medium: its pictures' labels and both models' outputs. */
export interface EmbeddedSplit {
  labels: SuiteImages;
  /** CLIP image features `[N, D]` (the projection output, not normalised). */
  clip: Matrix;
  /** The supervised model's features `[N, D]` (the head's input). */
  supervised: Matrix;
  /** The supervised head's logits `[N, 80]`. */
  logits: Matrix;
  /** The pictures as the supervised model takes them, preprocessed: `[N, 3, R, R]`. */
  pixels: Float32Array;
}

/** A medium's splits, embedded. */
export interface EmbeddedMedium {
  medium: SuiteMedium;
  train: EmbeddedSplit;
  validation: EmbeddedSplit;
  test: EmbeddedSplit;
  validationUnseen: EmbeddedSplit;
  testUnseen: EmbeddedSplit;
}

/** Options of {@link embedMedium}. */
export interface EmbedOptions {
  seed: number;
  sizes: SplitSizes;
  clip: ClipModel;
  /** The supervised model: its preset and weights. */
  supervised: { model: ArchitecturePreset; weights: Record<string, Float32Array> };
  backend?: BackendChoice;
  threads?: number;
  /** Only these splits (default all; the others are left empty). */
  splits?: readonly ("train" | "validation" | "test" | "unseen")[];
}

async function embedSplit(images: SuiteImages, o: EmbedOptions): Promise<EmbeddedSplit> {
  const n = images.images.length, R = o.clip.imageSize;
  if (n === 0) {
    const empty = new Matrix(new Float32Array(0), 0, o.clip.dim);
    const none = new Matrix(new Float32Array(0), 0, 80);
    return { labels: images, clip: empty, supervised: empty, logits: none, pixels: new Float32Array(0) };
  }
  const pixels = preprocessAll(images.images, R, o.clip.preprocessOptions); // [N, 3, R, R]
  const clip = await o.clip.encodePixels(pixels, { progress: false });
  // the supervised tower's own side (the same as CLIP's for the shipped models)
  const side = loadArchitecture(o.supervised.model).image_resolution;
  const own = side === R
    ? pixels
    : preprocessAll(images.images, side, { ...o.clip.preprocessOptions, size: side, cropSize: side });
  const out = await supervisedOutputs(o.supervised.model, o.supervised.weights, own, o);
  return {
    labels: images,
    clip: new Matrix(new Float32Array(clip.data), n, clip.cols),
    supervised: new Matrix(out.features, n, out.features.length / n),
    logits: new Matrix(out.logits, n, out.logits.length / n),
    pixels: own,
  };
}

/** Every split of a medium, drawn and embedded by both models. */
export async function embedMedium(medium: SuiteMedium, o: EmbedOptions): Promise<EmbeddedMedium> {
  const s = o.sizes, seed = o.seed, want = new Set(o.splits ?? ["train", "validation", "test", "unseen"]);
  const n = (split: "train" | "validation" | "test" | "unseen", size: number) => (want.has(split) ? size : 0);
  return {
    medium,
    train: await embedSplit(
      suiteImages(medium, "train", n("train", s.train_examples), { seed, combos: "seen" }),
      o,
    ),
    validation: await embedSplit(
      suiteImages(medium, "validation", n("validation", s.validation_examples), { seed, combos: "all" }),
      o,
    ),
    test: await embedSplit(
      suiteImages(medium, "test", n("test", s.test_examples), { seed, combos: "all" }),
      o,
    ),
    validationUnseen: await embedSplit(
      suiteImages(medium, "validation", n("unseen", s.unseen_examples), { seed, combos: "unseen" }),
      o,
    ),
    testUnseen: await embedSplit(
      suiteImages(medium, "test", n("unseen", s.unseen_examples), { seed, combos: "unseen" }),
      o,
    ),
  };
}

/** Which rows of a split a task scores, and their labels. */
export function taskRows(task: SuiteTask, split: EmbeddedSplit): { rows: number[]; labels: Int32Array } {
  const l = split.labels, n = l.images.length;
  const all = [...Array(n).keys()];
  switch (task) {
    case "colour":
      return { rows: all, labels: l.colour };
    case "shape":
      return { rows: all, labels: l.shape };
    case "count":
      return { rows: all, labels: l.count };
    case "seen": {
      const rows = all.filter((i) => l.heldOut[i] === 0);
      return { rows, labels: Int32Array.from(rows, (i) => l.combo[i]) };
    }
    case "unseen":
      return { rows: all, labels: l.combo };
  }
}

/** The task's pictures of one split and one model's features: `{ x [n, D], y }`. */
export function taskData(task: SuiteTask, split: EmbeddedSplit, features: "clip" | "supervised" | "logits") {
  const { rows, labels } = taskRows(task, split);
  return { x: selectRows(split[features], rows), y: labels };
}

/** Share of `predicted` equal to `labels`. */
export function accuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  let hits = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) hits++;
  return labels.length ? hits / labels.length : 0;
}

/**
 * Zero-shot top-1 accuracy of CLIP on a dataset's test pictures with the ensemble of its templates, choosing
 * among `classes` (indices into the dataset's class names; default all of them), as the probe chooses among
 * the classes of its labels.
 */
export async function zeroShotAccuracy(
  clip: ClipModel,
  d: SuiteDataset,
  test: { x: Matrix; y: Int32Array },
  classes?: readonly number[],
): Promise<number> {
  const pick = classes ?? d.classes.map((_, i) => i);
  const quiet: TextEncoderLike = {
    id: clip.id,
    logitScale: clip.logitScale,
    encodeText: (texts: string[]) => clip.encodeText(texts, { progress: false }),
  };
  const prompts = await embedPrompts(quiet, pick.map((i) => d.classes[i]), d.templates, { cache: false });
  const at = new Map(pick.map((c, i) => [c, i]));
  const labels = Int32Array.from(test.y, (y) => at.get(y) ?? -1); // a class outside `classes` is never right
  return accuracyOf(classWeights(prompts), normalize(test.x), labels);
}

/** A fitted probe: predicted class indices (in the dataset's label space) and the chosen C. */
export interface FittedProbe {
  predict(x: Matrix): Int32Array;
  C: number;
  /** Classes the probe knows (those of its training labels), ascending. */
  classes: number[];
}

/**
 * A linear probe on `train`, C swept on `validation` (its rows of classes absent from `train` left out)
 * and refitted on both; without validation data, on a stratified fifth of `train`.
 */
export function fitProbe(
  train: { x: Matrix; y: Int32Array },
  validation: { x: Matrix; y: Int32Array } | null,
  sweep: ProbeSweep,
  seed: number,
): FittedProbe {
  const present = [...new Set(train.y)].sort((a, b) => a - b);
  const names = present.map(String);
  const known = new Set(present);
  let val: { features: Matrix; labels: string[] } | undefined;
  if (validation) {
    const rows = [...validation.y.keys()].filter((i) => known.has(validation.y[i]));
    val = { features: selectRows(validation.x, rows), labels: rows.map((i) => String(validation.y[i])) };
  }
  const probe = linearProbe(train.x, [...train.y].map(String), {
    classNames: names,
    validation: val,
    seed,
    sweep: { min: sweep.min, max: sweep.max, steps: sweep.steps, refineSteps: sweep.refine_steps },
    maxIterations: sweep.max_iterations,
    progress: false,
    threads: 1,
  });
  return {
    C: probe.C,
    classes: present,
    predict(x: Matrix): Int32Array {
      const top = probe.predict(x, { topK: 1 });
      return Int32Array.from(top, (p) => Number(p[0].label));
    },
  };
}
