/**
 * `Figure`: what every plot function returns. It is SVG markup with a size, shown inline by Deno's
 * Jupyter kernel, and saved as SVG or PNG.
 */
import type { Panel } from "./dom.ts";
import { FONT_FAMILY, GAP, INK, MUTED, PAD, PAPER, SUBTITLE_SIZE, TITLE_SIZE } from "./theme.ts";
import { px, text, textWidth } from "./svg.ts";
import { svgToPng } from "./raster.ts";
import { writeAtomic } from "../fs.ts";
import { RasterError } from "../errors.ts";

/** The symbol Deno's Jupyter kernel looks for (`Deno.jupyter.$display`). */
const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/**
 * A rendered figure.
 * @example
 * ```ts
 * import { Figure } from "./figure.ts";
 * const fig = new Figure('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"/>', 40, 20, "demo");
 * fig.toString(); // → 'Figure "demo" (40×20 SVG)'
 * ```
 */
export class Figure {
  /** The complete SVG document. */
  readonly svg: string;
  /** Width in CSS pixels. */
  readonly width: number;
  /** Height in CSS pixels. */
  readonly height: number;
  /** The title, also the text shown where SVG cannot be. */
  readonly title: string;

  /** A figure from its SVG text and size. */
  constructor(svg: string, width: number, height: number, title: string) {
    this.svg = svg;
    this.width = width;
    this.height = height;
    this.title = title;
  }

  /**
   * The figure as a standalone SVG document.
   * @example
   * ```ts
   * import { plots } from "./mod.ts";
   * const fig = plots.confusionMatrix([[8, 2], [1, 9]], { labels: ["circle", "square"] });
   * fig.toSvg().startsWith("<svg"); // → true
   * ```
   */
  toSvg(): string {
    return this.svg;
  }

  /**
   * The figure as PNG bytes, `scale` × its size in pixels (default 2).
   * @example
   * ```ts
   * import { plots } from "./mod.ts";
   * const fig = plots.confusionMatrix([[8, 2], [1, 9]], { labels: ["circle", "square"] });
   * fig.toPng({ scale: 1 }).subarray(0, 4); // → Uint8Array [137, 80, 78, 71] (the PNG signature)
   * ```
   */
  toPng(options: { scale?: number } = {}): Uint8Array {
    return svgToPng(this.svg, options.scale ?? 2);
  }

  /**
   * Save as PNG (atomically). The folder must exist: a missing one is a RasterError naming the path.
   * @example
   * ```ts
   * import { plots } from "./mod.ts";
   * const fig = plots.confusionMatrix([[8, 2], [1, 9]], { labels: ["circle", "square"] });
   * await fig.savePng(`${await Deno.makeTempDir()}/confusion.png`, { scale: 2 }); // twice the SVG's pixel size
   * ```
   */
  async savePng(path: string, options: { scale?: number } = {}): Promise<void> {
    await saveFile(path, this.toPng(options));
  }

  /**
   * Save as SVG (atomically). The folder must exist: a missing one is a RasterError naming the path.
   * @example
   * ```ts
   * import { plots } from "./mod.ts";
   * const fig = plots.confusionMatrix([[8, 2], [1, 9]], { labels: ["circle", "square"] });
   * await fig.saveSvg(`${await Deno.makeTempDir()}/confusion.svg`);
   * ```
   */
  async saveSvg(path: string): Promise<void> {
    await saveFile(path, this.svg);
  }

  /** Deno's Jupyter kernel calls this to show the figure inline. */
  [JUPYTER_DISPLAY](): Record<string, string> {
    return { "image/svg+xml": this.svg, "text/plain": this.toString() };
  }

  /** One line naming the figure and its size. */
  toString(): string {
    return `Figure "${this.title}" (${this.width}×${this.height} SVG)`;
  }
}

export interface Layout {
  title: string;
  /** One line under the title: what is plotted, in which units. */
  subtitle?: string;
  /** Rows of panels; panels in a row sit side by side, top-aligned. */
  rows: Panel[][];
  /** A short note at the bottom (e.g. how missing values are shown). */
  note?: string;
}

/**
 * Put a title, rows of panels and an optional note into one SVG document.
 * @example
 * ```ts
 * import { compose } from "./figure.ts";
 * compose({ title: "T", rows: [[{ width: 10, height: 10, body: "" }]] }).width; // → 45
 * ```
 */
export function compose(layout: Layout): Figure {
  const parts: string[] = [];
  let y = PAD + TITLE_SIZE;
  parts.push(
    text(PAD, y, layout.title, { "font-size": TITLE_SIZE, "font-weight": "bold", fill: INK, class: "title" }),
  );
  let width = textWidth(layout.title, TITLE_SIZE) * 1.05;
  if (layout.subtitle) {
    y += SUBTITLE_SIZE + 8;
    parts.push(text(PAD, y, layout.subtitle, { "font-size": SUBTITLE_SIZE, fill: MUTED, class: "subtitle" }));
    width = Math.max(width, textWidth(layout.subtitle, SUBTITLE_SIZE));
  }
  y += GAP * 0.75;
  for (const row of layout.rows) {
    let x = PAD, h = 0;
    for (const p of row) {
      parts.push(`<g transform="translate(${px(x)},${px(y)})">${p.body}</g>`);
      x += p.width + GAP;
      h = Math.max(h, p.height);
    }
    width = Math.max(width, x - GAP - PAD);
    y += h + GAP;
  }
  y -= GAP;
  if (layout.note) {
    y += SUBTITLE_SIZE + 10;
    parts.push(text(PAD, y, layout.note, { "font-size": SUBTITLE_SIZE - 1, fill: MUTED, class: "note" }));
    width = Math.max(width, textWidth(layout.note, SUBTITLE_SIZE - 1));
  }
  const W = Math.ceil(width + 2 * PAD), H = Math.ceil(y + PAD);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ` +
    `width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT_FAMILY}" color="${INK}">` +
    `<rect width="100%" height="100%" fill="${PAPER}"/>${parts.join("")}</svg>`;
  return new Figure(svg, W, H, layout.title);
}

/** Write a figure file; a file-system failure (no such folder, no permission) is a RasterError naming the path. */
async function saveFile(path: string, data: Uint8Array | string): Promise<void> {
  try {
    await writeAtomic(path, data);
  } catch (e) {
    if (!(e instanceof Error) || e instanceof RasterError) throw e;
    const missing = e instanceof Deno.errors.NotFound;
    throw new RasterError(
      missing
        ? "cannot write the figure: its folder does not exist"
        : `cannot write the figure (${e.message})`,
      {
        path,
        fix: missing
          ? "create the folder first (await Deno.mkdir(folder, { recursive: true })), or fix the path"
          : "save it into a folder you can write to (check the path and its permissions)",
        cause: e,
      },
    );
  }
}
