/**
 * Experiment `zero-shot-vs-probe`: the CLIP paper's Figure 5 (Radford et al. 2021, section 3.1.5). There,
 * zero-shot CLIP (no labelled example of the dataset) beats a fully supervised linear probe on ResNet-50's
 * ImageNet features (fitted on each dataset's whole training set) on 16 of 27 datasets. Here: for each of
 * the suite's 30 datasets (6 media × 5 tasks), zero-shot accuracy of the shipped `models/tiny-clip` (the
 * ensemble of the dataset's templates, test split; pretrained with captions on five media, never with labels)
 * against a linear probe on the penultimate features of a supervised model with an image tower of the same
 * size, trained on the labels of one dataset, the kit's "ImageNet" (80-way colour+shape on the `source`
 * medium, icons by default; `supervised_baseline.ts`). The probe is fitted on the dataset's labelled train
 * split, C swept on its validation split, and scored on the same test pictures. Each model takes the pictures
 * at its own side (`probe_data.ts`).
 *
 * configs/zero-shot-vs-probe.json ─► readClipRecord (the CLIP's compute) ─► trainSupervised on the source
 *   (cached; shared with robustness) ─► per medium: embedMedium (both models)
 *   ─► per dataset: zero-shot (ensemble) and fitProbe(train, validation) on test ─► zero-shot − probe
 *   ─► "CLIP wins on N of M" ─► figure: one bar per dataset, sorted
 * @module
 */
import * as Plot from "@observablehq/plot";
import { fileURLToPath } from "node:url";
import {
  type ExperimentResult,
  kitInfo,
  machineInfo,
  type Preset,
  presetConfig,
  resultHeader,
  type RunOptions,
  runOverrides,
} from "./result.ts";
import {
  checkSource,
  checkSupervisedSchedule,
  computeOf,
  type ComputeRecord,
  readClipRecord,
  supervisedRunRecord,
  type SupervisedSchedule,
  trainSupervised,
} from "./supervised_baseline.ts";
import {
  accuracy,
  embedMedium,
  fitProbe,
  type ProbeSweep,
  type SplitSizes,
  taskData,
  zeroShotAccuracy,
} from "./probe_data.ts";
import { SUITE_MEDIA, suiteDatasets, type SuiteMedium, type SuiteTask } from "../data/suite.ts";
import { ClipModel } from "../model/clip_model.ts";
import { Progress } from "../model/progress.ts";
import { plotPanel } from "../plot/dom.ts";
import { compose, type Figure } from "../plot/figure.ts";
import { swatchLegend } from "../plot/legend.ts";
import { GAIN, LOSS, MUTED } from "../plot/theme.ts";
import { ExperimentError } from "../errors.ts";
import presets from "./configs/zero-shot-vs-probe.json" with { type: "json" };

/** This experiment's name. */
export const NAME = "zero-shot-vs-probe";

/** The experiment's configuration. */
export interface ZeroShotVsProbeConfig extends SplitSizes {
  why?: string;
  seed: number;
  /** The zero-shot model's folder, relative to the repository root. */
  clip: string;
  /** The medium whose 80-way colour+shape labels the supervised baseline learns (the robustness source). */
  source: SuiteMedium;
  /** The supervised baseline's training run. */
  supervised: SupervisedSchedule;
  probe: ProbeSweep;
  /** Only these media (default all six). */
  media?: SuiteMedium[];
}

/** One dataset's numbers. */
export interface DatasetComparison {
  dataset: string;
  medium: SuiteMedium;
  task: SuiteTask;
  /** Classes both heads choose among: those of the dataset's labelled pictures (the seen task: 70 of 80). */
  classes: number;
  /** Zero-shot CLIP, ensemble templates, test top-1. */
  zeroShot: number;
  /** Linear probe on the supervised model's features, test top-1. */
  probe: number;
  /** zeroShot − probe. */
  delta: number;
  /** The C the sweep chose. */
  C: number;
  /** Labelled pictures the probe was fitted on (train + validation). */
  probeExamples: number;
  /** Test pictures scored. */
  testExamples: number;
}

/** The headline numbers. */
export interface ZeroShotVsProbeSummary {
  /** Datasets where zero-shot CLIP is ahead of the probe. */
  wins: number;
  total: number;
  meanZeroShot: number;
  meanProbe: number;
  /** The medium the supervised model was trained on, with labels. */
  source: string;
  /** The media the CLIP's pretraining showed (with captions), from its training record. */
  clipMedia: string[];
  /** The supervised model's final validation accuracy on its own task (80-way on the source, seen combinations). */
  supervisedValidation: number;
  compute: ComputeRecord;
  /** The paper's count (Figure 5). */
  paper: { wins: number; total: number };
  datasets: DatasetComparison[];
}

