/**
 * Experiment `robustness`: the CLIP paper's Figures 13 and 14 (Radford et al. 2021, section 3.3). There, a
 * zero-shot CLIP as accurate on ImageNet as a supervised ResNet-101 keeps far more of that accuracy on seven
 * natural distribution shifts (ImageNet-V2, -R, -Sketch, -A, ObjectNet, ...), closing up to 75 % of the
 * "robustness gap"; adapting CLIP to ImageNet with a logistic-regression probe raises ImageNet accuracy by
 * 9.2 points but slightly lowers the average accuracy under the shifts.
 *
 * Here the source is one medium's colour+shape task (`source`, icons by default: the 70 combinations the
 * train split shows; the kit's "ImageNet") and the shifts are the same classes drawn in other looks: by
 * default the four other media of the media world, which the shipped CLIP saw during pretraining (with
 * captions, never labels) and the supervised model never saw, and the classic pictures, which neither saw.
 * Compared on the source and under each shift:
 * - the supervised baseline (`supervised_baseline.ts`, its own head, trained on the source's labels), at every
 *   checkpoint of its training: a family of supervised models of rising source accuracy, whose linear trend is
 *   the "what supervised training gives" line of the effective-robustness plot;
 * - zero-shot CLIP (`models/tiny-clip`, the ensemble of each medium's templates);
 * - CLIP adapted: a linear probe on CLIP's image features fitted on the source's train split (C swept on
 *   its validation split), applied to every medium.
 * Effective robustness is measured over all shifts and, separately, over the looks the CLIP's pretraining
 * showed and those it did not (its training record says which), each against its own supervised trend.
 *
 * configs/robustness.json ─► trainSupervised on the source (cached; shared with zero-shot-vs-probe)
 *   ─► embed source + shifts ─► accuracies (source, each shift) per model ─► trend over the supervised
 *   checkpoints (all shifts; seen and unseen looks) ─► effective robustness, gap closed, adaptation effect
 *   ─► figure: scatter with y = x, and per-shift bars
 * @module
 */
import * as Plot from "@observablehq/plot";
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
  argmax,
  checkSource,
  checkSupervisedSchedule,
  computeOf,
  type ComputeRecord,
  readClipRecord,
  supervisedOutputs,
  supervisedRunRecord,
  type SupervisedSchedule,
  trainSupervised,
} from "./supervised_baseline.ts";
import {
  accuracy,
  type EmbeddedMedium,
  embedMedium,
  fitProbe,
  type ProbeSweep,
  type SplitSizes,
  taskData,
  taskRows,
  zeroShotAccuracy,
} from "./probe_data.ts";
import { checkSizes, repoPath } from "./zero_shot_vs_probe.ts";
import { SUITE_MEDIA, suiteDatasets, type SuiteMedium } from "../data/suite.ts";
import { ClipModel } from "../model/clip_model.ts";
import { Progress } from "../model/progress.ts";
import { plotPanel } from "../plot/dom.ts";
import { compose, type Figure } from "../plot/figure.ts";
import { swatchLegend } from "../plot/legend.ts";
import { MUTED, OKABE_ITO } from "../plot/theme.ts";
import { ExperimentError } from "../errors.ts";
import presets from "./configs/robustness.json" with { type: "json" };

/** This experiment's name. */
export const NAME = "robustness";

/** The experiment's configuration (`unseen_examples` is unused: the task is the seen combinations). */
export interface RobustnessConfig extends SplitSizes {
  why?: string;
  seed: number;
  clip: string;
  /** The medium with labels: the supervised baseline's training pictures and the adaptation probe's. */
  source: SuiteMedium;
  supervised: SupervisedSchedule;
  probe: ProbeSweep;
  /** The looks the source's classes are shifted to (media of the suite other than the source). */
  shifts: SuiteMedium[];
}

/** One model's accuracies. */
export interface ModelAccuracies {
  /** `"supervised"`, `"zero-shot"`, `"adapted"`. */
  model: string;
  /** The supervised checkpoint's step (null for CLIP's heads). */
  step: number | null;
  /** Accuracy on the source medium's test pictures. */
  source: number;
  /** Accuracy on each shifted medium's test pictures. */
  shifts: Record<string, number>;
  /** Mean over the shifts. */
  meanShift: number;
}

