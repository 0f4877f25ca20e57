/**
 * The training engine's entry points: one ONNX graph per (batch, text length) that computes the loss,
 * every gradient (reverse mode, `autodiff.ts`) and the AdamW update, run by onnxruntime-node (native) or
 * onnxruntime-web (WASM) through `src/model/runtime.ts`, the runtimes of inference.
 *
 * graph inputs:  params [P], m [P], v [P] (flat, layout order), pixels [B, 3, R, R], ids int32 [B, L],
 *                lr [], step [] (1-based, for Adam's bias correction)
 * graph outputs: loss [], params′ [P], m′ [P], v′ [P]
 *
 * A training step is one `session.run`: no JavaScript per op. The state vectors are graph inputs and
 * outputs; on onnxruntime-node the outputs are written into a second set of preallocated buffers and the
 * two sets swap roles every step (no allocation, no copy). AdamW follows `torch.optim.AdamW`:
 * p ← p·(1 − lr·wd) − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε), the decay only where `isDecayed`, and
 * `logit_scale` clamped to [0, ln 100] after each update (openai/CLIP's training code).
 * @module
 */
import type { InferenceSession, Tensor } from "onnxruntime-common";
import { type BackendChoice, loadRuntime, type Runtime } from "../../model/runtime.ts";
import { ClipInputError, TrainError } from "../../errors.ts";
import { MAX_LOGIT_SCALE } from "../../constants.ts";
import { Graph, type T } from "./ir.ts";
import { gradients } from "./autodiff.ts";
import { type EngineArchitecture, flatten, isDecayed, type Layout, layoutOf, unflatten } from "./layout.ts";
import { objectiveLoss } from "./objectives.ts";
import { encodeImage, encodeText, encodeTextBagOfWords, type Params } from "./clip.ts";

/** One batch: pixels `[B, 3, R, R]` (preprocessed), ids `[B, L]` (SOT … EOT, zero padded), `size` = B. */
export interface TrainBatch {
  pixels: Float32Array;
  ids: Int32Array;
  size: number;
}

