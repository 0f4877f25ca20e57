/**
 * The shapes world as a zero-shot evaluation suite: every (medium × task) pair is a dataset with its class
 * names, a validation and a test split, and a default template set (`src/zeroshot/templates/world/*.json`).
 * `evaluateSuite` measures a model on all of them the way the CLIP paper compares prompts: the bare class
 * name, "a photo of a {}.", the medium's engineered template, the ensemble of the whole set, and greedy
 * selection chosen on validation and reported on test (as the authors chose 7 of 80 templates on ImageNet).
 *
 * media (icon, outline, sketch, photo, pixel, classic) × tasks (colour, shape, seen, unseen, count)
 *   → per medium: validation and test pictures (seed, split, index → bytes), CLIP-preprocessed, embedded once
 *   → per dataset: analyzePrompts on validation (greedy choice) and on test (bare, single templates, ensemble)
 *   → classWeights of the greedy choice scored on test → one table row.
 * @module
 */

import { type ComboSet, exampleSeed, type Split } from "./classes.ts";
import { generateExample, TRAIN_IMAGE_SIZE, type WorldMedium } from "./shapes.ts";
import { MEDIA, WORLD_IMAGE_SIZE } from "./world.ts";
import { accuracyOf, classWeights, embedPrompts, type TextEncoderLike } from "../zeroshot/classifier.ts";
import { analyzePrompts, DEFAULT_GREEDY_SIZE } from "../zeroshot/prompt_analysis.ts";
import { parseTemplateFile } from "../zeroshot/templates.ts";
import { rememberingTextEncoder } from "../zeroshot/text_cache.ts";
import { Matrix } from "../math/matrix.ts";
import { normalize } from "../math/similarity.ts";
import { preprocessInto, type PreprocessOptions } from "../image/preprocess.ts";
import type { DecodedImage } from "../image/types.ts";
import { Progress } from "../model/progress.ts";
import { ShapesWorldError } from "../errors.ts";
import iconTemplates from "../zeroshot/templates/world/icon.json" with { type: "json" };
import outlineTemplates from "../zeroshot/templates/world/outline.json" with { type: "json" };
import sketchTemplates from "../zeroshot/templates/world/sketch.json" with { type: "json" };
import photoTemplates from "../zeroshot/templates/world/photo.json" with { type: "json" };
import pixelTemplates from "../zeroshot/templates/world/pixel.json" with { type: "json" };
import classicTemplates from "../zeroshot/templates/world/classic.json" with { type: "json" };

/** The suite's media: the five of the media world (what `models/tiny-clip` saw), then the classic world. */
export const SUITE_MEDIA = [...MEDIA, "classic"] as const;
/** One of {@link SUITE_MEDIA}. */
export type SuiteMedium = typeof SUITE_MEDIA[number];
/** The suite's tasks. `seen` / `unseen`: 80-way colour + shape on pictures of seen / held-out combinations. */
export const SUITE_TASKS = ["colour", "shape", "seen", "unseen", "count"] as const;
/** One of {@link SUITE_TASKS}. */
export type SuiteTask = typeof SUITE_TASKS[number];

/** The prompt CLIP's paper starts from. */
export const PHOTO_TEMPLATE = "a photo of a {}.";

/** One dataset of the suite. */
export interface SuiteDataset {
  /** `medium-task`, e.g. `"sketch-shape"`. */
  name: string;
  medium: SuiteMedium;
  task: SuiteTask;
  description: string;
  /** Class names in label order. */
  classes: string[];
  /** The default template set (the ensemble, and the pool greedy selection picks from). */
  templates: string[];
  /** The medium's engineered template (one of `templates`). */
  engineered: string;
  /** Native picture side: 40 for the media world, 32 for the classic world. */
  size: number;
}

const TEMPLATE_FILES: Record<SuiteMedium, unknown> = {
  icon: iconTemplates,
  outline: outlineTemplates,
  sketch: sketchTemplates,
  photo: photoTemplates,
  pixel: pixelTemplates,
  classic: classicTemplates,
};

