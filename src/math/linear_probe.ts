/**
 * Linear probes: the CLIP paper's way of measuring how good image features are. A multinomial logistic
 * regression with an L2 penalty is fitted on frozen features, exactly as scikit-learn's
 * `LogisticRegression(C=C, solver="lbfgs", max_iter=1000)` fits it:
 *
 *   features [N, D], labels ─► minimise  Σᵢ −log softmax(W·xᵢ + b)[yᵢ]  +  ‖W‖² / (2C)   (b not penalised)
 *     by L-BFGS from W = 0, b = 0 (src/math/lbfgs.ts, SciPy's rules) ─► W [K, D], b [K] ─► softmax(W·x + b)
 *
 * The objective is scaled as scikit-learn 1.2 hands it to SciPy (summed, not averaged, cross-entropy), so
 * its `tol` means the same here and a fit takes the same L-BFGS iterations as scikit-learn's. Two classes
 * are one binary logistic regression, as scikit-learn fits them (see `multiClass`).
 *
 * One evaluation of the loss and gradient is two matrix products, `Z = X·Wᵀ` ([N, D] × [D, K]) and
 * `∇W = (P − Y)ᵀ·X` ([K, N] × [N, D]), both by the float64 kernel of src/math/gemm64.ts (src/math/
 * softmax_loss.ts), on this thread or split by rows over worker threads (src/math/probe_threads.ts, for
 * large fits); everything is float64.
 *
 * Without a given `C`, it is chosen on validation data as in the paper (which sweeps 10⁻⁶…10⁶): a coarse
 * logarithmic grid of C, then a finer logarithmic grid between the neighbours of the best; the best C by
 * validation accuracy (ties: lower validation cross-entropy) is then refitted on training + validation data.
 * @module
 */
import { Matrix } from "./matrix.ts";
import { gemmNT64, transpose64 } from "./gemm64.ts";
import { SoftmaxData } from "./softmax_loss.ts";
import { ThreadedSoftmaxData } from "./probe_threads.ts";
import { lbfgs, type LbfgsStop, SCIPY_FTOL } from "./lbfgs.ts";
import { topK } from "./similarity.ts";
import { evaluateScores, type Evaluation, labelIndices, type Prediction } from "../zeroshot/classifier.ts";
import { mulberry32 } from "../data/random.ts";
import { Progress, type ProgressCallback } from "../model/progress.ts";
import { MatrixShapeError, NonFiniteError, ProbeError, TopKError } from "../errors.ts";

/** Features: a `Matrix` (e.g. `Embeddings`), or rows of numbers (kept in float64). `[N, D]`. */
export type ProbeFeatures = Matrix | readonly (readonly number[])[];

/** Labels: class indices (an array or an `Int32Array`), or class names when `classNames` are given. */
export type ProbeLabels = ArrayLike<number> | readonly (number | string)[];

/** Labelled features, for validation and {@link LinearProbe.evaluate}; labels are class indices or names. */
export interface LabeledFeatures {
  /** `[N, D]` (`images` is accepted too, as the zero-shot head's `evaluate` takes embeddings there). */
  features?: ProbeFeatures;
  /** Another name for `features`. */
  images?: ProbeFeatures;
  /** One label per row: a class index or a class name. */
  labels: ProbeLabels;
}

/** The grid of {@link LinearProbeOptions.sweep}. */
export interface SweepOptions {
  /** Smallest C of the coarse grid (default 1e-6). */
  min?: number;
  /** Largest C of the coarse grid (default 1e6). */
  max?: number;
  /** Logarithmically spaced values of C from `min` to `max` (default 13: one per decade). */
  steps?: number;
  /** Values tried strictly between the best coarse C's neighbours, logarithmically spaced (default 8; 0: none). */
  refineSteps?: number;
}

