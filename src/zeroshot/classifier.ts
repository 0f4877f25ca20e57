/**
 * Zero-shot classification: a classifier made of nothing but prompts.
 *
 * Each class's prompts ("a photo of a {}." × every name of the class) are embedded, normalised, averaged and
 * renormalised (CLIP's prompt ensembling); the resulting unit vectors are the rows of the head. An image
 * is scored by `logitScale × cosine` with every row, and a softmax turns the scores into probabilities.
 */
import { assertFinite, matmulT, Matrix, scale } from "../math/matrix.ts";
import { argmaxRows, assertTemperature, normalize, softmax, topK } from "../math/similarity.ts";
import { assertClassNames, assertDistinctClassNames, assertTemplates, fillTemplate } from "./templates.ts";
import { InputError, MatrixShapeError, TemplateError, TopKError } from "../errors.ts";
import { TextEmbeddingCache, type TextEncoderLike } from "./text_cache.ts";

export type { TextEncoderLike } from "./text_cache.ts";

/** What scoring raw images needs from a model (`ClipModel` has it). `I` is whatever it accepts as an image. */
export interface ImageEncoderLike<I = unknown> {
  /** Raw (unnormalised) image embeddings, `[images.length, D]`. */
  encodeImages(images: I[]): Promise<Matrix>;
}

/** A model for {@link zeroShotClassifier}: a text encoder, and optionally an image encoder. */
export type ZeroShotModel<I = unknown> = TextEncoderLike & Partial<ImageEncoderLike<I>>;

/** A class: one name, or several names (synonyms) whose prompts are all averaged. */
export type ClassName = string | readonly string[];

/** Images as embeddings (`[N, D]`, raw or normalised) or as inputs for `model.encodeImages`. */
export type ImagesOrEmbeddings<I = unknown> = Matrix | I[];

/** One predicted class. */
export interface Prediction {
  /** The class's display name (its first name). */
  label: string;
  /** The class's index in `classNames`. */
  index: number;
  /** Probability: softmax over all classes of `logitScale × cosine`. */
  score: number;
}

/** Labelled images for {@link ZeroShotClassifier.evaluate}: labels are class indices or display names. */
export interface LabeledImages<I = unknown> {
  /** The images (paths, bytes, decoded images) or their embeddings. */
  images: ImagesOrEmbeddings<I>;
  /** One label per image. */
  labels: readonly (number | string)[];
}

/** Accuracy of a classifier on labelled images. */
export interface Evaluation {
  /** Share of images whose best class is right. */
  top1: number;
  /** Share whose right class is among the best five (among all, with fewer than five classes). */
  top5: number;
  /** Number of images. */
  count: number;
  /** Per class: how many images carry that label and the top-1 accuracy on them (NaN when none). */
  perClass: { label: string; index: number; count: number; top1: number }[];
  /** `confusion[true][predicted]`: image counts, `[classes, classes]`. */
  confusion: number[][];
}

/** Options of {@link zeroShotClassifier}. */
export interface ZeroShotOptions {
  /** Disk cache for the prompt embeddings: a cache, a folder for one, or `false` (default: the default cache). */
  cache?: TextEmbeddingCache | string | false;
  /** Overrides `model.logitScale` for probabilities. */
  logitScale?: number;
  /**
   * Keep a name that appears in two classes (default false: a `TemplateError`, since both classes get the same
   * prompts and split its probability). CLIP's ImageNet list has "missile" twice: pass true to reproduce it.
   */
  allowDuplicateNames?: boolean;
}

/** A zero-shot head. */
export interface ZeroShotClassifier<I = unknown> {
  /** Display names, one per class (a class's first name). */
  classNames: string[];
  /** Every name of every class. */
  classNameLists: string[][];
  /** The templates the head averages over. */
  templates: string[];
  /** Unit class embeddings, `[classes, D]`. */
  weights: Matrix;
  /** Multiplier of cosines into logits. */
  logitScale: number;
  /** Unit image embeddings of images (encoded with the model) or of given embeddings. */
  embedImages(images: ImagesOrEmbeddings<I>): Promise<Matrix>;
  /** `logitScale × cosine`, `[images, classes]`. */
  logits(images: ImagesOrEmbeddings<I>): Promise<Matrix>;
  /** Class probabilities, `[images, classes]`, rows sum to 1. */
  probabilities(images: ImagesOrEmbeddings<I>): Promise<Matrix>;
  /** The `topK` (default 1) most probable classes of each image, best first. */
  predict(images: ImagesOrEmbeddings<I>, options?: { topK?: number }): Promise<Prediction[][]>;
  /** Top-1/top-5 accuracy, per-class accuracy and the confusion matrix on labelled images. */
  evaluate(dataset: LabeledImages<I>): Promise<Evaluation>;
}

