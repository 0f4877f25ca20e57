/**
 * Retrieval metrics both ways, as open_clip reports them: recall at k (R@1, R@5, R@10) and the mean and
 * median rank of the right answer, for image → text and text → image search.
 *
 * By default image `i` and text `i` belong together. With several captions per image (COCO, Flickr30k),
 * give `imageOfText[t]` = the image of text `t`: an image's rank is then that of its best-ranked caption.
 */
import { Matrix } from "./matrix.ts";
import { InputError, MatrixShapeError } from "../errors.ts";
import { similarity } from "./similarity.ts";

/** The recall cut-offs open_clip reports. */
export const RECALL_KS = [1, 5, 10] as const;

/** Scores of one search direction. */
export interface RetrievalScores {
  /** `recall[k]`: share of queries whose right answer ranks within the first k (k = 1, 5, 10 by default). */
  recall: Record<number, number>;
  /** Mean 1-based rank of the right answer. */
  meanRank: number;
  /** Median rank as open_clip computes it: `floor(median(0-based ranks)) + 1`. */
  medianRank: number;
  /** 1-based rank of the right answer for each query. */
  ranks: Int32Array;
}

/** Both directions. */
export interface RetrievalMetrics {
  /** Each image retrieving its text among all texts. */
  imageToText: RetrievalScores;
  /** Each text retrieving its image among all images. */
  textToImage: RetrievalScores;
}

/** Options of {@link retrievalMetrics}. */
export interface RetrievalOptions {
  /** Image index of each text (default: text `i` ↔ image `i`). */
  imageOfText?: readonly number[];
  /** Recall cut-offs (default {@link RECALL_KS}). */
  ks?: readonly number[];
}

/**
 * 0-based rank of column `target` in row `row` of `scores`: how many columns score strictly higher, plus
 * those that tie with it and come before it (a stable descending sort).
 */
function rankIn(scores: Matrix, row: number, target: number): number {
  const r = scores.row(row);
  const v = r[target];
  let rank = 0;
  for (let j = 0; j < r.length; j++) if (r[j] > v || (r[j] === v && j < target)) rank++;
  return rank;
}

function summarize(ranks0: number[], ks: readonly number[]): RetrievalScores {
  const n = ranks0.length;
  const sorted = [...ranks0].sort((a, b) => a - b);
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return {
    recall: Object.fromEntries(ks.map((k) => [k, ranks0.filter((r) => r < k).length / n])),
    meanRank: ranks0.reduce((s, r) => s + r, 0) / n + 1,
    medianRank: Math.floor(median) + 1,
    ranks: Int32Array.from(ranks0, (r) => r + 1),
  };
}

/**
 * Retrieval metrics from a score matrix `[images, texts]` (cosines or logits: only the order matters).
 * @example
 * ```ts
 * import { retrievalFromScores } from "./retrieval.ts";
 * import { Matrix } from "./matrix.ts";
 * const m = retrievalFromScores(Matrix.fromRows([[0.9, 0.1], [0.8, 0.2]]));
 * m.imageToText.recall[1]; // → 0.5 (image 1 prefers text 0)
 * m.textToImage.meanRank; // → 1 (each text's own image scores higher in its column)
 * ```
 */
export function retrievalFromScores(scores: Matrix, options: RetrievalOptions = {}): RetrievalMetrics {
  const ks = options.ks ?? RECALL_KS;
  const nImages = scores.rows, nTexts = scores.cols;
  if (nImages === 0 || nTexts === 0) {
    throw new MatrixShapeError(
      `retrieval needs at least one image and one text, got ${nImages}×${nTexts} scores`,
      {
        fix: "pass an images × texts score matrix with at least one row and one column",
      },
    );
  }
  const imageOfText = options.imageOfText ?? Array.from({ length: nTexts }, (_, t) => t);
  if (imageOfText.length !== nTexts) {
    throw new MatrixShapeError(`imageOfText has ${imageOfText.length} entries for ${nTexts} texts`, {
      fix: "give the image index of every text",
    });
  }
  if (!options.imageOfText && nImages !== nTexts) {
    throw new MatrixShapeError(`${nImages} images and ${nTexts} texts, unequal counts`, {
      fix: "pass imageOfText (the image index of each text)",
    });
  }
  const captions: number[][] = Array.from({ length: nImages }, () => []);
  imageOfText.forEach((img, t) => {
    if (!Number.isInteger(img) || img < 0 || img >= nImages) {
      throw new InputError(`imageOfText[${t}] = ${img} is no image`, { fix: `use 0…${nImages - 1}` });
    }
    captions[img].push(t);
  });
  captions.forEach((c, i) => {
    if (c.length === 0) {
      throw new MatrixShapeError(`image ${i} has no text`, {
        fix: "give every image at least one caption in imageOfText",
      });
    }
  });
  const imageToText = captions.map((texts, i) => Math.min(...texts.map((t) => rankIn(scores, i, t))));
  const byText = new Matrix(new Float32Array(nImages * nTexts), nTexts, nImages); // [texts, images]
  for (let i = 0; i < nImages; i++) {
    for (let t = 0; t < nTexts; t++) byText.data[t * nImages + i] = scores.data[i * nTexts + t];
  }
  const textToImage = imageOfText.map((img, t) => rankIn(byText, t, img));
  return { imageToText: summarize(imageToText, ks), textToImage: summarize(textToImage, ks) };
}

/**
 * Retrieval metrics from raw image and text embeddings (cosine similarity ranks them).
 * @example
 * ```ts
 * import { retrievalMetrics } from "./retrieval.ts";
 * import { Matrix } from "./matrix.ts";
 * const m = retrievalMetrics(Matrix.fromRows([[1, 0], [0, 1]]), Matrix.fromRows([[0.9, 0.1], [0.8, 0.6]]));
 * m.imageToText.recall; // → { 1: 1, 5: 1, 10: 1 }
 * m.textToImage.medianRank; // → 1
 * ```
 */
export function retrievalMetrics(
  images: Matrix,
  texts: Matrix,
  options: RetrievalOptions = {},
): RetrievalMetrics {
  return retrievalFromScores(similarity(images, texts), options);
}
