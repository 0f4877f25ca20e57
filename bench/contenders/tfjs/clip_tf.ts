/**
 * The CLIP architecture (openai/CLIP `model.py`, ViT variant) in TensorFlow.js, for training.
 *
 * Weights are the flat map of src/model/architecture.ts (`weightShapes`, `initWeights`): named like
 * openai/CLIP's `state_dict`, every linear weight stored as `[in, out]` (ready for `x @ W`) and the
 * patch convolution as `[3·p·p, width]`. This file turns them into TF.js variables and runs the towers:
 *   pixels [B, 3, R, R] → patches → transformer → class token → visual.proj → image features [B, D]
 *   ids [B, L] → token + positional embedding → causal transformer → EOT row → text_projection → [B, D]
 * @module
 */
import { swapLast, tf } from "./tf.ts";
import { LAYER_NORM_EPS } from "../../../src/constants.ts";
import { type ClipArchitecture, weightShapes } from "../../../src/model/architecture.ts";
import { tokenLengths } from "../../../src/text/tokenizer.ts";
import { ClipInputError } from "../../../src/errors.ts";

/** Named weights of a CLIP (tensors or trainable variables). */
export type ClipWeights = Record<string, tf.Tensor>;

/** Float arrays → trainable variables with the model's shapes. */
export function toVariables(
  c: ClipArchitecture,
  arrays: Record<string, Float32Array>,
): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [name, shape] of weightShapes(c)) {
    const a = arrays[name];
    if (!a) {
      throw new ClipInputError(`the weights lack ${name}`, {
        fix: "pass the weights written for this architecture",
      });
    }
    out[name] = tf.variable(tf.tensor(a, shape, "float32"), true); // unnamed: names are global in TF.js
  }
  return out;
}

/** The function type `tf.customGrad` takes (its inputs and the save callback, loosely typed). */
type CustomGradient = Parameters<typeof tf.customGrad>[0];

/**
 * Rows of `table [V, W]` picked by `ids [N]` → `[N, W]`; the gradient scatters back with a
 * one-hot product (the WASM backend has no UnsortedSegmentSum for `gather`'s own gradient).
 */
function embed(table: tf.Tensor, ids: tf.Tensor1D, vocab: number): tf.Tensor2D {
  const f = tf.customGrad(
    ((t: tf.Tensor, save: tf.GradSaveFunc) => {
      save([ids]);
      return {
        value: tf.gather(t, ids),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
          tf.matMul(tf.transpose(tf.oneHot(saved[0] as tf.Tensor1D, vocab).toFloat()), dy), // [V, N] @ [N, W]
        ],
      };
    }) as unknown as CustomGradient,
  ) as (t: tf.Tensor) => tf.Tensor;
  return f(table) as tf.Tensor2D;
}

/** Layer norm over the last axis. */
function layerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(tf.rsqrt(variance.add(LAYER_NORM_EPS))).mul(w).add(b);
}

/** `x @ W + b` for `x [N, in]`. */
function linear(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.matMul(x, w as tf.Tensor2D).add(b) as tf.Tensor2D;
}

/** QuickGELU: x · σ(1.702 x). */
function quickGelu(x: tf.Tensor): tf.Tensor {
  return x.mul(tf.sigmoid(x.mul(1.702)));
}

/** Multi-head self-attention of `x [B, L, W]`; `mask [L, L]` is added to the scores. */
function attention(
  W: ClipWeights,
  p: string,
  x: tf.Tensor,
  heads: number,
  mask: tf.Tensor | null,
): tf.Tensor {
  const [B, L, width] = x.shape;
  const d = width / heads;
  const qkv = linear(x.reshape([B * L, width]), W[`${p}.in_proj_weight`], W[`${p}.in_proj_bias`]); // [B·L, 3W]
  const [q, k, v] = tf.split(qkv, 3, 1).map((t) => t.reshape([B, L, heads, d]).transpose([0, 2, 1, 3])); // [B, H, L, d]
  let scores = tf.matMul(q.mul(1 / Math.sqrt(d)), swapLast(k)); // [B, H, L, L]
  if (mask) scores = scores.add(mask);
  const ctx = tf.matMul(tf.softmax(scores), v).transpose([0, 2, 1, 3]).reshape([B * L, width]); // [B·L, W]
  return linear(ctx as tf.Tensor2D, W[`${p}.out_proj.weight`], W[`${p}.out_proj.bias`]).reshape([
    B,
    L,
    width,
  ]);
}

