/**
 * A 2-D map of image and text embeddings: both sets L2-normalised (as CLIP compares them), projected
 * together on their first two principal components, matching pairs joined by a line. The gap between
 * the two clouds is CLIP's "modality gap".
 */
import * as Plot from "@observablehq/plot";
import { Matrix } from "../math/matrix.ts";
import { normalize } from "../math/similarity.ts";
import { plotPanel } from "./dom.ts";
import { compose, type Figure } from "./figure.ts";
import { checkLabels, type MatrixLike, toRows } from "./input.ts";
import { PlotInputError } from "../errors.ts";
import { swatchLegend } from "./legend.ts";
import { pca2 } from "./pca.ts";
import { shorten, textWidth } from "./svg.ts";
import { INK, OKABE_ITO } from "./theme.ts";

/** Options of {@link embeddingMap}. */
export interface EmbeddingMapOptions {
  /** One label per image point. */
  imageLabels?: string[];
  /** One label per text point. */
  textLabels?: string[];
  /** `[imageIndex, textIndex]` pairs to join; default row i with row i when the counts match. */
  pairs?: [number, number][];
  /** Write labels next to points (default when there are at most 40 points). */
  labels?: boolean;
  /** Figure title (a default one when absent). */
  title?: string;
}

const IMAGE_COLOUR = OKABE_ITO[0];
const TEXT_COLOUR = OKABE_ITO[3];
const LABEL_CHARS = 26;
const MAX_LABELLED = 40;
const SIZE = 760;
const LABEL_SIZE = 12;

/**
 * Image and text embeddings on their joint first two principal components.
 * @example
 * ```ts
 * import { plots } from "./mod.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const images = ["01_red_circle", "02_orange_star", "06_blue_square"].map((n) => `models/samples/${n}.png`);
 * const captions = ["a red circle", "an orange star", "a blue square"];
 * const imageEmbeds = await model.encodeImages(images); // [3, 64]
 * const textEmbeds = await model.encodeText(captions); // [3, 64]
 * plots.embeddingMap(imageEmbeds, textEmbeds, { textLabels: captions })
 * // → Figure "Image and text embeddings, 2-D PCA" (792×706 SVG)
 * ```
 */
export function embeddingMap(
  images: MatrixLike,
  texts: MatrixLike,
  options: EmbeddingMapOptions = {},
): Figure {
  const img = toRows(images, "image embeddings"), txt = toRows(texts, "text embeddings");
  if (img[0].length !== txt[0].length) {
    throw new PlotInputError(
      `image embeddings are ${img[0].length}-wide but text embeddings are ${txt[0].length}-wide`,
      { fix: "embed images and texts with the same model" },
    );
  }
  for (const [what, rows] of [["image", img], ["text", txt]] as const) {
    rows.forEach((r, i) => {
      if (!r.every(Number.isFinite)) {
        throw new PlotInputError(
          `${what} embedding ${i} has NaN or infinite values`,
          { fix: "check the encoder output for that row" },
        );
      }
      if (r.every((v) => v === 0)) {
        throw new PlotInputError(`${what} embedding ${i} is all zeros, with no direction to normalise`, {
          fix: "drop that row, or check the encoder output for it",
        });
      }
    });
  }
  const imageLabels = checkLabels(options.imageLabels, img.length, "imageLabels", "image rows", "image");
  const textLabels = checkLabels(options.textLabels, txt.length, "textLabels", "text rows", "text");
  const pairs = options.pairs ??
    (img.length === txt.length ? img.map((_, i) => [i, i] as [number, number]) : []);
  for (const [i, j] of pairs) {
    if (!(i >= 0 && i < img.length && j >= 0 && j < txt.length)) {
      throw new PlotInputError(
        `pair [${i}, ${j}] is outside ${img.length} images × ${txt.length} texts`,
        { fix: "give pairs as [imageIndex, textIndex]" },
      );
    }
  }
  const unit = normalize(Matrix.fromRows([...img, ...txt])).toRows(); // [ni + nt, D] on the unit sphere
  const { points, explained } = pca2(unit);
  const dots = points.map(([x, y], k) => {
    const isImage = k < img.length;
    return {
      x,
      y,
      kind: isImage ? "image" : "text",
      label: shorten(isImage ? imageLabels[k] : textLabels[k - img.length], LABEL_CHARS),
    };
  });
  const links = pairs.map(([i, j]) => ({
    x1: points[i][0],
    y1: points[i][1],
    x2: points[img.length + j][0],
    y2: points[img.length + j][1],
  }));
  const labelled = options.labels ?? dots.length <= MAX_LABELLED;
  const pc = (c: 0 | 1) => `PC${c + 1} (${(explained[c] * 100).toFixed(0)}% of variance)`;

  const frame = {
    width: SIZE,
    height: Math.round(SIZE * 0.75),
    marginLeft: 60,
    marginRight: 40,
    marginTop: 30,
    marginBottom: 48,
    inset: 24,
  };
  const xDomain = extent(dots.map((d) => d.x)), yDomain = extent(dots.map((d) => d.y));
  const placed = labelled ? placeLabels(dots, frame, xDomain, yDomain) : [];
  const chart = plotPanel({
    ...frame,
    x: { domain: xDomain, label: pc(0), labelAnchor: "center", labelArrow: "none", grid: true, ticks: 6 },
    y: { domain: yDomain, label: pc(1), labelArrow: "none", grid: true, ticks: 6 },
    marks: [
      Plot.link(links, { x1: "x1", y1: "y1", x2: "x2", y2: "y2", stroke: "#9a9a9a", strokeWidth: 1.5 }),
      Plot.dot(dots.filter((d) => d.kind === "image"), {
        x: "x",
        y: "y",
        fill: IMAGE_COLOUR,
        r: 7,
        symbol: "circle",
        stroke: "white",
      }),
      Plot.dot(dots.filter((d) => d.kind === "text"), {
        x: "x",
        y: "y",
        fill: TEXT_COLOUR,
        r: 8,
        symbol: "triangle",
        stroke: "white",
      }),
      Plot.text(placed, {
        x: "lx",
        y: "ly",
        text: "label",
        fill: INK,
        stroke: "white",
        strokeWidth: 3,
        fontSize: LABEL_SIZE,
      }),
    ],
  });
  return compose({
    title: options.title ?? "Image and text embeddings, 2-D PCA",
    subtitle:
      `${img.length} images, ${txt.length} texts, L2-normalised, one joint projection; lines join true pairs`,
    rows: [[swatchLegend([
      { label: "image embedding", color: IMAGE_COLOUR, shape: "circle" },
      { label: "text embedding", color: TEXT_COLOUR, shape: "triangle" },
      ...(links.length ? [{ label: "true pair", color: "#9a9a9a", shape: "line" as const }] : []),
    ])], [chart]],
    note: labelled && placed.length < dots.length
      ? `${dots.length - placed.length} labels left out where they would overlap`
      : undefined,
  });
}

