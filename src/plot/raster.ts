/**
 * SVG → PNG with resvg (a Rust SVG renderer, via @resvg/resvg-js), and atomic file writes.
 *
 * resvg draws text only with fonts it was given. It loads DejaVu Sans (Debian: `fonts-dejavu-core`)
 * when present and falls back to the system's fonts otherwise.
 */
import { Resvg } from "@resvg/resvg-js";
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { PAPER } from "./theme.ts";

/** Where Debian's `fonts-dejavu-core` puts the fonts the figures are designed for. */
export const DEJAVU_DIR = "/usr/share/fonts/truetype/dejavu";
const DEJAVU_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"];

/** Thrown when a PNG cannot be made (bad scale, unreadable SVG). */
export class RasterError extends Error {
  override name = "RasterError";
}

/**
 * Font options for resvg: DejaVu if installed, else every system font.
 * @example
 * fontOptions().defaultFontFamily // "DejaVu Sans" (with fonts-dejavu-core installed)
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
 * svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="2"/>', 2).length > 0 // true
 */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  if (!(scale > 0 && scale <= 16)) {
    throw new RasterError(
      `scale must be a number in (0, 16], got ${scale}: use 1 for screen size, 2 for slides`,
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

/**
 * Write bytes or text to `path` atomically: a temporary file in the same folder, then a rename.
 * @example
 * await writeAtomic("docs/figures/heatmap.svg", svg) // readers never see a half-written file
 */
export async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