/** One pre-LN residual block: x + attn(ln_1 x); x + mlp(ln_2 x). */
function residualBlock(
  W: ClipWeights,
  p: string,
  x: tf.Tensor,
  heads: number,
  mask: tf.Tensor | null,
): tf.Tensor {
  const [B, L, width] = x.shape;
  x = x.add(attention(W, `${p}.attn`, layerNorm(x, W[`${p}.ln_1.weight`], W[`${p}.ln_1.bias`]), heads, mask));
  const h = layerNorm(x, W[`${p}.ln_2.weight`], W[`${p}.ln_2.bias`]).reshape([B * L, width]) as tf.Tensor2D;
  const m = linear(
    quickGelu(linear(h, W[`${p}.mlp.c_fc.weight`], W[`${p}.mlp.c_fc.bias`])) as tf.Tensor2D,
    W[`${p}.mlp.c_proj.weight`],
    W[`${p}.mlp.c_proj.bias`],
  );
  return x.add(m.reshape([B, L, width]));
}

/**
 * Cut `pixels [B, 3, R, R]` into patch rows `[B·g·g, 3·p·p]` (row = patch (y, x), column = (c, py, px)),
 * the input layout of a stride-p convolution as a matrix product. Plain loops: TensorFlow.js's
 * 6-D transpose costs more than the whole image tower.
 *
 * @example
 * ```ts
 * import { patchify } from "./clip_tf.ts";
 * patchify(new Float32Array(3 * 32 * 32), 1, 32, 8).length; // → 3072 (16 patches × 192)
 * ```
 */
export function patchify(pixels: Float32Array, batch: number, R: number, p: number): Float32Array {
  const g = R / p, out = new Float32Array(pixels.length);
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let gy = 0; gy < g; gy++) {
      for (let gx = 0; gx < g; gx++) {
        for (let c = 0; c < 3; c++) {
          for (let py = 0; py < p; py++) {
            const row = ((b * 3 + c) * R + gy * p + py) * R + gx * p;
            for (let px = 0; px < p; px++) out[o++] = pixels[row + px];
          }
        }
      }
    }
  }
  return out;
}

/**
 * Image tower: `pixels [B, 3, R, R]` (normalised, row-major) → image features `[B, D]` (not normalised).
 *
 * @example
 * ```ts
 * import { encodeImage, toVariables } from "./clip_tf.ts";
 * import { initWeights, loadArchitecture } from "../../../src/model/architecture.ts";
 * import { initTf } from "./tf.ts";
 * await initTf();
 * const c = loadArchitecture("tiny");
 * const W = toVariables(c, initWeights(c, 0));
 * encodeImage(c, W, new Float32Array(2 * 3 * 32 * 32), 2).shape; // → [2, 64]
 * ```
 */
