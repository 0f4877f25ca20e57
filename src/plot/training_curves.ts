/**
 * Training curves of the tiny CLIP: loss, in-batch accuracy and the learned logit scale against the
 * step, one chart each, sharing the step axis (one x domain for every panel, so steps line up).
 *
 * The history is a list of points, or a training log as the kit writes it: the `training.json` (or `curve.json`)
 * that `deno task train-world` writes beside the shipped model (`curve`: loss, logit scale and zero-shot
 * validation accuracies every few hundred steps), the `training.json` of `deno task pretrain`
 * (`loss_every_10_steps` + `validations`), or a checkpoint's `{ history, validations }`. {@link trainingPoints}
 * turns any of them into points.
 * @module
 */
import * as Plot from "@observablehq/plot";
import { type Panel, plotPanel } from "./dom.ts";
import { compose, type Figure } from "./figure.ts";
import { PlotInputError } from "../errors.ts";
import { MAX_LOGIT_SCALE } from "../constants.ts";
import { swatchLegend } from "./legend.ts";
import { LOSS, MUTED, OKABE_ITO } from "./theme.ts";

/** One logged step, as the trainer writes it; `split` separates e.g. "train" from "val". */
export interface TrainingPoint {
  /** The training step. */
  step: number;
  /** The loss at that step. */
  loss?: number;
  /** Top-1 in-batch accuracy in [0, 1]. */
  accuracy?: number;
  /** exp(t) = 1 / temperature. */
  logitScale?: number;
  /** Which data it was measured on (`"train"`, `"validation"`). */
  split?: string;
}

/**
 * A training log as the kit writes it: the media-world run's `training.json` / `curve.json` (`curve`: points with
 * `loss`, `logit_scale` and per-task zero-shot `validation` accuracies in percent), the classic run's
 * `training.json` (`loss_every_10_steps` as `[step, loss]` pairs, `validations` with `loss`, `seen` accuracy and
 * `logitScale`), or a checkpoint's `{ history: [{ step, loss }], validations }`.
 */
export interface TrainingLog {
  curve?: {
    step: number;
    loss?: number;
    logit_scale?: number;
    validation?: Record<string, { mean: number }>;
  }[];
  loss_every_10_steps?: [number, number][];
  history?: { step: number; loss?: number; accuracy?: number; logitScale?: number }[];
  validations?: { step: number; loss?: number; accuracy?: number; seen?: number; logitScale?: number }[];
}

/**
 * The points of a training log (training loss as split "train", validations as split "validation"; for a
 * media-world `curve`, each validation task's zero-shot accuracy, averaged over the media, as its own split
 * "zero-shot TASK (validation)"); a list of points is returned as it is.
 * @example
 * ```ts
 * import { trainingPoints } from "./training_curves.ts";
 * const shipped = trainingPoints(JSON.parse(await Deno.readTextFile("models/tiny-clip/curve.json")));
 * [...new Set(shipped.map((p) => p.split))];
 * // → ["train", "zero-shot colour (validation)", "zero-shot shape (validation)", "zero-shot count (validation)"]
 * const classic = trainingPoints(JSON.parse(await Deno.readTextFile("models/tiny-clip-classic/training.json")));
 * [classic.filter((p) => p.split === "train").length, classic.filter((p) => p.split === "validation").length]; // → [450, 9]
 * ```
 */
