/**
 * A zero-shot evaluation suite at a glance (the CLIP paper's Figure 4 in miniature): one bar per dataset
 * with its test accuracy under the chosen prompts, the bare class name and chance marked on it; beside it,
 * each dataset's gain over the bare class name from "a photo of a {}.", the engineered template, the
 * ensemble and greedy selection.
 *
 * table rows (accuracies 0–1) → accuracy panel (bars + bare dots + chance ticks) | gain panel (dots per
 * prompt choice, points) → one figure.
 */
import * as Plot from "@observablehq/plot";
import { type Panel, plotPanel } from "./dom.ts";
import { compose, type Figure } from "./figure.ts";
import { checkFinite } from "./input.ts";
import { PlotInputError } from "../errors.ts";
import { swatchLegend } from "./legend.ts";
import { textWidth } from "./svg.ts";
import { FONT_SIZE, INK, MUTED, NEUTRAL, OKABE_ITO } from "./theme.ts";

/** One dataset's accuracies, as `evaluateSuite` returns them (fractions in [0, 1]). */
export interface SuiteBarsRow {
  dataset: string;
  chance: number;
  bare: number;
  photo: number;
  engineered: number;
  ensemble: number;
  greedy: number;
}

/** Input of {@link suiteBars}: an `evaluateSuite` table (only these fields are read). */
export interface SuiteBarsData {
  rows: SuiteBarsRow[];
  model?: string;
  title?: string;
}

/** The prompt choices compared, with their colours. */
const CHOICES = [
  { key: "photo", label: '"a photo of a {}."', color: OKABE_ITO[5] },
  { key: "engineered", label: "engineered (medium) template", color: OKABE_ITO[1] },
  { key: "ensemble", label: "ensemble of the set", color: OKABE_ITO[2] },
  { key: "greedy", label: "greedy (chosen on validation)", color: OKABE_ITO[0] },
] as const;

const ROW = 20;

/**
 * Accuracy per dataset and the gain of each prompt choice over the bare class name.
 *
 * @example
 * ```ts
 * import { suiteBars } from "./suite_bars.ts";
 * const row = { dataset: "sketch-shape", chance: 0.125, bare: 0.3, photo: 0.32, engineered: 0.4, ensemble: 0.42, greedy: 0.45 };
 * String(suiteBars({ rows: [row, { ...row, dataset: "photo-shape", bare: 0.5 }] }));
 * // → 'Figure "Zero-shot suite: accuracy per dataset and the gain from prompts" (1247×256 SVG)'
 * ```
 */
export function suiteBars(data: SuiteBarsData): Figure {
  if (!data || !Array.isArray(data.rows) || data.rows.length === 0) {
    throw new PlotInputError("suiteBars got no rows", {
      fix:
        "pass an evaluateSuite table: { rows: [{ dataset, chance, bare, photo, engineered, ensemble, greedy }] }",
    });
  }
  data.rows.forEach((r, i) => {
    for (const key of ["chance", "bare", "photo", "engineered", "ensemble", "greedy"] as const) {
      checkFinite(r[key], `rows[${i}].${key}`);
    }
  });
  const names = data.rows.map((r) => r.dataset);
  const marginLeft = Math.ceil(Math.max(...names.map((n) => textWidth(n, FONT_SIZE)))) + 14;
  const height = names.length * ROW + 80;
  const pct = (v: number) => v * 100;
  const accuracy = plotPanel({
    width: marginLeft + 380,
    height,
    marginLeft,
    marginRight: 20,
    marginTop: 20,
    marginBottom: 46,
    x: {
      domain: [0, 100],
      label: "test accuracy, greedy prompts (%)",
      labelAnchor: "center",
      labelArrow: "none",
      grid: true,
    },
    y: { domain: names, label: null, tickSize: 0, tickPadding: 8 },
    marks: [
      Plot.barX(data.rows, {
        x: (r) => pct(r.greedy),
        y: "dataset",
        fill: OKABE_ITO[0],
        insetTop: 3,
        insetBottom: 3,
      }),
      Plot.tickX(data.rows, { x: (r) => pct(r.chance), y: "dataset", stroke: MUTED, strokeWidth: 2 }),
      Plot.dot(data.rows, { x: (r) => pct(r.bare), y: "dataset", fill: INK, r: 3.5 }),
    ],
  });
  const gains = data.rows.flatMap((r) =>
    CHOICES.map((c) => ({
      dataset: r.dataset,
      choice: c.label,
      color: c.color,
      gain: pct(r[c.key] - r.bare),
    }))
  );
  const extent = Math.max(2, ...gains.map((g) => Math.abs(g.gain)));
  const gain: Panel = plotPanel({
    width: 380,
    height,
    marginLeft: 10,
    marginRight: 20,
    marginTop: 20,
    marginBottom: 46,
    x: {
      domain: [-extent * 1.1, extent * 1.1],
      label: "gain over the bare class name (points)",
      labelAnchor: "center",
      labelArrow: "none",
      grid: true,
    },
    y: { domain: names, axis: null },
    marks: [
      Plot.ruleX([0], { stroke: NEUTRAL }),
      Plot.dot(gains, { x: "gain", y: "dataset", fill: "color", r: 4, fillOpacity: 0.9 }),
    ],
  });
  const n = data.rows.length,
    mean = (f: (r: SuiteBarsRow) => number) => data.rows.reduce((a, r) => a + f(r), 0) / n;
  const bare = mean((r) => r.bare), greedy = mean((r) => r.greedy), ensemble = mean((r) => r.ensemble);
  return compose({
    title: data.title ?? "Zero-shot suite: accuracy per dataset and the gain from prompts",
    subtitle: `${n} dataset${n === 1 ? "" : "s"}${data.model ? ` · ${data.model}` : ""} · mean: bare ${
      (bare * 100).toFixed(1)
    }%, ensemble ${(ensemble * 100).toFixed(1)}%, greedy ${(greedy * 100).toFixed(1)}%`,
    rows: [
      [accuracy, gain],
      [swatchLegend([
        { label: "bare class name", color: INK, shape: "circle" },
        { label: "chance", color: MUTED, shape: "line" },
        ...CHOICES.map((c) => ({ label: c.label, color: c.color, shape: "circle" as const })),
      ])],
    ],
  });
}
