/**
 * Natural captions for the shapes world: phrasings as data, filled from a scene's attributes.
 *
 * Every caption names the colour and the shape (plural for two or three); size and position are
 * mentioned in some phrasings and left out in others, as people do.
 * @module
 */

import { pick, type Rng } from "./random.ts";

/** Where a single shape sits in the picture. */
export const POSITIONS = ["left", "right", "top", "bottom", "centre"] as const;
/** One of {@link POSITIONS}. */
export type Position = typeof POSITIONS[number];

/** How big a single shape is. */
export const SCALES = ["small", "large"] as const;
/** One of {@link SCALES}. */
export type Scale = typeof SCALES[number];

/** How many shapes a picture holds, as words (index 0 is one). */
export const COUNTS = ["one", "two", "three"] as const;

/** What a caption describes. */
export interface CaptionScene {
  colour: string;
  shape: string;
  /** 1, 2 or 3. */
  count: number;
  /** Size of a single shape; several shapes are always small. */
  scale: Scale;
  /** Position of a single shape; `null` when there are several. */
  position: Position | null;
}

/** Words for each size. */
const SCALE_WORDS: Record<Scale, readonly string[]> = {
  small: ["small", "little", "tiny"],
  large: ["large", "big"],
};

/** Phrases for each position. */
const WHERE_PHRASES: Record<Position, readonly string[]> = {
  left: ["on the left", "at the left", "to the left"],
  right: ["on the right", "at the right", "to the right"],
  top: ["at the top", "near the top", "in the upper part"],
  bottom: ["at the bottom", "near the bottom", "in the lower part"],
  centre: ["in the centre", "in the middle", "in the center"],
};

/** Phrasings for one shape: `{scale}`, `{colour}`, `{shape}`, `{where}`; "a" becomes "an" where needed. */
const SINGLE_PHRASINGS = [
  "a {scale} {colour} {shape} {where}",
  "a {colour} {shape} {where}",
  "there is a {colour} {shape} {where}",
  "there is a {scale} {colour} {shape} {where}",
  "a {scale} {colour} {shape}",
  "a {colour} {shape}",
  "a picture of a {scale} {colour} {shape}",
  "a picture of a {colour} {shape} {where}",
  "an image of a {colour} {shape} {where}",
  "a drawing of a {scale} {colour} {shape}",
  "{where}, a {colour} {shape}",
  "one {scale} {colour} {shape} on a noisy background",
  "a {colour} {shape} on a noisy background",
  "the {shape} is {colour} and {scale}",
] as const;

/** Phrasings for two or three shapes: `{count}`, `{colour}`, `{shapes}` (plural). */
const MULTIPLE_PHRASINGS = [
  "{count} {colour} {shapes}",
  "{count} small {colour} {shapes}",
  "there are {count} {colour} {shapes}",
  "a picture of {count} {colour} {shapes}",
  "an image with {count} {colour} {shapes}",
  "a drawing of {count} small {colour} {shapes}",
  "{count} {colour} {shapes} on a noisy background",
] as const;

/** Plural of a shape name. */
export function plural(shape: string): string {
  return /(s|x|ch|sh)$/.test(shape) ? `${shape}es` : `${shape}s`;
}

/** Replaces each `{key}` in `pattern` and turns "a" before a vowel into "an". */
function fill(pattern: string, words: Record<string, string>): string {
  const text = pattern.replace(/\{(\w+)\}/g, (_, key: string) => words[key]);
  return text.replace(/\ba (?=[aeiou])/g, "an ");
}

/**
 * A natural caption for `scene`, its phrasing drawn from `rng`.
 *
 * @example
 * ```ts
 * import { caption } from "./captions.ts";
 * import { mulberry32 } from "./random.ts";
 * const scene = { colour: "orange", shape: "star", count: 1, scale: "small", position: "top" } as const;
 * caption(scene, mulberry32(3)); // → "near the top, an orange star"
 * caption({ ...scene, count: 2, position: null }, mulberry32(5)); // → "an image with two orange stars"
 * ```
 */
export function caption(scene: CaptionScene, rng: Rng): string {
  if (scene.count === 1) {
    const position = scene.position ?? "centre";
    return fill(pick(rng, SINGLE_PHRASINGS), {
      colour: scene.colour,
      shape: scene.shape,
      scale: pick(rng, SCALE_WORDS[scene.scale]),
      where: pick(rng, WHERE_PHRASES[position]),
    });
  }
  return fill(pick(rng, MULTIPLE_PHRASINGS), {
    count: COUNTS[scene.count - 1],
    colour: scene.colour,
    shapes: plural(scene.shape),
  });
}

/**
 * Every caption the generator can write for a scene with `colours` and `shapes` (the full
 * caption language, e.g. to learn a BPE vocabulary from or to check context lengths).
 *
 * @example
 * ```ts
 * import { allCaptions } from "./captions.ts";
 * allCaptions(["red"], ["circle"]).length; // → 266
 * ```
 */
export function allCaptions(colours: readonly string[], shapes: readonly string[]): string[] {
  const out: string[] = [];
  for (const colour of colours) {
    for (const shape of shapes) {
      for (const pattern of SINGLE_PHRASINGS) {
        for (const scale of SCALES) {
          for (const scaleWord of SCALE_WORDS[scale]) {
            for (const position of POSITIONS) {
              for (const where of WHERE_PHRASES[position]) {
                out.push(fill(pattern, { colour, shape, scale: scaleWord, where }));
              }
            }
          }
        }
      }
      for (const pattern of MULTIPLE_PHRASINGS) {
        for (const count of COUNTS.slice(1)) {
          out.push(fill(pattern, { count, colour, shapes: plural(shape) }));
        }
      }
    }
  }
  return [...new Set(out)];
}