/**
 * Every dataset of the suite (6 media × 5 tasks = 30), in table order.
 *
 * @example
 * ```ts
 * import { suiteDatasets } from "./suite.ts";
 * const all = suiteDatasets();
 * all.length; // → 30
 * const d = all.find((d) => d.name === "pixel-shape")!;
 * [d.classes.length, d.templates.length, d.engineered]; // → [8, 22, "pixel art of a {}."]
 * ```
 */
export function suiteDatasets(): SuiteDataset[] {
  return SUITE_MEDIA.flatMap((medium) => {
    const json = TEMPLATE_FILES[medium] as Record<string, { engineered: string; description: string }>;
    const sets = parseTemplateFile(json, medium, `src/zeroshot/templates/world/${medium}.json`);
    return SUITE_TASKS.map((task): SuiteDataset => {
      const name = `${medium}-${task}`, set = sets.find((s) => s.name === name);
      if (!set || !set.templates.includes(json[name].engineered)) {
        throw new ShapesWorldError(
          `template file of ${medium} lacks dataset ${name} or its engineered template`,
          {
            fix:
              `give src/zeroshot/templates/world/${medium}.json an entry "${name}" whose templates hold "engineered"`,
          },
        );
      }
      return {
        name,
        medium,
        task,
        description: json[name].description,
        classes: set.classes!.map(String),
        templates: set.templates,
        engineered: json[name].engineered,
        size: medium === "classic" ? TRAIN_IMAGE_SIZE : WORLD_IMAGE_SIZE,
      };
    });
  });
}

/**
 * The template pool of `task` over several media: every template of those media's datasets, in order, once each.
 * For pictures of mixed media (the demo's samples, `medium: "mixed"` batches), where no one medium's set fits.
 *
 * @example
 * ```ts
 * import { suiteTemplates } from "./suite.ts";
 * const all = suiteTemplates("seen"); // the five media of the media world
 * [all.length, suiteTemplates("seen", ["pixel"]).length, all.includes("a {}, 8-bit.")]; // → [25, 21, true]
 * ```
 */
export function suiteTemplates(task: SuiteTask, media: readonly SuiteMedium[] = MEDIA): string[] {
  const sets = suiteDatasets().filter((d) => d.task === task && media.includes(d.medium));
  return [...new Set(sets.flatMap((d) => d.templates))];
}

/** The pictures of one medium and split, with every label the tasks need. */
export interface SuiteImages {
  /** Each picture as an RGB-A image at the medium's native size. */
  images: DecodedImage[];
  colour: Int32Array;
  shape: Int32Array;
  combo: Int32Array;
  /** Count − 1 (the class index of the count task). */
  count: Int32Array;
  heldOut: Uint8Array;
}

/**
 * Examples `0 … n − 1` of `split` under `seed` in `medium`, drawn from `combos` (what the suite's pictures are:
 * `"all"` for colour, shape, seen and count; `"unseen"` for the unseen task).
 *
 * @example
 * ```ts
 * import { suiteImages } from "./suite.ts";
 * const v = suiteImages("photo", "validation", 4, { seed: 0, combos: "unseen" });
 * [v.images[0].width, v.heldOut.every((h) => h === 1)]; // → [40, true]
 * ```
 */
export function suiteImages(
  medium: SuiteMedium,
  split: Split,
  n: number,
  { seed = 0, combos = "all" }: { seed?: number; combos?: ComboSet } = {},
): SuiteImages {
  const out: SuiteImages = {
    images: [],
    colour: new Int32Array(n),
    shape: new Int32Array(n),
    combo: new Int32Array(n),
    count: new Int32Array(n),
    heldOut: new Uint8Array(n),
  };
  const look: WorldMedium = medium;
  for (let i = 0; i < n; i++) {
    const ex = generateExample(exampleSeed(seed, split, i), { split, combos, medium: look });
    out.images.push({ width: ex.size, height: ex.size, mode: "RGBA", data: ex.rgba, format: "RAW" });
    out.colour[i] = ex.colourIndex;
    out.shape[i] = ex.shapeIndex;
    out.combo[i] = ex.comboIndex;
    out.count[i] = ex.count - 1;
    out.heldOut[i] = ex.heldOut ? 1 : 0;
  }
  return out;
}

