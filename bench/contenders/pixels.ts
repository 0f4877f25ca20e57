/**
 * Ready pixel tensors for the contenders fed tensors: the files decoded and preprocessed once, untimed.
 * @module
 */
import { loadImage, preprocessInto, type PreprocessOptions } from "../../src/image/mod.ts";

/**
 * `[files, 3, R, R]` float32 pixel values of image files, CLIP-preprocessed.
 * @example
 * (await loadPixels(["cat.png"], model.preprocessOptions)).length // 150528 (3 × 224 × 224)
 */
export async function loadPixels(files: string[], options: PreprocessOptions): Promise<Float32Array> {
  const side = options.cropSize ?? options.size;
  const chw = 3 * side * side;
  const pixels = new Float32Array(files.length * chw); // [files, 3, R, R]
  for (let i = 0; i < files.length; i++) preprocessInto(await loadImage(files[i]), pixels, i * chw, options);
  return pixels;
}

/**
 * The side of the square image a model directory's vision tower takes (config.json's `vision_config.image_size`).
 * @example
 * await imageSide("bench/out/vit-b-32") // 224
 */
export async function imageSide(model: string): Promise<number> {
  const config = JSON.parse(await Deno.readTextFile(`${model}/config.json`));
  return config.vision_config.image_size;
}
