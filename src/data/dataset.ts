/**
 * What the image datasets share (an image folder, a caption file): a list of image paths with what each
 * is labelled with, read lazily.
 *
 * list files (paths only) → `batches(n)`: read n files → decode (loadImage) → yield; the next batch is not
 * read until the consumer asks for it, so a folder of 100,000 images holds one batch in memory at a time.
 *
 * An image that cannot be read or decoded throws its `ImageError` (naming the path), or, with
 * `{ onError: "skip" }`, is left out of the batch and listed in `dataset.failed`.
 * @module
 */
import { basename, extname } from "node:path";
import { InputError } from "../errors.ts";
import { type DecodedImage, ImageError, loadImage } from "../image/mod.ts";

/** File extensions the datasets take as images: the formats `loadImage` decodes (case-insensitive). */
export const IMAGE_EXTENSIONS: readonly string[] = [".png", ".jpg", ".jpeg", ".gif"];

/** Images per batch when the caller does not say. */
export const DEFAULT_DATASET_BATCH = 32;

/** What to do with an image that cannot be read or decoded: throw its error (default), or skip and list it. */
export type OnImageError = "throw" | "skip";

/** A file left out while listing a dataset, and why (hidden, not an image). */
export interface SkippedFile {
  /** The file left out. */
  path: string;
  /** Why it was left out (`"hidden"`, `"not an image"`). */
  reason: string;
}

/** An image that could not be read or decoded (kept when `onError` is `"skip"`). */
export interface FailedImage {
  /** Position of the image in `dataset.items`. */
  index: number;
  /** The image file or URL. */
  path: string;
  /** Why it could not be used. */
  error: ImageError;
}

/** One dataset entry: an image path, plus what the dataset says about it. */
export interface DatasetItem {
  /** The image file (joined to the folder or caption file it came from), or an `http(s):` URL. */
  path: string;
}

/** A batch of decoded images, in dataset order; images that failed (when skipped) are absent. */
export interface ImageBatch<T extends DatasetItem> {
  /** Positions in `dataset.items` of the images in this batch. */
  indices: number[];
  /** The items of this batch, parallel to `images`. */
  items: T[];
  /** The decoded images. */
  images: DecodedImage[];
  /** The file bytes each image was decoded from (for content hashes). */
  bytes: Uint8Array[];
  /** Images of this batch's range that could not be used (only with `onError: "skip"`). */
  failed: FailedImage[];
  /** The range of `dataset.items` this batch covers, `[start, end)`, failed images included. */
  start: number;
  /** One past the last position of the range. */
  end: number;
}

/** Options of {@link ImageDataset.batches}. */
export interface BatchesOptions {
  /** Images per batch (default {@link DEFAULT_DATASET_BATCH}). */
  batchSize?: number;
  /** First item (default 0). */
  start?: number;
  /** One past the last item (default: all). */
  end?: number;
}

/** Whether `name` has one of {@link IMAGE_EXTENSIONS}. */
export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

/** Whether `name` is hidden by the usual convention (a dot first: `.DS_Store`, `._cat.jpg`, `.ipynb_checkpoints`). */
export function isHidden(name: string): boolean {
  return basename(name).startsWith(".");
}

/** Read the bytes of a path or an `http(s):` URL; any failure becomes an `ImageError` naming it. */
async function readImageBytes(path: string): Promise<Uint8Array> {
  try {
    if (/^https?:\/\//i.test(path)) {
      const response = await fetch(path);
      if (!response.ok) {
        throw new ImageError(
          "unreadable",
          `the server answered HTTP ${response.status} ${response.statusText}`,
          {
            source: path,
            fix: 'check the URL, or pass { onError: "skip" } to leave it out',
          },
        );
      }
      return new Uint8Array(await response.arrayBuffer());
    }
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof ImageError) throw error;
    throw new ImageError("unreadable", `cannot read the image (${(error as Error).message})`, {
      source: path,
      fix: 'check that the file exists and can be read, or pass { onError: "skip" } to leave it out',
      cause: error,
    });
  }
}

/**
 * A list of images read lazily, in batches or one by one. `ImageFolder` and `CaptionDataset` are the two
 * kinds; both are made by their loaders (`loadImageFolder`, `loadCaptions`), not by hand.
 * @example
 * ```ts
 * import { loadImageFiles } from "./image_folder.ts";
 * const data = await loadImageFiles("models/samples");
 * data.items.length; // → 12
 * (await data.load(0)).width; // → 128
 * ```
 */
export class ImageDataset<T extends DatasetItem> {
  /** Every entry, in order (paths only: nothing is decoded until iterated). */
  readonly items: readonly T[];
  /** Files left out while listing (hidden files, other extensions). */
  readonly skipped: readonly SkippedFile[];
  /** What an unreadable image does: throw (default) or skip. */
  readonly onError: OnImageError;
  readonly #failed = new Map<number, FailedImage>();

