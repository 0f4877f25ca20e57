/**
 * Experiment `objectives`: which text-side objective learns zero-shot transfer fastest? The CLIP paper (Radford
 * et al. 2021, section 2.3 and Figure 2) trained the same image encoder three ways on the same data — a
 * transformer language model that captions the image, a model that predicts the caption's bag of words, and a
 * contrastive model that matches the image with a bag-of-words embedding of its caption — and measured
 * zero-shot ImageNet accuracy against images processed: predicting the bag of words reached the language
 * model's accuracy with 3× fewer images, and the contrastive objective with a further 4× fewer. Here the same
 * comparison runs on the media world, with CLIP's own objective (contrastive, transformer text tower) as a
 * fourth line.
 *
 * training captions ─ learnBpe (as src/train/world_recipe.ts) ─► tokenizer
 * one image tower (world-tiny), four text sides (configs/objectives.json), initial weights shared by name
 * step s: the train split's examples s·B … s·B+B−1 (medium "mixed", alt-text captions: world_recipe's batch s)
 *         ─► the same batch to all four TrainingSessions, lr(s) linear warm-up + cosine to 0 (schedule.ts)
 * checkpoints (geometric in the step): the suite's test pictures of each medium ─► zero-shot accuracy per
 *         dataset: predictive objectives score each prompt by its log-likelihood given the image
 *         (src/train/engine/scoring.ts), averaged over the dataset's templates; contrastive ones compare the
 *         image with the normalised mean of the class's prompt embeddings (src/zeroshot/)
 * ─► suite mean per checkpoint ─► images each objective needs to reach a threshold (log-linear interpolation)
 *   ─► ratios beside the paper's ─► figure (accuracy vs images processed, log x)
 * @module
 */
import * as Plot from "@observablehq/plot";
import {
  type CheckpointRecord,
  type ExperimentResult,
  kitInfo,
  machineInfo,
  type Preset,
  presetConfig,
  resultHeader,
  type RunOptions,
  runOverrides,
  type RunRecord,
} from "./result.ts";
import { Progress } from "../model/progress.ts";
import type { ClipArchitecture } from "../model/architecture.ts";
import { ClipTokenizer } from "../text/tokenizer.ts";
import { writeHfTokenizerFiles } from "../text/vocabulary.ts";
import { MEDIA, type Medium, WORLD_IMAGE_SIZE } from "../data/world.ts";
import {
  type SuiteDataset,
  suiteDatasets,
  type SuiteImages,
  suiteImages,
  type SuiteTask,
} from "../data/suite.ts";
import { normalizePixels } from "../image/preprocess.ts";
import { Matrix } from "../math/matrix.ts";
import { normalize } from "../math/similarity.ts";
import {
  accuracyOf,
  classWeights,
  embedPrompts,
  evaluateScores,
  type TextEncoderLike,
} from "../zeroshot/classifier.ts";
import { fillTemplate } from "../zeroshot/templates.ts";
import { learnWorldMerges, mixedBatch, worldArchitecture } from "../train/world_recipe.ts";
import { cosineLr } from "../train/schedule.ts";
import {
  type EngineArchitecture,
  imageTowerMacs,
  initStateDict,
  layoutOf,
  type Objective,
  type TextEncoder,
  TrainingSession,
} from "../train/mod.ts";
import { ObjectiveScorer } from "../train/engine/scoring.ts";
import { plotPanel } from "../plot/dom.ts";
import { compose, type Figure } from "../plot/figure.ts";
import { swatchLegend } from "../plot/legend.ts";
import { textWidth } from "../plot/svg.ts";
import { FONT_SIZE, INK, MUTED, OKABE_ITO } from "../plot/theme.ts";
import { ExperimentError, PlotInputError, TrainingDivergedError } from "../errors.ts";
import presets from "./configs/objectives.json" with { type: "json" };

/** This experiment's name (its registry entry, result file and figure). */
export const NAME = "objectives";

/** One text side trained on the shared image tower. */
export interface ObjectiveSpec {
  /** Short id (`"caption_lm"`, `"bow_contrastive"`). */
  name: string;
  /** How the figure's legend names it. */
  label: string;
  /** The engine's objective. */
  objective: Objective;
  /** The text tower of a contrastive objective (default `"transformer"`). */
  text_encoder?: TextEncoder;
}

/** The experiment's configuration. */
export interface ObjectivesConfig {
  /** One line on what the preset is for. */
  why?: string;
  /** The image tower (and the text tower's size): a preset of `src/model/architectures/`. */
  architecture: string;
  /** Layers of the caption decoder (`caption_lm`). */
  decoder_layers: number;
  /** Seeds the initial weights, the BPE's captions and the training batches. */
  seed: number;
  /** AdamW updates of every objective (equal for all: the claim is about speed of learning). */
  steps: number;
  batch_size: number;
  /** Peak learning rate, reached after `warmup_fraction` of the steps, then cosine decay to 0. */
  lr: number;
  warmup_fraction: number;
  weight_decay: number;
  betas: [number, number];
  /** The byte-level BPE learned on this many training captions, as src/train/world_recipe.ts does. */
  bpe: { captions: number; vocab_size: number };
  context_length: number;
  /** Checkpoints per run, spaced geometrically from `first_checkpoint` to `steps`. */
  checkpoints: number;
  first_checkpoint: number;
  /** Media of the suite to measure on (each gives five datasets: colour, shape, seen, unseen, count). */
  media: Medium[];
  /** Seed of the suite's pictures (the suite's own default is 0). */
  suite_seed: number;
  /** Test pictures per medium for colour, shape, seen and count. */
  test_examples: number;
  /** Test pictures per medium of held-out combinations (the unseen task). */
  test_unseen_examples: number;
  /** The suite-mean accuracy (0–1) the images-to-reach are measured at; null: set from the runs (below). */
  threshold: number | null;
  /** With `threshold` null: chance + this fraction of the way from chance to the slowest run's best mean. */
  threshold_fraction: number;
  objectives: ObjectiveSpec[];
}

