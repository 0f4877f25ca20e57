/**
 * Category tick labels that stay readable at any size: for a row or column of `count` cells, `cell` px
 * each, choose horizontal, slanted (−40°) or vertical labels and, when even vertical ones would overlap,
 * write only every k-th label. Used by the matrix figures (similarity heatmap, confusion matrix).
 * @module
 */
import { textWidth } from "./svg.ts";

/** Height of one line of tick text, in px, at font size `fs`. */
export function lineHeight(fs: number): number {
  return Math.ceil(fs * 1.25);
}

/** How a row or column of category labels is drawn. */
export interface TickPlan {
  /** Rotation of the labels in degrees: 0, −40 or −90. */
  rotate: number;
  /** Every `every`-th label is written (1 = all). */
  every: number;
  /** The label of each index: the text, or "" where it is thinned out. */
  text: (index: number) => string;
  /** Room the labels need below the axis (x) or beside it (y), in px. */
  depth: number;
  /** How far the first slanted label reaches left of its cell's centre, in px (0 unless slanted). */
  overhangLeft: number;
}

/** The angle slanted labels get. */
const SLANT = 40;

/**
 * Plan the x-axis labels of `labels.length` columns of `cell` px each.
 * @example
 * ```ts
 * import { xTicks } from "./ticks.ts";
 * xTicks(["a", "b"], 60, 14).rotate; // → 0 (they fit side by side)
 * xTicks(Array.from({ length: 80 }, (_, i) => `class ${i}`), 10, 14).every; // → 2 (vertical, every other)
 * ```
 */
export function xTicks(labels: readonly string[], cell: number, fs: number): TickPlan {
  const widest = Math.max(0, ...labels.map((l) => textWidth(l, fs)));
  const line = lineHeight(fs);
  const rad = (SLANT * Math.PI) / 180;
  if (widest <= cell - 4) {
    return { rotate: 0, every: 1, text: (j) => labels[j], depth: line + 8, overhangLeft: 0 };
  }
  if (cell * Math.sin(rad) >= line) {
    return {
      rotate: -SLANT,
      every: 1,
      text: (j) => labels[j],
      depth: Math.ceil(widest * Math.sin(rad) + line * Math.cos(rad)) + 12,
      overhangLeft: Math.ceil(widest * Math.cos(rad)),
    };
  }
  const every = Math.max(1, Math.ceil(line / cell));
  return {
    rotate: -90,
    every,
    text: (j) => (j % every === 0 ? labels[j] : ""),
    depth: Math.ceil(widest) + 12,
    overhangLeft: 0,
  };
}

/**
 * Plan the y-axis labels of `labels.length` rows of `cell` px each: every k-th when rows are thinner than
 * a line of text.
 * @example
 * ```ts
 * import { yTicks } from "./ticks.ts";
 * yTicks(Array.from({ length: 200 }, (_, i) => `text ${i}`), 5, 14).every; // → 4
 * ```
 */
export function yTicks(labels: readonly string[], cell: number, fs: number): TickPlan {
  const every = Math.max(1, Math.ceil(lineHeight(fs) / cell));
  return {
    rotate: 0,
    every,
    text: (i) => (i % every === 0 ? labels[i] : ""),
    depth: Math.ceil(Math.max(0, ...labels.map((l) => textWidth(l, fs)))) + 12,
    overhangLeft: 0,
  };
}