/** One C tried by the sweep, scored on the validation data. */
export interface SweepPoint {
  /** The inverse regularisation strength tried (scikit-learn's `C`). */
  C: number;
  /** Top-1 accuracy on the validation data. */
  top1: number;
  /** Mean cross-entropy on the validation data. */
  loss: number;
  /** L-BFGS iterations of the fit. */
  iterations: number;
  /** Whether the fit met its tolerance. */
  converged: boolean;
}

/** Options of {@link linearProbe}. */
export interface LinearProbeOptions {
  /** A name per class (default `"0"`, `"1"`, … up to the largest label); string labels need them. */
  classNames?: readonly string[];
  /** Inverse regularisation strength (scikit-learn's `C`). Without it, C is swept on validation data. */
  C?: number;
  /** Validation data for the sweep (default: a stratified `validationFraction` of the training data). */
  validation?: LabeledFeatures;
  /** Share of each class held out for the sweep when no `validation` is given (default 0.2). */
  validationFraction?: number;
  /** Seed of the held-out split (default 0). */
  seed?: number;
  /** The sweep's grid. */
  sweep?: SweepOptions;
  /** After a sweep, refit the best C on training + validation data (default true). */
  refit?: boolean;
  /**
   * `"auto"` (default): as scikit-learn's `LogisticRegression`, two classes are one binary logistic regression
   * (`weights` then are `[−w/2, w/2]` for scikit-learn's `coef_ = [w]`), more are multinomial;
   * `"multinomial"`: softmax over K weight vectors, also for two classes.
   */
  multiClass?: "auto" | "multinomial";
  /** Fit a bias per class (default true, as scikit-learn's `fit_intercept`). */
  fitIntercept?: boolean;
  /** L-BFGS iterations per fit at most (scikit-learn's `max_iter`; default 1000, the CLIP paper's). */
  maxIterations?: number;
  /** Stop when every gradient entry is within this of 0 (scikit-learn's `tol`, default 1e-4). */
  tolerance?: number;
  /** Stop when the objective's relative decrease is at most this (SciPy's `ftol`, default 2.22e-9). */
  objectiveTolerance?: number;
  /** Evaluations per line search at most (SciPy's `maxls`, default 20). */
  maxLineSearch?: number;
  /** L-BFGS history (SciPy's `maxcor`, default 10). */
  history?: number;
  /**
   * Worker threads for the loss and gradient of a multinomial fit (default: up to 8, one per core, when
   * N·D·K ≥ 5·10⁷; else 1, this thread). Results agree across thread counts to about 1e-12.
   */
  threads?: number;
  /** Draw a progress bar (default: when N·D·K ≥ 5·10⁷, a fit of a few seconds or more). */
  progress?: boolean;
  /** Called as fits (sweep) or iterations (one C) finish. */
  onProgress?: ProgressCallback;
}

/** A fitted linear probe. */
export interface LinearProbe {
  /** One name per class. */
  classNames: string[];
  /** Feature width D. */
  dim: number;
  /** Class weights, `[classes, D]` row-major (scikit-learn's `coef_`; for two classes see `multiClass`). */
  weights: Float64Array;
  /** Class biases, `[classes]` (scikit-learn's `intercept_`; zeros without `fitIntercept`). */
  bias: Float64Array;
  /** The C of the final fit (given or chosen by the sweep). */
  C: number;
  /** L-BFGS iterations of the final fit (scikit-learn's `n_iter_`). */
  iterations: number;
  /** Whether the final fit met a tolerance before `maxIterations`. */
  converged: boolean;
  /** Why the final fit stopped. */
  stop: LbfgsStop;
  /** The objective at the final weights: summed cross-entropy + ‖W‖²/(2C) (binary: ‖w‖²/(2C)). */
  objective: number;
  /** Every C the sweep tried, in increasing order (absent when C was given). */
  sweep?: SweepPoint[];
  /** `W·x + b`, `[N, classes]`. */
  logits(features: ProbeFeatures): Matrix;
  /** Softmax of the logits, `[N, classes]`, rows sum to 1 (computed in float64). */
  probabilities(features: ProbeFeatures): Matrix;
  /** The `topK` (default 1) most probable classes of each row, best first. */
  predict(features: ProbeFeatures, options?: { topK?: number }): Prediction[][];
  /** Top-1/top-5 accuracy, per-class accuracy and the confusion matrix on labelled features. */
  evaluate(dataset: LabeledFeatures): Evaluation;
}

