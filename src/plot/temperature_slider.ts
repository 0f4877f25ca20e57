/**
 * The temperature, explored: a log-scale slider over T; the softmax bars of a chosen image over the candidate
 * texts, and the batch's contrastive loss and mean p(true pair) at that T, with the model's learned T marked.
 *
 * temperatures (log-spaced + 0.07, 0.01, the learned T) → per T: `temperatureSweep` (loss, accuracy,
 * p(true pair)) and `softmaxAtTemperatures` of every image's cosines (the bars) → frames shipped in the page
 * (the probabilities as exact float32) → the slider and the image picker only switch frames.
 */
import * as Plot from "@observablehq/plot";
import { Matrix } from "../math/matrix.ts";
import { similarity } from "../math/similarity.ts";
import { softmaxAtTemperatures, temperatureRange, temperatureSweep } from "../math/loss.ts";
import { type Panel, scaledPlotPanel } from "./dom.ts";
import { compose } from "./figure.ts";
import { checkLabels, toRows } from "./input.ts";
import { PlotInputError } from "../errors.ts";
import {
  CONTROL_LABEL,
  float32Base64,
  type InteractiveFigure,
  interactiveFigure,
  label,
  THUMB_SIDE,
} from "./interactive.ts";
import { swatchLegend } from "./legend.ts";
import { esc, px, shorten } from "./svg.ts";
import { resolveThumbnail, type Thumbnail } from "./thumbnail.ts";
import { CLIP_INITIAL_TEMPERATURE, CLIP_LEARNED_TEMPERATURE } from "./temperature.ts";
import { FONT_SIZE, GAIN, INK, LOSS, MUTED, NEUTRAL, TRUTH } from "./theme.ts";

/** Options of {@link temperatureSlider}. */
export interface TemperatureSliderOptions {
  /** A label per text (the candidates each image chooses between); default "text 1", … */
  texts?: string[];
  /**
   * One thumbnail per image, shown above its bars (path, bytes, pixels or null). Pixels are embedded at most
   * 40 px wide; files and bytes whole, so pass `await plots.loadThumbnails(paths)` for photos.
   */
  images?: Thumbnail[];
  /** The model's learned temperature (1 / `model.logitScale`): marked, and the slider starts there. */
  learnedTemperature?: number;
  /** The image whose bars are shown first (default 0). */
  row?: number;
  /** Temperature range of the slider, default `[0.003, 1]`. */
  range?: [number, number];
  /** Log-spaced temperatures over the range (default 49); 0.07, 0.01 and the learned T are added. */
  steps?: number;
  /** Figure title (a default one when absent). */
  title?: string;
}

const BAR_ROW = 26;
const BAR_WIDTH = 300;
const LABEL_CHARS = 46;
const THUMB = 72;
const CHART = { width: 430, height: 250, marginLeft: 56, marginBottom: 44, marginTop: 28, marginRight: 20 };
/** Most candidate texts drawn as bars. */
const MAX_BARS = 16;

/**
 * An interactive temperature figure for a batch of matching pairs (row i of `images` belongs with row i of
 * `texts`). Every number in the page is computed here with the kit's `temperatureSweep` and
 * `softmaxAtTemperatures`.
 * @example
 * ```ts
 * import { plots } from "./mod.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const images = ["01_red_circle", "02_orange_star", "06_blue_square"].map((n) => `models/samples/${n}.png`);
 * const captions = ["a red circle", "an orange star", "a blue square"];
 * const imageEmbeds = await model.encodeImages(images); // [3, 64]
 * const textEmbeds = await model.encodeText(captions); // [3, 64]
 * const thumbs = await plots.loadThumbnails(images); // pixels: the page embeds them small
 * plots.temperatureSlider(imageEmbeds, textEmbeds, { texts: captions, images: thumbs, learnedTemperature: 1 / model.logitScale })
 * // → InteractiveFigure "Slide the temperature T" (1091×644, 62 kB; static SVG fallback)
 * ```
 */
