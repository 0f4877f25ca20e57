/**
 * EXIF orientation, read from JPEG APP1 or PNG eXIf, applied like PIL's `ImageOps.exif_transpose` (only when asked:
 * CLIP does not).
 */
import { CHANNELS, type DecodedImage } from "./types.ts";

/**
 * The Orientation tag (0x0112) of IFD0 in TIFF-structured EXIF data (a JPEG APP1 after `Exif\0\0`, a PNG eXIf chunk).
 * @example
 * ```ts
 * import { tiffOrientation } from "./orient.ts";
 * tiffOrientation(Uint8Array.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 1, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]))
 * // → 6
 * ```
 */
export function tiffOrientation(t: Uint8Array): number | undefined {
  if (t.length < 8 || !((t[0] === 0x49 && t[1] === 0x49) || (t[0] === 0x4d && t[1] === 0x4d))) {
    return undefined;
  }
  const le = t[0] === 0x49;
  const u16 = (i: number) => (le ? t[i] | (t[i + 1] << 8) : (t[i] << 8) | t[i + 1]);
  const u32 = (i: number) => (le ? u16(i) + u16(i + 2) * 65536 : u16(i) * 65536 + u16(i + 2));
  const ifd = u32(4);
  if (ifd + 2 > t.length) return undefined;
  const n = u16(ifd);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > t.length) return undefined;
    if (u16(e) === 0x0112) {
      const v = u16(e + 8);
      return v >= 1 && v <= 8 ? v : undefined;
    }
  }
  return undefined;
}

/**
 * The image turned upright according to `image.orientation` (2..8); `orientation` becomes 1.
 * @example
 * ```ts
 * import { orient } from "./orient.ts";
 * import { fromRGBA } from "./pixels.ts";
 * const img = fromRGBA(3, 2, new Uint8Array(3 * 2 * 4)); // 3 wide, 2 high
 * orient({ ...img, orientation: 6 }).width; // → 2 (rotated 90° clockwise)
 * ```
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
