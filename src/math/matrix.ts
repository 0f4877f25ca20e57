/**
 * A small row-major Float32 matrix: the one numeric type of clipkit.
 *
 * Embeddings, similarity matrices and logits are all `Matrix` values. There is no general tensor
 * library here on purpose: CLIP's maths after the encoders needs only a handful of operations.
 */

import { InputError, MatrixShapeError, NonFiniteError } from "../errors.ts";

/** Rows and columns per block in {@link matmulT}: 64×64 float32 tiles stay in L1/L2 cache. */
export const MATMUL_BLOCK = 64;

/**
 * A dense row-major matrix of float32 values.
 * @example
 * ```ts
 * import { Matrix } from "./matrix.ts";
 * const m = Matrix.fromRows([[1, 2, 3], [4, 5, 6]]);
 * [m.rows, m.cols, m.shape]; // → [2, 3, [2, 3]]
 * m.data; // → Float32Array [1, 2, 3, 4, 5, 6] (row-major)
 * m.row(1); // → Float32Array [4, 5, 6]
 * ```
 */
export class Matrix {
  /** `rows × cols` values, row after row. */
  readonly data: Float32Array;
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;

  /** Wrap `data` (not copied); its length must be `rows × cols`. */
  constructor(data: Float32Array, rows: number, cols: number) {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
      throw new MatrixShapeError(`a matrix needs non-negative integer rows and cols, got ${rows}×${cols}`, {
        fix: "pass whole numbers ≥ 0 for rows and cols",
      });
    }
    if (data.length !== rows * cols) {
      throw new MatrixShapeError(
        `data has ${data.length} values but a ${rows}×${cols} matrix needs ${rows * cols}`,
        { fix: "pass rows × cols values, row after row" },
      );
    }
    this.data = data;
    this.rows = rows;
    this.cols = cols;
  }

  /**
   * Build a matrix from nested arrays (all rows the same length).
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * Matrix.fromRows([[1, 2], [3, 4]]).row(1); // → Float32Array [3, 4]
   * ```
   */
  static fromRows(rows: ArrayLike<number>[]): Matrix {
    const cols = rows.length ? rows[0].length : 0;
    const data = new Float32Array(rows.length * cols);
    rows.forEach((r, i) => {
      if (r.length !== cols) {
        throw new MatrixShapeError(`row ${i} has ${r.length} values, row 0 has ${cols}`, {
          fix: "make all rows equally long",
        });
      }
      for (let j = 0; j < cols; j++) {
        if (typeof r[j] !== "number") { // a string or null would become NaN or 0 silently
          throw new MatrixShapeError(`row ${i}, column ${j} is ${JSON.stringify(r[j])}, not a number`, {
            fix: "pass rows of numbers (convert with Number(x) where that is meant)",
          });
        }
      }
      data.set(r, i * cols);
    });
    return new Matrix(data, rows.length, cols);
  }

  /**
   * A `rows × cols` matrix of zeros.
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * Matrix.zeros(2, 3).toRows(); // → [[0, 0, 0], [0, 0, 0]]
   * ```
   */
  static zeros(rows: number, cols: number): Matrix {
    return new Matrix(new Float32Array(rows * cols), rows, cols);
  }

  /** The embedding width (same as `cols`). */
  get dim(): number {
    return this.cols;
  }

  /** `[rows, cols]`. */
  get shape(): [number, number] {
    return [this.rows, this.cols];
  }

  /**
   * Row `i` as a view (no copy).
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * Matrix.fromRows([[1, 2], [3, 4]]).row(1); // → Float32Array [3, 4]
   * ```
   */
  row(i: number): Float32Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.rows) {
      throw new InputError(`row ${i} is outside 0…${this.rows - 1}`, {
        fix: `ask for a whole row index from 0 to ${this.rows - 1}`,
      });
    }
    return this.data.subarray(i * this.cols, (i + 1) * this.cols);
  }

  /**
   * Value at row `i`, column `j`.
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * Matrix.fromRows([[1, 2], [3, 4]]).get(1, 0); // → 3
   * ```
   */
  get(i: number, j: number): number {
    return this.data[i * this.cols + j];
  }

  /**
   * Nested arrays (for printing, JSON and plotting).
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * Matrix.fromRows([[0.5, 1], [2, 4]]).toRows(); // → [[0.5, 1], [2, 4]]
   * ```
   */
  toRows(): number[][] {
    return Array.from({ length: this.rows }, (_, i) => Array.from(this.row(i)));
  }
}

