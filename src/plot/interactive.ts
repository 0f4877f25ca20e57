/**
 * Interactive figures: the kernel computes every number, the page lets the reader explore them.
 *
 * Deno's Jupyter kernel cannot receive messages back from the page, so nothing here calls the kernel:
 * figure functions precompute what the page shows (frames of a slider) or ship the small inputs the page
 * combines itself with the kit's own arithmetic (template vectors averaged like `classWeights`). The result
 * is one self-contained HTML fragment — inline SVG drawn here, a few hundred lines of plain JavaScript, the
 * data as JSON or base64 float32 — with no network access and no library, plus the same SVG alone as the
 * static fallback:
 *
 * figure function → SVG at the initial state (also the fallback) + data → HTML fragment with a script
 * → Jupyter display bundle { text/html, image/svg+xml, text/plain }
 *
 * JupyterLab runs the script of a trusted notebook's output, VS Code and nbconvert's HTML always; a code host
 * (or an untrusted notebook) shows the SVG, whose note says what the interactive version offers.
 * @module
 */
import * as Plot from "@observablehq/plot";
import { encodeBase64 } from "./base64.ts";
import type { Figure } from "./figure.ts";
import { esc, px } from "./svg.ts";
import { FONT_FAMILY, INK, PAPER, SEQUENTIAL } from "./theme.ts";
import { writeAtomic } from "../fs.ts";

/** The symbol Deno's Jupyter kernel looks for (`Deno.jupyter.$display`). */
const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/** Bytes of a figure as a notebook stores it. */
export interface FigureBytes {
  /** The `text/html` output (SVG, script and data). */
  html: number;
  /** The `image/svg+xml` fallback. */
  svg: number;
  /** Both, as one output of a saved notebook holds them. */
  total: number;
}

/**
 * A figure that runs in the page: HTML with a script, and its static SVG fallback.
 * @example
 * ```ts
 * import { interactiveFigure } from "./interactive.ts";
 * import { Figure } from "./figure.ts";
 * const fallback = new Figure(`<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"></svg>`, 40, 20, "demo");
 * const fig = interactiveFigure({ fallback, controls: "<input type=range>", data: { n: 3 }, bind: "" });
 * fig.toString(); // → 'InteractiveFigure "demo" (40×20, 5 kB; static SVG fallback)'
 * ```
 */
export class InteractiveFigure {
  /** The self-contained HTML fragment (inline SVG, controls, script, data). */
  readonly html: string;
  /** The static figure at the initial state: what a code host or a rasteriser shows. */
  readonly fallback: Figure;
  /** The id that ties the fragment's script to its elements (derived from the content). */
  readonly id: string;

  /** Made by {@link interactiveFigure}. */
  constructor(html: string, fallback: Figure, id: string) {
    this.html = html;
    this.fallback = fallback;
    this.id = id;
  }

  /** The fallback's title. */
  get title(): string {
    return this.fallback.title;
  }
  /** The fallback's width in CSS pixels. */
  get width(): number {
    return this.fallback.width;
  }
  /** The fallback's height in CSS pixels. */
  get height(): number {
    return this.fallback.height;
  }

  /**
   * The HTML fragment (what Jupyter shows as `text/html`).
   * @example
   * ```ts
   * import { interactiveFigure } from "./interactive.ts";
   * import { Figure } from "./figure.ts";
   * const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"></svg>`;
   * const fallback = new Figure(svg, 40, 20, "demo");
   * const fig = interactiveFigure({ fallback, controls: "<input type=range>", data: { n: 3 }, bind: "" });
   * fig.toHtml().startsWith('<div class="clipkit-interactive"'); // → true
   * ```
   */
  toHtml(): string {
    return this.html;
  }

