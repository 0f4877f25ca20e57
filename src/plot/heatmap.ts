/**
 * The similarity heatmap of openai/CLIP's "Interacting with CLIP" notebook: texts down the side,
 * image thumbnails along the top, every cell annotated, the true pairs outlined.
 *
 * It adapts to its size: the matrix stays about 1000 px wide, so cells shrink for big matrices; below
 * 30 px a cell's number is not written (the colour legend reads it), below 24 px the thumbnails are left
 * out, and labels slant, stand upright or are thinned to every k-th so they never overlap. The subtitle
 * says what was left out.
 */
import * as Plot from "@observablehq/plot";
import { type Panel, plotPanel } from "./dom.ts";
import { compose, type Figure } from "./figure.ts";
import { checkLabels, finiteExtent, type MatrixLike, toRows } from "./input.ts";
import { PlotInputError } from "../errors.ts";
import { rampLegend } from "./legend.ts";
import { esc, px, shorten, textWidth, wrap } from "./svg.ts";
import { placeholderSvg, resolveThumbnail, type Thumbnail } from "./thumbnail.ts";
import { FONT_SIZE, INK, MISSING, SEQUENTIAL } from "./theme.ts";
import { lineHeight, xTicks, yTicks } from "./ticks.ts";

/** Options of {@link similarityHeatmap}. */
export interface HeatmapOptions {
  /** One label per row (the captions). */
  texts?: string[];
  /** One thumbnail per column: file path, PNG/JPEG/GIF bytes, or pixels; `null` for none. */
  images?: Thumbnail[];
  /** One short name per column, written under the matrix (default: file names, else "image j"). */
  imageLabels?: string[];
  /** `[textIndex, imageIndex]` pairs to outline as true matches; default the diagonal. `[]` for none. */
  pairs?: [number, number][];
  /** Colour scale limits; default the finite extent of `S`. */
  domain?: [number, number];
  /** Figure title (a default one when absent). */
  title?: string;
  /** What the values are, for the legend (default "cosine similarity"). */
  label?: string;
  /** Cell annotation format (default two decimals). */
  format?: (v: number) => string;
}

/** Cell size limits in px: big for 2×2, 34 px at 32×32, 5 px at 200×200. */
const MAX_CELL = 80;
const MIN_CELL = 3;
/** Cells at least this big get their value written in them. */
const ANNOTATE_FROM = 30;
/** Matrices up to this side keep cells of at least {@link MIN_ANNOTATED_CELL} px, so every value is written. */
const ANNOTATED_UP_TO = 32;
const MIN_ANNOTATED_CELL = 34;
/** Cells at least this big get a thumbnail above their column. */
const THUMBNAILS_FROM = 24;
/** Target side of the matrix in px. */
const TARGET = 1000;
/** Widest wrapped row label, in characters. */
const LABEL_CHARS = 30;

/** Perceived darkness of viridis at position t ∈ [0, 1]: white text below this, black above. */
const VIRIDIS_LIGHT_FROM = 0.55;

/**
 * Draw an N×M similarity matrix (rows = texts, columns = images) as an annotated heatmap.
 * @example
 * ```ts
 * import { plots } from "./mod.ts";
 * const images = ["models/samples/01_red_circle.png", "models/samples/06_blue_square.png"];
 * plots.similarityHeatmap([[0.31, 0.12], [0.08, 0.29]], { texts: ["a red circle", "a blue square"], images })
 * // → Figure "Cosine similarity between text and image features" (650×524 SVG)
 * ```
 */
