/**
 * FLOPs of CLIP from its shape, counted once for every benchmark that reports achieved GFLOP/s.
 *
 * Rule: matrix products only, 2 FLOPs per multiply-add — the patch embedding, each layer's QKV projection,
 * attention scores (Q·Kᵀ) and their mix of V, output projection and the two MLP layers, the final
 * projections and, in training, the B×B logits. Layer norms, softmax, activations and the optimizer
 * (≈1–3% more) are left out, so achieved GFLOP/s are slight underestimates. The causal text mask is
 * counted as dense (the contenders all compute the masked products). A training step counts as 3× its
 * forward pass: the backward pass does two products per forward product (the gradient of the input and of
 * the weight), ≈ 2× the forward FLOPs.
 *
 *   architecture + batch + text length ──► forwardFlops ──► trainingStepFlops (× 3)
 * @module
 */
import type { ClipArchitecture } from "../src/model/architecture.ts";

/** Width of the MLP's hidden layer relative to the model's width (CLIP: 4). */
const MLP_RATIO = 4;

/**
 * FLOPs of one sequence of `tokens` through `layers` pre-LN residual attention blocks of `width`.
 * @example
 * ```ts
 * transformerFlops(50, 768, 12); // 8_585_625_600 (ViT-B/32's 50 image tokens)
 * ```
 */
export function transformerFlops(tokens: number, width: number, layers: number): number {
  const t = tokens, w = width;
  const perLayer = 2 * t * w * 3 * w + // QKV
    2 * 2 * t * t * w + // scores and their mix of V
    2 * t * w * w + // output projection
    2 * 2 * t * w * MLP_RATIO * w; // MLP, two layers
  return layers * perLayer;
}

/** The image tower's shape in the terms the FLOP count needs. */
export interface VisionTowerShape {
  imageSize: number;
  patchSize: number;
  width: number;
  layers: number;
  projection: number;
}

/**
 * FLOPs of one image through the vision tower: patch embedding, the blocks, the projection.
 * @example
 * ```ts
 * visionTowerFlops({ imageSize: 224, patchSize: 32, width: 768, layers: 12, projection: 512 }); // 8_817_623_040
 * ```
 */
export function visionTowerFlops(s: VisionTowerShape): number {
  const patches = (s.imageSize / s.patchSize) ** 2;
  const patchEmbed = 2 * patches * (3 * s.patchSize * s.patchSize) * s.width;
  return patchEmbed + transformerFlops(patches + 1, s.width, s.layers) + 2 * s.width * s.projection;
}

/**
 * FLOPs of one caption of `length` tokens through the text tower (the token lookup is free), with its
 * projection.
 * @example
 * ```ts
 * textTowerFlops(loadArchitecture("tiny"), 10); // 2_025_472
 * ```
 */
export function textTowerFlops(a: ClipArchitecture, length: number): number {
  return transformerFlops(length, a.transformer_width, a.transformer_layers) +
    2 * a.transformer_width * a.embed_dim;
}

/**
 * Forward FLOPs of a CLIP on a batch: `batch` images and captions of `textLength` tokens, and the
 * `batch × batch` logits.
 * @example
 * ```ts
 * forwardFlops(loadArchitecture("tiny"), 128, 10); // 759_496_704
 * ```
 */
export function forwardFlops(a: ClipArchitecture, batch: number, textLength: number): number {
  const image = visionTowerFlops({
    imageSize: a.image_resolution,
    patchSize: a.vision_patch_size,
    width: a.vision_width,
    layers: a.vision_layers,
    projection: a.embed_dim,
  });
  const logits = 2 * batch * batch * a.embed_dim;
  return batch * (image + textTowerFlops(a, textLength)) + logits;
}

/** The backward pass ≈ 2× the forward pass: a training step is 3 forward passes' worth of FLOPs. */
export const TRAINING_STEP_FORWARDS = 3;

/**
 * FLOPs of one training step (forward + backward ≈ 3 × forward; the optimizer's few FLOPs per weight are
 * not counted).
 * @example
 * ```ts
 * trainingStepFlops(loadArchitecture("tiny"), 128, 10); // 2_278_490_112
 * ```
 */
export function trainingStepFlops(a: ClipArchitecture, batch: number, textLength: number): number {
  return TRAINING_STEP_FORWARDS * forwardFlops(a, batch, textLength);
}