  /**
   * A complete HTML page holding the figure, for a browser opened on a file (no network needed).
   * @example
   * ```ts
   * import { interactiveFigure } from "./interactive.ts";
   * import { Figure } from "./figure.ts";
   * const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"></svg>`;
   * const fallback = new Figure(svg, 40, 20, "demo");
   * const fig = interactiveFigure({ fallback, controls: "<input type=range>", data: { n: 3 }, bind: "" });
   * fig.toPage().startsWith("<!DOCTYPE html>"); // → true
   * ```
   */
  toPage(): string {
    return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${
      esc(this.title)
    }</title></head><body style="margin:16px;background:${PAPER}">${this.html}</body></html>\n`;
  }

  /**
   * Save the standalone page (atomically).
   * @example
   * ```ts
   * import { interactiveFigure } from "./interactive.ts";
   * import { Figure } from "./figure.ts";
   * const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"></svg>`;
   * const fallback = new Figure(svg, 40, 20, "demo");
   * const fig = interactiveFigure({ fallback, controls: "<input type=range>", data: { n: 3 }, bind: "" });
   * await fig.saveHtml(`${await Deno.makeTempDir()}/demo.html`); // open it in any browser, offline
   * ```
   */
  async saveHtml(path: string): Promise<void> {
    await writeAtomic(path, this.toPage());
  }

  /**
   * The static fallback as SVG.
   * @example
   * ```ts
   * import { interactiveFigure } from "./interactive.ts";
   * import { Figure } from "./figure.ts";
   * const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"></svg>`;
   * const fallback = new Figure(svg, 40, 20, "demo");
   * const fig = interactiveFigure({ fallback, controls: "<input type=range>", data: { n: 3 }, bind: "" });
   * fig.toSvg().startsWith("<svg"); // → true
   * ```
   */
  toSvg(): string {
    return this.fallback.svg;
  }

  /**
   * The static fallback as PNG bytes, `scale` × its size (default 2).
   * @example
   * ```ts
   * import { interactiveFigure } from "./interactive.ts";
   * import { Figure } from "./figure.ts";
   * const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"></svg>`;
   * const fallback = new Figure(svg, 40, 20, "demo");
   * const fig = interactiveFigure({ fallback, controls: "<input type=range>", data: { n: 3 }, bind: "" });
   * fig.toPng({ scale: 1 }).subarray(0, 4); // → Uint8Array [137, 80, 78, 71] (the PNG signature)
   * ```
   */
  toPng(options: { scale?: number } = {}): Uint8Array {
    return this.fallback.toPng(options);
  }

  /**
   * Save the static fallback as PNG (atomically).
   * @example
   * ```ts
   * import { interactiveFigure } from "./interactive.ts";
   * import { Figure } from "./figure.ts";
   * const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"></svg>`;
   * const fallback = new Figure(svg, 40, 20, "demo");
   * const fig = interactiveFigure({ fallback, controls: "<input type=range>", data: { n: 3 }, bind: "" });
   * await fig.savePng(`${await Deno.makeTempDir()}/demo.png`);
   * ```
   */
  async savePng(path: string, options: { scale?: number } = {}): Promise<void> {
    await this.fallback.savePng(path, options);
  }

  /**
   * Save the static fallback as SVG (atomically).
   * @example
   * ```ts
   * import { interactiveFigure } from "./interactive.ts";
   * import { Figure } from "./figure.ts";
   * const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"></svg>`;
   * const fallback = new Figure(svg, 40, 20, "demo");
   * const fig = interactiveFigure({ fallback, controls: "<input type=range>", data: { n: 3 }, bind: "" });
   * await fig.saveSvg(`${await Deno.makeTempDir()}/demo.svg`);
   * ```
   */
  async saveSvg(path: string): Promise<void> {
    await this.fallback.saveSvg(path);
  }

  /**
   * What the figure adds to a saved notebook, in bytes (UTF-8).
   * @example
   * ```ts
   * import { interactiveFigure } from "./interactive.ts";
   * import { Figure } from "./figure.ts";
   * const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"></svg>`;
   * const fallback = new Figure(svg, 40, 20, "demo");
   * const fig = interactiveFigure({ fallback, controls: "<input type=range>", data: { n: 3 }, bind: "" });
   * fig.bytes(); // → { html: 4797, svg: 69, total: 4866 }
   * ```
   */
  bytes(): FigureBytes {
    const utf8 = (s: string) => new TextEncoder().encode(s).length;
    const html = utf8(this.html), svg = utf8(this.fallback.svg);
    return { html, svg, total: html + svg };
  }

  /** Deno's Jupyter kernel calls this: HTML for frontends that run it, SVG for those that do not. */
  [JUPYTER_DISPLAY](): Record<string, string> {
    return { "text/html": this.html, "image/svg+xml": this.fallback.svg, "text/plain": this.toString() };
  }

  /** One line naming the figure, its size and its bytes. */
  toString(): string {
    const kB = (this.bytes().total / 1000).toFixed(0);
    return `InteractiveFigure "${this.title}" (${this.width}×${this.height}, ${kB} kB; static SVG fallback)`;
  }
}

/**
 * An id derived from the content (FNV-1a), so re-running a cell gives the same output and two different
 * figures on one page never share one.
 * @example
 * ```ts
 * import { contentId } from "./interactive.ts";
 * contentId("abc"); // → "1a47e90b"
 * ```
 */
export function contentId(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/**
 * Float32 values as base64 of their little-endian bytes: exact, and 5.3 characters a number.
 * @example
 * ```ts
 * import { float32Base64 } from "./interactive.ts";
 * float32Base64([1]); // → "AACAPw=="
 * ```
 */
export function float32Base64(values: ArrayLike<number>): string {
  const f = values instanceof Float32Array ? values : Float32Array.from(values);
  if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) { // a big-endian machine: write little-endian floats
    const view = new DataView(new ArrayBuffer(4 * f.length));
    f.forEach((v, i) => view.setFloat32(4 * i, v, true));
    return encodeBase64(new Uint8Array(view.buffer));
  }
  return encodeBase64(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
}

/** Colour steps of the page's sequential scale (the static heatmaps use the same scheme). */
const LUT_STEPS = 64;
let lut: string[] | undefined;

/**
 * The sequential colour scheme (viridis) sampled at {@link LUT_STEPS} steps, shared by the SVG drawn here and
 * the page's script, so the fallback and the page colour a value the same.
 * @example
 * ```ts
 * import { colourSteps } from "./interactive.ts";
 * colourSteps()[0]; // → "#440154"
 * ```
 */
export function colourSteps(): string[] {
  if (!lut) {
    const scale = Plot.scale({ color: { type: "linear", scheme: SEQUENTIAL, domain: [0, LUT_STEPS - 1] } });
    lut = Array.from({ length: LUT_STEPS }, (_, k) => String(scale.apply(k)));
  }
  return lut;
}

/**
 * The colour of `v` on `domain` (clamped), as the page's `ck.colour` computes it.
 * @example
 * ```ts
 * import { colourOf } from "./interactive.ts";
 * colourOf(0, [0, 1]); // → "#440154"
 * ```
 */
export function colourOf(v: number, domain: [number, number]): string {
  return colourSteps()[Math.round(unit(v, domain) * (LUT_STEPS - 1))];
}

/** Position of `v` in `domain`, clamped to [0, 1]. */
export function unit(v: number, [lo, hi]: [number, number]): number {
  return Math.max(0, Math.min(1, (v - lo) / (hi - lo || 1)));
}

/** Annotations turn black from this position on the scale (viridis is light there). */
export const LIGHT_FROM = 0.55;

/**
 * The script shared by every interactive figure, as plain ES2015 (no modules, no library): decoding base64
 * float32, the colour scale, number formats and the hover card of heatmap cells. Each figure's script starts
 * with it and adds its own `bind(root)`.
 */
const RUNTIME = String.raw`
var ck = {
  f32: function (b64) {
    var s = atob(b64), u = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
    return new Float32Array(u.buffer);
  },
  unit: function (v, d) { return Math.max(0, Math.min(1, (v - d[0]) / ((d[1] - d[0]) || 1))); },
  colour: function (v, d) { return LUT[Math.round(ck.unit(v, d) * (LUT.length - 1))]; },
  ink: function (v, d) { return ck.unit(v, d) < ${LIGHT_FROM} ? "white" : "black"; },
  all: function (root, sel) { return Array.prototype.slice.call(root.querySelectorAll(sel)); },
  one: function (root, sel) { return root.querySelector(sel); },
  pct: function (p) { return (100 * p).toFixed(1) + " %"; },
  esc: function (s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  },
  /** Paint heatmap cells (class ck-cell / ck-val, data-i, data-j) from values[i][j]. */
  paint: function (root, values, domain, format) {
    ck.all(root, ".ck-cell").forEach(function (r) {
      var v = values[+r.getAttribute("data-i")][+r.getAttribute("data-j")];
      r.setAttribute("fill", ck.colour(v, domain));
      r.setAttribute("data-value", String(v));
    });
    ck.all(root, ".ck-val").forEach(function (t) {
      var v = values[+t.getAttribute("data-i")][+t.getAttribute("data-j")];
      t.textContent = format(v);
      t.setAttribute("fill", ck.ink(v, domain));
    });
  },
  /** Hover card on heatmap cells: describe(i, j) gives { rows: [html lines], image: href or null }. */
  hover: function (root, describe) {
    var tip = ck.one(root, ".ck-tip");
    ck.all(root, ".ck-cell").forEach(function (r) {
      r.style.cursor = "crosshair";
      r.addEventListener("mouseenter", function () {
        var d = describe(+r.getAttribute("data-i"), +r.getAttribute("data-j"));
        tip.innerHTML = (d.image ? '<img alt="" src="' + d.image + '" style="float:left;width:64px;height:64px;' +
          'image-rendering:pixelated;margin:0 8px 4px 0;border:1px solid #ccc">' : "") + d.rows.join("<br>");
        var box = root.getBoundingClientRect(), c = r.getBoundingClientRect();
        tip.style.display = "block";
        var left = c.right - box.left + 8;
        if (left + tip.offsetWidth > box.width) left = Math.max(0, c.left - box.left - tip.offsetWidth - 8);
        tip.style.left = left + "px";
        tip.style.top = (c.top - box.top) + "px";
      });
      r.addEventListener("mouseleave", function () { tip.style.display = "none"; });
    });
  },
  /** The href of a thumbnail embedded in the SVG (each picture is embedded once). */
  image: function (root, id) {
    var el = id && root.querySelector('image[data-thumb="' + id + '"]');
    return el ? el.getAttribute("href") : null;
  },
};
`;

/** What {@link interactiveFigure} assembles. */
export interface InteractiveParts {
  /** The static figure at the initial state; its SVG is shown in the page too. */
  fallback: Figure;
  /** HTML of the controls above the figure (sliders, pickers, check boxes). */
  controls: string;
  /** Data for the script, as JSON. */
  data: unknown;
  /** The figure's own script: the body of `function bind(root, D)`; `ck` (the runtime) is in scope. */
  bind: string;
}

/**
 * Put controls, the SVG, a hover card and the script into one self-contained HTML fragment.
 * The script binds every not yet bound copy of the figure in the page (a notebook page may show one twice)
 * and removes the SVG's "static version" note.
 * @example
 * ```ts
 * import { interactiveFigure } from "./interactive.ts";
 * import { Figure } from "./figure.ts";
 * const fallback = new Figure(`<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"></svg>`, 40, 20, "demo");
 * interactiveFigure({ fallback, controls: "<input type=range>", data: { n: 3 }, bind: "" }).html.slice(0, 48)
 * // → '<div class="clipkit-interactive" data-clipkit="f9991f20"'
 * ```
 */
export function interactiveFigure(parts: InteractiveParts): InteractiveFigure {
  const json = JSON.stringify(parts.data).replace(/</g, "\\u003c");
  const id = contentId(parts.fallback.svg + parts.controls + json + parts.bind);
  // The fallback's note (what the interactive version offers) is for the static view: the page drops it.
  const svg = parts.fallback.svg.replace(/^<svg /, `<svg class="ck-svg" `)
    .replace('class="note"', 'class="note ck-static-note"');
  const script = `(function () {
"use strict";
var LUT = ${JSON.stringify(colourSteps())};
${RUNTIME}
var D = ${json};
function bind(root, D) {
${parts.bind}
}
// This script's own figure first, then every other copy in the page. A script inside a shadow root has no
// document.currentScript, so when the document holds no unbound copy the shadow roots are searched too.
var SELECTOR = '[data-clipkit="${id}"]', me = document.currentScript;
var roots = [me && me.closest ? me.closest(SELECTOR) : null].concat(ck.all(document, SELECTOR));
function unbound(r) { return r && !r.getAttribute("data-bound"); }
if (!roots.some(unbound)) {
  (function search(scope) {
    ck.all(scope, "*").forEach(function (el) {
      if (el.shadowRoot) {
        roots = roots.concat(ck.all(el.shadowRoot, SELECTOR));
        search(el.shadowRoot);
      }
    });
  })(document);
}
roots.forEach(function (root) {
  if (!root || root.getAttribute("data-bound")) return;
  root.setAttribute("data-bound", "1");
  ck.all(root, ".ck-static-note").forEach(function (n) { n.parentNode.removeChild(n); });
  bind(root, D);
});
})();`;
  const html = `<div class="clipkit-interactive" data-clipkit="${id}" style="position:relative;` +
    `display:inline-block;background:${PAPER};color:${INK};font-family:${FONT_FAMILY};font-size:14px;` +
    `line-height:1.3;text-align:left">` +
    `<div class="ck-controls" style="display:flex;flex-wrap:wrap;gap:6px 18px;align-items:center;` +
    `padding:12px 16px 0 16px">${parts.controls}</div>` +
    svg +
    `<div class="ck-tip" style="position:absolute;display:none;pointer-events:none;background:${PAPER};` +
    `border:1px solid #999;border-radius:4px;padding:6px 8px;max-width:340px;font-size:13px;` +
    `box-shadow:0 2px 8px rgba(0,0,0,.25);z-index:10"></div>` +
    `<script>${script}</script></div>`;
  return new InteractiveFigure(html, parts.fallback, id);
}

/**
 * Longest side of a thumbnail made from pixels in an interactive figure: the page holds each picture twice
 * (in the HTML and in the SVG fallback), so they stay small; the page draws them enlarged, pixelated.
 */
export const THUMB_SIDE = 40;

/**
 * A `<text>` element without its own font attribute (the figure's `<svg>` sets the font once): interactive
 * figures write many, and the page holds them twice.
 * @example
 * ```ts
 * import { label } from "./interactive.ts";
 * label(0, 14, "a < b", { fill: "#222" }); // → '<text x="0" y="14" fill="#222">a &lt; b</text>'
 * ```
 */
export function label(x: number, y: number, s: string, attrs: Record<string, string | number> = {}): string {
  const a = Object.entries(attrs).map(([k, v]) => ` ${k}="${esc(String(v))}"`).join("");
  return `<text x="${px(x)}" y="${px(y)}"${a}>${esc(s)}</text>`;
}

/** The style of a control's label. */
export const CONTROL_LABEL = "font-weight:bold;margin-right:6px";
