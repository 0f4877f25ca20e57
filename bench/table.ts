/**
 * Markdown tables and number formats for the benchmark report.
 * @module
 */

/** Column alignment: left for text, right for numbers. */
export type Align = "left" | "right";

/**
 * A Markdown table with padded columns.
 * @example
 * markdownTable(["tool", "images/s"], [["clipkit", "31.2"]], ["left", "right"])
 * // "| tool    | images/s |\n|---------|---------:|\n| clipkit |     31.2 |"
 */
export function markdownTable(header: string[], rows: string[][], align: Align[] = []): string {
  const widths = header.map((h, c) => Math.max(h.length, 3, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    "| " +
    cells.map((v, c) => (align[c] === "right" ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join(" | ") +
    " |";
  const rule = "|" +
    widths.map((w, c) => (align[c] === "right" ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2))).join("|") +
    "|";
  return [line(header), rule, ...rows.map(line)].join("\n");
}

/**
 * A number with about three significant digits (no exponent below 10⁶).
 * @example
 * [fmt(1234.5), fmt(31.24), fmt(0.01234)] // ["1235", "31.2", "0.0123"]
 */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

/**
 * A median with its spread as a relative range, e.g. `"31.2 ±4%"`: half of (max − min) over the median.
 * @example
 * withSpread(31.2, 30, 32.5) // "31.2 ±4%"
 */
export function withSpread(median: number, min: number, max: number): string {
  const spread = median > 0 ? (max - min) / 2 / median : 0;
  return `${fmt(median)} ±${(spread * 100).toFixed(0)}%`;
}

/**
 * A ratio as `"0.83×"`.
 * @example
 * ratio(25, 30) // "0.83×"
 */
export function ratio(value: number, reference: number): string {
  return reference > 0 && Number.isFinite(value) ? `${(value / reference).toFixed(2)}×` : "–";
}

/**
 * Bytes as MiB.
 * @example
 * mib(351481602) // "335 MiB"
 */
export function mib(bytes: number): string {
  return `${fmt(bytes / 2 ** 20)} MiB`;
}