/** The prompts of a head and their embeddings, laid out class by class. */
export interface PromptEmbeddings {
  /** Each class's names (the first is its display name). */
  classNameLists: string[][];
  /** The templates, in order. */
  templates: string[];
  /** Unit prompt embeddings, one row per (class, name, template). */
  embeddings: Matrix;
  /** `rows[class][name][template]` → row of `embeddings`. */
  rows: number[][][];
}

/** Turn `classNames` into lists of names, after checking them (a name in two classes is refused unless allowed). */
export function classNameLists(
  classNames: readonly ClassName[],
  options: { allowDuplicateNames?: boolean } = {},
): string[][] {
  assertClassNames(classNames);
  if (!options.allowDuplicateNames) assertDistinctClassNames(classNames);
  return classNames.map((c) => typeof c === "string" ? [c] : [...c]);
}

function openCache(cache: ZeroShotOptions["cache"]): TextEmbeddingCache | undefined {
  if (cache === false) return undefined;
  if (cache instanceof TextEmbeddingCache) return cache;
  return new TextEmbeddingCache(cache);
}

/**
 * Embed every prompt (template × name × class) once, through the disk cache, as unit rows.
 * @example
 * ```ts
 * import { embedPrompts } from "./classifier.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const p = await embedPrompts(model, ["circle", ["square", "box"]], ["a {}."]);
 * p.embeddings.rows; // → 3 (circle; square; box)
 * p.rows[1]; // → [[1], [2]]
 * ```
 */
export async function embedPrompts(
  model: TextEncoderLike,
  classNames: readonly ClassName[],
  templates: readonly string[],
  options: ZeroShotOptions = {},
): Promise<PromptEmbeddings> {
  const lists = classNameLists(classNames, options);
  assertTemplates(templates);
  const texts: string[] = [];
  const rows = lists.map((names) =>
    names.map((name) =>
      templates.map((t) => {
        texts.push(fillTemplate(t, name));
        return texts.length - 1;
      })
    )
  );
  const cache = openCache(options.cache);
  const raw = cache ? await cache.encode(model, texts) : await model.encodeText(texts); // [prompts, D]
  if (raw.rows !== texts.length) {
    throw new MatrixShapeError(`encodeText returned ${raw.rows} rows for ${texts.length} prompts`, {
      fix: "make the model's encodeText return one row per text",
    });
  }
  return { classNameLists: lists, templates: [...templates], embeddings: normalize(raw), rows }; // checks NaN/Inf
}

/**
 * Class weights from unit prompt embeddings: for each class, the mean of its prompts' unit embeddings over
 * every name and the chosen templates (indices into `prompts.templates`), renormalised. `[classes, D]`.
 * @example
 * ```ts
 * import { classWeights, embedPrompts } from "./classifier.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const prompts = await embedPrompts(model, ["circle", ["square", "box"]], ["a picture of a {}.", "a {}."]);
 * classWeights(prompts).shape; // → [2, 64]: every template
 * classWeights(prompts, [1]).shape; // → [2, 64]: from "a {}." only
 * ```
 */
export function classWeights(prompts: PromptEmbeddings, templateIndices?: readonly number[]): Matrix {
  const use = templateIndices ?? prompts.templates.map((_, t) => t);
  if (use.length === 0) {
    throw new TemplateError("no templates chosen", { fix: "pick at least one template index" });
  }
  const { rows } = prompts;
  const { data, cols: d } = prompts.embeddings;
  const out = new Float32Array(rows.length * d); // [classes, D]
  const sum = new Float64Array(d);
  rows.forEach((names, c) => {
    sum.fill(0);
    for (const byTemplate of names) {
      for (const t of use) {
        const r = byTemplate[t];
        if (r === undefined) {
          throw new InputError(`template index ${t} is outside 0…${prompts.templates.length - 1}`, {
            fix: `choose template indices from 0 to ${prompts.templates.length - 1}`,
          });
        }
        const base = r * d;
        for (let k = 0; k < d; k++) sum[k] += data[base + k];
      }
    }
    let ss = 0;
    for (let k = 0; k < d; k++) ss += sum[k] * sum[k];
    const norm = Math.sqrt(ss) || 1;
    for (let k = 0; k < d; k++) out[c * d + k] = sum[k] / norm;
  });
  return new Matrix(out, rows.length, d);
}

