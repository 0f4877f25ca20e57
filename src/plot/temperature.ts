/**
 * What the temperature does: softmax(cos / T) sharpens as T falls (one row of bars per T), while the
 * ranking, and so the top-1 accuracy, stays the same; the contrastive loss and the probability of
 * the true pair move with T. CLIP's initial T (0.07) and learned T (0.01) are marked.
 */
import * as Plot from "@observablehq/plot";
import { Matrix } from "../math/matrix.ts";
import { similarity } from "../math/similarity.ts";
import { softmaxAtTemperatures, temperatureRange, temperatureSweep } from "../math/loss.ts";
import { plotPanel } from "./dom.ts";
import { compose, type Figure } from "./figure.ts";
import { checkLabels, toRows } from "./input.ts";
import { PlotInputError } from "../errors.ts";
import { swatchLegend } from "./legend.ts";
import { wrap } from "./svg.ts";
import { FONT_SIZE, GAIN, GAP, INK, LOSS, MUTED, NEUTRAL, TRUTH } from "./theme.ts";

/** CLIP's temperature at initialisation (logit scale 1/0.07 ≈ 14.3). */
export const CLIP_INITIAL_TEMPERATURE = 0.07;
/** CLIP's learned temperature (logit scale clamped at 100). */
export const CLIP_LEARNED_TEMPERATURE = 0.01;
/** Temperatures shown as rows of bars by default, from flat to sharp. */
const DEFAULT_ROWS = [1, 0.3, 0.07, 0.03, 0.01];
/** Range and resolution of the loss sweep. */
const SWEEP: [number, number] = [0.003, 1];
const SWEEP_POINTS = 61;
/** Size of the loss and accuracy charts. */
const SMALL = { width: 440, height: 300, marginLeft: 56, marginBottom: 48, marginTop: 30, marginRight: 24 };
/** Most candidates drawn as bars in one row. */
const MAX_BARS = 12;

/** Options of {@link temperatureEffects}. */
export interface TemperatureOptions {
  /** A label per text (the candidates an image chooses between); default "text 1", … */
  texts?: string[];
  /** Which image's row of cosines to show as bars (default 0). */
  row?: number;
  /** Temperatures for the rows of bars, default `[1, 0.3, 0.07, 0.03, 0.01]`. */
  temperatures?: number[];
  /** Temperature range of the loss curve, default `[0.003, 1]`. */
  sweep?: [number, number];
  /** Figure title (a default one when absent). */
  title?: string;
}

/**
 * Softmax sharpening and the loss as a function of temperature, for a batch of matching pairs
 * (row i of `images` belongs with row i of `texts`).
 * @example
 * ```ts
 * import { plots } from "./mod.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const images = ["01_red_circle", "02_orange_star", "06_blue_square"].map((n) => `models/samples/${n}.png`);
 * const captions = ["a red circle", "an orange star", "a blue square"];
 * const imageEmbeds = await model.encodeImages(images); // [3, 64]
 * const textEmbeds = await model.encodeText(captions); // [3, 64]
 * plots.temperatureEffects(imageEmbeds, textEmbeds, { texts: captions })
 * // → Figure "How the temperature T shapes CLIP's softmax" (936×1020 SVG)
 * ```
 */
