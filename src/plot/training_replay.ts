/**
 * A training run, replayed: a slider over its checkpoints shows the similarity matrix of a fixed batch at
 * that checkpoint (turning diagonal as the encoders learn to agree) and the loss curve with the step marked.
 *
 * history (step, loss) + checkpoints (step, S = similarity(texts, images) of the watched batch) → the loss
 * chart drawn once, every checkpoint's matrix shipped as exact float32 → the slider (or ▶) switches frames.
 */
import * as Plot from "@observablehq/plot";
import { PlotInputError } from "../errors.ts";
import { type Panel, scaledPlotPanel } from "./dom.ts";
import { compose } from "./figure.ts";
import { checkLabels, finiteExtent, type MatrixLike, toRows } from "./input.ts";
import {
  CONTROL_LABEL,
  float32Base64,
  type InteractiveFigure,
  interactiveFigure,
  label,
} from "./interactive.ts";
import { heatmapLegend, liveHeatmap } from "./live_heatmap.ts";
import type { Thumbnail } from "./thumbnail.ts";
import type { TrainingPoint } from "./training_curves.ts";
import { FONT_SIZE, INK, LOSS, MUTED } from "./theme.ts";

/** One checkpoint of a run: its step and the watched batch's similarity matrix `[texts, images]`. */
export interface ReplayCheckpoint {
  /** The training step of the checkpoint. */
  step: number;
  /** `similarity(textEmbeds, imageEmbeds)` at this step: rows are texts, columns images (true pairs i = j). */
  S: MatrixLike;
}

/** Options of {@link trainingReplay}. */
export interface TrainingReplayOptions {
  /** One label per row of S (the captions). */
  texts?: string[];
  /**
   * One thumbnail per column of S (the pictures). Pixels are embedded at most 40 px wide; files and bytes
   * whole (`await plots.loadThumbnails(paths)` for photos).
   */
  images?: Thumbnail[];
  /** The checkpoint shown first (default the last). */
  checkpoint?: number;
  /** Figure title (a default one when absent). */
  title?: string;
}

const CHART = { width: 520, height: 300, marginLeft: 56, marginRight: 20, marginTop: 24, marginBottom: 44 };

/**
 * Replay a training run's checkpoints. Each column's picture "prefers its own caption" when the largest
 * cosine of its column is on the diagonal (the first one on ties).
 * @example
 * ```ts
 * import { plots } from "./mod.ts";
 * const history = [{ step: 0, loss: 1.1 }, { step: 100, loss: 0.4 }];
 * const checkpoints = [
 *   { step: 0, S: [[0.1, 0.2], [0.2, 0.1]] }, // [texts, images] cosines at step 0
 *   { step: 100, S: [[0.8, 0.1], [0.2, 0.7]] },
 * ];
 * const paths = ["models/samples/01_red_circle.png", "models/samples/06_blue_square.png"];
 * const images = await plots.loadThumbnails(paths); // pixels: the page embeds them small
 * plots.trainingReplay(history, checkpoints, { texts: ["a red circle", "a blue square"], images })
 * // → InteractiveFigure "Training, replayed" (973×544, 45 kB; static SVG fallback)
 * ```
 */