function extent(v: number[]): [number, number] {
  const lo = Math.min(...v), hi = Math.max(...v);
  return lo === hi ? [lo - 1, hi + 1] : [lo, hi];
}

type Box = { x0: number; y0: number; x1: number; y1: number };

/**
 * Greedy label placement: each label tries above, below, right and left of its point, in pixels,
 * and takes the first spot that overlaps no label placed before it; labels with no free spot are left out.
 */
function placeLabels<D extends { x: number; y: number; label: string }>(
  dots: D[],
  f: {
    width: number;
    height: number;
    marginLeft: number;
    marginRight: number;
    marginTop: number;
    marginBottom: number;
    inset: number;
  },
  xd: [number, number],
  yd: [number, number],
): (D & { lx: number; ly: number })[] {
  const px = (x: number) =>
    f.marginLeft + f.inset +
    (x - xd[0]) / (xd[1] - xd[0]) * (f.width - f.marginLeft - f.marginRight - 2 * f.inset);
  const py = (y: number) =>
    f.height - f.marginBottom - f.inset -
    (y - yd[0]) / (yd[1] - yd[0]) * (f.height - f.marginTop - f.marginBottom - 2 * f.inset);
  const boxes: Box[] = dots.map((d) => ({
    x0: px(d.x) - 8,
    y0: py(d.y) - 8,
    x1: px(d.x) + 8,
    y1: py(d.y) + 8,
  })); // the markers
  const out: (D & { lx: number; ly: number })[] = [];
  const xPerPx = (xd[1] - xd[0]) / (f.width - f.marginLeft - f.marginRight - 2 * f.inset);
  const yPerPx = (yd[1] - yd[0]) / (f.height - f.marginTop - f.marginBottom - 2 * f.inset);
  for (const d of dots) {
    const w = textWidth(d.label, LABEL_SIZE), h = LABEL_SIZE + 2, x = px(d.x), y = py(d.y);
    const spots = [{ dx: 0, dy: -15 }, { dx: 0, dy: 15 }, { dx: w / 2 + 12, dy: 0 }, {
      dx: -w / 2 - 12,
      dy: 0,
    }];
    const free = spots.find(({ dx, dy }) => {
      const b = { x0: x + dx - w / 2, x1: x + dx + w / 2, y0: y + dy - h / 2, y1: y + dy + h / 2 };
      const inside = b.x0 >= 0 && b.x1 <= f.width && b.y0 >= 0 && b.y1 <= f.height;
      const hit = boxes.some((o) =>
        o !== boxes[dots.indexOf(d)] && b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1
      );
      if (inside && !hit) boxes.push(b);
      return inside && !hit;
    });
    if (free) out.push({ ...d, lx: d.x + free.dx * xPerPx, ly: d.y - free.dy * yPerPx });
  }
  return out;
}
