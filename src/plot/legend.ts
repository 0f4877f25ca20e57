/**
 * Legends drawn as plain SVG. Plot's own continuous legend paints its ramp on a `<canvas>`, which a
 * server has not got; here the ramp is a row of thin rectangles sampled from the same Plot scale.
 */
import * as Plot from "@observablehq/plot";
import type { Panel } from "./dom.ts";
import { FONT_SIZE, INK, MISSING, MUTED } from "./theme.ts";
import { esc, px, text, textWidth } from "./svg.ts";

/** Number of colour steps in a ramp (enough that no banding is visible). */
const RAMP_STEPS = 128;
const RAMP_HEIGHT = 14;

export interface RampOptions {
  /** What the colour encodes, with units, e.g. "cosine similarity". */
  label: string;
  /** Plot colour scheme name, e.g. "viridis". */
  scheme: Plot.ColorScheme;
  domain: [number, number];
  /** Tick label format. */
  format?: (v: number) => string;
  /** Add a labelled swatch for NaN / missing values. */
  missing?: boolean;
  width?: number;
}

/**
 * A continuous colour legend: label, ramp, ticks, and optionally a "missing" swatch.
 * @example
 * ```ts
 * import { rampLegend } from "./legend.ts";
 * rampLegend({ label: "cosine similarity", scheme: "viridis", domain: [0, 1] }).height; // → 58
 * ```
 */
export function rampLegend(o: RampOptions): Panel {
  const width = o.width ?? 320;
  const format = o.format ?? ((v: number) => String(+v.toPrecision(3)));
  const scale = Plot.scale({ color: { type: "linear", scheme: o.scheme, domain: o.domain } });
  const [lo, hi] = o.domain;
  const top = FONT_SIZE + 6;
  const parts: string[] = [
    text(0, FONT_SIZE, o.label, { "font-size": FONT_SIZE, "font-weight": "bold", fill: INK }),
  ];
  const step = width / RAMP_STEPS;
  for (let i = 0; i < RAMP_STEPS; i++) {
    const v = lo + (hi - lo) * (i + 0.5) / RAMP_STEPS;
    const fill = scale.apply(v) as string;
    parts.push(
      `<rect x="${px(i * step)}" y="${top}" width="${
        px(step + 0.5)
      }" height="${RAMP_HEIGHT}" fill="${fill}"/>`,
    );
  }
  parts.push(
    `<rect class="legend-ramp" x="0" y="${top}" width="${width}" height="${RAMP_HEIGHT}" fill="none" stroke="${MUTED}" stroke-width="0.5"/>`,
  );
  const ticks = (scale as unknown as { ticks?: (n: number) => number[] }).ticks?.(5) ??
    [lo, (lo + hi) / 2, hi];
  for (const t of ticks.length ? ticks : [lo, hi]) {
    const x = ((t - lo) / (hi - lo)) * width;
    parts.push(
      `<line x1="${px(x)}" x2="${px(x)}" y1="${top + RAMP_HEIGHT}" y2="${
        top + RAMP_HEIGHT + 5
      }" stroke="${INK}"/>`,
    );
    parts.push(
      text(x, top + RAMP_HEIGHT + 6 + FONT_SIZE, format(t), {
        "font-size": FONT_SIZE - 1,
        "text-anchor": "middle",
        fill: INK,
      }),
    );
  }
  let w = width;
  if (o.missing) {
    const x = width + 24;
    parts.push(missingSwatch(x, top, RAMP_HEIGHT));
    parts.push(
      text(x + RAMP_HEIGHT * 1.6 + 6, top + RAMP_HEIGHT - 2, "missing (NaN)", {
        "font-size": FONT_SIZE - 1,
        fill: INK,
      }),
    );
    w = x + RAMP_HEIGHT * 1.6 + 6 + textWidth("missing (NaN)", FONT_SIZE - 1);
  }
  const height = top + RAMP_HEIGHT + 10 + FONT_SIZE;
  return { width: Math.ceil(w) + 8, height, body: `<g class="legend">${parts.join("")}</g>` };
}

/**
 * A swatch in the "missing" colour with a diagonal stroke, so it reads as "no value" even in grey print.
 * @example
 * ```ts
 * import { missingSwatch } from "./legend.ts";
 * missingSwatch(0, 0, 14);
 * // → '<rect x="0" y="0" width="22.4" height="14" fill="#bdbdbd" stroke="#555555" stroke-width="0.5"/><line x1="0" y1="14" x2="22.4" y2="0" stroke="#555555"/>'
 * ```
 */
export function missingSwatch(x: number, y: number, size: number): string {
  const w = size * 1.6;
  return `<rect x="${px(x)}" y="${px(y)}" width="${
    px(w)
  }" height="${size}" fill="${MISSING}" stroke="${MUTED}" stroke-width="0.5"/>` +
    `<line x1="${px(x)}" y1="${px(y + size)}" x2="${px(x + w)}" y2="${px(y)}" stroke="${MUTED}"/>`;
}

export interface SwatchItem {
  label: string;
  color: string;
  /** "rect" (default), "circle", "triangle" or "line". */
  shape?: "rect" | "circle" | "triangle" | "line" | "dash";
}

/**
 * A categorical legend: a row of swatches with labels.
 * @example
 * ```ts
 * import { swatchLegend } from "./legend.ts";
 * swatchLegend([{ label: "image", color: "#0072B2", shape: "circle" }]).height; // → 20
 * ```
 */
export function swatchLegend(items: SwatchItem[]): Panel {
  const s = FONT_SIZE;
  let x = 0;
  const parts: string[] = [];
  for (const it of items) {
    const c = esc(it.color);
    const cy = s / 2 + 3;
    if (it.shape === "circle") {
      parts.push(`<circle cx="${x + s / 2}" cy="${cy}" r="${s / 2 - 1}" fill="${c}"/>`);
    } else if (it.shape === "triangle") {
      parts.push(
        `<path d="M${x + s / 2},${cy - s / 2}L${x + s},${cy + s / 2 - 1}L${x},${
          cy + s / 2 - 1
        }Z" fill="${c}"/>`,
      );
    } else if (it.shape === "line" || it.shape === "dash") {
      const dash = it.shape === "dash" ? ` stroke-dasharray="5,3"` : "";
      parts.push(
        `<line x1="${x}" x2="${x + s * 1.6}" y1="${cy}" y2="${cy}" stroke="${c}" stroke-width="2.5"${dash}/>`,
      );
      x += s * 0.6;
    } else parts.push(`<rect x="${x}" y="${cy - s / 2}" width="${s}" height="${s}" fill="${c}"/>`);
    x += s + 6;
    parts.push(text(x, cy + s / 2 - 2, it.label, { "font-size": s, fill: INK }));
    x += textWidth(it.label, s) + 20;
  }
  return { width: Math.ceil(x), height: s + 6, body: `<g class="legend">${parts.join("")}</g>` };
}
