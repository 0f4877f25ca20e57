/**
 * The classes of the shapes world, shared by every medium: the named colours, the shapes, the
 * held-out colour–shape combinations, the splits, the zero-shot tasks' class names and the per-example
 * seed. A leaf module: the classic world (`shapes.ts`) and the media world (`world.ts`) both build on it.
 *
 * (seed, split, index) → {@link exampleSeed} → one PRNG stream per example → scene, caption, pixels.
 * @module
 */

import { type Rgb, type Shape, SHAPES } from "./draw.ts";
import { COUNTS } from "./captions.ts";
import { mixSeeds } from "./random.ts";
import { ShapesWorldError } from "../errors.ts";

export { SHAPES };
export type { Shape };

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

/** Seed salt of each split, so splits never share a stream. */
const SPLIT_SALT: Record<Split, number> = { train: 0x7472, validation: 0x76616c, test: 0x74657374 };

export const HELD_OUT_INDICES = new Set(
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
export const COMBO_INDICES: Record<ComboSet, readonly number[]> = (() => {
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
 *   index (the model card's "unseen, 80-way" score classifies unseen images against all 80 `"combo"`s)
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
