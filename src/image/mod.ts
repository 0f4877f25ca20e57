/**
 * Images in, CLIP's input tensor out: decoding (PNG, JPEG, GIF) and `clip._transform(n_px)` exactly as
 * openai/CLIP runs it on PIL + torchvision:
 *
 * `Resize(n_px, BICUBIC)` → `CenterCrop(n_px)` → `convert("RGB")` → `ToTensor()` → `Normalize(mean, std)`.
 *
 * The resize is PIL's (see `image/resample.ts`), with PIL's per-mode rules: `P` and `1` images resized nearest,
 * `RGBA`/`LA` premultiplied, `CMYK` resized in CMYK. Only the crop is computed, never the whole resized image.
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { ImageError } from "./error.ts";
import { CHANNELS, type DecodedImage } from "./types.ts";
import { decodePng, isPng, readPngHeader } from "./png.ts";
import { decodeGif, isGif, readGifSize } from "./gif.ts";
import { decodeJpeg, isJpeg, type JpegDecoder, readJpegHeader } from "./jpeg.ts";
import { type CropBox, Resample, type ResampleFilter, resizeCrop, resizeCropInt32 } from "./resample.ts";
import { premultiply, toRGB8, toRGBA8, unpremultiply } from "./convert.ts";
import { orient } from "./orient.ts";
import imagescriptPng from "imagescript/png/node.js";

export { ImageError, type ImageErrorReason } from "./error.ts";
export type { DecodedImage, ImageFormat, ImageMode } from "./types.ts";
export { Resample, type ResampleFilter } from "./resample.ts";
export type { JpegDecoder } from "./jpeg.ts";

/** CLIP's input resolution (ViT-B/32, ViT-B/16, ViT-L/14). */
export const CLIP_SIZE = 224;
/** CLIP's per-channel normalisation mean (RGB), from openai/CLIP `_transform`. */
export const CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
/** CLIP's per-channel normalisation std (RGB), from openai/CLIP `_transform`. */
export const CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
/** PIL's default `Image.MAX_IMAGE_PIXELS`: larger images are refused as decompression bombs. */
export const MAX_IMAGE_PIXELS = 89_478_485;
/** The formats {@link loadImage} reads. */
export const SUPPORTED_FORMATS: readonly string[] = ["PNG", "JPEG", "GIF"];

/** How to turn an image into a tensor (`clip._transform(size)` with these values). */
export interface PreprocessOptions {
  /** `Resize(size)`: the short side becomes `size`, the long side `trunc(size · long / short)`. */
  size: number;
  /** `CenterCrop(cropSize)`; defaults to `size`. */
  cropSize?: number;
  /** Per-channel mean (RGB) subtracted after scaling to 0..1. */
  mean: readonly number[];
  /** Per-channel std (RGB) divided by after subtracting the mean. */
  std: readonly number[];
  /** PIL filter for the resize (default BICUBIC = 3); `P` and `1` images always use NEAREST, like PIL. */
  resample?: ResampleFilter;
}

/** CLIP's own preprocessing: 224 px, bicubic, CLIP's mean and std. */
export const CLIP_PREPROCESS: Readonly<PreprocessOptions> = {
  size: CLIP_SIZE,
  cropSize: CLIP_SIZE,
  mean: CLIP_MEAN,
  std: CLIP_STD,
  resample: Resample.BICUBIC,
};

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

/** An 8-bit RGB image, 3 bytes a pixel, row-major: a {@link DecodedImage} of mode `RGB` (display it with `toRGBA`). */
export interface RGBImage extends DecodedImage {
  /** Always `RGB`: 3 bytes a pixel. */
  mode: "RGB";
  /** Always `RAW`: made in memory, not decoded from a file. */
  format: "RAW";
}

/**
 * Reads and decodes an image from a path, a `file:`/`http(s):` URL, or bytes, keeping PIL's mode.
 * @example
 * const img = await loadImage("../shared/golden/preprocess/inputs/camera.png");
 * [img.width, img.height, img.mode] // [512, 512, "L"]
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
        if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
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
 * (await decodeImage(await Deno.readFile("a.gif"))).mode // "P"
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

/**
 * An image drawn in code (RGBA, e.g. imagescript's `bitmap` or a canvas) as a {@link DecodedImage} of mode `RGBA`.
 * @example
 * fromRGBA(1, 1, new Uint8Array([255, 0, 0, 255])) // { width: 1, height: 1, mode: "RGBA", data: …, format: "RAW" }
 */
