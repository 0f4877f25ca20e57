/**
 * Prompt templates, picked by hand: tick templates on and off, and the ensemble's zero-shot accuracy, the
 * per-class accuracy bars and the class-by-class similarity heatmap follow.
 *
 * unit prompt embeddings (`embedPrompts`) + unit image embeddings of a class-balanced sample → shipped in the
 * page as exact float32 → for the ticked templates the page averages and renormalises each class's prompts
 * exactly as `classWeights` does (float64 sums, float32 results, the same order), scores every picture as
 * `matmulT` does and takes the first best class, as `accuracyOf` does. The static view is computed here with
 * the kit's own `classWeights`, `accuracyOf` and `evaluateScores`.
 */
import { matmulT, Matrix, selectRows } from "../math/matrix.ts";
import { normalize } from "../math/similarity.ts";
import { accuracyOf, classWeights, evaluateScores, type PromptEmbeddings } from "../zeroshot/classifier.ts";
import { PlotInputError } from "../errors.ts";
import type { Panel } from "./dom.ts";
import { compose } from "./figure.ts";
import { finiteExtent } from "./input.ts";
import {
  CONTROL_LABEL,
  float32Base64,
  type InteractiveFigure,
  interactiveFigure,
  label,
} from "./interactive.ts";
import { heatmapLegend, liveHeatmap } from "./live_heatmap.ts";
import { esc, px, shorten } from "./svg.ts";
import type { Thumbnail } from "./thumbnail.ts";
import { FONT_SIZE, GAIN, INK, MUTED } from "./theme.ts";

/** Options of {@link templatePicker}. */
export interface TemplatePickerOptions {
  /**
   * One thumbnail per image (parallel to the embeddings); each heatmap column shows its class's first. Pixels
   * are embedded at most 40 px wide; files and bytes whole (`await plots.loadThumbnails(paths)` for photos).
   */
  thumbnails?: Thumbnail[];
  /** Most pictures shipped in the page (default 256): a class-balanced sample, the first of each class. */
  maxImages?: number;
  /** Template indices ticked at first (default all). */
  initial?: number[];
  /** Figure title (a default one when absent). */
  title?: string;
}

/** What the page shows for one set of ticked templates (computed with the kit's functions). */
export interface TemplatePickerState {
  /** Ticked template indices, ascending. */
  templates: number[];
  /** Top-1 accuracy of the ensemble on the sample. */
  accuracy: number;
  /** Top-1 accuracy per class (NaN for a class without pictures). */
  perClass: number[];
  /** `[class vector][true class]`: mean cosine of a class's pictures with each class vector. */
  heatmap: number[][];
}

/** Most classes the picker draws (bars and heatmap). */
const MAX_CLASSES = 40;
const BAR_ROW = 24;
const BAR_WIDTH = 240;

/**
 * The sample the page gets: at most `maxImages` pictures, the first `ceil(maxImages / classes)` of each
 * class, in their original order.
 * @example
 * ```ts
 * import { pickerSample } from "./template_picker.ts";
 * pickerSample(Int32Array.of(0, 0, 0, 1, 1), 2, 4); // → [0, 1, 3, 4]
 * ```
 */
export function pickerSample(labels: ArrayLike<number>, classes: number, maxImages: number): number[] {
  const perClass = Math.max(1, Math.floor(maxImages / classes));
  const taken = new Array<number>(classes).fill(0);
  const out: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (taken[labels[i]] < perClass) {
      taken[labels[i]]++;
      out.push(i);
    }
  }
  return out;
}

/**
 * The numbers the page shows for the ticked `templates`, with the kit's `classWeights`, `accuracyOf` and
 * `evaluateScores` (unit image embeddings `X`).
 * @example
 * ```ts
 * import { pickerState } from "./template_picker.ts";
 * import { normalize } from "../math/similarity.ts";
 * import { embedPrompts } from "../zeroshot/classifier.ts";
 * import { templates } from "../zeroshot/templates.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const images = ["01_red_circle", "02_orange_star", "06_blue_square"].map((n) => `models/samples/${n}.png`);
 * const captions = ["a red circle", "an orange star", "a blue square"];
 * const imageEmbeds = await model.encodeImages(images); // [3, 64]
 * const textEmbeds = await model.encodeText(captions); // [3, 64]
 * const prompts = await embedPrompts(model, ["circle", "star", "square"], templates.shapes);
 * const labels = Int32Array.of(0, 1, 2);
 * pickerState(prompts, normalize(imageEmbeds), labels, [0, 2]).accuracy; // → 1
 * ```
 */
