/**
 * A disk cache of text embeddings, so that re-running a cell that builds a 1000-class × 80-template head
 * costs a file read instead of 80,000 text-encoder runs.
 *
 * One file per (model, text list): `<dir>/<model hash>/<text-list hash>.bin`, holding a small JSON index
 * (model id, the texts, the width, the sha256 of the embeddings) and then the embeddings as one
 * little-endian Float32 block. The model id (`ClipModel.id`) covers everything that changes the numbers:
 * both ONNX graphs, the tokenizer's vocabulary and merges, the context length, the preprocessing, the dtype.
 * A list that is not cached as a whole reuses every text it shares with the model's other files and encodes
 * only the rest. Files are written to a temporary name and renamed, so a reader never sees half a file; a
 * file that is damaged anyway (bytes flipped, truncated, an unreadable index, an older format) is dropped
 * with a notice and its texts are encoded again: a damaged entry is never returned and never fatal.
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeAtomic } from "../fs.ts";
import { assertFinite, Matrix } from "../math/matrix.ts";
import { CacheError, MatrixShapeError } from "../errors.ts";

/** What the cache (and the zero-shot head) needs from a model: `ClipModel` has these members. */
export interface TextEncoderLike {
  /**
   * Identifies everything that changes the embeddings (weights, tokenizer, context length, dtype): equal ids
   * must mean equal embeddings for equal texts. `ClipModel.id` is such an id.
   */
  readonly id: string;
  /** The multiplier of cosine similarities into logits (100 for OpenAI's CLIP). */
  readonly logitScale: number;
  /** Raw (unnormalised) text embeddings, `[texts.length, D]`. */
  encodeText(texts: string[]): Promise<Matrix>;
}

/** A model's text encoder with a `progress` option, as `ClipModel.encodeText` has. */
export interface ProgressTextEncoder {
  readonly id: string;
  readonly logitScale: number;
  encodeText(texts: string[], options?: { progress?: boolean }): Promise<Matrix>;
}

/**
 * A text encoder that embeds each distinct text once and remembers it, in memory, for as long as it lives
 * (a suite or an experiment embeds the same prompts for many datasets). Same rows as `model.encodeText`.
 *
 * @example
 * ```ts
 * import { rememberingTextEncoder } from "./text_cache.ts";
 * import { Matrix } from "../math/matrix.ts";
 * let calls = 0;
 * const model = {
 *   id: "toy",
 *   logitScale: 1,
 *   encodeText: (texts: string[]) => (calls++, Promise.resolve(Matrix.fromRows(texts.map((t) => [t.length])))),
 * };
 * const text = rememberingTextEncoder(model);
 * (await text.encodeText(["a", "bb"])).data; // → Float32Array [1, 2]
 * (await text.encodeText(["bb", "a", "bb"])).data; // → Float32Array [2, 1, 2]
 * calls; // → 1
 * ```
 */
export function rememberingTextEncoder(model: ProgressTextEncoder, progress = false): TextEncoderLike {
  const rows = new Map<string, Float32Array>();
  return {
    id: model.id,
    logitScale: model.logitScale,
    async encodeText(texts: string[]): Promise<Matrix> {
      const missing = [...new Set(texts.filter((t) => !rows.has(t)))];
      if (missing.length) {
        const e = await model.encodeText(missing, { progress }); // [missing, D]
        missing.forEach((t, i) => rows.set(t, e.data.slice(i * e.cols, (i + 1) * e.cols)));
      }
      const d = rows.get(texts[0])!.length, out = new Float32Array(texts.length * d); // [texts, D]
      texts.forEach((t, i) => out.set(rows.get(t)!, i * d));
      return new Matrix(out, texts.length, d);
    },
  };
}

/** The first 8 bytes of every cache file (format version 2: with a checksum of the embeddings). */
export const CACHE_MAGIC = "CLIPKTC2";
/** Environment variable that moves the cache. */
export const CACHE_ENV = "CLIPKIT_CACHE";

