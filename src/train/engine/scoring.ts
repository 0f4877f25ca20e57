/**
 * Zero-shot scores of every objective the engine trains, as forward graphs on the engine's op graph run by the
 * training session's runtime: image features, text features (the contrastive objectives), and the score of
 * every (image, prompt) pair for the predictive objectives, which have no text tower to embed a prompt with.
 *
 * image features:  params [P], pixels [N, 3, R, R] ─ encodeImage ─► [N, D]
 * text features:   params [P], ids int32 [M, L] ─ encodeText | encodeTextBagOfWords ─► [M, D]
 * caption LM:      params [P], image_features [N, D], ids int32 [M, L] ─ every pair (n, m) ─ captionLogits
 *                  ─► log-softmax ─► scores [N, M] = Σₜ log p(ids[m, t] | ids[m, <t], image n), t = 1 … EOT
 *                  (the targets of teacher forcing, padding excluded: −(cross-entropy × target count))
 * BoW prediction:  params [P], image_features [N, D], ids int32 [M, L] ─► scores [N, M] =
 *                  Σ_words log softmax(bow_head(image n))[word] over prompt m's words (SOT, EOT, padding out)
 *
 * {@link ObjectiveScorer} holds the graph sessions (one per shape, compiled on first use) and cuts the work into
 * chunks of images × prompts; prompts are grouped by their token count so that each chunk is padded only to its
 * own longest prompt (the causal decoder and the word mask make the padding invisible to the scores).
 * @module
 */
import type { InferenceSession, Tensor } from "onnxruntime-common";
import { type BackendChoice, loadRuntime, type Runtime } from "../../model/runtime.ts";
import { ClipInputError } from "../../errors.ts";
import { Graph, type T } from "./ir.ts";
import { type EngineArchitecture, flatten, hasTextTower, type Layout, layoutOf } from "./layout.ts";
import { captionLogits, encodeImage, encodeText, encodeTextBagOfWords, ids64, wordMask } from "./clip.ts";
import { sliceParameters, type TrainingSession } from "./session.ts";

/** The parameters input and the parameter tensors cut out of it. */
function parameters(g: Graph, layout: Layout) {
  const params = g.input("params", [layout.total]);
  return sliceParameters(g, layout, params);
}

/**
 * The image-features graph: `params`, `pixels [N, 3, R, R]` → `image_features [N, D]` (CLIP's `encode_image`,
 * not normalised).
 *
 * @example
 * ```ts
 * import { imageFeaturesGraph } from "./scoring.ts";
 * import { loadArchitecture } from "../../model/architecture.ts";
 * imageFeaturesGraph(loadArchitecture("tiny"), 4).length > 0; // → true
 * ```
 */
export function imageFeaturesGraph(a: EngineArchitecture, N: number): Uint8Array {
  const g = new Graph("clipkit_image_features");
  const P = parameters(g, layoutOf(a));
  const pixels = g.input("pixels", [N, 3, a.image_resolution, a.image_resolution]);
  g.output(encodeImage(g, a, P, pixels), "image_features");
  return g.builder.encode();
}

/**
 * The text-features graph of a contrastive objective: `params`, `ids [M, L]` → `text_features [M, D]`, through
 * the architecture's text encoder (the transformer pooled at EOT, or the bag of words).
 *
 * @example
 * ```ts
 * import { textFeaturesGraph } from "./scoring.ts";
 * import { loadArchitecture } from "../../model/architecture.ts";
 * textFeaturesGraph({ ...loadArchitecture("tiny"), text_encoder: "bag_of_words" }, 4, 8).length > 0; // → true
 * ```
 */