/** What {@link evaluateSuite} needs from a model: text for prompts, preprocessed pixels for pictures. */
export interface SuiteModel extends TextEncoderLike {
  /** Image side the vision tower takes. */
  readonly imageSize: number;
  readonly preprocessOptions: PreprocessOptions;
  encodeText(texts: string[], options?: { progress?: boolean }): Promise<Matrix>;
  encodePixels(pixels: Float32Array, options?: { progress?: boolean }): Promise<Matrix>;
}

/** Options of {@link evaluateSuite}. */
export interface SuiteOptions {
  /** Small splits (150 pictures, 50 unseen) for a quick look; default false (600 and 200). */
  quick?: boolean;
  /** Pictures per split for colour, shape, seen and count (overrides `quick`). */
  examples?: number;
  /** Pictures per split of held-out combinations for the unseen task (overrides `quick`). */
  unseenExamples?: number;
  /** Seed of the suite's splits (default 0). */
  seed?: number;
  /** Templates greedy selection picks on validation (default 7, as for CLIP's ImageNet). */
  greedySize?: number;
  /** Only these media / tasks (default all). */
  media?: readonly SuiteMedium[];
  tasks?: readonly SuiteTask[];
  /** Show a progress bar over the datasets (default true). */
  progress?: boolean;
}

/** One dataset's numbers: test top-1 accuracies (fractions) under each prompt choice. */
export interface SuiteRow {
  dataset: string;
  medium: SuiteMedium;
  task: SuiteTask;
  classes: number;
  validation: number;
  test: number;
  /** 1 / classes. */
  chance: number;
  /** The class name alone. */
  bare: number;
  /** `"a photo of a {}."` alone. */
  photo: number;
  /** The medium's engineered template alone. */
  engineered: number;
  engineeredTemplate: string;
  /** The whole default template set. */
  ensemble: number;
  /** The templates greedy selection chose on validation, scored on test. */
  greedy: number;
  /** Their validation accuracy (what selection saw). */
  greedyValidation: number;
  selected: string[];
  /** Per class: bare-name and ensemble accuracy on test (for the per-class view). */
  perClass: { label: string; bare: number; ensemble: number }[];
}

/** The suite's table: one row per dataset, and the mean of each column over the datasets. */
export interface SuiteTable {
  model: string;
  protocol: { seed: number; examples: number; unseenExamples: number; greedySize: number };
  rows: SuiteRow[];
  mean: { bare: number; photo: number; engineered: number; ensemble: number; greedy: number };
}

/** Preprocesses pictures as the model's pipeline does and embeds them: `[N, D]`. */
async function embedPictures(model: SuiteModel, images: DecodedImage[]): Promise<Matrix> {
  const chw = 3 * model.imageSize * model.imageSize;
  const pixels = new Float32Array(images.length * chw); // [N, 3, R, R]
  images.forEach((image, i) => preprocessInto(image, pixels, i * chw, model.preprocessOptions));
  return await model.encodePixels(pixels, { progress: false });
}

const rowsWhere = (m: Matrix, keep: (i: number) => boolean): Matrix => {
  const picked: number[] = [];
  for (let i = 0; i < m.rows; i++) if (keep(i)) picked.push(i);
  const out = new Float32Array(picked.length * m.cols); // [picked, D]
  picked.forEach((r, k) => out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), k * m.cols));
  return new Matrix(out, picked.length, m.cols);
};