export function fromRGBA(width: number, height: number, rgba: Uint8Array | Uint8ClampedArray): DecodedImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImageError("bad-argument", `image size must be positive integers, got ${width}×${height}`, {
      fix: "pass the width and height of the RGBA buffer",
    });
  }
  if (rgba.length !== width * height * 4) {
    throw new ImageError(
      "bad-argument",
      `an RGBA buffer of ${width}×${height} needs ${width * height * 4} bytes, got ${rgba.length}`,
      { fix: "pass 4 bytes (R, G, B, A) a pixel, row after row" },
    );
  }
  const data = rgba instanceof Uint8Array ? rgba : new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.length);
  return { width, height, mode: "RGBA", data, format: "RAW" };
}

/**
 * The image as 8-bit RGBA for display (palette transparency and LA alpha kept, CMYK by PIL's formula).
 * @example
 * toRGBA(await loadImage("camera.png")).data.length // 512 * 512 * 4
 */
export function toRGBA(image: DecodedImage): { width: number; height: number; data: Uint8Array } {
  validate(image);
  return toRGBA8(image);
}

/**
 * Encodes RGBA pixels as a PNG file (for thumbnails in plots and notebooks).
 * @example
 * const png = encodePng(2, 1, new Uint8Array([255, 0, 0, 255, 0, 0, 255, 255]));
 * png.subarray(1, 4) // "PNG" in ASCII: Uint8Array [80, 78, 71]
 */
export function encodePng(width: number, height: number, rgba: Uint8Array | Uint8ClampedArray): Uint8Array {
  const image = fromRGBA(width, height, rgba);
  return imagescriptPng.encode(image.data, { width, height, channels: 4, depth: 8, level: 1 });
}

/**
 * Reads a Hugging Face `preprocessor_config.json` (object or JSON text) into {@link PreprocessOptions}:
 * `size.shortest_edge` (or `size` as a number), `crop_size` (number or `{height, width}`), `image_mean`,
 * `image_std`, `resample`; missing values are CLIP's.
 * @example
 * preprocessorOptions({ size: { shortest_edge: 224 }, crop_size: { height: 224, width: 224 }, resample: 3 })
 * // { size: 224, cropSize: 224, mean: CLIP_MEAN, std: CLIP_STD, resample: 3 }
 */
export function preprocessorOptions(json: string | Record<string, unknown>): PreprocessOptions {
  let cfg: Record<string, unknown>;
  try {
    cfg = typeof json === "string" ? JSON.parse(json) : json;
  } catch (e) {
    throw new ImageError(
      "bad-argument",
      `preprocessor_config.json is not valid JSON (${(e as Error).message})`,
      {
        fix: "pass the file's text or the parsed object",
        cause: e,
      },
    );
  }
  const bad = (what: string) =>
    new ImageError("bad-argument", `preprocessor_config.json has an unusable ${what}`, {
      fix: "use CLIP's values: size {shortest_edge: 224}, crop_size 224, resample 3",
    });
  const sizeOf = (v: unknown, key: string): number | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "number") return v;
    const o = v as Record<string, number>;
    const n = o.shortest_edge ?? o.height ?? o.width;
    if (o.height !== undefined && o.width !== undefined && o.height !== o.width) {
      throw bad(`non-square ${key}`);
    }
    if (typeof n !== "number") throw bad(key);
    return n;
  };
  const size = sizeOf(cfg.size, "size") ?? CLIP_SIZE;
  const cropSize = cfg.do_center_crop === false ? undefined : sizeOf(cfg.crop_size, "crop_size") ?? size;
  const mean = (cfg.image_mean as number[] | undefined) ?? CLIP_MEAN;
  const std = (cfg.image_std as number[] | undefined) ?? CLIP_STD;
  const resample = (cfg.resample as ResampleFilter | undefined) ?? Resample.BICUBIC;
  const opts = { size, cropSize, mean, std, resample };
  checkOptions(opts);
  return opts;
}

function checkOptions(o: PreprocessOptions): void {
  const fix = "pass { size, mean: [r, g, b], std: [r, g, b] } or use CLIP_PREPROCESS";
  if (!Number.isInteger(o.size) || o.size < 1) {
    throw new ImageError("bad-argument", `size must be a positive integer, got ${o.size}`, { fix });
  }
  if (o.cropSize !== undefined && (!Number.isInteger(o.cropSize) || o.cropSize < 1)) {
    throw new ImageError("bad-argument", `cropSize must be a positive integer, got ${o.cropSize}`, { fix });
  }
  if (o.mean?.length !== 3 || o.std?.length !== 3 || o.std.some((s) => !(s > 0))) {
    throw new ImageError("bad-argument", "mean and std must be 3 numbers each, std > 0", { fix });
  }
  if (o.resample !== undefined && !(o.resample in [0, 1, 2, 3, 4, 5])) {
    throw new ImageError("bad-argument", `resample must be a PIL filter 0..5, got ${o.resample}`, { fix });
  }
}

