/**
 * The supervised baseline on the engine: CLIP's image tower (the same ViT, `clip.ts`'s `encodeImage`) and a
 * linear classification head, trained with labels by softmax cross-entropy — what the CLIP paper compares
 * zero-shot CLIP with (a model of the same architecture trained on ImageNet's labels instead of captions).
 *
 * pixels [B, 3, R, R] ─► encodeImage ─► features [B, D] ─► head (Linear D → K) ─► logits [B, K]
 *   ─► crossEntropy(logits, labels) ─► gradients (`autodiff.ts`, `rules.ts`) ─► AdamW (as `session.ts`)
 *
 * graph inputs:  params [P], m [P], v [P] (flat, {@link supervisedLayout} order), pixels [B, 3, R, R],
 *                labels int32 [B], lr [], step [] (1-based)
 * graph outputs: loss [], params′ [P], m′ [P], v′ [P]
 *
 * The parameters are the image tower's, with openai/CLIP's names (`visual.*`), then `head.weight [K, D]` and
 * `head.bias [K]`. The AdamW update is `session.ts`'s `adamwUpdate` (`torch.optim.AdamW`; decay on weight
 * matrices, `isDecayed`), the one every engine graph uses; the graph around it is separate because the
 * session builds its graph from an architecture's `objective`, whose batches carry token ids, not labels.
 * @module
 */
import type { InferenceSession, Tensor } from "onnxruntime-common";
import { type BackendChoice, loadRuntime, type Runtime } from "../../model/runtime.ts";
import { ClipInputError } from "../../errors.ts";
import { Graph, type T } from "./ir.ts";
import { encodeImage, type Params } from "./clip.ts";
import {
  type EngineArchitecture,
  flatten,
  initStateDict,
  type Layout,
  layoutOfShapes,
  parameterShapes,
  unflatten,
} from "./layout.ts";
import {
  ADAMW_DEFAULTS,
  type AdamWSettings,
  adamwUpdate,
  flatGradients,
  sliceParameters,
} from "./session.ts";
import { SeededRng } from "../../data/random.ts";

/**
 * Every parameter of the supervised model with its PyTorch shape: the image tower's (`visual.*`, in
 * openai/CLIP's order), then the head.
 *
 * @example
 * ```ts
 * import { supervisedShapes } from "./supervised.ts";
 * import { loadArchitecture } from "../../model/architecture.ts";
 * supervisedShapes(loadArchitecture("tiny"), 80).slice(-2); // → [["head.weight", [80, 64]], ["head.bias", [80]]]
 * ```
 */
export function supervisedShapes(a: EngineArchitecture, classes: number): [string, number[]][] {
  if (!Number.isInteger(classes) || classes < 2) {
    throw new ClipInputError(`a classifier of ${classes} classes`, { fix: "pass 2 or more classes" });
  }
  const visual = parameterShapes({ ...a, objective: "infonce" }).filter(([name]) =>
    name.startsWith("visual.")
  );
  return [...visual, ["head.weight", [classes, a.embed_dim]], ["head.bias", [classes]]];
}

/**
 * The flat-vector layout of the supervised model's parameters.
 *
 * @example
 * ```ts
 * import { supervisedLayout } from "./supervised.ts";
 * import { loadArchitecture } from "../../model/architecture.ts";
 * supervisedLayout(loadArchitecture("tiny"), 80).total; // → 122960
 * ```
 */
export function supervisedLayout(a: EngineArchitecture, classes: number): Layout {
  return layoutOfShapes(supervisedShapes(a, classes));
}

/**
 * Fresh weights, seeded: the image tower as `initStateDict` initialises CLIP's (same seed, same tower), the
 * head's weight normal with std D^−½ · 0.1 (small logits at the start) and its bias zero.
 *
 * @example
 * ```ts
 * import { initSupervisedStateDict } from "./supervised.ts";
 * import { loadArchitecture } from "../../model/architecture.ts";
 * const w = initSupervisedStateDict(loadArchitecture("tiny"), 80, 0);
 * [w["head.weight"].length, w["head.bias"][0]]; // → [5120, 0]
 * ```
 */
