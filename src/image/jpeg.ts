/**
 * JPEG: the header read here (size, components, EXIF orientation), the pixels decoded by libjpeg-turbo (through
 * sharp, when it loads: PIL's own decoder library, so the pixels are PIL's) or by imagescript's WebAssembly decoder.
 *
 * Modes follow PIL: 1 component → `L`, 3 → `RGB` (YCbCr converted), 4 → `CMYK` (Adobe-inverted data un-inverted,
 * as PIL's `CMYK;I` does). imagescript's decoder differs from libjpeg-turbo by at most a few levels a sample
 * (IDCT and upsampling rounding); see the golden test for the measured difference.
 */
import jpeg from "imagescript/wasm/node/jpeg.js";
import { ImageError } from "../errors.ts";
import { tiffOrientation } from "./orient.ts";
import type { DecodedImage, ImageMode } from "./types.ts";

/** What the JPEG markers say before any pixel is decoded. */
export interface JpegHeader {
  width: number;
  height: number;
  components: number;
  progressive: boolean;
  /** EXIF orientation 1..8 (1 when absent). */
  orientation: number;
}

/** Whether `bytes` start with a JPEG SOI marker. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Start-of-frame markers (baseline, extended, progressive, lossless; not DHT/JPG/DAC). */
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/**
 * Walks the JPEG markers up to the frame header (and EXIF), without decoding.
 * @example
 * ```ts
 * import { readJpegHeader } from "./jpeg.ts";
 * const bytes = await Deno.readFile("../shared/golden/preprocess/inputs/rocket.jpg");
 * readJpegHeader(bytes, "rocket.jpg"); // → { height: 427, width: 640, components: 3, progressive: false, orientation: 1 }
 * ```
 */
export function readJpegHeader(bytes: Uint8Array, source: string): JpegHeader {
  let pos = 2;
  let orientation = 1;
  while (true) {
    if (pos + 4 > bytes.length) {
      throw new ImageError("truncated", "the JPEG file ends before its frame header", {
        source,
        fix: "the file was cut short; download or copy it again",
      });
    }
    if (bytes[pos] !== 0xff) {
      throw new ImageError("corrupt", `the JPEG file has no marker at byte ${pos}`, {
        source,
        fix: "the file is damaged; re-export it",
      });
    }
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos++;
      continue;
    }
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    const body = pos + 4;
    if (marker === 0xe1 && body + length - 2 <= bytes.length) {
      const app1 = bytes.subarray(body, body + length - 2);
      if (String.fromCharCode(...app1.subarray(0, 6)) === "Exif\0\0") {
        orientation = tiffOrientation(app1.subarray(6)) ?? orientation;
      }
    }
    if (SOF.has(marker)) {
      if (body + 6 > bytes.length) {
        throw new ImageError("truncated", "the JPEG file ends inside its frame header", {
          source,
          fix: "the file was cut short; download or copy it again",
        });
      }
      return {
        height: (bytes[body + 1] << 8) | bytes[body + 2],
        width: (bytes[body + 3] << 8) | bytes[body + 4],
        components: bytes[body + 5],
        progressive: marker === 0xc2 || marker === 0xc6 || marker === 0xca || marker === 0xce,
        orientation,
      };
    }
    if (marker === 0xda || marker === 0xd9) {
      throw new ImageError("corrupt", "the JPEG file has no frame header before its image data", {
        source,
        fix: "the file is damaged; re-export it",
      });
    }
    pos = body + length - 2;
  }
}

let decoder:
  | { decode(b: Uint8Array): { width: number; height: number; format: number; buffer: Uint8Array } }
  | null = null;

/**
 * Which JPEG decoder to use. `libjpeg-turbo` (through sharp's libvips, ICC profile kept, not applied) gives PIL's
 * pixels exactly; `imagescript` (WebAssembly, no native code) differs by a few levels; `auto` (the default) uses
 * libjpeg-turbo when sharp loads on this machine, imagescript otherwise. CMYK JPEGs always use imagescript
 * (sharp would convert them to sRGB; imagescript gives PIL's CMYK values within 1 level).
 */
export type JpegDecoder = "auto" | "libjpeg-turbo" | "imagescript";

type Sharp = typeof import("sharp").default;
let sharpLoad: Promise<Sharp | null> | null = null;

/**
 * sharp's default export, or null when it cannot load here (no native binary for this platform, or no FFI
 * permission: then it is not even tried, so Deno never prompts for it).
 */
