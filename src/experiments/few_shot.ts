/**
 * Experiment `few-shot`: how many labelled examples is zero-shot worth? The CLIP paper (Radford et al. 2021,
 * section 3.1.5, Figures 6 and 7) fits logistic regression on CLIP's own image features with k labelled
 * examples per class and finds that zero-shot CLIP matches, on average over its datasets, a 4-shot linear
 * probe — with a wide spread per dataset (a median of 5.4 shots, some datasets needing far more). Here the
 * same comparison runs on the shipped tiny CLIP over the zero-shot suite of the shapes world.
 *
 * per medium: the suite's test pictures + a labelled pool (the validation split), embedded once (unit rows)
 *   → per dataset: zero-shot accuracy on test (class weights from the ensemble of the dataset's templates)
 *   → per label set (colour, shape, count, and the 80 colour+shape combinations that `seen` and `unseen`
 *     share), per seeded draw: each class's pool pictures shuffled; the first k are the k shots (so the
 *     draws are nested: the 4 shots hold the 2), the next `validation_per_class` are held out to choose C
 *   → per k: linearProbe on the shots (C swept on the held-out labels, no refit), top-1 on test
 *   → per dataset: mean / std over draws per k, and the k at which the probe equals zero-shot
 *     (log-linear interpolation, as the paper's Figure 7) ─► suite average, per medium ─► figure
 * @module
 */
import { ClipModel } from "../model/clip_model.ts";
import { Progress } from "../model/progress.ts";
import { Matrix } from "../math/matrix.ts";
import { normalize } from "../math/similarity.ts";
import { linearProbe } from "../math/linear_probe.ts";
import { accuracyOf, classWeights, embedPrompts } from "../zeroshot/classifier.ts";
import { rememberingTextEncoder } from "../zeroshot/text_cache.ts";
import {
  SUITE_MEDIA,
  SUITE_TASKS,
  type SuiteDataset,
  suiteDatasets,
  type SuiteImages,
  suiteImages,
  type SuiteMedium,
  type SuiteTask,
} from "../data/suite.ts";
import { mixSeeds, mulberry32 } from "../data/random.ts";
import { preprocessInto } from "../image/preprocess.ts";
import type { DecodedImage } from "../image/types.ts";
import {
  type CheckpointRecord,
  type ExperimentResult,
  kitInfo,
  machineInfo,
  type Preset,
  presetConfig,
  REPO_ROOT,
  resultHeader,
  type RunOptions,
  runOverrides,
  type RunRecord,
} from "./result.ts";
import { ExperimentError, PlotInputError } from "../errors.ts";
import * as Plot from "@observablehq/plot";
import { plotPanel } from "../plot/dom.ts";
import { compose, type Figure } from "../plot/figure.ts";
import { swatchLegend } from "../plot/legend.ts";
import { textWidth } from "../plot/svg.ts";
import { FONT_SIZE, INK, MUTED, OKABE_ITO } from "../plot/theme.ts";
import presets from "./configs/few_shot.json" with { type: "json" };
import { isAbsolute, join } from "node:path";

/** This experiment's name (its registry entry, result file and figure). */
export const NAME = "few-shot";

/** The experiment's configuration. */
export interface FewShotConfig {
  /** One line on what the preset is for. */
  why?: string;
  /** The model folder (relative to the repository root, or absolute). */
  model: string;
  /** Seed of the first draw; draw d uses seed + d. */
  seed: number;
  /** Seeded random draws of the shots per k. */
  draws: number;
  /** Labelled examples per class, ascending (the paper: 1, 2, 4, 8, 16). */
  shots: number[];
  /** Suite media and tasks to run (a dataset is one medium × one task). */
  media: SuiteMedium[];
  tasks: SuiteTask[];
  /** Seed of the suite's pictures (the suite's own default, 0, gives its table's test pictures). */
  suite_seed: number;
  /** Test pictures per medium for colour, shape, seen and count (the suite: 600; quick 150). */
  test_examples: number;
  /** Test pictures of held-out combinations for the unseen task (the suite: 200; quick 50). */
  test_unseen_examples: number;
  /** Pictures of the validation split per medium that the shots and the held-out labels are drawn from. */
  pool_examples: number;
  /** Labelled pictures per class held out (disjoint from every k's shots) to choose C on. */
  validation_per_class: number;
  /** A fixed inverse regularisation strength for every probe, or null to sweep it. */
  C: number | null;
  /** The sweep of C: `steps` values, logarithmically spaced from `min` to `max`. */
  sweep: { min: number; max: number; steps: number };
}

