/**
 * PIL's conversions that CLIP's pipeline uses: premultiply before resizing RGBA/LA and un-premultiply after
 * (`RGBA→RGBa→RGBA`), and `convert("RGB")` / `convert("RGBA")` per mode (Pillow 9.4 `libImaging/Convert.c`).
 */
import type { DecodedImage, ImageMode } from "./types.ts";

/** Pillow's `MULDIV255(a, b)`: a·b/255 rounded, in integers. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/**
 * Premultiplies alpha in place, like Pillow's `rgbA2rgba` / `lA2la` (the last channel is alpha).
 * @example
 * ```ts
 * import { premultiply } from "./convert.ts";
 * premultiply(new Uint8Array([200, 100, 50, 128]), 4); // → Uint8Array [100, 50, 25, 128]
 * ```
 */
export function premultiply(data: Uint8Array, channels: number): Uint8Array {
  for (let i = 0; i < data.length; i += channels) {
    const a = data[i + channels - 1];
    for (let c = 0; c < channels - 1; c++) data[i + c] = mulDiv255(data[i + c], a);
  }
  return data;
}

/**
 * Undoes {@link premultiply} in place, like Pillow's `rgba2rgbA` / `la2lA` (integer division, clipped to 255).
 * @example
 * ```ts
 * import { unpremultiply } from "./convert.ts";
 * unpremultiply(new Uint8Array([100, 50, 25, 128]), 4); // → Uint8Array [199, 99, 49, 128]
 * ```
 */
export function unpremultiply(data: Uint8Array, channels: number): Uint8Array {
  for (let i = 0; i < data.length; i += channels) {
    const a = data[i + channels - 1];
    if (a === 255 || a === 0) continue;
    for (let c = 0; c < channels - 1; c++) data[i + c] = Math.min(255, Math.trunc((255 * data[i + c]) / a));
  }
  return data;
}

/**
 * `convert("RGB")` of pixels in `mode` (`palette` for `P`): L/1 grey replicated, P looked up (transparency ignored),
 * RGBA/LA alpha dropped (no compositing), CMYK by Pillow's `cmyk2rgb`, I clipped to 0..255. Writes `n` pixels.
 * @example
 * ```ts
 * import { toRGB8 } from "./convert.ts";
 * toRGB8(new Uint8Array([0, 0, 0, 255]), "CMYK", 1); // → Uint8Array [0, 0, 0]
 * ```
 */
export function toRGB8(src: Uint8Array, mode: ImageMode, n: number, palette?: Uint8Array): Uint8Array {
  const out = new Uint8Array(n * 3);
  switch (mode) {
    case "RGB":
      out.set(src.subarray(0, n * 3));
      break;
    case "RGBA":
      for (let i = 0; i < n; i++) {
        (out[i * 3] = src[i * 4], out[i * 3 + 1] = src[i * 4 + 1], out[i * 3 + 2] = src[i * 4 + 2]);
      }
      break;
    case "L":
    case "1":
      for (let i = 0; i < n; i++) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = src[i];
      break;
    case "LA":
      for (let i = 0; i < n; i++) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = src[i * 2];
      break;
    case "P": {
      const p = palette!;
      for (let i = 0; i < n; i++) {
        const k = src[i] * 3;
        (out[i * 3] = p[k], out[i * 3 + 1] = p[k + 1], out[i * 3 + 2] = p[k + 2]);
      }
      break;
    }
    case "CMYK":
      for (let i = 0; i < n; i++) {
        const nk = 255 - src[i * 4 + 3];
        for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.max(0, nk - mulDiv255(src[i * 4 + c], nk));
      }
      break;
    case "I":
      // 16-bit big-endian samples, clipped (Pillow's i2rgb on the 32-bit values).
      for (let i = 0; i < n; i++) {
        out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = Math.min(255, (src[i * 2] << 8) | src[i * 2 + 1]);
      }
      break;
  }
  return out;
}

/**
 * RGBA for display: like {@link toRGB8} with alpha kept (RGBA, LA, P with `paletteAlpha`), else 255.
 * @example
 * ```ts
 * import { toRGBA8 } from "./convert.ts";
 * toRGBA8({ width: 1, height: 1, mode: "LA", data: new Uint8Array([9, 7]), format: "RAW" }).data
 * // → Uint8Array [9, 9, 9, 7]
 * ```
 */
export function toRGBA8(image: DecodedImage): { width: number; height: number; data: Uint8Array } {
  const n = image.width * image.height;
  if (image.mode === "RGBA") {
    return { width: image.width, height: image.height, data: image.data.slice(0, n * 4) };
  }
  const rgb = toRGB8(image.data, image.mode, n, image.palette);
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    out[i * 4] = rgb[i * 3];
    out[i * 4 + 1] = rgb[i * 3 + 1];
    out[i * 4 + 2] = rgb[i * 3 + 2];
    out[i * 4 + 3] = image.mode === "LA"
      ? image.data[i * 2 + 1]
      : image.mode === "P" && image.paletteAlpha
      ? image.paletteAlpha[image.data[i]]
      : 255;
  }
  return { width: image.width, height: image.height, data: out };
}
