/**
 * A PNG decoder that keeps what PIL keeps: the mode (`1`, `L`, `LA`, `P`, `RGB`, `RGBA`, `I`) and the palette.
 *
 * Chunks are parsed here and the image data inflated with `node:zlib`. Like PIL, it ignores gamma, ICC profiles
 * and the tRNS colour of greyscale and RGB images; 16-bit samples keep their high byte, except 16-bit grey, which
 * becomes mode `I`, and 16-bit grey+alpha, which PIL opens as `RGBA` (grey replicated); 2- and 4-bit grey samples are scaled to 0..255 (× 85, × 17).
 */
import { inflateSync } from "node:zlib";
import { ImageError } from "../errors.ts";
import type { DecodedImage, ImageMode } from "./types.ts";
import { tiffOrientation } from "./orient.ts";

/** The 8 bytes every PNG file starts with. */
export const PNG_SIGNATURE: readonly number[] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The header fields of a PNG (its IHDR chunk). */
export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
}

/** Samples a pixel for each PNG colour type. */
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Allowed bit depths for each PNG colour type. */
const DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};
/** Extra inflated bytes tolerated after the image data (PIL ignores them) before the data counts as a bomb. */
const INFLATE_SLACK = 1 << 20;
/** Adam7 passes: x0, y0, dx, dy. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [
  0,
  1,
  1,
  2,
]];

function u32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

/** Whether `bytes` start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((v, i) => bytes[i] === v);
}

/**
 * Reads the IHDR chunk only (no allocation beyond it), for size checks before decoding.
 * @example
 * ```ts
 * import { readPngHeader } from "./png.ts";
 * const bytes = await Deno.readFile("models/samples/01_red_circle.png");
 * readPngHeader(bytes, "01_red_circle.png"); // → { width: 128, height: 128, bitDepth: 8, colorType: 6, interlaced: false }
 * ```
 */
export function readPngHeader(bytes: Uint8Array, source: string): PngHeader {
  if (bytes.length < 33) {
    throw new ImageError("truncated", `the PNG file ends inside its header (${bytes.length} bytes)`, {
      source,
      fix: "the file was cut short; download or copy it again",
    });
  }
  if (u32(bytes, 8) !== 13 || String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR") {
    throw new ImageError("corrupt", "the PNG file has no IHDR chunk first", {
      source,
      fix: "the file is damaged; re-export it from an image editor",
    });
  }
  const header = {
    width: u32(bytes, 16),
    height: u32(bytes, 20),
    bitDepth: bytes[24],
    colorType: bytes[25],
    interlaced: bytes[28] === 1,
  };
  if (header.width === 0 || header.height === 0 || !DEPTHS[header.colorType]?.includes(header.bitDepth)) {
    throw new ImageError(
      "corrupt",
      `the PNG header is invalid (${header.width}×${header.height}, bit depth ${header.bitDepth}, colour type ${header.colorType})`,
      { source, fix: "the file is damaged; re-export it from an image editor" },
    );
  }
  return header;
}

/**
 * Decodes a PNG file into PIL's mode and pixel layout (see {@link DecodedImage}).
 * @example
 * ```ts
 * import { decodePng } from "./png.ts";
 * const img = decodePng(await Deno.readFile("../shared/golden/preprocess/inputs/camera.png"), "camera.png");
 * [img.mode, img.width, img.height]; // → ["L", 512, 512]
 * ```
 */
