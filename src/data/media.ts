/**
 * The five media of the shapes world: one scene (colour, shape, where each shape sits, how big, how turned)
 * painted as a flat icon, an outline drawing, a hand-drawn sketch, a photo-like render or pixel art.
 *
 * scene + medium + render stream → background ({@link chooseBackground}, the stream's first draws) →
 * the medium's painter (canvas of float RGB) → RGBA bytes.
 *
 * - icon: flat anti-aliased fill on a plain background, sometimes a darker border or a flat shadow.
 * - outline: the outline alone, 1.3–2.3 px (at 40 px) in the shape colour, on paper.
 * - sketch: two or so wobbly, overshooting pencil or marker strokes per shape, often hatched inside, on
 *   textured paper or a blackboard.
 * - photo: a lit, bevelled object with a specular highlight and a soft shadow on a textured surface; uneven
 *   light, vignette, white balance and exposure shifts, lens blur and sensor noise.
 * - pixel: a coarse grid (2 px cells at 40 px), hard edges, a 6-level palette; pixel-art style (dark outline,
 *   highlight, sometimes a checkerboard) or mosaic style (every tile a little different).
 * @module
 */

import type { Rgb, Shape } from "./draw.ts";
import { type Colour, COLOUR_VALUES } from "./classes.ts";
import type { Rng } from "./random.ts";
import {
  Canvas,
  colourDistance,
  fillCoverage,
  forEachNear,
  jitterColour,
  mix,
  type PlacedShape,
  placeShape,
  roughNormal,
  signedDistance,
  strokeCoverage,
  valueNoise,
} from "./render.ts";
import mediaJson from "./media.json" with { type: "json" };

/** The media, in dataset order. */
export const MEDIA = ["icon", "outline", "sketch", "photo", "pixel"] as const;
/** One of {@link MEDIA}. */
export type Medium = typeof MEDIA[number];

/** A background a medium draws on (from `media.json`). */
export interface Background {
  name: string;
  rgb: Rgb;
  /** The colour class word captions use for it (`"white"`, `"black"`), or `null`. */
  colourWord: string | null;
  /** How often it is drawn, relative to the medium's other usable backgrounds. */
  weight: number;
  /** The share of captions that name it. */
  mention: number;
  /** How a caption mentions it. */
  phrases: string[];
}

/** Every medium's backgrounds. */
export const BACKGROUNDS = mediaJson.backgrounds as unknown as Record<Medium, readonly Background[]>;

/** Where one shape sits: centre and radius as fractions of the side, angle in radians. */
export interface Placement {
  x: number;
  y: number;
  radius: number;
  angle: number;
}

/** What a painter needs to know about a scene. */
export interface PaintScene {
  colour: Colour;
  shape: Shape;
  placements: readonly Placement[];
}

/**
 * The background of a scene in `medium`: drawn by weight among the medium's backgrounds that contrast with
 * the shape colour. Uses the render stream's first draw, so captions (which mention it) need no pixels.
 *
 * @example
 * ```ts
 * import { chooseBackground } from "./media.ts";
 * import { mulberry32 } from "./random.ts";
 * chooseBackground("icon", "white", mulberry32(1)).name; // → "black" (the only icon background a white shape shows on)
 * ```
 */
export function chooseBackground(medium: Medium, colour: Colour, rng: Rng): Background {
  const base = COLOUR_VALUES[colour];
  const usable = BACKGROUNDS[medium].filter((b) => colourDistance(b.rgb, base) >= mediaJson.minContrast);
  let roll = rng() * usable.reduce((sum, b) => sum + b.weight, 0);
  for (const b of usable) if ((roll -= b.weight) < 0) return b;
  return usable[usable.length - 1];
}

/** Stroke widths and offsets are given for a 40 px picture and scaled with the side. */
const REFERENCE_SIDE = 40;

const place = (size: number, shape: Shape, p: Placement): PlacedShape =>
  placeShape(shape, p.x * size, p.y * size, p.radius * size, p.angle);

/** Adds uniform noise in `[-amount, amount]` to every channel. */
function grain(canvas: Canvas, rng: Rng, amount: number): void {
  const { rgb } = canvas;
  for (let i = 0; i < rgb.length; i++) rgb[i] += (rng() * 2 - 1) * amount;
}

/** Low-frequency paper or surface texture: brightness ± `amount`. */
function texture(canvas: Canvas, rng: Rng, amount: number, cells: number): void {
  const noise = valueNoise(rng, cells), n = canvas.size;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = (y * n + x) * 3, d = noise(x + 0.5, y + 0.5, n) * amount;
      canvas.rgb[i] += d;
      canvas.rgb[i + 1] += d;
      canvas.rgb[i + 2] += d;
    }
  }
}

