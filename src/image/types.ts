/**
 * The decoded-image types shared by the decoders and the preprocessing code.
 */

/**
 * PIL's image modes, which decide how CLIP's pipeline treats an image.
 *
 * `P` and `1` are always resized nearest-neighbour; `RGBA` and `LA` are resized premultiplied; `CMYK` is resized
 * in CMYK and converted with PIL's formula; `I` (16-bit greyscale PNG) is resized in 32-bit and clipped to 0..255.
 */
export type ImageMode = "RGB" | "RGBA" | "L" | "LA" | "P" | "1" | "CMYK" | "I";

/** The file format an image was decoded from (`RAW` for pixels made in code). */
export type ImageFormat = "PNG" | "JPEG" | "GIF" | "RAW";

/**
 * A decoded image, pixels as PIL holds them before any conversion.
 *
 * `data` is row-major, top row first, channels interleaved, with `channels(mode)` bytes a pixel:
 * - `RGB` 3 (R, G, B) · `RGBA` 4 (R, G, B, A; not premultiplied) · `CMYK` 4 (C, M, Y, K; 0 = no ink)
 * - `L` 1 (grey) · `LA` 2 (grey, alpha) · `1` 1 (0 or 255, bilevel)
 * - `P` 1 (an index into `palette`, 256 RGB triples)
 * - `I` 2 (a 16-bit grey value, big-endian, as stored in a 16-bit greyscale PNG)
 */
export interface DecodedImage {
  /** Pixels a row. */
  width: number;
  /** Rows. */
  height: number;
  /** PIL's mode, which sets the layout of `data` and how the image is resized and converted. */
  mode: ImageMode;
  /** `width × height × CHANNELS[mode]` bytes, row-major, channels interleaved. */
  data: Uint8Array;
  /** `P` only: 256 × (R, G, B), the colours of indices 0..255 (unused entries are black). */
  palette?: Uint8Array;
  /** `P` only: the alpha of each palette index (tRNS / GIF transparency), for display; CLIP ignores it. */
  paletteAlpha?: Uint8Array;
  /** Where the pixels came from. */
  format: ImageFormat;
  /** JPEG only: the decoder that made the pixels (`libjpeg-turbo` gives PIL's pixels exactly). */
  decoder?: "libjpeg-turbo" | "imagescript";
  /** EXIF orientation (1..8) of a JPEG or PNG, as stored; not applied unless `loadImage(..., { autoOrient: true })`. */
  orientation?: number;
}

/** An 8-bit RGB image, 3 bytes a pixel, row-major: a {@link DecodedImage} of mode `RGB` (display it with `toRGBA`). */
export interface RGBImage extends DecodedImage {
  /** Always `RGB`: 3 bytes a pixel. */
  mode: "RGB";
  /** Always `RAW`: made in memory, not decoded from a file. */
  format: "RAW";
}

/** Bytes a pixel for each mode. */
export const CHANNELS: Readonly<Record<ImageMode, number>> = {
  RGB: 3,
  RGBA: 4,
  CMYK: 4,
  L: 1,
  LA: 2,
  "1": 1,
  P: 1,
  I: 2,
};
