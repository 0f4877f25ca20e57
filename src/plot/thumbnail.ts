/**
 * Image thumbnails for figures, as `data:` URIs inside the SVG. A thumbnail may be a file path,
 * encoded PNG/JPEG/GIF bytes, or pixels `{ width, height, data }` (RGBA, RGB, LA or L, as
 * `loadImage` returns them). A missing or unreadable thumbnail becomes a labelled placeholder,
 * never a crash.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { encodeBase64 } from "./base64.ts";

import { encodePng, loadImage, toRGBA } from "../image/mod.ts";
import { PlotInputError } from "../errors.ts";
import { esc, px, text, wrap } from "./svg.ts";
import { INK, MISSING, MUTED } from "./theme.ts";

/** Pixels as the kit's image loader returns them. */
export interface Pixels {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Pixel bytes, row-major, channels interleaved. */
  data: ArrayLike<number>;
  /** PIL-style mode; when absent the channel count is inferred from the data length. */
  mode?: string;
}

/** What a figure accepts as a thumbnail; `null` draws a "no image" placeholder. */
export type Thumbnail = string | Uint8Array | Pixels | null | undefined;

/** A resolved thumbnail: a data URI, or why there is none. */
export type ResolvedThumbnail = { href: string; missing?: undefined } | { href?: undefined; missing: string };

/** Longest side of a thumbnail made from pixels (larger images are box-downscaled). */
const MAX_SIDE = 160;
const CHANNELS: Record<string, number> = { L: 1, LA: 2, RGB: 3, RGBA: 4 };

function sniff(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46) return "image/gif";
  return undefined;
}

function fromBytes(bytes: Uint8Array, name: string): ResolvedThumbnail {
  const mime = sniff(bytes);
  if (!mime) return { missing: `unreadable: ${name}` };
  return { href: `data:${mime};base64,${encodeBase64(bytes)}` };
}

/** RGBA bytes from pixels of 1–4 channels, box-downscaled so the longest side is ≤ MAX_SIDE. */
function fromPixels(p: Pixels, maxSide = MAX_SIDE): ResolvedThumbnail {
  const { width: w, height: h } = p;
  if (!(Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0)) {
    throw new PlotInputError(
      `thumbnail pixels have size ${w}×${h}`,
      { fix: "give width and height as positive integers" },
    );
  }
  const ch = p.mode ? CHANNELS[p.mode] : p.data.length / (w * h);
  if (!ch || !Number.isInteger(ch) || ch > 4 || p.data.length !== w * h * ch) {
    throw new PlotInputError(
      `thumbnail pixels (mode ${
        p.mode ?? "?"
      }, ${p.data.length} values for ${w}×${h}) are not L, LA, RGB or RGBA`,
      { fix: "convert them first (e.g. toRGBA(image)) or pass the file path" },
    );
  }
  const f = Math.max(1, Math.ceil(Math.max(w, h) / maxSide));
  const tw = Math.ceil(w / f), th = Math.ceil(h / f);
  const out = new Uint8Array(tw * th * 4);
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      const acc = [0, 0, 0, 0];
      let n = 0;
      for (let y = ty * f; y < Math.min(h, (ty + 1) * f); y++) {
        for (let x = tx * f; x < Math.min(w, (tx + 1) * f); x++) {
          const i = (y * w + x) * ch;
          const g = p.data[i];
          const rgba = ch === 1
            ? [g, g, g, 255]
            : ch === 2
            ? [g, g, g, p.data[i + 1]]
            : [p.data[i], p.data[i + 1], p.data[i + 2], ch === 4 ? p.data[i + 3] : 255];
          for (let c = 0; c < 4; c++) acc[c] += rgba[c];
          n++;
        }
      }
      for (let c = 0; c < 4; c++) out[(ty * tw + tx) * 4 + c] = Math.round(acc[c] / n);
    }
  }
  return { href: `data:image/png;base64,${encodeBase64(encodePng(tw, th, out))}` };
}

/**
 * Turn a thumbnail source into a data URI, or a reason it is missing. Pixels are box-downscaled so their
 * longest side is at most `maxSide` (default 160); files and bytes are embedded as they are.
 * @example
 * ```ts
 * import { resolveThumbnail } from "./thumbnail.ts";
 * resolveThumbnail("no/such.png"); // → { missing: "missing: such.png" }
 * ```
 */
