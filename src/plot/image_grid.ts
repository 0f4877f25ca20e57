/**
 * A grid of image thumbnails with a caption under each: search results, a dataset's samples.
 *
 * thumbnails (paths, bytes or pixels; see `thumbnail.ts`) → `columns` per row, each in a square box with
 * up to two caption lines below → one Figure (SVG, PNG via `savePng`).
 */
import { compose, type Figure } from "./figure.ts";
import { PlotInputError } from "../errors.ts";
import { type Thumbnail, thumbnailSvg } from "./thumbnail.ts";
import { text, wrap } from "./svg.ts";
import { FONT_SIZE, INK, MUTED } from "./theme.ts";

/** Options of {@link imageGrid}. */
export interface ImageGridOptions {
  /** One caption per image (first line dark, the rest grey), e.g. `"1. 0.31"` and a file name. */
  captions?: readonly (string | readonly string[])[];
  /** Thumbnails per row (default 5). */
  columns?: number;
  /** Side of each thumbnail box in px (default 128). */
  size?: number;
  title?: string;
  subtitle?: string;
}

const CAPTION_LINES = 2;
const GUTTER = 12;

/**
 * Draw images in a grid, captioned.
 * @example
 * ```ts
 * import { imageGrid } from "./image_grid.ts";
 * const fig = imageGrid(["models/samples/01_red_circle.png", "models/samples/06_blue_square.png"], {
 *   captions: [["1. 0.31", "01_red_circle.png"], ["2. 0.28", "06_blue_square.png"]],
 *   title: "a red circle",
 * });
 * fig.toString(); // → 'Figure "a red circle" (300×232 SVG)'
 * ```
 */
export function imageGrid(images: readonly Thumbnail[], options: ImageGridOptions = {}): Figure {
  if (!Array.isArray(images) || images.length === 0) {
    throw new PlotInputError("imageGrid has no images", {
      fix: "pass at least one image path, bytes or pixels",
    });
  }
  const captions = options.captions;
  if (captions && captions.length !== images.length) {
    throw new PlotInputError(`imageGrid has ${images.length} images but ${captions.length} captions`, {
      fix: "give one caption per image",
    });
  }
  const columns = Math.max(1, Math.min(options.columns ?? 5, images.length));
  const size = options.size ?? 128;
  const fs = FONT_SIZE - 2;
  const captionHeight = captions ? CAPTION_LINES * (fs + 3) + 4 : 0;
  const cellW = size + GUTTER, cellH = size + captionHeight + GUTTER;
  const charsPerLine = Math.max(6, Math.floor(size / (0.6 * fs)));
  const body = images.map((image, i) => {
    const x = (i % columns) * cellW, y = Math.floor(i / columns) * cellH;
    const caption = captions?.[i];
    const lines = caption === undefined
      ? []
      : (typeof caption === "string" ? [caption] : [...caption]).flatMap((l) => wrap(l, charsPerLine, 1))
        .slice(0, CAPTION_LINES);
    return thumbnailSvg(image, x, y, size) +
      lines.map((line, k) =>
        text(x + size / 2, y + size + (k + 1) * (fs + 3), line, {
          "font-size": fs,
          "text-anchor": "middle",
          fill: k === 0 ? INK : MUTED,
        })
      ).join("");
  }).join("");
  const rows = Math.ceil(images.length / columns);
  return compose({
    title: options.title ?? "Images",
    subtitle: options.subtitle,
    rows: [[{ width: columns * cellW - GUTTER, height: rows * cellH - GUTTER, body }]],
  });
}
