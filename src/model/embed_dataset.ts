/**
 * Embedding a whole dataset (an image folder, a caption file) with a model, batch by batch.
 *
 * dataset.batches() (read + decode n images) → cache lookup by content hash (optional) → encodeImages on
 * the misses → cache store → rows in dataset order, with a progress bar over the whole dataset.
 * Only one batch of pixels is in memory at a time; the embeddings of all images are kept.
 * @module
 */
import type { DecodedImage } from "../image/mod.ts";
import { Matrix } from "../math/matrix.ts";
import type { DatasetItem, FailedImage, ImageBatch, ImageDataset } from "../data/dataset.ts";
import { contentHash, ImageEmbeddingCache } from "../zeroshot/image_cache.ts";
import { Progress, type ProgressCallback, type ProgressOutput } from "./progress.ts";

/** What embedding a dataset needs from a model (`ClipModel` has it). */
export interface ImageEmbedder {
  /** Identifies the weights (the cache key). */
  readonly id: string;
  /** Embedding width. */
  readonly dim: number;
  /** Raw embeddings of decoded images, `[images.length, dim]`. */
  encodeImages(images: DecodedImage[], options?: { progress?: boolean }): Promise<Matrix>;
}

/** Options of {@link embedDataset} and {@link embedBatches}. */
export interface EmbedDatasetOptions {
  /** Images per batch (default 32). */
  batchSize?: number;
  /** Cache by content hash: a cache, a folder for one, or false (default false). */
  cache?: ImageEmbeddingCache | string | false;
  /** Draw a progress bar (default true). */
  progress?: boolean | ProgressOutput;
  /** Called after each batch. */
  onProgress?: ProgressCallback;
  /** First dataset item (default 0). */
  start?: number;
  /** One past the last item (default: all). */
  end?: number;
}

/** One embedded batch. */
export interface EmbeddedBatch<T extends DatasetItem> {
  batch: ImageBatch<T>;
  /** `[batch.items.length, D]` raw embeddings (as the model returns them, not normalised). */
  embeddings: Matrix;
  /** How many of the rows came from the cache. */
  cached: number;
}

/** A dataset's embeddings, in dataset order. */
export interface DatasetEmbeddings<T extends DatasetItem> {
  /** `[items.length, D]` raw embeddings. */
  embeddings: Matrix;
  /** The items embedded (failed images left out, when skipped). */
  items: T[];
  /** Their positions in `dataset.items`. */
  indices: number[];
  /** Width and height of each image embedded. */
  sizes: { width: number; height: number }[];
  /** Images that could not be read (with `onError: "skip"`). */
  failed: FailedImage[];
  /** Rows from the cache, and rows encoded. */
  cached: number;
  /** Rows encoded by the model. */
  encoded: number;
}

function openCache(cache: EmbedDatasetOptions["cache"]): ImageEmbeddingCache | undefined {
  if (!cache) return undefined;
  return cache instanceof ImageEmbeddingCache ? cache : new ImageEmbeddingCache(cache);
}

/**
 * Embed a dataset batch by batch, yielding each batch with its embeddings (for writers that stream to disk).
 * @example
 * ```ts
 * import { embedBatches } from "./embed_dataset.ts";
 * import { ClipModel } from "./clip_model.ts";
 * import { loadImageFiles } from "../data/image_folder.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * for await (const { batch, embeddings } of embedBatches(model, await loadImageFiles("models/samples"))) {
 *   console.log(batch.items.length, embeddings.shape); // → 12 [ 12, 64 ] (one batch: 12 images, batch size 32)
 * }
 * ```
 */
export async function* embedBatches<T extends DatasetItem>(
  model: ImageEmbedder,
  dataset: ImageDataset<T>,
  options: EmbedDatasetOptions = {},
): AsyncGenerator<EmbeddedBatch<T>> {
  const cache = openCache(options.cache);
  const start = options.start ?? 0;
  const end = Math.min(dataset.length, options.end ?? dataset.length);
  const draw = options.progress ?? true;
  const bar = new Progress(Math.max(0, end - start), {
    label: "embedding",
    unit: "images",
    output: draw === true ? "auto" : draw === false ? "none" : draw,
    onProgress: options.onProgress,
  });
  const dim = model.dim;
  for await (const batch of dataset.batches({ batchSize: options.batchSize, start, end })) {
    const out = new Float32Array(batch.items.length * dim); // [rows, D]
    let cached = 0;
    if (batch.items.length) {
      const hashes = cache ? batch.bytes.map(contentHash) : [];
      const found = cache ? await cache.lookup(model.id, hashes) : batch.items.map(() => undefined);
      const missing = found.flatMap((row, i) => (row ? [] : [i]));
      found.forEach((row, i) => row && out.set(row, i * dim));
      cached = batch.items.length - missing.length;
      if (missing.length) {
        const fresh = await model.encodeImages(missing.map((i) => batch.images[i]), { progress: false }); // [missing, D]
        missing.forEach((i, k) => out.set(fresh.data.subarray(k * dim, (k + 1) * dim), i * dim));
        if (cache) await cache.store(model.id, missing.map((i) => hashes[i]), fresh);
      }
    }
    bar.update(batch.end - start);
    yield { batch, embeddings: new Matrix(out, batch.items.length, dim), cached };
  }
  bar.finish();
}

/**
 * Embed every image of a dataset: raw embeddings in dataset order, with the items they belong to.
 * @example
 * ```ts
 * import { embedDataset } from "./embed_dataset.ts";
 * import { ClipModel } from "./clip_model.ts";
 * import { loadImageFiles } from "../data/image_folder.ts";
 * import { defaultImageCacheDir } from "../zeroshot/image_cache.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const data = await loadImageFiles("models/samples");
 * const { embeddings, items } = await embedDataset(model, data, { cache: defaultImageCacheDir() });
 * embeddings.shape; // → [12, 64]
 * items[0].path; // → "models/samples/01_red_circle.png"
 * ```
 */
export async function embedDataset<T extends DatasetItem>(
  model: ImageEmbedder,
  dataset: ImageDataset<T>,
  options: EmbedDatasetOptions = {},
): Promise<DatasetEmbeddings<T>> {
  const parts: Float32Array[] = [];
  const result: Omit<DatasetEmbeddings<T>, "embeddings"> = {
    items: [],
    indices: [],
    sizes: [],
    failed: [],
    cached: 0,
    encoded: 0,
  };
  for await (const { batch, embeddings, cached } of embedBatches(model, dataset, options)) {
    parts.push(embeddings.data);
    result.items.push(...batch.items);
    result.indices.push(...batch.indices);
    result.sizes.push(...batch.images.map((im) => ({ width: im.width, height: im.height })));
    result.failed.push(...batch.failed);
    result.cached += cached;
    result.encoded += batch.items.length - cached;
  }
  const rows = result.items.length;
  const data = new Float32Array(rows * model.dim); // [rows, D]
  let at = 0;
  for (const part of parts) {
    data.set(part, at);
    at += part.length;
  }
  return { embeddings: new Matrix(data, rows, model.dim), ...result };
}
