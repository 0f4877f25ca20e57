/**
 * Principal component analysis, just enough for a 2-D map of embeddings: the top components by
 * power iteration on XᵀX (never forming it), in float64.
 */

/** Result of {@link pca2}. */
export interface Projection {
  /** `[n, 2]` coordinates of each row on the first two components. */
  points: [number, number][];
  /** Share of the total variance that each of the two components explains, in [0, 1]. */
  explained: [number, number];
}

const ITERATIONS = 300;

/**
 * Project rows onto their first two principal components (rows are centred first).
 * Signs are fixed so that each component's largest-magnitude coefficient is positive.
 * @example
 * ```ts
 * import { pca2 } from "./pca.ts";
 * pca2([[1, 0], [-1, 0], [0, 0.1], [0, -0.1]]).explained.map((e) => e.toFixed(3)); // → ["0.990", "0.010"]
 * pca2([[1, 2, 3], [3, 2, 1]]).explained; // → [1, 0] (two points span one direction)
 * ```
 */
export function pca2(rows: ArrayLike<number>[]): Projection {
  const n = rows.length, d = rows[0].length;
  const mean = new Float64Array(d);
  for (const r of rows) for (let k = 0; k < d; k++) mean[k] += r[k] / n;
  const X = rows.map((r) => Float64Array.from({ length: d }, (_, k) => r[k] - mean[k])); // [n, d] centred
  const total = X.reduce((s, r) => s + r.reduce((a, v) => a + v * v, 0), 0);
  const components: Float64Array[] = [];
  for (let c = 0; c < 2; c++) {
    // A fixed start (deterministic), made orthogonal to earlier components: when the data has no variance
    // left in their complement (rank-deficient data, e.g. two points), the iteration stops at once and the
    // component must still be orthogonal, explaining 0% — not a copy of the first one.
    let v = orthogonalStart(d, c, components);
    for (let it = 0; it < ITERATIONS && v; it++) {
      const u0 = v;
      const Xv = X.map((r) => dot(r, u0)); // [n]
      const next = new Float64Array(d); // Xᵀ(Xv), [d]
      X.forEach((r, i) => {
        for (let k = 0; k < d; k++) next[k] += r[k] * Xv[i];
      });
      for (const u of components) { // deflate: stay orthogonal to earlier components
        const p = dot(next, u);
        for (let k = 0; k < d; k++) next[k] -= p * u[k];
      }
      const norm = Math.hypot(...next);
      if (!(norm > 1e-12 * Math.max(total, Number.MIN_VALUE))) break; // no variance left: keep v
      v = next.map((x) => x / norm);
    }
    if (!v) { // one-dimensional data has no second direction: its coordinate is 0
      components.push(new Float64Array(d));
      continue;
    }
    let big = 0;
    for (let k = 0; k < d; k++) if (Math.abs(v[k]) > Math.abs(v[big])) big = k;
    if (v[big] < 0) v = v.map((x) => -x);
    components.push(v);
  }
  const points = X.map((r) => [dot(r, components[0]), dot(r, components[1])] as [number, number]);
  const explained = [0, 1].map((c) =>
    total > 0 ? points.reduce((s, p) => s + p[c] * p[c], 0) / total : 0
  ) as [number, number];
  return { points, explained };
}

/** A unit start vector orthogonal to `earlier` (Gram–Schmidt), or undefined when `d` has no room left. */
function orthogonalStart(d: number, c: number, earlier: Float64Array[]): Float64Array | undefined {
  const candidates = [
    Float64Array.from({ length: d }, (_, k) => 1 / (k + 1 + c)),
    ...Array.from({ length: d }, (_, j) => Float64Array.from({ length: d }, (_, k) => (k === j ? 1 : 0))),
  ];
  for (const v of candidates) {
    for (const u of earlier) {
      const p = dot(v, u);
      for (let k = 0; k < d; k++) v[k] -= p * u[k];
    }
    const norm = Math.hypot(...v);
    if (norm > 1e-6) return v.map((x) => x / norm);
  }
  return undefined;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}