/** "Zero-shot equals k shots": a number of shots, or `"<1"` / `">16"` when outside the shots measured. */
export type ShotsEqual = number | string;

/** One point of an accuracy-vs-shots curve. */
export interface CurvePoint {
  shots: number;
  /** Mean top-1 over the draws. */
  mean: number;
  /** Sample standard deviation over the draws (0 for one draw). */
  std: number;
  /** Each draw's top-1. */
  draws: number[];
}

/** An average over a group of datasets (the whole suite, or one medium). */
export interface GroupAverage {
  /** `"suite"`, or the medium. */
  group: string;
  datasets: number;
  /** Mean zero-shot top-1 over the group's datasets. */
  zeroShot: number;
  /** Mean probe top-1 per k; a draw's value is the mean over datasets of that draw. */
  curve: CurvePoint[];
  /** Where the average curve reaches the average zero-shot accuracy. */
  shotsEqual: ShotsEqual;
}

/** One dataset's headline numbers. */
export interface DatasetSummary {
  dataset: string;
  medium: SuiteMedium;
  task: SuiteTask;
  classes: number;
  chance: number;
  zeroShot: number;
  /** Mean probe top-1 per k (in `shots` order). */
  probe: number[];
  shotsEqual: ShotsEqual;
}

/** The headline numbers. */
export interface FewShotSummary {
  shots: number[];
  average: GroupAverage;
  byMedium: GroupAverage[];
  datasets: DatasetSummary[];
  /** The spread of the per-dataset "shots equal": median and how many fall below, within and above k. */
  shotsEqual: { median: ShotsEqual; below: number; within: number; above: number };
}

/** The result of {@link run}. */
export type FewShotResult = ExperimentResult<FewShotConfig, FewShotSummary>;

function fail(problem: string, fix: string): never {
  throw new ExperimentError(problem, { fix });
}

function wholeAtLeast(name: string, value: unknown, min: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    fail(`${name} is ${JSON.stringify(value)}, not a whole number ≥ ${min}`, `pass e.g. ${name}: ${min}`);
  }
}

/**
 * The config of a preset, with `overrides` applied and checked.
 *
 * @example
 * ```ts
 * import { fewShotConfig } from "./few_shot.ts";
 * fewShotConfig("quick", { shots: [1, 4] }).shots; // → [1, 4]
 * fewShotConfig("full").media.length * fewShotConfig("full").tasks.length; // → 30
 * ```
 */