/** Effective robustness over a group of shifts, against the supervised trend on those shifts alone. */
export interface ShiftGroup {
  /** `"pretrained"`: looks the CLIP's pretraining showed (with captions); `"unseen"`: looks neither model saw. */
  group: "pretrained" | "unseen";
  media: string[];
  /** Mean accuracy over the group's shifts ≈ slope · source + intercept over the supervised checkpoints past 0. */
  trend: { slope: number; intercept: number };
  /** Mean accuracy over the group's shifts: the final supervised model, zero-shot and adapted CLIP. */
  meanShift: { supervised: number; zeroShot: number; adapted: number };
  /** Mean over the group − the group's trend at the model's source accuracy. */
  effectiveRobustness: { zeroShot: number; adapted: number };
}

/** The headline numbers. */
export interface RobustnessSummary {
  source: string;
  /** The looks the CLIP's pretraining showed (its training record's media). */
  clipMedia: string[];
  /** The shifts split by whether the CLIP's pretraining showed them (a group with no shift is left out). */
  groups: ShiftGroup[];
  /** Classes every head chooses among (the source task's seen combinations). */
  classes: number;
  /** The supervised model at every checkpoint (the last is the baseline). */
  supervised: ModelAccuracies[];
  zeroShot: ModelAccuracies;
  adapted: ModelAccuracies;
  /** meanShift ≈ slope · source + intercept over the supervised checkpoints past step 0 (least squares). */
  trend: { slope: number; intercept: number };
  /** meanShift − the trend at the model's source accuracy (the paper's "effective robustness"). */
  effectiveRobustness: { zeroShot: number; adapted: number };
  /** source − meanShift: the accuracy lost under shift. */
  gap: { supervised: number; zeroShot: number; adapted: number };
  /** 1 − zero-shot gap / supervised gap (the paper: "up to 75 %"). */
  gapClosed: number;
  /** Adapted − zero-shot: on the source, mean under shift, and per shift. */
  adaptation: { source: number; meanShift: number; shifts: Record<string, number>; C: number };
  compute: ComputeRecord;
  paper: { gapClosed: number; adaptationSource: number; adaptationMeanShift: string };
}

/** The result of {@link run}. */
export type RobustnessResult = ExperimentResult<RobustnessConfig, RobustnessSummary>;

/**
 * The config of a preset, with `overrides` applied and checked.
 *
 * @example
 * ```ts
 * import { robustnessConfig } from "./robustness.ts";
 * const c = robustnessConfig("full");
 * [c.source, c.shifts]; // → ["icon", ["outline", "sketch", "photo", "pixel", "classic"]]
 * ```
 */