export function similarityHeatmap(S: MatrixLike, options: HeatmapOptions = {}): Figure {
  const rows = toRows(S, "the similarity matrix");
  const n = rows.length, m = rows[0].length;
  const texts = checkLabels(options.texts, n, "texts", "rows", "text");
  if (options.images && options.images.length !== m) {
    throw new PlotInputError(
      `images has ${options.images.length} thumbnails but the matrix has ${m} columns`,
      { fix: "pass one thumbnail (or null) per column" },
    );
  }
  const names = options.imageLabels ??
    options.images?.map((s, j) =>
      typeof s === "string" && !s.startsWith("data:") ? baseName(s) : `image ${j + 1}`
    );
  const imageLabels = checkLabels(names, m, "imageLabels", "columns", "image");
  const pairs = options.pairs ?? Array.from({ length: Math.min(n, m) }, (_, i) => [i, i] as [number, number]);
  for (const [i, j] of pairs) {
    if (!(i >= 0 && i < n && j >= 0 && j < m)) {
      throw new PlotInputError(
        `pair [${i}, ${j}] is outside the ${n}×${m} matrix`,
        { fix: "give pairs as [textIndex, imageIndex]" },
      );
    }
  }
  const format = options.format ?? ((v: number) => v.toFixed(2));
  const domain = options.domain ?? finiteExtent(rows.flat());
  const label = options.label ?? "cosine similarity";

  const side = Math.max(n, m);
  // Up to 32×32 every cell keeps room for its number; beyond, the matrix keeps its size and cells shrink.
  const cell = Math.max(
    side <= ANNOTATED_UP_TO ? MIN_ANNOTATED_CELL : MIN_CELL,
    Math.min(MAX_CELL, Math.floor(TARGET / side)),
  );
  const fs = Math.min(FONT_SIZE, Math.floor(cell * 0.34));
  const annotate = cell >= ANNOTATE_FROM;
  const thumbnails = options.images !== undefined && cell >= THUMBNAILS_FROM;
  const lines = Math.max(1, Math.min(3, Math.floor(cell / lineHeight(FONT_SIZE))));
  const wrapped = texts.map((t) => wrap(t, LABEL_CHARS, lines));
  const yPlan = yTicks(wrapped.map((w) => w[0]), cell, FONT_SIZE);
  const yText = (i: number) => (yPlan.every === 1 ? wrapped[i].join("\n") : yPlan.text(i));
  const xChars = Math.floor(cell / (0.6 * FONT_SIZE));
  const fits = imageLabels.every((l) => l.length <= xChars);
  const xLabels = imageLabels.map((l) => shorten(l, fits ? xChars : 18));
  const xPlan = xTicks(xLabels, cell, FONT_SIZE);
  const rowLabels = Math.ceil(Math.max(...wrapped.flat().map((l) => textWidth(l, FONT_SIZE)))) + 14;
  // A slanted first column label reaches left of the matrix: the margin makes room for it.
  const marginLeft = Math.max(rowLabels, Math.ceil(xPlan.overhangLeft - cell / 2) + 8);
  const marginBottom = xPlan.depth + 2;
  const width = marginLeft + m * cell + 4, height = n * cell + marginBottom + 2;
  const outline = Math.max(1, Math.min(4, cell / 8));

  const t = (v: number) => Math.max(0, Math.min(1, (v - domain[0]) / (domain[1] - domain[0])));
  const data = rows.flatMap((r, i) => r.map((v, j) => ({ i, j, v })));
  const finite = data.filter((d) => Number.isFinite(d.v));
  const nan = data.filter((d) => !Number.isFinite(d.v));
  const pairData = pairs.map(([i, j]) => ({ i, j }));

  const chart = plotPanel({
    width,
    height,
    marginLeft,
    marginTop: 2,
    marginRight: 4,
    marginBottom,
    padding: 0,
    x: {
      domain: range(m),
      axis: "bottom",
      tickFormat: (j: number) => xPlan.text(j),
      tickRotate: xPlan.rotate,
      label: null,
      tickSize: 0,
      tickPadding: 6,
    },
    y: {
      domain: range(n),
      tickFormat: (i: number) => yText(i),
      label: null,
      tickSize: 0,
      tickPadding: 8,
    },
    color: { type: "linear", scheme: SEQUENTIAL, domain, clamp: true },
    style: { fontSize: `${FONT_SIZE}px` },
    marks: [
      Plot.cell(finite, { x: "j", y: "i", fill: "v", inset: 0.5 }),
      Plot.cell(nan, { x: "j", y: "i", fill: MISSING, inset: 0.5 }),
      ...(annotate
        ? [
          Plot.text(finite.filter((d) => t(d.v) < VIRIDIS_LIGHT_FROM), {
            x: "j",
            y: "i",
            text: (d) => format(d.v),
            fill: "white",
            fontSize: fs,
          }),
          Plot.text(finite.filter((d) => t(d.v) >= VIRIDIS_LIGHT_FROM), {
            x: "j",
            y: "i",
            text: (d) => format(d.v),
            fill: "black",
            fontSize: fs,
          }),
          Plot.text(nan, { x: "j", y: "i", text: () => "n/a", fill: INK, fontSize: fs }),
        ]
        : []),
      Plot.cell(pairData, {
        x: "j",
        y: "i",
        fill: "none",
        stroke: "black",
        strokeWidth: outline,
        inset: outline / 2,
      }),
      ...(cell >= 12
        ? [Plot.cell(pairData, { x: "j", y: "i", fill: "none", stroke: "white", strokeWidth: 1.5, inset: 2 })]
        : []),
    ],
  });

  const legend = rampLegend({ label, scheme: SEQUENTIAL, domain, missing: nan.length > 0, format });
  return compose({
    title: options.title ?? "Cosine similarity between text and image features",
    subtitle: `rows: ${n} texts · columns: ${m} images` + (pairs.length ? " · outlined: true pairs" : "") +
      (annotate ? "" : " · cells too small for their values (read them from the colour bar)") +
      (options.images && !thumbnails ? " · thumbnails left out (too many columns)" : "") +
      (xPlan.every > 1 || yPlan.every > 1
        ? ` · one label in ${Math.max(xPlan.every, yPlan.every)} shown`
        : ""),
    rows: [[stack(thumbnails ? thumbnailStrip(options.images!, marginLeft, cell) : undefined, chart)], [
      indent(legend, marginLeft),
    ]],
  });
}

