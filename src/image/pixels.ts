/**
 * Pixels drawn in code, in and out: RGBA bytes → a {@link DecodedImage} (`fromRGBA`), any decoded image → RGBA for
 * display (`toRGBA`), RGBA → PNG bytes (`encodePng`), and the check that a value is a decoded image.
 * @module
 */
import { ImageError } from "../errors.ts";
import { CHANNELS, type DecodedImage } from "./types.ts";
import { toRGBA8 } from "./convert.ts";
import imagescriptPng from "imagescript/png/node.js";

/**
 * An image drawn in code (RGBA, e.g. imagescript's `bitmap` or a canvas) as a {@link DecodedImage} of mode `RGBA`.
 * @example
 * ```ts
 * import { fromRGBA } from "./pixels.ts";
 * fromRGBA(1, 1, new Uint8Array([255, 0, 0, 255]));
 * // → { width: 1, height: 1, mode: "RGBA", data: Uint8Array [255, 0, 0, 255], format: "RAW" }
 * ```
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
 * ```ts
 * import { toRGBA } from "./pixels.ts";
 * import { loadImage } from "./load.ts";
 * toRGBA(await loadImage("../shared/golden/preprocess/inputs/camera.png")).data.length; // → 1048576 (512 × 512 × 4)
 * ```
 */
export function toRGBA(image: DecodedImage): { width: number; height: number; data: Uint8Array } {
  assertDecodedImage(image);
  return toRGBA8(image);
}

/**
 * Encodes RGBA pixels as a PNG file (for thumbnails in plots and notebooks).
 * @example
 * ```ts
 * import { encodePng } from "./pixels.ts";
 * const png = encodePng(2, 1, new Uint8Array([255, 0, 0, 255, 0, 0, 255, 255]));
 * png.subarray(1, 4); // → Uint8Array [80, 78, 71] ("PNG" in ASCII)
 * ```
 */
export function encodePng(width: number, height: number, rgba: Uint8Array | Uint8ClampedArray): Uint8Array {
  const image = fromRGBA(width, height, rgba);
  return imagescriptPng.encode(image.data, { width, height, channels: 4, depth: 8, level: 1 });
}

/** Throws an {@link ImageError} unless `image` is a decoded image: width, height, mode, and data of the right length. */
export function assertDecodedImage(image: DecodedImage): void {
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