/** The result of {@link run}. */
export type ZeroShotVsProbeResult = ExperimentResult<ZeroShotVsProbeConfig, ZeroShotVsProbeSummary>;

/**
 * The config of a preset, with `overrides` applied and checked.
 *
 * @example
 * ```ts
 * import { zeroShotVsProbeConfig } from "./zero_shot_vs_probe.ts";
 * const c = zeroShotVsProbeConfig("quick");
 * [c.source, c.supervised.model]; // → ["icon", "world-tiny"]
 * ```
 */
export function zeroShotVsProbeConfig(
  preset: Preset = "full",
  overrides: Partial<ZeroShotVsProbeConfig> = {},
): ZeroShotVsProbeConfig {
  const config = presetConfig<ZeroShotVsProbeConfig>(presets, preset, overrides);
  checkSizes(config);
  checkSource(config.source);
  checkSupervisedSchedule(config.supervised);
  for (const m of config.media ?? []) {
    if (!SUITE_MEDIA.includes(m)) {
      throw new ExperimentError(`unknown medium ${JSON.stringify(m)}`, {
        fix: `use some of ${SUITE_MEDIA.join(", ")}`,
      });
    }
  }
  return config;
}

/** Check the split sizes, seed and sweep of a config. */
export function checkSizes(c: SplitSizes & { seed: number; probe: ProbeSweep }): void {
  for (const f of ["train_examples", "validation_examples", "test_examples", "unseen_examples"] as const) {
    if (!Number.isInteger(c[f]) || c[f] < 10) {
      throw new ExperimentError(`${f} = ${c[f]} is not a whole number ≥ 10`, {
        fix: `set ${f} to 10 or more`,
      });
    }
  }
  if (!Number.isInteger(c.seed) || c.seed < 0) {
    throw new ExperimentError(`seed ${c.seed} is not a whole number ≥ 0`, { fix: "pass e.g. seed 0" });
  }
  const p = c.probe;
  if (
    !(p.min > 0 && p.max >= p.min) || !Number.isInteger(p.steps) || p.steps < 1 ||
    !Number.isInteger(p.max_iterations)
  ) {
    throw new ExperimentError(`probe sweep ${JSON.stringify(p)} is not a grid`, {
      fix: "give 0 < min ≤ max, whole steps ≥ 1, refine_steps ≥ 0 and max_iterations ≥ 1",
    });
  }
}

/** The repository root's path of a folder named in a config. */
export function repoPath(path: string): string {
  return fileURLToPath(new URL(`../../${path}`, import.meta.url));
}

/**
 * Run the experiment; see the module documentation.
 *
 * @example
 * ```ts
 * import { run } from "./zero_shot_vs_probe.ts";
 * const r = await run({ preset: "quick", overrides: { media: ["classic"] } });
 * r.summary.datasets.map((d) => d.dataset);
 * // → ["classic-colour", "classic-shape", "classic-seen", "classic-unseen", "classic-count"]
 * ```
 */
export async function run(options: RunOptions<ZeroShotVsProbeConfig> = {}): Promise<ZeroShotVsProbeResult> {
  const preset = options.preset ?? "full";
  const config = zeroShotVsProbeConfig(preset, runOverrides(options));
  const started = performance.now();
  const media = config.media ?? [...SUITE_MEDIA];
  const bar = new Progress(config.supervised.steps + media.length, {
    label: `${NAME} (${preset})`,
    unit: "steps",
    output: options.progress ?? "auto",
  });
  const backend = options.backend ?? "node";
  const record = await readClipRecord(repoPath(config.clip));
  const clip = await ClipModel.load(repoPath(config.clip), { backend: "node" });
  const datasets: DatasetComparison[] = [];
  let training;
  try {
    training = await trainSupervised(config.supervised, config.seed, {
      backend,
      threads: options.threads,
      progress: bar,
      source: config.source,
    });
    const weights = training.snapshots.get(config.supervised.steps)!;
    const all = suiteDatasets();
    for (const medium of media) {
      const e = await embedMedium(medium, {
        seed: config.seed,
        sizes: config,
        clip,
        supervised: { model: config.supervised.model, weights },
        backend,
        threads: options.threads,
      });
      for (const d of all.filter((d) => d.medium === medium)) {
        const unseen = d.task === "unseen";
        const fitOn = unseen
          ? taskData(d.task, e.validationUnseen, "supervised")
          : taskData(d.task, e.train, "supervised");
        const validation = unseen ? null : taskData(d.task, e.validation, "supervised");
        const probe = fitProbe(fitOn, validation, config.probe, config.seed);
        // both heads choose among the classes the dataset's labelled pictures hold
        const test = taskData(d.task, unseen ? e.testUnseen : e.test, "clip");
        const zeroShot = await zeroShotAccuracy(clip, d, test, probe.classes);
        const testSup = taskData(d.task, unseen ? e.testUnseen : e.test, "supervised");
        const probeAcc = accuracy(probe.predict(testSup.x), testSup.y);
        datasets.push({
          dataset: d.name,
          medium,
          task: d.task,
          classes: probe.classes.length,
          zeroShot,
          probe: probeAcc,
          delta: zeroShot - probeAcc,
          C: probe.C,
          probeExamples: fitOn.y.length + (validation?.y.length ?? 0),
          testExamples: test.y.length,
        });
      }
      bar.tick();
    }
  } finally {
    bar.finish();
    await clip.dispose?.();
  }
  const mean = (k: "zeroShot" | "probe") => datasets.reduce((s, d) => s + d[k], 0) / datasets.length;
  return {
    ...resultHeader(NAME, preset, config),
    seeds: [config.seed],
    runs: [supervisedRunRecord(training, config.seed)],
    summary: {
      wins: datasets.filter((d) => d.delta > 0).length,
      total: datasets.length,
      meanZeroShot: mean("zeroShot"),
      meanProbe: mean("probe"),
      source: config.source,
      clipMedia: record.media,
      supervisedValidation: training.checkpoints.at(-1)!.validation,
      compute: computeOf(config.supervised, record),
      paper: { wins: 16, total: 27 },
      datasets,
    },
    wallSeconds: (performance.now() - started) / 1000,
    finished: new Date().toISOString(),
    machine: machineInfo(training.backend),
    kit: await kitInfo(),
  };
}