export function decodePng(bytes: Uint8Array, source: string): DecodedImage {
  const header = readPngHeader(bytes, source);
  const idat: Uint8Array[] = [];
  let palette: Uint8Array | undefined;
  let paletteAlpha: Uint8Array | undefined;
  let orientation: number | undefined;
  let pos = 8;
  let ended = false;
  while (pos < bytes.length) {
    if (pos + 8 > bytes.length) break;
    const length = u32(bytes, pos);
    const type = String.fromCharCode(bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]);
    const start = pos + 8;
    if (start + length > bytes.length) {
      throw new ImageError("truncated", `the PNG file ends inside its ${type} chunk`, {
        source,
        fix: "the file was cut short; download or copy it again",
      });
    }
    const body = bytes.subarray(start, start + length);
    if (type === "IDAT") idat.push(body);
    else if (type === "PLTE") {
      palette = new Uint8Array(768);
      palette.set(body.subarray(0, Math.min(768, length - (length % 3))));
    } else if (type === "tRNS" && header.colorType === 3) {
      paletteAlpha = new Uint8Array(256).fill(255);
      paletteAlpha.set(body.subarray(0, 256));
    } else if (type === "eXIf") {
      orientation = tiffOrientation(body);
    } else if (type === "IEND") {
      ended = true;
      break;
    }
    pos = start + length + 4;
  }
  if (idat.length === 0) {
    throw new ImageError(ended ? "corrupt" : "truncated", "the PNG file has no image data (IDAT)", {
      source,
      fix: ended ? "the file is damaged; re-export it" : "the file was cut short; download or copy it again",
    });
  }
  if (header.colorType === 3 && !palette) {
    throw new ImageError("corrupt", "the palette PNG has no PLTE chunk", {
      source,
      fix: "the file is damaged; re-export it",
    });
  }
  let compressed: Uint8Array;
  if (idat.length === 1) compressed = idat[0];
  else {
    compressed = new Uint8Array(idat.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of idat) (compressed.set(c, o), o += c.length);
  }
  const samples = SAMPLES[header.colorType];
  const bitsPerPixel = samples * header.bitDepth;
  const expected = rawSize(header, bitsPerPixel);
  let raw: Uint8Array;
  try {
    // Capped: image data that inflates far beyond what the header needs is a zip bomb, not an image.
    raw = inflateSync(compressed, { maxOutputLength: expected + INFLATE_SLACK });
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new ImageError(
        "too-large",
        `the PNG image data inflates to more than the ${expected} bytes its header needs`,
        {
          source,
          fix: "the file is damaged or a decompression bomb; do not use it",
          cause: e,
        },
      );
    }
    const cut = String((e as Error).message).includes("unexpected end");
    throw new ImageError(
      cut ? "truncated" : "corrupt",
      `the PNG image data cannot be inflated (${(e as Error).message})`,
      {
        source,
        fix: cut ? "the file was cut short; download or copy it again" : "the file is damaged; re-export it",
        cause: e,
      },
    );
  }
  if (raw.length < expected) {
    throw new ImageError("truncated", `the PNG image data is short (${raw.length} of ${expected} bytes)`, {
      source,
      fix: "the file was cut short; download or copy it again",
    });
  }
  const { width, height } = header;
  const mode = modeOf(header);
  const out = new Uint8Array(width * height * channelsOf(mode));
  const bpp = Math.max(1, bitsPerPixel >> 3);
  if (!header.interlaced) {
    const stride = Math.ceil((width * bitsPerPixel) / 8);
    unfilter(raw, 0, stride, height, bpp, source);
    unpackRows(raw, 0, stride, header, mode, out, 0, 0, 1, 1, width, height);
  } else {
    let offset = 0;
    for (const [x0, y0, dx, dy] of ADAM7) {
      const pw = Math.ceil((width - x0) / dx);
      const ph = Math.ceil((height - y0) / dy);
      if (pw <= 0 || ph <= 0) continue;
      const stride = Math.ceil((pw * bitsPerPixel) / 8);
      unfilter(raw, offset, stride, ph, bpp, source);
      unpackRows(raw, offset, stride, header, mode, out, x0, y0, dx, dy, pw, ph);
      offset += (stride + 1) * ph;
    }
  }
  return { width, height, mode, data: out, palette, paletteAlpha, format: "PNG", orientation };
}

function rawSize(h: PngHeader, bitsPerPixel: number): number {
  if (!h.interlaced) return (Math.ceil((h.width * bitsPerPixel) / 8) + 1) * h.height;
  let n = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const pw = Math.ceil((h.width - x0) / dx);
    const ph = Math.ceil((h.height - y0) / dy);
    if (pw > 0 && ph > 0) n += (Math.ceil((pw * bitsPerPixel) / 8) + 1) * ph;
  }
  return n;
}

function modeOf(h: PngHeader): ImageMode {
  switch (h.colorType) {
    case 0:
      return h.bitDepth === 1 ? "1" : h.bitDepth === 16 ? "I" : "L";
    case 2:
      return "RGB";
    case 3:
      return "P";
    case 4:
      return h.bitDepth === 16 ? "RGBA" : "LA"; // PIL opens 16-bit grey+alpha as RGBA ("LA;16B")
    default:
      return "RGBA";
  }
}

function channelsOf(mode: ImageMode): number {
  return mode === "RGB" ? 3 : mode === "RGBA" ? 4 : mode === "LA" || mode === "I" ? 2 : 1;
}

