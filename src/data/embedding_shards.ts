/**
 * Embedding folders in clip-retrieval's layout: what `deno task embed` writes and `deno task search` reads,
 * and what clip-retrieval's own `clip-retrieval index` (autofaiss) takes.
 *
 * ```
 * OUT/embed.json                     how the folder was made (model, dtype, shard size, source): clipkit's
 * OUT/img_emb/img_emb_0.npy          [rows, D] unit image embeddings, float16 or float32
 * OUT/text_emb/text_emb_0.npy        [rows, D] unit caption embeddings (caption files only)
 * OUT/metadata/metadata_0.parquet    image_path, caption (caption files only), width, height: one row per row above
 * ```
 *
 * A shard is written file by file, each atomically, the metadata last: a shard whose metadata file exists is
 * complete, so a run that stops is continued from the first shard without one.
 * @module
 */
import { join } from "node:path";
import { EmbeddingStoreError, InputError } from "../errors.ts";
import { writeAtomic } from "../fs.ts";
import { Matrix } from "../math/matrix.ts";
import { decodeNpy, encodeNpy, type NpyDtype, readNpyHeader } from "./npy.ts";
import { decodeParquet, encodeParquet, type ParquetColumn, parquetRowCount } from "./parquet.ts";

/** The file beside the shards that records how they were made. */
export const MANIFEST_FILE = "embed.json";
/** Bytes read to parse a `.npy` header without reading its values. */
const NPY_HEADER_BYTES = 4096;

/** What `embed.json` records. */
export interface EmbedManifest {
  /** Always `"clip-retrieval"`: the folder layout. */
  layout: "clip-retrieval";
  /** `model.id`: the model's directory name, dtype and a hash of its weights. */
  modelId: string;
  /** The model directory as given. */
  model: string;
  /** Embedding width. */
  dim: number;
  /** Values stored in the `.npy` files. */
  dtype: NpyDtype;
  /** Dataset items per shard (a shard has fewer rows when some of its images could not be read). */
  shardSize: number;
  /** The image folder or caption file. */
  source: string;
  /** Number of dataset items (failed ones included). */
  items: number;
  /** Whether there are caption embeddings (`text_emb/`). */
  captions: boolean;
  /** Shards written when the run finished; absent while it runs. */
  shards?: number;
  /** Images that could not be read, with why (when the run skipped them). */
  failed?: { path: string; error: string }[];
}

/** The metadata of one shard, one entry per embedding row. */
export interface ShardMetadata {
  /** Image path of each row. */
  image_path: string[];
  /** Caption of each row (caption files only). */
  caption?: string[];
  /** Image width of each row, in pixels. */
  width: number[];
  /** Image height of each row, in pixels. */
  height: number[];
}

/** The contents of one shard. */
export interface ShardData {
  /** `[rows, D]` unit image embeddings. */
  image: Matrix;
  /** `[rows, D]` unit caption embeddings, for caption files. */
  text?: Matrix;
  /** One metadata entry per row. */
  metadata: ShardMetadata;
}

/** The paths of shard `n`'s files. */
export interface ShardFiles {
  image: string;
  text: string;
  metadata: string;
}

/**
 * Where shard `n`'s files go.
 * @example
 * ```ts
 * import { shardFiles } from "./embedding_shards.ts";
 * shardFiles("out", 3).image; // → "out/img_emb/img_emb_3.npy"
 * ```
 */
export function shardFiles(out: string, n: number): ShardFiles {
  return {
    image: join(out, "img_emb", `img_emb_${n}.npy`),
    text: join(out, "text_emb", `text_emb_${n}.npy`),
    metadata: join(out, "metadata", `metadata_${n}.parquet`),
  };
}

/**
 * Write shard `n`: the `.npy` files, then the metadata (each atomically; the metadata marks it complete).
 * @example
 * ```ts
 * import { writeShard } from "./embedding_shards.ts";
 * import { Matrix } from "../math/matrix.ts";
 * const out = await Deno.makeTempDir();
 * await writeShard(out, 0, {
 *   image: Matrix.fromRows([[0.6, 0.8]]),
 *   metadata: { image_path: ["a.png"], width: [32], height: [32] },
 * }, "float16");
 * ```
 */
