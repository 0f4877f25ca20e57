/**
 * The CLIP architecture (openai/CLIP `model.py`, ViT variant) in TensorFlow.js, for training.
 *
 * Weights are a flat map named like openai/CLIP's `state_dict`, except that every linear weight
 * is stored as `[in, out]` (ready for `x @ W`) and the patch convolution as `[3·p·p, width]`:
 *   visual.conv1.weight [3pp, W], visual.class_embedding [W], visual.positional_embedding [T, W],
 *   visual.ln_pre.{weight,bias}, visual.transformer.resblocks.i.{ln_1,attn.in_proj,attn.out_proj,ln_2,
 *   mlp.c_fc,mlp.c_proj}.*, visual.ln_post.*, visual.proj [W, D];
 *   token_embedding.weight [V, W], positional_embedding [C, W], transformer.resblocks.i.*,
 *   ln_final.*, text_projection [W, D], logit_scale [] (natural log of the multiplier).
 * @module
 */
import { swapLast, tf } from "./tf.ts";
import {
  type ClipConfig,
  LAYER_NORM_EPS,
  LOGIT_SCALE_INIT,
  MLP_RATIO,
  validateConfig,
  visionTokens,
} from "./config.ts";
import { Rng } from "./rng.ts";

/** Raised when weights or inputs do not fit the model; the message says what to pass instead. */
export class ClipInputError extends Error {
  override name = "ClipInputError";
}

/** Named weights of a CLIP (tensors or trainable variables). */
export type ClipWeights = Record<string, tf.Tensor>;

/** Weight names and shapes of one pre-LN residual attention block. */
function blockShapes(prefix: string, width: number): [string, number[]][] {
  const hidden = width * MLP_RATIO;
  return [
    [`${prefix}.ln_1.weight`, [width]],
    [`${prefix}.ln_1.bias`, [width]],
    [`${prefix}.attn.in_proj_weight`, [width, 3 * width]],
    [`${prefix}.attn.in_proj_bias`, [3 * width]],
    [`${prefix}.attn.out_proj.weight`, [width, width]],
    [`${prefix}.attn.out_proj.bias`, [width]],
    [`${prefix}.ln_2.weight`, [width]],
    [`${prefix}.ln_2.bias`, [width]],
    [`${prefix}.mlp.c_fc.weight`, [width, hidden]],
    [`${prefix}.mlp.c_fc.bias`, [hidden]],
    [`${prefix}.mlp.c_proj.weight`, [hidden, width]],
    [`${prefix}.mlp.c_proj.bias`, [width]],
  ];
}

/**
 * Every weight name with its shape, in a fixed order (the order of checkpoints).
 *
 * @example
 * ```ts
 * weightShapes(loadConfig("tiny"))[0]; // → ["visual.conv1.weight", [192, 64]]
 * ```
 */
export function weightShapes(c: ClipConfig): [string, number[]][] {
  const vw = c.vision_width, tw = c.transformer_width, p = c.vision_patch_size;
  const out: [string, number[]][] = [
    ["visual.conv1.weight", [3 * p * p, vw]],
    ["visual.class_embedding", [vw]],
    ["visual.positional_embedding", [visionTokens(c), vw]],
    ["visual.ln_pre.weight", [vw]],
    ["visual.ln_pre.bias", [vw]],
  ];
  for (let i = 0; i < c.vision_layers; i++) out.push(...blockShapes(`visual.transformer.resblocks.${i}`, vw));
  out.push(
    ["visual.ln_post.weight", [vw]],
    ["visual.ln_post.bias", [vw]],
    ["visual.proj", [vw, c.embed_dim]],
    ["token_embedding.weight", [c.vocab_size, tw]],
    ["positional_embedding", [c.context_length, tw]],
  );
  for (let i = 0; i < c.transformer_layers; i++) out.push(...blockShapes(`transformer.resblocks.${i}`, tw));
  out.push(
    ["ln_final.weight", [tw]],
    ["ln_final.bias", [tw]],
    ["text_projection", [tw, c.embed_dim]],
    ["logit_scale", []],
  );
  return out;
}