export function fewShotConfig(
  preset: Preset = "full",
  overrides: Partial<FewShotConfig> = {},
): FewShotConfig {
  const config = presetConfig<FewShotConfig>(presets, preset, overrides);
  wholeAtLeast("seed", config.seed, 0);
  wholeAtLeast("draws", config.draws, 1);
  wholeAtLeast("suite_seed", config.suite_seed, 0);
  wholeAtLeast("test_examples", config.test_examples, 1);
  wholeAtLeast("test_unseen_examples", config.test_unseen_examples, 1);
  wholeAtLeast("pool_examples", config.pool_examples, 1);
  wholeAtLeast("validation_per_class", config.validation_per_class, config.C === null ? 1 : 0);
  if (!Array.isArray(config.shots) || config.shots.length === 0) {
    fail("no shots to try", "pass e.g. shots: [1, 2, 4, 8, 16]");
  }
  config.shots.forEach((k, i) => {
    wholeAtLeast(`shots[${i}]`, k, 1);
    if (i > 0 && !(k > config.shots[i - 1])) {
      fail(
        `shots ${JSON.stringify(config.shots)} are not in increasing order`,
        "list each k once, ascending",
      );
    }
  });
  for (
    const [name, list, known] of [
      ["media", config.media, SUITE_MEDIA],
      ["tasks", config.tasks, SUITE_TASKS],
    ] as const
  ) {
    if (!Array.isArray(list) || list.length === 0) fail(`no ${name}`, `pick some of ${known.join(", ")}`);
    for (const v of list as string[]) {
      if (!(known as readonly string[]).includes(v)) {
        fail(
          `unknown ${name === "media" ? "medium" : "task"} ${JSON.stringify(v)}`,
          `use some of ${known.join(", ")}`,
        );
      }
    }
  }
  if (config.C !== null && !(typeof config.C === "number" && Number.isFinite(config.C) && config.C > 0)) {
    fail(`C is ${JSON.stringify(config.C)}`, "pass a number > 0, or null to sweep C on the held-out labels");
  }
  const s = config.sweep;
  if (
    !s || !(s.min > 0) || !(s.max >= s.min) || !Number.isFinite(s.max) || !Number.isInteger(s.steps) ||
    s.steps < 1
  ) {
    fail(`sweep ${JSON.stringify(s)} is not a grid`, "pass e.g. sweep: { min: 0.1, max: 1000, steps: 5 }");
  }
  return config;
}

/**
 * The number of shots at which a probe's accuracy curve reaches `target` (the zero-shot accuracy): the
 * first k whose accuracy is at least the target, interpolated linearly in log₂ k with the k before it (the
 * paper's Figure 7 interpolates log-linearly too). `"<k₁"` when the first k already beats the target,
 * `">kₙ"` when no k reaches it.
 *
 * @example
 * ```ts
 * import { matchingShots } from "./few_shot.ts";
 * const k = [1, 2, 4, 8, 16];
 * matchingShots(k, [0.2, 0.3, 0.4, 0.5, 0.6], 0.35); // → 2.8284271247461903 (2^1.5: halfway from 2 to 4 in log₂)
 * matchingShots(k, [0.2, 0.3, 0.4, 0.5, 0.6], 0.4); // → 4
 * matchingShots(k, [0.5, 0.6, 0.7, 0.8, 0.9], 0.3); // → "<1"
 * matchingShots(k, [0.2, 0.3, 0.4, 0.5, 0.6], 0.9); // → ">16"
 * ```
 */
export function matchingShots(
  shots: readonly number[],
  accuracy: readonly number[],
  target: number,
): ShotsEqual {
  if (shots.length === 0 || shots.length !== accuracy.length) {
    fail(
      `matchingShots: ${shots.length} shots but ${accuracy.length} accuracies`,
      "pass one accuracy per k (at least one)",
    );
  }
  const first = accuracy.findIndex((a) => a >= target);
  if (first < 0) return `>${shots.at(-1)}`;
  if (first === 0) return accuracy[0] === target ? shots[0] : `<${shots[0]}`;
  const [a0, a1] = [accuracy[first - 1], accuracy[first]];
  const [l0, l1] = [Math.log2(shots[first - 1]), Math.log2(shots[first])];
  return 2 ** (l0 + (l1 - l0) * (target - a0) / (a1 - a0));
}

/**
 * A position on the log₂ k axis for sorting and drawing: a bound sits one doubling outside the shots it
 * names (`"<1"` at 0.5, `">16"` at 32).
 *
 * @example
 * ```ts
 * import { shotsPosition } from "./few_shot.ts";
 * [shotsPosition(3.2), shotsPosition("<1"), shotsPosition(">16")]; // → [3.2, 0.5, 32]
 * ```
 */
export function shotsPosition(s: ShotsEqual): number {
  if (typeof s === "number") return s;
  const bound = Number(s.slice(1));
  return s.startsWith("<") ? bound / 2 : bound * 2;
}

/**
 * The median of "shots equal" values, bounds included: the middle value, or for an even count the
 * geometric mean of the two middle ones (a bound when one of them is a bound).
 *
 * @example
 * ```ts
 * import { medianShots } from "./few_shot.ts";
 * medianShots([3, "<1", 12]); // → 3
 * medianShots([2, 8, ">16", "<1"]); // → 4
 * medianShots([">16", ">16", 5]); // → ">16"
 * ```
 */
