/**
 * Images in: bytes from a path, a `file:`/`http(s):` URL or memory → format sniffed from the first bytes →
 * size checked from the header (decompression bombs refused) → decoded (PNG, JPEG, GIF first frame) with PIL's
 * mode kept → optionally EXIF-oriented.
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { ImageError } from "../errors.ts";
import type { DecodedImage } from "./types.ts";
import { decodePng, isPng, readPngHeader } from "./png.ts";
import { decodeGif, isGif, readGifSize } from "./gif.ts";
import { decodeJpeg, isJpeg, type JpegDecoder, readJpegHeader } from "./jpeg.ts";
import { orient } from "./orient.ts";

/** PIL's default `Image.MAX_IMAGE_PIXELS`: larger images are refused as decompression bombs. */
export const MAX_IMAGE_PIXELS = 89_478_485;
/** How long {@link loadImage} waits for a URL's whole body by default (30 s). */
export const DEFAULT_URL_TIMEOUT_MS = 30_000;
/** The most bytes {@link loadImage} reads from a URL by default (256 MiB: larger than any sane photo). */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
/** How far into a download the header is looked for (a JPEG's can follow a large EXIF block). */
const HEADER_SEARCH_BYTES = 1 << 20;
/** The formats {@link loadImage} reads. */
export const SUPPORTED_FORMATS: readonly string[] = ["PNG", "JPEG", "GIF"];

/** Options of {@link loadImage}. */
export interface LoadImageOptions {
  /** Apply the EXIF orientation (PIL's `ImageOps.exif_transpose`). Default false: CLIP/PIL ignore it. */
  autoOrient?: boolean;
  /**
   * Refuse images with more pixels than this, from the header, before decoding (for a URL, as soon as the
   * header has arrived). Default 89,478,485 (PIL's); `Infinity` turns the check off; NaN or ≤ 0 is an error.
   */
  maxPixels?: number;
  /** For URLs: give up when the whole body has not arrived after this many milliseconds (default 30,000). */
  timeoutMs?: number;
  /** For URLs: refuse a body larger than this many bytes, stopping the download (default 256 MiB). */
  maxBytes?: number;
  /** A name for the bytes in error messages (for `Uint8Array` sources). */
  name?: string;
  /** JPEG decoder: `auto` (default: libjpeg-turbo via sharp when it loads, else imagescript), or one of them. */
  jpegDecoder?: JpegDecoder;
}

/** A limit option: a number above 0 (Infinity allowed), else an ImageError naming it. */
function limit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value > 0)) {
    throw new ImageError("bad-argument", `${name} must be a number above 0, got ${value}`, {
      fix: `leave ${name} out for the default (${fallback}), or pass Infinity to turn the limit off`,
    });
  }
  return value;
}

/**
 * Reads and decodes an image from a path, a `file:`/`http(s):` URL, or bytes, keeping PIL's mode. A URL is
 * read with a time limit (`timeoutMs`) and a size limit (`maxBytes`), and its header is checked against
 * `maxPixels` as soon as it arrives, so a bomb is refused before the rest is downloaded.
 * @example
 * ```ts
 * import { loadImage } from "./load.ts";
 * const img = await loadImage("../shared/golden/preprocess/inputs/camera.png");
 * [img.width, img.height, img.mode]; // → [512, 512, "L"]
 * ```
 */