/** Float64 features `[rows, cols]`, row-major. */
interface Dense {
  data: Float64Array;
  rows: number;
  cols: number;
}

/** Features as float64, checked: a rectangle of finite numbers, `cols` wide when given. */
function toDense(features: ProbeFeatures, what: string, cols?: number): Dense {
  let dense: Dense;
  if (features instanceof Matrix) {
    dense = { data: Float64Array.from(features.data), rows: features.rows, cols: features.cols };
  } else if (Array.isArray(features)) {
    const width = features.length ? features[0].length : 0;
    const data = new Float64Array(features.length * width); // [N, D]
    features.forEach((row, i) => {
      if (!row || row.length !== width) {
        throw new MatrixShapeError(`${what}: row ${i} has ${row?.length} values, row 0 has ${width}`, {
          fix: "give every feature row the same length",
        });
      }
      data.set(row, i * width);
    });
    dense = { data, rows: features.length, cols: width };
  } else {
    throw new MatrixShapeError(`${what} are neither a Matrix nor rows of numbers`, {
      fix: "pass a Matrix (e.g. the Embeddings from model.encodeImages) or an array of number arrays",
    });
  }
  if (dense.rows === 0 || dense.cols === 0) {
    throw new MatrixShapeError(`${what} are empty (${dense.rows}×${dense.cols})`, {
      fix: "pass at least one row of at least one feature",
    });
  }
  if (cols !== undefined && dense.cols !== cols) {
    throw new MatrixShapeError(`${what} are ${dense.cols} wide but the probe was fitted on ${cols}`, {
      fix: "compute these features with the same model (and layer) as the training features",
    });
  }
  const { data } = dense;
  for (let k = 0; k < data.length; k++) {
    if (!Number.isFinite(data[k])) {
      throw new NonFiniteError(
        `${what}[${Math.floor(k / dense.cols)}, ${k % dense.cols}] is ${
          data[k]
        }, but every value must be finite`,
        {
          fix: "drop or re-embed that row (NaN features come from a NaN input or an overflowing fp16 model)",
        },
      );
    }
  }
  return dense;
}

/** An objective of the probe on fixed data, over its own parameter layout. */
interface ProbeObjective {
  /** Number of parameters. */
  readonly size: number;
  /** f(params) for this `1/C`, with the gradient written into `grad`. */
  objective(params: Float64Array, grad: Float64Array, invC: number): number;
  /** The same model as softmax parameters `[W (K×D), b (K)]`. */
  toSoftmax(params: Float64Array): Float64Array;
  /** Release what it holds (worker threads). */
  close(): void;
}

/**
 * The probe's objective on fixed data: summed cross-entropy + ‖W‖²/(2C), with its gradient. Parameters are
 * laid out `[W (K×D, row-major), b (K)]`. The cross-entropy is src/math/softmax_loss.ts's, on this thread or
 * spread over worker threads (src/math/probe_threads.ts).
 */
class SoftmaxRegression implements ProbeObjective {
  readonly d: number;
  readonly k: number;
  readonly size: number;
  private readonly data: SoftmaxData | ThreadedSoftmaxData;

  constructor(x: Dense, y: Int32Array, k: number, readonly fitIntercept: boolean, threads: number) {
    this.d = x.cols;
    this.k = k;
    this.size = k * this.d + (fitIntercept ? k : 0);
    this.data =
      (threads > 1 && ThreadedSoftmaxData.start(x.data, y, x.rows, x.cols, k, fitIntercept, threads)) ||
      new SoftmaxData(x.data, y, x.rows, x.cols, k, fitIntercept);
  }