export function pickerState(
  prompts: PromptEmbeddings,
  X: Matrix,
  labels: Int32Array,
  templates: number[],
): TemplatePickerState {
  const W = classWeights(prompts, templates); // [classes, D]
  const scores = matmulT(X, W); // [N, classes]
  const names = prompts.classNameLists.map((l) => l[0]);
  const C = names.length;
  const sums = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  const counts = new Array<number>(C).fill(0);
  for (let i = 0; i < X.rows; i++) {
    counts[labels[i]]++;
    for (let c = 0; c < C; c++) sums[c][labels[i]] += scores.data[i * C + c];
  }
  return {
    templates: [...templates],
    accuracy: accuracyOf(W, X, labels),
    perClass: evaluateScores(scores, labels, names).perClass.map((p) => p.top1),
    heatmap: sums.map((row) => row.map((s, col) => counts[col] ? s / counts[col] : NaN)),
  };
}

/**
 * An interactive prompt-template picker over zero-shot classification.
 * @example
 * ```ts
 * import { embedPrompts } from "../zeroshot/classifier.ts";
 * import { templates } from "../zeroshot/templates.ts";
 * import { plots } from "./mod.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const images = ["01_red_circle", "02_orange_star", "06_blue_square"].map((n) => `models/samples/${n}.png`);
 * const imageEmbeds = await model.encodeImages(images); // [3, 64]
 * const prompts = await embedPrompts(model, ["circle", "star", "square"], templates.shapes);
 * const thumbnails = await plots.loadThumbnails(images); // pixels: the page embeds them small
 * plots.templatePicker(prompts, imageEmbeds, [0, 1, 2], { thumbnails })
 * // → InteractiveFigure "Pick the prompt templates" (1124×536, 67 kB; static SVG fallback)
 * ```
 */
