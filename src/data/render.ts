/**
 * Raster primitives of the media world (`world.ts`, `media.ts`): shape outlines as polygons, their exact
 * signed distance (anti-aliased fills and strokes of any width come from it), a float RGB canvas, box blur,
 * smooth value noise and the final rounding to RGBA bytes.
 *
 * shape + centre + radius + angle → polygon in pixels → signed distance per pixel → coverage → canvas
 * (float RGB, 0–255) → blur / noise → RGBA bytes.
 *
 * Coordinates: pixel `(x, y)` covers `[x, x+1) × [y, y+1)` and is sampled at its centre `(x + ½, y + ½)`;
 * y grows downwards. Outlines are defined in units of the radius (`u`, `v` in about `[-1, 1]`).
 * @module
 */

import type { Shape } from "./draw.ts";
import type { Rgb } from "./draw.ts";
import type { Rng } from "./random.ts";

/** How far a polygon outline reaches from its centre, in radii, at any angle. */
export const OUTLINE_REACH = 1.15;

/** Points on the circle's outline (a regular polygon this fine is round at every size the world uses). */
const CIRCLE_POINTS = 40;
/** Points on the heart's parametric outline. */
const HEART_POINTS = 48;

/** Corners of a star with `points` tips (radius `outer`, notches at `inner`), first tip straight up. */
function star(points: number, outer: number, inner: number, dv: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < points * 2; i++) {
    const radius = i % 2 === 0 ? outer : inner, angle = -Math.PI / 2 + (i * Math.PI) / points;
    out.push(radius * Math.cos(angle), radius * Math.sin(angle) + dv);
  }
  return out;
}

/** The classic heart curve `x = 16 sin³t, y = 13 cos t − 5 cos 2t − 2 cos 3t − cos 4t`, centred, v down. */
function heart(): number[] {
  const out: number[] = [];
  for (let i = 0; i < HEART_POINTS; i++) {
    const t = (2 * Math.PI * i) / HEART_POINTS;
    const x = 16 * Math.sin(t) ** 3;
    const y = 13 * Math.cos(t) - 5 * Math.cos(2 * t) - 2 * Math.cos(3 * t) - Math.cos(4 * t);
    out.push(x / 15, (-y - 2.5) / 15); // y spans −17…12: centre it, then ±1.07 × ±0.97
  }
  return out;
}

/** Each shape's outline as flat `[u0, v0, u1, v1, …]` in units of the radius (the classic world's proportions). */
const OUTLINES: Record<Shape, Float64Array> = {
  circle: Float64Array.from(
    { length: 2 * CIRCLE_POINTS },
    (_, k) => (k % 2 === 0 ? Math.cos : Math.sin)((2 * Math.PI * (k >> 1)) / CIRCLE_POINTS),
  ),
  square: Float64Array.of(-0.8, -0.8, 0.8, -0.8, 0.8, 0.8, -0.8, 0.8),
  triangle: Float64Array.of(0, -0.95, 1, 0.8, -1, 0.8),
  star: Float64Array.from(star(5, 1.05, 0.47, 0.1)),
  hexagon: Float64Array.from(
    { length: 12 },
    (_, k) => (k % 2 === 0 ? Math.cos : Math.sin)((Math.PI / 3) * (k >> 1)),
  ),
  cross: (() => {
    const a = 0.32, l = 0.95;
    return Float64Array.of(
      -a,
      -l,
      a,
      -l,
      a,
      -a,
      l,
      -a,
      l,
      a,
      a,
      a,
      a,
      l,
      -a,
      l,
      -a,
      a,
      -l,
      a,
      -l,
      -a,
      -a,
      -a,
    );
  })(),
  heart: Float64Array.from(heart()),
  diamond: Float64Array.of(0, -1, 0.72, 0, 0, 1, -0.72, 0),
};

/** A shape placed in a picture: its outline in pixels and the pixel box it may touch. */
export interface PlacedShape {
  /** Outline corners in pixels, flat `[x0, y0, x1, y1, …]`. */
  poly: Float64Array;
  cx: number;
  cy: number;
  /** Radius in pixels. */
  r: number;
}