/** Zero-shot test accuracies (0–1) at one checkpoint. */
export interface ObjectivesCheckpoint {
  step: number;
  /** Training pictures processed (step × batch size). */
  images: number;
  /** Mean training loss of the steps since the previous checkpoint. */
  trainLoss: number;
  /** Mean accuracy over the datasets measured (media × the five tasks). */
  suiteMean: number;
  /** 80-way colour+shape on pictures of seen combinations, pooled over the media. */
  combo: number;
  /** Mean accuracy per task over the media. */
  tasks: Record<SuiteTask, number>;
  /** Accuracy per dataset (`medium-task`). */
  datasets: Record<string, number>;
}

/** One objective's headline numbers. */
export interface ObjectiveSummary {
  run: string;
  label: string;
  /** Training pictures to reach the threshold (interpolated); null when never reached. */
  imagesToThreshold: number | null;
  /** `"interpolated"` between two checkpoints, `"first-checkpoint"` (reached by then: an upper bound), `"never"`. */
  reached: "interpolated" | "first-checkpoint" | "never";
  /** Training pictures processed by the end of the run. */
  imagesSeen: number;
  finalSuiteMean: number;
  bestSuiteMean: number;
  finalCombo: number;
  parameters: number;
  /** Multiply–adds of one training picture's forward pass (see `objectiveMacs`). */
  macsPerImage: number;
  /** FLOPs of one training step: 2 × 3 × batch × macsPerImage. */
  flopsPerStep: number;
}

/** One speed-up: how many times fewer images `faster` needed than `slower` to reach the threshold. */
export interface SpeedRatio {
  faster: string;
  slower: string;
  /**
   * images(slower) / images(faster); a slower run that never reached the threshold counts with all the pictures
   * it saw (a lower bound). Null when the faster never reached it, or both had by the first checkpoint.
   */
  measured: number | null;
  /**
   * `"estimate"`: both interpolated; `"at least"`: the faster one was already there at the first checkpoint, or
   * the slower one never got there; `"at most"`: the slower one was already there at the first checkpoint;
   * `"undetermined"`: no ratio can be read.
   */
  kind: "estimate" | "at least" | "at most" | "undetermined";
  /** The paper's Figure 2 (null where it has no such pair). */
  paper: number | null;
}

/** The headline numbers. */
export interface ObjectivesSummary {
  /** The datasets the suite mean is over. */
  datasets: string[];
  /** The suite mean of a random guess (mean of 1 / classes). */
  chance: number;
  threshold: number;
  /** How the threshold was set. */
  thresholdRule: string;
  /** How zero-shot scores each kind of model. */
  scoring: { predictive: string; contrastive: string };
  /** How FLOPs are counted. */
  flopsConvention: string;
  objectives: ObjectiveSummary[];
  ratios: SpeedRatio[];
}

/** The result of {@link run}. */
export type ObjectivesResult = ExperimentResult<ObjectivesConfig, ObjectivesSummary>;

/** The paper's speed-ups (Figure 2: 3× from the language model to BoW prediction, a further 4× to contrastive). */
export const PAPER_RATIOS: readonly { faster: string; slower: string; paper: number | null }[] = [
  { faster: "bow_prediction", slower: "caption_lm", paper: 3 },
  { faster: "bow_contrastive", slower: "bow_prediction", paper: 4 },
  { faster: "bow_contrastive", slower: "caption_lm", paper: 12 },
  { faster: "transformer_contrastive", slower: "bow_contrastive", paper: null },
];

const SCORING = {
  predictive:
    "each prompt's log-likelihood given the image (caption LM: the summed next-token log-probabilities of the " +
    "prompt's tokens after SOT, through EOT; BoW prediction: the summed log-probabilities of its words under the " +
    "bag-of-words softmax), averaged over the dataset's default template set; the class with the highest mean wins",
  contrastive:
    "cosine between the unit image embedding and the class embedding: the normalised mean of the unit " +
    "embeddings of the class's prompts over the dataset's default template set",
};

const FLOPS_CONVENTION =
  "matrix products counted analytically as multiply–adds (attention scores and their " +
  "weighted sum included; norms, softmax, elementwise ops and embedding look-ups left out), at the padded text " +
  "length each step's graph ran at (averaged over the steps); FLOPs = 2 × MACs, and a training step = 3 × " +
  "the forward pass (the backward pass ≈ 2 forwards: gradients to activations and to weights)";

/**
 * The config of a preset, with `overrides` applied and checked.
 *
 * @example
 * ```ts
 * import { objectivesConfig } from "./objectives.ts";
 * objectivesConfig("quick", { steps: 30 }).steps; // → 30
 * objectivesConfig("full").objectives.map((o) => o.name);
 * // → ["caption_lm", "bow_prediction", "bow_contrastive", "transformer_contrastive"]
 * ```
 */