/** The labels of a task and which pictures it scores, from the "all" and "unseen" pictures. */
function taskData(task: SuiteTask, all: SuiteImages, unseen: SuiteImages, eAll: Matrix, eUnseen: Matrix) {
  const pick = (labels: Int32Array, keep: (i: number) => boolean, e: Matrix) => ({
    images: rowsWhere(e, keep),
    labels: Int32Array.from(labels.filter((_, i) => keep(i))),
  });
  switch (task) {
    case "colour":
      return pick(all.colour, () => true, eAll);
    case "shape":
      return pick(all.shape, () => true, eAll);
    case "count":
      return pick(all.count, () => true, eAll);
    case "seen":
      return pick(all.combo, (i) => all.heldOut[i] === 0, eAll);
    case "unseen":
      return pick(unseen.combo, () => true, eUnseen);
  }
}

/**
 * Zero-shot accuracy of `model` on every dataset of the suite, under five prompt choices (see the module
 * notes). Pictures are embedded once per medium and split; prompts once per text.
 *
 * @example
 * ```ts
 * import { evaluateSuite, suiteTableText } from "./suite.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const table = await evaluateSuite(model, { quick: true, media: ["classic", "icon"], tasks: ["shape"] });
 * table.rows.map((r) => [r.dataset, r.bare, r.greedy]);
 * // → [["icon-shape", 0.7333333333333333, 0.7466666666666667], ["classic-shape", 0.42, 0.42]]
 * console.log(suiteTableText(table));
 * ```
 */
export async function evaluateSuite(model: SuiteModel, options: SuiteOptions = {}): Promise<SuiteTable> {
  const seed = options.seed ?? 0;
  const examples = options.examples ?? (options.quick ? 150 : 600);
  const unseenExamples = options.unseenExamples ?? (options.quick ? 50 : 200);
  const greedySize = options.greedySize ?? DEFAULT_GREEDY_SIZE;
  const media = options.media ?? SUITE_MEDIA, tasks = options.tasks ?? SUITE_TASKS;
  for (const m of media) {
    if (!SUITE_MEDIA.includes(m)) {
      throw new ShapesWorldError(`unknown suite medium ${JSON.stringify(m)}`, {
        fix: `use some of ${SUITE_MEDIA.join(", ")}`,
      });
    }
  }
  for (const t of tasks) {
    if (!SUITE_TASKS.includes(t)) {
      throw new ShapesWorldError(`unknown suite task ${JSON.stringify(t)}`, {
        fix: `use some of ${SUITE_TASKS.join(", ")}`,
      });
    }
  }
  for (const [name, n] of [["examples", examples], ["unseenExamples", unseenExamples]] as const) {
    if (!Number.isInteger(n) || n < 1) {
      throw new ShapesWorldError(`${name} must be a whole number ≥ 1, got ${n}`, { fix: "pass e.g. 150" });
    }
  }
  const text = rememberingTextEncoder(model);
  const datasets = suiteDatasets().filter((d) => media.includes(d.medium) && tasks.includes(d.task));
  const progress = new Progress(datasets.length, {
    label: "suite",
    unit: "datasets",
    output: options.progress === false ? "none" : "auto",
  });
  const rows: SuiteRow[] = [];
  for (const medium of SUITE_MEDIA.filter((m) => media.includes(m))) {
    const needsUnseen = tasks.includes("unseen");
    const splits = {} as Record<
      "validation" | "test",
      { all: SuiteImages; unseen: SuiteImages; eAll: Matrix; eUnseen: Matrix }
    >;
    for (const split of ["validation", "test"] as const) {
      const all = suiteImages(medium, split, examples, { seed, combos: "all" });
      const unseen = suiteImages(medium, split, needsUnseen ? unseenExamples : 0, { seed, combos: "unseen" });
      splits[split] = {
        all,
        unseen,
        eAll: await embedPictures(model, all.images),
        eUnseen: needsUnseen
          ? await embedPictures(model, unseen.images)
          : new Matrix(new Float32Array(0), 0, 1),
      };
    }
    for (const d of datasets.filter((d) => d.medium === medium)) {
      const s = (split: "validation" | "test") =>
        taskData(d.task, splits[split].all, splits[split].unseen, splits[split].eAll, splits[split].eUnseen);
      const validation = s("validation"), test = s("test");
      const pool = d.templates;
      const chosen = await analyzePrompts(text, d.classes, pool, {
        images: validation.images,
        labels: [...validation.labels],
      }, { greedySize, cache: false });
      const probes = [...new Set([...pool, PHOTO_TEMPLATE, d.engineered])];
      const onTest = await analyzePrompts(text, d.classes, probes, {
        images: test.images,
        labels: [...test.labels],
      }, { greedySize: 0, cache: false });
      const alone = (t: string) => onTest.perTemplate.find((p) => p.template === t)!.accuracy;
      const prompts = await embedPrompts(text, d.classes, pool, { cache: false });
      const testImages = normalize(test.images);
      const ensemble = accuracyOf(classWeights(prompts), testImages, test.labels);
      const selectedIdx = chosen.selected.map((t) => pool.indexOf(t));
      const greedy = accuracyOf(classWeights(prompts, selectedIdx), testImages, test.labels);
      rows.push({
        dataset: d.name,
        medium: d.medium,
        task: d.task,
        classes: d.classes.length,
        validation: validation.labels.length,
        test: test.labels.length,
        chance: 1 / d.classes.length,
        bare: onTest.bare,
        photo: alone(PHOTO_TEMPLATE),
        engineered: alone(d.engineered),
        engineeredTemplate: d.engineered,
        ensemble,
        greedy,
        greedyValidation: chosen.greedy.at(-1)?.accuracy ?? NaN,
        selected: chosen.selected,
        perClass: onTest.perClassGains.map((c) => ({ label: c.label, bare: c.bare, ensemble: c.ensemble })),
      });
      progress.tick();
    }
  }
  progress.finish();
  // keep table order: media as listed in SUITE_MEDIA, tasks as in SUITE_TASKS
  const meanOf = (key: "bare" | "photo" | "engineered" | "ensemble" | "greedy") =>
    rows.reduce((a, r) => a + r[key], 0) / rows.length;
  return {
    model: model.id,
    protocol: { seed, examples, unseenExamples, greedySize },
    rows,
    mean: {
      bare: meanOf("bare"),
      photo: meanOf("photo"),
      engineered: meanOf("engineered"),
      ensemble: meanOf("ensemble"),
      greedy: meanOf("greedy"),
    },
  };
}