/**
 * One horizontal bar per dataset: zero-shot minus probe accuracy (points), sorted, green where CLIP wins.
 *
 * @example
 * ```ts
 * import { figure } from "./zero_shot_vs_probe.ts";
 * import { readResult } from "./result.ts";
 * figure(await readResult("zero-shot-vs-probe")).title; // → "Zero-shot CLIP vs a linear probe on supervised features"
 * ```
 */
export function figure(result: ExperimentResult): Figure {
  const s = result.summary as ZeroShotVsProbeSummary;
  const c = result.config as ZeroShotVsProbeConfig;
  const rows = [...s.datasets].sort((a, b) => b.delta - a.delta).map((d) => ({
    dataset: d.dataset,
    delta: 100 * d.delta,
    label: `${d.delta >= 0 ? "+" : "−"}${Math.abs(100 * d.delta).toFixed(1)}`,
    colour: d.delta > 0 ? GAIN : LOSS,
  }));
  const extent = Math.max(10, ...rows.map((r) => Math.abs(r.delta))) + 14;
  const chart = plotPanel({
    width: 720,
    height: 40 + 22 * rows.length,
    marginLeft: 130,
    marginRight: 30,
    marginTop: 30,
    marginBottom: 40,
    x: {
      label: "zero-shot CLIP − linear probe on supervised features (accuracy points)",
      labelAnchor: "center",
      labelArrow: "none",
      grid: true,
      domain: [-extent, extent],
    },
    y: { label: null, domain: rows.map((r) => r.dataset) },
    marks: [
      Plot.barX(rows, { y: "dataset", x: "delta", fill: "colour" }),
      Plot.ruleX([0], { stroke: MUTED }),
      Plot.text(rows.filter((r) => r.delta >= 0), {
        y: "dataset",
        x: "delta",
        text: "label",
        dx: 4,
        textAnchor: "start",
        fill: MUTED,
        fontSize: 11,
      }),
      Plot.text(rows.filter((r) => r.delta < 0), {
        y: "dataset",
        x: "delta",
        text: "label",
        dx: -4,
        textAnchor: "end",
        fill: MUTED,
        fontSize: 11,
      }),
    ],
  });
  return compose({
    title: "Zero-shot CLIP vs a linear probe on supervised features",
    subtitle:
      `Zero-shot CLIP wins on ${s.wins} of ${s.total} datasets (the paper: ${s.paper.wins} of ${s.paper.total}); ` +
      `${result.preset} run, seed ${result.seeds.join(", ")}`,
    rows: [[swatchLegend([
      { label: "zero-shot CLIP ahead", color: GAIN, shape: "rect" },
      { label: "supervised probe ahead", color: LOSS, shape: "rect" },
    ])], [chart]],
    note: `Probe: logistic regression on the supervised model's features (${c.supervised.steps} × ` +
      `${c.supervised.batch_size} labelled ${c.source} pictures, ${
        (s.compute.trainingFlops / 1e12).toFixed(1)
      } TFLOP; ` +
      `CLIP: ${(s.compute.clipTrainingFlops / 1e12).toFixed(1)}). Mean: zero-shot ${
        (100 * s.meanZeroShot).toFixed(1)
      } %, ` +
      `probe ${(100 * s.meanProbe).toFixed(1)} %.`,
  });
}
