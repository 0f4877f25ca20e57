/**
 * Drawing the shapes world straight into an RGBA byte buffer: shape outlines as data, an
 * anti-aliased filler (supersampled coverage), a flat background and per-pixel noise.
 *
 * Coordinates: pixel `(x, y)` covers `[x, x+1) × [y, y+1)`, y grows downwards. A shape is given
 * by its centre and radius `r` in pixels; its outline is defined in units of `r` (`u`, `v` in
 * about `[-1, 1]`, `v` downwards).
 * @module
 */

import { fillRandom } from "./random.ts";

/** The shape kinds, in class-index order. */
export const SHAPES = [
  "circle",
  "square",
  "triangle",
  "star",
  "hexagon",
  "cross",
  "heart",
  "diamond",
] as const;

/** One of {@link SHAPES}. */
export type Shape = typeof SHAPES[number];

/** An sRGB colour, 0–255 per channel. */
export type Rgb = readonly [number, number, number];

/** Samples per pixel side for anti-aliasing (4 → 16 samples per pixel). */
export const SUPERSAMPLE = 4;

/** Corners of a star with `points` tips (radius `outer`, notches at `inner`), first tip straight up. */
function starVertices(points: number, outer: number, inner: number, dy: number): Float64Array {
  const out = new Float64Array(points * 4); // [2 × points corners × (u, v)]
  for (let i = 0; i < points * 2; i++) {
    const radius = i % 2 === 0 ? outer : inner;
    const angle = -Math.PI / 2 + (i * Math.PI) / points;
    out[2 * i] = radius * Math.cos(angle);
    out[2 * i + 1] = radius * Math.sin(angle) + dy;
  }
  return out;
}

/** The five-pointed star's outline as flat `[u0, v0, u1, v1, …]`, lowered a little to centre it. */
const STAR = starVertices(5, 1.05, 0.45, 0.1);

/** The triangle's apex height above the centre and its base below it (half width 1). */
const TRIANGLE_APEX = 0.95;
const TRIANGLE_BASE = 0.8;
/** √3/2: the hexagon's half height (its corners are 1 from the centre). */
const HALF_SQRT3 = Math.sqrt(3) / 2;
/** Half side of the square, half width of the cross's arms and their half length. */
const SQUARE_HALF = 0.8;
const CROSS_ARM = 0.32;
const CROSS_LENGTH = 0.95;
/** Half width of the diamond (its half height is 1): a tall rhombus, unlike a square turned 45°. */
const DIAMOND_HALF_WIDTH = 0.72;
/** Scale and lift of the implicit heart curve `(x² + y² − 1)³ − x² y³ ≤ 0` (y up). */
const HEART_SCALE = 1.2;
const HEART_LIFT = 0.15;

/** Even–odd crossing test of point `(u, v)` against a flat polygon `[u0, v0, …]`. */
function insidePolygon(poly: Float64Array, u: number, v: number): boolean {
  let inside = false;
  const n = poly.length >> 1;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const ui = poly[2 * i], vi = poly[2 * i + 1];
    const uj = poly[2 * j], vj = poly[2 * j + 1];
    if (vi > v !== vj > v && u < ((uj - ui) * (v - vi)) / (vj - vi) + ui) inside = !inside;
  }
  return inside;
}

/**
 * Whether the point `(u, v)` (in units of the radius, centred on the shape) lies inside `shape`.
 *
 * @example
 * ```ts
 * import { insideShape } from "./draw.ts";
 * insideShape("circle", 0.6, 0.6); // → true
 * insideShape("diamond", 0.6, 0.6); // → false
 * ```
 */
export function insideShape(shape: Shape, u: number, v: number): boolean {
  switch (shape) {
    case "circle":
      return u * u + v * v <= 1;
    case "square":
      return Math.abs(u) <= SQUARE_HALF && Math.abs(v) <= SQUARE_HALF;
    case "diamond":
      return Math.abs(u) / DIAMOND_HALF_WIDTH + Math.abs(v) <= 1;
    case "cross": {
      const au = Math.abs(u), av = Math.abs(v);
      return (au <= CROSS_ARM && av <= CROSS_LENGTH) || (av <= CROSS_ARM && au <= CROSS_LENGTH);
    }
    case "heart": {
      const x = u * HEART_SCALE, y = -v * HEART_SCALE + HEART_LIFT;
      const a = x * x + y * y - 1;
      return a * a * a - x * x * y * y * y <= 0;
    }
    case "hexagon": {
      // regular, corners at (±1, 0) and (±½, ±√3/2)
      const av = Math.abs(v);
      return av <= HALF_SQRT3 && 2 * HALF_SQRT3 * Math.abs(u) + av <= 2 * HALF_SQRT3;
    }
    case "triangle":
      // apex (0, −TRIANGLE_APEX), base corners (±1, TRIANGLE_BASE)
      return v <= TRIANGLE_BASE && (TRIANGLE_BASE + TRIANGLE_APEX) * Math.abs(u) <= v + TRIANGLE_APEX;
    case "star":
      return insidePolygon(STAR, u, v);
  }
}

/** How far a shape reaches from its centre, in radii (the heart and star poke out a little). */
export const SHAPE_REACH = 1.1;

