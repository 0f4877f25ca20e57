/**
 * A confusion matrix: true class down the side, predicted class along the bottom, each cell
 * coloured by its share of the true class's images and annotated with the count.
 *
 * It adapts to the number of classes: cells shrink to keep the matrix about 800 px wide, counts are
 * written only in cells of 24 px or more, and class labels slant, stand upright or are thinned to one in
 * k, so they never overlap (the subtitle says so).
 */
import * as Plot from "@observablehq/plot";
import { plotPanel } from "./dom.ts";
import { compose, type Figure } from "./figure.ts";
import { checkLabels, type MatrixLike, toRows } from "./input.ts";
import { PlotInputError } from "../errors.ts";
import { rampLegend } from "./legend.ts";
import { shorten, textWidth } from "./svg.ts";
import { COUNTS, FONT_SIZE, INK, MISSING } from "./theme.ts";
import { xTicks, yTicks } from "./ticks.ts";

/** Options of {@link confusionMatrix}. */
export interface ConfusionOptions {
  /** Class names, one per row and column. */
  labels?: string[];
  /**
   * Colour by `"row"` share (default: the fraction of each true class predicted as each class) or
   * by `"count"`.
   */
  color?: "row" | "count";
  /** Figure title (a default one when absent). */
  title?: string;
}

const MAX_CELL = 64;
const MIN_CELL = 4;
const TARGET = 800;
/** Below this cell size the counts are not written in the cells. */
const ANNOTATE_FROM = 24;
const LABEL_CHARS = 24;
/** Colour of "0" annotations. */
const ZERO_INK = "#a0a0a0";
/** On the "blues" scheme, cells darker than this position get white text. */
const BLUES_DARK_FROM = 0.55;

/**
 * Draw a square confusion matrix `C[true][predicted]` of counts.
 * @example
 * ```ts
 * import { plots } from "./mod.ts";
 * plots.confusionMatrix([[8, 2], [1, 9]], { labels: ["cat", "dog"] })
 * // → Figure "Confusion matrix (accuracy 85.0%)" (654×362 SVG)
 * ```
 */
export function confusionMatrix(C: MatrixLike, options: ConfusionOptions = {}): Figure {
  const rows = toRows(C, "the confusion matrix");
  const k = rows.length;
  if (rows[0].length !== k) {
    throw new PlotInputError(
      `a confusion matrix is square (true × predicted classes), got ${k}×${rows[0].length}`,
      { fix: "pass counts with one row and one column per class" },
    );
  }
  const labels = checkLabels(options.labels, k, "labels", "classes", "class").map((l) =>
    shorten(l, LABEL_CHARS)
  );
  const byRow = (options.color ?? "row") === "row";
  const rowSums = rows.map((r) => r.reduce((s, v) => s + (Number.isFinite(v) ? v : 0), 0));
  const total = rowSums.reduce((a, b) => a + b, 0);
  const correct = rows.reduce((s, r, i) => s + (Number.isFinite(r[i]) ? r[i] : 0), 0);
  const data = rows.flatMap((r, i) =>
    r.map((v, j) => ({
      i,
      j,
      v,
      share: rowSums[i] > 0 ? v / rowSums[i] : NaN,
      c: byRow ? (rowSums[i] > 0 ? v / rowSums[i] : NaN) : v,
    }))
  );
  const finite = data.filter((d) => Number.isFinite(d.c));
  const missing = data.filter((d) => !Number.isFinite(d.c));
  const maxCount = Math.max(1, ...finite.map((d) => d.v));
  const domain: [number, number] = byRow ? [0, 1] : [0, maxCount];

  const cell = Math.max(MIN_CELL, Math.min(MAX_CELL, Math.floor(TARGET / k)));
  const fs = Math.min(FONT_SIZE, Math.floor(cell * 0.34));
  const xPlan = xTicks(labels, cell, FONT_SIZE);
  const yPlan = yTicks(labels, cell, FONT_SIZE);
  const marginLeft = Math.max(
    Math.ceil(Math.max(...labels.map((l) => textWidth(l, FONT_SIZE)))) + 40,
    Math.ceil(xPlan.overhangLeft - cell / 2) + 8,
  );
  const marginBottom = Math.max(56, xPlan.depth + 28);
  const count = (d: { v: number }) => Number.isFinite(d.v) ? String(+d.v.toFixed(2)) : "n/a";
  const dark = (d: { c: number }) => d.c / domain[1] >= BLUES_DARK_FROM;
  const annotate = cell >= ANNOTATE_FROM;

  const chart = plotPanel({
    width: marginLeft + k * cell + 4,
    height: k * cell + marginBottom + 4,
    marginLeft,
    marginTop: 4,
    marginRight: 4,
    marginBottom,
    padding: 0,
    x: {
      domain: labels.map((_, j) => j),
      tickFormat: (j: number) => xPlan.text(j),
      tickRotate: xPlan.rotate,
      label: "predicted class",
      labelAnchor: "center",
      labelArrow: "none",
      labelOffset: marginBottom - 8,
      tickSize: 0,
    },
    y: {
      domain: labels.map((_, i) => i),
      tickFormat: (i: number) => yPlan.text(i),
      label: "true class",
      labelAnchor: "center",
      labelArrow: "none",
      labelOffset: marginLeft - 10,
      tickSize: 0,
      tickPadding: 6,
    },
    color: { type: "linear", scheme: COUNTS, domain },
    marks: [
      Plot.cell(finite, { x: "j", y: "i", fill: "c", inset: 0.5 }),
      Plot.cell(missing, { x: "j", y: "i", fill: MISSING, inset: 0.5 }),
      ...(annotate
        ? [
          Plot.text(finite.filter(dark), { x: "j", y: "i", text: count, fill: "white", fontSize: fs }),
          Plot.text(finite.filter((d) => !dark(d) && d.v !== 0), {
            x: "j",
            y: "i",
            text: count,
            fill: INK,
            fontSize: fs,
          }),
          // Zeros in grey: the eye goes to the counts that matter.
          Plot.text(finite.filter((d) => !dark(d) && d.v === 0), {
            x: "j",
            y: "i",
            text: count,
            fill: ZERO_INK,
            fontSize: fs,
          }),
          Plot.text(missing, { x: "j", y: "i", text: count, fill: INK, fontSize: fs }),
        ]
        : []),
      Plot.cell(labels.map((_, i) => ({ i })), {
        x: "i",
        y: "i",
        fill: "none",
        stroke: INK,
        strokeWidth: cell >= 12 ? 1.5 : 1,
        inset: cell >= 12 ? 1 : 0.5,
      }),
    ],
  });
  const legend = rampLegend({
    label: byRow ? "share of the true class (%)" : "count (images)",
    scheme: COUNTS,
    domain,
    format: byRow ? (v) => `${Math.round(v * 100)}` : undefined,
    missing: missing.length > 0,
  });
  return compose({
    title: options.title ??
      `Confusion matrix (accuracy ${total > 0 ? (100 * correct / total).toFixed(1) : "n/a"}%)`,
    subtitle: `${k} classes, ${total} images; ${
      annotate ? "numbers: image counts; " : ""
    }outlined: correct predictions${
      xPlan.every > 1 || yPlan.every > 1
        ? `; one class label in ${Math.max(xPlan.every, yPlan.every)} shown`
        : ""
    }`,
    rows: [[chart], [legend]],
    note: missing.length ? "grey: missing counts, or a class with no images (no row share)" : undefined,
  });
}