export function textFeaturesGraph(a: EngineArchitecture, M: number, L: number): Uint8Array {
  if (!hasTextTower(a)) {
    throw new ClipInputError(`objective ${a.objective} has no text tower to embed prompts with`, {
      fix: "score prompts with promptScoreGraph (caption_lm, bow_prediction)",
    });
  }
  const g = new Graph("clipkit_text_features");
  const P = parameters(g, layoutOf(a));
  const ids = g.input("ids", [M, L], "int32");
  const text = (a.text_encoder ?? "transformer") === "bag_of_words"
    ? encodeTextBagOfWords(g, a, P, ids)
    : encodeText(g, a, P, ids);
  g.output(text, "text_features");
  return g.builder.encode();
}

/** Every pair (image n, prompt m), image-major: features `[N·M, D]` and ids `[N·M, L]`. */
function pairs(g: Graph, features: T, ids: T): { image: T; text: T } {
  const [N, D] = features.shape, [M, L] = ids.shape;
  const image = g.reshape(g.expand(g.reshape(features, [N, 1, D]), [N, M, D]), [N * M, D]); // [N·M, D]
  const text = g.reshape(g.expand(g.reshape(ids, [1, M, L]), [N, M, L]), [N * M, L]); // [N·M, L]
  return { image, text };
}

/** Caption-LM scores `[N, M]`: the summed next-token log-probabilities of each prompt after SOT, through EOT. */
function captionScores(g: Graph, a: EngineArchitecture, P: Record<string, T>, features: T, ids: T): T {
  const [N] = features.shape, [M, L] = ids.shape, rows = N * M * (L - 1);
  const { image, text } = pairs(g, features, ids);
  const logits = captionLogits(g, a, P, image, text); // [N·M·(L−1), V]
  const next = g.emit1("Slice", [ids64(g, text), g.int64([1]), g.int64([L]), g.int64([1])], {}, [
    N * M,
    L - 1,
  ], "int64"); // [N·M, L−1], the teacher-forcing targets
  const targets = g.emit1("Reshape", [next, g.int64([rows, 1])], {}, [rows, 1], "int64"); // [rows, 1]
  // log p(target) = logit(target) − logsumexp(logits), without writing out the [rows, V] log-softmax
  const lse = g.emit1("ReduceLogSumExp", [logits], { axes: [1], keepdims: 1 }, [rows, 1]); // [rows, 1]
  const picked = g.emit1(
    "Sub",
    [g.emit1("GatherElements", [logits, targets], { axis: 1 }, [rows, 1]), lse],
    {},
    [rows, 1],
  ); // [rows, 1]
  const real = g.cast(g.emit1("Greater", [targets, g.int64([0], [])], {}, [rows, 1], "bool"), g.float);
  const perToken = g.emit1("Mul", [picked, real], {}, [rows, 1]);
  const summed = g.emit1(
    "ReduceSum",
    [g.emit1("Reshape", [perToken, g.int64([N * M, L - 1])], {}, [N * M, L - 1]), g.int64([1])],
    { keepdims: 0 },
    [N * M],
  ); // [N·M]
  return g.emit1("Reshape", [summed, g.int64([N, M])], {}, [N, M]); // [N, M]
}

/** BoW-prediction scores `[N, M]`: log softmax(bow_head(image)) summed over each prompt's words. */
function bagOfWordsScores(g: Graph, a: EngineArchitecture, P: Record<string, T>, features: T, ids: T): T {
  const [N] = features.shape, [M, L] = ids.shape, V = a.vocab_size;
  const logp = g.logSoftmax(g.linear(features, P["bow_head.weight"], P["bow_head.bias"]), -1); // [N, V]
  const mask = g.emit1("Reshape", [wordMask(g, a, ids), g.int64([M, L, 1])], {}, [M, L, 1]); // [M, L, 1]
  const counts = g.emit1(
    "ReduceSum",
    [g.emit1("Mul", [g.oneHot(ids64(g, ids), V), mask], {}, [M, L, V]), g.int64([1])],
    { keepdims: 0 },
    [M, V],
  ); // [M, V] word counts
  return g.emit1("MatMul", [logp, g.emit1("Transpose", [counts], { perm: [1, 0] }, [V, M])], {}, [N, M]); // [N, M]
}