interface CacheIndex {
  modelId: string;
  dim: number;
  texts: string[];
  /** sha256 (hex) of the little-endian float32 embeddings. */
  sha256: string;
}

/** How the last {@link TextEmbeddingCache.encode} went. */
export interface CacheStats {
  /** Distinct texts asked for. */
  texts: number;
  /** Of those, found on disk. */
  hits: number;
  /** Of those, encoded by the model. */
  encoded: number;
  /** Whether the whole list came from one file. */
  wholeFile: boolean;
}

/** Options of {@link TextEmbeddingCache}. */
export interface TextCacheOptions {
  /** Told about each damaged file that was dropped (default: `console.warn`). */
  onNotice?: (message: string) => void;
}

/**
 * The cache folder: `$CLIPKIT_CACHE/text` when that is set, else `.cache/clipkit/text` in the repository.
 * A `CLIPKIT_CACHE` that names a file (not a folder) is a {@link CacheError}.
 * @example
 * ```ts
 * import { defaultCacheDir } from "./text_cache.ts";
 * defaultCacheDir(); // → "/work/main/.cache/clipkit/text"
 * ```
 */
export function defaultCacheDir(): string {
  const env = Deno.env.get(CACHE_ENV);
  if (env) {
    let isFile = false;
    try {
      isFile = !Deno.statSync(env).isDirectory;
    } catch {
      // missing: created on first write
    }
    if (isFile) {
      throw new CacheError(`${CACHE_ENV} names a file, but the cache needs a folder`, {
        path: env,
        fix: `set ${CACHE_ENV} to a folder (it is created when missing), or unset it to use .cache/clipkit`,
      });
    }
    return join(env, "text");
  }
  const here = new URL("../../.cache/clipkit/text", import.meta.url);
  return here.protocol === "file:" ? fileURLToPath(here) : join(Deno.cwd(), ".cache", "clipkit", "text");
}

function sha256(text: string | Uint8Array): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * A cache file system call, with Deno's own errors turned into a {@link CacheError} naming the path and the
 * fix (a file where a folder should be, a folder where a file should be, no permission). Shared with the
 * image cache.
 * @example
 * ```ts
 * import { cacheFs } from "./text_cache.ts";
 * await cacheFs("/etc/passwd/x", "create the cache folder", () => Deno.mkdir("/etc/passwd/x", { recursive: true }))
 *   .catch((e) => e.name); // → "CacheError"
 * ```
 */
export async function cacheFs<T>(path: string, doing: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    if (e instanceof CacheError) throw e;
    const fix = `delete it (the cache rebuilds it), or set ${CACHE_ENV} to another folder`;
    if (e instanceof Deno.errors.IsADirectory) {
      throw new CacheError(`cannot ${doing}: a folder is where a cache file should be`, {
        path,
        fix,
        cause: e,
      });
    }
    if (e instanceof Deno.errors.NotADirectory || e instanceof Deno.errors.AlreadyExists) {
      throw new CacheError(`cannot ${doing}: a file is where a cache folder should be`, {
        path,
        fix,
        cause: e,
      });
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new CacheError(`cannot ${doing}: permission denied`, {
        path,
        fix: `make the cache folder writable, or set ${CACHE_ENV} to a writable folder`,
        cause: e,
      });
    }
    if (e instanceof Error && !(e instanceof Deno.errors.NotFound)) {
      throw new CacheError(`cannot ${doing} (${e.message})`, { path, fix, cause: e });
    }
    throw e;
  }
}

/** A damaged or foreign cache file: the reason, for the notice. */
class DamagedFile extends Error {}

