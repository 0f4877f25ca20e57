/**
 * Seeded pseudo-random numbers for the synthetic data: the same seed gives the same sequence on
 * every machine (integer arithmetic only, no `Math.random`).
 * @module
 */

/** A source of uniform numbers in `[0, 1)`. */
export type Rng = () => number;

/**
 * mulberry32: a small, fast 32-bit generator (period 2^32), plenty for drawing toy images.
 *
 * @example
 * ```ts
 * const rng = mulberry32(42);
 * rng(); // 0.6011037519201636
 * rng(); // 0.44829055899754167
 * ```
 */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Fills `out` with the 32-bit outputs of the mulberry32 stream of `seed` (the same numbers as
 * `mulberry32(seed)() × 2³²`), without a call per number: the fast path for per-pixel noise.
 *
 * @example
 * ```ts
 * const out = new Uint32Array(2);
 * fillRandom(out, 42);
 * out; // Uint32Array [2581720956, 1925393290]
 * ```
 */
export function fillRandom(out: Uint32Array, seed: number): void {
  let state = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = t ^ (t >>> 14);
  }
}

/**
 * Mixes several integers into one 32-bit seed (murmur3's finaliser after each part), so that
 * nearby inputs such as `(seed, split, 0)` and `(seed, split, 1)` give unrelated streams.
 *
 * @example
 * ```ts
 * mixSeeds(7, 1, 0); // 2053491691
 * mixSeeds(7, 1, 1); // 321123896
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
 * pick(mulberry32(42), ["a", "b", "c"]); // "b"
 * ```
 */
export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)];
}
