/**
 * The smallest CLIP the engine tests differentiate by finite differences (float64): one layer per tower,
 * width 8, 8 px pictures of 2×2 patches, 6-token captions over a 20-id vocabulary.
 * @module
 */
import type { EngineArchitecture } from "../src/train/engine/layout.ts";

/** A small architecture for checking whole objectives by finite differences. */
export const SMALL: EngineArchitecture = {
  embed_dim: 8,
  image_resolution: 8,
  vision_layers: 1,
  vision_width: 8,
  vision_heads: 2,
  vision_patch_size: 4,
  context_length: 6,
  vocab_size: 20,
  transformer_width: 8,
  transformer_heads: 2,
  transformer_layers: 1,
};