/** Flat icon: clean fill, sometimes a darker border and a flat offset shadow. */
function paintIcon(canvas: Canvas, rng: Rng, scene: PaintScene, background: Background): void {
  const n = canvas.size, k = n / REFERENCE_SIDE;
  canvas.fill(background.rgb);
  const fill = jitterColour(rng, COLOUR_VALUES[scene.colour], 8);
  const border = rng() < 0.35 ? mix(fill, [0, 0, 0], 0.45) : null;
  const shadow = rng() < 0.3 ? mix(background.rgb, [0, 0, 0], 0.18) : null;
  for (const p of scene.placements) {
    const shape = place(n, scene.shape, p);
    if (shadow) {
      const offset = placeShape(scene.shape, shape.cx + 1.2 * k, shape.cy + 1.2 * k, shape.r, p.angle);
      forEachNear(n, offset, 1, (x, y, d) => canvas.blend(x, y, shadow, fillCoverage(d)));
    }
    forEachNear(n, shape, 1, (x, y, d) => {
      canvas.blend(x, y, fill, fillCoverage(d));
      if (border) canvas.blend(x, y, border, strokeCoverage(d + 0.6 * k, 1.1 * k) * fillCoverage(d));
    });
  }
  grain(canvas, rng, 2);
}

/** Outline drawing: the outline alone, in the shape colour. */
function paintOutline(canvas: Canvas, rng: Rng, scene: PaintScene, background: Background): void {
  const n = canvas.size, k = n / REFERENCE_SIDE;
  canvas.fill(background.rgb);
  texture(canvas, rng, 4, 4);
  const ink = jitterColour(rng, COLOUR_VALUES[scene.colour], 10);
  const width = (1.3 + rng() * 1.0) * k;
  for (const p of scene.placements) {
    forEachNear(
      n,
      place(n, scene.shape, p),
      width,
      (x, y, d) => canvas.blend(x, y, ink, strokeCoverage(d, width)),
    );
  }
  grain(canvas, rng, 3);
}

/** Points every `step` pixels along a closed polygon, starting at fraction `start` of its perimeter. */
function walkOutline(poly: Float64Array, step: number, start: number, laps: number): [number, number][] {
  const n = poly.length >> 1, lengths: number[] = [];
  let perimeter = 0;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    const len = Math.hypot(poly[2 * j] - poly[2 * i], poly[2 * j + 1] - poly[2 * i + 1]);
    lengths.push(len);
    perimeter += len;
  }
  const points: [number, number][] = [];
  const total = perimeter * laps, count = Math.max(8, Math.ceil(total / step));
  for (let s = 0; s <= count; s++) {
    let t = ((start * perimeter + (s / count) * total) % perimeter + perimeter) % perimeter;
    let i = 0;
    while (t > lengths[i] && i < n - 1) t -= lengths[i++];
    const j = (i + 1) % n, f = lengths[i] > 0 ? t / lengths[i] : 0;
    points.push([
      poly[2 * i] + (poly[2 * j] - poly[2 * i]) * f,
      poly[2 * i + 1] + (poly[2 * j + 1] - poly[2 * i + 1]) * f,
    ]);
  }
  return points;
}

/** Draws a polyline of `width` pixels into `mask` (`size × size`, coverage 0–1, kept at the maximum). */
function strokeInto(mask: Float32Array, size: number, points: [number, number][], width: number): void {
  const reach = width / 2 + 1;
  for (let s = 0; s + 1 < points.length; s++) {
    const [ax, ay] = points[s], [bx, by] = points[s + 1];
    const ex = bx - ax, ey = by - ay, ee = ex * ex + ey * ey || 1;
    const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - reach)),
      x1 = Math.min(size - 1, Math.ceil(Math.max(ax, bx) + reach));
    const y0 = Math.max(0, Math.floor(Math.min(ay, by) - reach)),
      y1 = Math.min(size - 1, Math.ceil(Math.max(ay, by) + reach));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const wx = x + 0.5 - ax, wy = y + 0.5 - ay;
        const t = Math.min(1, Math.max(0, (wx * ex + wy * ey) / ee));
        const c = strokeCoverage(Math.hypot(wx - ex * t, wy - ey * t), width);
        if (c > mask[y * size + x]) mask[y * size + x] = c;
      }
    }
  }
}