/** `opts` over CLIP's defaults, `cropSize` defaulting to `size`; checked. */
function withDefaults(opts: Partial<PreprocessOptions>): Required<PreprocessOptions> {
  const size = opts.size ?? CLIP_SIZE;
  const o = {
    size,
    cropSize: opts.cropSize ?? size,
    mean: opts.mean ?? CLIP_MEAN,
    std: opts.std ?? CLIP_STD,
    resample: opts.resample ?? Resample.BICUBIC,
  };
  checkOptions(o);
  return o;
}

function validate(image: DecodedImage): void {
  const ok = image && Number.isInteger(image.width) && Number.isInteger(image.height) && image.width > 0 &&
    image.height > 0 && image.mode in CHANNELS && image.data instanceof Uint8Array &&
    image.data.length >= image.width * image.height * CHANNELS[image.mode] &&
    (image.mode !== "P" || image.palette);
  if (!ok) {
    throw new ImageError(
      "bad-argument",
      "not a decoded image (width, height, mode, data of the right length)",
      {
        fix: "pass the result of loadImage() or fromRGBA()",
      },
    );
  }
}

/** Python's `round()` (half to even), as torchvision's CenterCrop uses it. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torchvision `CenterCrop`'s first index along a side: `round((side − crop) / 2)` (half to even); a crop larger than
 * the side pads `(crop − side) // 2` zeros before it (negative offset), as torchvision pads before cropping.
 */
function cropOffset(side: number, crop: number): number {
  return crop > side ? -Math.floor((crop - side) / 2) : roundHalfEven((side - crop) / 2);
}

/** torchvision `Resize(size)` output size: short side → size, long → trunc(size·long/short). */
function resizedSize(w: number, h: number, size: number): [number, number] {
  if (w <= h) return [size, Math.trunc((size * h) / w)];
  return [Math.trunc((size * w) / h), size];
}

/**
 * The 8-bit RGB image after `Resize` + `CenterCrop` + `convert("RGB")`: what goes into the tensor, for display.
 * @example
 * const rgb = resizeCropRGB(await loadImage("chelsea.png"));
 * [rgb.width, rgb.height, rgb.data.length] // [224, 224, 150528]
 */
export function resizeCropRGB(image: DecodedImage, opts: Partial<PreprocessOptions> = {}): RGBImage {
  const o = withDefaults(opts);
  validate(image);
  const crop = o.cropSize;
  const { width: w, height: h, mode } = image;
  const [rw, rh] = resizedSize(w, h, o.size);
  const box: CropBox = { left: cropOffset(rw, crop), top: cropOffset(rh, crop), width: crop, height: crop };
  const filter = mode === "P" || mode === "1" ? Resample.NEAREST : o.resample ?? Resample.BICUBIC;
  const ch = CHANNELS[mode];
  if (mode === "I") {
    const n = w * h;
    const samples = new Int32Array(n);
    for (let i = 0; i < n; i++) samples[i] = (image.data[i * 2] << 8) | image.data[i * 2 + 1];
    const out = resizeCropInt32(samples, w, h, rw, rh, box, filter);
    const data = new Uint8Array(crop * crop * 3);
    for (let i = 0; i < out.length; i++) {
      data[i * 3] = data[i * 3 + 1] = data[i * 3 + 2] = Math.max(0, Math.min(255, out[i]));
    }
    return { width: crop, height: crop, mode: "RGB", data, format: "RAW" };
  }
  // PIL resizes RGBA/LA as RGBa/La; with every alpha 255 that round trip is the identity, so it is skipped.
  const premultiplied = (mode === "RGBA" || mode === "LA") && filter !== Resample.NEAREST &&
    (rw !== w || rh !== h) && !isOpaque(image.data, ch, w * h);
  const src = premultiplied ? premultiply(image.data.slice(0, w * h * ch), ch) : image.data;
  const cropped = resizeCrop(src, ch, w, h, rw, rh, box, filter);
  if (premultiplied) unpremultiply(cropped, ch);
  return {
    width: crop,
    height: crop,
    mode: "RGB",
    data: toRGB8(cropped, mode, crop * crop, image.palette),
    format: "RAW",
  };
}

