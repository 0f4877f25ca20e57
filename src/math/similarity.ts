/**
 * Cosine similarity, softmax with a temperature, and top-k: the three steps from embeddings to an answer.
 *
 * CLIP compares an image with a text by the cosine of their embeddings; `logit_scale × cosine` are the
 * logits, and a softmax over them (at temperature `T = 1 / logit_scale`) gives probabilities.
 */
import { assertFinite, assertSameWidth, matmulT, Matrix } from "./matrix.ts";
import { MatrixShapeError, NonFiniteError, TemperatureError, TopKError } from "../errors.ts";

/** Which way a softmax runs: along each row (`"rows"`, each row sums to 1) or down each column. */
export type Axis = "rows" | "cols";

/** One entry of a {@link topK} answer. */
export interface Scored {
  /** Column index in the row. */
  index: number;
  /** The value at that column. */
  value: number;
}

/**
 * Throw {@link TemperatureError} unless `t` is finite and above zero.
 * @example
 * ```ts
 * import { assertTemperature } from "./similarity.ts";
 * assertTemperature(0); // throws TemperatureError: temperature must be a finite number above 0, got 0. Fix: ...
 * ```
 */
export function assertTemperature(t: number, what = "temperature"): void {
  if (!(typeof t === "number" && Number.isFinite(t) && t > 0)) {
    const example = /scale/i.test(what)
      ? "use e.g. 100 (trained CLIP) or 1 / 0.07 ≈ 14.3 (CLIP at initialisation)"
      : "use e.g. 0.07 (CLIP's initial temperature), 0.01 (trained CLIP) or 1";
    throw new TemperatureError(`${what} must be a finite number above 0, got ${t}`, {
      fix: `${example}; logit scale = 1 / temperature`,
    });
  }
}

/**
 * Each row divided by its Euclidean length (unit rows), like `x / x.norm(dim=-1, keepdim=True)`.
 * A zero row stays zero.
 * @example
 * ```ts
 * import { normalize } from "./similarity.ts";
 * import { Matrix } from "./matrix.ts";
 * normalize(Matrix.fromRows([[3, 4], [0, 2]])).toRows(); // → [[0.6, 0.8], [0, 1]] (as float32: 0.6000000238…)
 * ```
 */
export function normalize(m: Matrix): Matrix {
  const { data, rows, cols } = m;
  const out = new Float32Array(data.length); // [rows, cols]
  for (let i = 0; i < rows; i++) {
    const base = i * cols;
    let ss = 0;
    for (let k = base; k < base + cols; k++) ss += data[k] * data[k];
    // float32 squares cannot overflow a float64 sum: a non-finite sum means NaN/Inf in the row.
    if (!Number.isFinite(ss)) assertFinite(m, "embeddings");
    const norm = Math.sqrt(ss);
    if (norm === 0) continue;
    for (let k = base; k < base + cols; k++) out[k] = data[k] / norm;
  }
  return new Matrix(out, rows, cols);
}

/**
 * Cosine similarity of every row of `a` with every row of `b`: `normalize(a) · normalize(b)ᵀ`, `[n, m]`.
 * Rows of `a` are images (or queries), columns are texts (or keys), as in CLIP's `logits_per_image`.
 * @example
 * ```ts
 * import { similarity } from "./similarity.ts";
 * import { Matrix } from "./matrix.ts";
 * similarity(Matrix.fromRows([[1, 0], [1, 1]]), Matrix.fromRows([[2, 0], [0, 3]])).toRows()
 * // → [[1, 0], [0.70710677, 0.70710677]]
 * ```
 */
export function similarity(a: Matrix, b: Matrix): Matrix {
  assertSameWidth(a, b, "image embeddings", "text embeddings");
  return matmulT(normalize(a), normalize(b));
}

/**
 * Softmax of `logits / temperature` along each row (`axis: "rows"`, the default) or down each column
 * (`axis: "cols"`; the result keeps the input's shape). Numerically stable: the row maximum is subtracted
 * before `exp`, and sums are in float64.
 * @example
 * ```ts
 * import { softmax } from "./similarity.ts";
 * import { Matrix } from "./matrix.ts";
 * softmax(Matrix.fromRows([[1, 2, 3]])).toRows(); // → [[0.09003057, 0.24472847, 0.66524096]]
 * softmax(Matrix.fromRows([[1, 2, 3]]), { temperature: 10 }).toRows(); // → [[0.30060961, 0.33222499, 0.3671654]]
 * ```
 */