export function trainingReplay(
  history: TrainingPoint[],
  checkpoints: ReplayCheckpoint[],
  options: TrainingReplayOptions = {},
): InteractiveFigure {
  const losses = (Array.isArray(history) ? history : []).filter((p) =>
    Number.isFinite(p?.step) && Number.isFinite(p?.loss)
  ).map((p) => ({ step: p.step, loss: p.loss! })).sort((a, b) => a.step - b.step);
  if (losses.length === 0) {
    throw new PlotInputError("trainingReplay needs a history with losses", {
      fix: "pass the run's history: [{ step, loss }, …] (trainer.history)",
    });
  }
  if (!Array.isArray(checkpoints) || checkpoints.length === 0) {
    throw new PlotInputError("trainingReplay needs at least one checkpoint", {
      fix: "pass [{ step, S: similarity(textEmbeds, imageEmbeds) }, …], one per checkpoint",
    });
  }
  const frames = checkpoints.map((c, k) => {
    if (!Number.isFinite(c?.step)) {
      throw new PlotInputError(`checkpoint ${k} has step ${c?.step}`, {
        fix: "give every checkpoint its step",
      });
    }
    return { step: c.step, rows: toRows(c.S, `checkpoint ${k}'s similarity matrix`) };
  });
  const n = frames[0].rows.length, m = frames[0].rows[0].length;
  frames.forEach((f, k) => {
    if (f.rows.length !== n || f.rows[0].length !== m) {
      throw new PlotInputError(
        `checkpoint ${k}'s matrix is ${f.rows.length}×${f.rows[0].length}, checkpoint 0's ${n}×${m}`,
        { fix: "watch the same batch at every checkpoint" },
      );
    }
  });
  const texts = checkLabels(options.texts, n, "texts", "rows", "text");
  if (options.images && options.images.length !== m) {
    throw new PlotInputError(`images has ${options.images.length} thumbnails for ${m} columns`, {
      fix: "pass one thumbnail (or null) per picture",
    });
  }
  const K = frames.length;
  const k0 = options.checkpoint ?? K - 1;
  if (!(Number.isInteger(k0) && k0 >= 0 && k0 < K)) {
    throw new PlotInputError(`checkpoint ${k0} is outside 0…${K - 1}`, {
      fix: "pick one of the checkpoints",
    });
  }
  const values = Float32Array.from(frames.flatMap((f) => f.rows.flat())); // [K, n, m]
  const domain = finiteExtent(values);
  const wins = frames.map((f) => diagonalWins(f.rows));
  // The training loss at a checkpoint: the last logged loss at or before its step.
  const lossAt = frames.map((f) => [...losses].reverse().find((p) => p.step <= f.step) ?? losses[0]);

  const chart = scaledPlotPanel({
    ...CHART,
    x: { label: "training step", labelAnchor: "center", labelArrow: "none", grid: true },
    y: { label: "training loss (nats)", labelArrow: "none", grid: true, zero: true },
    marks: [
      Plot.lineY(losses, {
        x: "step",
        y: "loss",
        stroke: LOSS,
        strokeWidth: losses.length > 200 ? 1.5 : 2.5,
      }),
      Plot.ruleX(frames, { x: "step", stroke: MUTED, strokeOpacity: 0.5, strokeDasharray: "2,3" }),
    ],
  });
  const xs = frames.map((f) => round2(chart.x(f.step)));
  const ys = lossAt.map((p) => round2(chart.y(p.loss)));
  const top = CHART.marginTop, bottom = CHART.height - CHART.marginBottom;
  const marker =
    `<g class="ck-mark"><line class="ck-rule" x1="${xs[k0]}" x2="${xs[k0]}" y1="${top}" y2="${bottom}" ` +
    `stroke="${INK}" stroke-width="1.5"/><circle class="ck-dot" cx="${xs[k0]}" cy="${
      ys[k0]
    }" r="6" fill="${LOSS}" ` +
    `stroke="white" stroke-width="2"/></g>`;
  const lossPanel: Panel = { ...chart.panel, body: chart.panel.body + marker };
  const heat = liveHeatmap({
    rows: texts,
    columns: options.images
      ? Array.from({ length: m }, (_, j) => `${j + 1}`)
      : Array.from({ length: m }, (_, j) => `image ${j + 1}`),
    thumbnails: options.images,
    values: frames[k0].rows,
    domain,
    format: (v) => v.toFixed(2),
    pairs: Array.from({ length: Math.min(n, m) }, (_, i) => [i, i] as [number, number]),
    maxCell: 54,
  });
  const readout: Panel = {
    width: 900,
    height: FONT_SIZE + 8,
    body: label(0, FONT_SIZE + 2, readoutText(frames[k0].step, lossAt[k0].loss, wins[k0], m), {
      class: "ck-readout",
      "font-size": FONT_SIZE + 1,
      "font-weight": "bold",
      fill: INK,
      "data-step": frames[k0].step,
      "data-wins": wins[k0],
    }),
  };
  const steps = losses.map((p) => p.step);
  const fallback = compose({
    title: options.title ?? "Training, replayed",
    subtitle: `cosine similarity of ${n} captions (rows) and ${m} pictures (columns) at ${K} checkpoints; ` +
      `training loss over steps ${steps[0]}–${steps.at(-1)}`,
    rows: [[readout], [heat, lossPanel], [heatmapLegend("cosine similarity", domain, heat.left)]],
    note:
      `static view at step ${frames[k0].step}; in Jupyter (trusted notebook), VS Code or the HTML export, ` +
      `slide through the ${K} checkpoints`,
  });
  const controls =
    `<label><span style="${CONTROL_LABEL}">checkpoint</span><input class="ck-step" type="range" ` +
    `min="0" max="${K - 1}" step="1" value="${k0}" style="width:320px;vertical-align:middle"> ` +
    `<output class="ck-step-value">step ${frames[k0].step}</output></label>` +
    `<button class="ck-play" type="button">▶ play</button>`;

  return interactiveFigure({
    fallback,
    controls,
    data: {
      K,
      n,
      m,
      S: float32Base64(values),
      steps: frames.map((f) => f.step),
      loss: lossAt.map((p) => p.loss),
      lossStep: lossAt.map((p) => p.step),
      wins,
      xs,
      ys,
      texts,
      domain,
      frame: k0,
    },
    bind: `
var S = ck.f32(D.S), n = D.n, m = D.m, k = D.frame, timer = null;
var slider = ck.one(root, ".ck-step"), out = ck.one(root, ".ck-step-value"), readout = ck.one(root, ".ck-readout");
var play = ck.one(root, ".ck-play");
function matrix(f) {
  var rows = [];
  for (var i = 0; i < n; i++) rows.push(Array.prototype.slice.call(S.subarray((f * n + i) * m, (f * n + i + 1) * m)));
  return rows;
}
function show() {
  ck.paint(root, matrix(k), D.domain, function (v) { return v.toFixed(2); });
  var g = ck.one(root, ".ck-mark");
  g.querySelector(".ck-rule").setAttribute("x1", D.xs[k]);
  g.querySelector(".ck-rule").setAttribute("x2", D.xs[k]);
  g.querySelector(".ck-dot").setAttribute("cx", D.xs[k]);
  g.querySelector(".ck-dot").setAttribute("cy", D.ys[k]);
  readout.textContent = "step " + D.steps[k] + " · training loss " + D.loss[k].toFixed(3) + " · " + D.wins[k] +
    " of " + m + " pictures prefer their own caption";
  readout.setAttribute("data-step", String(D.steps[k]));
  readout.setAttribute("data-wins", String(D.wins[k]));
  slider.value = String(k);
  out.textContent = "step " + D.steps[k];
}
slider.addEventListener("input", function () { k = +slider.value; show(); });
play.addEventListener("click", function () {
  if (timer) { clearInterval(timer); timer = null; play.textContent = "▶ play"; return; }
  if (k === D.K - 1) { k = 0; show(); }
  play.textContent = "❚❚ pause";
  timer = setInterval(function () {
    if (k >= D.K - 1) { clearInterval(timer); timer = null; play.textContent = "▶ play"; return; }
    k++; show();
  }, 800);
});
ck.hover(root, function (i, j) {
  return {
    rows: ["<b>caption</b> “" + ck.esc(D.texts[i]) + "”", "<b>picture</b> " + (j + 1) + (i === j ? " (its pair)" : ""),
      "cosine at step " + D.steps[k] + ": <b>" + S[(k * n + i) * m + j].toFixed(4) + "</b>"],
    image: ck.image(root, String(j)),
  };
});
show();`,
  });
}

/**
 * How many columns (pictures) have their largest value on the diagonal (first on ties).
 * @example
 * ```ts
 * import { diagonalWins } from "./training_replay.ts";
 * diagonalWins([[0.9, 0.1], [0.2, 0.05]]); // → 1
 * ```
 */
export function diagonalWins(rows: number[][]): number {
  let wins = 0;
  for (let j = 0; j < rows[0].length; j++) {
    let best = 0;
    for (let i = 1; i < rows.length; i++) if (rows[i][j] > rows[best][j]) best = i;
    if (best === j) wins++;
  }
  return wins;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function readoutText(step: number, loss: number, wins: number, m: number): string {
  return `step ${step} · training loss ${
    loss.toFixed(3)
  } · ${wins} of ${m} pictures prefer their own caption`;
}