  /** f(params) for this `1/C`, with the gradient written into `grad`. */
  objective(params: Float64Array, grad: Float64Array, invC: number): number {
    const kd = this.k * this.d;
    const loss = this.data.loss(params, grad);
    let ww = 0;
    for (let j = 0; j < kd; j++) {
      ww += params[j] * params[j];
      grad[j] += invC * params[j];
    }
    return loss + 0.5 * invC * ww;
  }

  /** Stop the worker threads, if any. */
  close(): void {
    if (this.data instanceof ThreadedSoftmaxData) this.data.close();
  }

  toSoftmax(params: Float64Array): Float64Array {
    if (this.fitIntercept) return params;
    const out = new Float64Array(this.k * this.d + this.k); // [W, b = 0]
    out.set(params);
    return out;
  }
}

/**
 * Two classes, as scikit-learn fits them: one weight vector `w` and bias `b` for class 1 against class 0,
 * f = Σᵢ [log(1 + e^{zᵢ}) − yᵢ·zᵢ] + ‖w‖²/(2C) with zᵢ = w·xᵢ + b. As softmax weights that is
 * `W = [−w/2, w/2]`, `b = [−b/2, b/2]`: the same probabilities.
 */
class BinaryRegression implements ProbeObjective {
  readonly n: number;
  readonly d: number;
  readonly size: number;
  private readonly x: Float64Array; // [N, D]
  private readonly xt: Float64Array; // [D, N]
  private readonly y: Int32Array; // [N], 0 or 1
  private readonly z: Float64Array; // [N]
  private readonly r: Float64Array; // [N]: σ(z) − y

  constructor(x: Dense, y: Int32Array, readonly fitIntercept: boolean) {
    this.n = x.rows;
    this.d = x.cols;
    this.size = this.d + (fitIntercept ? 1 : 0);
    this.x = x.data;
    this.xt = transpose64(x.data, x.rows, x.cols);
    this.y = y;
    this.z = new Float64Array(this.n);
    this.r = new Float64Array(this.n);
  }

  objective(params: Float64Array, grad: Float64Array, invC: number): number {
    const { n, d, z, r, y } = this;
    const w = params.subarray(0, d);
    gemmNT64(this.x, w, n, 1, d, z); // [N] = X·w
    const b = this.fitIntercept ? params[d] : 0;
    let loss = 0, gb = 0;
    for (let i = 0; i < n; i++) {
      const zi = z[i] + b;
      // log(1 + e^z), without overflow
      loss += (zi > 0 ? zi + Math.log1p(Math.exp(-zi)) : Math.log1p(Math.exp(zi))) - y[i] * zi;
      const p = zi > 0 ? 1 / (1 + Math.exp(-zi)) : Math.exp(zi) / (1 + Math.exp(zi));
      r[i] = p - y[i];
      gb += r[i];
    }
    const gw = grad.subarray(0, d);
    gemmNT64(r, this.xt, 1, d, n, gw); // [D] = Xᵀ·(σ(z) − y)
    let ww = 0;
    for (let j = 0; j < d; j++) {
      ww += w[j] * w[j];
      gw[j] += invC * w[j];
    }
    if (this.fitIntercept) grad[d] = gb;
    return loss + 0.5 * invC * ww;
  }

  close(): void {}

  toSoftmax(params: Float64Array): Float64Array {
    const d = this.d;
    const out = new Float64Array(2 * d + 2); // [W (2×D), b (2)]
    for (let j = 0; j < d; j++) {
      out[j] = -0.5 * params[j];
      out[d + j] = 0.5 * params[j];
    }
    const b = this.fitIntercept ? params[d] : 0;
    out[2 * d] = -0.5 * b;
    out[2 * d + 1] = 0.5 * b;
    return out;
  }
}

/** The objective scikit-learn would minimise: binary for two classes unless `multinomial`, else softmax. */
function makeObjective(
  x: Dense,
  y: Int32Array,
  k: number,
  fitIntercept: boolean,
  multinomial: boolean,
  threads: number,
): ProbeObjective {
  return k === 2 && !multinomial
    ? new BinaryRegression(x, y, fitIntercept)
    : new SoftmaxRegression(x, y, k, fitIntercept, threads);
}