function loadSharp(): Promise<Sharp | null> {
  sharpLoad ??= Deno.permissions.querySync({ name: "ffi" }).state !== "granted"
    ? Promise.resolve(null)
    : import("sharp").then((m) => m.default).catch(() => null);
  return sharpLoad;
}

/**
 * Decodes a JPEG into PIL's mode and layout (`L`, `RGB` or `CMYK`); `image.decoder` says which decoder ran.
 * @example
 * ```ts
 * import { decodeJpeg } from "./jpeg.ts";
 * const img = await decodeJpeg(await Deno.readFile("../shared/golden/preprocess/inputs/rocket.jpg"), "rocket.jpg");
 * [img.mode, img.width, img.height, img.decoder]; // → ["RGB", 640, 427, "libjpeg-turbo"]
 * ```
 */
export async function decodeJpeg(
  bytes: Uint8Array,
  source: string,
  which: JpegDecoder = "auto",
): Promise<DecodedImage> {
  const header = readJpegHeader(bytes, source);
  if (![1, 3, 4].includes(header.components)) {
    throw new ImageError("unsupported", `JPEG with ${header.components} components is not supported`, {
      source,
      fix: "convert the image to RGB, greyscale or CMYK JPEG, or to PNG",
    });
  }
  if (which !== "imagescript" && header.components !== 4) {
    const sharp = await loadSharp();
    if (sharp) return await decodeWithSharp(sharp, bytes, header, source);
    if (which === "libjpeg-turbo") {
      throw new ImageError("unsupported", "the libjpeg-turbo JPEG decoder (npm sharp) cannot load here", {
        source,
        fix: 'run with --allow-ffi (or -A) on a platform sharp supports, or pass jpegDecoder: "imagescript"',
      });
    }
  }
  return await decodeWithImagescript(bytes, header, source);
}

function decodeError(e: unknown, bytes: Uint8Array, source: string): ImageError {
  const message = (e as Error).message ?? String(e);
  const cut = !hasEndMarker(bytes) || /premature end|truncated/i.test(message);
  return new ImageError(
    cut ? "truncated" : "corrupt",
    `the JPEG image data cannot be decoded (${message.trim()})`,
    {
      source,
      fix: cut ? "the file was cut short; download or copy it again" : "the file is damaged; re-export it",
      cause: e,
    },
  );
}

async function decodeWithSharp(sharp: Sharp, bytes: Uint8Array, header: JpegHeader, source: string) {
  let result;
  try {
    // keepIccProfile: no colour management, like PIL; b-w keeps greyscale at one channel (exact, no conversion).
    let pipeline = sharp(bytes, { failOn: "truncated", limitInputPixels: false }).keepIccProfile();
    if (header.components === 1) pipeline = pipeline.toColourspace("b-w");
    result = await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw decodeError(e, bytes, source);
  }
  const { data, info } = result;
  const channels = header.components === 1 ? 1 : 3;
  if (info.width !== header.width || info.height !== header.height || info.channels !== channels) {
    throw new ImageError("corrupt", "the JPEG decoder returned other pixels than the header declares", {
      source,
      fix: "the file is damaged; re-export it",
    });
  }
  const mode: ImageMode = channels === 1 ? "L" : "RGB";
  const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return {
    width: info.width,
    height: info.height,
    mode,
    data: pixels,
    format: "JPEG" as const,
    orientation: header.orientation,
    decoder: "libjpeg-turbo" as const,
  };
}

async function decodeWithImagescript(
  bytes: Uint8Array,
  header: JpegHeader,
  source: string,
): Promise<DecodedImage> {
  decoder ??= await jpeg.init();
  let fb;
  try {
    fb = decoder!.decode(bytes);
  } catch (e) {
    throw decodeError(e, bytes, source);
  }
  const mode: ImageMode = fb.format === 0 ? "L" : fb.format === 2 ? "CMYK" : "RGB";
  const n = fb.width * fb.height * (mode === "L" ? 1 : mode === "RGB" ? 3 : 4);
  if (fb.width !== header.width || fb.height !== header.height || fb.buffer.length < n) {
    throw new ImageError("corrupt", "the JPEG decoder returned fewer pixels than the header declares", {
      source,
      fix: "the file is damaged; re-export it",
    });
  }
  const data = fb.buffer.length === n ? fb.buffer : fb.buffer.slice(0, n);
  return {
    width: fb.width,
    height: fb.height,
    mode,
    data,
    format: "JPEG",
    orientation: header.orientation,
    decoder: "imagescript",
  };
}

function hasEndMarker(bytes: Uint8Array): boolean {
  for (let i = bytes.length - 2; i >= Math.max(0, bytes.length - 64); i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}