export function initSupervisedStateDict(
  a: EngineArchitecture,
  classes: number,
  seed: number,
): Record<string, Float32Array> {
  const clip = initStateDict({ ...a, objective: "infonce" }, seed);
  const out: Record<string, Float32Array> = {};
  for (const [name, shape] of supervisedShapes(a, classes)) {
    if (name.startsWith("visual.")) out[name] = clip[name];
    else if (name === "head.weight") {
      out[name] = new SeededRng(seed + 7919).normals(shape[0] * shape[1], 0.1 * a.embed_dim ** -0.5);
    } else out[name] = new Float32Array(shape[0]);
  }
  return out;
}

/** Inputs shared by the graphs: params, pixels, and the parameter tensors. */
function inputs(g: Graph, a: EngineArchitecture, layout: Layout, B: number) {
  const params = g.input("params", [layout.total]);
  const pixels = g.input("pixels", [B, 3, a.image_resolution, a.image_resolution]);
  return { params, pixels, P: sliceParameters(g, layout, params) };
}

/** Features `[B, D]`, logits `[B, K]` and the mean cross-entropy against `labels` (int32 `[B]`). */
function supervisedLoss(g: Graph, a: EngineArchitecture, P: Params, pixels: T, labels: T) {
  const features = encodeImage(g, a, P, pixels); // [B, D]
  const logits = g.linear(features, P["head.weight"], P["head.bias"]); // [B, K]
  return { features, logits, loss: g.crossEntropy(logits, g.cast(labels, "int64")) };
}

/**
 * The loss-and-gradient graph (inputs params, pixels, labels; outputs `loss`, `grads [P]`), in float32 or,
 * for finite-difference checks, float64.
 *
 * @example
 * ```ts
 * import { supervisedGradientGraph } from "./supervised.ts";
 * import { loadArchitecture } from "../../model/architecture.ts";
 * supervisedGradientGraph(loadArchitecture("tiny"), 80, 4, "float64").length > 10_000; // → true
 * ```
 */
export function supervisedGradientGraph(
  a: EngineArchitecture,
  classes: number,
  B: number,
  float: "float32" | "float64" = "float32",
): Uint8Array {
  const layout = supervisedLayout(a, classes), g = new Graph("clipkit_supervised_gradients", float);
  const { pixels, P } = inputs(g, a, layout, B);
  const labels = g.input("labels", [B], "int32");
  const { loss } = supervisedLoss(g, a, P, pixels, labels);
  g.output(loss, "loss");
  g.output(flatGradients(g, layout, loss, P), "grads");
  return g.builder.encode();
}

/** The training graph: loss, gradients and one AdamW update (see the module documentation). */
export function supervisedTrainingGraph(
  a: EngineArchitecture,
  classes: number,
  B: number,
  adam: AdamWSettings,
): Uint8Array {
  const layout = supervisedLayout(a, classes), g = new Graph("clipkit_supervised_training");
  const { params, pixels, P } = inputs(g, a, layout, B);
  const labels = g.input("labels", [B], "int32");
  const m = g.input("m", [layout.total]), v = g.input("v", [layout.total]);
  const lr = g.input("lr", []), step = g.input("step", []);
  const { loss } = supervisedLoss(g, a, P, pixels, labels);
  const grad = flatGradients(g, layout, loss, P);
  const { params: p2, m: m1, v: v1 } = adamwUpdate(g, layout, adam, { params, m, v, grad, lr, step });
  g.output(loss, "loss");
  g.output(p2, "params_out");
  g.output(m1, "m_out");
  g.output(v1, "v_out");
  return g.builder.encode();
}

