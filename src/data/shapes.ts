/**
 * The synthetic captioned-shapes world that clipkit's tiny CLIP is trained on.
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
 *
 * @example
 * ```ts
 * import { generateBatch } from "./shapes.ts";
 * const step = 3;
 * const batch = generateBatch(1, 128, { split: "train", offset: step * 128 }); // 32×32 by default
 * batch.pixels.length; // → 393216 ([128, 3, 32, 32], CLIP-normalised)
 * generateBatch(1, 1).captions; // → ["a big yellow hexagon"]
 * ```
 * @module
 */

import { addNoise, drawShape, fillBackground, type Rgb, type Shape, SHAPE_REACH, SHAPES } from "./draw.ts";
import { caption, COUNTS, type Position, POSITIONS, type Scale, SCALES } from "./captions.ts";
import { mixSeeds, mulberry32, pick, type Rng } from "./random.ts";
import { ShapesWorldError } from "../errors.ts";
import { CLIP_MEAN, CLIP_STD } from "../constants.ts";
import { normalizePixels } from "../image/preprocess.ts";

export { SHAPES };
export type { Position, Scale, Shape };
export { COUNTS, POSITIONS, SCALES };

/** The named colours, in class-index order, with the sRGB value each is drawn around. */
export const COLOUR_VALUES = {
  red: [220, 30, 30],
  orange: [255, 140, 0],
  yellow: [245, 220, 30],
  green: [30, 170, 50],
  cyan: [0, 200, 220],
  blue: [30, 70, 230],
  purple: [140, 50, 200],
  pink: [255, 120, 190],
  white: [245, 245, 245],
  black: [20, 20, 20],
} as const satisfies Record<string, Rgb>;

/** One of {@link COLOURS}. */
export type Colour = keyof typeof COLOUR_VALUES;

/** The colour names, in class-index order. */
export const COLOURS: readonly Colour[] = Object.keys(COLOUR_VALUES) as Colour[];

/**
 * Colour–shape combinations that never appear in the training split (one per colour, every
 * shape at least once: 10 of 80 = 12.5%).
 */
export const HELD_OUT: readonly (readonly [Colour, Shape])[] = [
  ["red", "square"],
  ["orange", "hexagon"],
  ["yellow", "diamond"],
  ["green", "triangle"],
  ["cyan", "cross"],
  ["blue", "circle"],
  ["purple", "star"],
  ["pink", "heart"],
  ["white", "square"],
  ["black", "hexagon"],
];

/** The data splits; each draws from its own stream of the seed. */
export const SPLITS = ["train", "validation", "test"] as const;
/** One of {@link SPLITS}. */
export type Split = typeof SPLITS[number];

/** Which colour–shape combinations an example may show. */
export type ComboSet = "seen" | "unseen" | "all";

/** Image side used to train the tiny CLIP (patch 8 → 4×4 patches). */
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

/** Seed salt of each split, so splits never share a stream. */
const SPLIT_SALT: Record<Split, number> = { train: 0x7472, validation: 0x76616c, test: 0x74657374 };

/** Options of {@link generateExample} and {@link generateBatch}. */
export interface ExampleOptions {
  /** Image side in pixels (default {@link TRAIN_IMAGE_SIZE}, 32); any size ≥ 8 works. */
  size?: number;
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
  caption: string;
  colour: Colour;
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
}

const HELD_OUT_INDICES = new Set(
  HELD_OUT.map(([colour, shape]) => COLOURS.indexOf(colour) * SHAPES.length + SHAPES.indexOf(shape)),
);

/**
 * Whether a colour–shape combination is held out of training.
 *
 * @example
 * ```ts
 * import { isHeldOut } from "./shapes.ts";
 * isHeldOut("blue", "circle"); // → true
 * isHeldOut("red", "circle"); // → false
 * ```
 */
export function isHeldOut(colour: Colour, shape: Shape): boolean {
  return HELD_OUT_INDICES.has(COLOURS.indexOf(colour) * SHAPES.length + SHAPES.indexOf(shape));
}

/** Combo indices (`colourIndex × 8 + shapeIndex`) of each combo set, ascending. */
const COMBO_INDICES: Record<ComboSet, readonly number[]> = (() => {
  const all = Array.from({ length: COLOURS.length * SHAPES.length }, (_, i) => i);
  return {
    all,
    seen: all.filter((i) => !HELD_OUT_INDICES.has(i)),
    unseen: all.filter((i) => HELD_OUT_INDICES.has(i)),
  };
})();

/** A zero-shot task over the shapes world. */
export type ShapesTask = "colour" | "shape" | "combo" | "seen" | "unseen" | "count";

