/**
 * Prompt analysis: which templates help, on labelled images.
 *
 * Compares the bare class name, each template alone and the whole ensemble, per class too, and runs the
 * greedy forward selection the CLIP authors used to choose 7 of their 80 ImageNet templates: start
 * empty, add the template that raises the ensemble's accuracy most, repeat.
 */
import { matmulT, type Matrix } from "../math/matrix.ts";
import { argmaxRows } from "../math/similarity.ts";
import { SLOT } from "./templates.ts";
import { MatrixShapeError } from "../errors.ts";
import {
  accuracyOf,
  type ClassName,
  classWeights,
  embedImages,
  embedPrompts,
  type LabeledImages,
  labelIndices,
  type PromptEmbeddings,
  type ZeroShotModel,
  type ZeroShotOptions,
} from "./classifier.ts";

/** The bare-name "template": the class name alone. */
export const BARE_TEMPLATE: string = SLOT;
/** CLIP's authors kept 7 templates for ImageNet. */
export const DEFAULT_GREEDY_SIZE = 7;

/** Accuracy of one template used alone. */
export interface TemplateScore {
  /** The template. */
  template: string;
  /** Top-1 accuracy with it alone. */
  accuracy: number;
  /** `accuracy − bare` (the bare class name's accuracy). */
  gain: number;
}

/** One step of greedy forward selection. */
export interface GreedyStep {
  /** The template added at this step. */
  added: string;
  /** Ensemble accuracy of the templates chosen so far (this one included). */
  accuracy: number;
}

/** What {@link analyzePrompts} finds. */
export interface PromptAnalysis {
  /** Top-1 accuracy with the class name alone as the prompt. */
  bare: number;
  /** Top-1 accuracy of the ensemble of all templates. */
  ensemble: number;
  /** `ensemble − bare`. */
  ensembleGain: number;
  /** Each template alone, best first. */
  perTemplate: TemplateScore[];
  /** Per class: bare-name and ensemble accuracy on that class's images (NaN when it has none). */
  perClassGains: {
    label: string;
    index: number;
    count: number;
    bare: number;
    ensemble: number;
    gain: number;
  }[];
  /** Greedy forward selection, one step per added template. */
  greedy: GreedyStep[];
  /** The templates greedy selection chose, in order. */
  selected: string[];
}

/** Options of {@link analyzePrompts}. */
export interface PromptAnalysisOptions extends ZeroShotOptions {
  /** How many templates greedy selection picks (default {@link DEFAULT_GREEDY_SIZE}, at most all). */
  greedySize?: number;
}

/** Top-1 accuracy on each class's images (NaN for a class without images). */
function perClassAccuracy(weights: Matrix, images: Matrix, labels: Int32Array, classes: number): number[] {
  const predicted = argmaxRows(matmulT(images, weights)); // [N] from [N, classes]
  const count = new Array<number>(classes).fill(0), hits = new Array<number>(classes).fill(0);
  labels.forEach((y, i) => {
    count[y]++;
    if (predicted[i] === y) hits[y]++;
  });
  return count.map((n, c) => n ? hits[c] / n : NaN);
}

/**
 * Greedy forward selection over unit prompt embeddings: `size` steps, each adding the template whose
 * addition gives the highest ensemble accuracy (the earlier template on ties).
 * @example
 * ```ts
 * import { greedySelect } from "./prompt_analysis.ts";
 * import { embedImages, embedPrompts } from "./classifier.ts";
 * import { templates } from "./templates.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const prompts = await embedPrompts(model, ["circle", "star", "square"], templates.shapes);
 * const images = await embedImages(model, ["models/samples/01_red_circle.png", "models/samples/06_blue_square.png"]);
 * greedySelect(prompts, images, Int32Array.of(0, 2), 2)
 * // → [{ added: "{}.", accuracy: 1 }, { added: "a {}.", accuracy: 1 }] (the first best template is kept on ties)
 * ```
 */
