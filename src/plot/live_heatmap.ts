/**
 * The heatmap of the interactive figures, written by hand so the page can repaint it: one `<rect>` and one
 * `<text>` per cell, tagged with their row and column (`class="ck-cell" data-i data-j`), thumbnails above
 * the columns (`data-thumb`), true pairs outlined. The page's `ck.paint` recolours the cells from new values
 * with the same colour steps as {@link colourOf}, and `ck.hover` shows a card for the cell under the pointer.
 */
import type { Panel } from "./dom.ts";
import { colourOf, label, LIGHT_FROM, THUMB_SIDE, unit } from "./interactive.ts";
import { rampLegend } from "./legend.ts";
import { esc, px, shorten, textWidth, wrap } from "./svg.ts";
import { placeholderSvg, resolveThumbnail, type Thumbnail } from "./thumbnail.ts";
import { FONT_SIZE, INK, MUTED, SEQUENTIAL } from "./theme.ts";

/** What {@link liveHeatmap} draws. */
export interface LiveHeatmapSpec {
  /** One label per row. */
  rows: string[];
  /** One short label per column (written under it). */
  columns: string[];
  /** One thumbnail per column (optional). */
  thumbnails?: Thumbnail[];
  /** The values shown first, `[rows][columns]`. */
  values: number[][];
  /** Colour scale limits (fixed while the page changes the values). */
  domain: [number, number];
  /** Cell annotation. */
  format: (v: number) => string;
  /** `[row, column]` cells to outline (the true pairs). */
  pairs: [number, number][];
  /** Largest cell side in px (default 60). */
  maxCell?: number;
}

/** Longest row label line, in characters. */
const LABEL_CHARS = 30;

/**
 * The heatmap panel (and `left`, where its cells start); each thumbnail's href is in the SVG once, for the
 * hover card to reuse.
 * @example
 * ```ts
 * import { liveHeatmap } from "./live_heatmap.ts";
 * liveHeatmap({ rows: ["a"], columns: ["x"], values: [[0.5]], domain: [0, 1], format: String, pairs: [] }).width; // → 84
 * ```
 */
export function liveHeatmap(spec: LiveHeatmapSpec): Panel & { left: number } {
  const n = spec.rows.length, m = spec.columns.length;
  const cell = Math.max(26, Math.min(spec.maxCell ?? 60, Math.floor(560 / Math.max(n, m))));
  const fs = Math.min(FONT_SIZE - 1, Math.floor(cell * 0.3));
  const lines = Math.max(1, Math.min(2, Math.floor(cell / (FONT_SIZE * 1.2))));
  const wrapped = spec.rows.map((r) => wrap(r, LABEL_CHARS, lines));
  const left = Math.ceil(Math.max(...wrapped.flat().map((l) => textWidth(l, FONT_SIZE - 1)))) + 12;
  const top = spec.thumbnails ? cell + 4 : 0;
  const parts: string[] = [];
  if (spec.thumbnails) {
    spec.thumbnails.forEach((src, j) => {
      const x = left + j * cell + 2, size = cell - 4;
      const r = resolveThumbnail(src, THUMB_SIDE);
      parts.push(
        r.href
          ? `<image data-thumb="${j}" x="${px(x)}" y="0" width="${size}" height="${size}" ` +
            `preserveAspectRatio="xMidYMid meet" style="image-rendering:pixelated" href="${esc(r.href)}"/>`
          : placeholderSvg(r.missing ?? "no image", x, 0, size),
      );
    });
  }
  wrapped.forEach((ls, i) => {
    const y0 = top + i * cell + cell / 2 - (ls.length - 1) * (FONT_SIZE - 1) * 0.6;
    ls.forEach((l, k) =>
      parts.push(label(left - 8, y0 + k * (FONT_SIZE - 1) * 1.2 + 4, l, {
        "font-size": FONT_SIZE - 1,
        "text-anchor": "end",
        fill: INK,
      }))
    );
  });
  const colChars = Math.max(3, Math.floor(cell / ((FONT_SIZE - 2) * 0.6)));
  spec.columns.forEach((c, j) =>
    parts.push(label(left + j * cell + cell / 2, top + n * cell + FONT_SIZE + 2, shorten(c, colChars), {
      "font-size": FONT_SIZE - 2,
      "text-anchor": "middle",
      fill: MUTED,
    }))
  );
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const v = spec.values[i][j];
      const x = left + j * cell, y = top + i * cell;
      parts.push(
        `<rect class="ck-cell" data-i="${i}" data-j="${j}" data-value="${v}" x="${px(x + 0.5)}" y="${
          px(y + 0.5)
        }" width="${cell - 1}" height="${cell - 1}" fill="${colourOf(v, spec.domain)}"/>`,
        label(x + cell / 2, y + cell / 2 + fs * 0.35, spec.format(v), {
          class: "ck-val",
          "data-i": i,
          "data-j": j,
          "font-size": fs,
          "text-anchor": "middle",
          "pointer-events": "none",
          fill: unit(v, spec.domain) < LIGHT_FROM ? "white" : "black",
        }),
      );
    }
  }
  for (const [i, j] of spec.pairs) {
    const x = left + j * cell + 2, y = top + i * cell + 2;
    const box = `x="${px(x)}" y="${px(y)}" width="${cell - 4}" height="${
      cell - 4
    }" fill="none" pointer-events="none"`;
    parts.push(
      `<rect ${box} stroke="black" stroke-width="3"/><rect ${box} stroke="white" stroke-width="1.2"/>`,
    );
  }
  return {
    left,
    width: left + m * cell + 4,
    height: top + n * cell + FONT_SIZE + 8,
    body: `<g class="ck-heatmap">${parts.join("")}</g>`,
  };
}

/**
 * The heatmap's colour legend, indented to sit under the cells.
 * @example
 * ```ts
 * import { heatmapLegend } from "./live_heatmap.ts";
 * heatmapLegend("cosine similarity", [0, 1], 120).width; // → 448
 * ```
 */
export function heatmapLegend(label: string, domain: [number, number], indent: number): Panel {
  const legend = rampLegend({ label, scheme: SEQUENTIAL, domain, format: (v) => v.toFixed(2) });
  return {
    width: legend.width + indent,
    height: legend.height,
    body: `<g transform="translate(${indent},0)">${legend.body}</g>`,
  };
}
