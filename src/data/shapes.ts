/**
 * The synthetic captioned-shapes world that clipkit's tiny CLIPs are trained on.
 *
 * Each example is a square picture of one, two or three shapes of one colour on a noisy,
 * low-saturation background, with a natural caption ("a small red circle on the left",
 * "two blue squares", "there is a green star near the top").
 *
 * - 8 {@link SHAPES} × 10 {@link COLOURS} = 80 colour–shape combinations; the 10 in
 *   {@link HELD_OUT} (12.5%) never appear in the training split, so zero-shot accuracy on unseen
 *   combinations can be measured on the validation and test splits.
 * - Deterministic: example `index` of split `split` under `seed` is drawn from its own PRNG stream
 *   ({@link exampleSeed}), so any example can be regenerated alone, in any order, byte for byte.
 * - Splits: `"train"`, `"validation"` and `"test"` use different streams of the same seed.
 * - Media: the look above is the classic world (`medium: "classic"`, the default, what
 *   `models/tiny-clip-classic` was trained on). `medium: "icon" | "outline" | "sketch" | "photo" | "pixel"`
 *   draws the media world (`world.ts`: the same classes and splits, 40 px pictures with bigger shapes, web-like
 *   captions), and `"mixed"` draws each example in a medium of its own (what the shipped `models/tiny-clip` was
 *   trained on).
 *
 * @example
 * ```ts
 * import { generateBatch } from "./shapes.ts";
 * const step = 3;
 * const batch = generateBatch(1, 128, { split: "train", offset: step * 128 }); // 32×32 by default
 * batch.pixels.length; // → 393216 ([128, 3, 32, 32], CLIP-normalised)
 * generateBatch(1, 1).captions; // → ["a big yellow hexagon"]
 * generateBatch(1, 2, { medium: "mixed" }).shape; // → [2, 3, 40, 40] (the media world's size)
 * ```
 * @module
 */

import { addNoise, drawShape, fillBackground, type Rgb, type Shape, SHAPE_REACH, SHAPES } from "./draw.ts";
import { caption, COUNTS, type Position, POSITIONS, type Scale, SCALES } from "./captions.ts";
import { mulberry32, pick, type Rng } from "./random.ts";
import {
  type Colour,
  COLOUR_VALUES,
  COLOURS,
  COMBO_INDICES,
  type ComboSet,
  exampleSeed,
  HELD_OUT_INDICES,
  type Split,
  SPLITS,
} from "./classes.ts";
import { drawWorldExample, MEDIA, type MediumChoice, WORLD_IMAGE_SIZE, worldCaption } from "./world.ts";
import { ShapesWorldError } from "../errors.ts";
import { CLIP_MEAN, CLIP_STD } from "../constants.ts";
import { normalizePixels } from "../image/preprocess.ts";

export { SHAPES };
export type { Position, Scale, Shape };
export { COUNTS, POSITIONS, SCALES };
export type { Colour, ComboSet, ShapesTask, Split } from "./classes.ts";
export { classNames, COLOUR_VALUES, COLOURS, exampleSeed, HELD_OUT, isHeldOut, SPLITS } from "./classes.ts";

/** Image side of the classic world, used to train the classic tiny CLIP (patch 8 → 4×4 patches). */
export const TRAIN_IMAGE_SIZE = 32;

/** Scene layout, as fractions of the image side. */
const LAYOUT = {
  /** Radius of a single small / large shape. */
  radius: { small: 0.15, large: 0.26 },
  /** Radius of each of several shapes. */
  multipleRadius: 0.13,
  /** Random change of every radius, ± this fraction of it. */
  radiusJitter: 0.1,
  /** Where a single shape's centre sits, before jitter. */
  anchors: {
    left: [0.3, 0.5],
    right: [0.7, 0.5],
    top: [0.5, 0.3],
    bottom: [0.5, 0.7],
    centre: [0.5, 0.5],
  } as Record<Position, readonly [number, number]>,
  /** Random shift of a single shape's centre, ± this fraction of the side. */
  anchorJitter: 0.05,
  /** Fixed places for several shapes when random placement keeps overlapping. */
  fallbackRow: [[0.2, 0.5], [0.5, 0.5], [0.8, 0.5]] as const,
  placementTries: 200,
} as const;