/** AdamW's hyper-parameters (CLIP: β 0.9 / 0.98, ε 1e-6). */
export interface AdamWSettings {
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

/** CLIP's AdamW settings, with weight decay 0.1. */
export const ADAMW_DEFAULTS: AdamWSettings = { betas: [0.9, 0.98], eps: 1e-6, weightDecay: 0.1 };

/** Options of {@link TrainingSession.create}. */
export interface SessionOptions extends Partial<AdamWSettings> {
  /** `"node"` (native, fastest), `"web"` (WASM) or `"auto"` (node when it loads). */
  backend?: BackendChoice;
  /** Batch size of every training step. */
  batchSize: number;
  /** Default learning rate of {@link TrainingSession.step}. */
  lr?: number;
  /** Intra-op threads (default: all cores). */
  threads?: number;
}

/** AdamW's state: the step count and the two moments, by parameter name. */
export interface OptimizerState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

/**
 * The parameters of `layout` cut out of the flat vector `params` (the graph's leaves, not on the tape), each
 * reshaped to its shape. The contrastive and the supervised graphs both cut their parameters here.
 *
 * @example
 * ```ts
 * import { sliceParameters } from "./session.ts";
 * import { Graph } from "./ir.ts";
 * import { layoutOfShapes } from "./layout.ts";
 * const layout = layoutOfShapes([["w", [2, 3]], ["b", [3]]]), g = new Graph("demo", "float32");
 * Object.keys(sliceParameters(g, layout, g.input("params", [layout.total]))); // → ["w", "b"]
 * ```
 */
export function sliceParameters(g: Graph, layout: Layout, params: T): Params {
  const P: Params = {};
  layout.names.forEach((name, i) => {
    const off = layout.offsets[i], n = layout.sizes[i];
    const flat = g.emit1("Slice", [params, g.int64([off]), g.int64([off + n]), g.int64([0])], {}, [n]);
    P[name] = g.emit1(
      "Reshape",
      [flat, g.int64(layout.shapes[i], [layout.shapes[i].length])],
      {},
      layout.shapes[i],
    );
  });
  return P;
}

/**
 * The gradients of the leaves `P` (from {@link sliceParameters}), concatenated in layout order → `[P]`.
 *
 * @example
 * ```ts
 * import { flatGradients, sliceParameters } from "./session.ts";
 * import { Graph } from "./ir.ts";
 * import { layoutOfShapes } from "./layout.ts";
 * const layout = layoutOfShapes([["w", [2, 3]], ["b", [3]]]), g = new Graph("demo", "float32");
 * const P = sliceParameters(g, layout, g.input("params", [layout.total]));
 * const loss = g.emit1("ReduceSum", [P.b], { keepdims: 0 }, []);
 * flatGradients(g, layout, loss, P) !== undefined; // → true
 * ```
 */
export function flatGradients(g: Graph, layout: Layout, loss: T, P: Params): T {
  const grads = gradients(g, loss, layout.names.map((n) => P[n]));
  const flat = grads.map((d, i) =>
    g.emit1("Reshape", [d, g.int64([layout.sizes[i]])], {}, [layout.sizes[i]])
  );
  return g.emit1("Concat", flat, { axis: 0 }, [layout.total]);
}

/** Graph inputs common to every graph: params, pixels, ids. */
function batchInputs(g: Graph, a: EngineArchitecture, layout: Layout, B: number, L: number) {
  const params = g.input("params", [layout.total]);
  const pixels = g.input("pixels", [B, 3, a.image_resolution, a.image_resolution]);
  const ids = g.input("ids", [B, L], "int32");
  return { params, pixels, ids, P: sliceParameters(g, layout, params) };
}

/**
 * The loss-and-gradients graph: inputs params, pixels, ids; outputs `loss`, `grads [P]` and, for the
 * contrastive objectives, `logits`.
 */
export function gradientGraph(
  a: EngineArchitecture,
  B: number,
  L: number,
  float: "float32" | "float64" = "float32",
): Uint8Array {
  const layout = layoutOf(a), g = new Graph("clipkit_gradients", float);
  const { pixels, ids, P } = batchInputs(g, a, layout, B, L);
  const { loss, logits } = objectiveLoss(g, a, P, pixels, ids);
  g.output(loss, "loss");
  g.output(flatGradients(g, layout, loss, P), "grads");
  if (logits) g.output(logits, "logits");
  return g.builder.encode();
}

/** The graph tensors one AdamW update reads: flat `[P]` state and gradient, scalar `lr` and 1-based `step`. */
export interface AdamWInputs {
  params: T;
  m: T;
  v: T;
  grad: T;
  lr: T;
  step: T;
}

/**
 * One `torch.optim.AdamW` update as graph ops over flat `[P]` vectors in `layout` order:
 * p ← p·(1 − lr·wd) − lr/(1 − β₁ᵗ) · m′ / (√v′ / √(1 − β₂ᵗ) + ε), with m′ = β₁m + (1 − β₁)g and
 * v′ = β₂v + (1 − β₂)g², the decay only on the parameters `isDecayed` names. Every training graph of the
 * engine (contrastive and supervised) builds its update here.
 */
export function adamwUpdate(
  g: Graph,
  layout: Layout,
  adam: AdamWSettings,
  x: AdamWInputs,
): { params: T; m: T; v: T } {
  const [b1, b2] = adam.betas, n = [layout.total];
  const op = (type: string, inputs: T[], shape: number[] = n) => g.emit1(type, inputs, {}, shape);
  const decay = new Float32Array(layout.total); // [P], wd where decayed, else 0
  layout.names.forEach((name, i) => {
    if (isDecayed(name)) decay.fill(adam.weightDecay, layout.offsets[i], layout.offsets[i] + layout.sizes[i]);
  });
  const p1 = op("Mul", [x.params, op("Sub", [g.scalar(1), op("Mul", [g.constant(decay, n), x.lr])])]); // p·(1 − lr·wd)
  const m1 = op("Add", [op("Mul", [x.m, g.scalar(b1)]), op("Mul", [x.grad, g.scalar(1 - b1)])]);
  const v1 = op("Add", [
    op("Mul", [x.v, g.scalar(b2)]),
    op("Mul", [op("Mul", [x.grad, x.grad]), g.scalar(1 - b2)]),
  ]);
  const bc1 = op("Sub", [g.scalar(1), op("Pow", [g.scalar(b1), x.step], [])], []);
  const bc2 = op("Sub", [g.scalar(1), op("Pow", [g.scalar(b2), x.step], [])], []);
  const denom = op("Add", [op("Div", [op("Sqrt", [v1]), op("Sqrt", [bc2], [])]), g.scalar(adam.eps)]);
  const p2 = op("Sub", [p1, op("Mul", [op("Div", [m1, denom]), op("Div", [x.lr, bc1], [])])]);
  return { params: p2, m: m1, v: v1 };
}

/**
 * The training graph: loss, gradients and one AdamW update; see the module documentation.
 *
 * @example
 * ```ts
 * import { trainingGraph } from "./session.ts";
 * import { loadArchitecture } from "../../model/architecture.ts";
 * const bytes = trainingGraph(loadArchitecture("tiny"), 128, 24, { betas: [0.9, 0.98], eps: 1e-6, weightDecay: 0.1 });
 * bytes.length > 1_000_000; // → true (the decay mask and clamp bounds are [P] constants)
 * ```
 */
export function trainingGraph(a: EngineArchitecture, B: number, L: number, adam: AdamWSettings): Uint8Array {
  const layout = layoutOf(a), g = new Graph("clipkit_training");
  const { params, pixels, ids, P } = batchInputs(g, a, layout, B, L);
  const m = g.input("m", [layout.total]), v = g.input("v", [layout.total]);
  const lr = g.input("lr", []), step = g.input("step", []);
  const { loss } = objectiveLoss(g, a, P, pixels, ids);
  const grad = flatGradients(g, layout, loss, P);
  const n = [layout.total];
  const op = (type: string, inputs: T[], shape: number[] = n) => g.emit1(type, inputs, {}, shape);
  const updated = adamwUpdate(g, layout, adam, { params, m, v, grad, lr, step });
  const m1 = updated.m, v1 = updated.v;
  let p2 = updated.params;
  const at = layout.names.indexOf("logit_scale");
  if (at >= 0) {
    const lo = new Float32Array(layout.total).fill(-Infinity),
      hi = new Float32Array(layout.total).fill(Infinity);
    lo[layout.offsets[at]] = 0;
    hi[layout.offsets[at]] = Math.log(MAX_LOGIT_SCALE);
    p2 = op("Max", [op("Min", [p2, g.constant(hi, n)]), g.constant(lo, n)]);
  }
  g.output(loss, "loss");
  g.output(p2, "params_out");
  g.output(m1, "m_out");
  g.output(v1, "v_out");
  return g.builder.encode();
}

/** The forward graph: outputs `loss`, `image_features [B, D]` and (with a text tower) `text_features [B, D]`. */
export function forwardGraph(a: EngineArchitecture, B: number, L: number): Uint8Array {
  const layout = layoutOf(a), g = new Graph("clipkit_forward");
  const { pixels, ids, P } = batchInputs(g, a, layout, B, L);
  const { loss } = objectiveLoss(g, a, P, pixels, ids);
  g.output(loss, "loss");
  g.output(encodeImage(g, a, P, pixels), "image_features");
  const o = a.objective ?? "infonce";
  if (o === "infonce" || o === "siglip") {
    const text = (a.text_encoder ?? "transformer") === "bag_of_words"
      ? encodeTextBagOfWords(g, a, P, ids)
      : encodeText(g, a, P, ids);
    g.output(text, "text_features");
  }
  return g.builder.encode();
}

/**
 * The runtime a training graph runs on. onnxruntime-web gets one thread unless asked for more: with
 * WASM threads under Deno, the first run of a graph as large as a training step hangs about half the
 * time (its worker threads never return), while single-threaded WASM is reliable. onnxruntime-web fixes
 * its thread count for the whole process when its first session starts, so in a process that already
 * ran inference on "web" with more threads, training uses those.
 */
function trainingRuntime(backend: BackendChoice = "auto", threads?: number): Promise<Runtime> {
  return loadRuntime(backend, { threads: threads ?? (backend === "web" ? 1 : undefined) });
}

/** Check a batch against the architecture; returns its text length. */
function checkBatch(a: EngineArchitecture, batch: TrainBatch, batchSize?: number): number {
  const B = batch.size, R = a.image_resolution;
  if (!Number.isInteger(B) || B < 1 || (batchSize !== undefined && B !== batchSize)) {
    throw new ClipInputError(
      `batch.size is ${B}${
        batchSize !== undefined ? `, but the session trains batches of ${batchSize}` : ""
      }`,
      {
        fix: batchSize !== undefined
          ? `pass batches of ${batchSize} pairs (or create a session with batchSize ${B})`
          : "pass a positive batch size",
      },
    );
  }
  if (batch.pixels.length !== B * 3 * R * R) {
    throw new ClipInputError(`batch.pixels holds ${batch.pixels.length} values, not [${B}, 3, ${R}, ${R}]`, {
      fix: `preprocess the images to ${R}×${R}`,
    });
  }
  const L = batch.ids.length / B;
  if (!Number.isInteger(L) || L < 2 || L > a.context_length) {
    throw new ClipInputError(
      `batch.ids holds ${batch.ids.length} ids, not [${B}, L] with 2 ≤ L ≤ ${a.context_length}`,
      {
        fix: `tokenize with contextLength ${a.context_length}`,
      },
    );
  }
  for (const id of batch.ids) {
    if (id < 0 || id >= a.vocab_size) {
      throw new ClipInputError(`token id ${id} is outside the vocabulary [0, ${a.vocab_size})`, {
        fix: "use the model's tokenizer",
      });
    }
  }
  return L;
}

function feeds(rt: Runtime, a: EngineArchitecture, batch: TrainBatch, L: number): Record<string, Tensor> {
  const R = a.image_resolution;
  return {
    pixels: new rt.Tensor("float32", batch.pixels, [batch.size, 3, R, R]),
    ids: new rt.Tensor("int32", batch.ids, [batch.size, L]),
  };
}

/** Options of {@link lossAndGradients}. */
export interface GradientOptions {
  backend?: BackendChoice;
  threads?: number;
}

/**
 * The loss of one batch and its gradient with respect to every parameter (nothing updated).
 *
 * @example
 * ```ts
 * import { lossAndGradients } from "./session.ts";
 * // const { loss, gradients } = await lossAndGradients(architecture, stateDict, { pixels, ids, size: 6 });
 * // gradients["visual.conv1.weight"].length; // → 12288 ([64, 3, 8, 8])
 * ```
 */
export async function lossAndGradients(
  architecture: EngineArchitecture,
  stateDict: Record<string, Float32Array>,
  batch: TrainBatch,
  options: GradientOptions = {},
): Promise<{ loss: number; gradients: Record<string, Float32Array>; logits?: Float32Array }> {
  const layout = layoutOf(architecture), L = checkBatch(architecture, batch);
  const params = flatten(layout, stateDict);
  const rt = await loadRuntime(options.backend ?? "auto", { threads: options.threads });
  const session = await rt.createSession(
    gradientGraph(architecture, batch.size, L),
    "clipkit gradient graph",
  );
  try {
    const out = await session.run({
      params: new rt.Tensor("float32", params, [layout.total]),
      ...feeds(rt, architecture, batch, L),
    });
    const loss = (out.loss.data as Float32Array)[0];
    return {
      loss,
      gradients: unflatten(layout, out.grads.data as Float32Array),
      logits: out.logits ? new Float32Array(out.logits.data as Float32Array) : undefined,
    };
  } finally {
    await session.release();
  }
}

/** Options of {@link adamwSteps}. */
export interface AdamWStepsOptions extends Partial<AdamWSettings> {
  steps: number;
  lr: number;
  backend?: BackendChoice;
  threads?: number;
}

/**
 * `steps` AdamW updates on the same batch, from fresh moments: the loss before each update and the final weights.
 *
 * @example
 * ```ts
 * import { adamwSteps } from "./session.ts";
 * // const { losses, stateDict: after } = await adamwSteps(architecture, stateDict, batch, { steps: 3, lr: 1e-3 });
 * // losses; // → [2.2036, 3.1407, 2.7653] on the golden batch
 * ```
 */
export async function adamwSteps(
  architecture: EngineArchitecture,
  stateDict: Record<string, Float32Array>,
  batch: TrainBatch,
  options: AdamWStepsOptions,
): Promise<{ losses: number[]; stateDict: Record<string, Float32Array> }> {
  const session = await TrainingSession.create(architecture, stateDict, {
    ...options,
    batchSize: batch.size,
  });
  try {
    const losses: number[] = [];
    for (let i = 0; i < options.steps; i++) losses.push(await session.step(batch, options.lr));
    return { losses, stateDict: session.stateDict() };
  } finally {
    await session.dispose();
  }
}

/** The flat state: parameters and both moments. */
interface StateTensors {
  params: Tensor;
  m: Tensor;
  v: Tensor;
}

/**
 * A training loop's engine: the weights and AdamW state live in flat buffers between steps, and each
 * {@link step} is one graph run. Graphs are compiled per text length on first use (the state is shared).
 *
 * @example
 * ```ts
 * import { TrainingSession } from "./session.ts";
 * // const s = await TrainingSession.create(architecture, initStateDict(architecture, 0), { backend: "node", batchSize: 128 });
 * // const loss = await s.step({ pixels, ids, size: 128 }, 1e-3); // → 4.85
 * // const weights = s.stateDict();
 * // await s.dispose();
 * ```
 */
export class TrainingSession {
  readonly architecture: EngineArchitecture;
  readonly layout: Layout;
  readonly runtime: Runtime;
  readonly batchSize: number;
  readonly adamw: AdamWSettings;
  /** Default learning rate of {@link step}. */
  lr: number;
  /** Number of updates applied so far (Adam's t). */
  stepCount = 0;
  #state: StateTensors;
  #spare: StateTensors | null;
  #loss: Tensor | null;
  #sessions = new Map<number, Promise<InferenceSession>>();
  #forward = new Map<string, Promise<InferenceSession>>();

