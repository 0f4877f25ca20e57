/**
 * openai/CLIP's towers (`clip/model.py`, ViT variant) written on the engine's op graph, with
 * `state_dict` names and PyTorch layouts, plus the bag-of-words text encoder and the caption decoder.
 *
 * image: pixels [B, 3, R, R] ─ patchify ─► conv1 (a matmul) ─► [class; patches] + positional ─► ln_pre
 *        ─► resblocks ─► ln_post(class token) ─► @ proj ─► [B, D]
 * text:  ids [B, L] ─► token_embedding + positional ─► causal resblocks ─► row at argmax(ids) (EOT)
 *        ─► ln_final ─► @ text_projection ─► [B, D]
 * resblock (pre-LN): x + out_proj(MHA(ln_1 x)); x + c_proj(QuickGELU(c_fc(ln_2 x)))
 *
 * Activations inside the blocks are kept 2-D (`[B·L, W]`) so that every linear layer is one Gemm.
 * @module
 */
import type { Graph, T } from "./ir.ts";
import type { EngineArchitecture } from "./layout.ts";
import { LAYER_NORM_EPS } from "../../constants.ts";

/** The graph's parameter tensors by `state_dict` name. */
export type Params = Record<string, T>;

/** Causal attention mask `[L, L]`: 0 on and below the diagonal, −∞ above (CLIP's `build_attention_mask`). */
export function causalMask(g: Graph, L: number): T {
  const m = new Float32Array(L * L);
  for (let i = 0; i < L; i++) for (let j = i + 1; j < L; j++) m[i * L + j] = -Infinity;
  return g.constant(m, [L, L]);
}

/**
 * PyTorch's `nn.MultiheadAttention` self-attention with packed `in_proj`: `x [B·L, W]` → `[B·L, W]`.
 * `mask [L, L]` (optional) is added to the scores.
 */
export function attention(
  g: Graph,
  P: Params,
  prefix: string,
  x: T,
  B: number,
  L: number,
  heads: number,
  mask?: T,
): T {
  const W = x.shape[1], d = W / heads;
  const qkv = g.linear(x, P[`${prefix}.in_proj_weight`], P[`${prefix}.in_proj_bias`]); // [B·L, 3W]
  const [q2, k2, v2] = g.split(qkv, 1, [W, W, W]); // [B·L, W] each
  const q = g.transpose(g.reshape(g.scale(q2, 1 / Math.sqrt(d)), [B, L, heads, d]), [0, 2, 1, 3]); // [B, H, L, d]
  const kT = g.transpose(g.reshape(k2, [B, L, heads, d]), [0, 2, 3, 1]); // [B, H, d, L]
  const v = g.transpose(g.reshape(v2, [B, L, heads, d]), [0, 2, 1, 3]); // [B, H, L, d]
  let scores = g.matmul(q, kT); // [B, H, L, L]
  if (mask) scores = g.add(scores, mask);
  const ctx = g.matmul(g.softmax(scores, -1), v); // [B, H, L, d]
  const merged = g.reshape(g.transpose(ctx, [0, 2, 1, 3]), [B * L, W]); // [B·L, W]
  return g.linear(merged, P[`${prefix}.out_proj.weight`], P[`${prefix}.out_proj.bias`]);
}

/** openai/CLIP's `ResidualAttentionBlock` on `x [B·L, W]`. */
export function residualBlock(
  g: Graph,
  P: Params,
  prefix: string,
  x: T,
  B: number,
  L: number,
  heads: number,
  mask?: T,
): T {
  const h = g.layerNorm(x, P[`${prefix}.ln_1.weight`], P[`${prefix}.ln_1.bias`], LAYER_NORM_EPS);
  x = g.add(x, attention(g, P, `${prefix}.attn`, h, B, L, heads, mask));
  const h2 = g.layerNorm(x, P[`${prefix}.ln_2.weight`], P[`${prefix}.ln_2.bias`], LAYER_NORM_EPS);
  const hidden = g.quickGelu(g.linear(h2, P[`${prefix}.mlp.c_fc.weight`], P[`${prefix}.mlp.c_fc.bias`])); // [B·L, 4W]
  return g.add(x, g.linear(hidden, P[`${prefix}.mlp.c_proj.weight`], P[`${prefix}.mlp.c_proj.bias`]));
}