export function templatePicker(
  prompts: PromptEmbeddings,
  images: Matrix,
  labels: ArrayLike<number>,
  options: TemplatePickerOptions = {},
): InteractiveFigure {
  if (!prompts || !(prompts.embeddings instanceof Matrix) || !Array.isArray(prompts.rows)) {
    throw new PlotInputError("templatePicker needs the prompt embeddings of a classifier", {
      fix: "pass embedPrompts(model, classNames, templates)",
    });
  }
  const names = prompts.classNameLists.map((l) => l[0]);
  const C = names.length, T = prompts.templates.length, d = prompts.embeddings.cols;
  if (C < 2 || C > MAX_CLASSES) {
    throw new PlotInputError(`templatePicker draws 2 to ${MAX_CLASSES} classes, got ${C}`, {
      fix: 'use coarser classes, e.g. shapesClassNames("shape")',
    });
  }
  if (!(images instanceof Matrix) || images.cols !== d || images.rows !== labels.length) {
    throw new PlotInputError(
      `images must be a Matrix of ${labels.length} embeddings ${d} wide (one per label), got ${
        images instanceof Matrix ? `${images.rows}×${images.cols}` : typeof images
      }`,
      { fix: "embed the pictures with the same model as the prompts and pass one label per picture" },
    );
  }
  for (let i = 0; i < labels.length; i++) {
    if (!(Number.isInteger(labels[i]) && labels[i] >= 0 && labels[i] < C)) {
      throw new PlotInputError(`label ${i} is ${labels[i]}, which is no class index`, {
        fix: `give each picture its class index 0…${C - 1}`,
      });
    }
  }
  if (options.thumbnails && options.thumbnails.length !== labels.length) {
    throw new PlotInputError(
      `thumbnails has ${options.thumbnails.length} entries for ${labels.length} pictures`,
      {
        fix: "pass one thumbnail (or null) per picture",
      },
    );
  }
  const maxImages = options.maxImages ?? 256;
  if (!(Number.isInteger(maxImages) && maxImages >= C)) {
    throw new PlotInputError(`maxImages is ${maxImages}`, { fix: `pass a whole number ≥ the ${C} classes` });
  }
  const initial = [...new Set(options.initial ?? prompts.templates.map((_, t) => t))].sort((a, b) => a - b);
  if (initial.length === 0 || initial.some((t) => !(Number.isInteger(t) && t >= 0 && t < T))) {
    throw new PlotInputError(
      `initial templates [${initial.join(", ")}] are not indices of the ${T} templates`,
      {
        fix: `tick at least one template index 0…${T - 1}`,
      },
    );
  }

  const sample = pickerSample(labels, C, maxImages);
  const X = normalize(selectRows(images, sample)); // [N, D] unit rows, as embedImages gives them
  const y = Int32Array.from(sample, (i) => labels[i]);
  const counts = names.map((_, c) => y.filter((l) => l === c).length);
  const first = names.map((_, c) => sample.find((i) => labels[i] === c));
  const state = pickerState(prompts, X, y, initial);
  const all = pickerState(prompts, X, y, prompts.templates.map((_, t) => t));
  // A colour scale that holds every single template and the full ensemble.
  const domain = finiteExtent([
    ...all.heatmap.flat(),
    ...state.heatmap.flat(),
    ...prompts.templates.flatMap((_, t) => pickerState(prompts, X, y, [t]).heatmap.flat()),
  ]);

  // Per-class accuracy bars, with the all-templates accuracy as a tick.
  const barLeft = Math.ceil(Math.max(...names.map((n) => shorten(n, 28).length)) * (FONT_SIZE - 1) * 0.6) +
    12;
  const bars: string[] = [
    label(0, FONT_SIZE, "top-1 accuracy per class", {
      "font-size": FONT_SIZE,
      "font-weight": "bold",
      fill: INK,
    }),
  ];
  const head = FONT_SIZE + 12;
  names.forEach((name, c) => {
    const yy = head + c * BAR_ROW;
    const a = state.perClass[c];
    bars.push(
      label(barLeft - 8, yy + BAR_ROW / 2 + 5, shorten(name, 28), {
        "font-size": FONT_SIZE - 1,
        "text-anchor": "end",
        fill: INK,
      }),
      `<rect x="${barLeft}" y="${yy + 3}" width="${BAR_WIDTH}" height="${BAR_ROW - 6}" fill="#f2f2f2"/>`,
      `<rect class="ck-bar" data-c="${c}" data-value="${a}" x="${barLeft}" y="${yy + 3}" width="${
        px((Number.isFinite(a) ? a : 0) * BAR_WIDTH)
      }" height="${BAR_ROW - 6}" fill="${GAIN}"/>`,
      `<line x1="${px(barLeft + (all.perClass[c] || 0) * BAR_WIDTH)}" x2="${
        px(barLeft + (all.perClass[c] || 0) * BAR_WIDTH)
      }" y1="${yy + 1}" y2="${yy + BAR_ROW - 1}" stroke="${INK}" stroke-width="2" stroke-dasharray="3,2"/>`,
      label(barLeft + BAR_WIDTH + 6, yy + BAR_ROW / 2 + 5, pct(a), {
        class: "ck-pct",
        "data-c": c,
        "font-size": FONT_SIZE - 2,
        fill: INK,
      }),
    );
  });
  bars.push(
    label(barLeft, head + C * BAR_ROW + FONT_SIZE + 4, `dashed: all ${T} templates`, {
      "font-size": FONT_SIZE - 2,
      fill: MUTED,
    }),
  );
  const barPanel: Panel = {
    width: barLeft + BAR_WIDTH + 70,
    height: head + C * BAR_ROW + FONT_SIZE + 10,
    body: `<g class="ck-bars">${bars.join("")}</g>`,
  };
  const heat = liveHeatmap({
    rows: names.map((n) => `“${n}” prompts`),
    columns: names,
    thumbnails: options.thumbnails
      ? first.map((i) => i === undefined ? null : options.thumbnails![i])
      : undefined,
    values: state.heatmap,
    domain,
    format: (v) => v.toFixed(2),
    pairs: names.map((_, c) => [c, c] as [number, number]),
  });
  const heatPanel: Panel = {
    width: heat.width,
    height: heat.height + FONT_SIZE + 12,
    body: label(heat.left, FONT_SIZE, "mean cosine: class vectors × pictures", {
      "font-size": FONT_SIZE,
      "font-weight": "bold",
      fill: INK,
    }) + `<g transform="translate(0,${FONT_SIZE + 12})">${heat.body}</g>`,
  };
  const readout: Panel = {
    width: 900,
    height: FONT_SIZE + 8,
    body: label(
      0,
      FONT_SIZE + 2,
      readoutText(initial.length, T, state.accuracy, sample.length, all.accuracy),
      {
        class: "ck-readout",
        "font-size": FONT_SIZE + 1,
        "font-weight": "bold",
        fill: INK,
        "data-accuracy": state.accuracy,
      },
    ),
  };
  const ticked = initial.length === T ? "all templates" : `templates ${initial.map((t) => t + 1).join(", ")}`;
  const fallback = compose({
    title: options.title ?? "Pick the prompt templates",
    subtitle:
      `zero-shot classification of ${sample.length} pictures (${perClassText(counts)}) into ${C} classes; ` +
      `a class vector is the renormalised mean of its ticked prompts`,
    rows: [[readout], [barPanel, heatPanel], [
      heatmapLegend("mean cosine similarity", domain, barPanel.width + 24 + heat.left),
    ]],
    note:
      `static view with ${ticked} (${initial.length} of ${T}); in Jupyter (trusted notebook), VS Code or ` +
      `the HTML export, tick templates on and off`,
  });

  const controls = `<div style="width:100%"><span style="${CONTROL_LABEL}">templates</span>` +
    `<button class="ck-all" type="button">all</button> <button class="ck-none" type="button">none</button></div>` +
    prompts.templates.map((t, k) =>
      `<label style="white-space:nowrap"><input class="ck-template" type="checkbox" value="${k}"${
        initial.includes(k) ? " checked" : ""
      }> ${esc(t)}</label>`
    ).join("");

  return interactiveFigure({
    fallback,
    controls,
    data: {
      C,
      T,
      d,
      N: sample.length,
      E: float32Base64(prompts.embeddings.data),
      rows: prompts.rows,
      X: float32Base64(X.data),
      y: Array.from(y),
      counts,
      names,
      templates: prompts.templates,
      all: all.accuracy,
      domain,
      barWidth: BAR_WIDTH,
    },
    bind: `
var E = ck.f32(D.E), X = ck.f32(D.X), d = D.d, C = D.C, N = D.N;
var boxes = ck.all(root, ".ck-template"), readout = ck.one(root, ".ck-readout"), current = null;
function ticked() {
  return boxes.filter(function (b) { return b.checked; }).map(function (b) { return +b.value; });
}
// classWeights: per class, the float64 sum of its prompts' unit embeddings over every name and the ticked
// templates, renormalised, stored as float32.
function weights(use) {
  var W = new Float32Array(C * d), sum = new Float64Array(d);
  for (var c = 0; c < C; c++) {
    sum.fill(0);
    D.rows[c].forEach(function (byTemplate) {
      use.forEach(function (t) {
        var base = byTemplate[t] * d;
        for (var k = 0; k < d; k++) sum[k] += E[base + k];
      });
    });
    var ss = 0;
    for (var k = 0; k < d; k++) ss += sum[k] * sum[k];
    var norm = Math.sqrt(ss) || 1;
    for (var k2 = 0; k2 < d; k2++) W[c * d + k2] = sum[k2] / norm;
  }
  return W;
}
// matmulT's float64 dot products stored as float32; argmaxRows' first best class.
function evaluate(use) {
  var W = weights(use), S = new Float32Array(N * C), hits = 0, perHit = new Array(C).fill(0);
  var sums = []; for (var r = 0; r < C; r++) sums.push(new Array(C).fill(0));
  for (var i = 0; i < N; i++) {
    var best = 0;
    for (var c = 0; c < C; c++) {
      var s = 0;
      for (var k = 0; k < d; k++) s += X[i * d + k] * W[c * d + k];
      S[i * C + c] = s;
      if (S[i * C + c] > S[i * C + best]) best = c;
      sums[c][D.y[i]] += S[i * C + c];
    }
    if (best === D.y[i]) { hits++; perHit[D.y[i]]++; }
  }
  return {
    accuracy: N ? hits / N : NaN,
    perClass: perHit.map(function (h, c) { return D.counts[c] ? h / D.counts[c] : NaN; }),
    heatmap: sums.map(function (row) { return row.map(function (s, col) { return D.counts[col] ? s / D.counts[col] : NaN; }); }),
  };
}
function pct(p) { return isFinite(p) ? ck.pct(p) : "n/a"; }
function show() {
  var use = ticked();
  if (use.length === 0) {
    readout.textContent = "tick at least one template";
    readout.setAttribute("data-accuracy", "");
    current = null;
    ck.all(root, ".ck-cell, .ck-bar").forEach(function (e) { e.setAttribute("opacity", "0.25"); });
    return;
  }
  ck.all(root, ".ck-cell, .ck-bar").forEach(function (e) { e.removeAttribute("opacity"); });
  var r = evaluate(use);
  current = { use: use, r: r };
  readout.textContent = use.length + " of " + D.T + " templates · zero-shot accuracy " + pct(r.accuracy) + " on " +
    N + " pictures (all " + D.T + " templates: " + pct(D.all) + ")";
  readout.setAttribute("data-accuracy", String(r.accuracy));
  readout.setAttribute("data-templates", use.join(","));
  ck.all(root, ".ck-bar").forEach(function (b) {
    var a = r.perClass[+b.getAttribute("data-c")];
    b.setAttribute("width", ((isFinite(a) ? a : 0) * D.barWidth).toFixed(2));
    b.setAttribute("data-value", String(a));
  });
  ck.all(root, ".ck-pct").forEach(function (t) { t.textContent = pct(r.perClass[+t.getAttribute("data-c")]); });
  ck.paint(root, r.heatmap, D.domain, function (v) { return isFinite(v) ? v.toFixed(2) : "n/a"; });
}
boxes.forEach(function (b) { b.addEventListener("change", show); });
ck.one(root, ".ck-all").addEventListener("click", function () { boxes.forEach(function (b) { b.checked = true; }); show(); });
ck.one(root, ".ck-none").addEventListener("click", function () { boxes.forEach(function (b) { b.checked = false; }); show(); });
ck.hover(root, function (i, j) {
  var lines = [];
  if (current) {
    var shown = current.use.slice(0, 2).map(function (t) { return "“" + ck.esc(D.templates[t].replace("{}", D.names[i])) + "”"; });
    lines.push("<b>class vector “" + ck.esc(D.names[i]) + "”</b>: " + current.use.length + " prompt" +
      (current.use.length === 1 ? "" : "s") + ", e.g. " + shown.join(", "));
    lines.push("<b>pictures of “" + ck.esc(D.names[j]) + "”</b> (" + D.counts[j] + ")");
    lines.push("mean cosine <b>" + current.r.heatmap[i][j].toFixed(4) + "</b>");
  } else lines.push("tick at least one template");
  return { rows: lines, image: ck.image(root, String(j)) };
});
show();`,
  });
}

function pct(p: number): string {
  return Number.isFinite(p) ? `${(100 * p).toFixed(1)} %` : "n/a";
}

function readoutText(k: number, T: number, accuracy: number, N: number, all: number): string {
  return `${k} of ${T} templates · zero-shot accuracy ${
    pct(accuracy)
  } on ${N} pictures (all ${T} templates: ${pct(all)})`;
}

function perClassText(counts: number[]): string {
  const lo = Math.min(...counts), hi = Math.max(...counts);
  return lo === hi ? `${lo} per class` : `${lo}–${hi} per class`;
}