export function medianShots(values: readonly ShotsEqual[]): ShotsEqual {
  if (values.length === 0) fail("medianShots: no values", "pass at least one value");
  const sorted = [...values].sort((a, b) => shotsPosition(a) - shotsPosition(b));
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[mid];
  const [a, b] = [sorted[mid - 1], sorted[mid]];
  if (typeof a === "number" && typeof b === "number") return Math.sqrt(a * b);
  if (typeof a === "string" && typeof b === "string" && a === b) return a;
  // one side unknown: the median lies below the upper number, or above the lower one
  return typeof a === "string" && a.startsWith("<") ? (typeof b === "number" ? `<${b}` : a) : `>${a}`;
}

/** Mean, and the sample standard deviation (0 for one value). */
function meanStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  if (values.length < 2) return { mean, std: 0 };
  const ss = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (values.length - 1)) };
}

/** Rows of a matrix, in the given order: `[rows.length, D]`. */
function pickRows(m: Matrix, rows: readonly number[]): Matrix {
  const out = new Float32Array(rows.length * m.cols); // [rows, D]
  rows.forEach((r, k) => out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), k * m.cols));
  return new Matrix(out, rows.length, m.cols);
}

/** Unit image embeddings of pictures, preprocessed as the model's pipeline does: `[N, D]`. */
async function embedUnit(model: ClipModel, images: DecodedImage[]): Promise<Matrix> {
  const chw = 3 * model.imageSize * model.imageSize;
  const pixels = new Float32Array(images.length * chw); // [N, 3, R, R]
  images.forEach((image, i) => preprocessInto(image, pixels, i * chw, model.preprocessOptions));
  return normalize(await model.encodePixels(pixels, { progress: false }));
}

/** The label set a task's probe is fitted on: `seen` and `unseen` share the 80 colour+shape combinations. */
type LabelSet = "colour" | "shape" | "count" | "combo";
const LABEL_SET: Record<SuiteTask, LabelSet> = {
  colour: "colour",
  shape: "shape",
  count: "count",
  seen: "combo",
  unseen: "combo",
};
const LABEL_SETS: readonly LabelSet[] = ["colour", "shape", "count", "combo"];

/** A dataset's test pictures (unit embeddings) and labels, as the suite scores them. */
function testData(task: SuiteTask, all: SuiteImages, unseen: SuiteImages, eAll: Matrix, eUnseen: Matrix) {
  const where = (n: number, keep: (i: number) => boolean) =>
    Array.from({ length: n }, (_, i) => i).filter(keep);
  switch (task) {
    case "seen": {
      const rows = where(all.combo.length, (i) => all.heldOut[i] === 0);
      return { features: pickRows(eAll, rows), labels: Int32Array.from(rows, (r) => all.combo[r]) };
    }
    case "unseen":
      return { features: eUnseen, labels: unseen.combo };
    default:
      return { features: eAll, labels: all[task] };
  }
}

/**
 * Per class, the pool's pictures of that class in a seeded random order: the first k are the k shots of
 * this draw, the ones from `maxShots` on are held out for C. Throws when a class has too few pictures.
 */
function drawOrder(
  labels: Int32Array,
  classes: number,
  seed: number,
  need: number,
  where: string,
): number[][] {
  const byClass = Array.from({ length: classes }, () => [] as number[]);
  labels.forEach((c, i) => byClass[c].push(i));
  const rng = mulberry32(seed);
  byClass.forEach((rows, c) => {
    if (rows.length < need) {
      fail(
        `${where}: class ${c} has ${rows.length} pool pictures, fewer than the ${need} needed (the most shots + ` +
          `validation_per_class)`,
        "raise pool_examples (the 80-way colour+shape tasks need about 4000), or lower the shots",
      );
    }
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
  });
  return byClass;
}