/** Parse a cache file's bytes: index and embeddings (rows in index order); a {@link DamagedFile} if unusable. */
function parseCacheFile(bytes: Uint8Array): { index: CacheIndex; embeddings: Matrix } {
  if (bytes.length < 12) throw new DamagedFile(`only ${bytes.length} bytes`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic !== CACHE_MAGIC) {
    throw new DamagedFile(magic.startsWith("CLIPKTC") ? "an older format" : "not a clipkit text-cache file");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw new DamagedFile("truncated inside its index");
  let index: CacheIndex;
  try {
    index = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(12, 12 + headerLength)),
    );
  } catch {
    throw new DamagedFile("its index is not readable JSON");
  }
  if (
    typeof index !== "object" || index === null || typeof index.modelId !== "string" ||
    !Number.isInteger(index.dim) || index.dim < 0 || !Array.isArray(index.texts) ||
    !index.texts.every((t) => typeof t === "string") || typeof index.sha256 !== "string"
  ) throw new DamagedFile("its index lacks fields");
  const payload = align4(12 + headerLength);
  const count = index.texts.length * index.dim;
  if (bytes.length !== payload + 4 * count) {
    throw new DamagedFile(`${bytes.length} bytes where ${payload + 4 * count} were written (truncated?)`);
  }
  const block = bytes.subarray(payload);
  if (sha256(block) !== index.sha256) {
    throw new DamagedFile("its embeddings fail the checksum (bytes changed)");
  }
  const start = bytes.byteOffset + payload;
  // A view when the block is 4-byte aligned in memory (the usual case), else a copy.
  const data = start % 4 === 0
    ? new Float32Array(bytes.buffer, start, count)
    : new Float32Array(bytes.buffer.slice(start, start + 4 * count));
  return { index, embeddings: new Matrix(data, index.texts.length, index.dim) };
}

/** Only the index of a cache file (reads the header, not the embeddings); undefined when unreadable. */
async function readCacheIndex(path: string): Promise<CacheIndex | undefined> {
  try {
    using file = await Deno.open(path, { read: true });
    const head = new Uint8Array(12);
    if (await file.read(head) !== 12 || new TextDecoder().decode(head.subarray(0, 8)) !== CACHE_MAGIC) {
      return undefined;
    }
    const length = new DataView(head.buffer).getUint32(8, true);
    if (12 + length > (await file.stat()).size) return undefined;
    const header = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = await file.read(header.subarray(got));
      if (n === null) return undefined;
      got += n;
    }
    const index = JSON.parse(new TextDecoder().decode(header)) as CacheIndex;
    return Array.isArray(index?.texts) && typeof index.modelId === "string" ? index : undefined;
  } catch {
    return undefined; // the whole-file read that follows names the problem (or drops the file)
  }
}