/** Initial standard deviation of one weight (openai/CLIP's `initialize_parameters`); 0 = zeros, -1 = ones. */
function initStd(name: string, c: ClipConfig): number {
  const visual = name.startsWith("visual.");
  const width = visual ? c.vision_width : c.transformer_width;
  const layers = visual ? c.vision_layers : c.transformer_layers;
  if (/ln_\w+\.weight$|ln_final\.weight$/.test(name)) return -1;
  if (/bias$/.test(name)) return 0;
  if (name === "token_embedding.weight") return 0.02;
  if (name === "positional_embedding") return 0.01;
  if (name === "visual.conv1.weight") return (3 * c.vision_patch_size ** 2) ** -0.5;
  if (/class_embedding$|visual\.positional_embedding$|visual\.proj$|text_projection$/.test(name)) {
    return width ** -0.5;
  }
  if (name.endsWith("attn.in_proj_weight")) return width ** -0.5;
  if (name.endsWith("attn.out_proj.weight") || name.endsWith("mlp.c_proj.weight")) {
    return width ** -0.5 * (2 * layers) ** -0.5;
  }
  if (name.endsWith("mlp.c_fc.weight")) return (2 * width) ** -0.5;
  throw new ClipInputError(`no initialiser for weight ${name}: add one to initStd in clip_tf.ts`);
}

/**
 * Fresh weights, seeded: same seed, same numbers.
 *
 * @example
 * ```ts
 * const w = initWeights(loadConfig("tiny"), 0);
 * w["logit_scale"][0]; // → 2.659260034561157 (ln(1/0.07))
 * ```
 */
export function initWeights(c: ClipConfig, seed: number): Record<string, Float32Array> {
  validateConfig(c);
  const rng = new Rng(seed);
  const out: Record<string, Float32Array> = {};
  for (const [name, shape] of weightShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (name === "logit_scale") out[name] = Float32Array.of(LOGIT_SCALE_INIT);
    else {
      const std = initStd(name, c);
      out[name] = std === -1
        ? new Float32Array(n).fill(1)
        : std === 0
        ? new Float32Array(n)
        : rng.normals(n, std);
    }
  }
  return out;
}

/** Float arrays → trainable variables with the model's shapes. */
export function toVariables(
  c: ClipConfig,
  arrays: Record<string, Float32Array>,
): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [name, shape] of weightShapes(c)) {
    const a = arrays[name];
    if (!a) throw new ClipInputError(`weights lack ${name}: pass the weights written for this config`);
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
 * encodeImage(c, W, new Float32Array(2 * 3 * 32 * 32), 2).shape; // → [2, 64]
 * ```
 */
export function encodeImage(c: ClipConfig, W: ClipWeights, pixels: Float32Array, batch: number): tf.Tensor2D {
  const B = batch, p = c.vision_patch_size, R = c.image_resolution, g = R / p, width = c.vision_width;
  if (pixels.length !== B * 3 * R * R) {
    throw new ClipInputError(
      `pixels hold ${pixels.length} values, not [${B}, 3, ${R}, ${R}]: preprocess to ${R}×${R}`,
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

/** Index of the first largest id per row (the EOT token, the largest id in the vocabulary). */
export function eotPositions(ids: Int32Array, batch: number, length: number): Int32Array {
  const out = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    let best = 0;
    for (let j = 1; j < length; j++) if (ids[b * length + j] > ids[b * length + best]) best = j;
    out[b] = best;
  }
  return out;
}

/**
 * Text tower: `ids [B, L]` (L ≤ context_length; zero padded after EOT) → text features `[B, D]`.
 *
 * @example
 * ```ts
 * encodeText(c, W, new Int32Array([49406, 5, 49407, 0]), 2).shape; // → [2, 64]
 * ```
 */
export function encodeText(c: ClipConfig, W: ClipWeights, ids: Int32Array, batch: number): tf.Tensor2D {
  const L = ids.length / batch, width = c.transformer_width;
  if (!Number.isInteger(L) || L > c.context_length) {
    throw new ClipInputError(
      `text ids of length ${ids.length} do not form [${batch}, ≤${c.context_length}]: tokenize with contextLength ${c.context_length}`,
    );
  }
  for (const id of ids) {
    if (id < 0 || id >= c.vocab_size) {
      throw new ClipInputError(
        `token id ${id} is outside the vocabulary [0, ${c.vocab_size}): use the model's tokenizer`,
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
  const eot = tf.oneHot(tf.tensor1d(eotPositions(ids, batch, L), "int32"), L).toFloat().reshape([
    batch,
    L,
    1,
  ]);
  const pooled = x.mul(eot).sum(1) as tf.Tensor2D; // [B, W]
  return tf.matMul(pooled, W["text_projection"] as tf.Tensor2D);
}

/** Number of trainable parameters. */
export function parameterCount(c: ClipConfig): number {
  return weightShapes(c).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
}
