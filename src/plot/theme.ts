/**
 * The look of every clipkit figure, written once: fonts sized for a projector, colour schemes that
 * survive colour-blindness (viridis, Okabe–Ito), and the "missing value" colour.
 */

/** Font stack: DejaVu Sans is what the PNG rasteriser loads; browsers fall back to their own sans. */
export const FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif";
/** Tick labels, cell annotations (upper bound) and legend text, in px. */
export const FONT_SIZE = 14;
/** Figure title, in px. */
export const TITLE_SIZE = 20;
/** Subtitle (one line under the title saying what is plotted), in px. */
export const SUBTITLE_SIZE = 14;
/** Blank border around a whole figure, in px. */
export const PAD = 16;
/** Gap between panels, in px. */
export const GAP = 24;

/** Text colour (near black, softer on screens). */
export const INK = "#222222";
/** Secondary text colour. */
export const MUTED = "#555555";
/** Background of every figure (explicit, so dark Jupyter themes still show black text on white). */
export const PAPER = "#ffffff";
/** Fill for NaN / missing values: a mid grey that no sequential scheme below uses. */
export const MISSING = "#bdbdbd";

/** Sequential scheme for similarities and probabilities (perceptually uniform, colour-blind safe). */
export const SEQUENTIAL = "viridis" as const;
/** Sequential scheme for counts (confusion matrices). */
export const COUNTS = "blues" as const;

/**
 * Okabe & Ito's colour-blind-safe palette (Color Universal Design), in its usual order minus yellow,
 * which is unreadable on white.
 */
export const OKABE_ITO = [
  "#0072B2", // blue
  "#E69F00", // orange
  "#009E73", // bluish green
  "#D55E00", // vermillion
  "#CC79A7", // reddish purple
  "#56B4E9", // sky blue
  "#000000", // black
] as const;

/** Positive / negative (gain vs loss) pair: blue and vermillion, distinguishable in all common CVDs. */
export const GAIN = OKABE_ITO[0];
export const LOSS = OKABE_ITO[3];
/** Highlight for "the true answer" (bars, markers). */
export const TRUTH = OKABE_ITO[2];
/** Neutral bar colour. */
export const NEUTRAL = "#8c8c8c";