export function encodeImage(
  c: ClipArchitecture,
  W: ClipWeights,
  pixels: Float32Array,
  batch: number,
): tf.Tensor2D {
  const B = batch, p = c.vision_patch_size, R = c.image_resolution, g = R / p, width = c.vision_width;
  if (pixels.length !== B * 3 * R * R) {
    throw new ClipInputError(
      `pixels hold ${pixels.length} values, not [${B}, 3, ${R}, ${R}]`,
      { fix: `preprocess the images to ${R}×${R}` },
    );
  }
  const patches = tf.tensor2d(patchify(pixels, B, R, p), [B * g * g, 3 * p * p]);
  const emb = tf.matMul(patches, W["visual.conv1.weight"] as tf.Tensor2D).reshape([B, g * g, width]); // [B, g², W]
  const cls = W["visual.class_embedding"].reshape([1, 1, width]).tile([B, 1, 1]); // [B, 1, W]
  let x = tf.concat([cls, emb], 1).add(W["visual.positional_embedding"]); // [B, T, W]
  x = layerNorm(x, W["visual.ln_pre.weight"], W["visual.ln_pre.bias"]);
  for (let i = 0; i < c.vision_layers; i++) {
    x = residualBlock(W, `visual.transformer.resblocks.${i}`, x, c.vision_heads, null);
  }
  const first = x.slice([0, 0, 0], [B, 1, width]).reshape([B, width]); // class token [B, W]
  const pooled = layerNorm(first, W["visual.ln_post.weight"], W["visual.ln_post.bias"]);
  return tf.matMul(pooled as tf.Tensor2D, W["visual.proj"] as tf.Tensor2D);
}

/** Causal mask `[L, L]`: 0 on and below the diagonal, -∞ above (CLIP's `build_attention_mask`). */
export function causalMask(L: number): tf.Tensor2D {
  const m = new Float32Array(L * L);
  for (let i = 0; i < L; i++) for (let j = i + 1; j < L; j++) m[i * L + j] = -Infinity;
  return tf.tensor2d(m, [L, L]);
}

/**
 * Text tower: `ids [B, L]` (L ≤ context_length; zero padded after EOT) → text features `[B, D]`.
 *
 * @example
 * ```ts
 * import { encodeText, toVariables } from "./clip_tf.ts";
 * import { initWeights, loadArchitecture } from "../../../src/model/architecture.ts";
 * import { initTf } from "./tf.ts";
 * await initTf();
 * const c = loadArchitecture("tiny");
 * const W = toVariables(c, initWeights(c, 0));
 * encodeText(c, W, new Int32Array([685, 5, 686, 0]), 2).shape; // → [2, 64] (ids [2, 2]: SOT, one token, EOT, pad)
 * ```
 */
export function encodeText(c: ClipArchitecture, W: ClipWeights, ids: Int32Array, batch: number): tf.Tensor2D {
  const L = ids.length / batch, width = c.transformer_width;
  if (!Number.isInteger(L) || L > c.context_length) {
    throw new ClipInputError(
      `text ids of length ${ids.length} do not form [${batch}, ≤${c.context_length}]`,
      { fix: `tokenize with contextLength ${c.context_length}` },
    );
  }
  for (const id of ids) {
    if (id < 0 || id >= c.vocab_size) {
      throw new ClipInputError(
        `token id ${id} is outside the vocabulary [0, ${c.vocab_size})`,
        { fix: "tokenize with the model's tokenizer" },
      );
    }
  }
  const tok = embed(W["token_embedding.weight"], tf.tensor1d(ids, "int32"), c.vocab_size).reshape([
    batch,
    L,
    width,
  ]);
  let x = tok.add(W["positional_embedding"].slice([0, 0], [L, width])); // [B, L, W]
  const mask = causalMask(L);
  for (let i = 0; i < c.transformer_layers; i++) {
    x = residualBlock(W, `transformer.resblocks.${i}`, x, c.transformer_heads, mask);
  }
  x = layerNorm(x, W["ln_final.weight"], W["ln_final.bias"]);
  const eot = tf.oneHot(tf.tensor1d(tokenLengths(ids, [batch, L]).map((n) => n - 1), "int32"), L).toFloat()
    .reshape([
      batch,
      L,
      1,
    ]);
  const pooled = x.mul(eot).sum(1) as tf.Tensor2D; // [B, W]
  return tf.matMul(pooled, W["text_projection"] as tf.Tensor2D);
}