/**
 * Throw {@link NonFiniteError} when `m` holds NaN or ±Infinity, naming the first bad entry.
 * @example
 * ```ts
 * import { assertFinite, Matrix } from "./matrix.ts";
 * assertFinite(Matrix.fromRows([[1, NaN]]), "image embeddings")
 * // throws NonFiniteError: image embeddings[0, 1] is NaN, but every value must be finite. Fix: ...
 * ```
 */
export function assertFinite(m: Matrix, what = "matrix"): void {
  const { data, cols } = m;
  for (let k = 0; k < data.length; k++) {
    if (!Number.isFinite(data[k])) {
      const i = Math.floor(k / cols), j = k % cols;
      throw new NonFiniteError(
        `${what}[${i}, ${j}] is ${data[k]}, but every value must be finite`,
        {
          fix:
            "check the encoder input for that row (a NaN input or an overflowing fp16 model gives NaN/Inf " +
            "embeddings)",
        },
      );
    }
  }
}

/**
 * Throw {@link MatrixShapeError} unless `a` and `b` have the same number of columns (embedding width).
 * @example
 * ```ts
 * import { assertSameWidth, Matrix } from "./matrix.ts";
 * assertSameWidth(Matrix.zeros(2, 512), Matrix.zeros(3, 768), "images", "texts")
 * // throws MatrixShapeError: images are 512 wide but texts are 768 wide. Fix: embed both with the same model ...
 * ```
 */
export function assertSameWidth(a: Matrix, b: Matrix, aName = "a", bName = "b"): void {
  if (a.cols !== b.cols) {
    throw new MatrixShapeError(`${aName} are ${a.cols} wide but ${bName} are ${b.cols} wide`, {
      fix: "embed both with the same model (image and text embeddings of one CLIP share a width)",
    });
  }
}

/**
 * `a · bᵀ`: the product with a transposed second operand, `[n, d] × [m, d]ᵀ → [n, m]`.
 *
 * Row `i` of `a` meets row `j` of `b`, so both are read along contiguous memory. The loops are blocked
 * ({@link MATMUL_BLOCK} rows of `a` × {@link MATMUL_BLOCK} rows of `b`) so that a tile of `b` is reused from
 * cache for a whole tile of `a`, and inside a tile 2 rows of `a` meet 4 rows of `b` at once (8 running sums,
 * each loaded value used 2 or 4 times). Sums are float64 (JavaScript numbers), stored as float32.
 * @example
 * ```ts
 * import { matmulT, Matrix } from "./matrix.ts";
 * matmulT(Matrix.fromRows([[1, 2], [3, 4]]), Matrix.fromRows([[1, 0], [0, 1], [1, 1]])).toRows()
 * // → [[1, 2, 3], [3, 4, 7]]
 * ```
 */
