/**
 * Observable Plot without a browser: a linkedom document, and a chart rendered into SVG markup that
 * both browsers and the resvg rasteriser read the same way.
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import { FONT_FAMILY, FONT_SIZE, INK } from "./theme.ts";
import { PlotInputError } from "../errors.ts";

/** A block of SVG markup of known size, drawn with its top-left corner at (0, 0). */
export interface Panel {
  width: number;
  height: number;
  /** SVG markup (elements, not a document). */
  body: string;
}

/** The few DOM members used here (Deno has no DOM types; linkedom provides the objects). */
interface SvgElement {
  tagName: string;
  outerHTML: string;
  querySelectorAll(selector: string): ArrayLike<{ remove(): void }>;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
  /** Plot's scale of a channel (undefined when the chart has none). */
  scale(name: string): { apply(value: number): number } | undefined;
}

let doc: unknown;

/**
 * The shared server-side document (linkedom) that Plot builds its elements in.
 * @example
 * ```ts
 * import * as Plot from "@observablehq/plot";
 * import { serverDocument } from "./dom.ts";
 * const document = serverDocument() as Plot.PlotOptions["document"];
 * const svg = Plot.plot({ document, marks: [] }); // an SVG element, no browser needed
 * svg.tagName; // → "SVG" (linkedom's upper-case tag name)
 * ```
 */
export function serverDocument(): unknown {
  doc ??=
    (parseHTML("<!DOCTYPE html><html><head></head><body></body></html>") as unknown as { document: unknown })
      .document;
  return doc;
}

/**
 * Render Plot options to a `Panel`. Titles, captions and legends are left to the figure (Plot's
 * continuous legends need a canvas); the chart's `<style>` is replaced by plain attributes, since the
 * rasteriser ignores CSS variables.
 * @example
 * ```ts
 * import * as Plot from "@observablehq/plot";
 * import { plotPanel } from "./dom.ts";
 * plotPanel({ width: 300, height: 200, marks: [Plot.dot([[1, 2]])] }).width; // → 300
 * ```
 */
export function plotPanel(options: Plot.PlotOptions & { width: number; height: number }): Panel {
  return scaledPlotPanel(options).panel;
}

/** A chart's position scales: data value → pixel within its panel. */
export type PixelScale = (value: number) => number;

/**
 * {@link plotPanel}, plus the chart's x and y scales in panel pixels, for drawing markers over it by hand
 * (interactive figures move such markers in the page).
 * @example
 * ```ts
 * import { scaledPlotPanel } from "./dom.ts";
 * scaledPlotPanel({ width: 300, height: 200, x: { domain: [0, 1] }, y: { domain: [0, 1] }, marks: [] }).x(0.5); // → 160
 * ```
 */
export function scaledPlotPanel(
  options: Plot.PlotOptions & { width: number; height: number },
): { panel: Panel; x: PixelScale; y: PixelScale } {
  const el = Plot.plot({
    ...options,
    document: serverDocument() as Plot.PlotOptions["document"],
  }) as unknown as SvgElement;
  if (el.tagName.toLowerCase() !== "svg") {
    throw new PlotInputError("Plot returned a <figure> instead of an <svg>", {
      fix: "leave title, subtitle, caption and legend out of a panel's options (the figure draws them)",
    });
  }
  for (const style of Array.from(el.querySelectorAll("style"))) style.remove();
  el.removeAttribute("class");
  el.setAttribute("font-family", FONT_FAMILY);
  el.setAttribute("font-size", String(FONT_SIZE));
  el.setAttribute("fill", INK);
  el.setAttribute("color", INK);
  el.setAttribute("overflow", "visible");
  const scale = (name: "x" | "y"): PixelScale => {
    const s = el.scale(name);
    return s ? (v: number) => s.apply(v) : () => NaN;
  };
  return {
    panel: { width: options.width, height: options.height, body: el.outerHTML },
    x: scale("x"),
    y: scale("y"),
  };
}