/**
 * Class names for a zero-shot task, in class-index order:
 * - `"colour"` (10): `"red"`, …; index = `example.colourIndex`
 * - `"shape"` (8): `"circle"`, …; index = `example.shapeIndex`
 * - `"combo"` (80): `"red circle"`, …, colour-major; index = `example.comboIndex`
 * - `"seen"` (70) / `"unseen"` (10): the combo names split by {@link HELD_OUT}, ascending combo
 *   index (the "unseen, 80-way" score classifies unseen images against all 80 `"combo"`s)
 * - `"count"` (3): `"one"`, `"two"`, `"three"`; index = `example.count - 1`
 *
 * @example
 * ```ts
 * import { classNames } from "./shapes.ts";
 * classNames("combo").length; // → 80
 * classNames("combo")[1]; // → "red square"
 * classNames("unseen");
 * // → ["red square", "orange hexagon", "yellow diamond", "green triangle", "cyan cross", "blue circle", "purple star",
 * //    "pink heart", "white square", "black hexagon"]
 * ```
 */
export function classNames(task: ShapesTask): string[] {
  const comboName = (i: number) => `${COLOURS[Math.floor(i / SHAPES.length)]} ${SHAPES[i % SHAPES.length]}`;
  switch (task) {
    case "colour":
      return [...COLOURS];
    case "shape":
      return [...SHAPES];
    case "count":
      return [...COUNTS];
    case "combo":
      return COMBO_INDICES.all.map(comboName);
    case "seen":
    case "unseen":
      return COMBO_INDICES[task].map(comboName);
    default:
      throw new ShapesWorldError(`unknown shapes task ${JSON.stringify(task)}`, {
        fix: 'use "colour", "shape", "combo", "seen", "unseen" or "count"',
      });
  }
}

/**
 * The seed of example `index` of `split` under `seed`: the stream {@link generateBatch} uses.
 *
 * @example
 * ```ts
 * import { exampleSeed, generateBatch, generateExample } from "./shapes.ts";
 * const a = generateExample(exampleSeed(1, "test", 5), { split: "test" });
 * const b = generateBatch(1, 8, { split: "test" }).examples[5]; // same colour, shape, caption
 * ```
 */
export function exampleSeed(seed: number, split: Split, index: number): number {
  return mixSeeds(seed, SPLIT_SALT[split], index);
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
  const size = options.size ?? TRAIN_IMAGE_SIZE;
  if (!Number.isInteger(size) || size < 8) {
    throw new ShapesWorldError(`image size must be an integer ≥ 8 pixels, got ${size}`, {
      fix: "pass e.g. size: 32 (the training size) or 224",
    });
  }
  return { size, split, combos };
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

/** Draws one example into `rgba` (`size × size × 4`) and returns what it shows. */
function drawExample(rng: Rng, rgba: Uint8Array, size: number, combos: ComboSet): Omit<Example, "rgba"> {
  const scene = drawScene(rng, combos);
  paintScene(rng, rgba, size, scene);
  return { size, ...scene };
}

/**
 * Generates one captioned picture. `source` is a seed (a fresh mulberry32 stream) or an
 * {@link Rng} that the example draws from (and advances).
 *
 * @example
 * ```ts
 * import { generateExample } from "./shapes.ts";
 * const ex = generateExample(7, { size: 64, split: "test", combos: "unseen" });
 * ex.rgba.length; // → 16384 (64 × 64 × 4)
 * ex.heldOut; // → true
 * ex.caption; // → "a picture of a red square near the bottom"
 * ```
 */
export function generateExample(source: number | Rng, options: ExampleOptions = {}): Example {
  const { size, combos } = checkOptions(options);
  const rng = typeof source === "number" ? mulberry32(source) : source;
  const rgba = new Uint8Array(size * size * 4);
  return { rgba, ...drawExample(rng, rgba, size, combos) };
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
  std?: readonly number[];
}

/** A batch of examples with their pixels in one float array. */
export interface Batch {
  /** `[n, 3, size, size]` (nchw) or `[n, size, size, 3]` (nhwc) normalised float32 pixels. */
  pixels: Float32Array;
  /** Dimensions of `pixels`. */
  shape: [number, number, number, number];
  captions: string[];
  /** Per example labels: index in {@link COLOURS}, {@link SHAPES}, `classNames("combo")`. */
  colourIndex: Int32Array;
  shapeIndex: Int32Array;
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
  const { size, split, combos } = checkOptions(options);
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
    const example = drawExample(mulberry32(exampleSeed(seed, split, offset + k)), rgba, size, combos);
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
  const { split, combos } = checkOptions(options);
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
    scenes.push(drawScene(mulberry32(exampleSeed(seed, split, offset + k)), combos));
  }
  return scenes;
}