/**
 * The prompt-score graph of a predictive objective (`caption_lm` or `bow_prediction`): `params`,
 * `image_features [N, D]`, `ids [M, L]` → `scores [N, M]`, the log-likelihood of every prompt given every image
 * (see the module documentation).
 *
 * @example
 * ```ts
 * import { promptScoreGraph } from "./scoring.ts";
 * import { loadArchitecture } from "../../model/architecture.ts";
 * promptScoreGraph({ ...loadArchitecture("tiny"), objective: "caption_lm" }, 2, 3, 8).length > 0; // → true
 * ```
 */
export function promptScoreGraph(a: EngineArchitecture, N: number, M: number, L: number): Uint8Array {
  const objective = a.objective ?? "infonce";
  if (objective !== "caption_lm" && objective !== "bow_prediction") {
    throw new ClipInputError(`objective ${objective} does not predict text`, {
      fix: "embed prompts with textFeaturesGraph (infonce, siglip) and compare cosines",
    });
  }
  const g = new Graph("clipkit_prompt_scores");
  const P = parameters(g, layoutOf(a));
  const features = g.input("image_features", [N, a.embed_dim]);
  const ids = g.input("ids", [M, L], "int32");
  const scores = objective === "caption_lm"
    ? captionScores(g, a, P, features, ids)
    : bagOfWordsScores(g, a, P, features, ids);
  g.output(scores, "scores");
  return g.builder.encode();
}

/** Options of {@link ObjectiveScorer.create}. */
export interface ScorerOptions {
  /** The runtime to run on (default: a new one of `backend`). */
  runtime?: Runtime;
  backend?: BackendChoice;
  threads?: number;
  /** Images per graph run (default 8; the last chunk is padded). */
  imageChunk?: number;
  /** Prompts per graph run (default 256; the last chunk is padded). */
  promptChunk?: number;
}

/** Token ids padded to a common length: `[M, C]`, each row SOT … EOT then zeros (`ClipTokenizer.tokenize`). */
export interface PromptIds {
  ids: Int32Array;
  shape: readonly [number, number];
}

/**
 * Zero-shot scoring of one architecture's weights; see the module documentation.
 *
 * @example
 * ```ts
 * import { ObjectiveScorer } from "./scoring.ts";
 * import { initStateDict } from "./layout.ts";
 * import { loadArchitecture } from "../../model/architecture.ts";
 * import { generateBatch } from "../../data/shapes.ts";
 * const a = { ...loadArchitecture("tiny"), objective: "bow_prediction" as const };
 * const scorer = await ObjectiveScorer.create(a, initStateDict(a, 0), { backend: "node" });
 * const features = await scorer.imageFeatures(generateBatch(0, 2, { split: "test" }).pixels, 2); // [2, 64]
 * const ids = Int32Array.from([a.vocab_size - 2, 5, 9, a.vocab_size - 1, 0]); // SOT, two words, EOT, padding
 * (await scorer.promptScores(features, 2, { ids, shape: [1, 5] })).length; // → 2 (log-likelihoods, [2, 1])
 * await scorer.dispose();
 * ```
 */
export class ObjectiveScorer {
  readonly architecture: EngineArchitecture;
  readonly layout: Layout;
  readonly runtime: Runtime;
  readonly imageChunk: number;
  readonly promptChunk: number;
  #params: Tensor;
  #sessions = new Map<string, Promise<InferenceSession>>();