export async function loadImage(
  source: string | URL | Uint8Array,
  opts: LoadImageOptions = {},
): Promise<DecodedImage> {
  limit(opts.maxPixels, MAX_IMAGE_PIXELS, "maxPixels");
  let bytes: Uint8Array;
  let name: string;
  if (source instanceof Uint8Array) {
    bytes = source;
    name = opts.name ?? "<bytes>";
  } else {
    if (typeof source !== "string" && !(source instanceof URL)) {
      throw new ImageError(
        "bad-argument",
        `the image source is ${source === null ? "null" : typeof source}, not a path, URL or bytes`,
        { fix: "pass a file path, a URL, or the file's bytes as a Uint8Array" },
      );
    }
    const url = source instanceof URL ? source : /^(https?|file):/i.test(source) ? new URL(source) : null;
    name = url ? url.href : source as string;
    try {
      if (url && url.protocol !== "file:") {
        bytes = await download(url, name, opts);
      } else {
        bytes = await Deno.readFile(url ?? (isAbsolute(name) ? name : resolve(name)));
      }
    } catch (e) {
      if (e instanceof ImageError) throw e;
      throw new ImageError("unreadable", `cannot read the image (${(e as Error).message})`, {
        source: name,
        fix: "check the path or URL and its permissions",
        cause: e,
      });
    }
  }
  return await decodeImage(bytes, { ...opts, name });
}

/** The image size from a header that may still be incomplete; undefined until enough bytes are there. */
function headerSize(bytes: Uint8Array, source: string): { width: number; height: number } | undefined {
  try {
    if (isPng(bytes)) return readPngHeader(bytes, source);
    if (isJpeg(bytes)) return readJpegHeader(bytes, source);
    if (isGif(bytes)) return readGifSize(bytes, source);
  } catch {
    // not all there yet (or damaged: the decoder names the problem once the body is complete)
  }
  return undefined;
}

