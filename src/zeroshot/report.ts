/**
 * A zero-shot report on your own labelled pictures: how well prompts alone classify them, and which
 * prompts help — what `deno task zeroshot` prints, as one function for notebooks.
 *
 * image folder → embed every image once (cached by content hash + model id) → prompt analysis (bare
 * name, each template, the ensemble, per class) → greedy template selection on a seeded validation
 * split, scored on the rest → the ensemble head's per-class accuracy and confusion matrix → figures.
 * @module
 */
import { basename } from "node:path";
import { DatasetError, InputError } from "../errors.ts";
import type { Matrix } from "../math/matrix.ts";
import { selectRows } from "../math/matrix.ts";
import { normalize } from "../math/similarity.ts";
import { mulberry32 } from "../data/random.ts";
import { type ImageFolder, loadImageFolder } from "../data/image_folder.ts";
import { embedDataset, type ImageEmbedder } from "../model/embed_dataset.ts";
import type { ProgressOutput } from "../model/progress.ts";
import { plots } from "../plot/mod.ts";
import type { Figure } from "../plot/figure.ts";
import {
  accuracyOf,
  type ClassName,
  classWeights,
  embedPrompts,
  zeroShotClassifier,
  type ZeroShotOptions,
} from "./classifier.ts";
import { analyzePrompts, DEFAULT_GREEDY_SIZE, greedySelect, type PromptAnalysis } from "./prompt_analysis.ts";
import { templates as templateSets } from "./templates.ts";
import { defaultImageCacheDir, ImageEmbeddingCache } from "./image_cache.ts";
import type { TextEncoderLike } from "./text_cache.ts";

/** The share of images greedy selection picks templates on (the rest score the choice). */
export const DEFAULT_VALIDATION_FRACTION = 0.5;
/** The seed of the validation split when none is given. */
export const DEFAULT_SPLIT_SEED = 0;

/** A model for {@link zeroShotReport}: text and image encoders with an id (`ClipModel` is one). */
export type ReportModel = TextEncoderLike & ImageEmbedder;

/** Options of {@link zeroShotReport}. */
export interface ZeroShotReportOptions extends ZeroShotOptions {
  /** Prompt templates (default `templates.generic`). */
  templates?: readonly string[];
  /** Class names (or synonym lists) by label, instead of the folder's display names. */
  classNames?: readonly ClassName[];
  /** Share of each class's images in the validation split (default 0.5). */
  validationFraction?: number;
  /** Seed of the validation split (default 0). */
  seed?: number;
  /** Templates greedy selection picks (default 7, as CLIP's authors did for ImageNet). */
  greedySize?: number;
  /** Image-embedding cache: a cache, a folder, or false (default: `defaultImageCacheDir()`). */
  imageCache?: ImageEmbeddingCache | string | false;
  /** Images per encoder batch (default 32). */
  batchSize?: number;
  /** Progress bar while embedding (default true). */
  progress?: boolean | ProgressOutput;
}

/** What {@link zeroShotReport} measures. Accuracies are fractions in [0, 1]. */
export interface ZeroShotReport {
  /** `model.id`. */
  model: string;
  /** The image folder. */
  data: string;
  /** Images classified (those that could not be read are in `failed`). */
  images: number;
  /** Images that could not be read, with why. */
  failed: { path: string; error: string }[];
  /** Class display names, by label. */
  classes: string[];
  /** The templates measured. */
  templates: string[];
  /** On all images: the bare class name, the ensemble of all templates, each template alone (best first). */
  bare: number;
  /** Accuracy of the ensemble of all templates. */
  ensemble: number;
  /** Top-5 accuracy of the ensemble. */
  top5: number;
  /** Each template alone, best first. */
  perTemplate: PromptAnalysis["perTemplate"];
  /** Greedy forward selection: picked on the validation split, scored on the test split. */
  greedy: {
    seed: number;
    validationImages: number;
    testImages: number;
    /** Each step's ensemble accuracy on the validation split. */
    steps: PromptAnalysis["greedy"];
    selected: string[];
    /** On the test split: the selected templates, all templates, the bare name. */
    test: { selected: number; ensemble: number; bare: number };
  };
  /** Per class (all images): count, bare-name and ensemble accuracy. */
  perClass: { label: string; count: number; bare: number; ensemble: number }[];
  /** The ensemble head's `confusion[true][predicted]` counts. */
  confusion: number[][];
  /** Image embeddings served from the cache, and encoded now. */
  cached: number;
  /** Image embeddings encoded now. */
  encoded: number;
  /** The prompt analysis on all images (what `plots.templateGains` draws). */
  analysis: PromptAnalysis;
}