/** The forward graph: pixels → `features [B, D]` (the head's input) and `logits [B, K]`. */
export function supervisedForwardGraph(a: EngineArchitecture, classes: number, B: number): Uint8Array {
  const layout = supervisedLayout(a, classes), g = new Graph("clipkit_supervised_forward");
  const { pixels, P } = inputs(g, a, layout, B);
  const features = encodeImage(g, a, P, pixels); // [B, D]
  g.output(features, "features");
  g.output(g.linear(features, P["head.weight"], P["head.bias"]), "logits");
  return g.builder.encode();
}

/**
 * Multiply–adds of one picture through the image tower and head, forward only (matrix products; the
 * attention scores and their weighted sum included; norms, softmax and elementwise ops left out). A
 * training step costs about 3× this per picture (forward, and backward to activations and weights).
 *
 * @example
 * ```ts
 * import { imageTowerMacs } from "./supervised.ts";
 * import { loadArchitecture } from "../../model/architecture.ts";
 * imageTowerMacs(loadArchitecture("tiny"), 80); // → 1950976
 * ```
 */
export function imageTowerMacs(a: EngineArchitecture, classes = 0): number {
  const W = a.vision_width, p = a.vision_patch_size, n = (a.image_resolution / p) ** 2, L = n + 1;
  const block = L * W * 3 * W + 2 * L * L * W + L * W * W + 2 * L * W * 4 * W;
  return n * 3 * p * p * W + a.vision_layers * block + W * a.embed_dim + a.embed_dim * classes;
}

/** Options of {@link SupervisedSession.create}. */
export interface SupervisedSessionOptions extends Partial<AdamWSettings> {
  backend?: BackendChoice;
  threads?: number;
  /** Pictures per training step. */
  batchSize: number;
}

/**
 * A supervised training loop's engine: weights and AdamW moments in flat buffers, one graph run per step.
 *
 * @example
 * ```ts
 * import { initSupervisedStateDict, SupervisedSession } from "./supervised.ts";
 * import { loadArchitecture } from "../../model/architecture.ts";
 * import { generateBatch } from "../../data/shapes.ts";
 * const a = loadArchitecture("tiny");
 * const s = await SupervisedSession.create(a, 80, initSupervisedStateDict(a, 80, 0), { batchSize: 8, backend: "node" });
 * const b = generateBatch(0, 8, { split: "train" });
 * const loss = await s.step(b.pixels, b.comboIndex, 1e-3); // ≈ ln 80 ≈ 4.38 at the start
 * (await s.features(b.pixels, 8)).logits.length; // → 640
 * await s.dispose();
 * ```
 */
export class SupervisedSession {
  readonly architecture: EngineArchitecture;
  readonly classes: number;
  readonly layout: Layout;
  readonly runtime: Runtime;
  readonly batchSize: number;
  readonly adamw: AdamWSettings;
  stepCount = 0;
  #params: Tensor;
  #m: Tensor;
  #v: Tensor;
  #training: Promise<InferenceSession> | null = null;
  #forward = new Map<number, Promise<InferenceSession>>();

  private constructor(
    a: EngineArchitecture,
    classes: number,
    runtime: Runtime,
    params: Float32Array,
    o: SupervisedSessionOptions,
  ) {
    this.architecture = a;
    this.classes = classes;
    this.layout = supervisedLayout(a, classes);
    this.runtime = runtime;
    this.batchSize = o.batchSize;
    this.adamw = {
      betas: o.betas ?? ADAMW_DEFAULTS.betas,
      eps: o.eps ?? ADAMW_DEFAULTS.eps,
      weightDecay: o.weightDecay ?? ADAMW_DEFAULTS.weightDecay,
    };
    const n = [this.layout.total], T = runtime.Tensor;
    this.#params = new T("float32", params, n);
    this.#m = new T("float32", new Float32Array(this.layout.total), n);
    this.#v = new T("float32", new Float32Array(this.layout.total), n);
  }