/** Background and colour randomness, in 0–255 units. */
const LOOK = {
  /** Background grey level range. */
  backgroundGrey: [80, 175] as const,
  /** Per-channel tint of the background, ± this much (keeps it low-saturation). */
  backgroundTint: 14,
  /** Per-channel change of the shape colour, ± this much. */
  colourJitter: 18,
  /** Per-pixel triangular noise amplitude over the whole image. */
  noise: 22,
} as const;

/** How likely one, two and three shapes are. */
const COUNT_WEIGHTS = [0.5, 0.25, 0.25] as const;

/** Which look an example has: the classic world, one medium of the media world, or a mix of them. */
export type WorldMedium = "classic" | MediumChoice;

/** Every value of {@link WorldMedium}. */
export const WORLD_MEDIA: readonly WorldMedium[] = ["classic", ...MEDIA, "mixed"];

/** Options of {@link generateExample} and {@link generateBatch}. */
export interface ExampleOptions {
  /**
   * Image side in pixels (default {@link TRAIN_IMAGE_SIZE}, 32, for the classic world and `WORLD_IMAGE_SIZE`, 40,
   * for the media); any size ≥ 8 works.
   */
  size?: number;
  /** The look: `"classic"` (default), a medium of the media world, or `"mixed"`. */
  medium?: WorldMedium;
  /** Split; `"train"` never shows {@link HELD_OUT} combinations. Default `"train"`. */
  split?: Split;
  /**
   * Which combinations to draw from. Default: `"seen"` for train, `"all"` for validation/test.
   * `"unseen"` (= the held-out ones) and `"all"` are refused for the train split.
   */
  combos?: ComboSet;
}

/** One generated picture and everything known about it. */
export interface Example {
  /** `size × size × 4` RGBA bytes, row-major, alpha 255. */
  rgba: Uint8Array;
  /** Image side in pixels. */
  size: number;
  /** The caption describing the picture. */
  caption: string;
  /** The shapes' colour. */
  colour: Colour;
  /** The kind of shape. */
  shape: Shape;
  /** 1, 2 or 3 shapes (all of the same colour and kind). */
  count: number;
  /** Size of a single shape; several shapes are always `"small"`. */
  scale: Scale;
  /** Position of a single shape; `null` for several. */
  position: Position | null;
  /** Index in {@link COLOURS}. */
  colourIndex: number;
  /** Index in {@link SHAPES}. */
  shapeIndex: number;
  /** `colourIndex × 8 + shapeIndex`: the index in `classNames("combo")`. */
  comboIndex: number;
  /** Whether the colour–shape combination is in {@link HELD_OUT}. */
  heldOut: boolean;
  /** Media world only: the medium it is drawn in. */
  medium?: (typeof MEDIA)[number];
  /** Media world only: the background's name (`media.json`). */
  background?: string;
  /** Media world only: each shape's centre and radius (fractions of the side) and turn (radians). */
  placements?: { x: number; y: number; radius: number; angle: number }[];
}

function checkOptions(options: ExampleOptions): Required<ExampleOptions> {
  const split = options.split ?? "train";
  if (!SPLITS.includes(split)) {
    throw new ShapesWorldError(`unknown split ${JSON.stringify(split)}`, {
      fix: 'use "train", "validation" or "test"',
    });
  }
  const combos = options.combos ?? (split === "train" ? "seen" : "all");
  if (!(combos in COMBO_INDICES)) {
    throw new ShapesWorldError(`unknown combos ${JSON.stringify(combos)}`, {
      fix: 'use "seen", "unseen" or "all"',
    });
  }
  if (split === "train" && combos !== "seen") {
    throw new ShapesWorldError(`combos "${combos}" would put held-out combinations in the train split`, {
      fix: 'use split "validation" or "test" to draw them',
    });
  }
  const medium = options.medium ?? "classic";
  if (!WORLD_MEDIA.includes(medium)) {
    throw new ShapesWorldError(`unknown medium ${JSON.stringify(medium)}`, {
      fix: `use one of ${WORLD_MEDIA.map((m) => `"${m}"`).join(", ")}`,
    });
  }
  const size = options.size ?? (medium === "classic" ? TRAIN_IMAGE_SIZE : WORLD_IMAGE_SIZE);
  if (!Number.isInteger(size) || size < 8) {
    throw new ShapesWorldError(`image size must be an integer ≥ 8 pixels, got ${size}`, {
      fix: "pass e.g. size: 32 (the training size) or 224",
    });
  }
  return { size, split, combos, medium };
}

