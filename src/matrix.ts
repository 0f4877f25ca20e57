/**
 * A small row-major Float32 matrix: the one numeric type of clipkit.
 *
 * Embeddings, similarity matrices and logits are all `Matrix` values. There is no general tensor
 * library here on purpose: CLIP's maths after the encoders needs only a handful of operations.
 */

/** Thrown when a matrix has the wrong shape or holds values that cannot be used. */
export class ShapeError extends Error {
  override name = "ShapeError";
}

/** A dense row-major matrix of float32 values. */
export class Matrix {
  /** `rows × cols` values, row after row. */
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;

  constructor(data: Float32Array, rows: number, cols: number) {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
      throw new ShapeError(`a matrix needs non-negative integer rows and cols, got ${rows}×${cols}`);
    }
    if (data.length !== rows * cols) {
      throw new ShapeError(
        `data has ${data.length} values but a ${rows}×${cols} matrix needs ${rows * cols}`,
      );
    }
    this.data = data;
    this.rows = rows;
    this.cols = cols;
  }

  /**
   * Build a matrix from nested arrays (all rows the same length).
   * @example
   * Matrix.fromRows([[1, 2], [3, 4]]).row(1) // Float32Array [3, 4]
   */
  static fromRows(rows: ArrayLike<number>[]): Matrix {
    const cols = rows.length ? rows[0].length : 0;
    const data = new Float32Array(rows.length * cols);
    rows.forEach((r, i) => {
      if (r.length !== cols) {
        throw new ShapeError(`row ${i} has ${r.length} values, row 0 has ${cols}: all rows must be equally long`);
      }
      data.set(r, i * cols);
    });
    return new Matrix(data, rows.length, cols);
  }

  /** A `rows × cols` matrix of zeros. */
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

  /** Row `i` as a view (no copy). */
  row(i: number): Float32Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.rows) {
      throw new RangeError(`row ${i} is outside 0…${this.rows - 1}`);
    }
    return this.data.subarray(i * this.cols, (i + 1) * this.cols);
  }

  /** Value at row `i`, column `j`. */
  get(i: number, j: number): number {
    return this.data[i * this.cols + j];
  }

  /** Nested arrays (for printing, JSON and plotting). */
  toRows(): number[][] {
    return Array.from({ length: this.rows }, (_, i) => Array.from(this.row(i)));
  }
}