/**
 * A shape's outline in pixels: centre `(cx, cy)`, radius `r`, turned by `angle` radians (clockwise on screen).
 *
 * @example
 * ```ts
 * import { placeShape } from "./render.ts";
 * placeShape("square", 10, 10, 5, 0).poly; // → Float64Array [6, 6, 14, 6, 14, 14, 6, 14]
 * ```
 */
export function placeShape(shape: Shape, cx: number, cy: number, r: number, angle: number): PlacedShape {
  const unit = OUTLINES[shape], c = Math.cos(angle), s = Math.sin(angle);
  const poly = new Float64Array(unit.length); // [corners × (x, y)]
  for (let k = 0; k < unit.length; k += 2) {
    poly[k] = cx + r * (c * unit[k] - s * unit[k + 1]);
    poly[k + 1] = cy + r * (s * unit[k] + c * unit[k + 1]);
  }
  return { poly, cx, cy, r };
}

/**
 * Exact signed distance in pixels from `(x, y)` to a polygon's outline: negative inside, positive outside
 * (the crossing rule decides the sign, so it holds for the star's and heart's concave outlines too).
 *
 * @example
 * ```ts
 * import { placeShape, signedDistance } from "./render.ts";
 * const { poly } = placeShape("square", 10, 10, 5, 0); // the square spans 6…14
 * signedDistance(poly, 10, 10); // → -4
 * signedDistance(poly, 17, 10); // → 3
 * ```
 */
export function signedDistance(poly: Float64Array, x: number, y: number): number {
  const n = poly.length >> 1;
  let best = Infinity, inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = poly[2 * i], yi = poly[2 * i + 1], xj = poly[2 * j], yj = poly[2 * j + 1];
    const ex = xj - xi, ey = yj - yi, wx = x - xi, wy = y - yi;
    const t = Math.min(1, Math.max(0, (wx * ex + wy * ey) / (ex * ex + ey * ey)));
    const bx = wx - ex * t, by = wy - ey * t, d = bx * bx + by * by;
    if (d < best) best = d;
    if (yi > y !== yj > y && x < (ex * (y - yi)) / ey + xi) inside = !inside;
  }
  return inside ? -Math.sqrt(best) : Math.sqrt(best);
}

/**
 * Calls `visit(x, y, distance)` for every pixel within `margin` pixels of the shape's box, with the signed
 * distance of the pixel's centre to the outline.
 */
export function forEachNear(
  size: number,
  shape: PlacedShape,
  margin: number,
  visit: (x: number, y: number, distance: number) => void,
): void {
  const reach = shape.r * OUTLINE_REACH + margin;
  const x0 = Math.max(0, Math.floor(shape.cx - reach)), x1 = Math.min(size - 1, Math.ceil(shape.cx + reach));
  const y0 = Math.max(0, Math.floor(shape.cy - reach)), y1 = Math.min(size - 1, Math.ceil(shape.cy + reach));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) visit(x, y, signedDistance(shape.poly, x + 0.5, y + 0.5));
  }
}

/** Coverage of a pixel by a filled outline from its centre's signed distance (a one-pixel ramp: anti-aliasing). */
export const fillCoverage = (distance: number): number =>
  distance <= -0.5 ? 1 : distance >= 0.5 ? 0 : 0.5 - distance;

/** Coverage of a pixel by a stroke of `width` pixels centred on the outline. */
export const strokeCoverage = (distance: number, width: number): number => {
  const d = Math.abs(distance) - width / 2;
  return d <= -0.5 ? 1 : d >= 0.5 ? 0 : 0.5 - d;
};

/** A square float RGB picture, 0–255 per channel (values may stray outside until {@link toRgba} clamps). */
export class Canvas {
  /** `[size, size, 3]`, row-major. */
  readonly rgb: Float32Array;
  constructor(readonly size: number) {
    this.rgb = new Float32Array(size * size * 3); // [size, size, 3]
  }

  /** Every pixel `colour`. */
  fill(colour: Rgb): this {
    for (let i = 0; i < this.rgb.length; i += 3) {
      this.rgb[i] = colour[0];
      this.rgb[i + 1] = colour[1];
      this.rgb[i + 2] = colour[2];
    }
    return this;
  }

