/**
 * The media world: one scene description (colour, shape, count, size, position, and where exactly each
 * shape sits) rendered in five media (`media.ts`: icon, outline, sketch, photo, pixel) with web-like
 * captions (`alt_text.ts`). Same classes, held-out combinations and splits as the classic world
 * (`classes.ts`), bigger shapes: 40 × 40 pictures ({@link WORLD_IMAGE_SIZE}), a single shape 14–25 px across
 * (the circle's diameter), two or three shapes 12.4–14 px each.
 *
 * example seed (`exampleSeed(seed, split, index)`) ─┬─ scene stream → combo, count, size, position, layout
 *                                                   ├─ medium stream ("mixed" only) → medium
 *                                                   ├─ render stream of the medium → background, pixels
 *                                                   └─ caption stream of the medium → alt text
 *
 * So the scene of an example is the same in every medium (paired data for distribution-shift studies), a
 * caption never depends on the image size, and any example regenerates alone, byte for byte.
 * `generateBatch(seed, n, { medium })` in `shapes.ts` is the usual way in; this module draws one example.
 * @module
 */

import type { Position, Scale } from "./captions.ts";
import { POSITIONS, SCALES } from "./captions.ts";
import { type Colour, COLOURS, COMBO_INDICES, type ComboSet, HELD_OUT_INDICES } from "./classes.ts";
import { type Shape, SHAPES } from "./draw.ts";
import { chooseBackground, MEDIA, type Medium, paintMedium, type Placement } from "./media.ts";
import { altText } from "./alt_text.ts";
import { OUTLINE_REACH } from "./render.ts";
import { mixSeeds, mulberry32, pick, type Rng } from "./random.ts";

export { MEDIA };
export type { Medium, Placement };

/** The media world's picture side: 40 px (patch 8 → 5 × 5 patches). */
export const WORLD_IMAGE_SIZE = 40;

/** A medium, or `"mixed"`: each example's medium drawn uniformly from its own stream. */
export type MediumChoice = Medium | "mixed";

/** Scene layout, as fractions of the picture side. */
const LAYOUT = {
  /** Radius of a single small / large shape (14–16 / 22–25 px across at 40 px, with the jitter). */
  radius: { small: 0.19, large: 0.29 },
  /** Radius of each of several shapes (12.4–14 px across at 40 px, with the jitter). */
  multipleRadius: 0.165,
  /** Random change of every radius, ± this fraction of it. */
  radiusJitter: 0.06,
  anchors: {
    left: [0.3, 0.5],
    right: [0.7, 0.5],
    top: [0.5, 0.3],
    bottom: [0.5, 0.7],
    centre: [0.5, 0.5],
  } as Record<Position, readonly [number, number]>,
  anchorJitter: 0.04,
  /** Largest turn of a shape, radians (±11°). */
  maxAngle: 0.2,
  /** Gap kept between several shapes' reach, fraction of the side. */
  gap: 0.02,
  placementTries: 200,
  /** Where two or three shapes go when random placement keeps overlapping (then shifted a little). */
  fallback: {
    2: [[0.28, 0.5], [0.72, 0.5]],
    3: [[0.27, 0.3], [0.73, 0.3], [0.5, 0.72]],
  } as Record<number, [number, number][]>,
} as const;

/** How likely one, two and three shapes are. */
const COUNT_WEIGHTS = [0.5, 0.25, 0.25] as const;

/** Stream salts: the medium choice, and each medium's render and caption streams. */
const SALT = { medium: 0x6d697864, render: 0x72656e64, caption: 0x63617074 } as const;

/** What a media-world example shows, in any medium. */
export interface WorldScene {
  colour: Colour;
  shape: Shape;
  count: number;
  /** Size of a single shape; several are `"small"`. */
  scale: Scale;
  /** Position of a single shape; `null` for several. */
  position: Position | null;
  colourIndex: number;
  shapeIndex: number;
  comboIndex: number;
  heldOut: boolean;
  /** Each shape's centre, radius (fractions of the side) and turn (radians). */
  placements: Placement[];
}