export function matmulT(a: Matrix, b: Matrix): Matrix {
  assertSameWidth(a, b, "left rows", "right rows");
  const n = a.rows, m = b.rows, d = a.cols;
  const out = new Float32Array(n * m); // [n, m]
  const A = a.data, B = b.data;
  for (let i0 = 0; i0 < n; i0 += MATMUL_BLOCK) {
    const i1 = Math.min(i0 + MATMUL_BLOCK, n);
    for (let j0 = 0; j0 < m; j0 += MATMUL_BLOCK) {
      const j1 = Math.min(j0 + MATMUL_BLOCK, m);
      for (let i = i0; i < i1; i += 2) {
        // At a tile's edge the missing rows repeat a real one and their sums are not stored.
        const second = i + 1 < i1;
        const a0 = i * d, a1 = second ? a0 + d : a0;
        for (let j = j0; j < j1; j += 4) {
          const width = Math.min(4, j1 - j);
          const b0 = j * d;
          const b1 = width > 1 ? b0 + d : b0,
            b2 = width > 2 ? b0 + 2 * d : b0,
            b3 = width > 3 ? b0 + 3 * d : b0;
          let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
          for (let k = 0; k < d; k++) {
            const x0 = A[a0 + k], x1 = A[a1 + k];
            const y0 = B[b0 + k], y1 = B[b1 + k], y2 = B[b2 + k], y3 = B[b3 + k];
            s00 += x0 * y0;
            s01 += x0 * y1;
            s02 += x0 * y2;
            s03 += x0 * y3;
            s10 += x1 * y0;
            s11 += x1 * y1;
            s12 += x1 * y2;
            s13 += x1 * y3;
          }
          storeSums(out, i * m + j, width, s00, s01, s02, s03);
          if (second) storeSums(out, (i + 1) * m + j, width, s10, s11, s12, s13);
        }
      }
    }
  }
  return new Matrix(out, n, m);
}

/** Write the first `width` of four sums at `out[at…]`. */
function storeSums(
  out: Float32Array,
  at: number,
  width: number,
  s0: number,
  s1: number,
  s2: number,
  s3: number,
) {
  out[at] = s0;
  if (width > 1) out[at + 1] = s1;
  if (width > 2) out[at + 2] = s2;
  if (width > 3) out[at + 3] = s3;
}

/**
 * The transpose, `[n, m] → [m, n]`.
 * @example
 * ```ts
 * import { Matrix, transpose } from "./matrix.ts";
 * transpose(Matrix.fromRows([[1, 2, 3]])).toRows(); // → [[1], [2], [3]]
 * ```
 */
export function transpose(m: Matrix): Matrix {
  const out = new Float32Array(m.data.length); // [cols, rows]
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) out[j * m.rows + i] = m.data[i * m.cols + j];
  }
  return new Matrix(out, m.cols, m.rows);
}

/**
 * Every value multiplied by `factor` (e.g. cosine × logit scale = logits).
 * @example
 * ```ts
 * import { Matrix, scale } from "./matrix.ts";
 * scale(Matrix.fromRows([[0.5, -1]]), 100).toRows(); // → [[50, -100]]
 * ```
 */
export function scale(m: Matrix, factor: number): Matrix {
  const out = new Float32Array(m.data.length);
  for (let k = 0; k < out.length; k++) out[k] = m.data[k] * factor;
  return new Matrix(out, m.rows, m.cols);
}

/**
 * Rows `indices` of `m`, in that order, as a new matrix.
 * @example
 * ```ts
 * import { Matrix, selectRows } from "./matrix.ts";
 * selectRows(Matrix.fromRows([[1], [2], [3]]), [2, 0]).toRows(); // → [[3], [1]]
 * ```
 */
export function selectRows(m: Matrix, indices: ArrayLike<number>): Matrix {
  const out = new Float32Array(indices.length * m.cols);
  for (let r = 0; r < indices.length; r++) out.set(m.row(indices[r]), r * m.cols);
  return new Matrix(out, indices.length, m.cols);
}

/**
 * Stack matrices of equal width on top of each other.
 * @example
 * ```ts
 * import { concatRows, Matrix } from "./matrix.ts";
 * concatRows([Matrix.fromRows([[1, 2]]), Matrix.fromRows([[3, 4]])]).toRows(); // → [[1, 2], [3, 4]]
 * ```
 */
export function concatRows(parts: Matrix[]): Matrix {
  if (parts.length === 0) return Matrix.zeros(0, 0);
  const cols = parts[0].cols;
  parts.forEach((p, i) => assertSameWidth(parts[0], p, "part 0 rows", `part ${i} rows`));
  const out = new Float32Array(parts.reduce((s, p) => s + p.data.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p.data, offset);
    offset += p.data.length;
  }
  return new Matrix(out, parts.reduce((s, p) => s + p.rows, 0), cols);
}