  private constructor(a: EngineArchitecture, runtime: Runtime, params: Float32Array, o: ScorerOptions) {
    this.architecture = a;
    this.layout = layoutOf(a);
    this.runtime = runtime;
    this.imageChunk = o.imageChunk ?? 8;
    this.promptChunk = o.promptChunk ?? 256;
    for (const [name, v] of [["imageChunk", this.imageChunk], ["promptChunk", this.promptChunk]] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new ClipInputError(`${name} ${v} is not a whole number ≥ 1`, { fix: `pass ${name}: 8 or so` });
      }
    }
    this.#params = new runtime.Tensor("float32", params, [this.layout.total]);
  }

  /** A scorer over a copy of `stateDict` (the architecture's `state_dict` names and PyTorch layouts). */
  static async create(
    a: EngineArchitecture,
    stateDict: Record<string, Float32Array>,
    o: ScorerOptions = {},
  ): Promise<ObjectiveScorer> {
    const params = flatten(layoutOf(a), stateDict);
    const runtime = o.runtime ?? await loadRuntime(o.backend ?? "node", { threads: o.threads });
    return new ObjectiveScorer(a, runtime, params, o);
  }

  /** A scorer of a training session's current weights, on the session's runtime. */
  static forSession(
    session: TrainingSession,
    o: Omit<ScorerOptions, "runtime"> = {},
  ): Promise<ObjectiveScorer> {
    return ObjectiveScorer.create(session.architecture, session.stateDict(), {
      ...o,
      runtime: session.runtime,
    });
  }

  /** Score with these weights from now on (the compiled graphs are kept: the weights are a graph input). */
  load(stateDict: Record<string, Float32Array>): void {
    this.#params = new this.runtime.Tensor("float32", flatten(this.layout, stateDict), [this.layout.total]);
  }

  #session(key: string, build: () => Uint8Array): Promise<InferenceSession> {
    let s = this.#sessions.get(key);
    if (!s) {
      s = this.runtime.createSession(build(), `clipkit scoring graph ${key}`);
      this.#sessions.set(key, s);
    }
    return s;
  }

  /** Image features `[n, D]` of preprocessed pixels `[n, 3, R, R]`. */
  async imageFeatures(pixels: Float32Array, n: number): Promise<Float32Array> {
    const a = this.architecture, R = a.image_resolution, plane = 3 * R * R, D = a.embed_dim;
    if (!Number.isInteger(n) || n < 1 || pixels.length !== n * plane) {
      throw new ClipInputError(`pixels hold ${pixels.length} values, not [${n}, 3, ${R}, ${R}]`, {
        fix: `preprocess ${n} pictures to ${R}×${R}`,
      });
    }
    const N = Math.min(n, 64), out = new Float32Array(n * D); // [n, D]
    const session = await this.#session(`image-${N}`, () => imageFeaturesGraph(a, N));
    const chunk = new Float32Array(N * plane); // [N, 3, R, R]
    for (let at = 0; at < n; at += N) {
      const k = Math.min(N, n - at);
      chunk.set(pixels.subarray(at * plane, (at + k) * plane));
      for (let j = k; j < N; j++) chunk.copyWithin(j * plane, 0, plane); // padding: copies of the first
      const r = await (await session).run({
        params: this.#params,
        pixels: new this.runtime.Tensor("float32", chunk, [N, 3, R, R]),
      });
      out.set((r.image_features.data as Float32Array).subarray(0, k * D), at * D);
    }
    return out;
  }

  /**
   * Prompt rows grouped by token count: chunks of at most `promptChunk` rows, each cut to its longest row, with
   * the original row index of each; padding rows repeat the chunk's first row.
   */
  #promptChunks(prompts: PromptIds): { rows: number[]; ids: Int32Array; M: number; L: number }[] {
    const [M, C] = prompts.shape, ids = prompts.ids, V = this.architecture.vocab_size;
    if (!Number.isInteger(M) || M < 1 || !Number.isInteger(C) || C < 2 || ids.length !== M * C) {
      throw new ClipInputError(`prompt ids hold ${ids.length} values, not [${M}, ${C}]`, {
        fix: "pass the output of tokenizer.tokenize(prompts, { contextLength })",
      });
    }
    if (C > this.architecture.context_length) {
      throw new ClipInputError(
        `prompts of ${C} tokens exceed the context of ${this.architecture.context_length}`,
        {
          fix: `tokenize with contextLength ${this.architecture.context_length}`,
        },
      );
    }
    const length = new Int32Array(M);
    for (let m = 0; m < M; m++) {
      let eot = 0;
      for (let j = 0; j < C; j++) {
        const id = ids[m * C + j];
        if (id < 0 || id >= V) {
          throw new ClipInputError(`token id ${id} is outside the vocabulary [0, ${V})`, {
            fix: "tokenize the prompts with the model's tokenizer",
          });
        }
        if (id > ids[m * C + eot]) eot = j;
      }
      length[m] = Math.max(2, eot + 1);
    }
    const order = [...Array(M).keys()].sort((p, q) => length[p] - length[q] || p - q);
    const size = Math.min(this.promptChunk, M), out = [];
    for (let at = 0; at < M; at += size) {
      const rows = order.slice(at, at + size), L = length[rows.at(-1)!];
      const chunk = new Int32Array(size * L); // [size, L]
      for (let k = 0; k < size; k++) {
        const m = rows[k < rows.length ? k : 0];
        chunk.set(ids.subarray(m * C, m * C + L), k * L);
      }
      out.push({ rows, ids: chunk, M: size, L });
    }
    return out;
  }

  /** Text features `[M, D]` of tokenized prompts (contrastive objectives). */
  async textFeatures(prompts: PromptIds): Promise<Float32Array> {
    const a = this.architecture, D = a.embed_dim, out = new Float32Array(prompts.shape[0] * D); // [M, D]
    for (const c of this.#promptChunks(prompts)) {
      const session = await this.#session(`text-${c.M}x${c.L}`, () => textFeaturesGraph(a, c.M, c.L));
      const r = await session.run({
        params: this.#params,
        ids: new this.runtime.Tensor("int32", c.ids, [c.M, c.L]),
      });
      const f = r.text_features.data as Float32Array;
      c.rows.forEach((m, k) => out.set(f.subarray(k * D, (k + 1) * D), m * D));
    }
    return out;
  }

  /**
   * Log-likelihood scores `[n, M]` of every prompt given every image (predictive objectives; see the module
   * documentation), from image features `[n, D]` ({@link imageFeatures}).
   */
  async promptScores(features: Float32Array, n: number, prompts: PromptIds): Promise<Float32Array> {
    const a = this.architecture, D = a.embed_dim, M = prompts.shape[0];
    if (!Number.isInteger(n) || n < 1 || features.length !== n * D) {
      throw new ClipInputError(`image features hold ${features.length} values, not [${n}, ${D}]`, {
        fix: "pass the output of imageFeatures",
      });
    }
    const chunks = this.#promptChunks(prompts);
    const N = Math.min(this.imageChunk, n), out = new Float32Array(n * M); // [n, M]
    const images = new Float32Array(N * D); // [N, D]
    for (let at = 0; at < n; at += N) {
      const k = Math.min(N, n - at);
      images.set(features.subarray(at * D, (at + k) * D));
      for (let j = k; j < N; j++) images.copyWithin(j * D, 0, D);
      const imageTensor = new this.runtime.Tensor("float32", images, [N, D]);
      for (const c of chunks) {
        const session = await this.#session(
          `scores-${N}x${c.M}x${c.L}`,
          () => promptScoreGraph(a, N, c.M, c.L),
        );
        const r = await session.run({
          params: this.#params,
          image_features: imageTensor,
          ids: new this.runtime.Tensor("int32", c.ids, [c.M, c.L]),
        });
        const s = r.scores.data as Float32Array; // [N, c.M]
        for (let i = 0; i < k; i++) c.rows.forEach((m, j) => (out[(at + i) * M + m] = s[i * c.M + j]));
      }
    }
    return out;
  }

  /** Release the graph sessions. */
  async dispose(): Promise<void> {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const s of all) await (await s).release();
  }
}