/**
 * An id derived from the image itself (FNV-1a), so re-rendering gives the same SVG (notebook outputs stay
 * unchanged) and figures shown side by side in one page only share an id when they embed the same picture.
 */
function contentId(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** The row of thumbnails above the matrix, one centred on each column. */
function thumbnailStrip(images: Thumbnail[], left: number, cell: number): Panel {
  const size = cell - 4;
  const defs = new Map<string, string>(); // data URI → id: each distinct image is embedded once
  const parts = images.map((src, j) => {
    const x = left + j * cell + 2;
    const r = resolveThumbnail(src);
    if (r.href) {
      if (!defs.has(r.href)) defs.set(r.href, `thumb-${contentId(r.href)}`);
      return `<use class="thumbnail" x="${px(x)}" y="0" href="#${defs.get(r.href)}" xlink:href="#${
        defs.get(r.href)
      }"/>`;
    }
    return placeholderSvg(r.missing ?? "no image", x, 0, size);
  });
  const embedded = [...defs].map(([href, id]) =>
    `<image id="${id}" width="${size}" height="${size}" preserveAspectRatio="xMidYMid meet" href="${
      esc(href)
    }"/>`
  );
  return {
    width: left + images.length * cell,
    height: size + 2,
    body: `<defs>${embedded.join("")}</defs>${parts.join("")}`,
  };
}

/** `top` (if any) above `bottom`, 6 px apart, as one panel. */
function stack(top: Panel | undefined, bottom: Panel): Panel {
  if (!top) return bottom;
  const dy = top.height + 6;
  return {
    width: Math.max(top.width, bottom.width),
    height: dy + bottom.height,
    body: `${top.body}<g transform="translate(0,${dy})">${bottom.body}</g>`,
  };
}

/** Shift a panel right by `dx`. */
function indent(p: Panel, dx: number): Panel {
  return { width: p.width + dx, height: p.height, body: `<g transform="translate(${dx},0)">${p.body}</g>` };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop()!.replace(/\.[a-z0-9]+$/i, "");
}
