/**
 * openai/CLIP's zero-shot figure: each image beside its top-k classes and their probabilities.
 */
import * as Plot from "@observablehq/plot";
import { type Panel, plotPanel } from "./dom.ts";
import { compose, type Figure } from "./figure.ts";
import { checkFinite, checkLabels } from "./input.ts";
import { PlotInputError } from "../errors.ts";
import { swatchLegend } from "./legend.ts";
import { shorten, text, textWidth } from "./svg.ts";
import { type Thumbnail, thumbnailSvg } from "./thumbnail.ts";
import { FONT_SIZE, INK, NEUTRAL, TRUTH } from "./theme.ts";
import type { Prediction } from "../zeroshot/classifier.ts";

/** What a bar needs of a zero-shot {@link Prediction}: its label and probability (the class index is not drawn). */
export type BarPrediction = Pick<Prediction, "label" | "score">;

/** Options of {@link zeroShotBars}. */
export interface ZeroShotBarsOptions {
  /** One thumbnail per image (path, bytes, pixels, or null). */
  images?: Thumbnail[];
  /** The true class of each image: its bar is drawn in green. */
  truth?: string[];
  /** A caption over each image (default the true class, else "image i"). */
  captions?: string[];
  /** Classes shown per image (default 5). */
  topK?: number;
  /** Images per row of the grid (default 2). */
  columns?: number;
  /** Figure title (a default one when absent). */
  title?: string;
}

const THUMB = 112;
const BAR_ROW = 24;
const CHART_WIDTH = 330;
const LABEL_CHARS = 22;

/**
 * Thumbnails with their top-k zero-shot predictions as horizontal probability bars.
 * @example
 * ```ts
 * import { plots } from "./mod.ts";
 * const predictions = [[{ label: "circle", score: 0.91 }, { label: "square", score: 0.05 }]];
 * plots.zeroShotBars(predictions, { images: ["models/samples/01_red_circle.png"], truth: ["circle"] })
 * // → Figure "Zero-shot predictions: top 5 classes per image" (721×326 SVG)
 * ```
 */
export function zeroShotBars(predictions: BarPrediction[][], options: ZeroShotBarsOptions = {}): Figure {
  if (!Array.isArray(predictions) || predictions.length === 0) {
    throw new PlotInputError(
      "zeroShotBars got no predictions",
      { fix: "pass one { label, score }[] list per image, at least one image" },
    );
  }
  const n = predictions.length;
  if (options.images && options.images.length !== n) {
    throw new PlotInputError(
      `images has ${options.images.length} thumbnails for ${n} predictions`,
      { fix: "pass one (or null) per image" },
    );
  }
  const truth = options.truth ? checkLabels(options.truth, n, "truth", "images", "image") : undefined;
  const captions = checkLabels(
    options.captions ?? truth?.map((t) => `true: ${t}`),
    n,
    "captions",
    "images",
    "image",
  );
  const topK = options.topK ?? 5;
  if (!(Number.isInteger(topK) && topK >= 1)) {
    throw new PlotInputError(`topK must be a whole number ≥ 1, got ${topK}`, { fix: "pass e.g. topK: 5" });
  }
  const columns = Math.max(1, Math.min(options.columns ?? 2, n));

  const tops = predictions.map((preds, i) => {
    if (!Array.isArray(preds) || preds.length === 0) {
      throw new PlotInputError(`predictions[${i}] is empty`, {
        fix: "give every image at least one { label, score }",
      });
    }
    return [...preds].sort((a, b) => b.score - a.score).slice(0, topK)
      .map((p, rank) => ({
        rank,
        label: String(p.label),
        score: checkFinite(p.score, `predictions[${i}][${rank}].score`),
      }));
  });
  // One label margin for all cells, so the grid's bars line up.
  const marginLeft =
    Math.ceil(Math.max(...tops.flat().map((p) => textWidth(shorten(p.label, LABEL_CHARS), FONT_SIZE)))) + 12;
  const cells = tops.map((top, i) =>
    cell(top, options.images?.[i], options.images !== undefined, captions[i], truth?.[i], topK, marginLeft)
  );
  const rows: Panel[][] = [];
  for (let i = 0; i < n; i += columns) rows.push(cells.slice(i, i + columns));
  if (truth) {
    rows.push([
      swatchLegend([{ label: "true class", color: TRUTH }, { label: "other classes", color: NEUTRAL }]),
    ]);
  }
  return compose({
    title: options.title ?? `Zero-shot predictions: top ${topK} classes per image`,
    subtitle: "bar length: the probability CLIP gives each class (softmax over all class prompts)",
    rows,
  });
}

/** One image: caption, thumbnail, and its bar chart. */
function cell(
  top: { rank: number; label: string; score: number }[],
  image: Thumbnail,
  hasImages: boolean,
  caption: string,
  truth: string | undefined,
  topK: number,
  marginLeft: number,
): Panel {
  const labels = top.map((p) => shorten(p.label, LABEL_CHARS));
  const maxScore = Math.max(1, ...top.map((p) => p.score));
  const chart = plotPanel({
    width: marginLeft + CHART_WIDTH,
    height: topK * BAR_ROW + 48,
    marginLeft,
    marginRight: 52,
    marginTop: 4,
    marginBottom: 44,
    x: {
      domain: [0, maxScore],
      label: "probability (%)",
      labelAnchor: "center",
      labelArrow: "none",
      ticks: 4,
      tickFormat: (v: number) => `${Math.round(v * 100)}`,
      grid: true,
    },
    y: {
      domain: Array.from({ length: topK }, (_, r) => r),
      tickFormat: (r: number) => labels[r] ?? "",
      label: null,
      tickSize: 0,
      tickPadding: 6,
    },
    marks: [
      Plot.barX(top, {
        x: "score",
        y: "rank",
        fill: (d) => d.label === truth ? TRUTH : NEUTRAL,
        insetTop: 3,
        insetBottom: 3,
      }),
      Plot.text(top, {
        x: "score",
        y: "rank",
        text: (d) => `${(d.score * 100).toFixed(1)}%`,
        textAnchor: "start",
        dx: 4,
        fill: INK,
        fontSize: 12,
      }),
      Plot.ruleX([0], { stroke: INK }),
    ],
  });
  const thumbW = hasImages ? THUMB + 12 : 0;
  const head = FONT_SIZE + 8;
  const parts = [
    text(0, FONT_SIZE, shorten(caption, 40), { "font-size": FONT_SIZE, "font-weight": "bold", fill: INK }),
  ];
  if (hasImages) parts.push(thumbnailSvg(image, 0, head, THUMB));
  parts.push(`<g transform="translate(${thumbW},${head})">${chart.body}</g>`);
  return {
    width: thumbW + chart.width,
    height: head + Math.max(hasImages ? THUMB : 0, chart.height),
    body: `<g class="zero-shot-cell">${parts.join("")}</g>`,
  };
}
