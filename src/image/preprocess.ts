/**
 * CLIP's input tensor from a decoded image: `clip._transform(n_px)` exactly as openai/CLIP runs it on PIL +
 * torchvision:
 *
 * `Resize(n_px, BICUBIC)` → `CenterCrop(n_px)` → `convert("RGB")` → `ToTensor()` → `Normalize(mean, std)`.
 *
 * The resize is PIL's (see `image/resample.ts`), with PIL's per-mode rules: `P` and `1` images resized nearest,
 * `RGBA`/`LA` premultiplied, `CMYK` resized in CMYK. Only the crop is computed, never the whole resized image.
 * The last step, {@link normalizePixels}, is also how the shapes world (`data/shapes.ts`) makes training pixels,
 * so training and inference see the same floats.
 * @module
 */
import { ImageError } from "../errors.ts";
import { CLIP_MEAN, CLIP_SIZE, CLIP_STD } from "../constants.ts";
import { CHANNELS, type DecodedImage, type RGBImage } from "./types.ts";
import { type CropBox, Resample, type ResampleFilter, resizeCrop, resizeCropInt32 } from "./resample.ts";
import { premultiply, toRGB8, unpremultiply } from "./convert.ts";
import { assertDecodedImage } from "./pixels.ts";

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

/**
 * Reads a Hugging Face `preprocessor_config.json` (object or JSON text) into {@link PreprocessOptions}:
 * `size.shortest_edge` (or `size` as a number), `crop_size` (number or `{height, width}`), `image_mean`,
 * `image_std`, `resample`; missing values are CLIP's.
 * @example
 * ```ts
 * import { preprocessorOptions } from "./preprocess.ts";
 * preprocessorOptions({ size: { shortest_edge: 224 }, crop_size: { height: 224, width: 224 }, resample: 3 })
 * // → { size: 224, cropSize: 224, mean: CLIP_MEAN, std: CLIP_STD, resample: 3 }
 * ```
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
  const triple = (v: unknown) =>
    Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === "number" && Number.isFinite(x));
  if (!triple(o.mean) || !triple(o.std) || o.std.some((s) => !(s > 0))) {
    throw new ImageError(
      "bad-argument",
      `mean and std must be 3 finite numbers each, std > 0, got mean ${JSON.stringify(o.mean)} and std ${
        JSON.stringify(o.std)
      }`,
      { fix },
    );
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
 * ```ts
 * import { resizeCropRGB } from "./preprocess.ts";
 * import { loadImage } from "./load.ts";
 * const rgb = resizeCropRGB(await loadImage("../shared/golden/preprocess/inputs/chelsea.png"));
 * [rgb.width, rgb.height, rgb.data.length]; // → [224, 224, 150528]
 * ```
 */