/** The model folder of a config, resolved against the repository root. */
function modelDir(config: FewShotConfig): string {
  return isAbsolute(config.model) ? config.model : join(REPO_ROOT, config.model);
}

/**
 * Run the experiment: zero-shot and k-shot linear probes on every chosen dataset of the suite.
 *
 * @example
 * ```ts
 * import { run } from "./few_shot.ts";
 * const result = await run({ preset: "quick", overrides: { media: ["classic"], tasks: ["shape"], draws: 2 } });
 * result.runs.map((r) => r.name); // → ["classic-shape"]
 * result.runs[0].checkpoints.map((c) => c.step); // → [1, 2, 4, 8, 16]
 * typeof result.summary.average.shotsEqual; // → "number" (or a bound, "<1" / ">16")
 * ```
 */
export async function run(options: RunOptions<FewShotConfig> = {}): Promise<FewShotResult> {
  const preset = options.preset ?? "full";
  const config = fewShotConfig(preset, runOverrides(options));
  const started = performance.now();
  const seeds = Array.from({ length: config.draws }, (_, d) => config.seed + d);
  const datasets = suiteDatasets().filter((d) =>
    config.media.includes(d.medium) && config.tasks.includes(d.task)
  );
  const maxShots = config.shots.at(-1)!;
  const need = maxShots + (config.C === null ? config.validation_per_class : 0);
  const fits = config.media.length * new Set(config.tasks.map((t) => LABEL_SET[t])).size * seeds.length *
    config.shots.length;
  const bar = new Progress(fits, {
    label: `${NAME} (${preset})`,
    unit: "probes",
    output: options.progress ?? "auto",
  });
  const model = await ClipModel.load(modelDir(config), {
    backend: options.backend ?? "node",
    threads: options.threads,
  });
  const text = rememberingTextEncoder(model);
  const runs: RunRecord[] = [];
  try {
    for (const medium of SUITE_MEDIA.filter((m) => config.media.includes(m))) {
      const mediumStart = performance.now();
      const mine = datasets.filter((d) => d.medium === medium);
      const seed = config.suite_seed;
      const all = suiteImages(medium, "test", config.test_examples, { seed, combos: "all" });
      const needsUnseen = mine.some((d) => d.task === "unseen");
      const unseen = suiteImages(medium, "test", needsUnseen ? config.test_unseen_examples : 0, {
        seed,
        combos: "unseen",
      });
      const eAll = await embedUnit(model, all.images);
      const eUnseen = needsUnseen
        ? await embedUnit(model, unseen.images)
        : new Matrix(new Float32Array(0), 0, 1);
      const pool = suiteImages(medium, "validation", config.pool_examples, { seed, combos: "all" });
      const ePool = await embedUnit(model, pool.images);
      const tests = new Map(mine.map((d) => [d.name, testData(d.task, all, unseen, eAll, eUnseen)]));
      // accuracy[dataset][k][draw]
      const accuracy = new Map(mine.map((d) => [d.name, config.shots.map(() => [] as number[])]));
      const chosenC = new Map(mine.map((d) => [d.name, config.shots.map(() => [] as number[])]));
      const shared = (performance.now() - mediumStart) / 1000; // seconds of pictures and embeddings
      const fitSeconds = new Map<LabelSet, number>();
      for (const set of LABEL_SETS) {
        const scored = mine.filter((d) => LABEL_SET[d.task] === set);
        if (scored.length === 0) continue;
        const setStart = performance.now();
        const classes = scored[0].classes;
        const labels = pool[set];
        for (const [draw, drawSeed] of seeds.entries()) {
          const order = drawOrder(
            labels,
            classes.length,
            mixSeeds(drawSeed, SUITE_MEDIA.indexOf(medium), LABEL_SETS.indexOf(set)),
            need,
            `${medium} ${set}`,
          );
          const heldOut = order.flatMap((rows) => rows.slice(maxShots, need));
          const validation = config.C === null
            ? { features: pickRows(ePool, heldOut), labels: Int32Array.from(heldOut, (r) => labels[r]) }
            : undefined;
          for (const [ki, k] of config.shots.entries()) {
            const train = order.flatMap((rows) => rows.slice(0, k));
            const probe = linearProbe(pickRows(ePool, train), Int32Array.from(train, (r) => labels[r]), {
              classNames: classes,
              ...(config.C === null
                ? { validation, refit: false, sweep: { ...config.sweep, refineSteps: 0 } }
                : { C: config.C }),
              threads: 1,
              progress: false,
            });
            for (const d of scored) {
              const t = tests.get(d.name)!;
              accuracy.get(d.name)![ki][draw] = probe.evaluate(t).top1;
              chosenC.get(d.name)![ki][draw] = probe.C;
            }
            bar.tick();
          }
        }
        fitSeconds.set(set, (performance.now() - setStart) / 1000);
      }
      for (const d of mine) {
        const zsStart = performance.now();
        const t = tests.get(d.name)!;
        const prompts = await embedPrompts(text, d.classes, d.templates, { cache: false });
        const zeroShot = accuracyOf(classWeights(prompts), t.features, t.labels);
        const sharing = mine.filter((o) => LABEL_SET[o.task] === LABEL_SET[d.task]).length;
        const checkpoints: CheckpointRecord[] = config.shots.map((k, ki) => {
          const draws = accuracy.get(d.name)![ki];
          return {
            step: k,
            shots: k,
            train: k * d.classes.length,
            ...meanStd(draws),
            draws,
            C: chosenC.get(d.name)![ki],
          };
        });
        runs.push({
          name: d.name,
          label: d.name,
          seed: config.seed,
          settings: {
            medium: d.medium,
            task: d.task,
            classes: d.classes.length,
            chance: 1 / d.classes.length,
            test: t.labels.length,
            labels: LABEL_SET[d.task],
            validation: config.C === null ? config.validation_per_class * d.classes.length : 0,
            templates: d.templates.length,
            zeroShot,
          },
          checkpoints,
          wallSeconds: shared / mine.length + fitSeconds.get(LABEL_SET[d.task])! / sharing +
            (performance.now() - zsStart) / 1000,
        });
      }
    }
  } finally {
    bar.finish();
    await model.dispose();
  }
  return {
    ...resultHeader(NAME, preset, config),
    seeds,
    runs,
    summary: summarise(runs, datasets, config),
    wallSeconds: (performance.now() - started) / 1000,
    finished: new Date().toISOString(),
    machine: machineInfo(`${model.runtime.describe()}; probes: float64 L-BFGS on this thread`),
    kit: await kitInfo(),
  };
}