export function temperatureEffects(
  images: Matrix | number[][],
  texts: Matrix | number[][],
  options: TemperatureOptions = {},
): Figure {
  const img = images instanceof Matrix ? images : Matrix.fromRows(toRows(images, "image embeddings"));
  const txt = texts instanceof Matrix ? texts : Matrix.fromRows(toRows(texts, "text embeddings"));
  toRows(img, "image embeddings");
  toRows(txt, "text embeddings");
  if (img.rows !== txt.rows) {
    throw new PlotInputError(
      `temperatureEffects needs matching pairs but got ${img.rows} images and ${txt.rows} texts`,
      { fix: "pass one text per image, row i of each belonging together" },
    );
  }
  for (const [what, m] of [["image", img], ["text", txt]] as const) {
    if (!m.data.every(Number.isFinite)) {
      throw new PlotInputError(
        `the ${what} embeddings hold NaN or infinite values`,
        { fix: "check the encoder output" },
      );
    }
  }
  const labels = checkLabels(options.texts, txt.rows, "texts", "rows", "text");
  const row = options.row ?? 0;
  if (!(Number.isInteger(row) && row >= 0 && row < img.rows)) {
    throw new PlotInputError(`row ${row} is outside 0…${img.rows - 1}`, {
      fix: "pick the image whose softmax to show by its row index",
    });
  }
  const temps = options.temperatures ?? DEFAULT_ROWS;
  const cos = similarity(img, txt); // [n, n] images × texts
  const n = Math.min(txt.rows, MAX_BARS);
  const shown = Array.from({ length: n }, (_, j) => j);
  const bars = softmaxAtTemperatures(cos.row(row), temps).flatMap(({ temperature, probs }) =>
    shown.map((j) => ({ T: `T = ${temperature}`, j, p: probs[j], truth: j === row }))
  );
  const plotWidth = 2 * SMALL.width + GAP;
  const tickChars = Math.max(6, Math.floor((plotWidth - 160) / n / (0.6 * FONT_SIZE)) - 1);
  const facetH = 96;

  const sharpen = plotPanel({
    width: plotWidth,
    height: facetH * temps.length + 80,
    marginLeft: 56,
    marginRight: 96,
    marginBottom: 64,
    marginTop: 20,
    x: {
      domain: shown,
      tickFormat: (j: number) => wrap(labels[j], tickChars, 2).join("\n"),
      label: "candidate text",
      labelAnchor: "center",
      labelArrow: "none",
      labelOffset: 60,
      tickSize: 0,
    },
    y: { domain: [0, 1], ticks: [0, 0.5, 1], tickFormat: (v: number) => `${v * 100}%`, label: null },
    fy: {
      domain: temps.map((t) => `T = ${t}`),
      label: null,
      axis: "right",
      tickSize: 0,
      tickPadding: 10,
      padding: 0.28,
    },
    marks: [
      Plot.frame({ stroke: "#dddddd" }),
      Plot.barY(bars, {
        x: "j",
        y: "p",
        fy: "T",
        fill: (d) => d.truth ? TRUTH : NEUTRAL,
        insetLeft: 4,
        insetRight: 4,
      }),
      Plot.text(bars, {
        x: "j",
        y: "p",
        fy: "T",
        text: (d) => d.p >= 0.005 ? `${Math.round(d.p * 100)}%` : "",
        dy: -8,
        fill: INK,
        fontSize: 12,
      }),
    ],
  });

  const sweep = temperatureSweep(img, txt, temperatureRange(...(options.sweep ?? SWEEP), SWEEP_POINTS));
  const markers = [
    { T: CLIP_INITIAL_TEMPERATURE, name: "initial T = 0.07" },
    { T: CLIP_LEARNED_TEMPERATURE, name: "learned T = 0.01" },
  ];
  const xT = {
    type: "log" as const,
    label: "temperature T (log scale; logit scale = 1/T)",
    labelAnchor: "center" as const,
    labelArrow: "none" as const,
    tickFormat: (t: number) => String(t),
  };
  const rules = [
    Plot.ruleX(markers, { x: "T", stroke: MUTED, strokeDasharray: "4,3" }),
    Plot.text(markers, { x: "T", text: "name", frameAnchor: "top", dy: -12, fill: MUTED, fontSize: 12 }),
  ];
  const lossChart = plotPanel({
    ...SMALL,
    x: xT,
    y: { label: "contrastive loss (nats)", labelArrow: "none", grid: true, zero: true },
    marks: [...rules, Plot.lineY(sweep, { x: "temperature", y: "loss", stroke: LOSS, strokeWidth: 3 })],
  });
  const accChart = plotPanel({
    ...SMALL,
    x: xT,
    y: {
      domain: [0, 1],
      label: "percent of pairs",
      labelArrow: "none",
      grid: true,
      tickFormat: (v: number) => `${Math.round(v * 100)}%`,
    },
    marks: [
      ...rules,
      Plot.lineY(sweep, {
        x: "temperature",
        y: "accuracy",
        stroke: INK,
        strokeWidth: 2.5,
        strokeDasharray: "6,4",
      }),
      Plot.lineY(sweep, { x: "temperature", y: "meanTrueProbability", stroke: GAIN, strokeWidth: 3 }),
    ],
  });
  return compose({
    title: options.title ?? "How the temperature T shapes CLIP's softmax",
    subtitle: `softmax(cos / T) of image ${
      row + 1
    } over ${txt.rows} texts (green: its own caption); loss and accuracy of the ${img.rows} pairs`,
    rows: [
      [sharpen],
      [swatchLegend([
        { label: "contrastive loss", color: LOSS, shape: "line" },
        { label: "mean p(true pair)", color: GAIN, shape: "line" },
        { label: "top-1 accuracy (T does not change the ranking)", color: INK, shape: "dash" },
      ])],
      [lossChart, accChart],
    ],
    note: txt.rows > MAX_BARS ? `bars show the first ${MAX_BARS} of ${txt.rows} texts` : undefined,
  });
}
