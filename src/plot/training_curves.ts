/**
 * Training curves of the tiny CLIP: loss, in-batch accuracy and the learned logit scale against the
 * step, one chart each, sharing the step axis.
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
 * Loss, accuracy and logit scale over training steps (each drawn when present in the history).
 * @example
 * ```ts
 * import { plots } from "./mod.ts";
 * plots.trainingCurves([{ step: 0, loss: 4.1, accuracy: 0.02, logitScale: 14.3 }, { step: 100, loss: 2.0, accuracy: 0.4, logitScale: 20 }])
 * // → Figure "Training the tiny CLIP" (792×786 SVG)
 * ```
 */
export function trainingCurves(history: TrainingPoint[], options: TrainingCurvesOptions = {}): Figure {
  if (options.smooth !== undefined && !(Number.isInteger(options.smooth) && options.smooth >= 1)) {
    throw new PlotInputError(`smooth must be a whole number of points ≥ 1, got ${options.smooth}`, {
      fix: "pass e.g. smooth: 1 (no smoothing) or 20",
    });
  }
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
          Plot.lineY(trailingMean(line, options.smooth!), {
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
      x: { label: last ? "training step" : null, labelAnchor: "center", labelArrow: "none", grid: true },
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
        ? `; long series: moving average over ${options.smooth} points (raw values faint)`
        : ""),
    rows,
  });
}

/** Mean of each point and the up to `k − 1` points before it (a trailing moving average). */
function trailingMean<T extends { v: number }>(line: T[], k: number): T[] {
  let sum = 0;
  return line.map((p, i) => {
    sum += p.v;
    if (i >= k) sum -= line[i - k].v;
    return { ...p, v: sum / Math.min(i + 1, k) };
  });
}
