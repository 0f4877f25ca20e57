/**
 * Checking what the figure functions are given: matrices, label lists, finite numbers.
 * Every problem is a `PlotInputError` whose message says what is wrong and how to fix it.
 */
import { Matrix } from "../math/matrix.ts";
import { PlotInputError } from "../errors.ts";

/** A matrix as the kit makes it, or nested arrays. */
export type MatrixLike = Matrix | ArrayLike<number>[];

/**
 * Nested `number[][]` from a `Matrix` or nested arrays, checked to be non-empty and rectangular.
 * NaN is allowed (figures draw it as "missing").
 * @example
 * ```ts
 * import { toRows } from "./input.ts";
 * toRows([[1, 2], [3, 4]], "S"); // → [[1, 2], [3, 4]]
 * ```
 */
export function toRows(m: MatrixLike, what: string): number[][] {
  const rows = m instanceof Matrix ? m.toRows() : Array.from(m, (r) => Array.from(r ?? [], Number));
  if (rows.length === 0 || rows[0].length === 0) {
    throw new PlotInputError(
      `${what} is empty (${rows.length}×${rows[0]?.length ?? 0})`,
      { fix: "pass at least a 1×1 matrix" },
    );
  }
  rows.forEach((r, i) => {
    if (r.length !== rows[0].length) {
      throw new PlotInputError(
        `${what} row ${i} has ${r.length} values but row 0 has ${rows[0].length}`,
        { fix: "make every row equally long" },
      );
    }
  });
  return rows;
}

/**
 * Check that a label list matches a matrix dimension (default labels when absent).
 * @example
 * ```ts
 * import { checkLabels } from "./input.ts";
 * checkLabels(undefined, 2, "texts", "rows", "text"); // → ["text 1", "text 2"] (the default names)
 * ```
 */
export function checkLabels(
  labels: readonly string[] | undefined,
  n: number,
  what: string,
  dim: string,
  noun: string = what,
): string[] {
  if (labels === undefined) return Array.from({ length: n }, (_, i) => `${noun} ${i + 1}`);
  if (!Array.isArray(labels) || labels.length !== n) {
    throw new PlotInputError(
      `${what} has ${labels?.length ?? "no"} labels but the matrix has ${n} ${dim}`,
      { fix: `pass exactly one label per ${dim.replace(/s$/, "")}` },
    );
  }
  return labels.map(String);
}

/**
 * The finite min and max of a list (NaN ignored); `[0, 1]` when nothing is finite.
 * @example
 * ```ts
 * import { finiteExtent } from "./input.ts";
 * finiteExtent([0.2, NaN, -0.1]); // → [-0.1, 0.2]
 * ```
 */
export function finiteExtent(values: Iterable<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

/**
 * Throw unless `x` is a finite number; returns it.
 * @example
 * ```ts
 * import { checkFinite } from "./input.ts";
 * checkFinite(0.5, "ensemble"); // → 0.5
 * ```
 */
export function checkFinite(x: unknown, what: string): number {
  if (typeof x !== "number" || !Number.isFinite(x)) {
    throw new PlotInputError(`${what} must be a finite number, got ${String(x)}`, {
      fix: "pass a finite number (check for NaN from an empty evaluation)",
    });
  }
  return x;
}