export function robustnessConfig(
  preset: Preset = "full",
  overrides: Partial<RobustnessConfig> = {},
): RobustnessConfig {
  const config = presetConfig<RobustnessConfig>(presets, preset, overrides);
  checkSizes(config);
  checkSource(config.source);
  checkSupervisedSchedule(config.supervised);
  const others = SUITE_MEDIA.filter((m) => m !== config.source);
  if (!Array.isArray(config.shifts) || config.shifts.length === 0) {
    throw new ExperimentError("no shifted media", { fix: `give shifts, some of ${others.join(", ")}` });
  }
  for (const m of config.shifts) {
    if (!(SUITE_MEDIA as readonly string[]).includes(m)) {
      throw new ExperimentError(`shift ${JSON.stringify(m)} is not a medium of the suite`, {
        fix: `use some of ${others.join(", ")}`,
      });
    }
    if (m === config.source) {
      throw new ExperimentError(`shift ${JSON.stringify(m)} is the source itself`, {
        fix: `shift to other media: some of ${others.join(", ")}`,
      });
    }
  }
  if (new Set(config.shifts).size !== config.shifts.length) {
    throw new ExperimentError(`shifts ${JSON.stringify(config.shifts)} name a medium twice`, {
      fix: "list each medium once",
    });
  }
  return config;
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

function accuracies(
  model: string,
  step: number | null,
  source: number,
  shifts: Record<string, number>,
): ModelAccuracies {
  return { model, step, source, shifts, meanShift: mean(Object.values(shifts)) };
}

/** Least-squares line through (x, y). */
function fitLine(x: number[], y: number[]): { slope: number; intercept: number } {
  const mx = mean(x), my = mean(y);
  let sxy = 0, sxx = 0;
  x.forEach((xi, i) => {
    sxy += (xi - mx) * (y[i] - my);
    sxx += (xi - mx) ** 2;
  });
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { slope, intercept: my - slope * mx };
}

/**
 * Run the experiment; see the module documentation.
 *
 * @example
 * ```ts
 * import { run } from "./robustness.ts";
 * const r = await run({ preset: "quick", overrides: { shifts: ["photo"] } });
 * Object.keys(r.summary.zeroShot.shifts); // → ["photo"]
 * ```
 */
export async function run(options: RunOptions<RobustnessConfig> = {}): Promise<RobustnessResult> {
  const preset = options.preset ?? "full";
  const config = robustnessConfig(preset, runOverrides(options));
  const started = performance.now();
  const bar = new Progress(config.supervised.steps + 1 + config.shifts.length, {
    label: `${NAME} (${preset})`,
    unit: "steps",
    output: options.progress ?? "auto",
  });
  const backend = options.backend ?? "node";
  const record = await readClipRecord(repoPath(config.clip));
  const clip = await ClipModel.load(repoPath(config.clip), { backend: "node" });
  let training, summary: Omit<RobustnessSummary, "compute" | "paper">;
  try {
    training = await trainSupervised(config.supervised, config.seed, {
      backend,
      threads: options.threads,
      progress: bar,
      source: config.source,
    });
    const final = training.snapshots.get(config.supervised.steps)!;
    const embed = (medium: SuiteMedium, splits: ("train" | "validation" | "test")[]) =>
      embedMedium(medium, {
        seed: config.seed,
        sizes: config,
        clip,
        supervised: { model: config.supervised.model, weights: final },
        backend,
        threads: options.threads,
        splits,
      });
    const media: EmbeddedMedium[] = [await embed(config.source, ["train", "validation", "test"])];
    bar.tick();
    for (const m of config.shifts) {
      media.push(await embed(m, ["test"]));
      bar.tick();
    }
    // the classes: the source's seen combinations, as its train split holds them
    const classes = [...new Set(taskRows("seen", media[0].train).labels)].sort((a, b) => a - b);
    const allowed = new Uint8Array(80);
    for (const c of classes) allowed[c] = 1;
    const datasets = suiteDatasets();
    const tests = media.map((e) => ({ medium: e.medium, test: e.test, rows: taskRows("seen", e.test) }));
    const byMedium = (values: number[]) =>
      Object.fromEntries(values.slice(1).map((v, i) => [tests[i + 1].medium, v]));
    // the supervised head at every checkpoint, choosing among the allowed classes
    const supervised: ModelAccuracies[] = [];
    for (const c of training.checkpoints) {
      const weights = training.snapshots.get(c.step)!;
      const acc: number[] = [];
      for (const t of tests) {
        const { logits } = await supervisedOutputs(config.supervised.model, weights, t.test.pixels, {
          backend,
          threads: options.threads,
        });
        const masked = Float32Array.from(logits, (v, i) => (allowed[i % 80] ? v : -Infinity));
        const predicted = t.rows.rows.map((r) => argmax(masked, r * 80, 80));
        acc.push(accuracy(predicted, t.rows.labels));
      }
      supervised.push(accuracies("supervised", c.step, acc[0], byMedium(acc)));
    }
    // zero-shot CLIP: each medium's templates for the same classes
    const zs: number[] = [];
    for (const t of tests) {
      const d = datasets.find((d) => d.name === `${t.medium}-seen`)!;
      zs.push(await zeroShotAccuracy(clip, d, taskData("seen", t.test, "clip"), classes));
    }
    const zeroShot = accuracies("zero-shot", null, zs[0], byMedium(zs));
    // adapted: a linear probe on CLIP's features of the source
    const probe = fitProbe(
      taskData("seen", media[0].train, "clip"),
      taskData("seen", media[0].validation, "clip"),
      config.probe,
      config.seed,
    );
    const ad = tests.map((t) => {
      const d = taskData("seen", t.test, "clip");
      return accuracy(probe.predict(d.x), d.y);
    });
    const adapted = accuracies("adapted", null, ad[0], byMedium(ad));
    const trained = supervised.filter((s) => s.step !== 0);
    const trend = fitLine(trained.map((s) => s.source), trained.map((s) => s.meanShift));
    const expected = (m: ModelAccuracies) => trend.slope * m.source + trend.intercept;
    const base = supervised.at(-1)!;
    const gap = (m: ModelAccuracies) => m.source - m.meanShift;
    // the shifts the CLIP's pretraining showed, and the others, each against its own supervised trend
    const groups: ShiftGroup[] = [];
    for (const group of ["pretrained", "unseen"] as const) {
      const inGroup = config.shifts.filter((m) => record.media.includes(m) === (group === "pretrained"));
      if (inGroup.length === 0) continue;
      const over = (m: ModelAccuracies) => mean(inGroup.map((g) => m.shifts[g]));
      const t = fitLine(trained.map((s) => s.source), trained.map(over));
      const at = (m: ModelAccuracies) => over(m) - (t.slope * m.source + t.intercept);
      groups.push({
        group,
        media: inGroup,
        trend: t,
        meanShift: { supervised: over(base), zeroShot: over(zeroShot), adapted: over(adapted) },
        effectiveRobustness: { zeroShot: at(zeroShot), adapted: at(adapted) },
      });
    }
    summary = {
      source: config.source,
      clipMedia: record.media,
      groups,
      classes: classes.length,
      supervised,
      zeroShot,
      adapted,
      trend,
      effectiveRobustness: {
        zeroShot: zeroShot.meanShift - expected(zeroShot),
        adapted: adapted.meanShift - expected(adapted),
      },
      gap: { supervised: gap(base), zeroShot: gap(zeroShot), adapted: gap(adapted) },
      gapClosed: gap(base) > 0 ? 1 - gap(zeroShot) / gap(base) : 0,
      adaptation: {
        source: adapted.source - zeroShot.source,
        meanShift: adapted.meanShift - zeroShot.meanShift,
        shifts: Object.fromEntries(config.shifts.map((m) => [m, adapted.shifts[m] - zeroShot.shifts[m]])),
        C: probe.C,
      },
    };
  } finally {
    bar.finish();
    await clip.dispose();
  }
  return {
    ...resultHeader(NAME, preset, config),
    seeds: [config.seed],
    runs: [supervisedRunRecord(training, config.seed)],
    summary: {
      ...summary,
      compute: computeOf(config.supervised, record),
      paper: {
        gapClosed: 0.75,
        adaptationSource: 0.092,
        adaptationMeanShift: "slightly lower (averaged over 7 natural shifts)",
      },
    },
    wallSeconds: (performance.now() - started) / 1000,
    finished: new Date().toISOString(),
    machine: machineInfo(training.backend),
    kit: await kitInfo(),
  };
}

const SUPERVISED = OKABE_ITO[3], ZERO_SHOT = OKABE_ITO[0], ADAPTED = OKABE_ITO[1];

/**
 * Left: mean accuracy under shift against source accuracy (%), the y = x line (a perfectly robust model),
 * the supervised checkpoints and their trend, zero-shot and adapted CLIP. Right: accuracy per medium.
 *
 * @example
 * ```ts
 * import { figure } from "./robustness.ts";
 * import { readResult } from "./result.ts";
 * figure(await readResult("robustness")).title; // → "Robustness to a change of medium"
 * ```
 */
export function figure(result: ExperimentResult): Figure {
  const s = result.summary as RobustnessSummary;
  const pct = (v: number) => 100 * v;
  const sup = s.supervised.filter((m) => m.step !== 0);
  const points = [
    ...sup.map((m, i) => ({
      x: pct(m.source),
      y: pct(m.meanShift),
      colour: SUPERVISED,
      r: i === sup.length - 1 ? 6 : 3.5,
      label: i === 0 ? "supervised checkpoints" : "",
    })),
    {
      x: pct(s.zeroShot.source),
      y: pct(s.zeroShot.meanShift),
      colour: ZERO_SHOT,
      r: 6,
      label: "zero-shot CLIP",
    },
    { x: pct(s.adapted.source), y: pct(s.adapted.meanShift), colour: ADAPTED, r: 6, label: "adapted CLIP" },
  ];
  const xs = sup.map((m) => pct(m.source));
  const lo = Math.min(...xs), hi = 100;
  const trend = [lo, hi].map((x) => ({ x, y: s.trend.slope * x + 100 * s.trend.intercept }));
  const scatter = plotPanel({
    width: 430,
    height: 400,
    marginLeft: 56,
    marginBottom: 46,
    marginRight: 20,
    marginTop: 20,
    x: {
      label: `accuracy on the source, ${s.source} (%)`,
      domain: [0, 100],
      labelAnchor: "center",
      labelArrow: "none",
      grid: true,
    },
    y: { label: "mean accuracy under shift (%)", domain: [0, 100], labelArrow: "none", grid: true },
    marks: [
      Plot.line([{ x: 0, y: 0 }, { x: 100, y: 100 }], {
        x: "x",
        y: "y",
        stroke: MUTED,
        strokeDasharray: "4,3",
      }),
      Plot.text([{ x: 88, y: 93 }], { x: "x", y: "y", text: () => "y = x", fill: MUTED, rotate: -45 }),
      Plot.line(trend, { x: "x", y: "y", stroke: SUPERVISED, strokeOpacity: 0.6 }),
      Plot.dot(points, { x: "x", y: "y", fill: "colour", r: "r" }),
      // labels placed apart: the three models end close together
      ...points.filter((p) => p.label).map((p, i) =>
        Plot.text([p], {
          x: "x",
          y: "y",
          text: "label",
          fill: "colour",
          fontWeight: "bold",
          dy: [-14, -16, 22][i],
          dx: [-4, -8, 0][i],
          textAnchor: (["start", "end", "end"] as const)[i],
        })
      ),
    ],
  });
  const media = [s.source, ...Object.keys(s.zeroShot.shifts)];
  const base = s.supervised.at(-1)!;
  const of = (m: ModelAccuracies, medium: string) => pct(medium === s.source ? m.source : m.shifts[medium]);
  const bars = media.flatMap((medium) => [
    { medium, model: "supervised", v: of(base, medium), colour: SUPERVISED },
    { medium, model: "zero-shot CLIP", v: of(s.zeroShot, medium), colour: ZERO_SHOT },
    { medium, model: "adapted CLIP", v: of(s.adapted, medium), colour: ADAPTED },
  ]);
  const perMedium = plotPanel({
    width: 460,
    height: 400,
    marginLeft: 56,
    marginBottom: 46,
    marginRight: 10,
    marginTop: 20,
    fx: { label: null, domain: media },
    x: { axis: null, domain: ["supervised", "zero-shot CLIP", "adapted CLIP"] },
    y: { label: "accuracy (%)", domain: [0, 100], labelArrow: "none", grid: true },
    marks: [Plot.barY(bars, { fx: "medium", x: "model", y: "v", fill: "colour" })],
  });
  const signed = (v: number) => `${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(1)}`;
  return compose({
    title: "Robustness to a change of medium",
    subtitle:
      `Source: ${s.source} colour+shape (${s.classes} classes, the supervised model's labels); shifts: ` +
      `the same classes as ${Object.keys(s.zeroShot.shifts).join(", ")}; ${result.preset} run, seed ${
        result.seeds.join(", ")
      }`,
    rows: [[swatchLegend([
      { label: "supervised (line: its checkpoints' trend)", color: SUPERVISED, shape: "circle" },
      { label: "zero-shot CLIP", color: ZERO_SHOT, shape: "circle" },
      { label: "CLIP + linear probe on the source", color: ADAPTED, shape: "circle" },
    ])], [scatter, perMedium]],
    note: `Gap (source − mean under shift): supervised ${pct(s.gap.supervised).toFixed(1)}, zero-shot ` +
      `${pct(s.gap.zeroShot).toFixed(1)}, adapted ${
        pct(s.gap.adapted).toFixed(1)
      } points. Adapting CLIP: source ` +
      `${signed(pct(s.adaptation.source))}, under shift ${signed(pct(s.adaptation.meanShift))} points.` +
      s.groups.map((g) =>
        ` Effective robustness of zero-shot CLIP on looks ${
          g.group === "pretrained" ? "its pretraining showed" : "neither model saw"
        } (${g.media.join(", ")}): ${signed(pct(g.effectiveRobustness.zeroShot))} points.`
      ).join(""),
  });
}