interface Fit {
  /** In the objective's own layout (for warm starts). */
  params: Float64Array;
  /** As softmax parameters `[W (K×D), b (K)]`. */
  softmax: Float64Array;
  iterations: number;
  converged: boolean;
  stop: LbfgsStop;
  objective: number;
}

/** Solver settings shared by every fit of one call. */
interface SolverSettings {
  maxIterations: number;
  tolerance: number;
  objectiveTolerance: number;
  maxLineSearch: number;
  history: number;
}

function fit(
  problem: ProbeObjective,
  C: number,
  start: Float64Array | undefined,
  s: SolverSettings,
  onIteration?: (iteration: number) => void,
): Fit {
  const invC = 1 / C;
  const r = lbfgs((p, g) => problem.objective(p, g, invC), start ?? new Float64Array(problem.size), {
    history: s.history,
    gradientTolerance: s.tolerance,
    objectiveTolerance: s.objectiveTolerance,
    maxIterations: s.maxIterations,
    maxLineSearch: s.maxLineSearch,
    onIteration: onIteration && ((it) => onIteration(it.iteration)),
  });
  return {
    params: r.x,
    softmax: problem.toSoftmax(r.x),
    iterations: r.iterations,
    converged: r.converged,
    stop: r.stop,
    objective: r.f,
  };
}

/** Float64 logits `[N, K]` of dense features under parameters `[W, b]`. */
function logits64(x: Dense, params: Float64Array, k: number): Float64Array {
  const z = gemmNT64(x.data, params.subarray(0, k * x.cols), x.rows, k, x.cols); // [N, K]
  const b = params.subarray(k * x.cols);
  for (let i = 0; i < x.rows; i++) for (let c = 0; c < k; c++) z[i * k + c] += b[c];
  return z;
}

/** Row-wise softmax in place; returns the summed cross-entropy of `labels` when given. */
function softmaxRows(z: Float64Array, k: number, labels?: Int32Array): number {
  let loss = 0;
  for (let row = 0, i = 0; row < z.length; row += k, i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) if (z[row + c] > max) max = z[row + c];
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(z[row + c] - max);
    const lse = max + Math.log(sum);
    if (labels) loss += lse - z[row + labels[i]];
    for (let c = 0; c < k; c++) z[row + c] = Math.exp(z[row + c] - lse);
  }
  return loss;
}

function positive(name: string, value: number, integer = false, min = 0, inclusive = false): number {
  const ok = typeof value === "number" && Number.isFinite(value) &&
    (inclusive ? value >= min : value > min) &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    throw new ProbeError(`linearProbe: ${name} is ${value}`, {
      fix: `pass ${integer ? "a whole number" : "a finite number"} ${
        inclusive ? "≥" : ">"
      } ${min} for ${name}`,
    });
  }
  return value;
}

/** Class names and label indices, checked against each other. */
function resolveLabels(
  given: ProbeLabels,
  rows: number,
  classNames?: readonly string[],
): { names: string[]; y: Int32Array } {
  if (!given || typeof given.length !== "number") {
    throw new ProbeError("linearProbe: labels are not a list", {
      fix: "pass one class index (or name) per row",
    });
  }
  const labels: readonly (number | string)[] = Array.from(given);
  if (labels.length !== rows) {
    throw new MatrixShapeError(`linearProbe: ${rows} feature rows but ${labels.length} labels`, {
      fix: "give exactly one label per feature row",
    });
  }
  let names: string[];
  if (classNames) {
    names = [...classNames];
  } else {
    let max = -1;
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i];
      if (typeof l !== "number") {
        throw new ProbeError(`linearProbe: label ${i} is ${JSON.stringify(l)} but no classNames were given`, {
          fix: "pass { classNames } to use class names as labels, or give class indices",
        });
      }
      if (l > max) max = l;
    }
    names = Array.from({ length: Math.max(0, Math.floor(max) + 1) }, (_, c) => String(c));
  }
  return { names, y: labelIndices(labels, names) };
}