/** Entries of a folder, or none when it does not exist yet. */
async function listDir(dir: string): Promise<Deno.DirEntry[]> {
  try {
    return await cacheFs(dir, "list the cache folder", () => Array.fromAsync(Deno.readDir(dir)));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function encodeCacheFile(index: Omit<CacheIndex, "sha256">, embeddings: Matrix): Uint8Array {
  const block = new Uint8Array(
    embeddings.data.buffer,
    embeddings.data.byteOffset,
    embeddings.data.byteLength,
  );
  const header = new TextEncoder().encode(JSON.stringify({ ...index, sha256: sha256(block) }));
  const payload = align4(12 + header.length);
  const bytes = new Uint8Array(payload + embeddings.data.byteLength);
  bytes.set(new TextEncoder().encode(CACHE_MAGIC), 0);
  new DataView(bytes.buffer).setUint32(8, header.length, true);
  bytes.set(header, 12);
  bytes.set(block, payload);
  return bytes;
}

/**
 * Text embeddings on disk, keyed by model id and text, each file checked by a sha256 of its embeddings.
 * @example
 * ```ts
 * import { TextEmbeddingCache } from "./text_cache.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const cache = new TextEmbeddingCache(await Deno.makeTempDir()); // default: .cache/clipkit/text (or $CLIPKIT_CACHE/text)
 * const e = await cache.encode(model, ["a red circle", "a blue square"]);
 * e.shape; // → [2, 64]
 * cache.lastStats; // → { texts: 2, hits: 0, encoded: 2, wholeFile: false }
 * await cache.encode(model, ["a red circle", "a blue square"]);
 * cache.lastStats; // → { texts: 2, hits: 2, encoded: 0, wholeFile: true } (read from disk)
 * ```
 */
export class TextEmbeddingCache {
  /** The folder holding one sub-folder per model. */
  readonly dir: string;
  /** What the last `encode` call found and encoded. */
  lastStats: CacheStats = { texts: 0, hits: 0, encoded: 0, wholeFile: false };
  /** Damaged files found, deleted and computed again since this cache object was made. */
  dropped = 0;
  readonly #onNotice: (message: string) => void;

  /** A cache in `dir` (default {@link defaultCacheDir}). */
  constructor(dir: string = defaultCacheDir(), options: TextCacheOptions = {}) {
    this.dir = dir;
    this.#onNotice = options.onNotice ?? ((m) => console.warn(m));
  }

  /**
   * The folder of one model's files.
   * @example
   * ```ts
   * import { TextEmbeddingCache } from "./text_cache.ts";
   * new TextEmbeddingCache("/tmp/cache").modelDir("tiny-clip-fp32-eb154070f1ceba75"); // → "/tmp/cache/a31fbd2f9031d2bb23264a5f"
   * ```
   */
  modelDir(modelId: string): string {
    return join(this.dir, sha256(modelId).slice(0, 24));
  }

  /**
   * Raw embeddings of `texts` (row `i` for `texts[i]`, duplicates allowed), from disk where cached, from
   * `model.encodeText` otherwise; the list is then stored as one file. Damaged files are dropped (deleted,
   * with a notice) and their texts encoded again.
   * @example
   * ```ts
   * import { TextEmbeddingCache } from "./text_cache.ts";
   * import { ClipModel } from "../model/clip_model.ts";
   * const model = await ClipModel.load("models/tiny-clip");
   * const cache = new TextEmbeddingCache(await Deno.makeTempDir());
   * (await cache.encode(model, ["a red circle", "a red circle"])).shape; // → [2, 64] (duplicates encoded once)
   * cache.lastStats; // → { texts: 1, hits: 0, encoded: 1, wholeFile: false }
   * ```
   */
  async encode(model: TextEncoderLike, texts: string[]): Promise<Matrix> {
    if (typeof model?.id !== "string" || model.id === "") {
      throw new CacheError(
        "the model has no id, and the cache needs model.id to tell models apart (ClipModel sets it)",
        { fix: "give your encoder a unique id string, or pass cache: false" },
      );
    }
    // Each distinct text once, and for each requested text the row of its distinct copy.
    const rowOf = new Map<string, number>();
    const unique: string[] = [];
    const rows = Int32Array.from(texts, (t) => {
      let r = rowOf.get(t);
      if (r === undefined) {
        r = unique.push(t) - 1;
        rowOf.set(t, r);
      }
      return r;
    });
    const dir = this.modelDir(model.id);
    const path = join(dir, `${sha256(JSON.stringify(unique)).slice(0, 32)}.bin`);
    let table: Matrix | undefined;
    const whole = await this.#read(path);
    const same = whole && whole.index.modelId === model.id && whole.index.texts.length === unique.length &&
      whole.index.texts.every((t, i) => t === unique[i]);
    if (whole && same) {
      table = whole.embeddings;
      this.lastStats = { texts: unique.length, hits: unique.length, encoded: 0, wholeFile: true };
    } else {
      table = await this.#assemble(model, dir, unique);
      await cacheFs(dir, "create the cache folder", () => Deno.mkdir(dir, { recursive: true }));
      const bytes = encodeCacheFile({ modelId: model.id, dim: table.cols, texts: unique }, table);
      await cacheFs(path, "write a cache file", () => writeAtomic(path, bytes));
    }
    if (unique.length === texts.length) return table; // no duplicates: rows already in order
    const d = table.cols, src = table.data;
    const out = new Float32Array(texts.length * d); // [texts, D]
    rows.forEach((r, i) => out.set(src.subarray(r * d, (r + 1) * d), i * d));
    return new Matrix(out, texts.length, d);
  }

  /**
   * Delete one model's cached files (or everything when no id is given).
   * @example
   * ```ts
   * import { TextEmbeddingCache } from "./text_cache.ts";
   * import { ClipModel } from "../model/clip_model.ts";
   * const model = await ClipModel.load("models/tiny-clip");
   * const cache = new TextEmbeddingCache(await Deno.makeTempDir());
   * await cache.encode(model, ["a red circle"]);
   * await cache.clear(model.id);
   * await cache.encode(model, ["a red circle"]);
   * cache.lastStats.encoded; // → 1 (encoded again after the clear)
   * ```
   */
  async clear(modelId?: string): Promise<void> {
    const target = modelId === undefined ? this.dir : this.modelDir(modelId);
    await cacheFs(target, "clear the cache", () => Deno.remove(target, { recursive: true })).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }

  /** A cache file, or undefined when it is absent or damaged (then deleted, with a notice). */
  async #read(path: string): Promise<{ index: CacheIndex; embeddings: Matrix } | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await cacheFs(path, "read a cache file", () => Deno.readFile(path));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
    try {
      return parseCacheFile(bytes);
    } catch (e) {
      if (!(e instanceof DamagedFile)) throw e;
      this.dropped++;
      this.#onNotice(
        `clipkit: dropped a damaged text-embedding cache file (${e.message}): ${path}; its texts are encoded again`,
      );
      await Deno.remove(path).catch(() => {}); // another process may have removed or replaced it already
      return undefined;
    }
  }

  /** Rows for `texts`: those other files of this model hold, the rest encoded now. */
  async #assemble(model: TextEncoderLike, dir: string, texts: string[]): Promise<Matrix> {
    const found = new Map<string, Float32Array>();
    let dim = -1;
    const wanted = new Set(texts);
    for (const entry of await listDir(dir)) {
      if (!entry.isFile || !entry.name.endsWith(".bin") || found.size === wanted.size) continue;
      const path = join(dir, entry.name);
      const index = await readCacheIndex(path);
      if (index && (index.modelId !== model.id || !index.texts.some((t) => wanted.has(t) && !found.has(t)))) {
        continue; // another model's, or nothing new in it: its embeddings are not read
      }
      const file = await this.#read(path); // checks the whole file (and drops it when damaged)
      if (!file || file.index.modelId !== model.id) continue;
      dim = file.embeddings.cols;
      file.index.texts.forEach((t, i) => {
        if (wanted.has(t) && !found.has(t)) found.set(t, file.embeddings.row(i));
      });
    }
    const missing = texts.filter((t) => !found.has(t));
    if (missing.length) {
      const e = await model.encodeText(missing); // [missing, D]; the model batches (and shows progress)
      if (e.rows !== missing.length) {
        throw new MatrixShapeError(`encodeText returned ${e.rows} rows for ${missing.length} texts`, {
          fix: "make the model's encodeText return one row per text",
        });
      }
      if (dim !== -1 && e.cols !== dim) {
        throw new CacheError(
          `model ${model.id} now gives ${e.cols}-wide embeddings but its cache holds ${dim}-wide ones`,
          { fix: `give the changed model a new id, or clear the cache (cache.clear("${model.id}"))` },
        );
      }
      assertFinite(e, "text embeddings");
      dim = e.cols;
      missing.forEach((t, i) => found.set(t, e.row(i)));
    }
    this.lastStats = {
      texts: texts.length,
      hits: texts.length - missing.length,
      encoded: missing.length,
      wholeFile: false,
    };
    const out = new Float32Array(texts.length * Math.max(dim, 0)); // [texts, D]
    texts.forEach((t, i) => out.set(found.get(t)!, i * dim));
    return new Matrix(out, texts.length, Math.max(dim, 0));
  }
}