/**
 * Unit embeddings of `images`: given embeddings are checked and normalised; inputs go through the model.
 * @example
 * ```ts
 * import { embedImages } from "./classifier.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const unit = await embedImages(model, ["models/samples/01_red_circle.png", "models/samples/06_blue_square.png"]);
 * unit.shape; // → [2, 64]
 * Math.hypot(...unit.row(0)).toFixed(4); // → "1.0000"
 * ```
 */
export async function embedImages<I>(
  model: Partial<ImageEncoderLike<I>>,
  images: ImagesOrEmbeddings<I>,
  width?: number,
): Promise<Matrix> {
  let e: Matrix;
  if (images instanceof Matrix) {
    e = images;
  } else {
    if (!Array.isArray(images)) {
      const looksLikeMatrix = typeof images === "object" && images !== null && "rows" in images &&
        "cols" in images && "data" in images;
      throw new InputError(
        looksLikeMatrix
          ? "images is a plain { rows, cols, data } object, not a Matrix of embeddings"
          : `images must be a list of images or a Matrix of embeddings, got ${
            images === null ? "null" : typeof images
          }`,
        {
          fix: looksLikeMatrix
            ? "wrap it: new Matrix(data, rows, cols) (a Float32Array, row-major), or Matrix.fromRows(rows)"
            : "pass [image, …] (paths, bytes, decoded images) or the Matrix that model.encodeImages returned",
        },
      );
    }
    if (typeof model.encodeImages !== "function") {
      throw new InputError("this model cannot encode images (no encodeImages)", {
        fix: "pass image embeddings as a Matrix instead",
      });
    }
    if (images.length === 0) {
      throw new InputError("no images given", {
        fix: "pass at least one image, or a Matrix of image embeddings",
      });
    }
    e = await model.encodeImages(images);
  }
  if (width !== undefined && e.cols !== width) {
    throw new MatrixShapeError(
      `image embeddings are ${e.cols} wide but the class weights are ${width} wide`,
      {
        fix: "embed the images with the same model as the prompts",
      },
    );
  }
  assertFinite(e, "image embeddings");
  return normalize(e);
}

/** Class index of each label (an index or a display name). */
export function labelIndices(
  labels: readonly (number | string)[],
  classNames: readonly string[],
): Int32Array {
  const byName = new Map(classNames.map((n, i) => [n, i]));
  return Int32Array.from(labels, (l, i) => {
    const c = typeof l === "number" ? l : byName.get(l);
    if (c === undefined || !Number.isInteger(c) || c < 0 || c >= classNames.length) {
      throw new InputError(`label ${i} is ${JSON.stringify(l)}, which is no class`, {
        fix: `use a class index 0…${classNames.length - 1} or one of the class names (${
          classNames.slice(0, 3).map((n) => JSON.stringify(n)).join(", ")
        }, …)`,
      });
    }
    return c;
  });
}

/**
 * Top-1 accuracy of unit class weights on unit image embeddings.
 * @example
 * ```ts
 * import { accuracyOf } from "./classifier.ts";
 * import { Matrix } from "../math/matrix.ts";
 * accuracyOf(Matrix.fromRows([[1, 0], [0, 1]]), Matrix.fromRows([[1, 0], [0.6, 0.8]]), Int32Array.of(0, 0)); // → 0.5
 * ```
 */
export function accuracyOf(weights: Matrix, images: Matrix, labels: Int32Array): number {
  const best = argmaxRows(matmulT(images, weights)); // [N] from [N, classes]
  let hits = 0;
  best.forEach((c, i) => hits += c === labels[i] ? 1 : 0);
  return labels.length ? hits / labels.length : NaN;
}