/** Hand-drawn sketch: wobbly overshooting strokes, often hatching inside. */
function paintSketch(canvas: Canvas, rng: Rng, scene: PaintScene, background: Background): void {
  const n = canvas.size, k = n / REFERENCE_SIDE;
  canvas.fill(background.rgb);
  texture(canvas, rng, 7, 5);
  const ink = jitterColour(rng, COLOUR_VALUES[scene.colour], 15);
  const marker = rng() < 0.35;
  const width = (marker ? 1.7 + rng() * 0.7 : 0.9 + rng() * 0.6) * k;
  const hatch = rng() < 0.55,
    hatchAngle = Math.PI / 4 + (rng() - 0.5) * 0.6,
    spacing = (2.6 + rng() * 0.9) * k;
  const opacity = 0.75 + rng() * 0.2;
  const mask = new Float32Array(n * n); // [size, size] stroke coverage
  for (const p of scene.placements) {
    const shape = place(n, scene.shape, p);
    const passes = 1 + (rng() < 0.6 ? 1 : 0);
    for (let pass = 0; pass < passes; pass++) {
      // a wobble of 0.45–1 px (at 40 px), less on small shapes so that they keep their corners
      const amp = (0.45 + rng() * 0.55) * k * Math.min(1, Math.max(0.6, shape.r / (9 * k)));
      const f1 = 2 + rng() * 3, f2 = 2 + rng() * 3;
      const ph1 = rng() * 2 * Math.PI, ph2 = rng() * 2 * Math.PI;
      const points = walkOutline(shape.poly, 1.2 * k, rng(), 1 + rng() * 0.15);
      const wobbly = points.map(([x, y], i): [number, number] => {
        const t = (i / points.length) * 2 * Math.PI;
        return [
          x + amp * Math.sin(f1 * t + ph1) + (rng() - 0.5) * 0.3 * k,
          y + amp * Math.sin(f2 * t + ph2) + (rng() - 0.5) * 0.3 * k,
        ];
      });
      strokeInto(mask, n, wobbly, width);
    }
    if (hatch) {
      const c = Math.cos(hatchAngle), s = Math.sin(hatchAngle);
      forEachNear(n, shape, 0, (x, y, d) => {
        const along = ((x + 0.5) * c + (y + 0.5) * s) / spacing;
        const stripe = strokeCoverage((along - Math.round(along)) * spacing, 0.8 * k);
        const c2 = stripe * fillCoverage(d + 0.6 * k) * 0.6;
        if (c2 > mask[y * n + x]) mask[y * n + x] = c2;
      });
    }
  }
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) canvas.blend(x, y, ink, mask[y * n + x] * opacity);
  grain(canvas, rng, 5);
}

/** Photo-like render: lit object, soft shadow, textured surface, uneven light, blur, sensor noise. */
function paintPhoto(canvas: Canvas, rng: Rng, scene: PaintScene, background: Background): void {
  const n = canvas.size, k = n / REFERENCE_SIDE;
  const lightAngle = rng() * 2 * Math.PI, lx = Math.cos(lightAngle), ly = Math.sin(lightAngle);
  canvas.fill(background.rgb);
  texture(canvas, rng, 10, 4);
  texture(canvas, rng, 5, 10);
  // uneven light: brighter towards the light, darker corners
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const u = (x + 0.5) / n - 0.5, v = (y + 0.5) / n - 0.5;
      canvas.scale(x, y, (1 + 0.3 * (u * lx + v * ly)) * (1 - 0.45 * (u * u + v * v)));
    }
  }
  const base = jitterColour(rng, COLOUR_VALUES[scene.colour], 10);
  const gloss = 0.25 + rng() * 0.5, shadowLength = (1.2 + rng() * 1.3) * k, softness = 1.3 * k;
  const shapes = scene.placements.map((p) => place(n, scene.shape, p));
  for (const shape of shapes) {
    // the shadow: the outline moved away from the light, with a soft edge
    const ox = -lx * shadowLength, oy = -ly * shadowLength;
    const poly = shape.poly.map((v, k) => v + (k % 2 === 0 ? ox : oy));
    forEachNear(n, { poly, cx: shape.cx + ox, cy: shape.cy + oy, r: shape.r }, 2 * softness, (x, y, d) => {
      const a = Math.min(1, Math.max(0, (softness - d) / (2 * softness))) * 0.45;
      if (a > 0) canvas.scale(x, y, 1 - a);
    });
  }
  for (const shape of shapes) {
    forEachNear(n, shape, 1, (x, y, d) => {
      const cover = fillCoverage(d);
      if (cover <= 0) return;
      const u = (x + 0.5 - shape.cx) / shape.r, v = (y + 0.5 - shape.cy) / shape.r;
      const diffuse = Math.min(1.15, Math.max(0.55, 0.85 + 0.3 * (u * lx + v * ly)));
      const bevel = 0.72 + 0.28 * Math.min(1, -d / (0.35 * shape.r));
      const hx = u - 0.45 * lx, hy = v - 0.45 * ly;
      const highlight = gloss * Math.exp(-(hx * hx + hy * hy) / 0.06);
      const colour = base.map((c) => {
        const lit = c * diffuse * Math.max(0, bevel);
        return lit + (255 - lit) * highlight;
      }) as unknown as Rgb;
      canvas.blend(x, y, colour, cover);
    });
  }
  // camera: white balance, exposure, lens blur, sensor noise (luminance + a little colour)
  const warm = (rng() - 0.5) * 0.14, exposure = 0.9 + rng() * 0.2, sigma = 3 + rng() * 5;
  const gains = [exposure * (1 + warm), exposure, exposure * (1 - warm)];
  const { rgb } = canvas;
  for (let i = 0; i < rgb.length; i++) rgb[i] *= gains[i % 3];
  canvas.blur(rng() < 0.6 ? 0.3 + rng() * 0.7 : 0);
  for (let i = 0; i < rgb.length; i += 3) {
    const luma = roughNormal(rng) * sigma;
    rgb[i] += luma + roughNormal(rng) * sigma * 0.35;
    rgb[i + 1] += luma + roughNormal(rng) * sigma * 0.35;
    rgb[i + 2] += luma + roughNormal(rng) * sigma * 0.35;
  }
}

