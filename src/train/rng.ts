/**
 * A small seeded random number generator (mulberry32 + Box–Muller), so that weight
 * initialisation and batch order are reproducible and independent of TensorFlow.js internals.
 * @module
 */

/** Seeded generator; its whole state is one 32-bit integer ({@link Rng.state}). */
export class Rng {
  /** Current state (save it in a checkpoint, restore with `new Rng(0, state)`). */
  state: number;

  /**
   * @example
   * ```ts
   * new Rng(42).uniform(); // → 0.4813160905614495
   * ```
   */
  constructor(seed: number, state?: number) {
    this.state = state ?? ((seed ^ 0x9e3779b9) >>> 0);
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal. */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** `n` normal samples times `std`. */
  normals(n: number, std: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * std;
    return out;
  }
}