function isOpaque(data: Uint8Array, channels: number, n: number): boolean {
  for (let i = channels - 1; i < n * channels; i += channels) if (data[i] !== 255) return false;
  return true;
}

/** Per channel, the 256 normalised values `(v/255 − mean)/std`, in float32 arithmetic like torchvision. */
function normalizeTable(mean: readonly number[], std: readonly number[]): Float32Array {
  const table = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c]), s = Math.fround(std[c]);
    for (let v = 0; v < 256; v++) table[c * 256 + v] = Math.fround(Math.fround(Math.fround(v / 255) - m) / s);
  }
  return table;
}

const tables = new Map<string, Float32Array>();
function tableFor(mean: readonly number[], std: readonly number[]): Float32Array {
  const key = `${mean.join(",")}|${std.join(",")}`;
  let t = tables.get(key);
  if (!t) {
    if (tables.size > 16) tables.clear();
    tables.set(key, t = normalizeTable(mean, std));
  }
  return t;
}

/**
 * Writes the `[3, R, R]` float32 tensor of `image` into `out` at `offset` (R = cropSize), and returns the
 * 8-bit RGB crop it came from.
 * @example
 * const batch = new Float32Array(2 * 3 * 224 * 224);
 * preprocessInto(img, batch, 3 * 224 * 224); // fills the second image of the batch
 */
export function preprocessInto(
  image: DecodedImage,
  out: Float32Array,
  offset = 0,
  opts: Partial<PreprocessOptions> = {},
): RGBImage {
  const o = withDefaults(opts);
  const rgb = resizeCropRGB(image, o);
  const n = rgb.width * rgb.height;
  if (!Number.isInteger(offset) || offset < 0 || offset + 3 * n > out.length) {
    throw new ImageError(
      "bad-argument",
      `no room for [3, ${rgb.height}, ${rgb.width}] at offset ${offset} of ${out.length}`,
      {
        fix: "allocate batch × 3 × R × R floats and pass offset = index × 3 × R × R",
      },
    );
  }
  const table = tableFor(o.mean, o.std);
  const d = rgb.data;
  // HWC uint8 → CHW float32: [3, R, R]
  for (let i = 0, r = offset, g = offset + n, b = offset + 2 * n; i < n; i++) {
    out[r + i] = table[d[i * 3]];
    out[g + i] = table[256 + d[i * 3 + 1]];
    out[b + i] = table[512 + d[i * 3 + 2]];
  }
  return rgb;
}

/**
 * CLIP's preprocessing of one image: a `Float32Array` of `[3, R, R]` (CHW), R = cropSize (224 by default).
 * @example
 * const x = preprocess(await loadImage("astronaut.png"));
 * x.length // 150528 = 3 × 224 × 224
 */
export function preprocess(image: DecodedImage, opts: Partial<PreprocessOptions> = {}): Float32Array {
  const r = opts.cropSize ?? opts.size ?? CLIP_SIZE;
  const out = new Float32Array(3 * r * r);
  preprocessInto(image, out, 0, opts);
  return out;
}

/**
 * {@link preprocess} that also returns the 8-bit RGB crop (for a thumbnail beside the embedding).
 * @example
 * const { tensor, cropped } = preprocessWithCrop(img);
 * [tensor.length, cropped.width, cropped.data.length] // [150528, 224, 150528]
 */
export function preprocessWithCrop(
  image: DecodedImage,
  opts: Partial<PreprocessOptions> = {},
): { tensor: Float32Array; cropped: RGBImage } {
  const r = opts.cropSize ?? opts.size ?? CLIP_SIZE;
  const tensor = new Float32Array(3 * r * r);
  const cropped = preprocessInto(image, tensor, 0, opts);
  return { tensor, cropped };
}

/**
 * A batch `[B, 3, R, R]` in one `Float32Array` (`out` reused when given), each image written in place.
 * @example
 * preprocessBatch([a, b]).length // 2 × 3 × 224 × 224 = 301056
 */
export function preprocessBatch(
  images: readonly DecodedImage[],
  opts: Partial<PreprocessOptions> = {},
  out?: Float32Array,
): Float32Array {
  const r = opts.cropSize ?? opts.size ?? CLIP_SIZE;
  const per = 3 * r * r;
  const buf = out ?? new Float32Array(images.length * per);
  if (buf.length < images.length * per) {
    throw new ImageError(
      "bad-argument",
      `out has ${buf.length} floats, the batch needs ${images.length * per}`,
      {
        fix: "allocate batch × 3 × R × R floats, or omit out",
      },
    );
  }
  images.forEach((img, i) => preprocessInto(img, buf, i * per, opts));
  return buf;
}