/** Snaps a colour to the 6-level palette (0, 51, …, 255 per channel). */
const palette = (c: Rgb): Rgb => c.map((v) => Math.round(v / 51) * 51) as unknown as Rgb;

/** Pixel art or mosaic: a coarse grid of hard-edged cells. */
function paintPixel(canvas: Canvas, rng: Rng, scene: PaintScene, background: Background): void {
  const n = canvas.size, cell = Math.max(2, Math.round(n / 20)), grid = Math.ceil(n / cell);
  const mosaic = rng() < 0.4, outline = !mosaic && rng() < 0.75, highlight = !mosaic && rng() < 0.5;
  const checker = !mosaic && rng() < 0.3;
  const fill = palette(COLOUR_VALUES[scene.colour]), bg = palette(background.rgb);
  const shapes = scene.placements.map((p) => place(n, scene.shape, p));
  const inside = new Uint8Array(grid * grid); // [grid, grid] 1 where the cell centre is inside a shape
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      const x = (gx + 0.5) * cell, y = (gy + 0.5) * cell;
      inside[gy * grid + gx] = shapes.some((s) => signedDistance(s.poly, x, y) < 0) ? 1 : 0;
    }
  }
  const at = (gx: number, gy: number) =>
    gx >= 0 && gy >= 0 && gx < grid && gy < grid && inside[gy * grid + gx] === 1;
  const dark = mix(fill, [0, 0, 0], 0.6), light = mix(fill, [255, 255, 255], 0.4);
  const cells: Rgb[] = [];
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      let colour: Rgb;
      if (at(gx, gy)) {
        colour = highlight && !at(gx - 1, gy - 1) && !at(gx - 1, gy) ? light : fill;
      } else if (outline && (at(gx - 1, gy) || at(gx + 1, gy) || at(gx, gy - 1) || at(gx, gy + 1))) {
        colour = dark;
      } else {
        colour = checker && (gx + gy) % 2 === 1 ? mix(bg, [0, 0, 0], 0.08) : bg;
      }
      cells.push(mosaic ? jitterColour(rng, colour, 14) : colour);
    }
  }
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const colour = cells[Math.floor(y / cell) * grid + Math.floor(x / cell)];
      const grout = mosaic && cell >= 3 && (x % cell === 0 || y % cell === 0);
      canvas.blend(x, y, grout ? mix(colour, [0, 0, 0], 0.3) : colour, 1);
    }
  }
  grain(canvas, rng, 2);
}

const PAINTERS: Record<
  Medium,
  (canvas: Canvas, rng: Rng, scene: PaintScene, background: Background) => void
> = {
  icon: paintIcon,
  outline: paintOutline,
  sketch: paintSketch,
  photo: paintPhoto,
  pixel: paintPixel,
};

/**
 * Paints `scene` in `medium` on `background` into `rgba` (`size × size × 4`), drawing from `rng`.
 *
 * @example
 * ```ts
 * import { chooseBackground, paintMedium } from "./media.ts";
 * import { mulberry32 } from "./random.ts";
 * const rng = mulberry32(5), rgba = new Uint8Array(40 * 40 * 4);
 * const scene = { colour: "red", shape: "star", placements: [{ x: 0.5, y: 0.5, radius: 0.3, angle: 0 }] } as const;
 * paintMedium("icon", rng, rgba, 40, scene, chooseBackground("icon", "red", rng));
 * rgba.subarray((20 * 40 + 20) * 4, (20 * 40 + 20) * 4 + 4); // → Uint8Array [223, 27, 33, 255]: the star's red
 * ```
 */
export function paintMedium(
  medium: Medium,
  rng: Rng,
  rgba: Uint8Array,
  size: number,
  scene: PaintScene,
  background: Background,
): void {
  const canvas = new Canvas(size);
  PAINTERS[medium](canvas, rng, scene, background);
  canvas.toRgba(rgba);
}
