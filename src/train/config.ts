/**
 * CLIP model configuration, as data: the fields of openai/CLIP's `CLIP(...)` constructor
 * (`embed_dim`, `image_resolution`, `vision_*`, `context_length`, `vocab_size`, `transformer_*`).
 *
 * Presets live as JSON beside this file (`configs/tiny.json`, `configs/vit-b-32.json`).
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** openai/CLIP's constructor arguments (ViT image tower only), plus the heads of the image tower. */
export interface ClipConfig {
  embed_dim: number;
  image_resolution: number;
  vision_layers: number;
  vision_width: number;
  vision_heads: number;
  vision_patch_size: number;
  context_length: number;
  vocab_size: number;
  transformer_width: number;
  transformer_heads: number;
  transformer_layers: number;
}

/** Names of the presets in `src/train/configs/`. */
export type ConfigPreset = "tiny" | "vit-b-32";

/** Raised when a configuration cannot build a CLIP. */
export class ClipConfigError extends Error {
  override name = "ClipConfigError";
}

/** Width of the MLP hidden layer relative to the model width (CLIP: 4). */
export const MLP_RATIO = 4;
/** Layer-norm epsilon (PyTorch's default, used by CLIP). */
export const LAYER_NORM_EPS = 1e-5;
/** Initial logit scale, as its natural log: ln(1 / 0.07). */
export const LOGIT_SCALE_INIT = Math.log(1 / 0.07);
/** Largest logit scale (CLIP clamps the multiplier at 100). */
export const LOGIT_SCALE_MAX = 100;
/** Image normalisation of CLIP (mean, std per RGB channel). */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

const CONFIG_DIR = join(dirname(fileURLToPath(import.meta.url)), "configs");

/**
 * Read a preset.
 *
 * @example
 * ```ts
 * const c = loadConfig("tiny");
 * c.vision_patch_size; // → 8
 * ```
 */
export function loadConfig(preset: ConfigPreset): ClipConfig {
  const c = JSON.parse(Deno.readTextFileSync(join(CONFIG_DIR, `${preset}.json`))) as ClipConfig;
  validateConfig(c);
  return c;
}

/**
 * Check that a configuration describes a buildable CLIP; throws {@link ClipConfigError}.
 *
 * @example
 * ```ts
 * validateConfig({ ...loadConfig("tiny"), vision_heads: 5 });
 * // → ClipConfigError: vision_width 64 is not divisible by vision_heads 5 ...
 * ```
 */
export function validateConfig(c: ClipConfig): void {
  const fields: (keyof ClipConfig)[] = [
    "embed_dim",
    "image_resolution",
    "vision_layers",
    "vision_width",
    "vision_heads",
    "vision_patch_size",
    "context_length",
    "vocab_size",
    "transformer_width",
    "transformer_heads",
    "transformer_layers",
  ];
  for (const f of fields) {
    if (!Number.isInteger(c[f]) || c[f] <= 0) {
      throw new ClipConfigError(`config.${f} = ${c[f]} must be a positive integer: fix the config.`);
    }
  }
  if (c.image_resolution % c.vision_patch_size !== 0) {
    throw new ClipConfigError(
      `image_resolution ${c.image_resolution} is not divisible by vision_patch_size ${c.vision_patch_size}: ` +
        `choose a resolution that is a multiple of the patch size.`,
    );
  }
  if (c.vision_width % c.vision_heads !== 0) {
    throw new ClipConfigError(
      `vision_width ${c.vision_width} is not divisible by vision_heads ${c.vision_heads}: pick heads that divide the width.`,
    );
  }
  if (c.transformer_width % c.transformer_heads !== 0) {
    throw new ClipConfigError(
      `transformer_width ${c.transformer_width} is not divisible by transformer_heads ${c.transformer_heads}: ` +
        `pick heads that divide the width.`,
    );
  }
}

/** Number of image patches plus the class token. */
export function visionTokens(c: ClipConfig): number {
  return (c.image_resolution / c.vision_patch_size) ** 2 + 1;
}
