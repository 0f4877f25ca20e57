/**
 * SVG → PNG with resvg (a Rust SVG renderer, via @resvg/resvg-js), and atomic file writes.
 *
 * resvg draws text only with fonts it was given. It loads DejaVu Sans (Debian: `fonts-dejavu-core`)
 * when present and falls back to the system's fonts otherwise.
 */
// @ts-types="./resvg.d.ts"
import { Resvg } from "@resvg/resvg-js";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PAPER } from "./theme.ts";
import { RasterError } from "../errors.ts";

/** Where Debian's `fonts-dejavu-core` puts the fonts the figures are designed for. */
export const DEJAVU_DIR = "/usr/share/fonts/truetype/dejavu";
const DEJAVU_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"];

/**
 * Font options for resvg: DejaVu if installed, else every system font.
 * @example
 * ```ts
 * import { fontOptions } from "./raster.ts";
 * fontOptions().defaultFontFamily; // → "DejaVu Sans" (with fonts-dejavu-core installed)
 * ```
 */
export function fontOptions(): { fontFiles: string[]; loadSystemFonts: boolean; defaultFontFamily: string } {
  const files = DEJAVU_FILES.map((f) => join(DEJAVU_DIR, f)).filter((f) => existsSync(f));
  return {
    fontFiles: files,
    loadSystemFonts: files.length < DEJAVU_FILES.length,
    defaultFontFamily: files.length ? "DejaVu Sans" : "",
  };
}

/** The largest PNG side the kit writes, in px (a bigger figure is drawn at a lower scale, with a notice). */
export const MAX_PNG_SIDE = 8192;
/** The most pixels a PNG the kit writes may have (≈ 33 MP, about 130 MB while drawing). */
export const MAX_PNG_PIXELS = 1 << 25;

/**
 * Rasterise SVG markup to PNG bytes at `scale` × its size (2 = sharp on slides and retina screens). The
 * result is capped at {@link MAX_PNG_SIDE} px a side and {@link MAX_PNG_PIXELS} pixels: a larger request is
 * drawn at the largest scale that fits, and `console.warn` says so.
 * @example
 * ```ts
 * import { svgToPng } from "./raster.ts";
 * svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="2"/>', 2).length > 0; // → true
 * ```
 */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  if (!(scale > 0 && scale <= 16)) {
    throw new RasterError(
      `scale must be a number in (0, 16], got ${scale}`,
      { fix: "use 1 for screen size, 2 for slides" },
    );
  }
  const options = (zoom: number) => ({
    font: fontOptions(),
    fitTo: { mode: "zoom" as const, value: zoom },
    background: PAPER,
    logLevel: "off" as const,
  });
  let resvg = new Resvg(svg, options(scale));
  const w = resvg.width, h = resvg.height; // the SVG's own size
  const fit = Math.min(
    scale,
    MAX_PNG_SIDE / Math.max(w, h, 1),
    Math.sqrt(MAX_PNG_PIXELS / Math.max(w * h, 1)),
  );
  if (fit < scale) {
    console.warn(
      `clipkit: a ${Math.round(w)}×${Math.round(h)} figure at scale ${scale} would be a ${
        Math.round(w * scale)
      }×${Math.round(h * scale)} px PNG; drawn at scale ${
        fit.toFixed(2)
      } instead (${MAX_PNG_SIDE} px a side at most)`,
    );
    resvg = new Resvg(svg, options(fit));
  }
  return new Uint8Array(resvg.render().asPng());
}