export function objectivesConfig(
  preset: Preset = "full",
  overrides: Partial<ObjectivesConfig> = {},
): ObjectivesConfig {
  const c = presetConfig<ObjectivesConfig>(presets, preset, overrides);
  const whole = (f: keyof ObjectivesConfig, min: number) => {
    const v = c[f] as number;
    if (!Number.isInteger(v) || v < min) {
      throw new ExperimentError(`${f} = ${v} is not a whole number ≥ ${min}`, {
        fix: `set ${f} to ${min} or more`,
      });
    }
  };
  whole("steps", 1);
  whole("batch_size", 2);
  whole("checkpoints", 1);
  whole("first_checkpoint", 1);
  whole("test_examples", 1);
  whole("test_unseen_examples", 1);
  whole("decoder_layers", 1);
  whole("seed", 0);
  whole("suite_seed", 0);
  if (c.first_checkpoint > c.steps) {
    throw new ExperimentError(`first_checkpoint ${c.first_checkpoint} is after the last step ${c.steps}`, {
      fix: `set first_checkpoint to at most ${c.steps}`,
    });
  }
  if (!(c.lr > 0) || !(c.warmup_fraction >= 0 && c.warmup_fraction < 1)) {
    throw new ExperimentError(`lr ${c.lr} or warmup_fraction ${c.warmup_fraction} is out of range`, {
      fix: "use e.g. lr 0.002, warmup_fraction 0.1",
    });
  }
  if (!c.media?.length || c.media.some((m) => !MEDIA.includes(m))) {
    throw new ExperimentError(`media ${JSON.stringify(c.media)} are not media of the media world`, {
      fix: `use some of ${MEDIA.join(", ")}`,
    });
  }
  if (c.threshold !== null && !(c.threshold > 0 && c.threshold < 1)) {
    throw new ExperimentError(`threshold ${c.threshold} is not an accuracy in (0, 1)`, {
      fix: "pass e.g. 0.3, or null to set it from the runs",
    });
  }
  if (!(c.threshold_fraction > 0 && c.threshold_fraction <= 1)) {
    throw new ExperimentError(`threshold_fraction ${c.threshold_fraction} is outside (0, 1]`, {
      fix: "use e.g. 0.5",
    });
  }
  if (!Array.isArray(c.objectives) || c.objectives.length === 0) {
    throw new ExperimentError("no objectives to compare", {
      fix: "give at least one { name, label, objective[, text_encoder] }",
    });
  }
  const names = c.objectives.map((o) => o.name);
  if (new Set(names).size !== names.length) {
    throw new ExperimentError(`objective names repeat: ${names.join(", ")}`, {
      fix: "give each its own name",
    });
  }
  for (const o of c.objectives) {
    if (!["infonce", "siglip", "bow_prediction", "caption_lm"].includes(o.objective)) {
      throw new ExperimentError(`objective ${JSON.stringify(o.objective)} of ${o.name} is unknown`, {
        fix: "use infonce, siglip, bow_prediction or caption_lm",
      });
    }
  }
  return c;
}

/**
 * Checkpoint steps spaced geometrically from `first` to `steps` (rounded, without repeats; `steps` always last).
 *
 * @example
 * ```ts
 * import { checkpointSteps } from "./objectives.ts";
 * checkpointSteps(1280, 6, 40); // → [40, 80, 160, 320, 640, 1280]
 * checkpointSteps(10, 4, 8); // → [8, 9, 10]
 * ```
 */
export function checkpointSteps(steps: number, count: number, first: number): number[] {
  if (count <= 1 || first >= steps) return [steps];
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    const s = Math.round(first * (steps / first) ** (k / (count - 1)));
    if (out.at(-1) !== s) out.push(s);
  }
  out[out.length - 1] = steps;
  return out;
}

/** Multiply–adds of one pre-LN residual block over `L` tokens of width `W` (as `imageTowerMacs` counts). */
function blockMacs(L: number, W: number): number {
  return L * W * 3 * W + 2 * L * L * W + L * W * W + 2 * L * W * 4 * W;
}

/**
 * Multiply–adds of one training picture's forward pass under the architecture's objective, with captions padded
 * to `L` tokens and `B` pairs a batch (see the summary's `flopsConvention`): the image tower, then the text side —
 * the transformer text tower (pooled at EOT), the bag-of-words mean, the bag-of-words head, or the caption
 * decoder with its output layer over the vocabulary — and the contrastive logits (`B · D` per picture).
 *
 * @example
 * ```ts
 * import { objectiveMacs } from "./objectives.ts";
 * import { loadArchitecture } from "../model/architecture.ts";
 * const a = loadArchitecture("tiny");
 * objectiveMacs({ ...a, objective: "bow_prediction" }, 16, 128) - objectiveMacs({ ...a, objective: "bow_prediction" }, 8, 128); // → 0
 * objectiveMacs(a, 16, 128) > objectiveMacs({ ...a, text_encoder: "bag_of_words" }, 16, 128); // → true
 * ```
 */
export function objectiveMacs(a: EngineArchitecture, L: number, B: number): number {
  const W = a.transformer_width, D = a.embed_dim, V = a.vocab_size;
  const image = imageTowerMacs(a);
  switch (a.objective ?? "infonce") {
    case "bow_prediction":
      return image + D * V;
    case "caption_lm":
      return image + D * W + (a.decoder_layers ?? 1) * blockMacs(L, W) + (L - 1) * W * V;
    default: {
      const text = (a.text_encoder ?? "transformer") === "bag_of_words"
        ? L * W + W * D
        : a.transformer_layers * blockMacs(L, W) + W * D;
      return image + text + B * D;
    }
  }
}