/**
 * A stratified split: for each class, a seeded shuffle of its images, the first `fraction` (rounded, at
 * least one when the class has two or more) to validation, the rest to test. Returns positions.
 * @example
 * ```ts
 * import { stratifiedSplit } from "./report.ts";
 * stratifiedSplit([0, 0, 1, 1], 0.5, 0); // → { validation: [1, 3], test: [0, 2] } (sorted positions)
 * ```
 */
export function stratifiedSplit(
  labels: readonly number[],
  fraction: number,
  seed: number,
): { validation: number[]; test: number[] } {
  const rng = mulberry32(seed);
  const byClass = new Map<number, number[]>();
  labels.forEach((y, i) => byClass.set(y, [...(byClass.get(y) ?? []), i]));
  const validation: number[] = [], test: number[] = [];
  for (const y of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = byClass.get(y)!;
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [members[i], members[j]] = [members[j], members[i]];
    }
    let take = Math.round(members.length * fraction);
    if (members.length >= 2) take = Math.min(members.length - 1, Math.max(1, take));
    validation.push(...members.slice(0, take));
    test.push(...members.slice(take));
  }
  return { validation: validation.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}

/**
 * Zero-shot accuracy of prompts on an image folder (`root/<class>/<image>`): bare class names, each template,
 * the ensemble, a greedy selection (picked on a seeded validation split, reported on the rest), per-class
 * accuracy and the confusion matrix. Images are embedded once and cached by content hash + model id.
 * @example
 * ```ts
 * import { zeroShotReport, zeroShotReportFigures } from "./report.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * import { writeShapesFolder } from "../data/shapes_folder.ts";
 * import { suiteTemplates } from "../data/suite.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const classes = ["circle", "star", "square", "heart"]; // media-world pictures at the model's 40 px
 * const { root } = await writeShapesFolder(await Deno.makeTempDir(), { perClass: 6, classes, medium: "mixed", size: 40 });
 * const report = await zeroShotReport(model, root, { templates: suiteTemplates("shape"), seed: 1 });
 * report.bare; // → 0.9166666666666666 (the shipped tiny model on 24 pictures of 4 classes)
 * report.ensemble; // → 0.9166666666666666
 * report.greedy.selected; // → ["a photo of a {}.", "a picture of a {}.", "an image of a {}.", "a {}.", …]
 * zeroShotReportFigures(report).confusion.title; // → "Confusion matrix (accuracy 91.7%)"
 * ```
 */