/** The average of a group of runs (datasets): zero-shot, the curve per k, and where they meet. */
function groupAverage(group: string, runs: RunRecord[], config: FewShotConfig): GroupAverage {
  const zeroShot = runs.reduce((s, r) => s + (r.settings.zeroShot as number), 0) / runs.length;
  const curve: CurvePoint[] = config.shots.map((k, ki) => {
    const draws = Array.from(
      { length: config.draws },
      (_, d) => runs.reduce((s, r) => s + (r.checkpoints[ki].draws as number[])[d], 0) / runs.length,
    );
    const mean = runs.reduce((s, r) => s + (r.checkpoints[ki].mean as number), 0) / runs.length;
    return { shots: k, mean, std: meanStd(draws).std, draws };
  });
  return {
    group,
    datasets: runs.length,
    zeroShot,
    curve,
    shotsEqual: matchingShots(config.shots, curve.map((p) => p.mean), zeroShot),
  };
}

function summarise(runs: RunRecord[], datasets: SuiteDataset[], config: FewShotConfig): FewShotSummary {
  const perDataset: DatasetSummary[] = runs.map((r, i) => {
    const probe = r.checkpoints.map((c) => c.mean as number);
    const zeroShot = r.settings.zeroShot as number;
    return {
      dataset: r.name,
      medium: datasets[i].medium,
      task: datasets[i].task,
      classes: datasets[i].classes.length,
      chance: 1 / datasets[i].classes.length,
      zeroShot,
      probe,
      shotsEqual: matchingShots(config.shots, probe, zeroShot),
    };
  });
  const values = perDataset.map((d) => d.shotsEqual);
  const below = values.filter((v) => typeof v === "string" && v.startsWith("<")).length;
  const above = values.filter((v) => typeof v === "string" && v.startsWith(">")).length;
  return {
    shots: config.shots,
    average: groupAverage("suite", runs, config),
    byMedium: SUITE_MEDIA.filter((m) => config.media.includes(m)).map((m) =>
      groupAverage(m, runs.filter((r) => r.settings.medium === m), config)
    ),
    datasets: perDataset,
    shotsEqual: { median: medianShots(values), below, within: values.length - below - above, above },
  };
}