export function resizeCropRGB(image: DecodedImage, opts: Partial<PreprocessOptions> = {}): RGBImage {
  const o = withDefaults(opts);
  assertDecodedImage(image);
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

/** Per channel, the 256 normalised values `(v/255 − mean)/std`, in float32 arithmetic like torchvision: [3, 256]. */
function normalizeTable(mean: readonly number[], std: readonly number[]): Float32Array {
  const table = new Float32Array(3 * 256); // [3, 256]
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

/** Where {@link normalizePixels} writes: `chw`, three planes `[3, n]`; `hwc`, interleaved `[n, 3]`. */
export type PixelLayout = "chw" | "hwc";

/** Options of {@link normalizePixels}. */
export interface NormalizeOptions {
  /** Per-channel mean (RGB), default CLIP's. */
  mean?: readonly number[];
  /** Per-channel std (RGB), default CLIP's. */
  std?: readonly number[];
  /** Bytes a pixel in `bytes`, R, G, B first (3 for RGB, 4 for RGBA: the alpha is skipped); default 3. */
  channels?: number;
  /** Output layout (default `chw`, what CLIP's towers take). */
  layout?: PixelLayout;
}

/**
 * torchvision's `ToTensor()` → `Normalize(mean, std)` on `n` 8-bit pixels: `(v/255 − mean)/std` rounded to float32
 * at each step as torch computes it, written into `out` from `offset`. {@link preprocessInto} and the shapes world's
 * `generateBatch` both normalise here, so a training pixel and an inference pixel of the same byte are the same float.
 *
 * @example
 * ```ts
 * import { normalizePixels } from "./preprocess.ts";
 * const out = new Float32Array(3); // [3, 1]
 * normalizePixels(new Uint8Array([255, 0, 0, 255]), 1, out, 0, { channels: 4 });
 * Array.from(out, (v) => v.toFixed(3)); // → ["1.930", "-1.752", "-1.480"]
 * ```
 */
export function normalizePixels(
  bytes: Uint8Array,
  n: number,
  out: Float32Array,
  offset = 0,
  options: NormalizeOptions = {},
): void {
  const { mean = CLIP_MEAN, std = CLIP_STD, channels = 3, layout = "chw" } = options;
  if (!Number.isInteger(channels) || channels < 3 || bytes.length < n * channels) {
    throw new ImageError(
      "bad-argument",
      `${n} pixels of ${channels} bytes need ${n * channels}, got ${bytes.length}`,
      {
        fix: "pass RGB (3) or RGBA (4) bytes, row after row",
      },
    );
  }
  if (!Number.isInteger(offset) || offset < 0 || offset + 3 * n > out.length) {
    throw new ImageError("bad-argument", `no room for ${3 * n} floats at offset ${offset} of ${out.length}`, {
      fix: "allocate batch × 3 × R × R floats and pass offset = index × 3 × R × R",
    });
  }
  const table = tableFor(mean, std);
  if (layout === "chw") {
    // HWC uint8 → CHW float32: [3, n]
    for (let i = 0, j = 0, r = offset, g = offset + n, b = offset + 2 * n; i < n; i++, j += channels) {
      out[r + i] = table[bytes[j]];
      out[g + i] = table[256 + bytes[j + 1]];
      out[b + i] = table[512 + bytes[j + 2]];
    }
  } else {
    // HWC uint8 → HWC float32: [n, 3]
    for (let i = 0, j = 0, o = offset; i < n; i++, j += channels, o += 3) {
      out[o] = table[bytes[j]];
      out[o + 1] = table[256 + bytes[j + 1]];
      out[o + 2] = table[512 + bytes[j + 2]];
    }
  }
}

/**
 * Writes the `[3, R, R]` float32 tensor of `image` into `out` at `offset` (R = cropSize), and returns the
 * 8-bit RGB crop it came from.
 * @example
 * ```ts
 * import { preprocessInto } from "./preprocess.ts";
 * import { loadImage } from "./load.ts";
 * const img = await loadImage("models/samples/01_red_circle.png");
 * const batch = new Float32Array(2 * 3 * 224 * 224); // [2, 3, 224, 224]
 * preprocessInto(img, batch, 3 * 224 * 224); // fills the second image of the batch
 * batch[3 * 224 * 224].toFixed(4); // → "1.8719" (second image, red channel, top-left pixel: the cream background)
 * ```
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
  normalizePixels(rgb.data, n, out, offset, { mean: o.mean, std: o.std }); // [3, R, R] at offset
  return rgb;
}

/**
 * CLIP's preprocessing of one image: a `Float32Array` of `[3, R, R]` (CHW), R = cropSize (224 by default).
 * @example
 * ```ts
 * import { preprocess } from "./preprocess.ts";
 * import { loadImage } from "./load.ts";
 * const x = preprocess(await loadImage("models/samples/01_red_circle.png")); // [3, 224, 224]
 * x.length; // → 150528 (3 × 224 × 224)
 * ```
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
 * ```ts
 * import { preprocessWithCrop } from "./preprocess.ts";
 * import { loadImage } from "./load.ts";
 * const img = await loadImage("../shared/golden/preprocess/inputs/chelsea.png");
 * const { tensor, cropped } = preprocessWithCrop(img);
 * [tensor.length, cropped.width, cropped.data.length]; // → [150528, 224, 150528]
 * ```
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
 * ```ts
 * import { preprocessBatch } from "./preprocess.ts";
 * import { loadImage } from "./load.ts";
 * const a = await loadImage("models/samples/01_red_circle.png");
 * const b = await loadImage("models/samples/06_blue_square.png");
 * preprocessBatch([a, b]).length; // → 301056 (2 × 3 × 224 × 224)
 * ```
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
