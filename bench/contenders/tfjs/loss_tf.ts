/**
 * CLIP's symmetric InfoNCE loss in TensorFlow.js — the definition of `src/loss.ts`:
 * `logits = exp(logit_scale) · normalize(img) · normalize(txt)ᵀ`,
 * `loss = (CE(logits, arange) + CE(logitsᵀ, arange)) / 2`.
 * @module
 */
import { tf } from "./tf.ts";

/** Rows scaled to unit length. */
export function l2normalize(x: tf.Tensor2D): tf.Tensor2D {
  return x.div(x.square().sum(1, true).sqrt()) as tf.Tensor2D;
}

/** Mean cross-entropy of `logits [N, N]` against the diagonal (target i for row i). */
function diagonalCrossEntropy(logits: tf.Tensor2D): tf.Scalar {
  const n = logits.shape[0];
  const logp = tf.logSoftmax(logits); // [N, N]
  return logp.mul(tf.eye(n)).sum().div(-n) as tf.Scalar;
}

/**
 * Scaled cosine logits `[N_img, N_txt]`.
 *
 * @example
 * ```ts
 * import { clipLogits } from "./loss_tf.ts";
 * import { initTf, tf } from "./tf.ts";
 * await initTf();
 * const img = tf.randomNormal([128, 64]) as tf.Tensor2D, txt = tf.randomNormal([128, 64]) as tf.Tensor2D;
 * clipLogits(img, txt, tf.scalar(Math.log(100))).shape; // → [128, 128]
 * ```
 */
export function clipLogits(img: tf.Tensor2D, txt: tf.Tensor2D, logitScale: tf.Tensor): tf.Tensor2D {
  return tf.matMul(l2normalize(img), tf.transpose(l2normalize(txt))).mul(logitScale.exp()) as tf.Tensor2D;
}

/**
 * Symmetric InfoNCE of paired features (row i of `img` belongs with row i of `txt`).
 *
 * @example
 * ```ts
 * import { clipLossTf } from "./loss_tf.ts";
 * import { initTf, tf } from "./tf.ts";
 * await initTf();
 * clipLossTf(tf.eye(4), tf.eye(4), tf.scalar(Math.log(100))).dataSync()[0];
 * // → -0 (perfect pairs at logit scale 100: the loss rounds to zero in float32)
 * ```
 */
export function clipLossTf(img: tf.Tensor2D, txt: tf.Tensor2D, logitScale: tf.Tensor): tf.Scalar {
  const logits = clipLogits(img, txt, logitScale);
  return diagonalCrossEntropy(logits).add(diagonalCrossEntropy(logits.transpose())).div(2) as tf.Scalar;
}
