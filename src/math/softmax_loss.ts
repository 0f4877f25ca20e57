/**
 * The data term of the linear probe's objective: summed softmax cross-entropy of rows of features, and its
 * gradient, by two float64 matrix products.
 *
 *   params [W (K×D), b (K)] ─► Z = X·Wᵀ + b [N, K] ─► P = softmax(Z) ─► loss = Σᵢ −log P[i, yᵢ]
 *     ─► R = P − onehot(y), stored transposed [K, N] ─► ∇W = Rᵀ·X [K, D] (via Xᵀ [D, N]), ∇b = Σᵢ R[i]
 *
 * One instance owns its buffers, so a worker thread can hold one for its share of the rows
 * (src/math/probe_threads.ts) and the partial sums add up to the whole.
 * @module
 */
import { gemmNT64, transpose64 } from "./gemm64.ts";

/** Summed cross-entropy (and gradient) of `n` rows of features with their class indices. */
export class SoftmaxData {
  private readonly xt: Float64Array; // [D, N]
  private readonly z: Float64Array; // [N, K]
  private readonly rt: Float64Array; // [K, N]: (softmax − one-hot)ᵀ

  /**
   * `x`: `[n, d]` row-major features (may be a view of shared memory); `y`: `[n]` class indices below `k`.
   * @example
   * ```ts
   * import { SoftmaxData } from "./softmax_loss.ts";
   * const data = new SoftmaxData(Float64Array.of(1, 0, 0, 1), Int32Array.of(0, 1), 2, 2, 2, true);
   * const grad = new Float64Array(6);
   * data.loss(new Float64Array(6), grad); // → 1.3862943611198906 (2 · log 2)
   * grad; // → Float64Array [-0.5, 0.5, 0.5, -0.5, 0, 0]
   * ```
   */
  constructor(
    private readonly x: Float64Array,
    private readonly y: Int32Array,
    readonly n: number,
    readonly d: number,
    readonly k: number,
    readonly fitIntercept: boolean,
  ) {
    this.xt = transpose64(x, n, d);
    this.z = new Float64Array(n * k);
    this.rt = new Float64Array(k * n);
  }

  /**
   * The summed cross-entropy at `params = [W (K×D), b (K)]` (`b` ignored without `fitIntercept`); writes its
   * gradient into `grad` (`[∇W, ∇b]`, the bias part only with `fitIntercept`).
   */
  loss(params: Float64Array, grad: Float64Array): number {
    const { n, d, k, z, rt, y } = this;
    gemmNT64(this.x, params.subarray(0, k * d), n, k, d, z); // [N, K] = X·Wᵀ
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const row = i * k;
      if (this.fitIntercept) { for (let c = 0; c < k; c++) z[row + c] += params[k * d + c]; }
      let max = -Infinity;
      for (let c = 0; c < k; c++) if (z[row + c] > max) max = z[row + c];
      loss += max - z[row + y[i]];
      let sum = 0;
      for (let c = 0; c < k; c++) sum += z[row + c] = Math.exp(z[row + c] - max);
      loss += Math.log(sum); // −log softmax(z)[y] = max + log Σ exp(z − max) − z[y]
      const inv = 1 / sum;
      for (let c = 0; c < k; c++) rt[c * n + i] = z[row + c] * inv;
      rt[y[i] * n + i] -= 1;
    }
    gemmNT64(rt, this.xt, k, d, n, grad.subarray(0, k * d)); // [K, D] = (P − Y)ᵀ·X
    if (this.fitIntercept) {
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += rt[c * n + i];
        grad[k * d + c] = s;
      }
    }
    return loss;
  }
}