/** Throw unless every class has a training example (an unseen class has no finite optimum). */
function checkClasses(y: Int32Array, names: readonly string[], where: string): void {
  const counts = new Array<number>(names.length).fill(0);
  y.forEach((c) => counts[c]++);
  const present = counts.filter((c) => c > 0).length;
  if (present < 2) {
    throw new ProbeError(
      `linearProbe: the ${where} labels hold ${present} class${present === 1 ? "" : "es"}`,
      {
        fix: "give examples of at least two classes (a classifier needs something to tell apart)",
      },
    );
  }
  const missing = counts.findIndex((c) => c === 0);
  if (missing >= 0) {
    throw new ProbeError(
      `linearProbe: class ${missing} (${JSON.stringify(names[missing])}) has no ${where} example`,
      { fix: "give every class at least one example, or leave the class out of classNames" },
    );
  }
}

/** A stratified split: about `fraction` of each class (never its last example) to validation. */
function stratifiedSplit(y: Int32Array, k: number, fraction: number, seed: number): [number[], number[]] {
  const rng = mulberry32(seed);
  const byClass = Array.from({ length: k }, () => [] as number[]);
  y.forEach((c, i) => byClass[c].push(i));
  const train: number[] = [], validation: number[] = [];
  for (const rows of byClass) {
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    const held = Math.min(rows.length - 1, Math.round(rows.length * fraction));
    validation.push(...rows.slice(0, held));
    train.push(...rows.slice(held));
  }
  return [train.sort((a, b) => a - b), validation.sort((a, b) => a - b)];
}

function pickRows(x: Dense, rows: readonly number[]): Dense {
  const data = new Float64Array(rows.length * x.cols); // [rows, D]
  rows.forEach((r, i) => data.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), i * x.cols));
  return { data, rows: rows.length, cols: x.cols };
}

function stack(a: Dense, b: Dense): Dense {
  const data = new Float64Array(a.data.length + b.data.length); // [Na + Nb, D]
  data.set(a.data);
  data.set(b.data, a.data.length);
  return { data, rows: a.rows + b.rows, cols: a.cols };
}

/** `n` values from `lo` to `hi`, evenly spaced in log (both ends included when n ≥ 2). */
function logGrid(lo: number, hi: number, n: number): number[] {
  if (n === 1) return [Math.sqrt(lo * hi)];
  const a = Math.log(lo), b = Math.log(hi);
  return Array.from({ length: n }, (_, i) => Math.exp(a + (b - a) * i / (n - 1)));
}

/**
 * Fit a linear probe (multinomial logistic regression, L2 on the weights) on features and class labels,
 * as scikit-learn's `LogisticRegression(C=C, solver="lbfgs")` does; without `C`, sweep it on validation data.
 * @example
 * ```ts
 * import { linearProbe } from "./linear_probe.ts";
 * const features = [[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]];
 * const probe = linearProbe(features, [0, 0, 1, 1], { C: 1, classNames: ["cat", "dog"] });
 * probe.predict([[0.8, 0.2]]);
 * // → [[{ label: "cat", index: 0, score: 0.5953652858734131 }]] (scikit-learn: 0.5953653)
 * probe.evaluate({ features, labels: ["cat", "cat", "dog", "dog"] }).top1; // → 1
 * probe.iterations; // → 3 (scikit-learn's n_iter_: 3)
 * ```
 */