  private constructor(
    architecture: EngineArchitecture,
    runtime: Runtime,
    params: Float32Array,
    options: SessionOptions,
  ) {
    this.architecture = architecture;
    this.layout = layoutOf(architecture);
    this.runtime = runtime;
    this.batchSize = options.batchSize;
    this.lr = options.lr ?? 1e-3;
    this.adamw = {
      betas: options.betas ?? ADAMW_DEFAULTS.betas,
      eps: options.eps ?? ADAMW_DEFAULTS.eps,
      weightDecay: options.weightDecay ?? ADAMW_DEFAULTS.weightDecay,
    };
    this.#state = this.#tensors(
      params,
      new Float32Array(this.layout.total),
      new Float32Array(this.layout.total),
    );
    const n = this.layout.total;
    this.#spare = runtime.preallocatedOutputs
      ? this.#tensors(new Float32Array(n), new Float32Array(n), new Float32Array(n))
      : null;
    this.#loss = runtime.preallocatedOutputs ? new runtime.Tensor("float32", new Float32Array(1), []) : null;
  }

  /**
   * A session over a copy of `stateDict` (openai/CLIP names, PyTorch layouts), with fresh AdamW moments.
   */
  static async create(
    architecture: EngineArchitecture,
    stateDict: Record<string, Float32Array>,
    options: SessionOptions,
  ): Promise<TrainingSession> {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new ClipInputError(`batchSize ${options.batchSize} is not a positive integer`, {
        fix: "pass batchSize: 1 or more",
      });
    }
    const layout = layoutOf(architecture);
    const params = flatten(layout, stateDict);
    const runtime = await trainingRuntime(options.backend, options.threads);
    return new TrainingSession(architecture, runtime, params, options);
  }

  #tensors(params: Float32Array, m: Float32Array, v: Float32Array): StateTensors {
    const n = [this.layout.total], T = this.runtime.Tensor;
    return { params: new T("float32", params, n), m: new T("float32", m, n), v: new T("float32", v, n) };
  }

  #session(L: number): Promise<InferenceSession> {
    let s = this.#sessions.get(L);
    if (!s) {
      s = this.runtime.createSession(
        trainingGraph(this.architecture, this.batchSize, L, this.adamw),
        "clipkit training graph",
      );
      this.#sessions.set(L, s);
    }
    return s;
  }

  /** One AdamW update on `batch` with learning rate `lr`; returns the loss before the update. */
  async step(batch: TrainBatch, lr: number = this.lr): Promise<number> {
    const L = checkBatch(this.architecture, batch, this.batchSize);
    const session = await this.#session(L);
    const rt = this.runtime, s = this.#state;
    const inputs = {
      ...feeds(rt, this.architecture, batch, L),
      params: s.params,
      m: s.m,
      v: s.v,
      lr: new rt.Tensor("float32", Float32Array.of(lr), []),
      step: new rt.Tensor("float32", Float32Array.of(this.stepCount + 1), []),
    };
    let loss: number;
    if (this.#spare) {
      const out = this.#spare;
      await session.run(inputs, { loss: this.#loss!, params_out: out.params, m_out: out.m, v_out: out.v });
      this.#spare = s;
      this.#state = out;
      loss = (this.#loss!.data as Float32Array)[0];
    } else {
      const out = await session.run(inputs);
      this.#state = { params: out.params_out, m: out.m_out, v: out.v_out };
      loss = (out.loss.data as Float32Array)[0];
    }
    this.stepCount += 1;
    return loss;
  }

  /** Loss and features of a batch under the current weights (no update); any batch size. */
  async evaluate(batch: TrainBatch): Promise<{ loss: number; image: Float32Array; text?: Float32Array }> {
    const L = checkBatch(this.architecture, batch);
    const key = `${batch.size}x${L}`;
    let s = this.#forward.get(key);
    if (!s) {
      s = this.runtime.createSession(forwardGraph(this.architecture, batch.size, L), "clipkit forward graph");
      this.#forward.set(key, s);
    }
    const out = await (await s).run({
      ...feeds(this.runtime, this.architecture, batch, L),
      params: this.#state.params,
    });
    return {
      loss: (out.loss.data as Float32Array)[0],
      image: new Float32Array(out.image_features.data as Float32Array),
      text: out.text_features ? new Float32Array(out.text_features.data as Float32Array) : undefined,
    };
  }

  /** The current weights as a state dict (copies). */
  stateDict(): Record<string, Float32Array> {
    return unflatten(this.layout, this.#state.params.data as Float32Array);
  }

  /** AdamW's state (copies), for a checkpoint. */
  optimizerState(): OptimizerState {
    return {
      step: this.stepCount,
      m: unflatten(this.layout, this.#state.m.data as Float32Array),
      v: unflatten(this.layout, this.#state.v.data as Float32Array),
    };
  }

  /** Restore what {@link optimizerState} returned (and the weights, when given). */
  loadState(state: OptimizerState, stateDict?: Record<string, Float32Array>): void {
    const params = stateDict
      ? flatten(this.layout, stateDict)
      : new Float32Array(this.#state.params.data as Float32Array);
    this.#state = this.#tensors(params, flatten(this.layout, state.m), flatten(this.layout, state.v));
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new TrainError(`optimizer state has step ${state.step}`, {
        fix: "restore a state written by optimizerState()",
      });
    }
    this.stepCount = state.step;
  }

  /** Release the graph sessions. */
  async dispose(): Promise<void> {
    const all = [...this.#sessions.values(), ...this.#forward.values()];
    this.#sessions.clear();
    this.#forward.clear();
    for (const s of all) await (await s).release();
  }
}