export function trainingPoints(log: TrainingPoint[] | TrainingLog): TrainingPoint[] {
  if (Array.isArray(log)) return log;
  if (typeof log !== "object" || log === null) {
    throw new PlotInputError(`a training history must be a list of points or a training log, got ${log}`, {
      fix: "pass [{ step, loss, … }, …], or the parsed training.json that deno task pretrain writes",
    });
  }
  const train: TrainingPoint[] = [];
  for (const c of log.curve ?? []) {
    train.push({ step: c.step, loss: c.loss, logitScale: c.logit_scale, split: "train" });
    for (const [task, v] of Object.entries(c.validation ?? {})) {
      train.push({ step: c.step, accuracy: v.mean / 100, split: `zero-shot ${task} (validation)` });
    }
  }
  for (const [i, pair] of (log.loss_every_10_steps ?? []).entries()) {
    if (!Array.isArray(pair) || pair.length < 2) {
      throw new PlotInputError(`loss_every_10_steps[${i}] is ${JSON.stringify(pair)}, not [step, loss]`, {
        fix: "write the training losses as [step, loss] pairs",
      });
    }
    train.push({ step: pair[0], loss: pair[1], split: "train" });
  }
  for (const h of log.history ?? []) train.push({ ...h, split: "train" });
  const validation: TrainingPoint[] = (log.validations ?? []).map((v) => ({
    step: v.step,
    loss: v.loss,
    accuracy: v.accuracy ?? v.seen,
    logitScale: v.logitScale,
    split: "validation",
  }));
  if (train.length + validation.length === 0) {
    throw new PlotInputError("the training log has no curve, loss_every_10_steps, history or validations", {
      fix: "pass the training.json written by deno task train-world or deno task pretrain, or a list of " +
        "{ step, loss } points",
    });
  }
  return [...train, ...validation];
}

/** Options of {@link trainingCurves}. */
export interface TrainingCurvesOptions {
  /** Figure title (a default one when absent). */
  title?: string;
  /** Moving-average window in steps for a smoothed line over the raw one (default: none). */
  smooth?: number;
}

const CHART = { width: 760, height: 210, marginLeft: 64, marginRight: 24, marginTop: 28, marginBottom: 40 };
/** A series is smoothed only when it has at least this many windows of points. */
const SMOOTH_MIN_WINDOWS = 3;
/** Series this short get a dot on each point. */
const SHOW_DOTS_UP_TO = 30;

type Metric = { key: "loss" | "accuracy" | "logitScale"; label: string; format?: (v: number) => string };
const METRICS: Metric[] = [
  { key: "loss", label: "contrastive loss (nats)" },
  { key: "accuracy", label: "top-1 accuracy (%)", format: (v) => `${Math.round(v * 100)}` },
  { key: "logitScale", label: "logit scale 1/T" },
];

/**
 * Loss, accuracy and logit scale over training steps (each drawn when present in the history). `history`
 * is a list of points, or a training log: the `training.json` or `curve.json` beside a trained model, or a
 * checkpoint's `{ history, validations }` (see {@link trainingPoints}).
 * @example
 * ```ts
 * import { plots } from "./mod.ts";
 * plots.trainingCurves([{ step: 0, loss: 4.1, accuracy: 0.02, logitScale: 14.3 }, { step: 100, loss: 2.0, accuracy: 0.4, logitScale: 20 }])
 * // → Figure "Training the tiny CLIP" (792×786 SVG)
 * plots.trainingCurves(JSON.parse(await Deno.readTextFile("models/tiny-clip/curve.json")), { smooth: 20 })
 * // → Figure "Training the tiny CLIP" (982×830 SVG): the shipped model's loss, logit scale, 3 zero-shot tasks
 * ```
 */
