/**
 * A reader of safetensors files (the format PyTorch checkpoints are shared in on the Hugging Face hub),
 * that never holds a file twice in memory: the header is read once, then each tensor's byte range is read
 * from an open file handle when it is asked for.
 *
 * ```
 * file = u64 little-endian N │ N bytes of JSON header │ data
 * header = { "__metadata__"?: {string: string}, name: { dtype, shape, data_offsets: [begin, end] }, … }
 * offsets are relative to the start of the data; tensors are raw little-endian, row-major
 * ```
 *
 * `SafetensorsFile.open` checks the header against the file before anything is read: a file cut short,
 * a header that lies about a tensor's size, offsets that overlap, leave holes or point past the end, or a
 * dtype the format does not define are each a {@link SafetensorsError} with its `reason`.
 * `readFloat32` widens float16, bfloat16 and float64 tensors to float32 (exactly, for the two halves).
 * @module
 */
import { SafetensorsError } from "../errors.ts";

/** The dtypes the safetensors format defines, with their sizes in bytes. */
export const SAFETENSORS_DTYPES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
} as const;

/** A dtype name of the safetensors format. */
export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPES;

/** One tensor as the header describes it, with its byte range in the file. */
export interface TensorInfo {
  /** The tensor's name. */
  name: string;
  /** Its element type as stored. */
  dtype: SafetensorsDtype;
  /** Its shape. */
  shape: number[];
  /** Absolute offset of its first byte in the file. */
  begin: number;
  /** Absolute offset one past its last byte. */
  end: number;
}

/** The largest header the format allows (the reference implementation's limit: 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;
/** Bytes read per call when reading a tensor. */
const READ_CHUNK = 1 << 24;
const FIX_DOWNLOAD = "download the checkpoint again (a copy cut short or altered cannot be repaired)";

/** float16 bit pattern → float32, for all 65,536 patterns (built on first use; exact). */
let halfTable: Float32Array | undefined;

function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536); // [65536]
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    table[h] = exponent === 0
      ? sign * mantissa * 2 ** -24 // subnormal (and ±0)
      : exponent === 31
      ? (mantissa ? NaN : sign * Infinity)
      : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return halfTable = table;
}

/** Whether this machine stores numbers little-endian (safetensors data is little-endian). */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * An open safetensors file: its tensors (from the header) and reads of one tensor at a time.
 * Close it when done (`using file = await SafetensorsFile.open(path)` closes it at the end of the scope).
 * @example
 * ```ts
 * using file = await SafetensorsFile.open("../shared/fixtures/clip-tiny-checkpoints/openclip/open_clip_model.safetensors");
 * file.tensors.get("visual.conv1.weight"); // → { name: "visual.conv1.weight", dtype: "F32", shape: [64, 3, 16, 16], … }
 * (await file.readFloat32("logit_scale"))[0]; // → 2.6592600345611572
 * ```
 */
export class SafetensorsFile {
  /** The file's path. */
  readonly path: string;
  /** Tensors by name, in header order. */
  readonly tensors: Map<string, TensorInfo>;
  /** The header's `__metadata__` (free-form strings, e.g. `{ format: "pt" }`). */
  readonly metadata: Record<string, string>;
  /** File size in bytes. */
  readonly size: number;
  #file: Deno.FsFile;

