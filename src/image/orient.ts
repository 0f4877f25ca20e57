/**
 * EXIF orientation, applied like PIL's `ImageOps.exif_transpose` (only when asked: CLIP does not).
 */
import { CHANNELS, type DecodedImage } from "./types.ts";

/**
 * The image turned upright according to `image.orientation` (2..8); `orientation` becomes 1.
 * @example
 * orient({ ...img, orientation: 6 }).width // img.height (rotated 90° clockwise)
 */
export function orient(image: DecodedImage): DecodedImage {
  const o = image.orientation ?? 1;
  if (o === 1) return image;
  const { width: w, height: h } = image;
  const swap = o >= 5;
  const ow = swap ? h : w, oh = swap ? w : h;
  const ch = CHANNELS[image.mode];
  const out = new Uint8Array(ow * oh * ch);
  // For each output pixel (x, y), the source pixel (sx, sy).
  const source: (x: number, y: number) => [number, number] = {
    2: (x: number, y: number) => [w - 1 - x, y],
    3: (x: number, y: number) => [w - 1 - x, h - 1 - y],
    4: (x: number, y: number) => [x, h - 1 - y],
    5: (x: number, y: number) => [y, x],
    6: (x: number, y: number) => [y, h - 1 - x],
    7: (x: number, y: number) => [w - 1 - y, h - 1 - x],
    8: (x: number, y: number) => [w - 1 - y, x],
  }[o] as (x: number, y: number) => [number, number];
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const [sx, sy] = source(x, y);
      const s = (sy * w + sx) * ch, d = (y * ow + x) * ch;
      for (let c = 0; c < ch; c++) out[d + c] = image.data[s + c];
    }
  }
  return { ...image, width: ow, height: oh, data: out, orientation: 1 };
}
