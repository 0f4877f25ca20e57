/**
 * A GIF decoder for the first frame, with PIL's rules for it (Pillow 9.4 `GifImagePlugin`).
 *
 * The image has the logical screen size (grown if the frame passes its edge); pixels outside the frame are the
 * transparent index when there is one, else 0. The mode is `P` with the frame's palette (local, else global), or `L`
 * when that palette is the identity grey ramp or absent (PIL's `_is_palette_needed`).
 */
import { ImageError } from "../errors.ts";
import type { DecodedImage } from "./types.ts";

/** Whether `bytes` start with `GIF87a` or `GIF89a`. */
export function isGif(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46 &&
    bytes[3] === 0x38 &&
    (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61;
}

/**
 * The logical screen size from the 13-byte header, for size checks before decoding.
 * @example
 * ```ts
 * import { readGifSize } from "./gif.ts";
 * const bytes = await Deno.readFile("../shared/golden/preprocess/inputs/no_time_for_that_tiny.gif");
 * readGifSize(bytes, "no_time_for_that_tiny.gif"); // → { width: 14, height: 25 }
 * ```
 */
export function readGifSize(bytes: Uint8Array, source: string): { width: number; height: number } {
  if (bytes.length < 13) throw truncated(source, "its header");
  return { width: bytes[6] | (bytes[7] << 8), height: bytes[8] | (bytes[9] << 8) };
}

function truncated(source: string, where: string): ImageError {
  return new ImageError("truncated", `the GIF file ends inside ${where}`, {
    source,
    fix: "the file was cut short; download or copy it again",
  });
}

/** A 256-entry RGB palette: `colors` first, then PIL's default grey ramp (i, i, i) for the entries not given. */
function paletteOf(colors: Uint8Array): Uint8Array {
  const p = new Uint8Array(768);
  for (let i = 0; i < 256; i++) p[i * 3] = p[i * 3 + 1] = p[i * 3 + 2] = i;
  p.set(colors.subarray(0, 768));
  return p;
}

function isPaletteNeeded(colors: Uint8Array): boolean {
  for (let i = 0; i + 2 < colors.length; i += 3) {
    const v = i / 3;
    if (colors[i] !== v || colors[i + 1] !== v || colors[i + 2] !== v) return true;
  }
  return false;
}

/**
 * Decodes the first frame of a GIF into mode `P` (or `L`), as `PIL.Image.open` does. `checkSize` may refuse the
 * frame's size (it throws) before the pixels are allocated.
 * @example
 * ```ts
 * import { decodeGif } from "./gif.ts";
 * const img = decodeGif(await Deno.readFile("../shared/golden/preprocess/inputs/no_time_for_that_tiny.gif"), "no_time_for_that_tiny.gif");
 * [img.mode, img.width, img.height]; // → ["P", 14, 25]
 * ```
 */
export function decodeGif(
  bytes: Uint8Array,
  source: string,
  checkSize: (width: number, height: number) => void = () => {},
): DecodedImage {
  let { width, height } = readGifSize(bytes, source);
  const flags = bytes[10];
  let pos = 13;
  let globalColors: Uint8Array | undefined;
  if (flags & 0x80) {
    const n = 3 << ((flags & 7) + 1);
    if (pos + n > bytes.length) throw truncated(source, "its global palette");
    globalColors = bytes.subarray(pos, pos + n);
    pos += n;
  }
  let transparency: number | undefined;
  const skipBlocks = () => {
    while (true) {
      if (pos >= bytes.length) throw truncated(source, "a data block");
      const n = bytes[pos++];
      if (n === 0) return;
      pos += n;
    }
  };
  while (true) {
    if (pos >= bytes.length) throw truncated(source, "its first frame");
    const tag = bytes[pos++];
    if (tag === 0x3b) {
      throw new ImageError("corrupt", "the GIF file has no image frame", {
        source,
        fix: "the file is damaged or empty; re-export it",
      });
    }
    if (tag === 0x21) {
      if (pos + 1 > bytes.length) throw truncated(source, "an extension");
      const label = bytes[pos++];
      if (label === 0xf9 && pos + 5 <= bytes.length && bytes[pos] >= 4 && (bytes[pos + 1] & 1)) {
        transparency = bytes[pos + 4];
      }
      skipBlocks();
      continue;
    }
    if (tag !== 0x2c) continue; // PIL skips unknown bytes between blocks
    if (pos + 9 > bytes.length) throw truncated(source, "an image descriptor");
    const x0 = bytes[pos] | (bytes[pos + 1] << 8), y0 = bytes[pos + 2] | (bytes[pos + 3] << 8);
    const fw = bytes[pos + 4] | (bytes[pos + 5] << 8), fh = bytes[pos + 6] | (bytes[pos + 7] << 8);
    const fflags = bytes[pos + 8];
    pos += 9;
    width = Math.max(width, x0 + fw);
    height = Math.max(height, y0 + fh);
    checkSize(width, height);
    let colors = globalColors && isPaletteNeeded(globalColors) ? globalColors : undefined;
    if (fflags & 0x80) {
      const n = 3 << ((fflags & 7) + 1);
      if (pos + n > bytes.length) throw truncated(source, "a local palette");
      const local = bytes.subarray(pos, pos + n);
      colors = isPaletteNeeded(local) ? local : undefined;
      pos += n;
    }
    if (pos >= bytes.length) throw truncated(source, "its first frame");
    const minCodeSize = bytes[pos++];
    // Gather the LZW sub-blocks.
    const chunks: Uint8Array[] = [];
    let total = 0;
    while (true) {
      if (pos >= bytes.length) throw truncated(source, "its first frame's image data");
      const n = bytes[pos++];
      if (n === 0) break;
      if (pos + n > bytes.length) throw truncated(source, "its first frame's image data");
      chunks.push(bytes.subarray(pos, pos + n));
      total += n;
      pos += n;
    }
    const lzw = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) (lzw.set(c, o), o += c.length);
    const indices = new Uint8Array(fw * fh);
    const got = decodeLzw(lzw, minCodeSize, indices, source);
    if (got < indices.length) {
      throw truncated(source, `its first frame's pixels (${got} of ${indices.length})`);
    }
    const data = new Uint8Array(width * height).fill(transparency ?? 0);
    const interlaced = (fflags & 0x40) !== 0;
    const rowOrder = interlaced ? interlacedRows(fh) : null;
    for (let r = 0; r < fh; r++) {
      const y = y0 + (rowOrder ? rowOrder[r] : r);
      data.set(indices.subarray(r * fw, (r + 1) * fw), y * width + x0);
    }
    if (!colors) return { width, height, mode: "L", data, format: "GIF" };
    const palette = paletteOf(colors);
    let paletteAlpha: Uint8Array | undefined;
    if (transparency !== undefined) (paletteAlpha = new Uint8Array(256).fill(255))[transparency] = 0;
    return { width, height, mode: "P", data, palette, paletteAlpha, format: "GIF" };
  }
}