/**
 * The suite's table as fixed-width text (percentages), with the mean row and each dataset's greedy choice.
 *
 * @example
 * ```ts
 * import { suiteTableText } from "./suite.ts";
 * const row = { dataset: "icon-shape", classes: 8, test: 150, chance: 0.125, bare: 0.4, photo: 0.42,
 *   engineered: 0.45, ensemble: 0.5, greedy: 0.52, selected: ["a {}."] };
 * suiteTableText({ rows: [row], mean: row } as never).split("\n")[2];
 * // → "icon-shape             8   150   12.5   40.0   42.0   45.0   50.0   52.0    +12.0"
 * ```
 */
export function suiteTableText(table: SuiteTable): string {
  const pct = (v: number) => (v * 100).toFixed(1).padStart(6);
  const gain = (a: number, b: number) =>
    `${a >= b ? "+" : "−"}${Math.abs((a - b) * 100).toFixed(1)}`.padStart(8);
  const head = "dataset          classes  test chance   bare  photo    eng    ens greedy  Δgreedy";
  const line = (
    name: string,
    classes: string,
    test: string,
    r: Omit<SuiteTable["mean"], never>,
    chance: string,
  ) =>
    `${name.padEnd(16)} ${classes.padStart(7)} ${test.padStart(5)} ${chance.padStart(6)} ${pct(r.bare)} ` +
    `${pct(r.photo)} ${pct(r.engineered)} ${pct(r.ensemble)} ${pct(r.greedy)} ${gain(r.greedy, r.bare)}`;
  const rule = "-".repeat(head.length);
  return [
    head,
    rule,
    ...table.rows.map((r) => line(r.dataset, String(r.classes), String(r.test), r, pct(r.chance))),
    rule,
    line("mean", "", "", table.mean, ""),
  ].join("\n");
}
