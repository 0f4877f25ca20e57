/**
 * Prompt engineering, measured: each template's zero-shot accuracy minus the bare class name's,
 * sorted, with the ensemble of all templates as a reference line; and, for one template, the gain
 * class by class.
 */
import * as Plot from "@observablehq/plot";
import { type Panel, plotPanel } from "./dom.ts";
import { compose, type Figure } from "./figure.ts";
import { checkFinite } from "./input.ts";
import { PlotInputError } from "../errors.ts";
import { swatchLegend } from "./legend.ts";
import { shorten, textWidth } from "./svg.ts";
import { FONT_SIZE, GAIN, INK, LOSS, MUTED } from "./theme.ts";

/** The bare class name as a template. */
const BARE = "{}";
/** Longest template or class label drawn, in characters. */
const LABEL_CHARS = 44;
const BAR_ROW = 26;

/** Input of {@link templateGains}: accuracies are fractions in [0, 1]. */
export interface TemplateGainsData {
  /** Accuracy of each template used alone, as `zeroShot.templateAccuracies` gives it. */
  perTemplate: { template: string; accuracy: number }[];
  /** Accuracy with the bare class name; default the `"{}"` entry of `perTemplate`. */
  bare?: number;
  /** Accuracy of the ensemble (text embeddings averaged over all templates). */
  ensemble?: number;
  /** Per-class accuracies with the bare name and with one template. */
  perClass?: { template: string; classes: { label: string; bare: number; accuracy: number }[] };
  /** Per-class accuracies with the bare name and with the ensemble (`analyzePrompts(...).perClassGains`); used when `perClass` is absent. */
  perClassGains?: { label: string; bare: number; ensemble: number }[];
  /** Figure title (a default one when absent). */
  title?: string;
}

const pp = (v: number) => v === 0 ? "0" : `${v > 0 ? "+" : "−"}${+Math.abs(v).toFixed(1)}`;
const accuracyText = (d: { accuracy: number }) => `${(d.accuracy * 100).toFixed(1)}%`;

/**
 * Accuracy gain of each prompt template over the bare class name, in percentage points.
 * Takes an `analyzePrompts` result as it is.
 * @example
 * ```ts
 * import { plots } from "./mod.ts";
 * plots.templateGains({ perTemplate: [{ template: "{}", accuracy: 0.55 }, { template: "a photo of a {}.", accuracy: 0.61 }], ensemble: 0.63 })
 * // → Figure "Prompt templates: accuracy gain over the bare class name" (741×252 SVG)
 * ```
 */
export function templateGains(data: TemplateGainsData): Figure {
  if (!data || !Array.isArray(data.perTemplate) || data.perTemplate.length === 0) {
    throw new PlotInputError("templateGains got no perTemplate list", {
      fix: "pass perTemplate: a non-empty list of { template, accuracy }",
    });
  }
  data.perTemplate.forEach((d, i) => checkFinite(d.accuracy, `perTemplate[${i}].accuracy`));
  const bare = data.bare ?? data.perTemplate.find((d) => d.template === BARE)?.accuracy;
  if (bare === undefined) {
    throw new PlotInputError(
      "templateGains needs the bare class name's accuracy",
      { fix: `pass { bare } or include template "${BARE}"` },
    );
  }
  checkFinite(bare, "bare");
  const rows = data.perTemplate.filter((d) => d.template !== BARE)
    .map((d) => ({
      label: shorten(d.template, LABEL_CHARS),
      gain: (d.accuracy - bare) * 100,
      accuracy: d.accuracy,
    }))
    .sort((a, b) => b.gain - a.gain);
  const ensemble = data.ensemble === undefined
    ? undefined
    : (checkFinite(data.ensemble, "ensemble") - bare) * 100;
  const refs = [{ x: 0, name: `bare name ${(bare * 100).toFixed(1)}%` }];
  if (ensemble !== undefined) {
    refs.push({ x: ensemble, name: `ensemble ${(data.ensemble! * 100).toFixed(1)}%` });
  }

  const panels: Panel[][] = [
    [gainBars(rows, refs, "accuracy gain over the bare class name (percentage points)")],
    [swatchLegend([
      { label: "better than the bare name", color: GAIN },
      { label: "worse", color: LOSS },
      ...(ensemble !== undefined
        ? [{ label: "ensemble of all templates", color: INK, shape: "dash" as const }]
        : []),
    ])],
  ];
  // Per-class panel: one template's gains (perClass), else the ensemble's (perClassGains, as
  // analyzePrompts returns them). Classes without images (NaN accuracy) are left out and counted.
  const source = data.perClass
    ? { name: `"${shorten(data.perClass.template, 40)}"`, classes: data.perClass.classes }
    : data.perClassGains
    ? {
      name: "the ensemble",
      classes: data.perClassGains.map((c) => ({ label: c.label, bare: c.bare, accuracy: c.ensemble })),
    }
    : undefined;
  let skipped = 0;
  if (source) {
    if (source.classes.length === 0) {
      throw new PlotInputError("the per-class list is empty", {
        fix: "pass one { label, bare, accuracy } per class",
      });
    }
    const classes = source.classes.filter((c) => {
      const ok = Number.isFinite(c.accuracy) && Number.isFinite(c.bare);
      if (!ok) skipped++;
      return ok;
    }).map((c) => ({
      label: shorten(String(c.label), LABEL_CHARS),
      gain: (c.accuracy - c.bare) * 100,
      accuracy: c.accuracy,
    })).sort((a, b) => b.gain - a.gain);
    if (classes.length) {
      panels.push([
        gainBars(classes, [{ x: 0, name: "" }], `per-class gain of ${source.name} (percentage points)`),
      ]);
    }
  }
  return compose({
    title: data.title ?? "Prompt templates: accuracy gain over the bare class name",
    subtitle: `${rows.length} templates, sorted; bar labels: the template's top-1 accuracy`,
    rows: panels,
    note: skipped
      ? `${skipped} class${
        skipped === 1 ? "" : "es"
      } without images (no accuracy) left out of the per-class panel`
      : undefined,
  });
}