/** The image row stored at each position of an interlaced GIF (passes of every 8th, 8th, 4th, 2nd row). */
function interlacedRows(h: number): Int32Array {
  const rows = new Int32Array(h);
  let i = 0;
  for (const [start, step] of [[0, 8], [4, 8], [2, 4], [1, 2]]) {
    for (let y = start; y < h; y += step) rows[i++] = y;
  }
  return rows;
}

/** GIF's variable-width LZW; returns how many indices were written. */
function decodeLzw(data: Uint8Array, minCodeSize: number, out: Uint8Array, source: string): number {
  if (minCodeSize < 1 || minCodeSize > 11) {
    throw new ImageError("corrupt", `the GIF LZW code size ${minCodeSize} is invalid`, {
      source,
      fix: "the file is damaged; re-export it",
    });
  }
  const clear = 1 << minCodeSize, eoi = clear + 1;
  const prefix = new Int16Array(4096), suffix = new Uint8Array(4096), length = new Uint16Array(4096);
  for (let i = 0; i < clear; i++) (suffix[i] = i, length[i] = 1, prefix[i] = -1);
  let size = minCodeSize + 1, next = eoi + 1, prev = -1;
  let bits = 0, acc = 0, pos = 0, o = 0;
  while (o < out.length) {
    while (bits < size) {
      if (pos >= data.length) return o;
      acc |= data[pos++] << bits;
      bits += 8;
    }
    const code = acc & ((1 << size) - 1);
    acc >>>= size;
    bits -= size;
    if (code === clear) {
      size = minCodeSize + 1;
      next = eoi + 1;
      prev = -1;
      continue;
    }
    if (code === eoi) return o;
    let entry = code;
    if (code >= next || (code > eoi && length[code] === 0)) {
      if (prev < 0 || code !== next) {
        throw new ImageError("corrupt", "the GIF image data has an invalid LZW code", {
          source,
          fix: "the file is damaged; re-export it",
        });
      }
      entry = prev; // KwKwK: the new string is prev + first(prev)
    }
    // Write the string of `entry` backwards.
    const len = length[entry];
    const end = Math.min(o + len, out.length);
    let c = entry;
    for (let i = o + len - 1; i >= o; i--) {
      if (i < end) out[i] = suffix[c];
      c = prefix[c];
    }
    let first = out[o];
    if (entry !== code) {
      // KwKwK case: append first char of prev
      first = out[o];
      if (o + len < out.length) out[o + len] = first;
    }
    const written = entry !== code ? len + 1 : len;
    if (prev >= 0 && next < 4096) {
      prefix[next] = prev;
      suffix[next] = first;
      length[next] = length[prev] + 1;
      next++;
      if (next === 1 << size && size < 12) size++;
    }
    prev = code;
    o = Math.min(out.length, o + written);
  }
  return o;
}
