/**
 * Contrastive losses: CLIP's symmetric InfoNCE and SigLIP's pairwise sigmoid loss, plus the helpers a
 * temperature lesson needs (loss, accuracy and confidence as the temperature varies).
 *
 * A batch holds `n` matching (image, text) pairs: row `i` of the image embeddings belongs with row `i` of the
 * text embeddings, so the true pairs sit on the diagonal of the `n × n` logits.
 */
import { assertFinite, assertSameWidth, Matrix, scale, transpose } from "./matrix.ts";
import { MatrixShapeError, TemperatureError } from "../errors.ts";
import { argmaxRows, assertTemperature, logSoftmaxRow, similarity, softmax } from "./similarity.ts";
import { MAX_LOGIT_SCALE } from "../constants.ts";

/** What {@link clipLoss} returns. */
export interface ClipLossResult {
  /** (imageToText + textToImage) / 2, the paper's symmetric loss. */
  loss: number;
  /** Cross-entropy of each image row against its text: `CE(logits, arange(n))`. */
  imageToText: number;
  /** Cross-entropy of each text against its image: `CE(logitsᵀ, arange(n))`. */
  textToImage: number;
  /** `logitScale × cosine`, `[n, n]`, rows are images (`logits_per_image`). */
  logits: Matrix;
  /** The cosine similarities, `[n, n]`. */
  cosine: Matrix;
  /** The logit scale actually used (after the clamp at `maxLogitScale`). */
  logitScale: number;
  /** Mean of the two top-1 accuracies below. */
  accuracy: number;
  /** Share of images whose best text is their own (argmax of each row; first on ties). */
  accuracyImageToText: number;
  /** Share of texts whose best image is their own (argmax of each column; first on ties). */
  accuracyTextToImage: number;
}

/** Options of {@link clipLoss}. */
export interface ClipLossOptions {
  /** The multiplier `exp(t)` = 1 / temperature (CLIP's trained value is 100, its initial one 1/0.07). */
  logitScale: number;
  /** Clamp for `logitScale` (default {@link MAX_LOGIT_SCALE}, like open_clip); `Infinity` turns it off. */
  maxLogitScale?: number;
}

function assertPairs(img: Matrix, txt: Matrix): void {
  assertSameWidth(img, txt, "image embeddings", "text embeddings");
  if (img.rows !== txt.rows) {
    throw new MatrixShapeError(
      `the loss needs matching pairs, but there are ${img.rows} images and ${txt.rows} texts`,
      { fix: "pass one text per image, row i of each belonging together" },
    );
  }
  if (img.rows === 0) {
    throw new MatrixShapeError("the loss needs at least one (image, text) pair, got an empty batch", {
      fix: "pass at least one row of image and text embeddings",
    });
  }
  assertFinite(img, "image embeddings");
  assertFinite(txt, "text embeddings");
}

/** Mean over rows of `-log_softmax(row)[i]` (cross-entropy against targets `0…n-1`). */
function diagonalCrossEntropy(logits: Matrix): number {
  let sum = 0;
  for (let i = 0; i < logits.rows; i++) sum -= logSoftmaxRow(logits.row(i))[i];
  return sum / logits.rows;
}

function diagonalAccuracy(logits: Matrix): number {
  const best = argmaxRows(logits);
  let hits = 0;
  best.forEach((j, i) => hits += j === i ? 1 : 0);
  return hits / logits.rows;
}

/**
 * CLIP's symmetric contrastive loss on raw (unnormalised) embeddings of `n` matching pairs:
 * `logits = s · normalize(img) · normalize(txt)ᵀ`, `loss = (CE(logits, arange) + CE(logitsᵀ, arange)) / 2`,
 * with `s = min(logitScale, maxLogitScale)`.
 * @example
 * ```ts
 * import { Matrix } from "./matrix.ts";
 * import { clipLoss } from "./loss.ts";
 * const img = Matrix.fromRows([[1, 0], [0, 1]]), txt = Matrix.fromRows([[1, 0.1], [0.1, 1]]);
 * const r = clipLoss(img, txt, { logitScale: 10 });
 * r.logits.toRows(); // → [[9.950371742248535, 0.9950371980667114], [0.9950371980667114, 9.950371742248535]]
 * r.loss; // → 0.00012903858830703996 (= log(1 + e^(0.995 − 9.950)))
 * r.accuracy; // → 1
 * ```
 */