  /** Made by the loaders (`loadImageFolder`, `loadImageFiles`, `loadCaptions`). */
  constructor(items: T[], skipped: SkippedFile[], onError: OnImageError = "throw") {
    this.items = items;
    this.skipped = skipped;
    this.onError = onError;
  }

  /** Number of entries (failed images included). */
  get length(): number {
    return this.items.length;
  }

  /** The image paths, in order. */
  get paths(): string[] {
    return this.items.map((item) => item.path);
  }

  /** Images that could not be read or decoded so far (with `onError: "skip"`), in dataset order. */
  get failed(): FailedImage[] {
    return [...this.#failed.values()].sort((a, b) => a.index - b.index);
  }

  /**
   * Decoded images in batches, in order. Reads and decodes one batch at a time.
   * @example
   * ```ts
   * import { loadImageFolder } from "./image_folder.ts";
   * import { writeShapesFolder } from "./shapes_folder.ts";
   * const { root } = await writeShapesFolder(await Deno.makeTempDir(), { perClass: 3, classes: ["circle", "star"] });
   * const data = await loadImageFolder(root); // root/circle/0.png, …, root/star/2.png
   * for await (const batch of data.batches({ batchSize: 4 })) {
   *   console.log(batch.images.length, batch.items[0].className); // → 4 circle, then 2 star
   * }
   * ```
   */
  async *batches(options: BatchesOptions = {}): AsyncGenerator<ImageBatch<T>> {
    const size = options.batchSize ?? DEFAULT_DATASET_BATCH;
    if (!Number.isInteger(size) || size < 1) {
      throw new InputError(`batchSize must be a positive integer, got ${size}`, {
        fix: "pass e.g. { batchSize: 32 }",
      });
    }
    const first = Math.max(0, options.start ?? 0);
    const last = Math.min(this.items.length, options.end ?? this.items.length);
    for (let start = first; start < last; start += size) {
      const end = Math.min(last, start + size);
      yield await this.#loadRange(start, end);
    }
  }

  /**
   * Every image, one at a time: `{ index, item, image }`.
   * @example
   * ```ts
   * import { loadImageFolder } from "./image_folder.ts";
   * import { writeShapesFolder } from "./shapes_folder.ts";
   * const { root } = await writeShapesFolder(await Deno.makeTempDir(), { perClass: 1, classes: ["circle"] });
   * for await (const { item, image } of await loadImageFolder(root)) {
   *   console.log(item.path.slice(root.length), image.width, image.height); // → /circle/0.png 64 64
   * }
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<{ index: number; item: T; image: DecodedImage }> {
    for await (const batch of this.batches()) {
      for (let i = 0; i < batch.items.length; i++) {
        yield { index: batch.indices[i], item: batch.items[i], image: batch.images[i] };
      }
    }
  }

  /**
   * Decode one entry.
   * @example
   * ```ts
   * import { loadImageFolder } from "./image_folder.ts";
   * import { writeShapesFolder } from "./shapes_folder.ts";
   * const { root } = await writeShapesFolder(await Deno.makeTempDir(), { perClass: 1, classes: ["circle"] });
   * const image = await (await loadImageFolder(root)).load(0);
   * image.mode; // → "RGBA"
   * ```
   */
  async load(index: number): Promise<DecodedImage> {
    const item = this.items[index];
    if (!item) {
      throw new InputError(`index ${index} is outside 0…${this.items.length - 1}`, {
        fix: "pass an index of dataset.items",
      });
    }
    return await loadImage(await readImageBytes(item.path), { name: item.path });
  }

  async #loadRange(start: number, end: number): Promise<ImageBatch<T>> {
    const slots = this.items.slice(start, end);
    type Loaded = { bytes: Uint8Array; image: DecodedImage } | { error: ImageError };
    const loaded = await Promise.all(slots.map(async (item): Promise<Loaded> => {
      try {
        const bytes = await readImageBytes(item.path);
        return { bytes, image: await loadImage(bytes, { name: item.path }) };
      } catch (error) {
        if (error instanceof ImageError) return { error };
        throw error;
      }
    }));
    const batch: ImageBatch<T> = { indices: [], items: [], images: [], bytes: [], failed: [], start, end };
    loaded.forEach((result, k) => {
      const index = start + k;
      if ("error" in result) {
        if (this.onError !== "skip") throw result.error;
        const failure = { index, path: slots[k].path, error: result.error };
        this.#failed.set(index, failure);
        batch.failed.push(failure);
        return;
      }
      batch.indices.push(index);
      batch.items.push(slots[k]);
      batch.images.push(result.image);
      batch.bytes.push(result.bytes);
    });
    return batch;
  }
}