const clampByte = (value: number) => (value < 0 ? 0 : value > 255 ? 255 : Math.round(value));
const jitter = (rng: Rng, amount: number) => (rng() * 2 - 1) * amount;

/** Centres (in pixels) for `count` shapes of radius `r` that do not overlap. */
function placeSeveral(rng: Rng, size: number, count: number, r: number): [number, number][] {
  const margin = r * SHAPE_REACH + 0.5, minGap = 2 * r * SHAPE_REACH + 1;
  const centres: [number, number][] = [];
  for (let tries = 0; centres.length < count && tries < LAYOUT.placementTries; tries++) {
    const x = margin + rng() * (size - 2 * margin), y = margin + rng() * (size - 2 * margin);
    if (centres.every(([cx, cy]) => Math.hypot(x - cx, y - cy) >= minGap)) centres.push([x, y]);
  }
  if (centres.length === count) return centres;
  return LAYOUT.fallbackRow.slice(0, count).map(([fx, fy]) => [fx * size, fy * size]);
}

/** What an example shows, without its pixels (and without the image size). */
export type Scene = Omit<Example, "rgba" | "size">;

/**
 * Draws a scene and its caption from `rng`: these are the stream's first draws, so an example's
 * scene and caption are the same at every image size.
 */
function drawScene(rng: Rng, combos: ComboSet): Scene {
  const comboIndex = pick(rng, COMBO_INDICES[combos]);
  const colourIndex = Math.floor(comboIndex / SHAPES.length), shapeIndex = comboIndex % SHAPES.length;
  const colour = COLOURS[colourIndex], shape = SHAPES[shapeIndex];
  const roll = rng();
  const count = roll < COUNT_WEIGHTS[0] ? 1 : roll < COUNT_WEIGHTS[0] + COUNT_WEIGHTS[1] ? 2 : 3;
  const scale: Scale = count === 1 ? pick(rng, SCALES) : "small";
  const position: Position | null = count === 1 ? pick(rng, POSITIONS) : null;
  const text = caption({ colour, shape, count, scale, position }, rng);
  return {
    caption: text,
    colour,
    shape,
    count,
    scale,
    position,
    colourIndex,
    shapeIndex,
    comboIndex,
    heldOut: HELD_OUT_INDICES.has(comboIndex),
  };
}

/** Paints `scene` into `rgba` (`size × size × 4`): background, shapes, noise. */
function paintScene(rng: Rng, rgba: Uint8Array, size: number, scene: Scene): void {
  const grey = LOOK.backgroundGrey[0] + rng() * (LOOK.backgroundGrey[1] - LOOK.backgroundGrey[0]);
  const background: Rgb = [0, 1, 2].map(() => clampByte(grey + jitter(rng, LOOK.backgroundTint))) as never;
  const base = COLOUR_VALUES[scene.colour];
  const fill: Rgb = [0, 1, 2].map((c) => clampByte(base[c] + jitter(rng, LOOK.colourJitter))) as never;
  fillBackground(rgba, background);

  if (scene.count === 1) {
    const r = size * LAYOUT.radius[scene.scale] * (1 + jitter(rng, LAYOUT.radiusJitter));
    const [ax, ay] = LAYOUT.anchors[scene.position ?? "centre"];
    // keep the whole shape inside the picture: a large shape at the left sits a little further in
    const lo = r * SHAPE_REACH, hi = size - r * SHAPE_REACH;
    const cx = Math.min(hi, Math.max(lo, size * (ax + jitter(rng, LAYOUT.anchorJitter))));
    const cy = Math.min(hi, Math.max(lo, size * (ay + jitter(rng, LAYOUT.anchorJitter))));
    drawShape(rgba, size, scene.shape, cx, cy, r, fill);
  } else {
    const r = size * LAYOUT.multipleRadius * (1 + jitter(rng, LAYOUT.radiusJitter));
    for (const [cx, cy] of placeSeveral(rng, size, scene.count, r)) {
      drawShape(rgba, size, scene.shape, cx, cy, r, fill);
    }
  }
  addNoise(rgba, LOOK.noise, (rng() * 4294967296) >>> 0);
}