/** A URL's body with a time limit, a byte limit, and the pixel limit checked as soon as the header is in. */
async function download(url: URL, name: string, opts: LoadImageOptions): Promise<Uint8Array> {
  const timeoutMs = limit(opts.timeoutMs, DEFAULT_URL_TIMEOUT_MS, "timeoutMs");
  const maxBytes = limit(opts.maxBytes, DEFAULT_MAX_BYTES, "maxBytes");
  const maxPixels = limit(opts.maxPixels, MAX_IMAGE_PIXELS, "maxPixels");
  const controller = new AbortController();
  let timedOut = false;
  const timer = Number.isFinite(timeoutMs)
    ? setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs)
    : undefined;
  const tooLarge = (problem: string, fix: string) =>
    new ImageError("too-large", problem, { source: name, fix });
  try {
    const res = await fetch(url, { signal: controller.signal });
    if (!res.ok) {
      await res.body?.cancel();
      throw new ImageError("unreadable", `the server answered HTTP ${res.status} ${res.statusText}`, {
        source: name,
        fix: "check the URL in a browser, or download the image and pass its path",
      });
    }
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (declared > maxBytes) {
      await res.body?.cancel();
      throw tooLarge(
        `the server announces ${declared} bytes, more than the limit of ${maxBytes}`,
        "pass a larger maxBytes to loadImage if the image is trusted",
      );
    }
    const chunks: Uint8Array[] = [];
    let length = 0, sized = false;
    const reader = res.body!.getReader();
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        length += value.length;
        if (length > maxBytes) {
          throw tooLarge(
            `the body passed ${maxBytes} bytes, the limit, so the download was stopped`,
            "pass a larger maxBytes to loadImage if the image is trusted",
          );
        }
        if (!sized && length <= HEADER_SEARCH_BYTES) { // later, decodeImage checks the size
          const size = headerSize(concat(chunks, length), name);
          if (size) {
            sized = true;
            if (size.width * size.height > maxPixels) {
              throw tooLarge(
                `the image declares ${size.width}×${size.height} = ${
                  size.width * size.height
                } pixels, more than the limit of ${maxPixels} (a decompression bomb?); the download was stopped`,
                "if the image is trusted, pass a larger maxPixels to loadImage; otherwise do not use it",
              );
            }
          }
        }
      }
    } catch (e) {
      await reader.cancel().catch(() => {});
      throw e;
    }
    return concat(chunks, length);
  } catch (e) {
    if (e instanceof ImageError) throw e;
    if (timedOut) {
      throw new ImageError("unreadable", `the server sent no complete answer within ${timeoutMs} ms`, {
        source: name,
        fix: "check the URL in a browser; for a slow server pass a larger timeoutMs to loadImage",
        cause: e,
      });
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  chunks.splice(0, chunks.length, out);
  return out;
}

/**
 * Decodes image bytes (PNG, JPEG, GIF first frame). Size is checked from the header before any pixel is decoded.
 * @example
 * ```ts
 * import { decodeImage } from "./load.ts";
 * (await decodeImage(await Deno.readFile("../shared/golden/preprocess/inputs/no_time_for_that_tiny.gif"))).mode; // → "P"
 * ```
 */
export async function decodeImage(bytes: Uint8Array, opts: LoadImageOptions = {}): Promise<DecodedImage> {
  const source = opts.name ?? "<bytes>";
  const maxPixels = limit(opts.maxPixels, MAX_IMAGE_PIXELS, "maxPixels");
  if (!(bytes instanceof Uint8Array)) {
    throw new ImageError(
      "bad-argument",
      `decodeImage takes a Uint8Array, got ${bytes === null ? "null" : typeof bytes}`,
      {
        source,
        fix: "pass the file's bytes (await Deno.readFile(path)), or use loadImage(path)",
      },
    );
  }
  if (bytes.length === 0) {
    throw new ImageError("empty", "the image file is empty (0 bytes)", {
      source,
      fix: "re-download or re-save the image; a 0-byte file has no pixels",
    });
  }
  const checkSize = (w: number, h: number) => {
    if (w * h > maxPixels) {
      throw new ImageError(
        "too-large",
        `the image declares ${w}×${h} = ${
          w * h
        } pixels, more than the limit of ${maxPixels} (a decompression bomb?)`,
        {
          source,
          fix: "if the image is trusted, pass a larger maxPixels to loadImage; otherwise do not use it",
        },
      );
    }
  };
  let image: DecodedImage;
  if (isPng(bytes)) {
    const h = readPngHeader(bytes, source);
    checkSize(h.width, h.height);
    image = decodePng(bytes, source);
  } else if (isJpeg(bytes)) {
    const h = readJpegHeader(bytes, source);
    checkSize(h.width, h.height);
    image = await decodeJpeg(bytes, source, opts.jpegDecoder);
  } else if (isGif(bytes)) {
    const h = readGifSize(bytes, source);
    checkSize(h.width, h.height);
    image = decodeGif(bytes, source, checkSize);
  } else {
    const known = sniffUnsupported(bytes);
    const problem = known
      ? `${known} images are not supported`
      : `not an image in a supported format (the file starts with bytes ${hexStart(bytes)})`;
    throw new ImageError("unsupported", problem, {
      source,
      fix: `convert it to one of the supported formats: ${SUPPORTED_FORMATS.join(", ")}`,
    });
  }
  if (opts.autoOrient && image.orientation && image.orientation !== 1) image = orient(image);
  return image;
}

/** Signatures of formats people try to load, to name them in the error. */
const OTHER_FORMATS: ReadonlyArray<[string, (b: Uint8Array, ascii: string) => boolean]> = [
  ["BMP", (_, a) => a.startsWith("BM")],
  ["TIFF", (_, a) => a.startsWith("II*\0") || a.startsWith("MM\0*")],
  ["WebP", (_, a) => a.startsWith("RIFF") && a.slice(8, 12) === "WEBP"],
  ["HEIF/AVIF", (_, a) => a.slice(4, 8) === "ftyp"],
  ["SVG", (_, a) => /^\s*(<\?xml|<svg)/i.test(a)],
  ["ICO", (b) => b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0],
  ["PSD", (_, a) => a.startsWith("8BPS")],
  ["PDF", (_, a) => a.startsWith("%PDF")],
  ["QOI", (_, a) => a.startsWith("qoif")],
  ["JPEG XL", (b, a) => (b[0] === 0xff && b[1] === 0x0a) || a.slice(4, 8) === "JXL "],
];

function sniffUnsupported(bytes: Uint8Array): string | undefined {
  const ascii = String.fromCharCode(...bytes.subarray(0, 16));
  return OTHER_FORMATS.find(([, test]) => test(bytes, ascii))?.[0];
}

function hexStart(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
}
