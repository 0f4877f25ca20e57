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

/**
 * Rasterise SVG markup to PNG bytes at `scale` × its size (2 = sharp on slides and retina screens).
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
  const resvg = new Resvg(svg, {
    font: fontOptions(),
    fitTo: { mode: "zoom", value: scale },
    background: PAPER,
    logLevel: "off",
  });
  return new Uint8Array(resvg.render().asPng());
}