/**
 * Draws one example into `rgba` (`size × size × 4`) and returns what it shows. A media-world example needs
 * its seed (it draws from several streams of it); given a stream instead, its next draw becomes the seed.
 */
function drawExample(
  source: number | Rng,
  rgba: Uint8Array,
  size: number,
  combos: ComboSet,
  medium: WorldMedium,
): Omit<Example, "rgba"> {
  if (medium !== "classic") {
    const seed = typeof source === "number" ? source : (source() * 4294967296) >>> 0;
    return { size, ...drawWorldExample(seed, rgba, size, combos, medium) };
  }
  const rng = typeof source === "number" ? mulberry32(source) : source;
  const scene = drawScene(rng, combos);
  paintScene(rng, rgba, size, scene);
  return { size, ...scene };
}

/**
 * Generates one captioned picture. `source` is a seed (a fresh mulberry32 stream) or an
 * {@link Rng} that the example draws from (and advances). A media-world example (`medium` other than
 * `"classic"`) is drawn from several streams of its seed; given an {@link Rng}, its next draw is that seed.
 *
 * @example
 * ```ts
 * import { generateExample } from "./shapes.ts";
 * const ex = generateExample(7, { size: 64, split: "test", combos: "unseen" });
 * ex.rgba.length; // → 16384 (64 × 64 × 4)
 * ex.heldOut; // → true
 * ex.caption; // → "a picture of a red square near the bottom"
 * const sketch = generateExample(7, { split: "test", combos: "unseen", medium: "sketch" });
 * [sketch.size, sketch.background, sketch.caption]; // → [40, "white", "i see a red square"]
 * ```
 */
export function generateExample(source: number | Rng, options: ExampleOptions = {}): Example {
  const { size, combos, medium } = checkOptions(options);
  const rgba = new Uint8Array(size * size * 4);
  return { rgba, ...drawExample(source, rgba, size, combos, medium) };
}

/** Options of {@link generateBatch}. */
export interface BatchOptions extends ExampleOptions {
  /** Index of the first example in the split's stream (default 0): batch `k` of `n` uses `k × n`. */
  offset?: number;
  /** Pixel layout: `"nchw"` (default, ONNX `pixel_values`) or `"nhwc"` (TensorFlow.js conv2d). */
  layout?: "nchw" | "nhwc";
  /**
   * Per-channel mean and std, applied as `(byte / 255 − mean) / std` in float32 steps by `normalizePixels`, the
   * function `preprocess` uses; default CLIP's.
   */
  mean?: readonly number[];
  /** Per-channel std (see `mean`). */
  std?: readonly number[];
}

/** A batch of examples with their pixels in one float array. */
export interface Batch {
  /** `[n, 3, size, size]` (nchw) or `[n, size, size, 3]` (nhwc) normalised float32 pixels. */
  pixels: Float32Array;
  /** Dimensions of `pixels`. */
  shape: [number, number, number, number];
  /** One caption per example. */
  captions: string[];
  /** Per example labels: index in {@link COLOURS}, {@link SHAPES}, `classNames("combo")`. */
  colourIndex: Int32Array;
  /** Index in {@link SHAPES}. */
  shapeIndex: Int32Array;
  /** Index in `classNames("combo")`. */
  comboIndex: Int32Array;
  /** 1, 2 or 3 per example. */
  count: Int32Array;
  /** 1 where the example's combination is held out. */
  heldOut: Uint8Array;
  /** Everything about each example except its pixels. */
  examples: Omit<Example, "rgba">[];
}

/**
 * Generates `n` examples `offset … offset + n − 1` of a split, writing their pixels straight into
 * one normalised `Float32Array` (no per-image allocation). Same arguments → same bytes.
 *
 * @example
 * ```ts
 * import { generateBatch } from "./shapes.ts";
 * const val = generateBatch(1, 512, { split: "validation" });
 * val.shape; // → [512, 3, 32, 32]
 * val.captions[0]; // → "one small red circle on a noisy background"
 * val.heldOut.reduce((a, b) => a + b); // → 60 (≈ 12.5% of 512 are held-out combinations)
 * ```
 */