  /** Mixes `colour` into pixel `(x, y)` by `alpha` (0 = unchanged, 1 = replaced). */
  blend(x: number, y: number, colour: Rgb, alpha: number): void {
    if (alpha <= 0) return;
    const i = (y * this.size + x) * 3, a = alpha > 1 ? 1 : alpha;
    this.rgb[i] += (colour[0] - this.rgb[i]) * a;
    this.rgb[i + 1] += (colour[1] - this.rgb[i + 1]) * a;
    this.rgb[i + 2] += (colour[2] - this.rgb[i + 2]) * a;
  }

  /** Multiplies pixel `(x, y)` by `factor` (shadows, light). */
  scale(x: number, y: number, factor: number): void {
    const i = (y * this.size + x) * 3;
    this.rgb[i] *= factor;
    this.rgb[i + 1] *= factor;
    this.rgb[i + 2] *= factor;
  }

  /** Separable box blur of radius 1 mixed in by `amount` (0 = sharp, 1 = a full 3×3 box): lens softness. */
  blur(amount: number): void {
    if (amount <= 0) return;
    const n = this.size, src = this.rgb, tmp = new Float32Array(src.length); // [size, size, 3]
    const pass = (from: Float32Array, to: Float32Array, dx: number, dy: number) => {
      for (let y = 0; y < n; y++) {
        for (let x = 0; x < n; x++) {
          const xa = Math.max(0, x - dx), xb = Math.min(n - 1, x + dx);
          const ya = Math.max(0, y - dy), yb = Math.min(n - 1, y + dy);
          const i = (y * n + x) * 3, a = (ya * n + xa) * 3, b = (yb * n + xb) * 3;
          for (let c = 0; c < 3; c++) {
            const box = (from[a + c] + from[i + c] + from[b + c]) / 3;
            to[i + c] = from[i + c] + (box - from[i + c]) * amount;
          }
        }
      }
    };
    pass(src, tmp, 1, 0);
    pass(tmp, src, 0, 1);
  }

  /** Rounds into `rgba` (`size × size × 4`, alpha 255), clamping to 0–255. */
  toRgba(rgba: Uint8Array): void {
    for (let p = 0, i = 0; i < this.rgb.length; i += 3, p += 4) {
      for (let c = 0; c < 3; c++) {
        const v = this.rgb[i + c];
        rgba[p + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
      }
      rgba[p + 3] = 255;
    }
  }
}

/**
 * Smooth value noise: a `cells × cells` grid of uniforms in `[-1, 1]` drawn from `rng`, bilinearly
 * interpolated with a smoothstep at `(x, y)` in pixels of a picture of side `size` (textures and uneven light).
 */
export function valueNoise(rng: Rng, cells: number): (x: number, y: number, size: number) => number {
  const grid = Float64Array.from({ length: (cells + 1) * (cells + 1) }, () => rng() * 2 - 1); // [cells+1, cells+1]
  return (x, y, size) => {
    const gx = (x / size) * cells, gy = (y / size) * cells;
    const ix = Math.min(cells - 1, Math.floor(gx)), iy = Math.min(cells - 1, Math.floor(gy));
    const fx = gx - ix, fy = gy - iy, sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
    const row = cells + 1, k = iy * row + ix;
    const top = grid[k] + (grid[k + 1] - grid[k]) * sx;
    const bottom = grid[k + row] + (grid[k + row + 1] - grid[k + row]) * sx;
    return top + (bottom - top) * sy;
  };
}

/** A roughly normal number (sum of three uniforms, mean 0, std 1): cheap sensor noise. */
export const roughNormal = (rng: Rng): number => (rng() + rng() + rng() - 1.5) * 2;

/** `colour` with each channel moved by up to ±`amount`, and clamped. */
export function jitterColour(rng: Rng, colour: Rgb, amount: number): Rgb {
  return colour.map((v) => Math.min(255, Math.max(0, v + (rng() * 2 - 1) * amount))) as unknown as Rgb;
}

/** `colour` mixed towards `target` by `t`. */
export const mix = (colour: Rgb, target: Rgb, t: number): Rgb =>
  [0, 1, 2].map((c) => colour[c] + (target[c] - colour[c]) * t) as unknown as Rgb;

/** Euclidean distance between two colours (contrast check). */
export const colourDistance = (a: Rgb, b: Rgb): number => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
