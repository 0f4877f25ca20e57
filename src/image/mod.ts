/**
 * Images in, CLIP's input tensor out, exactly as openai/CLIP runs `clip._transform(n_px)` on PIL + torchvision:
 *
 * bytes → `load.ts` (sniff, size limit, decode PNG / JPEG / GIF, PIL's mode kept) → `preprocess.ts`
 * (`Resize(n_px, BICUBIC)` → `CenterCrop(n_px)` → `convert("RGB")` → `ToTensor()` → `Normalize(mean, std)`)
 * → `Float32Array` [3, R, R]. `pixels.ts` turns pixels drawn in code into images and images into RGBA or PNG.
 *
 * This module only re-exports.
 * @module
 */
export { ImageError, type ImageErrorReason } from "../errors.ts";
export type { DecodedImage, ImageFormat, ImageMode, RGBImage } from "./types.ts";
export { Resample, type ResampleFilter } from "./resample.ts";
export type { JpegDecoder } from "./jpeg.ts";
export {
  decodeImage,
  loadImage,
  type LoadImageOptions,
  MAX_IMAGE_PIXELS,
  SUPPORTED_FORMATS,
} from "./load.ts";
export { encodePng, fromRGBA, toRGBA } from "./pixels.ts";
export {
  CLIP_PREPROCESS,
  type NormalizeOptions,
  normalizePixels,
  type PixelLayout,
  preprocess,
  preprocessBatch,
  preprocessInto,
  type PreprocessOptions,
  preprocessorOptions,
  preprocessWithCrop,
  resizeCropRGB,
} from "./preprocess.ts";
