/**
 * Observable Plot without a browser: a linkedom document, and a chart rendered into SVG markup that
 * both browsers and the resvg rasteriser read the same way.
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import { FONT_FAMILY, FONT_SIZE, INK } from "./theme.ts";

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
}

let doc: unknown;

/**
 * The shared server-side document (linkedom) that Plot builds its elements in.
 * @example
 * Plot.plot({ document: serverDocument(), marks: [] }) // an SVG element, no browser needed
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
 * plotPanel({ width: 300, height: 200, marks: [Plot.dot([[1, 2]])] }).width // 300
 */
export function plotPanel(options: Plot.PlotOptions & { width: number; height: number }): Panel {
  const el = Plot.plot({
    ...options,
    document: serverDocument() as Plot.PlotOptions["document"],
  }) as unknown as SvgElement;
  if (el.tagName.toLowerCase() !== "svg") {
    throw new Error(
      "Plot returned a <figure>: figure panels must not set title, subtitle, caption or legend",
    );
  }
  for (const style of Array.from(el.querySelectorAll("style"))) style.remove();
  el.removeAttribute("class");
  el.setAttribute("font-family", FONT_FAMILY);
  el.setAttribute("font-size", String(FONT_SIZE));
  el.setAttribute("fill", INK);
  el.setAttribute("color", INK);
  el.setAttribute("overflow", "visible");
  return { width: options.width, height: options.height, body: el.outerHTML };
}
