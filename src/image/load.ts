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
/** The formats {@link loadImage} reads. */
export const SUPPORTED_FORMATS: readonly string[] = ["PNG", "JPEG", "GIF"];

/** Options of {@link loadImage}. */
export interface LoadImageOptions {
  /** Apply the EXIF orientation (PIL's `ImageOps.exif_transpose`). Default false: CLIP/PIL ignore it. */
  autoOrient?: boolean;
  /** Refuse images with more pixels than this, from the header, before decoding. Default 89,478,485 (PIL's). */
  maxPixels?: number;
  /** A name for the bytes in error messages (for `Uint8Array` sources). */
  name?: string;
  /** JPEG decoder: `auto` (default: libjpeg-turbo via sharp when it loads, else imagescript), or one of them. */
  jpegDecoder?: JpegDecoder;
}

/**
 * Reads and decodes an image from a path, a `file:`/`http(s):` URL, or bytes, keeping PIL's mode.
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
  let bytes: Uint8Array;
  let name: string;
  if (source instanceof Uint8Array) {
    bytes = source;
    name = opts.name ?? "<bytes>";
  } else {
    const url = source instanceof URL ? source : /^(https?|file):/i.test(source) ? new URL(source) : null;
    name = url ? url.href : source as string;
    try {
      if (url && url.protocol !== "file:") {
        const res = await fetch(url);
        if (!res.ok) {
          throw new ImageError("unreadable", `the server answered HTTP ${res.status} ${res.statusText}`, {
            source: name,
            fix: "check the URL in a browser, or download the image and pass its path",
          });
        }
        bytes = new Uint8Array(await res.arrayBuffer());
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
  const maxPixels = opts.maxPixels ?? MAX_IMAGE_PIXELS;
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