export function generateBatch(seed: number, n: number, options: BatchOptions = {}): Batch {
  const { size, split, combos, medium } = checkOptions(options);
  const offset = options.offset ?? 0, layout = options.layout ?? "nchw";
  const mean = options.mean ?? CLIP_MEAN, std = options.std ?? CLIP_STD;
  if (!Number.isInteger(n) || n < 0) {
    throw new ShapesWorldError(`batch size must be an integer ≥ 0, got ${n}`, {
      fix: "pass a whole number of examples",
    });
  }
  if (!Number.isInteger(offset) || offset < 0) {
    throw new ShapesWorldError(`offset must be an integer ≥ 0, got ${offset}`, {
      fix: "pass the index of the first example, 0 or more",
    });
  }
  if (layout !== "nchw" && layout !== "nhwc") {
    throw new ShapesWorldError(`unknown layout ${JSON.stringify(layout)}`, { fix: 'use "nchw" or "nhwc"' });
  }
  if (mean.length !== 3 || std.length !== 3 || std.some((s) => !(s > 0))) {
    throw new ShapesWorldError(
      `mean and std need 3 values each (R, G, B) with std > 0, got ${mean} / ${std}`,
      {
        fix: "pass e.g. CLIP_MEAN and CLIP_STD",
      },
    );
  }
  const plane = size * size;
  const pixels = new Float32Array(n * 3 * plane); // [n, 3, size, size] or [n, size, size, 3]
  const rgba = new Uint8Array(plane * 4);
  const batch: Batch = {
    pixels,
    shape: layout === "nchw" ? [n, 3, size, size] : [n, size, size, 3],
    captions: [],
    colourIndex: new Int32Array(n),
    shapeIndex: new Int32Array(n),
    comboIndex: new Int32Array(n),
    count: new Int32Array(n),
    heldOut: new Uint8Array(n),
    examples: [],
  };
  for (let k = 0; k < n; k++) {
    const example = drawExample(exampleSeed(seed, split, offset + k), rgba, size, combos, medium);
    // the RGBA drawing → example k's [3, size, size] (or [size, size, 3]), as `preprocess` normalises
    normalizePixels(rgba, plane, pixels, k * 3 * plane, {
      mean,
      std,
      channels: 4,
      layout: layout === "nchw" ? "chw" : "hwc",
    });
    batch.captions.push(example.caption);
    batch.colourIndex[k] = example.colourIndex;
    batch.shapeIndex[k] = example.shapeIndex;
    batch.comboIndex[k] = example.comboIndex;
    batch.count[k] = example.count;
    batch.heldOut[k] = example.heldOut ? 1 : 0;
    batch.examples.push(example);
  }
  return batch;
}

/**
 * The scenes and captions of examples `offset … offset + n − 1` of a split, without drawing any
 * pixels (fast): equal to `generateBatch(seed, n, options)`'s `captions` and `examples` at any size.
 * Use it for caption corpora, e.g. to learn the BPE vocabulary from the training split.
 *
 * @example
 * ```ts
 * import { generateCaptions } from "./shapes.ts";
 * generateCaptions(0, 3).map((s) => s.caption);
 * // → ["two cyan hexagons on a noisy background", "a drawing of three small white crosses", "a drawing of three small blue stars"]
 * ```
 */
export function generateCaptions(seed: number, n: number, options: BatchOptions = {}): Scene[] {
  const { split, combos, medium } = checkOptions(options);
  const offset = options.offset ?? 0;
  if (!Number.isInteger(n) || n < 0) {
    throw new ShapesWorldError(`count must be an integer ≥ 0, got ${n}`, {
      fix: "pass a whole number of captions",
    });
  }
  if (!Number.isInteger(offset) || offset < 0) {
    throw new ShapesWorldError(`offset must be an integer ≥ 0, got ${offset}`, {
      fix: "pass the index of the first example, 0 or more",
    });
  }
  const scenes: Scene[] = [];
  for (let k = 0; k < n; k++) {
    const s = exampleSeed(seed, split, offset + k);
    scenes.push(medium === "classic" ? drawScene(mulberry32(s), combos) : worldCaption(s, combos, medium));
  }
  return scenes;
}