export async function zeroShotReport(
  model: ReportModel,
  dataset: ImageFolder | string,
  options: ZeroShotReportOptions = {},
): Promise<ZeroShotReport> {
  const data = typeof dataset === "string" ? await loadImageFolder(dataset) : dataset;
  const templates = [...(options.templates ?? templateSets.generic)];
  const classNames = options.classNames ?? data.classes;
  if (classNames.length !== data.classes.length) {
    throw new DatasetError(`${classNames.length} class names for ${data.classes.length} class folders`, {
      path: data.root,
      fix: `give one name per class folder, in sorted folder order (${
        data.folders.slice(0, 3).join(", ")
      }, …)`,
    });
  }
  const fraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  if (!(fraction > 0 && fraction < 1)) {
    throw new InputError(`validationFraction must be between 0 and 1 (exclusive), got ${fraction}`, {
      fix: "pass e.g. { validationFraction: 0.5 }",
    });
  }
  const seed = options.seed ?? DEFAULT_SPLIT_SEED;
  const imageCache = options.imageCache ?? defaultImageCacheDir();
  const embedded = await embedDataset(model, data, {
    cache: imageCache,
    batchSize: options.batchSize,
    progress: options.progress,
  });
  if (embedded.items.length === 0) {
    throw new DatasetError("none of the images could be read", {
      path: data.root,
      fix: "check the files listed in the errors above",
    });
  }
  const images: Matrix = normalize(embedded.embeddings); // [N, D] unit rows
  const labels = embedded.items.map((item) => item.label);
  const zsOptions: ZeroShotOptions = { cache: options.cache, logitScale: options.logitScale };
  const analysis = await analyzePrompts(model, classNames, templates, { images, labels }, {
    ...zsOptions,
    greedySize: options.greedySize ?? DEFAULT_GREEDY_SIZE,
  });
  const head = await zeroShotClassifier(model, classNames, templates, zsOptions);
  const evaluation = await head.evaluate({ images, labels });

  // Greedy selection on the validation split, scored on the test split.
  const split = stratifiedSplit(labels, fraction, seed);
  const prompts = await embedPrompts(model, classNames, templates, zsOptions);
  const bareWeights = classWeights(await embedPrompts(model, classNames, ["{}"], zsOptions));
  const labelArray = Int32Array.from(labels);
  const part = (rows: number[]) => ({
    images: selectRows(images, rows),
    labels: Int32Array.from(rows, (r) => labelArray[r]),
  });
  const validation = part(split.validation), test = part(split.test);
  const steps = split.validation.length
    ? greedySelect(prompts, validation.images, validation.labels, options.greedySize ?? DEFAULT_GREEDY_SIZE)
    : [];
  const selected = steps.map((s) => s.added);
  const chosen = selected.map((t) => prompts.templates.indexOf(t));
  const scoreTest = (weights: Matrix) =>
    split.test.length ? accuracyOf(weights, test.images, test.labels) : NaN;

  return {
    model: model.id,
    data: data.root,
    images: embedded.items.length,
    failed: embedded.failed.map((f) => ({ path: f.path, error: f.error.message })),
    classes: head.classNames,
    templates,
    bare: analysis.bare,
    ensemble: analysis.ensemble,
    top5: evaluation.top5,
    perTemplate: analysis.perTemplate,
    greedy: {
      seed,
      validationImages: split.validation.length,
      testImages: split.test.length,
      steps,
      selected,
      test: {
        selected: chosen.length ? scoreTest(classWeights(prompts, chosen)) : NaN,
        ensemble: scoreTest(classWeights(prompts)),
        bare: scoreTest(bareWeights),
      },
    },
    perClass: analysis.perClassGains.map((c) => ({
      label: c.label,
      count: c.count,
      bare: c.bare,
      ensemble: c.ensemble,
    })),
    confusion: evaluation.confusion,
    cached: embedded.cached,
    encoded: embedded.encoded,
    analysis,
  };
}

/**
 * The report's figures: template gains over the bare name, and the ensemble's confusion matrix.
 * @example
 * ```ts
 * import { zeroShotReport, zeroShotReportFigures } from "./report.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * import { writeShapesFolder } from "../data/shapes_folder.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const { root } = await writeShapesFolder(await Deno.makeTempDir(), {
 *   perClass: 2,
 *   classes: ["circle", "star"],
 *   medium: "mixed",
 *   size: 40,
 * });
 * const { templateGains, confusion } = zeroShotReportFigures(await zeroShotReport(model, root));
 * confusion.title; // → "Confusion matrix (accuracy 100.0%)"
 * await templateGains.savePng(`${root}/template_gains.png`);
 * ```
 */
export function zeroShotReportFigures(report: ZeroShotReport): { templateGains: Figure; confusion: Figure } {
  return {
    templateGains: plots.templateGains({
      ...report.analysis,
      title: `Prompt templates on ${basename(report.data)}`,
    }),
    confusion: plots.confusionMatrix(report.confusion, { labels: report.classes }),
  };
}

/**
 * The report as plain JSON (what `deno task zeroshot` writes as `report.json`): the numbers, without
 * the analysis object they were computed from. NaN (a split without images) becomes null.
 * @example
 * ```ts
 * import { reportJson, zeroShotReport } from "./report.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * import { writeShapesFolder } from "../data/shapes_folder.ts";
 * import { suiteTemplates } from "../data/suite.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const classes = ["circle", "star", "square", "heart"];
 * const { root } = await writeShapesFolder(await Deno.makeTempDir(), { perClass: 6, classes, medium: "mixed", size: 40 });
 * const report = await zeroShotReport(model, root, { templates: suiteTemplates("shape"), seed: 1 });
 * JSON.parse(reportJson(report)).greedy.selected; // → ["a photo of a {}.", "a picture of a {}.", "an image of a {}.", …]
 * ```
 */
export function reportJson(report: ZeroShotReport): string {
  const { analysis: _analysis, ...numbers } = report;
  return JSON.stringify(numbers, (_key, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2) +
    "\n";
}