  private constructor(
    path: string,
    file: Deno.FsFile,
    size: number,
    tensors: Map<string, TensorInfo>,
    metadata: Record<string, string>,
  ) {
    this.path = path;
    this.#file = file;
    this.size = size;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Open a file and check its header against its size (throws {@link SafetensorsError}). */
  static async open(path: string): Promise<SafetensorsFile> {
    const file = await Deno.open(path, { read: true });
    try {
      const size = (await file.stat()).size;
      const head = new Uint8Array(8);
      if (size < 8 || await readFully(file, head, 0) < 8) {
        throw new SafetensorsError(
          "truncated",
          `the file has ${size} bytes, fewer than the 8 of its header length`,
          {
            path,
            fix: FIX_DOWNLOAD,
          },
        );
      }
      const headerBytes = Number(new DataView(head.buffer).getBigUint64(0, true));
      if (headerBytes > MAX_HEADER_BYTES) {
        throw new SafetensorsError(
          "bad-header",
          `the header claims ${headerBytes} bytes, more than the 100 MB limit`,
          {
            path,
            fix: "this is not a safetensors file, or its first 8 bytes are damaged: " + FIX_DOWNLOAD,
          },
        );
      }
      if (8 + headerBytes > size) {
        throw new SafetensorsError(
          "truncated",
          `the header claims ${headerBytes} bytes but the file ends ${size - 8} bytes after the length`,
          { path, fix: FIX_DOWNLOAD },
        );
      }
      const json = new Uint8Array(headerBytes);
      await readFully(file, json, 8);
      const { tensors, metadata } = parseHeader(json, 8 + headerBytes, size, path);
      return new SafetensorsFile(path, file, size, tensors, metadata);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /**
   * The raw little-endian bytes of one tensor, in a buffer of their own (aligned for any typed array).
   * @example
   * ```ts
   * using file = await SafetensorsFile.open("../shared/fixtures/clip-tiny-checkpoints/hf/model.safetensors");
   * (await file.readBytes("logit_scale")).length; // → 4
   * ```
   */
  async readBytes(name: string): Promise<Uint8Array> {
    const info = this.#info(name);
    const bytes = new Uint8Array(info.end - info.begin);
    const n = await readFully(this.#file, bytes, info.begin);
    if (n < bytes.length) {
      throw new SafetensorsError(
        "truncated",
        `the file ended while reading ${name} (it shrank after opening)`,
        {
          path: this.path,
          fix: FIX_DOWNLOAD,
        },
      );
    }
    return bytes;
  }

  /**
   * One floating-point tensor as float32 (F32 as stored; F16 and BF16 widened exactly; F64 rounded).
   * Integer and boolean tensors (buffers such as `position_ids`) are a {@link SafetensorsError}.
   * @example
   * ```ts
   * using file = await SafetensorsFile.open("../shared/fixtures/clip-tiny-checkpoints/hf/model.safetensors");
   * (await file.readFloat32("vision_model.embeddings.class_embedding")).length; // → 64
   * ```
   */
  async readFloat32(name: string): Promise<Float32Array> {
    const info = this.#info(name);
    if (!LITTLE_ENDIAN) {
      throw new SafetensorsError(
        "unsupported-dtype",
        "this machine is big-endian; safetensors data is little-endian",
        {
          path: this.path,
          fix: "convert the checkpoint on a little-endian machine (x86-64, ARM)",
        },
      );
    }
    const bytes = await this.readBytes(name);
    const count = bytes.length / SAFETENSORS_DTYPES[info.dtype];
    switch (info.dtype) {
      case "F32":
        return new Float32Array(bytes.buffer, 0, count); // [numel]
      case "F16": {
        const table = halfToFloatTable();
        const halves = new Uint16Array(bytes.buffer, 0, count);
        const out = new Float32Array(count); // [numel]
        for (let i = 0; i < count; i++) out[i] = table[halves[i]];
        return out;
      }
      case "BF16": {
        // bfloat16 is the top half of a float32: shift it back into place.
        const halves = new Uint16Array(bytes.buffer, 0, count);
        const out = new Uint32Array(count); // [numel]
        for (let i = 0; i < count; i++) out[i] = halves[i] << 16;
        return new Float32Array(out.buffer);
      }
      case "F64":
        return Float32Array.from(new Float64Array(bytes.buffer, 0, count));
      default:
        throw new SafetensorsError(
          "unsupported-dtype",
          `tensor ${name} is ${info.dtype}, not a floating-point weight (F32, F16, BF16 or F64)`,
          {
            path: this.path,
            fix: "read only weight tensors as floats; integer buffers hold ids, not weights",
          },
        );
    }
  }

  /** Close the file handle. */
  close(): void {
    this.#file.close();
  }

  /** Close the file (what `using` calls). */
  [Symbol.dispose](): void {
    this.close();
  }

  #info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) {
      throw new SafetensorsError("bad-header", `no tensor named ${name}`, {
        path: this.path,
        fix: `use one of the file's ${this.tensors.size} names (file.tensors.keys())`,
      });
    }
    return info;
  }
}

/**
 * Check a header's JSON against the file: known dtypes, sizes that match shapes, offsets that tile the
 * data exactly (sorted by offset: no overlap, no hole, ending where the file ends).
 */
function parseHeader(
  json: Uint8Array,
  dataStart: number,
  fileSize: number,
  path: string,
): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  const bad = (problem: string, reason: "bad-header" | "bad-offsets" | "unknown-dtype" = "bad-header") =>
    new SafetensorsError(reason, problem, { path, fix: FIX_DOWNLOAD });
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch (error) {
    throw new SafetensorsError(
      "bad-header",
      `the header is not valid UTF-8 JSON (${(error as Error).message})`,
      {
        path,
        fix: "this is not a safetensors file, or it is damaged: " + FIX_DOWNLOAD,
        cause: error,
      },
    );
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw bad("the header is not a JSON object");
  }
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
        throw bad("__metadata__ is not an object of strings");
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== "object" || e === null) throw bad(`the entry of ${name} is not an object`);
    if (typeof e.dtype !== "string" || !(e.dtype in SAFETENSORS_DTYPES)) {
      throw new SafetensorsError("unknown-dtype", `tensor ${name} has dtype ${JSON.stringify(e.dtype)}`, {
        path,
        fix: `safetensors defines ${
          Object.keys(SAFETENSORS_DTYPES).join(", ")
        }: save the checkpoint with one of them`,
      });
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw bad(`tensor ${name} has shape ${JSON.stringify(shape)}, not a list of sizes`);
    }
    const offsets = e.data_offsets;
    if (
      !Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) =>
        Number.isSafeInteger(o) && o >= 0
      ) ||
      offsets[1] < offsets[0]
    ) {
      throw bad(
        `tensor ${name} has data_offsets ${JSON.stringify(offsets)}, not [begin, end]`,
        "bad-offsets",
      );
    }
    const dtype = e.dtype as SafetensorsDtype;
    const expected = shape.reduce((a: number, b: number) => a * b, 1) * SAFETENSORS_DTYPES[dtype];
    const stored = offsets[1] - offsets[0];
    if (stored !== expected) {
      throw bad(
        `the header lies about ${name}: ${dtype} [${shape}] needs ${expected} bytes, its offsets span ${stored}`,
      );
    }
    tensors.set(name, { name, dtype, shape, begin: dataStart + offsets[0], end: dataStart + offsets[1] });
  }
  const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = dataStart;
  for (const t of sorted) {
    if (t.begin < at) {
      const other = sorted.find((o) => o !== t && o.begin <= t.begin && o.end > t.begin)?.name ??
        "another tensor";
      throw bad(`tensor ${t.name} overlaps ${other} (bytes ${t.begin - dataStart}…)`, "bad-offsets");
    }
    if (t.begin > at) {
      throw bad(
        `the bytes ${at - dataStart}…${t.begin - dataStart} belong to no tensor (a hole)`,
        "bad-offsets",
      );
    }
    at = t.end;
  }
  if (at > fileSize) {
    const last = sorted.at(-1)!;
    throw new SafetensorsError(
      "truncated",
      `the file is cut short: ${last.name} ends at byte ${at}, the file at ${fileSize}`,
      { path, fix: FIX_DOWNLOAD },
    );
  }
  if (at < fileSize) {
    throw bad(`${fileSize - at} bytes after the last tensor belong to no tensor`, "bad-offsets");
  }
  return { tensors, metadata };
}

/** Read `into.length` bytes from `offset` (fewer only at the end of the file); returns how many were read. */
async function readFully(file: Deno.FsFile, into: Uint8Array, offset: number): Promise<number> {
  await file.seek(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < into.length) {
    const n = await file.read(into.subarray(done, Math.min(into.length, done + READ_CHUNK)));
    if (n === null) break;
    done += n;
  }
  return done;
}