/**
 * Accuracy figures from `[N, classes]` scores and true class indices.
 * @example
 * ```ts
 * import { evaluateScores } from "./classifier.ts";
 * import { Matrix } from "../math/matrix.ts";
 * const scores = Matrix.fromRows([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3]]); // [images, classes]
 * const e = evaluateScores(scores, Int32Array.of(0, 1, 1), ["circle", "square"]);
 * [e.top1, e.count]; // → [0.6666666666666666, 3]
 * e.confusion; // → [[1, 0], [1, 1]] (rows: true class, columns: predicted)
 * ```
 */
export function evaluateScores(
  scores: Matrix,
  labels: Int32Array,
  classNames: readonly string[],
): Evaluation {
  if (scores.rows !== labels.length) {
    throw new MatrixShapeError(`${scores.rows} images but ${labels.length} labels`, {
      fix: "give one label per image",
    });
  }
  const C = classNames.length;
  const k5 = Math.min(5, C);
  const best = topK(scores, k5);
  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  const count = new Array<number>(C).fill(0), hits = new Array<number>(C).fill(0);
  let top1 = 0, top5 = 0;
  best.forEach((row, i) => {
    const y = labels[i];
    confusion[y][row[0].index]++;
    count[y]++;
    if (row[0].index === y) {
      top1++;
      hits[y]++;
    }
    if (row.some((p) => p.index === y)) top5++;
  });
  const n = labels.length;
  return {
    top1: n ? top1 / n : NaN,
    top5: n ? top5 / n : NaN,
    count: n,
    perClass: classNames.map((label, index) => ({
      label,
      index,
      count: count[index],
      top1: count[index] ? hits[index] / count[index] : NaN,
    })),
    confusion,
  };
}

/**
 * Build a zero-shot classifier from class names and prompt templates (CLIP's prompt ensembling).
 * @example
 * ```ts
 * import { zeroShotClassifier } from "./classifier.ts";
 * import { templates } from "./templates.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const head = await zeroShotClassifier(model, ["circle", "star", ["square", "box"]], templates.shapes);
 * head.weights.shape; // → [3, 64]
 * await head.predict(["models/samples/01_red_circle.png"], { topK: 2 })
 * // → [[{ label: "circle", index: 0, score: 0.9994829893112183 }, { label: "square", index: 2, score: 0.0005160702858120203 }]]
 * const images = ["01_red_circle", "02_orange_star", "06_blue_square"].map((n) => `models/samples/${n}.png`);
 * const report = await head.evaluate({ images, labels: ["circle", "star", "square"] });
 * [report.top1, report.count]; // → [1, 3]
 * report.confusion; // → [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
 * ```
 */
export async function zeroShotClassifier<I = unknown>(
  model: ZeroShotModel<I>,
  classNames: readonly ClassName[],
  templates: readonly string[],
  options: ZeroShotOptions = {},
): Promise<ZeroShotClassifier<I>> {
  const logitScale = options.logitScale ?? model.logitScale;
  assertTemperature(logitScale, "logitScale");
  const prompts = await embedPrompts(model, classNames, templates, options);
  const weights = classWeights(prompts); // [classes, D]
  const names = prompts.classNameLists.map((n) => n[0]);
  const embed = (images: ImagesOrEmbeddings<I>) => embedImages(model, images, weights.cols);
  const logits = async (images: ImagesOrEmbeddings<I>) =>
    scale(matmulT(await embed(images), weights), logitScale);
  return {
    classNames: names,
    classNameLists: prompts.classNameLists,
    templates: prompts.templates,
    weights,
    logitScale,
    embedImages: embed,
    logits,
    probabilities: async (images) => softmax(await logits(images)),
    async predict(images, { topK: k = 1 } = {}) {
      if (!Number.isInteger(k) || k < 1 || k > names.length) {
        throw new TopKError(
          `predict: topK = ${k} but the classifier has ${names.length} class${
            names.length === 1 ? "" : "es"
          }`,
          { fix: `ask for 1 to ${names.length}` },
        );
      }
      const probs = softmax(await logits(images)); // [images, classes]
      return topK(probs, k).map((row) =>
        row.map(({ index, value }) => ({ label: names[index], index, score: value }))
      );
    },
    async evaluate(dataset) {
      const labels = labelIndices(dataset.labels, names);
      return evaluateScores(await logits(dataset.images), labels, names);
    },
  };
}
