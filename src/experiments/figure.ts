/**
 * The figure most experiments draw: a few metrics against the training step, one small chart per metric
 * and one line per run (variant), with a legend naming the runs — built from `src/plot/`'s pieces
 * (Observable Plot panels, the swatch legend, the palette, `compose`).
 *
 * result.runs[r].checkpoints[k] ─► metric.value(checkpoint) ─► one line per run, per chart ─► Figure
 * @module
 */
import * as Plot from "@observablehq/plot";
import { type Panel, plotPanel } from "../plot/dom.ts";
import { compose, type Figure } from "../plot/figure.ts";
import { swatchLegend } from "../plot/legend.ts";
import { MUTED, OKABE_ITO } from "../plot/theme.ts";
import { PlotInputError } from "../errors.ts";
import type { CheckpointRecord, ExperimentResult } from "./result.ts";

/** One chart of {@link runCurves}. */
export interface CurveMetric {
  /** The y axis's label. */
  label: string;
  /** The value at a checkpoint (null or undefined: no point there). */
  value: (checkpoint: CheckpointRecord) => number | null | undefined;
  /** Values are shares in [0, 1]: drawn as percentages on a fixed 0–100 % axis. */
  percent?: boolean;
  /** Horizontal reference lines (e.g. a clamp), drawn dashed. */
  rules?: number[];
  /** `"log"` for a logarithmic y axis. */
  scale?: "linear" | "log";
  /** The y axis's ticks (default: Plot's choice). */
  ticks?: number[];
}

/** Options of {@link runCurves}. */
export interface RunCurvesOptions {
  title: string;
  subtitle?: string;
  note?: string;
  /** Charts per row (default 2). */
  columns?: number;
}

const CHART = { width: 420, height: 230, marginLeft: 60, marginRight: 20, marginTop: 24, marginBottom: 44 };

/**
 * Metrics against the step, one chart per metric and one line per run.
 *
 * @example
 * ```ts
 * import { runCurves } from "./figure.ts";
 * import { readResult } from "./result.ts";
 * const result = await readResult("temperature");
 * const fig = runCurves(result, [{ label: "validation loss", value: (c) => c.valLoss as number }], { title: "Loss" });
 * fig.title; // → "Loss"
 * ```
 */
export function runCurves(
  result: ExperimentResult,
  metrics: CurveMetric[],
  options: RunCurvesOptions,
): Figure {
  if (!result.runs?.length) {
    throw new PlotInputError("the result has no runs to draw", {
      fix: "pass a result from an experiment's run()",
    });
  }
  if (metrics.length === 0) {
    throw new PlotInputError("no metrics to draw", { fix: "pass at least one metric" });
  }
  const colour = (i: number) => OKABE_ITO[i % OKABE_ITO.length];
  const charts: Panel[] = metrics.map((m) => {
    const marks: Plot.Markish[] = [];
    const drawn: number[] = [...(m.rules ?? [])];
    result.runs.forEach((run, i) => {
      const points = run.checkpoints
        .map((c) => ({ step: c.step, v: m.value(c) }))
        .filter((p): p is { step: number; v: number } => typeof p.v === "number" && Number.isFinite(p.v))
        .map((p) => ({ step: p.step, v: m.percent ? 100 * p.v : p.v }));
      drawn.push(...points.map((p) => p.v));
      marks.push(Plot.lineY(points, { x: "step", y: "v", stroke: colour(i), strokeWidth: 2.5 }));
      marks.push(Plot.dot(points, { x: "step", y: "v", fill: colour(i), r: 3 }));
    });
    if (m.rules?.length) marks.push(Plot.ruleY(m.rules, { stroke: MUTED, strokeDasharray: "4,3" }));
    return plotPanel({
      ...CHART,
      x: { label: "training step", labelAnchor: "center", labelArrow: "none", grid: true },
      y: {
        label: m.label,
        labelArrow: "none",
        grid: true,
        ...(m.percent ? { domain: [0, 100] } : {}),
        ...(m.scale === "log" ? { type: "log" as const } : {}),
        // only the ticks within the drawn values (ticks outside would stretch the axis)
        ...(m.ticks
          ? { ticks: m.ticks.filter((t) => t >= Math.min(...drawn) && t <= Math.max(...drawn)) }
          : {}),
      },
      marks,
    });
  });
  const columns = options.columns ?? 2;
  const rows: Panel[][] = [[
    swatchLegend(result.runs.map((r, i) => ({ label: r.label, color: colour(i), shape: "line" as const }))),
  ]];
  for (let at = 0; at < charts.length; at += columns) rows.push(charts.slice(at, at + columns));
  return compose({ title: options.title, subtitle: options.subtitle, rows, note: options.note });
}
