/**
 * A disk cache of image embeddings, keyed by the content of each image file and the model, so that
 * re-running a zero-shot evaluation on the same folder costs file reads and hashes, not encoder runs.
 *
 * sha256(file bytes) + `model.id` → raw embedding row. `model.id` covers everything that changes the numbers
 * (both graphs, the preprocessing, the tokenizer, the dtype). Files: `<dir>/<model id>/<segment>.bin`, each
 * holding `CLIPKIC2`, a count, the width, the sha256 of the rest, the 32-byte hashes and then the rows as
 * little-endian float32. New rows go into a new segment file (written to a temporary name and renamed),
 * never into an old one, so a reader never sees half a file and two runs never overwrite each other. A
 * segment that is damaged anyway (bytes flipped, truncated, an older format) is dropped with a notice, and
 * its images are encoded again: never returned, never fatal.
 * @module
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { InputError } from "../errors.ts";
import { writeAtomic } from "../fs.ts";
import { Matrix } from "../math/matrix.ts";
import { cacheFs, defaultCacheDir } from "./text_cache.ts";

/** The first 8 bytes of every image-cache segment (format version 2: with a checksum). */
export const IMAGE_CACHE_MAGIC = "CLIPKIC2";
const HASH_BYTES = 32;
/** Magic, count, width, then the sha256 of everything after the header. */
const HEADER_BYTES = 16 + 32;

/**
 * The image-embedding cache folder: `images/` beside the text cache (`$CLIPKIT_CACHE/images`, else
 * `.cache/clipkit/images` in the repository).
 * @example
 * ```ts
 * import { defaultImageCacheDir } from "./image_cache.ts";
 * defaultImageCacheDir(); // → "/work/main/.cache/clipkit/images"
 * ```
 */
export function defaultImageCacheDir(): string {
  return join(dirname(defaultCacheDir()), "images");
}

/**
 * The content hash the cache is keyed by: sha256 of the file's bytes, in hex.
 * @example
 * ```ts
 * import { contentHash } from "./image_cache.ts";
 * contentHash(new Uint8Array([1, 2, 3])); // → "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81"
 * ```
 */
