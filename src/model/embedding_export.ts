/**
 * Writing a dataset's embeddings to disk in clip-retrieval's layout, shard by shard, resumably.
 *
 * dataset items [n·S, (n+1)·S) → embed the images (and captions) → unit rows → `img_emb_n.npy`
 * (+ `text_emb_n.npy`) → `metadata_n.parquet` (written last: it marks the shard complete) → `embed.json`.
 * A run that stops (killed, out of disk) is continued by the next one from the first incomplete shard;
 * the shard it was writing is written again whole. See `src/data/embedding_shards.ts` for the layout.
 * @module
 */
import { join } from "node:path";
import { EmbeddingStoreError, InputError } from "../errors.ts";
import { Matrix } from "../math/matrix.ts";
import { normalize } from "../math/similarity.ts";
import type { DatasetItem, ImageDataset } from "../data/dataset.ts";
import {
  completeShards,
  type EmbedManifest,
  readManifest,
  type ShardMetadata,
  writeManifest,
  writeShard,
} from "../data/embedding_shards.ts";
import type { NpyDtype } from "../data/npy.ts";
import { embedBatches, type ImageEmbedder } from "./embed_dataset.ts";
import { Progress, type ProgressOutput } from "./progress.ts";

/** Dataset items per shard when the caller does not say. */
export const DEFAULT_SHARD_SIZE = 10_000;

/** What exporting needs from a model (`ClipModel` has it). */
export interface ExportModel extends ImageEmbedder {
  encodeText(texts: string[], options?: { truncate?: boolean; progress?: boolean }): Promise<Matrix>;
}

/** Options of {@link exportEmbeddings}. */
export interface ExportOptions {
  /** Values in the `.npy` files (default float16, as clip-retrieval writes them). */
  dtype?: NpyDtype;
  /** Dataset items per shard (default 10,000). */
  shardSize?: number;
  /** Images per encoder batch (default 32). */
  batchSize?: number;
  /** The model directory, recorded in `embed.json`. */
  modelDir?: string;
  /** The dataset's file or folder, recorded in `embed.json` (and checked when resuming). */
  source?: string;
  /** Start again, ignoring what is in `out` (default false: continue a stopped run). */
  overwrite?: boolean;
  /** Progress bar (default true). */
  progress?: boolean | ProgressOutput;
  /** Called once the shards already complete are known, before any is written. */
  onStart?: (info: { resumed: number; shards: number }) => void;
  /** Called after each shard is written. */
  onShard?: (shard: { index: number; rows: number; failed: number }) => void;
}

/** What {@link exportEmbeddings} did. */
export interface ExportResult {
  /** What `embed.json` now records. */
  manifest: EmbedManifest;
  /** Shards found complete from an earlier run, and shards written now. */
  resumed: number;
  /** Shards written by this call. */
  written: number;
  /** Rows over all shards. */
  rows: number;
}

/**
 * Embed a dataset into `out` in clip-retrieval's layout (`img_emb/`, `text_emb/` for captions, `metadata/`,
 * plus clipkit's `embed.json`), continuing a stopped run.
 * @example
 * ```ts
 * import { exportEmbeddings } from "./embedding_export.ts";
 * import { ClipModel } from "./clip_model.ts";
 * import { loadImageFiles } from "../data/image_folder.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const data = await loadImageFiles("models/samples");
 * const out = await Deno.makeTempDir();
 * const { rows, written } = await exportEmbeddings(model, data, out, { shardSize: 5 });
 * [rows, written]; // → [12, 3] (shards of 5, 5 and 2 rows)
 * ```
 */