export function resolveThumbnail(src: Thumbnail, maxSide = MAX_SIDE): ResolvedThumbnail {
  if (src === null || src === undefined) return { missing: "no image" };
  if (typeof src === "string") {
    if (src.startsWith("data:image/")) return { href: src };
    if (!existsSync(src)) return { missing: `missing: ${basename(src)}` };
    return fromBytes(new Uint8Array(readFileSync(src)), basename(src));
  }
  if (src instanceof Uint8Array) return fromBytes(src, `${src.length} bytes`);
  if (typeof src === "object" && "width" in src && "data" in src) return fromPixels(src, maxSide);
  throw new PlotInputError(
    `a thumbnail must be a file path, PNG/JPEG/GIF bytes or { width, height, data } pixels, got ${typeof src}`,
    { fix: "pass one of those (or null for no thumbnail)" },
  );
}

/**
 * SVG for a thumbnail in a `size × size` box at (x, y): the image (aspect kept), or a grey
 * placeholder box saying why there is none.
 * @example
 * ```ts
 * import { thumbnailSvg } from "./thumbnail.ts";
 * thumbnailSvg(null, 0, 0, 64);
 * // → '<g class="thumbnail-missing"><rect x="0" y="0" width="64" height="64" fill="#bdbdbd" stroke="#555555"/><text …>no image</text></g>'
 * ```
 */
export function thumbnailSvg(src: Thumbnail, x: number, y: number, size: number): string {
  const r = resolveThumbnail(src);
  if (r.href === undefined) return placeholderSvg(r.missing, x, y, size);
  return `<image class="thumbnail" x="${px(x)}" y="${px(y)}" width="${size}" height="${size}" ` +
    `preserveAspectRatio="xMidYMid meet" href="${esc(r.href)}"/>`;
}

/**
 * A grey box with a short note, standing in for an image that is missing.
 * @example
 * ```ts
 * import { placeholderSvg } from "./thumbnail.ts";
 * placeholderSvg("missing: dog.png", 0, 0, 64); // → '<g class="thumbnail-missing"><rect …/><text …>missing:</text>…</g>'
 * ```
 */
export function placeholderSvg(note: string, x: number, y: number, size: number): string {
  const fs = size >= 60 ? 11 : 9;
  const lines = wrap(note, Math.max(4, Math.floor((size - 4) / (0.6 * fs))), 3);
  return `<g class="thumbnail-missing"><rect x="${px(x)}" y="${
    px(y)
  }" width="${size}" height="${size}" fill="${MISSING}" stroke="${MUTED}"/>` +
    lines.map((l, k) =>
      text(x + size / 2, y + size / 2 + (k - (lines.length - 1) / 2) * (fs + 2) + fs / 3, l, {
        "font-size": fs,
        "text-anchor": "middle",
        fill: INK,
      })
    ).join("") + `</g>`;
}

/**
 * Decode images with the kit's decoder (EXIF orientation, CMYK, palettes) into RGBA pixels; figures
 * then embed them box-downscaled (longest side ≤ 160 px), so many large photos make a small SVG
 * instead of embedding every file whole. A source that cannot be read is passed through unchanged
 * and drawn as a labelled placeholder.
 * @example
 * ```ts
 * import { loadThumbnails } from "./thumbnail.ts";
 * import { plots } from "./mod.ts";
 * const thumbs = await loadThumbnails(["models/samples/01_red_circle.png", "models/samples/06_blue_square.png"]);
 * const S = [[0.31, 0.12], [0.08, 0.29]]; // [texts, images]
 * plots.similarityHeatmap(S, { texts: ["a red circle", "a blue square"], images: thumbs }); // small thumbnails, not whole files
 * ```
 */
export async function loadThumbnails(sources: readonly Thumbnail[]): Promise<Thumbnail[]> {
  return await Promise.all(sources.map(async (src) => {
    if (!(typeof src === "string" && !src.startsWith("data:")) && !(src instanceof Uint8Array)) return src;
    try {
      return { ...toRGBA(await loadImage(src)), mode: "RGBA" };
    } catch {
      return src;
    }
  }));
}