export function clipLoss(img: Matrix, txt: Matrix, options: ClipLossOptions): ClipLossResult {
  requireOptions(
    options,
    "clipLoss",
    "{ logitScale: model.logitScale } (100 for OpenAI's CLIP, 1/0.07 ≈ 14.3 at the start of training)",
  );
  const { logitScale, maxLogitScale = MAX_LOGIT_SCALE } = options;
  assertTemperature(logitScale, "logitScale");
  assertPairs(img, txt);
  const s = Math.min(logitScale, maxLogitScale);
  const cosine = similarity(img, txt); // [n, n]
  const logits = scale(cosine, s); // [n, n] logits_per_image
  const logitsT = transpose(logits); // [n, n] logits_per_text
  const imageToText = diagonalCrossEntropy(logits);
  const textToImage = diagonalCrossEntropy(logitsT);
  const accuracyImageToText = diagonalAccuracy(logits);
  const accuracyTextToImage = diagonalAccuracy(logitsT);
  return {
    loss: (imageToText + textToImage) / 2,
    imageToText,
    textToImage,
    logits,
    cosine,
    logitScale: s,
    accuracy: (accuracyImageToText + accuracyTextToImage) / 2,
    accuracyImageToText,
    accuracyTextToImage,
  };
}

/** A loss called without its options object names what to pass, instead of failing on `undefined`. */
function requireOptions(options: unknown, fn: string, example: string): void {
  if (typeof options !== "object" || options === null) {
    throw new TemperatureError(
      `${fn}(images, texts, options) needs its options: the logit scale is not optional`,
      {
        fix: `pass ${example}`,
      },
    );
  }
}

/** `log σ(x)`, stable for large |x|. */
function logSigmoid(x: number): number {
  return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
}

/**
 * SigLIP's sigmoid loss: every (image, text) cell is its own binary question, true on the diagonal.
 * `logits = logitScale · cosine + logitBias`, `loss = −Σ log σ(labels · logits) / n` with `labels = 2·I − 1`.
 * @example
 * ```ts
 * import { sigLipLoss } from "./loss.ts";
 * import { Matrix } from "./matrix.ts";
 * sigLipLoss(Matrix.fromRows([[1, 0]]), Matrix.fromRows([[1, 0]]), { logitScale: 10, logitBias: -10 }).loss
 * // → 0.6931471805599453 (σ(0) = 0.5 for the one true pair)
 * ```
 */
export function sigLipLoss(
  img: Matrix,
  txt: Matrix,
  options: { logitScale: number; logitBias: number },
): { loss: number; logits: Matrix } {
  requireOptions(options, "sigLipLoss", "{ logitScale: 10, logitBias: -10 } (SigLIP's starting values)");
  const { logitScale, logitBias } = options;
  assertTemperature(logitScale, "logitScale");
  if (!Number.isFinite(logitBias)) {
    throw new TemperatureError(`logitBias must be a finite number, got ${logitBias}`, {
      fix: "pass a finite bias (SigLIP starts at −10)",
    });
  }
  assertPairs(img, txt);
  const cosine = similarity(img, txt); // [n, n]
  const n = img.rows;
  const logits = new Float32Array(n * n); // [n, n]
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const z = Math.fround(logitScale * cosine.data[i * n + j]) + logitBias;
      logits[i * n + j] = z;
      sum += logSigmoid(i === j ? z : -z);
    }
  }
  return { loss: -sum / n, logits: new Matrix(logits, n, n) };
}

/** One row of {@link temperatureSweep}. */
export interface TemperaturePoint {
  /** The temperature T of this row. */
  temperature: number;
  /** 1 / temperature, not clamped. */
  logitScale: number;
  /** The symmetric contrastive loss at T. */
  loss: number;
  /** The image → text cross-entropy. */
  imageToText: number;
  /** The text → image cross-entropy. */
  textToImage: number;
  /** Top-1 accuracy (mean of both directions): the argmax does not depend on the temperature. */
  accuracy: number;
  /** Top-1 accuracy of each image's best text. */
  accuracyImageToText: number;
  /** Top-1 accuracy of each text's best image. */
  accuracyTextToImage: number;
  /** Mean probability given to the true pair (both directions): how confident the model is. */
  meanTrueProbability: number;
  /** Mean entropy (nats) of the image→text rows: high when T is large (flat), low when T is small. */
  meanEntropy: number;
}

