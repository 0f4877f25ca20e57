/**
 * The training objectives on the engine's op graph, each a scalar loss of a batch `(pixels, ids)`:
 *
 * - `infonce`: CLIP's symmetric InfoNCE, `(CE(logits, arange) + CE(logitsᵀ, arange)) / 2` with
 *   `logits = exp(logit_scale) · normalize(image) · normalize(text)ᵀ`.
 * - `siglip`: SigLIP's pairwise sigmoid loss, `−Σᵢⱼ log σ(zᵢⱼ · (exp(t) · cosᵢⱼ + b)) / B` with zᵢⱼ = +1 on
 *   the diagonal, −1 elsewhere.
 * - `bow_prediction`: the image features predict the caption's bag of words: softmax cross-entropy
 *   against the caption's word frequencies (`bow_head` maps the features to vocabulary logits).
 * - `caption_lm`: a small causal decoder reads the image features and predicts the caption token by
 *   token (teacher forcing); mean cross-entropy over the real target tokens (padding excluded).
 * @module
 */
import type { Graph, T } from "./ir.ts";
import {
  captionLogits,
  encodeImage,
  encodeText,
  encodeTextBagOfWords,
  ids64,
  type Params,
  wordMask,
} from "./clip.ts";
import type { EngineArchitecture } from "./layout.ts";

/** The loss of a batch, and the image–text logits for the contrastive objectives. */
export interface LossGraph {
  loss: T;
  logits?: T;
}

/** Image and text features `[B, D]` of the contrastive objectives. */
function features(g: Graph, a: EngineArchitecture, P: Params, pixels: T, ids: T): [T, T] {
  const image = encodeImage(g, a, P, pixels);
  const text = (a.text_encoder ?? "transformer") === "bag_of_words"
    ? encodeTextBagOfWords(g, a, P, ids)
    : encodeText(g, a, P, ids);
  return [image, text];
}

/** Cosine similarities scaled by `exp(logit_scale)`: `[B_img, B_txt]`. */
export function scaledCosines(g: Graph, image: T, text: T, logitScale: T): T {
  const cos = g.matmul(g.l2normalize(image), g.transpose(g.l2normalize(text), [1, 0])); // [B, B]
  return g.mul(cos, g.exp(logitScale));
}

/** CLIP's symmetric InfoNCE of paired features. */
export function infoNce(g: Graph, image: T, text: T, logitScale: T): LossGraph {
  const logits = scaledCosines(g, image, text, logitScale); // [B, B]
  const B = logits.shape[0];
  const targets = g.int64(Array.from({ length: B }, (_, i) => i)); // [B]
  const both = g.add(g.crossEntropy(logits, targets), g.crossEntropy(g.transpose(logits, [1, 0]), targets));
  return { loss: g.scale(both, 0.5), logits };
}

/** SigLIP's sigmoid loss of paired features (summed over all pairs, divided by the batch). */
export function sigLip(g: Graph, image: T, text: T, logitScale: T, logitBias: T): LossGraph {
  const logits = g.add(scaledCosines(g, image, text, logitScale), logitBias); // [B, B]
  const B = logits.shape[0];
  const signs = new Float32Array(B * B).fill(-1);
  for (let i = 0; i < B; i++) signs[i * B + i] = 1;
  const ll = g.logSigmoid(g.mul(logits, g.constant(signs, [B, B]))); // [B, B]
  return { loss: g.scale(g.reduceSum(ll, [0, 1]), -1 / B), logits };
}

/** Bag-of-words prediction: softmax cross-entropy of `bow_head(image)` against the caption's word frequencies. */
export function bagOfWordsPrediction(
  g: Graph,
  a: EngineArchitecture,
  P: Params,
  image: T,
  ids: T,
): LossGraph {
  const [B, L] = ids.shape, V = a.vocab_size;
  const logits = g.linear(image, P["bow_head.weight"], P["bow_head.bias"]); // [B, V]
  const mask = g.reshape(wordMask(g, a, ids), [B, L, 1]); // [B, L, 1]
  const counts = g.emit1(
    "ReduceSum",
    [g.emit1("Mul", [g.oneHot(ids64(g, ids), V), mask], {}, [B, L, V]), g.int64([1])],
    { keepdims: 0 },
    [B, V],
  );
  const total = g.emit1(
    "Max",
    [g.emit1("ReduceSum", [counts, g.int64([1])], { keepdims: 1 }, [B, 1]), g.scalar(1)],
    {},
    [B, 1],
  );
  const target = g.emit1("Div", [counts, total], {}, [B, V]); // [B, V] word frequencies
  const loss = g.scale(g.reduceSum(g.mul(g.logSoftmax(logits, -1), target), [0, 1]), -1 / B);
  return { loss, logits };
}

/** Caption language model: teacher-forced cross-entropy of the decoder over the real target tokens. */
export function captionLm(g: Graph, a: EngineArchitecture, P: Params, image: T, ids: T): LossGraph {
  const [B, L] = ids.shape;
  const logits = captionLogits(g, a, P, image, ids); // [B·(L−1), V]
  const next = g.emit1(
    "Slice",
    [ids64(g, ids), g.int64([1]), g.int64([L]), g.int64([1])],
    {},
    [B, L - 1],
    "int64",
  );
  const targets = g.reshape(next, [B * (L - 1)]); // [B·(L−1)]
  const weights = g.cast(g.emit1("Greater", [targets, g.int64([0], [])], {}, targets.shape, "bool"), g.float);
  return { loss: g.crossEntropy(logits, targets, weights), logits };
}

/**
 * The architecture's objective on a batch.
 *
 * @example
 * ```ts
 * import { Graph } from "./ir.ts";
 * import { objectiveLoss } from "./objectives.ts";
 * // with P the parameter tensors of `a` (see session.ts):
 * // const { loss } = objectiveLoss(g, a, P, g.input("pixels", [8, 3, 32, 32]), g.input("ids", [8, 24], "int32"));
 * ```
 */
export function objectiveLoss(g: Graph, a: EngineArchitecture, P: Params, pixels: T, ids: T): LossGraph {
  const objective = a.objective ?? "infonce";
  if (objective === "bow_prediction") return bagOfWordsPrediction(g, a, P, encodeImage(g, a, P, pixels), ids);
  if (objective === "caption_lm") return captionLm(g, a, P, encodeImage(g, a, P, pixels), ids);
  const [image, text] = features(g, a, P, pixels, ids);
  if (objective === "siglip") return sigLip(g, image, text, P["logit_scale"], P["logit_bias"]);
  return infoNce(g, image, text, P["logit_scale"]);
}