/** Stacked residual blocks `${prefix}.resblocks.i`. */
function transformer(
  g: Graph,
  P: Params,
  prefix: string,
  layers: number,
  x: T,
  B: number,
  L: number,
  heads: number,
  mask?: T,
): T {
  for (let i = 0; i < layers; i++) x = residualBlock(g, P, `${prefix}.resblocks.${i}`, x, B, L, heads, mask);
  return x;
}

/**
 * CLIP's `encode_image` (VisionTransformer): `pixels [B, 3, R, R]` → image features `[B, D]` (not normalised).
 * The stride-p convolution is a patchify (reshape + transpose) and one matmul with `conv1.weight [W, 3·p·p]`.
 */
export function encodeImage(g: Graph, a: EngineArchitecture, P: Params, pixels: T): T {
  const B = pixels.shape[0], R = a.image_resolution, p = a.vision_patch_size, n = R / p, W = a.vision_width;
  const T0 = n * n + 1;
  const patches = g.reshape(
    g.transpose(g.reshape(pixels, [B, 3, n, p, n, p]), [0, 2, 4, 1, 3, 5]), // [B, n, n, 3, p, p]
    [B * n * n, 3 * p * p],
  );
  const conv = g.reshape(P["visual.conv1.weight"], [W, 3 * p * p]); // [W, 3·p·p]
  const emb = g.reshape(g.linear(patches, conv), [B, n * n, W]); // [B, n², W]
  const cls = g.expand(g.reshape(P["visual.class_embedding"], [1, 1, W]), [B, 1, W]); // [B, 1, W]
  let x = g.add(g.concat([cls, emb], 1), P["visual.positional_embedding"]); // [B, T, W]
  x = g.layerNorm(
    g.reshape(x, [B * T0, W]),
    P["visual.ln_pre.weight"],
    P["visual.ln_pre.bias"],
    LAYER_NORM_EPS,
  );
  x = transformer(g, P, "visual.transformer", a.vision_layers, x, B, T0, a.vision_heads);
  const first = g.reshape(g.slice(g.reshape(x, [B, T0, W]), 1, 0, 1), [B, W]); // class token [B, W]
  const pooled = g.layerNorm(first, P["visual.ln_post.weight"], P["visual.ln_post.bias"], LAYER_NORM_EPS);
  return g.matmul(pooled, P["visual.proj"]); // [B, D]
}

/** Token ids as int64 (the graph's `ids` input is int32, as `clip.tokenize` returns). */
export function ids64(g: Graph, ids: T): T {
  return ids.dtype === "int64" ? ids : g.cast(ids, "int64");
}

/**
 * CLIP's `encode_text`: `ids [B, L]` (L ≤ context_length) → text features `[B, D]`, pooled at the EOT token
 * (the first position of the largest id). Layer norm is per token, so it is applied after pooling.
 */
export function encodeText(g: Graph, a: EngineArchitecture, P: Params, ids: T): T {
  const [B, L] = ids.shape, W = a.transformer_width;
  const tok = g.gather(P["token_embedding.weight"], ids64(g, ids)); // [B, L, W]
  const pos = L === a.context_length
    ? P["positional_embedding"]
    : g.slice(P["positional_embedding"], 0, 0, L); // [L, W]
  let x = g.reshape(g.add(tok, pos), [B * L, W]); // [B·L, W]
  x = transformer(g, P, "transformer", a.transformer_layers, x, B, L, a.transformer_heads, causalMask(g, L));
  const eot = g.emit1("ArgMax", [ids], { axis: 1, keepdims: 0 }, [B], "int64"); // [B]
  const rows = g.emit1("Add", [eot, g.int64(Array.from({ length: B }, (_, b) => b * L))], {}, [B], "int64"); // [B]
  const pooled = g.layerNorm(g.gather(x, rows), P["ln_final.weight"], P["ln_final.bias"], LAYER_NORM_EPS); // [B, W]
  return g.matmul(pooled, P["text_projection"]); // [B, D]
}