  /** A session over a copy of `stateDict` (names of {@link supervisedShapes}), with fresh AdamW moments. */
  static async create(
    a: EngineArchitecture,
    classes: number,
    stateDict: Record<string, Float32Array>,
    o: SupervisedSessionOptions,
  ): Promise<SupervisedSession> {
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
      throw new ClipInputError(`batchSize ${o.batchSize} is not a positive integer`, {
        fix: "pass batchSize: 1 or more",
      });
    }
    const params = flatten(supervisedLayout(a, classes), stateDict);
    const runtime = await loadRuntime(o.backend ?? "node", {
      threads: o.threads ?? (o.backend === "web" ? 1 : undefined),
    });
    return new SupervisedSession(a, classes, runtime, params, o);
  }

  #checkPixels(pixels: Float32Array, B: number): void {
    const R = this.architecture.image_resolution;
    if (pixels.length !== B * 3 * R * R) {
      throw new ClipInputError(`pixels hold ${pixels.length} values, not [${B}, 3, ${R}, ${R}]`, {
        fix: `preprocess the pictures to ${R}×${R}`,
      });
    }
  }

  /** One AdamW update on a labelled batch; returns the loss before the update. */
  async step(pixels: Float32Array, labels: Int32Array, lr: number): Promise<number> {
    const B = this.batchSize, R = this.architecture.image_resolution, rt = this.runtime;
    this.#checkPixels(pixels, B);
    if (labels.length !== B || labels.some((y) => y < 0 || y >= this.classes)) {
      throw new ClipInputError(`labels must be ${B} class indices in [0, ${this.classes})`, {
        fix: "pass one label per picture",
      });
    }
    this.#training ??= rt.createSession(
      supervisedTrainingGraph(this.architecture, this.classes, B, this.adamw),
      "clipkit supervised training graph",
    );
    const out = await (await this.#training).run({
      params: this.#params,
      m: this.#m,
      v: this.#v,
      pixels: new rt.Tensor("float32", pixels, [B, 3, R, R]),
      labels: new rt.Tensor("int32", labels, [B]),
      lr: new rt.Tensor("float32", Float32Array.of(lr), []),
      step: new rt.Tensor("float32", Float32Array.of(this.stepCount + 1), []),
    });
    this.#params = out.params_out;
    this.#m = out.m_out;
    this.#v = out.v_out;
    this.stepCount += 1;
    return (out.loss.data as Float32Array)[0];
  }

  /** Features `[N, D]` and logits `[N, K]` of `n` pictures under the current weights (batches of 256). */
  async features(pixels: Float32Array, n: number): Promise<{ features: Float32Array; logits: Float32Array }> {
    this.#checkPixels(pixels, n);
    const a = this.architecture, R = a.image_resolution, plane = 3 * R * R, D = a.embed_dim, K = this.classes;
    const features = new Float32Array(n * D), logits = new Float32Array(n * K); // [N, D], [N, K]
    for (let at = 0; at < n; at += 256) {
      const b = Math.min(256, n - at);
      let s = this.#forward.get(b);
      if (!s) {
        s = this.runtime.createSession(supervisedForwardGraph(a, K, b), "clipkit supervised forward graph");
        this.#forward.set(b, s);
      }
      const out = await (await s).run({
        params: this.#params,
        pixels: new this.runtime.Tensor("float32", pixels.subarray(at * plane, (at + b) * plane), [
          b,
          3,
          R,
          R,
        ]),
      });
      features.set(out.features.data as Float32Array, at * D);
      logits.set(out.logits.data as Float32Array, at * K);
    }
    return { features, logits };
  }

  /** The current weights as a state dict (copies). */
  stateDict(): Record<string, Float32Array> {
    return unflatten(this.layout, this.#params.data as Float32Array);
  }

  /** Release the graph sessions. */
  async dispose(): Promise<void> {
    const all = [...(this.#training ? [this.#training] : []), ...this.#forward.values()];
    this.#training = null;
    this.#forward.clear();
    for (const s of all) await (await s).release();
  }
}