export function softmax(
  logits: Matrix,
  { temperature = 1, axis = "rows" }: { temperature?: number; axis?: Axis } = {},
): Matrix {
  assertTemperature(temperature);
  assertFinite(logits, "logits");
  if (axis !== "rows" && axis !== "cols") {
    throw new MatrixShapeError(`softmax axis must be "rows" or "cols", got ${JSON.stringify(axis)}`, {
      fix: 'pass axis "rows" (each row sums to 1) or "cols"',
    });
  }
  const { rows, cols, data } = logits;
  const out = new Float32Array(data.length); // [rows, cols]
  // A line is a row (stride 1) or a column (stride cols).
  const lines = axis === "rows" ? rows : cols;
  const length = axis === "rows" ? cols : rows;
  const stride = axis === "rows" ? 1 : cols;
  const step = axis === "rows" ? cols : 1;
  const e = new Float64Array(length);
  for (let l = 0; l < lines; l++) {
    const start = l * step;
    let max = -Infinity;
    for (let k = 0; k < length; k++) max = Math.max(max, data[start + k * stride]);
    let sum = 0;
    for (let k = 0; k < length; k++) {
      e[k] = Math.exp((data[start + k * stride] - max) / temperature);
      sum += e[k];
    }
    for (let k = 0; k < length; k++) out[start + k * stride] = e[k] / sum;
  }
  return new Matrix(out, rows, cols);
}

/**
 * Log-softmax along each row, in float64 (`log_softmax(x, dim=1)`), stable for large logits.
 * @example
 * ```ts
 * import { logSoftmaxRow } from "./similarity.ts";
 * Array.from(logSoftmaxRow([0, 0])); // → [-0.6931471805599453, -0.6931471805599453]
 * ```
 */
export function logSoftmaxRow(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let k = 0; k < row.length; k++) max = Math.max(max, row[k]);
  let sum = 0;
  for (let k = 0; k < row.length; k++) sum += Math.exp(row[k] - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(row.length);
  for (let k = 0; k < row.length; k++) out[k] = row[k] - lse;
  return out;
}

/**
 * The `k` largest entries of each row, best first; equal values keep column order (lower index first).
 * ±Infinity rank as the largest and smallest numbers; a NaN cannot be ranked, so it is a `NonFiniteError`
 * naming its row and column (a NaN score usually means a NaN embedding upstream).
 * @example
 * ```ts
 * import { topK } from "./similarity.ts";
 * import { Matrix } from "./matrix.ts";
 * topK(Matrix.fromRows([[0.1, 0.7, 0.2]]), 2); // → [[{ index: 1, value: 0.7 }, { index: 2, value: 0.2 }]]
 * // (values are float32: 0.699999988079071, 0.20000000298023224)
 * ```
 */
export function topK(m: Matrix, k: number): Scored[][] {
  if (!Number.isInteger(k) || k < 1 || k > m.cols) {
    throw new TopKError(
      `topK: k = ${k} but each row has ${m.cols} entries`,
      { fix: `ask for a whole number from 1 to ${m.cols}` },
    );
  }
  const result: Scored[][] = [];
  for (let i = 0; i < m.rows; i++) {
    const r = m.row(i);
    // Keep a sorted list of the best k (insertion; k is small next to the row length).
    const best: Scored[] = [];
    for (let j = 0; j < r.length; j++) {
      const v = r[j];
      if (Number.isNaN(v)) {
        throw new NonFiniteError(`topK: entry [${i}, ${j}] is NaN, which has no rank`, {
          fix: "find where the NaN comes from (assertFinite on the embeddings), or replace it before ranking",
        });
      }
      if (best.length === k && !(v > best[k - 1].value)) continue;
      let p = best.length === k ? k - 1 : best.length;
      while (p > 0 && v > best[p - 1].value) p--;
      if (best.length === k) best.pop();
      best.splice(p, 0, { index: j, value: v });
    }
    result.push(best);
  }
  return result;
}

/**
 * Index of the largest value of each row (the first one on ties, like `torch.argmax`). As in `torch.argmax`, a
 * NaN counts as the largest value: the first NaN of a row is its answer (use `topK` to have NaN refused).
 * @example
 * ```ts
 * import { argmaxRows } from "./similarity.ts";
 * import { Matrix } from "./matrix.ts";
 * argmaxRows(Matrix.fromRows([[1, 3, 3], [5, 0, 1]])); // → Int32Array [1, 0]
 * argmaxRows(Matrix.fromRows([[1, NaN, 3]])); // → Int32Array [1] (NaN wins, as in torch.argmax)
 * ```
 */
export function argmaxRows(m: Matrix): Int32Array {
  const out = new Int32Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    const r = m.row(i);
    let best = 0;
    for (let j = 1; j < r.length && !Number.isNaN(r[best]); j++) {
      if (r[j] > r[best] || Number.isNaN(r[j])) best = j;
    }
    out[i] = best;
  }
  return out;
}