export function contentHash(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** How the cache served the last lookups. */
export interface ImageCacheStats {
  hits: number;
  stored: number;
  /** Damaged segment files found and deleted (their images are encoded again). */
  dropped: number;
}

/** Options of {@link ImageEmbeddingCache}. */
export interface ImageCacheOptions {
  /** Told about each damaged segment that was dropped (default: `console.warn`). */
  onNotice?: (message: string) => void;
}

/**
 * Image embeddings on disk, by content hash and model id.
 * @example
 * ```ts
 * import { contentHash, ImageEmbeddingCache } from "./image_cache.ts";
 * import { Matrix } from "../math/matrix.ts";
 * const cache = new ImageEmbeddingCache(await Deno.makeTempDir()); // default: .cache/clipkit/images
 * const hash = contentHash(await Deno.readFile("models/samples/01_red_circle.png"));
 * await cache.store("tiny-clip-fp32-eb154070f1ceba75", [hash], Matrix.fromRows([[0.6, 0.8]]));
 * (await cache.lookup("tiny-clip-fp32-eb154070f1ceba75", [hash]))[0]; // → Float32Array [0.6000000238418579, 0.800000011920929]
 * cache.stats; // → { hits: 1, stored: 1, dropped: 0 }
 * ```
 */
export class ImageEmbeddingCache {
  /** The cache folder. */
  readonly dir: string;
  /** Rows found and rows stored since the cache was made. */
  readonly stats: ImageCacheStats = { hits: 0, stored: 0, dropped: 0 };
  readonly #loaded = new Map<string, Map<string, Float32Array>>();
  readonly #onNotice: (message: string) => void;

  /** A cache in `dir` (default `.cache/clipkit/images`). */
  constructor(dir: string = defaultImageCacheDir(), options: ImageCacheOptions = {}) {
    this.dir = dir;
    this.#onNotice = options.onNotice ?? ((m) => console.warn(m));
  }

  /**
   * The cached raw embedding of each hash for `modelId` (undefined where there is none).
   * @example
   * ```ts
   * import { ImageEmbeddingCache } from "./image_cache.ts";
   * const cache = new ImageEmbeddingCache(await Deno.makeTempDir());
   * (await cache.lookup("tiny-clip-fp32-0123", ["ab…"]))[0]; // → undefined
   * ```
   */
  async lookup(modelId: string, hashes: readonly string[]): Promise<(Float32Array | undefined)[]> {
    const rows = await this.#rowsOf(modelId);
    const found = hashes.map((h) => rows.get(h));
    this.stats.hits += found.filter((r) => r).length;
    return found;
  }

  /**
   * Add raw embeddings (`[hashes.length, D]`) for `modelId`, as one new segment file.
   * @example
   * ```ts
   * import { ImageEmbeddingCache } from "./image_cache.ts";
   * import { Matrix } from "../math/matrix.ts";
   * const cache = new ImageEmbeddingCache(await Deno.makeTempDir());
   * await cache.store("m", ["00".repeat(32)], Matrix.fromRows([[1, 2]]));
   * (await cache.lookup("m", ["00".repeat(32)]))[0]; // → Float32Array [1, 2]
   * ```
   */
  async store(modelId: string, hashes: readonly string[], embeddings: Matrix): Promise<void> {
    if (hashes.length !== embeddings.rows) {
      throw new InputError(`${hashes.length} hashes for ${embeddings.rows} embeddings`, {
        fix: "give one hash per row",
      });
    }
    if (hashes.length === 0) return;
    const count = hashes.length, dim = embeddings.cols;
    const bytes = new Uint8Array(HEADER_BYTES + count * HASH_BYTES + count * dim * 4);
    const view = new DataView(bytes.buffer);
    for (let k = 0; k < 8; k++) bytes[k] = IMAGE_CACHE_MAGIC.charCodeAt(k);
    view.setUint32(8, count, true);
    view.setUint32(12, dim, true);
    hashes.forEach((h, i) => {
      if (!/^[0-9a-f]{64}$/.test(h)) {
        throw new InputError(`hash ${i} is ${JSON.stringify(h)}, not 64 hex digits`, {
          fix: "key images by contentHash(bytes)",
        });
      }
      for (let b = 0; b < HASH_BYTES; b++) {
        bytes[HEADER_BYTES + i * HASH_BYTES + b] = parseInt(h.slice(2 * b, 2 * b + 2), 16);
      }
    });
    const floats = HEADER_BYTES + count * HASH_BYTES;
    for (let k = 0; k < count * dim; k++) view.setFloat32(floats + 4 * k, embeddings.data[k], true);
    bytes.set(createHash("sha256").update(bytes.subarray(HEADER_BYTES)).digest(), 16);
    const name = createHash("sha256").update(hashes.join("")).digest("hex").slice(0, 16);
    const path = join(this.#modelDir(modelId), `${name}.bin`);
    await cacheFs(path, "write an image-cache file", () => writeAtomic(path, bytes, { mkdir: true }));
    const rows = await this.#rowsOf(modelId);
    hashes.forEach((h, i) => rows.set(h, embeddings.data.slice(i * dim, (i + 1) * dim)));
    this.stats.stored += count;
  }

  #modelDir(modelId: string): string {
    return join(this.dir, modelId.replace(/[^A-Za-z0-9._-]/g, "_"));
  }

  async #rowsOf(modelId: string): Promise<Map<string, Float32Array>> {
    let rows = this.#loaded.get(modelId);
    if (rows) return rows;
    rows = new Map();
    const dir = this.#modelDir(modelId);
    const names = await cacheFs(dir, "list the image cache", () => Array.fromAsync(Deno.readDir(dir))).catch(
      (e) => {
        if (e instanceof Deno.errors.NotFound) return [];
        throw e;
      },
    );
    for (
      const entry of names.filter((e) => e.isFile && e.name.endsWith(".bin")).sort((a, b) =>
        a.name < b.name ? -1 : 1
      )
    ) {
      const path = join(dir, entry.name);
      const bytes = await cacheFs(path, "read an image-cache file", () => Deno.readFile(path)).catch((e) => {
        if (e instanceof Deno.errors.NotFound) return undefined; // removed meanwhile by another run
        throw e;
      });
      if (!bytes) continue;
      const problem = readSegment(bytes, rows);
      if (problem) {
        this.stats.dropped++;
        this.#onNotice(
          `clipkit: dropped a damaged image-embedding cache file (${problem}): ${path}; its images are encoded again`,
        );
        await Deno.remove(path).catch(() => {});
      }
    }
    this.#loaded.set(modelId, rows);
    return rows;
  }
}

/** Add a segment's rows to `into`; a damaged segment adds nothing and returns what is wrong with it. */
function readSegment(bytes: Uint8Array, into: Map<string, Float32Array>): string | undefined {
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (bytes.length < HEADER_BYTES) return `only ${bytes.length} bytes`;
  if (magic !== IMAGE_CACHE_MAGIC) {
    return magic.startsWith("CLIPKIC") ? "an older format" : "not a clipkit image-cache file";
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(8, true), dim = view.getUint32(12, true);
  const floats = HEADER_BYTES + count * HASH_BYTES;
  if (bytes.length !== floats + count * dim * 4) {
    return `${bytes.length} bytes where ${floats + count * dim * 4} were written (truncated?)`;
  }
  const sum = createHash("sha256").update(bytes.subarray(HEADER_BYTES)).digest();
  if (!sum.equals(bytes.subarray(16, HEADER_BYTES))) return "its contents fail the checksum (bytes changed)";
  const hex = (i: number) =>
    Array.from(
      bytes.subarray(HEADER_BYTES + i * HASH_BYTES, HEADER_BYTES + (i + 1) * HASH_BYTES),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
  for (let i = 0; i < count; i++) {
    const row = new Float32Array(dim);
    for (let k = 0; k < dim; k++) row[k] = view.getFloat32(floats + 4 * (i * dim + k), true);
    into.set(hex(i), row);
  }
  return undefined;
}