/**
 * `count` temperatures spaced evenly on a log scale from `min` to `max` (both included).
 * @example
 * ```ts
 * import { temperatureRange } from "./loss.ts";
 * temperatureRange(0.01, 1, 3); // → [0.01, 0.1, 1]
 * ```
 */
export function temperatureRange(min: number, max: number, count: number): number[] {
  assertTemperature(min, "min temperature");
  assertTemperature(max, "max temperature");
  if (!Number.isInteger(count) || count < 1) {
    throw new TemperatureError(`temperatureRange needs a whole count ≥ 1, got ${count}`, {
      fix: "ask for a whole number of temperatures, e.g. 20",
    });
  }
  if (count === 1) return [min];
  const a = Math.log10(min), b = Math.log10(max);
  return Array.from(
    { length: count },
    (_, k) => Number((10 ** (a + (b - a) * k / (count - 1))).toPrecision(12)),
  );
}

/**
 * CLIP loss, accuracy and confidence at each temperature (logit scale = 1 / T, no clamp), for one batch of
 * pairs: the curve a temperature lesson plots.
 * @example
 * ```ts
 * import { Matrix } from "./matrix.ts";
 * import { temperatureSweep } from "./loss.ts";
 * const img = Matrix.fromRows([[1, 0], [0, 1]]), txt = Matrix.fromRows([[1, 0.1], [0.1, 1]]);
 * temperatureSweep(img, txt, [1, 0.1, 0.01]).map((p) => p.loss.toFixed(4)); // → ["0.3424", "0.0001", "0.0000"]
 * ```
 */
export function temperatureSweep(img: Matrix, txt: Matrix, temperatures: number[]): TemperaturePoint[] {
  temperatures.forEach((t) => assertTemperature(t));
  return temperatures.map((temperature) => {
    const r = clipLoss(img, txt, { logitScale: 1 / temperature, maxLogitScale: Infinity });
    const pRows = softmax(r.logits); // [n, n] image → text
    const pCols = softmax(r.logits, { axis: "cols" }); // [n, n] text → image, columns sum to 1
    const n = r.logits.rows;
    let trueP = 0, entropy = 0;
    for (let i = 0; i < n; i++) {
      trueP += pRows.get(i, i) + pCols.get(i, i);
      for (let j = 0; j < n; j++) {
        const p = pRows.get(i, j);
        if (p > 0) entropy -= p * Math.log(p);
      }
    }
    return {
      temperature,
      logitScale: 1 / temperature,
      loss: r.loss,
      imageToText: r.imageToText,
      textToImage: r.textToImage,
      accuracy: r.accuracy,
      accuracyImageToText: r.accuracyImageToText,
      accuracyTextToImage: r.accuracyTextToImage,
      meanTrueProbability: trueP / (2 * n),
      meanEntropy: entropy / n,
    };
  });
}

/**
 * Softmax of one row of scores (e.g. an image's cosines with the class prompts) at several temperatures:
 * `softmax(scores / T)`, showing how a low T sharpens and a high T flattens the distribution.
 * @example
 * ```ts
 * import { softmaxAtTemperatures } from "./loss.ts";
 * softmaxAtTemperatures([0.3, 0.2], [1, 0.01]).map((r) => r.probs.map((p) => p.toFixed(3)))
 * // → [["0.525", "0.475"], ["1.000", "0.000"]]
 * ```
 */
export function softmaxAtTemperatures(
  scores: ArrayLike<number>,
  temperatures: number[],
): { temperature: number; probs: number[] }[] {
  const row = Matrix.fromRows([Array.from(scores)]); // [1, m]
  return temperatures.map((temperature) => ({
    temperature,
    probs: Array.from(softmax(row, { temperature }).data),
  }));
}