export async function writeShard(out: string, n: number, shard: ShardData, dtype: NpyDtype): Promise<void> {
  const rows = shard.image.rows;
  const { image_path, caption, width, height } = shard.metadata;
  if (
    [image_path.length, width.length, height.length, caption?.length ?? rows, shard.text?.rows ?? rows].some((
      l,
    ) => l !== rows)
  ) {
    throw new InputError(`shard ${n}: metadata and embeddings disagree on the number of rows (${rows})`, {
      fix: "give one metadata entry (and one caption embedding) per image embedding",
    });
  }
  const files = shardFiles(out, n);
  await writeAtomic(files.image, encodeNpy(shard.image.data, [rows, shard.image.cols], dtype), {
    mkdir: true,
  });
  if (shard.text) {
    await writeAtomic(files.text, encodeNpy(shard.text.data, [rows, shard.text.cols], dtype), {
      mkdir: true,
    });
  }
  const columns: ParquetColumn[] = [{ name: "image_path", type: "STRING", data: image_path }];
  if (caption) columns.push({ name: "caption", type: "STRING", data: caption });
  columns.push({ name: "width", type: "INT32", data: width }, {
    name: "height",
    type: "INT32",
    data: height,
  });
  await writeAtomic(files.metadata, encodeParquet(columns), { mkdir: true });
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Rows and width of a `.npy` file from its header, checking that its size matches. */
async function npyShape(path: string): Promise<[number, number]> {
  using file = await Deno.open(path, { read: true });
  const head = new Uint8Array(NPY_HEADER_BYTES);
  const got = (await file.read(head)) ?? 0;
  const header = readNpyHeader(head.subarray(0, got), path);
  const size = (await file.stat()).size;
  const need = header.offset + header.shape[0] * header.shape[1] * (header.dtype === "float16" ? 2 : 4);
  if (size !== need) {
    throw new EmbeddingStoreError(`the .npy file has ${size} bytes, its header says ${need}`, {
      path,
      fix: "delete the shard's files and run `deno task embed` again to rewrite it",
    });
  }
  return header.shape;
}

/** One shard of an embedding folder. */
export interface ShardInfo {
  /** The shard number N (`img_emb_N.npy`). */
  index: number;
  /** Embedding rows in the shard. */
  rows: number;
  /** Paths of the shard's files. */
  files: ShardFiles;
  /** Whether `text_emb_N.npy` exists. */
  hasText: boolean;
}

/**
 * Shards 0, 1, … that are complete (metadata written, row counts agreeing), up to the first that is not.
 * @example
 * ```ts
 * import { completeShards } from "./embedding_shards.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * import { exportEmbeddings } from "../model/embedding_export.ts";
 * import { loadImageFiles } from "./image_folder.ts";
 * const out = await Deno.makeTempDir();
 * await exportEmbeddings(await ClipModel.load("models/tiny-clip"), await loadImageFiles("models/samples"), out, { shardSize: 5 });
 * (await completeShards(out)).length; // → 3 (a run stopped while writing a shard lists only those before it)
 * ```
 */
export async function completeShards(
  out: string,
  options: { captions?: boolean } = {},
): Promise<ShardInfo[]> {
  const shards: ShardInfo[] = [];
  for (let n = 0;; n++) {
    const files = shardFiles(out, n);
    if (!(await exists(files.metadata)) || !(await exists(files.image))) break;
    const hasText = await exists(files.text);
    if (options.captions && !hasText) break;
    const [rows] = await npyShape(files.image);
    const metaRows = parquetRowCount(await Deno.readFile(files.metadata), files.metadata);
    const textRows = hasText ? (await npyShape(files.text))[0] : rows;
    if (metaRows !== rows || textRows !== rows) {
      throw new EmbeddingStoreError(
        `shard ${n} has ${rows} image rows, ${textRows} text rows and ${metaRows} metadata rows`,
        { path: files.metadata, fix: `delete shard ${n}'s files and run \`deno task embed\` again` },
      );
    }
    shards.push({ index: n, rows, files, hasText });
  }
  return shards;
}

/** An embedding folder opened for reading: its shards, read one at a time. */
export interface EmbeddingFolder {
  /** The folder. */
  out: string;
  /** `embed.json`, when the folder has one (clip-retrieval's own folders do not). */
  manifest?: EmbedManifest;
  /** The complete shards, in order. */
  shards: ShardInfo[];
  /** Rows over all shards. */
  count: number;
  /** Embedding width. */
  dim: number;
}

/**
 * Open an embedding folder (clipkit's or clip-retrieval's): list its complete shards.
 * @example
 * ```ts
 * import { openEmbeddingFolder } from "./embedding_shards.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * import { exportEmbeddings } from "../model/embedding_export.ts";
 * import { loadImageFiles } from "./image_folder.ts";
 * const out = await Deno.makeTempDir();
 * await exportEmbeddings(await ClipModel.load("models/tiny-clip"), await loadImageFiles("models/samples"), out, { shardSize: 5 });
 * const folder = await openEmbeddingFolder(out);
 * [folder.count, folder.dim, folder.shards.length]; // → [12, 64, 3]
 * ```
 */
export async function openEmbeddingFolder(out: string): Promise<EmbeddingFolder> {
  if (!(await Deno.stat(out).then((s) => s.isDirectory, () => false))) {
    throw new EmbeddingStoreError("no such embedding folder", {
      path: out,
      fix: "make one with `deno task embed DIR --out OUT`",
    });
  }
  const manifest = await readManifest(out);
  const shards = await completeShards(out);
  if (shards.length === 0) {
    throw new EmbeddingStoreError(
      "the folder holds no complete shard (img_emb/img_emb_0.npy + metadata/metadata_0.parquet)",
      {
        path: out,
        fix: "run `deno task embed DIR --out OUT` (again) to write them",
      },
    );
  }
  const dim = (await npyShape(shards[0].files.image))[1];
  return { out, manifest, shards, count: shards.reduce((s, x) => s + x.rows, 0), dim };
}

/**
 * A shard's image (or caption) embeddings as float32.
 * @example
 * ```ts
 * import { openEmbeddingFolder, readShardEmbeddings } from "./embedding_shards.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * import { exportEmbeddings } from "../model/embedding_export.ts";
 * import { loadImageFiles } from "./image_folder.ts";
 * const out = await Deno.makeTempDir();
 * await exportEmbeddings(await ClipModel.load("models/tiny-clip"), await loadImageFiles("models/samples"), out, { shardSize: 5 });
 * const folder = await openEmbeddingFolder(out);
 * (await readShardEmbeddings(folder.shards[0])).shape; // → [5, 64]
 * ```
 */
export async function readShardEmbeddings(
  shard: ShardInfo,
  kind: "image" | "text" = "image",
): Promise<Matrix> {
  const path = kind === "image" ? shard.files.image : shard.files.text;
  const { data, shape } = decodeNpy(await Deno.readFile(path), path);
  return new Matrix(data, shape[0], shape[1]);
}

/**
 * A shard's metadata rows (`image_path`, `caption`, `width`, `height`).
 * @example
 * ```ts
 * import { openEmbeddingFolder, readShardMetadata } from "./embedding_shards.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * import { exportEmbeddings } from "../model/embedding_export.ts";
 * import { loadImageFiles } from "./image_folder.ts";
 * const out = await Deno.makeTempDir();
 * await exportEmbeddings(await ClipModel.load("models/tiny-clip"), await loadImageFiles("models/samples"), out, { shardSize: 5 });
 * const folder = await openEmbeddingFolder(out);
 * (await readShardMetadata(folder.shards[0]))[0]; // → { image_path: "models/samples/01_red_circle.png", width: 128, height: 128 }
 * ```
 */
export async function readShardMetadata(shard: ShardInfo): Promise<Record<string, unknown>[]> {
  return await decodeParquet(await Deno.readFile(shard.files.metadata), { name: shard.files.metadata });
}

/**
 * `embed.json` of a folder, or undefined when it has none.
 * @example
 * ```ts
 * import { readManifest } from "./embedding_shards.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * import { exportEmbeddings } from "../model/embedding_export.ts";
 * import { loadImageFiles } from "./image_folder.ts";
 * const out = await Deno.makeTempDir();
 * await exportEmbeddings(await ClipModel.load("models/tiny-clip"), await loadImageFiles("models/samples"), out, { shardSize: 5 });
 * (await readManifest(out))?.shardSize; // → 5
 * ```
 */
export async function readManifest(out: string): Promise<EmbedManifest | undefined> {
  const path = join(out, MANIFEST_FILE);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as EmbedManifest;
  } catch (error) {
    throw new EmbeddingStoreError(`${MANIFEST_FILE} is not valid JSON`, {
      path,
      fix: "delete the folder and embed again, or repair the file",
      cause: error,
    });
  }
}

/**
 * Write `embed.json` (atomically).
 * @example
 * ```ts
 * import { readManifest, writeManifest } from "./embedding_shards.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * import { exportEmbeddings } from "../model/embedding_export.ts";
 * import { loadImageFiles } from "./image_folder.ts";
 * const out = await Deno.makeTempDir();
 * await exportEmbeddings(await ClipModel.load("models/tiny-clip"), await loadImageFiles("models/samples"), out, { shardSize: 5 });
 * const manifest = (await readManifest(out))!;
 * await writeManifest(out, { ...manifest, source: "models/samples (copied)" });
 * (await readManifest(out))!.source; // → "models/samples (copied)"
 * ```
 */
export async function writeManifest(out: string, manifest: EmbedManifest): Promise<void> {
  await writeAtomic(join(out, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n", { mkdir: true });
}