/** The paper's average: zero-shot CLIP matches a 4-shot linear probe on its features (Figure 6). */
export const PAPER_SHOTS_EQUAL = 4;

/**
 * A "shots equal" as text: one decimal below 10, none above, a bound as it is.
 *
 * @example
 * ```ts
 * import { formatShots } from "./few_shot.ts";
 * [formatShots(3.249), formatShots(12.7), formatShots("<1")]; // → ["3.2", "13", "<1"]
 * ```
 */
export function formatShots(s: ShotsEqual): string {
  return typeof s === "number" ? (s < 10 ? s.toFixed(1) : s.toFixed(0)) : s;
}

/**
 * Two charts: the suite-average probe accuracy against k (mean over datasets, band ± one standard deviation
 * over draws) with the average zero-shot accuracy as a dashed line; and per dataset, the k at which the
 * probe equals zero-shot, on a log₂ axis whose ends hold the datasets outside the shots measured.
 *
 * @example
 * ```ts
 * import { figure } from "./few_shot.ts";
 * import { readResult } from "./result.ts";
 * figure(await readResult("few-shot")).title; // → "Zero-shot vs few-shot linear probes"
 * ```
 */
export function figure(result: ExperimentResult): Figure {
  const r = result as FewShotResult;
  const { summary, config } = r;
  if (!summary?.datasets?.length || !summary.average) {
    throw new PlotInputError("the few-shot result has no datasets to draw", {
      fix: "pass a result of the few-shot experiment's run()",
    });
  }
  const shots = summary.shots;
  const [lo, hi] = [shots[0], shots.at(-1)!];
  const pct = (v: number) => 100 * v;
  const avg = summary.average;
  const probeColour = OKABE_ITO[0], zeroColour = OKABE_ITO[3];
  const band = avg.curve.map((p) => ({ k: p.shots, y1: pct(p.mean - p.std), y2: pct(p.mean + p.std) }));
  const line = avg.curve.map((p) => ({ k: p.shots, y: pct(p.mean) }));
  const cross = typeof avg.shotsEqual === "number" ? avg.shotsEqual : null;
  const curveMarks: Plot.Markish[] = [
    Plot.areaY(band, { x: "k", y1: "y1", y2: "y2", fill: probeColour, fillOpacity: 0.18 }),
    Plot.ruleY([pct(avg.zeroShot)], { stroke: zeroColour, strokeWidth: 2.5, strokeDasharray: "6,4" }),
    Plot.lineY(line, { x: "k", y: "y", stroke: probeColour, strokeWidth: 2.5 }),
    Plot.dot(line, { x: "k", y: "y", fill: probeColour, r: 3.5 }),
  ];
  if (cross !== null) {
    curveMarks.push(
      Plot.ruleX([cross], { y1: 0, y2: pct(avg.zeroShot), stroke: INK, strokeDasharray: "2,3" }),
      Plot.dot([{ k: cross, y: pct(avg.zeroShot) }], { x: "k", y: "y", stroke: INK, fill: "white", r: 5 }),
      Plot.text([{ k: cross, y: pct(avg.zeroShot) }], {
        x: "k",
        y: "y",
        text: () => `zero-shot = ${formatShots(cross)} shots`,
        dy: 16,
        dx: 6,
        textAnchor: "start",
        fontSize: FONT_SIZE,
        fill: INK,
      }),
    );
  }
  const curve = plotPanel({
    width: 440,
    height: 330,
    marginLeft: 56,
    marginRight: 20,
    marginTop: 20,
    marginBottom: 46,
    x: {
      type: "log",
      base: 2,
      domain: [lo / 1.15, hi * 1.15],
      ticks: shots,
      tickFormat: (k: number) => String(k),
      label: "labelled examples per class, k (log scale)",
      labelAnchor: "center",
      labelArrow: "none",
      grid: true,
    },
    y: {
      domain: [0, 100],
      label: `mean top-1 over ${avg.datasets} datasets (%)`,
      labelArrow: "none",
      grid: true,
    },
    marks: curveMarks,
  });

  const names = summary.datasets.map((d) => d.dataset);
  const media: string[] = [...new Set(summary.datasets.map((d) => d.medium))];
  const colourOf = (m: string) => OKABE_ITO[media.indexOf(m) % OKABE_ITO.length];
  const dots = summary.datasets.map((d) => ({
    dataset: d.dataset,
    x: Math.min(hi * 2, Math.max(lo / 2, shotsPosition(d.shotsEqual))),
    colour: colourOf(d.medium),
    bound: typeof d.shotsEqual === "string",
  }));
  const marginLeft = Math.ceil(Math.max(...names.map((n) => textWidth(n, FONT_SIZE)))) + 14;
  const ticks = [lo / 2, ...shots, hi * 2];
  const rules: Plot.Markish[] = [
    Plot.ruleX([PAPER_SHOTS_EQUAL], { stroke: MUTED, strokeDasharray: "5,3" }),
  ];
  if (cross !== null) rules.push(Plot.ruleX([cross], { stroke: INK, strokeDasharray: "2,3" }));
  const perDataset = plotPanel({
    width: marginLeft + 360,
    height: names.length * 18 + 66,
    marginLeft,
    marginRight: 20,
    marginTop: 20,
    marginBottom: 46,
    x: {
      type: "log",
      base: 2,
      domain: [lo / 2.6, hi * 2.6],
      ticks,
      tickFormat: (k: number) => k < lo ? `<${lo}` : k > hi ? `>${hi}` : String(k),
      label: "zero-shot equals k shots (log scale)",
      labelAnchor: "center",
      labelArrow: "none",
      grid: true,
    },
    y: { domain: names, label: null, tickSize: 0, tickPadding: 8 },
    marks: [
      ...rules,
      Plot.dot(dots.filter((d) => !d.bound), { x: "x", y: "dataset", fill: "colour", r: 5 }),
      Plot.dot(dots.filter((d) => d.bound), { x: "x", y: "dataset", stroke: "colour", strokeWidth: 2, r: 5 }),
    ],
  });
  const s = summary.shotsEqual;
  return compose({
    title: "Zero-shot vs few-shot linear probes",
    subtitle: `${r.preset} run · ${config.model.split("/").at(-1)} · ${avg.datasets} datasets · k = ${
      shots.join(", ")
    } per class · ${config.draws} draws · C ${
      config.C === null
        ? `swept on ${config.validation_per_class} held-out labels per class`
        : `fixed at ${config.C}`
    }`,
    rows: [
      [swatchLegend([
        { label: "linear probe, mean ± 1 sd over draws", color: probeColour, shape: "line" },
        { label: "zero-shot (ensemble of templates)", color: zeroColour, shape: "dash" },
        { label: "where the averages meet", color: INK, shape: "dash" },
        { label: `paper: ≈ ${PAPER_SHOTS_EQUAL} shots`, color: MUTED, shape: "dash" },
      ])],
      [swatchLegend(media.map((m) => ({ label: m, color: colourOf(m), shape: "circle" as const })))],
      [curve, perDataset],
    ],
    note:
      `Average: zero-shot ${pct(avg.zeroShot).toFixed(1)} % equals a ${
        formatShots(avg.shotsEqual)
      }-shot probe. Per dataset: median ${
        formatShots(s.median)
      } shots; ${s.below} below ${lo}, ${s.within} within, ` +
      `${s.above} above ${hi} (hollow dots: outside the shots measured).`,
  });
}