export async function exportEmbeddings<T extends DatasetItem & { caption?: string }>(
  model: ExportModel,
  dataset: ImageDataset<T>,
  out: string,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const shardSize = options.shardSize ?? DEFAULT_SHARD_SIZE;
  if (!Number.isInteger(shardSize) || shardSize < 1) {
    throw new InputError(`shardSize must be a positive integer, got ${shardSize}`, {
      fix: "pass e.g. { shardSize: 10000 }",
    });
  }
  const captions = dataset.items.length > 0 && typeof dataset.items[0].caption === "string";
  const manifest: EmbedManifest = {
    layout: "clip-retrieval",
    modelId: model.id,
    model: options.modelDir ?? model.id,
    dim: model.dim,
    dtype: options.dtype ?? "float16",
    shardSize,
    source: options.source ?? "",
    items: dataset.length,
    captions,
  };
  const previous = options.overwrite ? undefined : await readManifest(out);
  if (previous) checkResumable(previous, manifest, out);
  const done = options.overwrite || !previous ? [] : await completeShards(out, { captions });
  if (options.overwrite) {
    for (const dir of ["img_emb", "text_emb", "metadata"]) {
      await Deno.remove(join(out, dir), { recursive: true }).catch(() => {});
    }
  }
  const kept = new Set(dataset.items.slice(0, done.length * shardSize).map((item) => item.path));
  const failed = (previous?.failed ?? []).filter((f) => kept.has(f.path));
  const shardCount = Math.ceil(dataset.length / shardSize);
  await writeManifest(out, { ...manifest, failed });

  const start = done.length * shardSize;
  options.onStart?.({ resumed: done.length, shards: shardCount });
  const draw = options.progress ?? true;
  const bar = new Progress(dataset.length - start, {
    label: "embedding",
    unit: "images",
    output: draw === false || start >= dataset.length ? "none" : draw === true ? "auto" : draw,
  });
  let written = 0;
  for (let n = done.length; n < shardCount; n++) {
    const from = n * shardSize, to = Math.min(dataset.length, from + shardSize);
    const parts: Float32Array[] = [];
    const metadata: ShardMetadata = {
      image_path: [],
      width: [],
      height: [],
      ...(captions ? { caption: [] } : {}),
    };
    let shardFailed = 0;
    for await (
      const { batch, embeddings } of embedBatches(model, dataset, {
        start: from,
        end: to,
        batchSize: options.batchSize,
        progress: false,
      })
    ) {
      parts.push(embeddings.data);
      batch.items.forEach((item, i) => {
        metadata.image_path.push(item.path);
        metadata.caption?.push(item.caption ?? "");
        metadata.width.push(batch.images[i].width);
        metadata.height.push(batch.images[i].height);
      });
      for (const f of batch.failed) failed.push({ path: f.path, error: f.error.message });
      shardFailed += batch.failed.length;
      bar.update(batch.end - start);
    }
    const rows = metadata.image_path.length;
    const data = new Float32Array(rows * model.dim); // [rows, D]
    parts.reduce((at, part) => (data.set(part, at), at + part.length), 0);
    const image = rows ? normalize(new Matrix(data, rows, model.dim)) : new Matrix(data, 0, model.dim);
    const text = captions && rows
      ? normalize(await model.encodeText(metadata.caption!, { truncate: true, progress: false }))
      : captions
      ? new Matrix(new Float32Array(0), 0, model.dim)
      : undefined;
    await writeShard(out, n, { image, text, metadata }, manifest.dtype);
    await writeManifest(out, { ...manifest, failed });
    written++;
    options.onShard?.({ index: n, rows, failed: shardFailed });
  }
  bar.finish();
  const shards = await completeShards(out, { captions });
  const final: EmbedManifest = { ...manifest, shards: shards.length, failed };
  await writeManifest(out, final);
  return { manifest: final, resumed: done.length, written, rows: shards.reduce((s, x) => s + x.rows, 0) };
}

/** Refuse to continue a folder made with other settings: its shards would not line up with this run's. */
function checkResumable(previous: EmbedManifest, next: EmbedManifest, out: string): void {
  const keys = ["modelId", "dtype", "shardSize", "source", "items", "captions"] as const;
  const differ = keys.filter((k) => previous[k] !== next[k]);
  if (differ.length) {
    const what = differ.map((k) => `${k} ${JSON.stringify(previous[k])} → ${JSON.stringify(next[k])}`).join(
      ", ",
    );
    throw new EmbeddingStoreError(`the folder holds embeddings made with other settings (${what})`, {
      path: out,
      fix: "use another --out folder, or pass --overwrite to start again",
    });
  }
}