/** A scene as drawn in one medium, with its caption (no pixels). */
export interface WorldCaptioned extends WorldScene {
  medium: Medium;
  /** The background's name (`media.json`), e.g. `"white"`, `"wood"`. */
  background: string;
  caption: string;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const jitter = (rng: Rng, amount: number) => (rng() * 2 - 1) * amount;

/** Centres for `count` shapes of radius `r` that keep apart, as fractions of the side. */
function placeSeveral(rng: Rng, count: number, r: number): [number, number][] {
  const reach = r * OUTLINE_REACH, minGap = 2 * reach + LAYOUT.gap;
  const centres: [number, number][] = [];
  for (let tries = 0; centres.length < count && tries < LAYOUT.placementTries; tries++) {
    const x = reach + rng() * (1 - 2 * reach), y = reach + rng() * (1 - 2 * reach);
    if (centres.every(([cx, cy]) => Math.hypot(x - cx, y - cy) >= minGap)) centres.push([x, y]);
  }
  if (centres.length === count) return centres;
  const flip = rng() < 0.5, dx = jitter(rng, 0.015), dy = jitter(rng, 0.015);
  return LAYOUT.fallback[count].map(([x, y]) => [x + dx, (flip ? 1 - y : y) + dy]);
}

/**
 * The scene of the example whose seed is `exampleSeed` (the scene stream), drawn from `combos`.
 *
 * @example
 * ```ts
 * import { worldScene } from "./world.ts";
 * const s = worldScene(42, "all");
 * [s.colour, s.shape, s.count, s.placements.length]; // → ["purple", "circle", 1, 1]
 * ```
 */
export function worldScene(exampleSeed: number, combos: ComboSet): WorldScene {
  const rng = mulberry32(exampleSeed);
  const comboIndex = pick(rng, COMBO_INDICES[combos]);
  const colourIndex = Math.floor(comboIndex / SHAPES.length), shapeIndex = comboIndex % SHAPES.length;
  const roll = rng();
  const count = roll < COUNT_WEIGHTS[0] ? 1 : roll < COUNT_WEIGHTS[0] + COUNT_WEIGHTS[1] ? 2 : 3;
  const scale: Scale = count === 1 ? pick(rng, SCALES) : "small";
  const position: Position | null = count === 1 ? pick(rng, POSITIONS) : null;
  let placements: Placement[];
  if (count === 1) {
    const radius = LAYOUT.radius[scale] * (1 + jitter(rng, LAYOUT.radiusJitter));
    const [ax, ay] = LAYOUT.anchors[position ?? "centre"];
    const lo = radius * OUTLINE_REACH, hi = 1 - lo; // the whole shape stays inside the picture
    placements = [{
      x: clamp(ax + jitter(rng, LAYOUT.anchorJitter), lo, hi),
      y: clamp(ay + jitter(rng, LAYOUT.anchorJitter), lo, hi),
      radius,
      angle: jitter(rng, LAYOUT.maxAngle),
    }];
  } else {
    const radius = LAYOUT.multipleRadius * (1 + jitter(rng, LAYOUT.radiusJitter));
    placements = placeSeveral(rng, count, radius).map(([x, y]) => ({
      x,
      y,
      radius,
      angle: jitter(rng, LAYOUT.maxAngle),
    }));
  }
  return {
    colour: COLOURS[colourIndex],
    shape: SHAPES[shapeIndex],
    count,
    scale,
    position,
    colourIndex,
    shapeIndex,
    comboIndex,
    heldOut: HELD_OUT_INDICES.has(comboIndex),
    placements,
  };
}

/**
 * The medium an example is drawn in: `choice` itself, or for `"mixed"` one drawn from the example's medium
 * stream (uniform over {@link MEDIA}).
 *
 * @example
 * ```ts
 * import { mediumOf } from "./world.ts";
 * [mediumOf(1, "mixed"), mediumOf(3, "mixed"), mediumOf(3, "photo")]; // → ["icon", "outline", "photo"]
 * ```
 */
export function mediumOf(exampleSeed: number, choice: MediumChoice): Medium {
  if (choice !== "mixed") return choice;
  return MEDIA[Math.floor(mulberry32(mixSeeds(exampleSeed, SALT.medium))() * MEDIA.length)];
}

/** The render stream of an example in a medium (its first draw picks the background). */
const renderStream = (exampleSeed: number, medium: Medium) =>
  mulberry32(mixSeeds(exampleSeed, SALT.render, MEDIA.indexOf(medium)));

/**
 * Scene, medium, background and caption of an example, without pixels.
 *
 * @example
 * ```ts
 * import { worldCaption } from "./world.ts";
 * const c = worldCaption(42, "all", "pixel");
 * [c.background, c.caption]; // → ["white", "an image of a giant disc in purple"]
 * ```
 */
export function worldCaption(exampleSeed: number, combos: ComboSet, choice: MediumChoice): WorldCaptioned {
  const scene = worldScene(exampleSeed, combos);
  const medium = mediumOf(exampleSeed, choice);
  const background = chooseBackground(medium, scene.colour, renderStream(exampleSeed, medium));
  const captionRng = mulberry32(mixSeeds(exampleSeed, SALT.caption, MEDIA.indexOf(medium)));
  return {
    ...scene,
    medium,
    background: background.name,
    caption: altText(scene, medium, background, captionRng),
  };
}

/**
 * Draws the example whose seed is `exampleSeed` into `rgba` (`size × size × 4`) and returns what it shows.
 *
 * @example
 * ```ts
 * import { drawWorldExample } from "./world.ts";
 * const rgba = new Uint8Array(40 * 40 * 4);
 * const ex = drawWorldExample(42, rgba, 40, "all", "sketch");
 * [ex.medium, ex.background, ex.caption]; // → ["sketch", "white", "a violet circle down below #sketch"]
 * ```
 */
export function drawWorldExample(
  exampleSeed: number,
  rgba: Uint8Array,
  size: number,
  combos: ComboSet,
  choice: MediumChoice,
): WorldCaptioned {
  const captioned = worldCaption(exampleSeed, combos, choice);
  const rng = renderStream(exampleSeed, captioned.medium);
  const background = chooseBackground(captioned.medium, captioned.colour, rng); // the same first draw
  paintMedium(captioned.medium, rng, rgba, size, captioned, background);
  return captioned;
}
