/** Small helpers for writing SVG markup by hand (figure frames, legends, placeholders). */
import { FONT_FAMILY } from "./theme.ts";

/**
 * Escape text for use inside SVG elements and attributes.
 * @example
 * ```ts
 * import { esc } from "./svg.ts";
 * esc('a "<b>" & c'); // → 'a &quot;&lt;b&gt;&quot; &amp; c'
 * ```
 */
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * Round a coordinate for compact markup.
 * @example
 * ```ts
 * import { px } from "./svg.ts";
 * px(12.3456); // → "12.35"
 * ```
 */
export function px(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/**
 * A `<text>` element.
 * @example
 * ```ts
 * import { text } from "./svg.ts";
 * text(0, 14, "hi", { fill: "#222" });
 * // → '<text x="0" y="14" font-family="DejaVu Sans, Verdana, Arial, sans-serif" fill="#222">hi</text>'
 * ```
 */
export function text(
  x: number,
  y: number,
  s: string,
  attrs: Record<string, string | number> = {},
): string {
  const a = Object.entries(attrs).map(([k, v]) => ` ${k}="${esc(String(v))}"`).join("");
  return `<text x="${px(x)}" y="${px(y)}" font-family="${FONT_FAMILY}"${a}>${esc(s)}</text>`;
}

/**
 * Approximate width of a string in DejaVu Sans at `size` px (average advance ≈ 0.6 em).
 * @example
 * ```ts
 * import { textWidth } from "./svg.ts";
 * textWidth("hello", 10); // → 30
 * ```
 */
export function textWidth(s: string, size: number): number {
  return s.length * size * 0.6;
}

/**
 * Shorten `s` to at most `max` characters, ending with "…" when cut.
 * @example
 * ```ts
 * import { shorten } from "./svg.ts";
 * shorten("a photo of a dog", 8); // → "a photo…"
 * ```
 */
export function shorten(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, Math.max(1, max - 1)).trimEnd() + "…";
}

/**
 * Wrap `s` into at most `lines` lines of at most `width` characters (word boundaries when possible);
 * the last line ends with "…" when text was cut.
 * @example
 * ```ts
 * import { wrap } from "./svg.ts";
 * wrap("a photo of a ginger cat", 12, 2); // → ["a photo of a", "ginger cat"]
 * ```
 */
export function wrap(s: string, width: number, lines: number): string[] {
  const words = s.trim().split(/\s+/);
  const out: string[] = [];
  let line = "";
  for (let i = 0; i < words.length; i++) {
    let w = words[i];
    while (w.length > width) { // a word longer than a line: hard-break it
      if (line) {
        out.push(line);
        line = "";
      }
      out.push(w.slice(0, width));
      w = w.slice(width);
    }
    const next = line ? `${line} ${w}` : w;
    if (next.length <= width) line = next;
    else {
      out.push(line);
      line = w;
    }
  }
  if (line) out.push(line);
  if (out.length <= lines) return out;
  const kept = out.slice(0, lines);
  const last = kept[lines - 1];
  kept[lines - 1] = (last.length < width ? last : last.slice(0, width - 1).trimEnd()) + "…";
  return kept;
}