/** Horizontal gain bars, one row per label, with labelled reference lines. */
function gainBars(
  rows: { label: string; gain: number; accuracy: number }[],
  refs: { x: number; name: string }[],
  xLabel: string,
): Panel {
  const marginLeft = Math.ceil(Math.max(...rows.map((r) => textWidth(r.label, FONT_SIZE)))) + 14;
  const values = [...rows.map((r) => r.gain), ...refs.map((r) => r.x)];
  const lo = Math.min(0, ...values), hi = Math.max(0, ...values);
  const pad = Math.max(1, (hi - lo) * 0.18); // room for the accuracy labels at the bar ends
  return plotPanel({
    width: marginLeft + 560,
    height: rows.length * BAR_ROW + 90,
    marginLeft,
    marginRight: 70,
    marginTop: 50,
    marginBottom: 46,
    x: {
      domain: [lo - (lo < 0 ? pad : 0), hi + pad],
      label: xLabel,
      labelAnchor: "center",
      labelArrow: "none",
      grid: true,
      tickFormat: pp,
    },
    y: { domain: rows.map((r) => r.label), label: null, tickSize: 0, tickPadding: 8 },
    marks: [
      Plot.barX(rows, {
        x: "gain",
        y: "label",
        fill: (d) => d.gain >= 0 ? GAIN : LOSS,
        insetTop: 3,
        insetBottom: 3,
      }),
      Plot.text(rows.filter((d) => d.gain >= 0), {
        x: "gain",
        y: "label",
        text: accuracyText,
        textAnchor: "start",
        dx: 5,
        fill: INK,
        fontSize: 12,
      }),
      Plot.text(rows.filter((d) => d.gain < 0), {
        x: "gain",
        y: "label",
        text: accuracyText,
        textAnchor: "end",
        dx: -5,
        fill: INK,
        fontSize: 12,
      }),
      Plot.ruleX(refs.slice(0, 1), { x: "x", stroke: INK }),
      Plot.ruleX(refs.slice(1), { x: "x", stroke: INK, strokeDasharray: "6,4", strokeWidth: 2 }),
      // Reference labels on two lines above the chart, so they never overlap when the lines are close.
      Plot.text(refs.slice(0, 1), {
        x: "x",
        text: "name",
        frameAnchor: "top",
        dy: -30,
        fill: MUTED,
        fontSize: 12,
      }),
      Plot.text(refs.slice(1), {
        x: "x",
        text: "name",
        frameAnchor: "top",
        dy: -12,
        fill: INK,
        fontSize: 12,
      }),
    ],
  });
}
