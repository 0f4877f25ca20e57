/**
 * The demo's sample pictures (`models/samples/`): media-world test-split examples (`world.ts`), chosen to show
 * every shape and colour, some held-out (unseen in training) combinations, a count, and every medium at least
 * twice (scene `n` is drawn in medium `n mod 5` of {@link MEDIA}: icon, outline, sketch, photo, pixel, icon, …).
 * They are written as PNG with `labels.json` giving each one's class, medium, caption and the seed that
 * regenerates it.
 *
 * scene list → per scene: test examples `0, 1, …` of the seed, captioned without pixels (`worldCaption`), until
 * one shows that colour, shape, count (and a large single shape) → drawn at `size` in its medium → PNG.
 *
 * The shipped model sees 40 px pictures; the samples are drawn at 128 px (the media renderer draws at any size:
 * the same scene, sharper) so that a person can see them, and the model's preprocessing resizes them to 40.
 *
 * Run: `deno run -A src/data/samples.ts [--out models/samples] [--size 128]`.
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { encodePng } from "../image/pixels.ts";
import { writeAtomic } from "../fs.ts";
import { type Colour, exampleSeed, generateExample, type Shape } from "./shapes.ts";
import { MEDIA, type Medium, worldCaption } from "./world.ts";
import { ShapesWorldError } from "../errors.ts";

/** What the samples show: colour, shape, count; each is the first test example that matches in its medium. */
export const SAMPLE_SCENES: readonly { colour: Colour; shape: Shape; count: number }[] = [
  { colour: "red", shape: "circle", count: 1 },
  { colour: "orange", shape: "star", count: 1 },
  { colour: "yellow", shape: "triangle", count: 1 },
  { colour: "green", shape: "heart", count: 1 },
  { colour: "cyan", shape: "hexagon", count: 1 },
  { colour: "blue", shape: "square", count: 1 },
  { colour: "purple", shape: "diamond", count: 1 },
  { colour: "pink", shape: "cross", count: 1 },
  { colour: "black", shape: "star", count: 2 },
  { colour: "blue", shape: "circle", count: 1 }, // held out
  { colour: "red", shape: "square", count: 1 }, // held out
  { colour: "purple", shape: "star", count: 1 }, // held out
];

/**
 * The medium sample `index` (0-based) is drawn in: the media in turn.
 *
 * @example
 * ```ts
 * import { sampleMedium } from "./samples.ts";
 * [0, 1, 4, 5, 11].map(sampleMedium); // → ["icon", "outline", "pixel", "icon", "outline"]
 * ```
 */
export function sampleMedium(index: number): Medium {
  return MEDIA[index % MEDIA.length];
}

/** Default seed, image side and folder of the samples. */
export const SAMPLES_SEED = 2024;
export const SAMPLES_SIZE = 128;
export const SAMPLES_DIR = "models/samples";
/** Test-split examples searched per scene before giving up. */
const SEARCH_LIMIT = 100_000;

/** One sample as `labels.json` lists it. */
export interface SampleLabel {
  /** PNG file name inside the samples folder. */
  file: string;
  /** Class name, as in `classNames("combo")`: `"red circle"`. */
  label: string;
  /** The medium it is drawn in. */
  medium: Medium;
  /** The background's name (`media.json`), e.g. `"white"`, `"wood"`. */
  background: string;
  /** Its alt-text caption (the kind of text the model was trained on). */
  caption: string;
  colour: Colour;
  shape: Shape;
  count: number;
  /** Whether the colour–shape combination never appears in training. */
  heldOut: boolean;
  /** `generateExample(seed, { size, split: "test", medium })` redraws this picture byte for byte. */
  seed: number;
}

/** `labels.json`: how the samples were made and what each shows. */
export interface SampleLabels {
  generator: string;
  size: number;
  split: "test";
  samples: SampleLabel[];
}

/**
 * Finds, draws and writes the {@link SAMPLE_SCENES} as PNG files plus `labels.json` in `dir`.
 *
 * @example
 * ```ts
 * import { writeSamples } from "./samples.ts";
 * const labels = await writeSamples(await Deno.makeTempDir()); // the shipped models/samples, written again
 * labels.samples[9];
 * // → { file: "10_blue_circle.png", label: "blue circle", medium: "pixel", background: "grey",
 * //     caption: "here's a royal blue ball", colour: "blue", shape: "circle", count: 1, heldOut: true,
 * //     seed: 1567913210 }
 * ```
 */
export async function writeSamples(
  dir: string,
  options: { seed?: number; size?: number } = {},
): Promise<SampleLabels> {
  const seed = options.seed ?? SAMPLES_SEED, size = options.size ?? SAMPLES_SIZE;
  await Deno.mkdir(dir, { recursive: true });
  const samples: SampleLabel[] = [];
  for (const [n, want] of SAMPLE_SCENES.entries()) {
    const medium = sampleMedium(n);
    let found: SampleLabel | null = null;
    for (let i = 0; i < SEARCH_LIMIT && found === null; i++) {
      const exSeed = exampleSeed(seed, "test", i);
      const scene = worldCaption(exSeed, "all", medium); // no pixels: cheap to search
      if (scene.colour !== want.colour || scene.shape !== want.shape || scene.count !== want.count) continue;
      if (scene.count === 1 && scene.scale !== "large") continue;
      const ex = generateExample(exSeed, { size, split: "test", medium });
      const file = `${String(n + 1).padStart(2, "0")}_${ex.colour}_${ex.shape}.png`;
      await writeAtomic(join(dir, file), encodePng(size, size, ex.rgba));
      found = {
        file,
        label: `${ex.colour} ${ex.shape}`,
        medium,
        background: ex.background!,
        caption: ex.caption,
        colour: ex.colour,
        shape: ex.shape,
        count: ex.count,
        heldOut: ex.heldOut,
        seed: exSeed,
      };
    }
    if (found === null) {
      throw new ShapesWorldError(
        `no test example shows ${want.count} ${want.colour} ${want.shape} in ${SEARCH_LIMIT} tries`,
        { fix: "pick a scene the generator draws (count 1–3, a colour in COLOURS, a shape in SHAPES)" },
      );
    }
    samples.push(found);
  }
  const labels: SampleLabels = {
    generator: "src/data/samples.ts (the media world, src/data/world.ts)",
    size,
    split: "test",
    samples,
  };
  await writeAtomic(
    join(dir, "labels.json"),
    new TextEncoder().encode(JSON.stringify(labels, null, 2) + "\n"),
  );
  return labels;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string", default: SAMPLES_DIR },
      size: { type: "string", default: String(SAMPLES_SIZE) },
      seed: { type: "string", default: String(SAMPLES_SEED) },
    },
  });
  const labels = await writeSamples(values.out, { size: Number(values.size), seed: Number(values.seed) });
  for (const s of labels.samples) {
    console.log(
      `${s.file.padEnd(22)} ${s.medium.padEnd(7)} ${s.heldOut ? "unseen" : "seen  "}  ${s.caption}`,
    );
  }
  console.log(`wrote ${labels.samples.length} samples and labels.json to ${values.out}`);
}