/** Undoes the PNG row filters in place; each row is a filter byte then `stride` bytes. */
function unfilter(
  raw: Uint8Array,
  offset: number,
  stride: number,
  rows: number,
  bpp: number,
  source: string,
) {
  for (let y = 0; y < rows; y++) {
    const row = offset + y * (stride + 1) + 1;
    const prev = row - stride - 1;
    const filter = raw[row - 1];
    const hasPrev = y > 0;
    switch (filter) {
      case 0:
        break;
      case 1:
        for (let i = bpp; i < stride; i++) raw[row + i] = (raw[row + i] + raw[row + i - bpp]) & 255;
        break;
      case 2:
        if (hasPrev) { for (let i = 0; i < stride; i++) raw[row + i] = (raw[row + i] + raw[prev + i]) & 255; }
        break;
      case 3: // average of left and up
        if (!hasPrev) {
          for (let i = bpp; i < stride; i++) raw[row + i] = (raw[row + i] + (raw[row + i - bpp] >> 1)) & 255;
          break;
        }
        for (let i = 0; i < bpp && i < stride; i++) {
          raw[row + i] = (raw[row + i] + (raw[prev + i] >> 1)) & 255;
        }
        for (let i = bpp; i < stride; i++) {
          raw[row + i] = (raw[row + i] + ((raw[row + i - bpp] + raw[prev + i]) >> 1)) & 255;
        }
        break;
      case 4: // Paeth: with no row above it is the left byte (filter 1)
        if (!hasPrev) {
          for (let i = bpp; i < stride; i++) raw[row + i] = (raw[row + i] + raw[row + i - bpp]) & 255;
          break;
        }
        for (let i = 0; i < bpp && i < stride; i++) raw[row + i] = (raw[row + i] + raw[prev + i]) & 255;
        for (let i = bpp; i < stride; i++) {
          const a = raw[row + i - bpp], b = raw[prev + i], c = raw[prev + i - bpp];
          const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
          raw[row + i] = (raw[row + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
        }
        break;
      default:
        throw new ImageError("corrupt", `the PNG image data has an unknown row filter ${filter}`, {
          source,
          fix: "the file is damaged; re-export it",
        });
    }
  }
}

/** Copies unfiltered rows into `out` in PIL's layout for `mode`, placing pixel (x, y) at (x0 + x·dx, y0 + y·dy). */
function unpackRows(
  raw: Uint8Array,
  offset: number,
  stride: number,
  h: PngHeader,
  mode: ImageMode,
  out: Uint8Array,
  x0: number,
  y0: number,
  dx: number,
  dy: number,
  pw: number,
  ph: number,
) {
  const depth = h.bitDepth;
  const samples = SAMPLES[h.colorType];
  const ch = channelsOf(mode);
  // 2- and 4-bit grey are scaled like PIL's "L;2" / "L;4" unpackers; 1-bit grey becomes 0/255.
  const scale = h.colorType === 0 ? (depth === 1 ? 255 : depth === 2 ? 85 : depth === 4 ? 17 : 1) : 1;
  for (let y = 0; y < ph; y++) {
    const row = offset + y * (stride + 1) + 1;
    const outRow = ((y0 + y * dy) * h.width + x0) * ch;
    const step = dx * ch;
    if (depth === 8) {
      if (dx === 1) out.set(raw.subarray(row, row + pw * ch), outRow);
      else {for (let x = 0; x < pw; x++) {
          for (let c = 0; c < ch; c++) out[outRow + x * step + c] = raw[row + x * ch + c];
        }}
    } else if (depth === 16) {
      if (mode === "I") {
        for (let x = 0; x < pw; x++) {
          out[outRow + x * step] = raw[row + x * 2];
          out[outRow + x * step + 1] = raw[row + x * 2 + 1];
        }
      } else if (h.colorType === 4) {
        for (let x = 0; x < pw; x++) {
          const grey = raw[row + x * 4], o = outRow + x * step;
          (out[o] = grey, out[o + 1] = grey, out[o + 2] = grey, out[o + 3] = raw[row + x * 4 + 2]);
        }
      } else {
        for (let x = 0; x < pw; x++) {
          for (let c = 0; c < samples; c++) out[outRow + x * step + c] = raw[row + (x * samples + c) * 2];
        }
      }
    } else {
      const perByte = 8 / depth;
      const maskBits = (1 << depth) - 1;
      for (let x = 0; x < pw; x++) {
        const byte = raw[row + Math.floor(x / perByte)];
        const shift = 8 - depth * ((x % perByte) + 1);
        out[outRow + x * step] = ((byte >> shift) & maskBits) * scale;
      }
    }
  }
}