export function temperatureSlider(
  images: Matrix | number[][],
  texts: Matrix | number[][],
  options: TemperatureSliderOptions = {},
): InteractiveFigure {
  const img = images instanceof Matrix ? images : Matrix.fromRows(toRows(images, "image embeddings"));
  const txt = texts instanceof Matrix ? texts : Matrix.fromRows(toRows(texts, "text embeddings"));
  if (img.rows !== txt.rows) {
    throw new PlotInputError(
      `temperatureSlider needs matching pairs but got ${img.rows} images and ${txt.rows} texts`,
      {
        fix: "pass one text per image, row i of each belonging together",
      },
    );
  }
  if (![img, txt].every((m) => m.data.every(Number.isFinite))) {
    throw new PlotInputError("the embeddings hold NaN or infinite values", {
      fix: "check the encoder output",
    });
  }
  const n = img.rows;
  if (n > MAX_BARS) {
    throw new PlotInputError(`temperatureSlider shows at most ${MAX_BARS} pairs as bars, got ${n}`, {
      fix: "pass a smaller batch (selectRows)",
    });
  }
  const labels = checkLabels(options.texts, n, "texts", "rows", "text");
  if (options.images && options.images.length !== n) {
    throw new PlotInputError(`images has ${options.images.length} thumbnails for ${n} pairs`, {
      fix: "pass one thumbnail (or null) per image",
    });
  }
  const row = options.row ?? 0;
  if (!(Number.isInteger(row) && row >= 0 && row < n)) {
    throw new PlotInputError(`row ${row} is outside 0…${n - 1}`, {
      fix: "pick the image whose bars to show first",
    });
  }
  const [lo, hi] = options.range ?? [0.003, 1];
  if (!(lo > 0 && hi > lo && Number.isFinite(hi))) {
    throw new PlotInputError(`range [${lo}, ${hi}] is not a temperature range`, {
      fix: "pass two positive temperatures, low then high, e.g. [0.003, 1]",
    });
  }
  const learned = options.learnedTemperature;
  if (learned !== undefined && !(learned > 0 && Number.isFinite(learned))) {
    throw new PlotInputError(`learnedTemperature is ${learned}`, {
      fix: "pass 1 / model.logitScale, a positive number",
    });
  }
  const steps = options.steps ?? 49;
  if (!(Number.isInteger(steps) && steps >= 2 && steps <= 400)) {
    throw new PlotInputError(`steps is ${steps}`, {
      fix: "pass a whole number of temperatures from 2 to 400",
    });
  }

  // The frames: the log-spaced grid, plus CLIP's two temperatures and the learned one, each exactly.
  const marked = [CLIP_INITIAL_TEMPERATURE, CLIP_LEARNED_TEMPERATURE, ...(learned ? [learned] : [])]
    .filter((t) => t >= lo && t <= hi);
  const temps = [...temperatureRange(lo, hi, steps), ...marked].sort((a, b) => a - b)
    .filter((t, k, a) => k === 0 || t / a[k - 1] > 1 + 1e-9);
  const frameOf = (t: number) => temps.findIndex((u) => Math.abs(u / t - 1) < 1e-9);
  const sweep = temperatureSweep(img, txt, temps);
  const cos = similarity(img, txt); // [n images, n texts]
  const K = temps.length;
  const probs = new Float32Array(n * K * n); // [image, frame, text]
  for (let i = 0; i < n; i++) {
    softmaxAtTemperatures(cos.row(i), temps).forEach((f, k) => probs.set(f.probs, (i * K + k) * n));
  }
  const start = frameOf(learned && learned >= lo && learned <= hi ? learned : CLIP_INITIAL_TEMPERATURE);
  const k0 = start >= 0 ? start : Math.floor(K / 2);
  const p = (i: number, k: number, j: number) => probs[(i * K + k) * n + j];

  // Bars of one image.
  const thumbs = options.images?.map((t) => resolveThumbnail(t, THUMB_SIDE));
  const head = thumbs ? THUMB + 10 : FONT_SIZE + 10;
  const barLeft = Math.ceil(
    Math.max(...labels.map((l) => shorten(l, LABEL_CHARS).length)) * (FONT_SIZE - 1) * 0.6,
  ) + 12;
  const bars: string[] = [];
  thumbs?.forEach((t, i) => {
    if (t.href) {
      bars.push(
        `<image data-thumb="${i}" x="0" y="0" width="${THUMB}" height="${THUMB}" style="image-rendering:pixelated" ` +
          `visibility="${i === row ? "visible" : "hidden"}" href="${esc(t.href)}"/>`,
      );
    }
  });
  bars.push(
    label(thumbs ? THUMB + 12 : 0, thumbs ? THUMB / 2 + 5 : FONT_SIZE, chosenLabel(row, labels[row]), {
      class: "ck-chosen",
      "font-size": FONT_SIZE,
      "font-weight": "bold",
      fill: INK,
    }),
  );
  for (let j = 0; j < n; j++) {
    const y = head + j * BAR_ROW;
    bars.push(
      label(barLeft - 8, y + BAR_ROW / 2 + 5, shorten(labels[j], LABEL_CHARS), {
        class: "ck-label",
        "data-j": j,
        "font-size": FONT_SIZE - 1,
        "text-anchor": "end",
        fill: INK,
      }),
      `<rect x="${barLeft}" y="${y + 3}" width="${BAR_WIDTH}" height="${BAR_ROW - 6}" fill="#f2f2f2"/>`,
      `<rect class="ck-bar" data-j="${j}" x="${barLeft}" y="${y + 3}" width="${
        px(p(row, k0, j) * BAR_WIDTH)
      }" height="${BAR_ROW - 6}" fill="${j === row ? TRUTH : NEUTRAL}"/>`,
      label(barLeft + BAR_WIDTH + 6, y + BAR_ROW / 2 + 5, pct(p(row, k0, j)), {
        class: "ck-pct",
        "data-j": j,
        "font-size": FONT_SIZE - 2,
        fill: INK,
      }),
    );
  }
  const barPanel: Panel = {
    width: barLeft + BAR_WIDTH + 70,
    height: head + n * BAR_ROW + 4,
    body: `<g class="ck-bars">${bars.join("")}</g>`,
  };

  // Loss, and p(true pair) with the accuracy, against T.
  const refs = [
    { T: CLIP_INITIAL_TEMPERATURE, name: "0.07" },
    { T: CLIP_LEARNED_TEMPERATURE, name: "0.01" },
    ...(learned ? [{ T: learned, name: `learned ${+learned.toPrecision(2)}` }] : []),
  ].filter((r) => r.T >= lo && r.T <= hi);
  const xT = {
    type: "log" as const,
    domain: [lo, hi],
    label: "temperature T (log scale)",
    labelAnchor: "center" as const,
    labelArrow: "none" as const,
    tickFormat: (t: number) => String(t),
  };
  const rules = [
    Plot.ruleX(refs, {
      x: "T",
      stroke: (d) => d.name.startsWith("learned") ? INK : MUTED,
      strokeDasharray: "4,3",
    }),
    Plot.text(refs, {
      x: "T",
      text: "name",
      frameAnchor: "top",
      dy: -12,
      fill: (d) => d.name.startsWith("learned") ? INK : MUTED,
      fontSize: 11,
    }),
  ];
  const maxLoss = Math.max(...sweep.map((s) => s.loss));
  const lossChart = scaledPlotPanel({
    ...CHART,
    x: xT,
    y: { domain: [0, maxLoss * 1.05], label: "contrastive loss (nats)", labelArrow: "none", grid: true },
    marks: [...rules, Plot.lineY(sweep, { x: "temperature", y: "loss", stroke: LOSS, strokeWidth: 3 })],
  });
  const pChart = scaledPlotPanel({
    ...CHART,
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
        strokeWidth: 2,
        strokeDasharray: "6,4",
      }),
      Plot.lineY(sweep, { x: "temperature", y: "meanTrueProbability", stroke: GAIN, strokeWidth: 3 }),
    ],
  });
  const xs = temps.map((t) => round2(lossChart.x(t)));
  const yLoss = sweep.map((s) => round2(lossChart.y(s.loss)));
  const yP = sweep.map((s) => round2(pChart.y(s.meanTrueProbability)));
  const top = CHART.marginTop, bottom = CHART.height - CHART.marginBottom;
  const marker = (cls: string, y: number[], colour: string) =>
    `<g class="${cls}"><line class="ck-rule" x1="${xs[k0]}" x2="${xs[k0]}" y1="${top}" y2="${bottom}" ` +
    `stroke="${colour}" stroke-width="1.5"/><circle class="ck-dot" cx="${xs[k0]}" cy="${y[k0]}" r="6" ` +
    `fill="${colour}" stroke="white" stroke-width="2"/></g>`;
  const withMarker = (c: { panel: Panel }, m: string): Panel => ({ ...c.panel, body: c.panel.body + m });

  const readout: Panel = {
    width: 880,
    height: FONT_SIZE + 8,
    body: label(0, FONT_SIZE + 2, readoutText(temps[k0], sweep[k0]), {
      class: "ck-readout",
      "font-size": FONT_SIZE + 1,
      "font-weight": "bold",
      fill: INK,
      "data-frame": k0,
      "data-t": temps[k0],
      "data-loss": sweep[k0].loss,
      "data-ptrue": sweep[k0].meanTrueProbability,
    }),
  };
  const fallback = compose({
    title: options.title ?? "Slide the temperature T",
    subtitle: `softmax(cos / T) of one image over its ${n} candidate texts (green: its own); ` +
      `loss and mean p(true pair) of the ${n} pairs at that T`,
    rows: [
      [readout],
      [barPanel],
      [swatchLegend([
        { label: "contrastive loss", color: LOSS, shape: "line" },
        { label: "mean p(true pair)", color: GAIN, shape: "line" },
        { label: "top-1 accuracy", color: INK, shape: "dash" },
        { label: "current T", color: INK, shape: "line" },
      ])],
      [
        withMarker(lossChart, marker("ck-mark-loss", yLoss, LOSS)),
        withMarker(pChart, marker("ck-mark-p", yP, GAIN)),
      ],
    ],
    note:
      `static view at T = ${fmtT(temps[k0])}; in Jupyter (trusted notebook), VS Code or the HTML export, ` +
      `slide T and pick the image`,
  });

  const jumps = [
    ...(learned && frameOf(learned) >= 0
      ? [[`learned T = ${fmtT(learned)}`, frameOf(learned)] as const]
      : []),
    ...[CLIP_INITIAL_TEMPERATURE, CLIP_LEARNED_TEMPERATURE].filter((t) => frameOf(t) >= 0)
      .map((t) =>
        [`CLIP ${t === CLIP_INITIAL_TEMPERATURE ? "initial" : "final"} T = ${t}`, frameOf(t)] as const
      ),
  ];
  const controls =
    `<label><span style="${CONTROL_LABEL}">image</span><select class="ck-image">${
      labels.map((l, i) =>
        `<option value="${i}"${i === row ? " selected" : ""}>${i + 1}: ${esc(shorten(l, 48))}</option>`
      )
        .join("")
    }</select></label>` +
    `<label><span style="${CONTROL_LABEL}">temperature T</span><input class="ck-t" type="range" min="0" max="${
      K - 1
    }" step="1" value="${k0}" style="width:260px;vertical-align:middle"> <output class="ck-t-value">${
      fmtT(temps[k0])
    }</output></label>` +
    jumps.map(([name, k]) => `<button class="ck-jump" type="button" data-k="${k}">${esc(name)}</button>`)
      .join(" ");

  return interactiveFigure({
    fallback,
    controls,
    data: {
      n,
      K,
      T: temps,
      loss: sweep.map((s) => s.loss),
      ptrue: sweep.map((s) => s.meanTrueProbability),
      acc: sweep.map((s) => s.accuracy),
      probs: float32Base64(probs),
      labels,
      xs,
      yLoss,
      yP,
      barWidth: BAR_WIDTH,
      row,
      frame: k0,
    },
    bind: `
var probs = ck.f32(D.probs), state = { i: D.row, k: D.frame };
var slider = ck.one(root, ".ck-t"), picker = ck.one(root, ".ck-image"), out = ck.one(root, ".ck-t-value");
var readout = ck.one(root, ".ck-readout");
function fmtT(t) { return t >= 0.1 ? t.toPrecision(2) : t.toPrecision(3); }
function show() {
  var i = state.i, k = state.k, base = (i * D.K + k) * D.n;
  ck.all(root, ".ck-bar").forEach(function (r) {
    var j = +r.getAttribute("data-j"), p = probs[base + j];
    r.setAttribute("width", (p * D.barWidth).toFixed(2));
    r.setAttribute("fill", j === i ? "${TRUTH}" : "${NEUTRAL}");
    r.setAttribute("data-value", String(p));
  });
  ck.all(root, ".ck-pct").forEach(function (t) { t.textContent = ck.pct(probs[base + +t.getAttribute("data-j")]); });
  ck.all(root, "image[data-thumb]").forEach(function (im) {
    im.setAttribute("visibility", +im.getAttribute("data-thumb") === i ? "visible" : "hidden");
  });
  ck.one(root, ".ck-chosen").textContent = "image " + (i + 1) + ": " + D.labels[i];
  [[".ck-mark-loss", D.yLoss], [".ck-mark-p", D.yP]].forEach(function (m) {
    var g = ck.one(root, m[0]), line = g.querySelector(".ck-rule"), dot = g.querySelector(".ck-dot");
    line.setAttribute("x1", D.xs[k]); line.setAttribute("x2", D.xs[k]);
    dot.setAttribute("cx", D.xs[k]); dot.setAttribute("cy", m[1][k]);
  });
  readout.textContent = "T = " + fmtT(D.T[k]) + " (logit scale " + (1 / D.T[k]).toFixed(1) + ") · loss " +
    D.loss[k].toFixed(4) + " · mean p(true pair) " + ck.pct(D.ptrue[k]) + " · top-1 accuracy " + ck.pct(D.acc[k]);
  readout.setAttribute("data-frame", String(k));
  readout.setAttribute("data-t", String(D.T[k]));
  readout.setAttribute("data-loss", String(D.loss[k]));
  readout.setAttribute("data-ptrue", String(D.ptrue[k]));
  slider.value = String(k);
  out.textContent = fmtT(D.T[k]);
}
slider.addEventListener("input", function () { state.k = +slider.value; show(); });
picker.addEventListener("change", function () { state.i = +picker.value; show(); });
ck.all(root, ".ck-jump").forEach(function (b) {
  b.addEventListener("click", function () { state.k = +b.getAttribute("data-k"); show(); });
});
show();`,
  });
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function pct(p: number): string {
  return `${(100 * p).toFixed(1)} %`;
}

/** T as the page writes it. */
function fmtT(t: number): string {
  return t >= 0.1 ? t.toPrecision(2) : t.toPrecision(3);
}

function chosenLabel(i: number, label: string): string {
  return `image ${i + 1}: ${label}`;
}

function readoutText(T: number, s: { loss: number; meanTrueProbability: number; accuracy: number }): string {
  return `T = ${fmtT(T)} (logit scale ${(1 / T).toFixed(1)}) · loss ${
    s.loss.toFixed(4)
  } · mean p(true pair) ${pct(s.meanTrueProbability)} · top-1 accuracy ${pct(s.accuracy)}`;
}