/**
 * Fills an RGBA image with one opaque colour.
 *
 * @example
 * ```ts
 * import { fillBackground } from "./draw.ts";
 * const rgba = new Uint8Array(2 * 2 * 4);
 * fillBackground(rgba, [10, 20, 30]);
 * rgba.subarray(0, 4); // → Uint8Array [10, 20, 30, 255]
 * ```
 */
export function fillBackground(rgba: Uint8Array, rgb: Rgb): void {
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = rgb[0];
    rgba[i + 1] = rgb[1];
    rgba[i + 2] = rgb[2];
    rgba[i + 3] = 255;
  }
}

/**
 * Paints `shape` (centre `cx, cy`, radius `r`, in pixels) over a square RGBA image of side `size`,
 * blending edge pixels by their coverage. Inside tests run first on the pixel-corner grid; a pixel
 * whose four corners agree is taken as fully in or out, the others get {@link SUPERSAMPLE}²
 * samples (the edge pixels are the only ones whose coverage is fractional).
 *
 * @example
 * ```ts
 * import { drawShape, fillBackground } from "./draw.ts";
 * const rgba = new Uint8Array(8 * 8 * 4);
 * fillBackground(rgba, [0, 0, 0]);
 * drawShape(rgba, 8, "square", 4, 4, 3, [255, 0, 0]);
 * rgba.subarray(36 * 4, 37 * 4); // → Uint8Array [255, 0, 0, 255]: inside
 * rgba.subarray(9 * 4, 10 * 4); // → Uint8Array [64, 0, 0, 255]: a corner pixel, ¼ covered
 * ```
 */
export function drawShape(
  rgba: Uint8Array,
  size: number,
  shape: Shape,
  cx: number,
  cy: number,
  r: number,
  rgb: Rgb,
): void {
  const reach = r * SHAPE_REACH;
  const x0 = Math.max(0, Math.floor(cx - reach)), x1 = Math.min(size - 1, Math.ceil(cx + reach));
  const y0 = Math.max(0, Math.floor(cy - reach)), y1 = Math.min(size - 1, Math.ceil(cy + reach));
  if (x1 < x0 || y1 < y0) return;
  const invR = 1 / r, w = x1 - x0 + 2, step = 1 / SUPERSAMPLE, samples = SUPERSAMPLE * SUPERSAMPLE;
  // inside flags at pixel corners: [(y1 - y0 + 2), (x1 - x0 + 2)]
  const corners = new Uint8Array(w * (y1 - y0 + 2));
  for (let y = y0; y <= y1 + 1; y++) {
    for (let x = x0; x <= x1 + 1; x++) {
      corners[(y - y0) * w + x - x0] = insideShape(shape, (x - cx) * invR, (y - cy) * invR) ? 1 : 0;
    }
  }
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const c = (y - y0) * w + x - x0;
      const cornerHits = corners[c] + corners[c + 1] + corners[c + w] + corners[c + w + 1];
      let alpha: number;
      if (cornerHits === 0) continue;
      if (cornerHits === 4) {
        alpha = 1;
      } else {
        let hits = 0;
        for (let sy = 0; sy < SUPERSAMPLE; sy++) {
          const v = (y + (sy + 0.5) * step - cy) * invR;
          for (let sx = 0; sx < SUPERSAMPLE; sx++) {
            if (insideShape(shape, (x + (sx + 0.5) * step - cx) * invR, v)) hits++;
          }
        }
        alpha = hits / samples;
      }
      const i = (y * size + x) * 4;
      rgba[i] = Math.round(rgba[i] + (rgb[0] - rgba[i]) * alpha);
      rgba[i + 1] = Math.round(rgba[i + 1] + (rgb[1] - rgba[i + 1]) * alpha);
      rgba[i + 2] = Math.round(rgba[i + 2] + (rgb[2] - rgba[i + 2]) * alpha);
    }
  }
}

/** Random words reused across {@link addNoise} calls (grown on demand). */
let noiseWords = new Uint32Array(0);

/**
 * Adds independent triangular noise in `[-amplitude, amplitude]` to every R, G, B byte (clamped
 * to 0–255); alpha is left alone. Each noise value is the sum of two 8-bit uniforms from the
 * mulberry32 stream of `seed` (two values per 32-bit word).
 *
 * @example
 * ```ts
 * import { addNoise } from "./draw.ts";
 * const rgba = new Uint8Array([100, 100, 100, 255]);
 * addNoise(rgba, 20, 1);
 * rgba; // → Uint8Array [117, 103, 101, 255]
 * ```
 */
export function addNoise(rgba: Uint8Array, amplitude: number, seed: number): void {
  const values = (rgba.length / 4) * 3, words = (values + 1) >> 1;
  if (noiseWords.length < words) noiseWords = new Uint32Array(words);
  fillRandom(noiseWords.subarray(0, words), seed);
  const scale = Math.round((amplitude / 255) * 256); // amplitude / 255 in 8.8 fixed point
  let k = 0;
  for (let p = 0; p < rgba.length; p += 4) {
    for (let c = p; c < p + 3; c++, k++) {
      const bits = noiseWords[k >> 1] >>> ((k & 1) << 4);
      const value = rgba[c] + ((((bits & 255) + ((bits >>> 8) & 255) - 255) * scale + 128) >> 8);
      rgba[c] = value < 0 ? 0 : value > 255 ? 255 : value;
    }
  }
}