export function linearProbe(
  features: ProbeFeatures,
  labels: ProbeLabels,
  options: LinearProbeOptions = {},
): LinearProbe {
  const x = toDense(features, "linearProbe: features");
  const { names, y } = resolveLabels(labels, x.rows, options.classNames);
  const k = names.length;
  const fitIntercept = options.fitIntercept ?? true;
  const multinomial = options.multiClass === "multinomial";
  if (options.multiClass !== undefined && options.multiClass !== "auto" && !multinomial) {
    throw new ProbeError(`linearProbe: multiClass is ${JSON.stringify(options.multiClass)}`, {
      fix: 'pass "auto" (binary for two classes, as scikit-learn) or "multinomial"',
    });
  }
  const settings: SolverSettings = {
    maxIterations: positive("maxIterations", options.maxIterations ?? 1000, true),
    tolerance: positive("tolerance", options.tolerance ?? 1e-4, false, 0, true),
    objectiveTolerance: positive(
      "objectiveTolerance",
      options.objectiveTolerance ?? SCIPY_FTOL,
      false,
      0,
      true,
    ),
    maxLineSearch: positive("maxLineSearch", options.maxLineSearch ?? 20, true),
    history: positive("history", options.history ?? 10, true),
  };
  const large = x.rows * x.cols * k >= 5e7;
  const showBar = options.progress ?? large;
  const threads = positive(
    "threads",
    options.threads ?? (large ? Math.min(8, navigator.hardwareConcurrency || 1) : 1),
    true,
  );
  const bar = (total: number, unit: string) =>
    new Progress(total, {
      label: "linear probe",
      unit,
      output: showBar ? "auto" : "none",
      onProgress: options.onProgress,
    });

  let C: number;
  let final: Fit;
  let sweep: SweepPoint[] | undefined;
  if (options.C !== undefined) {
    C = positive("C", options.C);
    checkClasses(y, names, "training");
    const progress = bar(settings.maxIterations, "iterations");
    const problem = makeObjective(x, y, k, fitIntercept, multinomial, threads);
    try {
      final = fit(problem, C, undefined, settings, (i) => progress.update(i));
    } finally {
      problem.close();
    }
    progress.finish();
  } else {
    // Sweep: training and validation data.
    let train: Dense, trainY: Int32Array, val: Dense, valY: Int32Array;
    if (options.validation) {
      const v = options.validation;
      val = toDense(v.features ?? v.images ?? [], "linearProbe: validation features", x.cols);
      valY = resolveLabels(v.labels, val.rows, names).y;
      train = x;
      trainY = y;
    } else {
      const fraction = positive("validationFraction", options.validationFraction ?? 0.2);
      if (fraction >= 1) {
        throw new ProbeError(`linearProbe: validationFraction is ${fraction}`, {
          fix: "pass a share below 1",
        });
      }
      checkClasses(y, names, "training");
      const [trainRows, valRows] = stratifiedSplit(y, k, fraction, options.seed ?? 0);
      if (valRows.length === 0) {
        throw new ProbeError("linearProbe: too few examples to hold out a validation split for the C sweep", {
          fix: "pass { C } to fit without a sweep, pass { validation }, or raise validationFraction",
        });
      }
      train = pickRows(x, trainRows);
      trainY = Int32Array.from(trainRows, (r) => y[r]);
      val = pickRows(x, valRows);
      valY = Int32Array.from(valRows, (r) => y[r]);
    }
    checkClasses(trainY, names, "training");
    const grid = options.sweep ?? {};
    const min = positive("sweep.min", grid.min ?? 1e-6);
    const max = positive("sweep.max", grid.max ?? 1e6);
    if (max < min) {
      throw new ProbeError(`linearProbe: sweep.max ${max} is below sweep.min ${min}`, {
        fix: "pass sweep.min ≤ sweep.max",
      });
    }
    const steps = positive("sweep.steps", grid.steps ?? 13, true);
    const refineSteps = positive("sweep.refineSteps", grid.refineSteps ?? 8, true, 0, true);
    const refit = options.refit ?? true;
    const progress = bar(steps + refineSteps + (refit ? 1 : 0), "fits");
    const problem = makeObjective(train, trainY, k, fitIntercept, multinomial, threads);
    const tried: (SweepPoint & { result: Fit })[] = [];
    const tryC = (c: number) => {
      // Warm start from the nearest C tried so far: the optimum is unique, so only the time changes.
      let near: Float64Array | undefined, gap = Infinity;
      for (const t of tried) {
        const g = Math.abs(Math.log(t.C / c));
        if (g < gap) [near, gap] = [t.result.params, g];
      }
      const r = fit(problem, c, near && Float64Array.from(near), settings);
      const z = logits64(val, r.softmax, k);
      let hits = 0;
      for (let i = 0; i < val.rows; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (z[i * k + j] > z[i * k + best]) best = j;
        if (best === valY[i]) hits++;
      }
      const loss = softmaxRows(z, k, valY) / val.rows;
      tried.push({
        C: c,
        top1: hits / val.rows,
        loss,
        iterations: r.iterations,
        converged: r.converged,
        result: r,
      });
      progress.tick();
    };
    const better = (a: SweepPoint, b: SweepPoint) =>
      a.top1 > b.top1 || (a.top1 === b.top1 && a.loss < b.loss);
    const coarse = logGrid(min, max, steps);
    try {
      coarse.forEach(tryC);
      let bestAt = 0;
      for (let i = 1; i < tried.length; i++) if (better(tried[i], tried[bestAt])) bestAt = i;
      if (refineSteps > 0 && steps > 1) {
        const lo = coarse[Math.max(0, bestAt - 1)], hi = coarse[Math.min(steps - 1, bestAt + 1)];
        logGrid(lo, hi, refineSteps + 2).slice(1, -1).forEach(tryC);
      }
    } finally {
      problem.close();
    }
    let best = tried[0];
    for (const t of tried) if (better(t, best)) best = t;
    C = best.C;
    if (refit) {
      const all = stack(train, val);
      const allY = new Int32Array(trainY.length + valY.length);
      allY.set(trainY);
      allY.set(valY, trainY.length);
      const start = Float64Array.from(best.result.params);
      const whole = makeObjective(all, allY, k, fitIntercept, multinomial, threads);
      try {
        final = fit(whole, C, start, settings);
      } finally {
        whole.close();
      }
      progress.tick();
    } else {
      final = best.result;
    }
    progress.finish();
    sweep = tried.sort((a, b) => a.C - b.C).map(({ result: _, ...point }) => point);
  }
  return makeProbe(names, x.cols, final, C, sweep);
}

