/**
 * Parquet tables of strings and integers: the metadata files beside embedding shards
 * (`metadata/metadata_N.parquet`, as clip-retrieval writes them).
 *
 * columns `{ name: values[] }` → hyparquet-writer (pure JavaScript, Snappy-compressed, one row group)
 * → bytes; bytes → hyparquet → rows. Both libraries are plain ECMAScript modules without native code, so
 * they run unchanged under Deno, Node and in a browser.
 * @module
 */
// @ts-types="./hyparquet_writer.d.ts"
import { parquetWriteBuffer } from "hyparquet-writer";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { InputError, MalformedFileError } from "../errors.ts";

/** A column to write: strings (Parquet `STRING`) or whole numbers (`INT32`). */
export type ParquetColumn = { name: string; type: "STRING"; data: string[] } | {
  name: string;
  type: "INT32";
  data: number[] | Int32Array;
};

/**
 * Encode columns of equal length as one Parquet file.
 * @example
 * ```ts
 * import { encodeParquet } from "./parquet.ts";
 * const bytes = encodeParquet([
 *   { name: "image_path", type: "STRING", data: ["a.png", "b.png"] },
 *   { name: "width", type: "INT32", data: [32, 64] },
 * ]);
 * new TextDecoder().decode(bytes.subarray(0, 4)); // → "PAR1"
 * ```
 */
export function encodeParquet(columns: readonly ParquetColumn[]): Uint8Array {
  const lengths = new Set(columns.map((c) => c.data.length));
  if (lengths.size > 1) {
    throw new InputError(
      `Parquet columns of different lengths: ${columns.map((c) => c.data.length).join(", ")}`,
      {
        fix: "give every column one value per row",
      },
    );
  }
  const buffer = parquetWriteBuffer({
    columnData: columns.map((c) => ({
      name: c.name,
      type: c.type,
      data: c.type === "INT32" ? Int32Array.from(c.data) : c.data,
      nullable: false,
    })),
    createdBy: "clipkit (hyparquet-writer)",
  });
  return new Uint8Array(buffer);
}

/**
 * Decode a Parquet file into one object per row.
 * @example
 * ```ts
 * import { decodeParquet, encodeParquet } from "./parquet.ts";
 * await decodeParquet(encodeParquet([{ name: "image_path", type: "STRING", data: ["a.png"] }]));
 * // → [{ image_path: "a.png" }]
 * ```
 */
export async function decodeParquet(
  bytes: Uint8Array,
  options: { columns?: string[]; name?: string } = {},
): Promise<Record<string, unknown>[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  try {
    return await parquetReadObjects({ file, columns: options.columns, rowFormat: "object" });
  } catch (error) {
    throw new MalformedFileError(`not a readable Parquet file (${(error as Error).message})`, {
      path: options.name,
      fix: "write it again (`deno task embed` redoes an incomplete shard)",
      cause: error,
    });
  }
}

/**
 * The number of rows of a Parquet file, from its footer (no column is decoded).
 * @example
 * ```ts
 * import { encodeParquet, parquetRowCount } from "./parquet.ts";
 * parquetRowCount(encodeParquet([{ name: "width", type: "INT32", data: [1, 2, 3] }])); // → 3
 * ```
 */
export function parquetRowCount(bytes: Uint8Array, name?: string): number {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  try {
    return Number(parquetMetadata(file).num_rows);
  } catch (error) {
    throw new MalformedFileError(`not a readable Parquet file (${(error as Error).message})`, {
      path: name,
      fix: "write it again (`deno task embed` redoes an incomplete shard)",
      cause: error,
    });
  }
}