/**
 * The training pictures at which an accuracy curve first reaches `threshold`: log-linear interpolation between
 * the checkpoint before and the first at or above it (as the paper reads its Figure 2).
 *
 * @example
 * ```ts
 * import { imagesToReach } from "./objectives.ts";
 * const curve = [{ images: 1000, accuracy: 0.2 }, { images: 4000, accuracy: 0.4 }];
 * const at = imagesToReach(curve, 0.3); // halfway from 0.2 to 0.4: √(1000 × 4000)
 * [Math.round(at.images!), at.reached]; // → [2000, "interpolated"]
 * imagesToReach(curve, 0.1).reached; // → "first-checkpoint"
 * imagesToReach(curve, 0.5); // → { images: null, reached: "never" }
 * ```
 */
export function imagesToReach(
  curve: readonly { images: number; accuracy: number }[],
  threshold: number,
): { images: number | null; reached: ObjectiveSummary["reached"] } {
  const k = curve.findIndex((p) => p.accuracy >= threshold);
  if (k < 0) return { images: null, reached: "never" };
  if (k === 0) return { images: curve[0].images, reached: "first-checkpoint" };
  const a = curve[k - 1], b = curve[k];
  const t = (threshold - a.accuracy) / (b.accuracy - a.accuracy);
  if (t >= 1) return { images: b.images, reached: "interpolated" }; // exactly at the checkpoint
  return {
    images: Math.exp(Math.log(a.images) + t * (Math.log(b.images) - Math.log(a.images))),
    reached: "interpolated",
  };
}