function makeProbe(
  names: string[],
  d: number,
  result: Fit,
  C: number,
  sweep?: SweepPoint[],
): LinearProbe {
  const k = names.length;
  const weights = result.softmax.slice(0, k * d); // [K, D]
  const bias = result.softmax.slice(k * d); // [K]
  const logits = (features: ProbeFeatures, what = "features") =>
    logits64(toDense(features, `linear probe: ${what}`, d), result.softmax, k);
  const probabilities = (features: ProbeFeatures) => {
    const z = logits(features);
    softmaxRows(z, k);
    return new Matrix(Float32Array.from(z), z.length / k, k);
  };
  return {
    classNames: names,
    dim: d,
    weights,
    bias,
    C,
    iterations: result.iterations,
    converged: result.converged,
    stop: result.stop,
    objective: result.objective,
    ...(sweep ? { sweep } : {}),
    logits: (features) => {
      const z = logits(features);
      return new Matrix(Float32Array.from(z), z.length / k, k);
    },
    probabilities,
    predict(features, { topK: top = 1 } = {}) {
      if (!Number.isInteger(top) || top < 1 || top > k) {
        throw new TopKError(`predict: topK = ${top} but the probe has ${k} classes`, {
          fix: `ask for 1 to ${k}`,
        });
      }
      return topK(probabilities(features), top).map((row) =>
        row.map(({ index, value }) => ({ label: names[index], index, score: value }))
      );
    },
    evaluate(dataset) {
      const features = dataset.features ?? dataset.images;
      if (features === undefined) {
        throw new ProbeError("evaluate: the dataset has no features", {
          fix: "pass { features, labels } (or { images: embeddings, labels })",
        });
      }
      const z = logits(features, "evaluation features");
      const labels = resolveLabels(dataset.labels, z.length / k, names).y;
      return evaluateScores(new Matrix(Float32Array.from(z), z.length / k, k), labels, names);
    },
  };
}
