/**
 * Float64 matrix products for the optimisers in src/math/ (the linear probe's loss and gradient).
 *
 * One kernel, `C[n, m] (+)= A[n, l] · B[m, l]ᵀ`: row `i` of `A` meets row `j` of `B`, so both operands are
 * read along contiguous memory. The inner dimension is cut into chunks of {@link GEMM64_DEPTH} values and
 * the rows into tiles of {@link GEMM64_TILE}, so one tile of `B` stays in cache while a whole tile of `A`
 * passes it; inside a tile 4 rows of `A` meet 4 rows of `B` at once (16 running sums, each loaded value
 * used 4 times). A product `A · B` with `B` stored `[l, m]` is this kernel on `Bᵀ`:
 * transpose once with {@link transpose64} and reuse it.
 * @module
 */

/** Values of the inner dimension per chunk: a 256-row tile of 128 float64 values is 256 KiB, an L2 cache. */
export const GEMM64_DEPTH = 128;
/** Rows of `A` (and of `B`) per tile. */
export const GEMM64_TILE = 256;

/**
 * `C = A · Bᵀ` (or `C += A · Bᵀ` with `accumulate`), all row-major float64: `A` is `[n, l]`, `B` is `[m, l]`,
 * `C` is `[n, m]`. Returns `C`.
 * @example
 * ```ts
 * import { gemmNT64 } from "./gemm64.ts";
 * const c = gemmNT64(Float64Array.of(1, 2, 3, 4), Float64Array.of(1, 0, 0, 1, 1, 1), 2, 3, 2);
 * c; // → Float64Array [1, 2, 3, 3, 4, 7]
 * ```
 */
export function gemmNT64(
  A: Float64Array,
  B: Float64Array,
  n: number,
  m: number,
  l: number,
  C: Float64Array = new Float64Array(n * m), // [n, m]
  accumulate = false,
): Float64Array {
  if (!accumulate) C.fill(0, 0, n * m);
  for (let k0 = 0; k0 < l; k0 += GEMM64_DEPTH) {
    const k1 = Math.min(k0 + GEMM64_DEPTH, l);
    for (let j0 = 0; j0 < m; j0 += GEMM64_TILE) {
      const j1 = Math.min(j0 + GEMM64_TILE, m);
      for (let i0 = 0; i0 < n; i0 += GEMM64_TILE) {
        const i1 = Math.min(i0 + GEMM64_TILE, n);
        tile(A, B, C, m, l, i0, i1, j0, j1, k0, k1);
      }
    }
  }
  return C;
}

/** One tile: rows `i0…i1` of `A` against rows `j0…j1` of `B`, inner values `k0…k1`, added into `C`. */
function tile(
  A: Float64Array,
  B: Float64Array,
  C: Float64Array,
  m: number,
  l: number,
  i0: number,
  i1: number,
  j0: number,
  j1: number,
  k0: number,
  k1: number,
): void {
  for (let i = i0; i < i1; i += 4) {
    // At a tile's edge a missing row repeats the last real one and its sums are not stored.
    const rows = Math.min(4, i1 - i);
    const a0 = i * l,
      a1 = rows > 1 ? a0 + l : a0,
      a2 = rows > 2 ? a0 + 2 * l : a0,
      a3 = rows > 3 ? a0 + 3 * l : a0;
    for (let j = j0; j < j1; j += 4) {
      const cols = Math.min(4, j1 - j);
      const b0 = j * l,
        b1 = cols > 1 ? b0 + l : b0,
        b2 = cols > 2 ? b0 + 2 * l : b0,
        b3 = cols > 3 ? b0 + 3 * l : b0;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = k0; k < k1; k++) {
        const y0 = B[b0 + k], y1 = B[b1 + k], y2 = B[b2 + k], y3 = B[b3 + k];
        let x = A[a0 + k];
        s00 += x * y0;
        s01 += x * y1;
        s02 += x * y2;
        s03 += x * y3;
        x = A[a1 + k];
        s10 += x * y0;
        s11 += x * y1;
        s12 += x * y2;
        s13 += x * y3;
        x = A[a2 + k];
        s20 += x * y0;
        s21 += x * y1;
        s22 += x * y2;
        s23 += x * y3;
        x = A[a3 + k];
        s30 += x * y0;
        s31 += x * y1;
        s32 += x * y2;
        s33 += x * y3;
      }
      const c = i * m + j;
      if (cols === 4 && rows === 4) {
        C[c] += s00, C[c + 1] += s01, C[c + 2] += s02, C[c + 3] += s03;
        const c1 = c + m, c2 = c1 + m, c3 = c2 + m;
        C[c1] += s10, C[c1 + 1] += s11, C[c1 + 2] += s12, C[c1 + 3] += s13;
        C[c2] += s20, C[c2 + 1] += s21, C[c2 + 2] += s22, C[c2 + 3] += s23;
        C[c3] += s30, C[c3 + 1] += s31, C[c3 + 2] += s32, C[c3 + 3] += s33;
      } else {
        addSums(C, c, cols, s00, s01, s02, s03);
        if (rows > 1) addSums(C, c + m, cols, s10, s11, s12, s13);
        if (rows > 2) addSums(C, c + 2 * m, cols, s20, s21, s22, s23);
        if (rows > 3) addSums(C, c + 3 * m, cols, s30, s31, s32, s33);
      }
    }
  }
}

/** Add the first `width` of four sums into `C[at…]`. */
function addSums(C: Float64Array, at: number, width: number, s0: number, s1: number, s2: number, s3: number) {
  C[at] += s0;
  if (width > 1) C[at + 1] += s1;
  if (width > 2) C[at + 2] += s2;
  if (width > 3) C[at + 3] += s3;
}

/**
 * The transpose of a row-major `[rows, cols]` float64 matrix, as `[cols, rows]`, in 32 × 32 blocks.
 * @example
 * ```ts
 * import { transpose64 } from "./gemm64.ts";
 * transpose64(Float64Array.of(1, 2, 3, 4, 5, 6), 2, 3); // → Float64Array [1, 4, 2, 5, 3, 6]
 * ```
 */
export function transpose64(
  a: Float64Array,
  rows: number,
  cols: number,
  out: Float64Array = new Float64Array(rows * cols), // [cols, rows]
): Float64Array {
  const BS = 32;
  for (let i0 = 0; i0 < rows; i0 += BS) {
    const i1 = Math.min(i0 + BS, rows);
    for (let j0 = 0; j0 < cols; j0 += BS) {
      const j1 = Math.min(j0 + BS, cols);
      for (let i = i0; i < i1; i++) {
        for (let j = j0; j < j1; j++) out[j * rows + i] = a[i * cols + j];
      }
    }
  }
  return out;
}