/**
 * Which positions of `ids [B, L]` hold caption words: not padding (0), not SOT (`vocab − 2`), not EOT
 * (`vocab − 1`), as float `[B, L]` (CLIP's vocabularies end with SOT, EOT).
 */
export function wordMask(g: Graph, a: EngineArchitecture, ids: T): T {
  const i64 = ids64(g, ids);
  const real = g.emit1("Less", [i64, g.int64([a.vocab_size - 2], [])], {}, ids.shape, "bool");
  const notPad = g.emit1("Greater", [i64, g.int64([0], [])], {}, ids.shape, "bool");
  return g.cast(g.emit1("And", [real, notPad], {}, ids.shape, "bool"), g.float);
}

/**
 * Bag-of-words text encoder: the mean of the token embeddings over the caption's words
 * ({@link wordMask}), projected: `ids [B, L]` → `[B, D]`. A caption without words gives zeros.
 */
export function encodeTextBagOfWords(g: Graph, a: EngineArchitecture, P: Params, ids: T): T {
  const [B, L] = ids.shape;
  const tok = g.gather(P["token_embedding.weight"], ids64(g, ids)); // [B, L, W]
  const mask = wordMask(g, a, ids); // [B, L]
  const count = g.emit1(
    "Max",
    [g.emit1("ReduceSum", [mask, g.int64([1])], { keepdims: 1 }, [B, 1]), g.scalar(1)],
    {},
    [B, 1],
  );
  const weights = g.reshape(g.emit1("Div", [mask, count], {}, [B, L]), [B, L, 1]); // [B, L, 1]
  const mean = g.reduceSum(g.mul(tok, weights), [1]); // [B, W]
  return g.matmul(mean, P["text_projection"]); // [B, D]
}

/**
 * The caption decoder: a small causal transformer that reads the image features as its first token and
 * predicts each caption token from the ones before it. Returns the logits `[B·(L−1), V]` for targets
 * `ids[:, 1:]` (the output at the image token, which would predict SOT, is dropped). The output layer
 * is tied to `decoder.token_embedding.weight`.
 */
export function captionLogits(g: Graph, a: EngineArchitecture, P: Params, image: T, ids: T): T {
  const [B, L] = ids.shape, W = a.transformer_width;
  const prefix = g.reshape(g.linear(image, P["decoder.image_proj.weight"], P["decoder.image_proj.bias"]), [
    B,
    1,
    W,
  ]); // [B, 1, W]
  const input = g.emit1("Slice", [ids64(g, ids), g.int64([0]), g.int64([L - 1]), g.int64([1])], {}, [
    B,
    L - 1,
  ], "int64"); // [B, L−1]
  const tok = g.gather(P["decoder.token_embedding.weight"], input); // [B, L−1, W]
  const pos = L === a.context_length
    ? P["decoder.positional_embedding"]
    : g.slice(P["decoder.positional_embedding"], 0, 0, L);
  let x = g.reshape(g.add(g.concat([prefix, tok], 1), pos), [B * L, W]); // [B·L, W]
  x = transformer(
    g,
    P,
    "decoder.transformer",
    a.decoder_layers ?? 1,
    x,
    B,
    L,
    a.transformer_heads,
    causalMask(g, L),
  );
  const out = g.reshape(g.slice(g.reshape(x, [B, L, W]), 1, 1, L), [B * (L - 1), W]); // [B·(L−1), W]
  const h = g.layerNorm(out, P["decoder.ln_final.weight"], P["decoder.ln_final.bias"], LAYER_NORM_EPS);
  return g.linear(h, P["decoder.token_embedding.weight"]); // [B·(L−1), V]
}
