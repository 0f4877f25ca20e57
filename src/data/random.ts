/**
 * Seeded pseudo-random numbers for the whole kit, one mulberry32 implementation: the synthetic data
 * (`mulberry32`, `fillRandom`) and weight initialisation (`SeededRng`: uniforms and Box–Muller normals). The
 * same seed gives the same sequence on every machine (integer arithmetic only, no `Math.random`).
 *
 * state → state + 0x6d2b79f5 → mix → 32-bit output → ÷ 2³² → uniform in [0, 1)
 * @module
 */

/** A source of uniform numbers in `[0, 1)`. */
export type Rng = () => number;

/**
 * mulberry32's output mix of an (already advanced) 32-bit state: the one copy of the generator's arithmetic.
 * Returns the 32 bits as a signed int (kept a small integer for speed); `>>> 0` makes it unsigned.
 */
function mix(state: number): number {
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return t ^ (t >>> 14);
}

/** mulberry32's step: the state after `state`. */
const advance = (state: number) => (state + 0x6d2b79f5) >>> 0;

/**
 * mulberry32: a small, fast 32-bit generator (period 2^32), plenty for drawing toy images.
 *
 * @example
 * ```ts
 * import { mulberry32 } from "./random.ts";
 * const rng = mulberry32(42);
 * rng(); // → 0.6011037519201636
 * rng(); // → 0.44829055899754167
 * ```
 */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => (mix(state = advance(state)) >>> 0) / 4294967296;
}

/**
 * Fills `out` with the 32-bit outputs of the mulberry32 stream of `seed` (the same numbers as
 * `mulberry32(seed)() × 2³²`), without a closure call per number: the fast path for per-pixel noise.
 *
 * @example
 * ```ts
 * import { fillRandom } from "./random.ts";
 * const out = new Uint32Array(2);
 * fillRandom(out, 42);
 * out; // → Uint32Array [2581720956, 1925393290]
 * ```
 */
export function fillRandom(out: Uint32Array, seed: number): void {
  let state = seed >>> 0;
  for (let i = 0; i < out.length; i++) out[i] = mix(state = advance(state));
}

/**
 * A mulberry32 generator with its state in the open (to save in a checkpoint and restore with
 * `new SeededRng(0, state)`), plus normals by Box–Muller: weight initialisation and test data. Seeded as
 * `mulberry32(seed ^ 0x9e3779b9)`, so its uniforms are that stream's.
 */
export class SeededRng {
  /** Current 32-bit state. */
  state: number;

  /**
   * @example
   * ```ts
   * import { SeededRng } from "./random.ts";
   * new SeededRng(42).uniform(); // → 0.4813160905614495
   * ```
   */
  constructor(seed: number, state?: number) {
    this.state = state ?? ((seed ^ 0x9e3779b9) >>> 0);
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return (mix(this.state = advance(this.state)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box–Muller, one of the pair). */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** `n` normal samples times `std`. */
  normals(n: number, std: number): Float32Array {
    const out = new Float32Array(n); // [n]
    for (let i = 0; i < n; i++) out[i] = this.normal() * std;
    return out;
  }
}

/**
 * Mixes several integers into one 32-bit seed (murmur3's finaliser after each part), so that
 * nearby inputs such as `(seed, split, 0)` and `(seed, split, 1)` give unrelated streams.
 *
 * @example
 * ```ts
 * import { mixSeeds } from "./random.ts";
 * mixSeeds(7, 1, 0); // → 2053491691
 * mixSeeds(7, 1, 1); // → 321123896
 * ```
 */
export function mixSeeds(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * A uniformly chosen element of `items`.
 *
 * @example
 * ```ts
 * import { mulberry32, pick } from "./random.ts";
 * pick(mulberry32(42), ["a", "b", "c"]); // → "b"
 * ```
 */
export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)];
}
