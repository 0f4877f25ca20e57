/**
 * NumPy's `.npy` format (version 1.0) for 2-D float matrices: what clip-retrieval writes its embeddings
 * as, and what `numpy.load` reads.
 *
 * ```
 * \x93NUMPY  01 00  <uint16 LE header length>  {'descr': '<f4', 'fortran_order': False, 'shape': (N, D), }␠…␠\n
 * then N × D little-endian values, row after row
 * ```
 * The header is padded with spaces so that the data starts at a multiple of 64 bytes, as NumPy does.
 * @module
 */
import { NpyError } from "../errors.ts";

/** The dtypes written and read: float32 (`<f4`) and float16 (`<f2`). */
export type NpyDtype = "float32" | "float16";

/** A 2-D array read from a `.npy` file. */
export interface NpyArray {
  /** The dtype stored in the file. */
  dtype: NpyDtype;
  /** `[rows, cols]`. */
  shape: [number, number];
  /** The values as float32 (float16 files are widened exactly). */
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const DESCR: Record<NpyDtype, string> = { float32: "<f4", float16: "<f2" };
const BYTES: Record<NpyDtype, number> = { float32: 4, float16: 2 };
/** NumPy aligns the start of the data to this many bytes. */
const ALIGN = 64;

/**
 * Encode a row-major `[rows, cols]` float matrix as a `.npy` file (format 1.0), in float32 or float16
 * (rounded to nearest, ties to even, as NumPy's `astype(np.float16)`).
 * @example
 * ```ts
 * import { encodeNpy } from "./npy.ts";
 * const bytes = encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * bytes.length; // → 152: the header padded to 128 bytes, then 6 × 4 bytes
 * ```
 */
export function encodeNpy(
  data: Float32Array,
  shape: [number, number],
  dtype: NpyDtype = "float32",
): Uint8Array {
  const [rows, cols] = shape;
  if (!(dtype in DESCR)) {
    throw new NpyError(`unsupported npy dtype "${dtype}"`, { fix: "use float32 or float16" });
  }
  if (
    !Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || rows * cols !== data.length
  ) {
    throw new NpyError(`shape [${shape}] does not fit ${data.length} values`, {
      fix: "pass [rows, cols] with rows × cols = data.length",
    });
  }
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1;
  const headerLength = Math.ceil(unpadded / ALIGN) * ALIGN - (MAGIC.length + 4);
  const header = dict.padEnd(headerLength - 1, " ") + "\n";
  const start = MAGIC.length + 4 + headerLength;
  const out = new Uint8Array(start + data.length * BYTES[dtype]);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  new DataView(out.buffer).setUint16(8, headerLength, true);
  for (let k = 0; k < header.length; k++) out[10 + k] = header.charCodeAt(k);
  const values = dtype === "float32" ? new Float32Array(data) : Float16Array.from(data); // little-endian hosts
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), start);
  return out;
}

/** The parsed header of a `.npy` file: dtype, shape and where the values start. */
export interface NpyHeader {
  dtype: NpyDtype;
  shape: [number, number];
  /** Byte offset of the first value. */
  offset: number;
}

/**
 * Parse the header of a `.npy` file (format 1.0–3.0, a C-order 2-D float32 or float16 array).
 * @example
 * ```ts
 * import { encodeNpy, readNpyHeader } from "./npy.ts";
 * readNpyHeader(encodeNpy(new Float32Array(6), [2, 3], "float16"));
 * // → { dtype: "float16", shape: [2, 3], offset: 128 }
 * ```
 */
export function readNpyHeader(bytes: Uint8Array, name = "<bytes>"): NpyHeader {
  const bad = (problem: string) =>
    new NpyError(problem, { path: name, fix: "write it with numpy.save, or run `deno task embed` again" });
  if (bytes.length < 10 || MAGIC.some((b, k) => bytes[k] !== b)) {
    throw bad("not a .npy file (no \\x93NUMPY magic)");
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [headerLength, at] = major === 1 ? [view.getUint16(8, true), 10] : [view.getUint32(8, true), 12];
  if (major < 1 || major > 3) throw bad(`.npy format version ${major} is not known`);
  if (bytes.length < at + headerLength) throw bad("the .npy header is cut short");
  const header = new TextDecoder().decode(bytes.subarray(at, at + headerLength));
  const descr = header.match(/'descr':\s*'([^']+)'/)?.[1];
  const fortran = header.match(/'fortran_order':\s*(True|False)/)?.[1];
  const shapeText = header.match(/'shape':\s*\(([^)]*)\)/)?.[1];
  if (!descr || !fortran || shapeText === undefined) {
    throw bad(`unreadable .npy header ${JSON.stringify(header)}`);
  }
  const dtype = (Object.keys(DESCR) as NpyDtype[]).find((d) => DESCR[d] === descr);
  if (!dtype) throw bad(`.npy dtype ${descr} is not float32 (<f4) or float16 (<f2)`);
  if (fortran === "True") throw bad("the .npy array is in Fortran order");
  const dims = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (dims.length !== 2 || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw bad(`the .npy array has shape (${shapeText}), not (rows, cols)`);
  }
  return { dtype, shape: [dims[0], dims[1]], offset: at + headerLength };
}

/**
 * Read a 2-D float32 or float16 `.npy` file's bytes into float32 values.
 * @example
 * ```ts
 * import { decodeNpy, encodeNpy } from "./npy.ts";
 * decodeNpy(encodeNpy(new Float32Array([0.1, 0.2]), [1, 2], "float16")).data;
 * // → Float32Array [0.0999755859375, 0.199951171875]
 * ```
 */
export function decodeNpy(bytes: Uint8Array, name = "<bytes>"): NpyArray {
  const { dtype, shape, offset } = readNpyHeader(bytes, name);
  const count = shape[0] * shape[1];
  const need = offset + count * BYTES[dtype];
  if (bytes.length !== need) {
    throw new NpyError(`the .npy file has ${bytes.length} bytes, its header says ${need}`, {
      path: name,
      fix: "the file is truncated or damaged: write it again (`deno task embed` redoes an incomplete shard)",
    });
  }
  const raw = bytes.slice(offset, need).buffer; // a copy, aligned for the typed array
  const data = dtype === "float32" ? new Float32Array(raw) : Float32Array.from(new Float16Array(raw));
  return { dtype, shape, data };
}

/**
 * Read a `.npy` file from disk.
 * @example
 * ```ts
 * import { encodeNpy, readNpy } from "./npy.ts";
 * const path = `${await Deno.makeTempDir()}/img_emb_0.npy`;
 * await Deno.writeFile(path, encodeNpy(new Float32Array(3 * 64), [3, 64]));
 * const { shape } = await readNpy(path);
 * shape; // → [3, 64]
 * ```
 */
export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    throw new NpyError(`cannot read the .npy file (${(error as Error).message})`, {
      path,
      fix: "check the path",
      cause: error,
    });
  }
  return decodeNpy(bytes, path);
}