/** The media-world tokenizer of a seed: the BPE `learnWorldMerges` learns, as the shipped recipe does. */
async function learnTokenizer(seed: number, bpe: ObjectivesConfig["bpe"]): Promise<ClipTokenizer> {
  const dir = await Deno.makeTempDir({ prefix: "clipkit-objectives-bpe-" });
  try {
    await writeHfTokenizerFiles(dir, learnWorldMerges(seed, bpe));
    const tok = await ClipTokenizer.load(dir);
    if (tok.sot !== tok.vocabSize - 2 || tok.eot !== tok.vocabSize - 1) {
      throw new ExperimentError(`the learned vocabulary does not end with SOT, EOT`, {
        fix: "learn the BPE with src/train/bpe_learn.ts",
      });
    }
    return tok;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Ids `[B, from]` re-padded with zeros to `[B, to]`. */
function padIds(ids: Int32Array, B: number, from: number, to: number): Int32Array {
  if (from === to) return ids;
  const out = new Int32Array(B * to); // [B, to]
  for (let b = 0; b < B; b++) out.set(ids.subarray(b * from, (b + 1) * from), b * to);
  return out;
}

/** Text lengths are padded up to a multiple of this, so each session compiles a few graphs, not one per length. */
const LENGTH_BUCKET = 8;

/** One medium's test pictures and prompts, prepared once. */
interface MediumData {
  medium: Medium;
  datasets: SuiteDataset[];
  all: SuiteImages;
  unseen: SuiteImages;
  /** Preprocessed pixels `[N, 3, R, R]` of each set. */
  allPixels: Float32Array;
  unseenPixels: Float32Array;
  /** Every distinct prompt of the medium's datasets, and the column of each. */
  prompts: string[];
  column: Map<string, number>;
  /** The prompts of the 80 combinations (seen and unseen share them): their columns among `prompts`. */
  comboColumns: number[];
}

/** Pictures as the models were trained on them: 40 px, CLIP-normalised (generateBatch's `normalizePixels`). */
function pixelsOf(images: SuiteImages): Float32Array {
  const plane = WORLD_IMAGE_SIZE * WORLD_IMAGE_SIZE;
  const out = new Float32Array(images.images.length * 3 * plane); // [N, 3, 40, 40]
  images.images.forEach((im, i) => normalizePixels(im.data, plane, out, i * 3 * plane, { channels: 4 }));
  return out;
}

function prepareMedia(c: ObjectivesConfig): MediumData[] {
  const all = suiteDatasets();
  return c.media.map((medium) => {
    const datasets = all.filter((d) => d.medium === medium);
    const prompts: string[] = [], column = new Map<string, number>();
    const add = (p: string) => {
      if (!column.has(p)) column.set(p, prompts.push(p) - 1);
    };
    for (const d of datasets) {
      for (const name of d.classes) for (const t of d.templates) add(fillTemplate(t, name));
    }
    const combo = datasets.find((d) => d.task === "unseen")!;
    const comboColumns = [
      ...new Set(combo.classes.flatMap((n) => combo.templates.map((t) => column.get(fillTemplate(t, n))!))),
    ];
    const allImages = suiteImages(medium, "test", c.test_examples, { seed: c.suite_seed, combos: "all" });
    const unseen = suiteImages(medium, "test", c.test_unseen_examples, {
      seed: c.suite_seed,
      combos: "unseen",
    });
    return {
      medium,
      datasets,
      all: allImages,
      unseen,
      allPixels: pixelsOf(allImages),
      unseenPixels: pixelsOf(unseen),
      prompts,
      column,
      comboColumns,
    };
  });
}

/** Which pictures and labels a task scores. */
function taskRows(
  task: SuiteTask,
  m: MediumData,
): { set: "all" | "unseen"; rows: number[]; labels: Int32Array } {
  const n = m.all.colour.length, every = [...Array(n).keys()];
  switch (task) {
    case "colour":
      return { set: "all", rows: every, labels: m.all.colour };
    case "shape":
      return { set: "all", rows: every, labels: m.all.shape };
    case "count":
      return { set: "all", rows: every, labels: m.all.count };
    case "seen": {
      const rows = every.filter((i) => m.all.heldOut[i] === 0);
      return { set: "all", rows, labels: Int32Array.from(rows, (i) => m.all.combo[i]) };
    }
    case "unseen":
      return {
        set: "unseen",
        rows: [...Array(m.unseen.combo.length).keys()],
        labels: m.unseen.combo,
      };
  }
}

/** Zero-shot accuracy of each dataset of each medium under one objective's current weights. */
async function zeroShot(
  scorer: ObjectiveScorer,
  tokenizer: ClipTokenizer,
  media: MediumData[],
): Promise<{ accuracy: Record<string, number>; hits: { seen: number; total: number } }> {
  const a = scorer.architecture, D = a.embed_dim, C = a.context_length;
  const predictive = a.objective === "caption_lm" || a.objective === "bow_prediction";
  const accuracy: Record<string, number> = {};
  const pooled = { seen: 0, total: 0 };
  for (const m of media) {
    const nAll = m.all.colour.length, nUnseen = m.unseen.combo.length;
    const fAll = await scorer.imageFeatures(m.allPixels, nAll); // [nAll, D]
    const fUnseen = await scorer.imageFeatures(m.unseenPixels, nUnseen); // [nUnseen, D]
    const tokens = (texts: string[]) => {
      const t = tokenizer.tokenize(texts, { contextLength: C, truncate: true });
      return { ids: t.ids, shape: [texts.length, C] as const };
    };
    if (predictive) {
      const P = m.prompts.length, K = m.comboColumns.length;
      const sAll = await scorer.promptScores(fAll, nAll, tokens(m.prompts)); // [nAll, P]
      const sUnseen = await scorer.promptScores(
        fUnseen,
        nUnseen,
        tokens(m.comboColumns.map((j) => m.prompts[j])),
      ); // [nUnseen, K]
      const unseenAt = new Map(m.comboColumns.map((j, k) => [j, k]));
      for (const d of m.datasets) {
        const { set, rows, labels } = taskRows(d.task, m);
        const scores = new Float32Array(rows.length * d.classes.length); // [rows, classes]
        rows.forEach((i, r) => {
          d.classes.forEach((name, k) => {
            let sum = 0;
            for (const t of d.templates) {
              const j = m.column.get(fillTemplate(t, name))!;
              sum += set === "all" ? sAll[i * P + j] : sUnseen[i * K + unseenAt.get(j)!];
            }
            scores[r * d.classes.length + k] = sum / d.templates.length;
          });
        });
        const top1 =
          evaluateScores(new Matrix(scores, rows.length, d.classes.length), labels, d.classes).top1;
        accuracy[d.name] = top1;
        if (d.task === "seen") {
          pooled.seen += Math.round(top1 * rows.length);
          pooled.total += rows.length;
        }
      }
    } else {
      const text = await scorer.textFeatures(tokens(m.prompts)); // [P, D]
      const encoder: TextEncoderLike = {
        id: `objectives-${a.objective}-${a.text_encoder ?? "transformer"}`,
        logitScale: 1,
        encodeText(texts: string[]): Promise<Matrix> {
          const out = new Float32Array(texts.length * D); // [texts, D]
          texts.forEach((t, i) => {
            const j = m.column.get(t)!;
            out.set(text.subarray(j * D, (j + 1) * D), i * D);
          });
          return Promise.resolve(new Matrix(out, texts.length, D));
        },
      };
      const unitAll = normalize(new Matrix(fAll, nAll, D)),
        unitUnseen = normalize(new Matrix(fUnseen, nUnseen, D));
      for (const d of m.datasets) {
        const { set, rows, labels } = taskRows(d.task, m);
        const source = set === "all" ? unitAll : unitUnseen;
        const images = new Float32Array(rows.length * D); // [rows, D]
        rows.forEach((i, r) => images.set(source.data.subarray(i * D, (i + 1) * D), r * D));
        const prompts = await embedPrompts(encoder, d.classes, d.templates, { cache: false });
        const top1 = accuracyOf(classWeights(prompts), new Matrix(images, rows.length, D), labels);
        accuracy[d.name] = top1;
        if (d.task === "seen") {
          pooled.seen += Math.round(top1 * rows.length);
          pooled.total += rows.length;
        }
      }
    }
  }
  return { accuracy, hits: pooled };
}

/** The architecture of one objective on the shared image tower. */
function architectureOf(base: ClipArchitecture, c: ObjectivesConfig, o: ObjectiveSpec): EngineArchitecture {
  return {
    ...base,
    objective: o.objective,
    ...(o.text_encoder ? { text_encoder: o.text_encoder } : {}),
    ...(o.objective === "caption_lm" ? { decoder_layers: c.decoder_layers } : {}),
  };
}

/**
 * Initial weights: the objective's own initialisation, with every parameter it shares by name and shape with
 * CLIP's architecture (the whole image tower; the token embedding, projection and scale of the contrastive
 * text sides) taken from CLIP's, so every run starts from the same image tower.
 */
function initialWeights(a: EngineArchitecture, shared: Record<string, Float32Array>, seed: number) {
  const own = initStateDict(a, seed);
  for (const name of Object.keys(own)) {
    if (shared[name]?.length === own[name].length) own[name] = shared[name].slice();
  }
  return own;
}

/**
 * Run the experiment: the four objectives trained in lockstep on the same batches, measured at the same steps.
 *
 * @example
 * ```ts
 * import { run } from "./objectives.ts";
 * const r = await run({ preset: "quick", overrides: { steps: 4, checkpoints: 2, first_checkpoint: 2, media: ["icon"], test_examples: 4, test_unseen_examples: 2 } });
 * r.runs.map((x) => x.checkpoints.map((c) => c.step)); // → [[2, 4], [2, 4], [2, 4], [2, 4]]
 * ```
 */
export async function run(options: RunOptions<ObjectivesConfig> = {}): Promise<ObjectivesResult> {
  const preset = options.preset ?? "full";
  const c = objectivesConfig(preset, runOverrides(options));
  const started = performance.now();
  const tokenizer = await learnTokenizer(c.seed, c.bpe);
  const base: ClipArchitecture = {
    ...(await worldArchitecture(c.architecture)),
    context_length: c.context_length,
    vocab_size: tokenizer.vocabSize,
  };
  const clip = architectureOf(base, c, { name: "clip", label: "clip", objective: "infonce" });
  const shared = initStateDict(clip, c.seed);
  const media = prepareMedia(c);
  const at = checkpointSteps(c.steps, c.checkpoints, c.first_checkpoint);
  const bar = new Progress(c.steps * c.objectives.length, {
    label: `${NAME} (${preset})`,
    unit: "steps",
    output: options.progress ?? "auto",
  });
  const architectures = c.objectives.map((o) => architectureOf(base, c, o));
  const sessions: TrainingSession[] = [];
  const scorers: ObjectiveScorer[] = [];
  try {
    for (const a of architectures) {
      const s = await TrainingSession.create(a, initialWeights(a, shared, c.seed), {
        backend: options.backend ?? "node",
        threads: options.threads,
        batchSize: c.batch_size,
        lr: c.lr,
        weightDecay: c.weight_decay,
        betas: c.betas,
      });
      sessions.push(s);
      scorers.push(await ObjectiveScorer.forSession(s));
    }
    const n = c.objectives.length;
    const checkpoints: ObjectivesCheckpoint[][] = c.objectives.map(() => []);
    const trainSeconds = new Array(n).fill(0), lossSum = new Array(n).fill(0);
    const macsSum = new Array(n).fill(0);
    let lossSteps = 0;
    const warmup = Math.round(c.warmup_fraction * c.steps);
    for (let step = 0; step < c.steps; step++) {
      const b = mixedBatch({ seed: c.seed, batch_size: c.batch_size, media_mix: { mixed: 1 } }, step); // the recipe's batches
      const t = tokenizer.tokenize(b.captions, {
        contextLength: c.context_length,
        truncate: true,
        padding: "longest",
      });
      const L0 = t.ids.length / c.batch_size;
      const L = Math.min(c.context_length, Math.ceil(L0 / LENGTH_BUCKET) * LENGTH_BUCKET);
      const ids = padIds(t.ids, c.batch_size, L0, L); // [B, L]
      const lr = cosineLr(step, c.steps, warmup, c.lr);
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const loss = await sessions[i].step({ pixels: b.pixels, ids, size: c.batch_size }, lr);
        trainSeconds[i] += (performance.now() - t0) / 1000;
        if (!Number.isFinite(loss)) {
          throw new TrainingDivergedError(
            `${c.objectives[i].name}: the loss became ${loss} at step ${step} (learning rate ${
              lr.toExponential(2)
            })`,
            { fix: "lower lr in configs/objectives.json (or pass a smaller one in overrides)" },
          );
        }
        lossSum[i] += loss;
        macsSum[i] += objectiveMacs(architectures[i], L, c.batch_size);
        bar.tick();
      }
      lossSteps++;
      const done = step + 1;
      if (!at.includes(done)) continue;
      for (let i = 0; i < n; i++) {
        scorers[i].load(sessions[i].stateDict());
        const { accuracy, hits } = await zeroShot(scorers[i], tokenizer, media);
        const names = Object.keys(accuracy);
        const mean = (keys: string[]) => keys.reduce((s, k) => s + accuracy[k], 0) / keys.length;
        const tasks = Object.fromEntries(
          (["colour", "shape", "seen", "unseen", "count"] as const).map((task) => [
            task,
            mean(names.filter((k) => k.endsWith(`-${task}`))),
          ]),
        ) as Record<SuiteTask, number>;
        checkpoints[i].push({
          step: done,
          images: done * c.batch_size,
          trainLoss: lossSum[i] / lossSteps,
          suiteMean: mean(names),
          combo: hits.total ? hits.seen / hits.total : 0,
          tasks,
          datasets: accuracy,
        });
        lossSum[i] = 0;
      }
      lossSteps = 0;
    }
    const runs: RunRecord[] = c.objectives.map((o, i) => {
      const macs = macsSum[i] / c.steps;
      return {
        name: o.name,
        label: o.label,
        seed: c.seed,
        settings: {
          objective: o.objective,
          text_encoder: o.objective === "infonce" || o.objective === "siglip"
            ? (o.text_encoder ?? "transformer")
            : null,
          parameters: layoutOf(architectures[i]).total,
          macsPerImage: macs,
          flopsPerStep: 2 * 3 * c.batch_size * macs,
        },
        checkpoints: checkpoints[i] as unknown as CheckpointRecord[],
        wallSeconds: trainSeconds[i],
      };
    });
    bar.finish();
    return {
      ...resultHeader(NAME, preset, c),
      seeds: [c.seed],
      runs,
      summary: summarise(runs, c, media),
      wallSeconds: (performance.now() - started) / 1000,
      finished: new Date().toISOString(),
      machine: machineInfo(sessions[0].runtime.describe()),
      kit: await kitInfo(),
    };
  } finally {
    bar.finish();
    for (const s of scorers) await s.dispose();
    for (const s of sessions) await s.dispose();
  }
}

function summarise(runs: RunRecord[], c: ObjectivesConfig, media: MediumData[]): ObjectivesSummary {
  const datasets = media.flatMap((m) => m.datasets.map((d) => d.name));
  const all = suiteDatasets().filter((d) => datasets.includes(d.name));
  const chance = all.reduce((s, d) => s + 1 / d.classes.length, 0) / all.length;
  const curve = (r: RunRecord) =>
    (r.checkpoints as unknown as ObjectivesCheckpoint[]).map((p) => ({
      images: p.images,
      accuracy: p.suiteMean,
    }));
  const best = (r: RunRecord) => Math.max(...curve(r).map((p) => p.accuracy));
  const slowest = Math.min(...runs.map(best));
  // never above the slowest run's best, so that every run reaches it (even one that stayed below chance)
  const threshold = c.threshold ?? Math.min(slowest, chance + c.threshold_fraction * (slowest - chance));
  const thresholdRule = c.threshold !== null
    ? `set in the config: a suite mean of ${(100 * c.threshold).toFixed(1)} %`
    : `chance (${
      (100 * chance).toFixed(1)
    } %) + ${c.threshold_fraction} × (the lowest best suite mean of the ` +
      `runs, ${(100 * slowest).toFixed(1)} %, − chance)`;
  const objectives: ObjectiveSummary[] = runs.map((r) => {
    const points = r.checkpoints as unknown as ObjectivesCheckpoint[];
    const reach = imagesToReach(curve(r), threshold);
    return {
      run: r.name,
      label: r.label,
      imagesToThreshold: reach.images,
      reached: reach.reached,
      imagesSeen: points.at(-1)!.images,
      finalSuiteMean: points.at(-1)!.suiteMean,
      bestSuiteMean: best(r),
      finalCombo: points.at(-1)!.combo,
      parameters: r.settings.parameters as number,
      macsPerImage: r.settings.macsPerImage as number,
      flopsPerStep: r.settings.flopsPerStep as number,
    };
  });
  const ratios = speedRatios(objectives);
  return {
    datasets,
    chance,
    threshold,
    thresholdRule,
    scoring: SCORING,
    flopsConvention: FLOPS_CONVENTION,
    objectives,
    ratios,
  };
}

/**
 * The paper's speed-ups ({@link PAPER_RATIOS}) read off the objectives' images-to-threshold, where both are in the
 * run; see {@link SpeedRatio} for the bounds.
 *
 * @example
 * ```ts
 * import { speedRatios } from "./objectives.ts";
 * const o = (run: string, imagesToThreshold: number | null, reached: string) =>
 *   ({ run, imagesToThreshold, reached, imagesSeen: 128000 }) as never;
 * speedRatios([o("caption_lm", null, "never"), o("bow_prediction", 32000, "interpolated")]);
 * // → [{ faster: "bow_prediction", slower: "caption_lm", measured: 4, kind: "at least", paper: 3 }]
 * ```
 */
export function speedRatios(objectives: readonly ObjectiveSummary[]): SpeedRatio[] {
  const byName = new Map(objectives.map((o) => [o.run, o]));
  return PAPER_RATIOS.filter((p) => byName.has(p.faster) && byName.has(p.slower)).map(
    (p) => {
      const fast = byName.get(p.faster)!, slow = byName.get(p.slower)!;
      const f = fast.imagesToThreshold;
      // a slower run that never got there needed more than all its pictures: the ratio is a lower bound
      const s = slow.imagesToThreshold ?? slow.imagesSeen;
      const early = (o: ObjectiveSummary) => o.reached === "first-checkpoint";
      const kind: SpeedRatio["kind"] = f === null || (early(fast) && early(slow))
        ? "undetermined"
        : early(fast) || slow.reached === "never"
        ? "at least"
        : early(slow)
        ? "at most"
        : "estimate";
      return {
        faster: p.faster,
        slower: p.slower,
        measured: kind === "undetermined" ? null : s / f!,
        kind,
        paper: p.paper,
      };
    },
  );
}

/** Log-scale ticks (1, 2, 5 × powers of ten) covering `[lo, hi]`. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo / 1.01 && v <= hi * 1.01) out.push(v);
    }
  }
  return out.length >= 2 ? out : [lo, hi];
}

/** `12k`, `1.5M`: a count of pictures in a few characters. */
function compact(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(2)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(2)}k`;
  return String(Math.round(v));
}

/**
 * Zero-shot accuracy against training pictures processed (log x), one line per objective, as the paper's
 * Figure 2: the suite mean (with chance, the threshold and where each objective reaches it) and the 80-way
 * colour+shape task. Axes follow the result's range (a quick run's few hundred pictures or a full run's).
 *
 * @example
 * ```ts
 * import { figure } from "./objectives.ts";
 * import { readResult } from "./result.ts";
 * figure(await readResult("objectives")).title; // → "Efficiency of objectives: zero-shot accuracy vs pictures seen"
 * ```
 */
export function figure(result: ExperimentResult): Figure {
  const r = result as ObjectivesResult;
  const s = r.summary;
  if (!r.runs?.length || !s?.objectives?.length) {
    throw new PlotInputError("the objectives result has no runs to draw", {
      fix: "pass a result of the objectives experiment's run()",
    });
  }
  const colour = (i: number) => OKABE_ITO[i % OKABE_ITO.length];
  const points = r.runs.flatMap((run, i) =>
    (run.checkpoints as unknown as ObjectivesCheckpoint[]).map((p) => ({
      run: run.name,
      i,
      images: p.images,
      mean: 100 * p.suiteMean,
      combo: 100 * p.combo,
    }))
  );
  const images = points.map((p) => p.images);
  const [lo, hi] = [Math.min(...images), Math.max(...images)];
  const x = {
    type: "log" as const,
    domain: [lo / 1.2, hi * 1.2],
    ticks: logTicks(lo, hi),
    tickFormat: compact,
    label: "training pictures processed (log scale)",
    labelAnchor: "center" as const,
    labelArrow: "none" as const,
    grid: true,
  };
  const size = { width: 480, height: 320, marginLeft: 56, marginRight: 20, marginTop: 20, marginBottom: 46 };
  const lines = (key: "mean" | "combo") =>
    r.runs.flatMap((_, i) => {
      const mine = points.filter((p) => p.i === i);
      return [
        Plot.lineY(mine, { x: "images", y: key, stroke: colour(i), strokeWidth: 2.5 }),
        Plot.dot(mine, { x: "images", y: key, fill: colour(i), r: 3.5 }),
      ];
    });
  const top = (key: "mean" | "combo", extra: number[]) =>
    Math.min(100, Math.ceil((Math.max(...points.map((p) => p[key]), ...extra) + 5) / 10) * 10);
  const crossings = s.objectives
    .map((o, i) => ({ i, images: o.imagesToThreshold, y: 100 * s.threshold }))
    .filter((c): c is { i: number; images: number; y: number } => c.images !== null);
  const meanPanel = plotPanel({
    ...size,
    x,
    y: {
      domain: [0, top("mean", [100 * s.threshold])],
      label: `zero-shot, mean of ${s.datasets.length} test sets (%)`,
      labelArrow: "none",
      grid: true,
    },
    marks: [
      Plot.ruleY([100 * s.chance], { stroke: MUTED, strokeDasharray: "4,3" }),
      Plot.ruleY([100 * s.threshold], { stroke: INK, strokeDasharray: "6,4" }),
      ...lines("mean"),
      Plot.dot(crossings, {
        x: "images",
        y: "y",
        stroke: (c: { i: number }) => colour(c.i),
        fill: "white",
        r: 5.5,
        strokeWidth: 2,
      }),
      Plot.text([{ x: lo, y: 100 * s.threshold }], {
        x: "x",
        y: "y",
        text: () => `threshold ${(100 * s.threshold).toFixed(1)} %`,
        dy: -8,
        textAnchor: "start",
        fontSize: FONT_SIZE,
        fill: INK,
      }),
    ],
  });
  const comboPanel = plotPanel({
    ...size,
    x,
    y: {
      domain: [0, top("combo", [])],
      label: "zero-shot colour+shape, 80-way (%)",
      labelArrow: "none",
      grid: true,
    },
    marks: [Plot.ruleY([100 / 80], { stroke: MUTED, strokeDasharray: "4,3" }), ...lines("combo")],
  });
  const ratio = (faster: string, slower: string) => {
    const q = s.ratios.find((x) => x.faster === faster && x.slower === slower);
    if (q?.measured == null) return "n/a";
    return `${q.kind === "at least" ? "≥ " : q.kind === "at most" ? "≤ " : ""}${q.measured.toFixed(1)}×`;
  };
  const c = r.config;
  const items = [
    ...r.runs.map((run, i) => ({ label: run.label, color: colour(i), shape: "line" as const })),
    { label: "chance", color: MUTED, shape: "dash" as const },
    { label: "threshold", color: INK, shape: "dash" as const },
  ];
  // as many items a row as fit over the two charts (swatchLegend's spacing: swatch, gap, label, gap)
  const room = 2 * size.width + 24,
    wide = (it: { label: string }) => 1.6 * FONT_SIZE + 6 + textWidth(it.label, FONT_SIZE) + 20;
  const legend: (typeof items)[] = [[]];
  let used = 0;
  for (const it of items) {
    if (used + wide(it) > room && legend.at(-1)!.length) {
      legend.push([]);
      used = 0;
    }
    legend.at(-1)!.push(it);
    used += wide(it);
  }
  return compose({
    title: "Efficiency of objectives: zero-shot accuracy vs pictures seen",
    subtitle:
      `${r.preset} run · ${c.architecture} image tower · ${c.steps} steps × ${c.batch_size} pictures · ` +
      `seed ${r.seeds.join(", ")} · ${s.datasets.length} test sets of the suite (${c.media.join(", ")})`,
    rows: [
      ...legend.map((items) => [swatchLegend(items)]),
      [meanPanel, comboPanel],
    ],
    note: `○ where a line reaches the threshold · fewer pictures: BoW prediction than the LM ${
      ratio("bow_prediction", "caption_lm")
    } (paper 3×), BoW contrastive than BoW prediction ${
      ratio("bow_contrastive", "bow_prediction")
    } (paper 4×)`,
  });
}