export function greedySelect(
  prompts: PromptEmbeddings,
  images: Matrix,
  labels: Int32Array,
  size: number = DEFAULT_GREEDY_SIZE,
): GreedyStep[] {
  const chosen: number[] = [];
  const steps: GreedyStep[] = [];
  const limit = Math.min(size, prompts.templates.length);
  while (chosen.length < limit) {
    let best = -1, bestAccuracy = -Infinity;
    prompts.templates.forEach((_, t) => {
      if (chosen.includes(t)) return;
      const accuracy = accuracyOf(classWeights(prompts, [...chosen, t]), images, labels);
      if (accuracy > bestAccuracy) [best, bestAccuracy] = [t, accuracy];
    });
    chosen.push(best);
    steps.push({ added: prompts.templates[best], accuracy: bestAccuracy });
  }
  return steps;
}

/**
 * Measure templates on labelled images: bare name, each template alone, the ensemble, per-class gains
 * and greedy selection. Prompts go through the disk cache; images are encoded once.
 * @example
 * ```ts
 * import { analyzePrompts } from "./prompt_analysis.ts";
 * import { templates } from "./templates.ts";
 * import { plots } from "../plot/mod.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const images = ["01_red_circle", "02_orange_star", "06_blue_square"].map((n) => `models/samples/${n}.png`);
 * const a = await analyzePrompts(model, ["circle", "star", "square"], templates.shapes, {
 *   images,
 *   labels: ["circle", "star", "square"],
 * }, { greedySize: 3 });
 * a.bare; // → 1 (the shipped model gets these three right from the bare class name)
 * a.ensemble; // → 1
 * a.perTemplate[0]; // → { template: "{}.", accuracy: 1, gain: 0 }
 * a.selected; // → ["{}.", "a {}.", "one {}."]
 * plots.templateGains(a); // the figure of these gains
 * ```
 */
export async function analyzePrompts<I = unknown>(
  model: ZeroShotModel<I>,
  classNames: readonly ClassName[],
  templates: readonly string[],
  dataset: LabeledImages<I>,
  options: PromptAnalysisOptions = {},
): Promise<PromptAnalysis> {
  const prompts = await embedPrompts(model, classNames, templates, options);
  const barePrompts = await embedPrompts(model, classNames, [BARE_TEMPLATE], options);
  const names = prompts.classNameLists.map((n) => n[0]);
  const labels = labelIndices(dataset.labels, names);
  const images = await embedImages(model, dataset.images, prompts.embeddings.cols); // [N, D] unit rows
  if (images.rows !== labels.length) {
    throw new MatrixShapeError(`${images.rows} images but ${labels.length} labels`, {
      fix: "give one label per image",
    });
  }
  const bareWeights = classWeights(barePrompts);
  const allWeights = classWeights(prompts);
  const bare = accuracyOf(bareWeights, images, labels);
  const ensemble = accuracyOf(allWeights, images, labels);
  const perTemplate = prompts.templates
    .map((template, t) => {
      const accuracy = accuracyOf(classWeights(prompts, [t]), images, labels);
      return { template, accuracy, gain: accuracy - bare };
    })
    .sort((a, b) => b.accuracy - a.accuracy);
  const bareByClass = perClassAccuracy(bareWeights, images, labels, names.length);
  const allByClass = perClassAccuracy(allWeights, images, labels, names.length);
  const count = new Array<number>(names.length).fill(0);
  labels.forEach((y) => count[y]++);
  const greedy = greedySelect(prompts, images, labels, options.greedySize ?? DEFAULT_GREEDY_SIZE);
  return {
    bare,
    ensemble,
    ensembleGain: ensemble - bare,
    perTemplate,
    perClassGains: names.map((label, index) => ({
      label,
      index,
      count: count[index],
      bare: bareByClass[index],
      ensemble: allByClass[index],
      gain: allByClass[index] - bareByClass[index],
    })),
    greedy,
    selected: greedy.map((s) => s.added),
  };
}