export function trainingCurves(
  log: TrainingPoint[] | TrainingLog,
  options: TrainingCurvesOptions = {},
): Figure {
  if (options.smooth !== undefined && !(Number.isInteger(options.smooth) && options.smooth >= 1)) {
    throw new PlotInputError(`smooth must be a whole number of points ≥ 1, got ${options.smooth}`, {
      fix: "pass e.g. smooth: 1 (no smoothing) or 20",
    });
  }
  const history = log === undefined || log === null ? log as unknown as TrainingPoint[] : trainingPoints(log);
  if (!Array.isArray(history) || history.length === 0) {
    throw new PlotInputError(
      "trainingCurves got an empty history",
      { fix: "pass a non-empty history: [{ step, loss, accuracy, logitScale }, …]" },
    );
  }
  history.forEach((p, i) => {
    if (typeof p?.step !== "number" || !Number.isFinite(p.step)) {
      throw new PlotInputError(`history[${i}].step is ${p?.step}`, {
        fix: "give every point a finite step number",
      });
    }
  });
  const splits = [...new Set(history.map((p) => p.split ?? "train"))];
  const colour = (s: string) => OKABE_ITO[splits.indexOf(s) % OKABE_ITO.length];
  const present = METRICS.filter((m) => history.some((p) => Number.isFinite(p[m.key])));
  if (present.length === 0) {
    throw new PlotInputError(
      "the history has no finite loss, accuracy or logitScale values, so there is nothing to draw",
      { fix: "pass points with at least one of loss, accuracy or logitScale" },
    );
  }
  // One step domain for every panel, so that a step sits at the same x in each (a metric logged only at
  // validations would otherwise stretch over its own, shorter range).
  const allSteps = history.map((p) => p.step);
  const stepDomain = [Math.min(...allSteps), Math.max(...allSteps)];
  const charts: Panel[][] = present.map((m, idx) => {
    const last = idx === present.length - 1;
    const points = history.filter((p) => Number.isFinite(p[m.key])).map((p) => ({
      step: p.step,
      v: p[m.key] as number,
      split: p.split ?? "train",
    }));
    const marks: Plot.Markish[] = [];
    for (const s of splits) {
      const line = points.filter((p) => p.split === s).sort((a, b) => a.step - b.step);
      // Smooth only series long enough for it (a handful of validation points stays as it is).
      const smooth = options.smooth && line.length >= SMOOTH_MIN_WINDOWS * options.smooth;
      const raw = smooth ? { strokeOpacity: 0.3, strokeWidth: 1.5 } : { strokeWidth: 2.5 };
      marks.push(Plot.lineY(line, { x: "step", y: "v", stroke: colour(s), ...raw }));
      if (smooth) {
        marks.push(
          Plot.lineY(centredMean(line, options.smooth!), {
            x: "step",
            y: "v",
            stroke: colour(s),
            strokeWidth: 2.5,
          }),
        );
      }
      if (line.length <= SHOW_DOTS_UP_TO) {
        marks.push(Plot.dot(line, { x: "step", y: "v", fill: colour(s), r: 3.5 }));
      }
    }
    // the clamp (open_clip's and openai/CLIP's), drawn as a reference once the scale nears it
    if (m.key === "logitScale" && points.some((p) => p.v > MAX_LOGIT_SCALE * 0.5)) {
      marks.push(Plot.ruleY([MAX_LOGIT_SCALE], { stroke: MUTED, strokeDasharray: "4,3" }));
    }
    if (m.key === "loss") marks.push(Plot.ruleY([0], { stroke: LOSS, strokeOpacity: 0 }));
    return [plotPanel({
      ...CHART,
      height: CHART.height + (last ? 16 : 0),
      x: {
        label: last ? "training step" : null,
        labelAnchor: "center",
        labelArrow: "none",
        grid: true,
        domain: stepDomain,
      },
      y: {
        label: m.label,
        labelArrow: "none",
        grid: true,
        ...(m.format ? { tickFormat: m.format } : {}),
        ...(m.key === "accuracy" ? { domain: [0, 1] } : {}),
      },
      marks,
    })];
  });
  const steps = history.map((p) => p.step);
  const rows = splits.length > 1
    ? [[swatchLegend(splits.map((s) => ({ label: s, color: colour(s), shape: "line" as const })))], ...charts]
    : charts;
  return compose({
    title: options.title ?? "Training the tiny CLIP",
    subtitle: `${history.length} logged points, steps ${Math.min(...steps)}–${Math.max(...steps)}` +
      (options.smooth
        ? `; long series: centred moving average over ${options.smooth} points (raw values faint)`
        : ""),
    rows,
  });
}

/**
 * Mean of each point and its neighbours, `k` points centred on it (fewer at the ends): a centred moving
 * average, so a steep drop is not drawn late, as a trailing one would.
 */
function centredMean<T extends { v: number }>(line: T[], k: number): T[] {
  const prefix = new Float64Array(line.length + 1);
  line.forEach((p, i) => prefix[i + 1] = prefix[i] + p.v);
  const before = Math.floor((k - 1) / 2), after = k - 1 - before;
  return line.map((p, i) => {
    const lo = Math.max(0, i - before), hi = Math.min(line.length, i + after + 1);
    return { ...p, v: (prefix[hi] - prefix[lo]) / (hi - lo) };
  });
}
