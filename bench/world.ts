/**
 * Speed of the shapes world's generators, per medium, on this machine, one thread: pictures per second
 * for `generateBatch` (drawn and CLIP-normalised into one Float32Array, nchw) at the media world's 40 px
 * and at 32 px, the classic world beside them, captions alone, and one quick pass of the zero-shot suite.
 *
 * Run: `deno run -A bench/world.ts [--quick]`. Prints a table; `measureWorld()` returns its rows for a
 * report.
 *
 * Measured (two runs, 2-core machine shared with other jobs at load 3.5 and 4.7; images/s):
 *
 * | medium  | 40 × 40     | 32 × 32     |
 * |---------|-------------|-------------|
 * | classic | —           | 15.8k–22.3k |
 * | icon    | 2.4k–4.9k   | 5.2k–7.2k   |
 * | outline | 3.3k–5.0k   | 4.6k–4.8k   |
 * | sketch  | 2.4k–2.8k   | 3.0k–4.6k   |
 * | photo   | 1.3k–1.8k   | 2.0k–2.6k   |
 * | pixel   | 3.0k–5.0k   | 3.5k–7.8k   |
 * | mixed   | 1.8k–3.3k   |             |
 *
 * Captions alone: 87k–209k/s; one quick suite pass (30 datasets, models/tiny-clip): 2.9–6.3 s.
 * @module
 */
import { parseArgs } from "node:util";
import { generateBatch, generateCaptions, WORLD_MEDIA, type WorldMedium } from "../src/data/shapes.ts";
import { evaluateSuite } from "../src/data/suite.ts";
import { ClipModel } from "../src/model/clip_model.ts";

/** One measured row. */
export interface WorldBenchRow {
  what: string;
  /** Items per second (or seconds, for the suite row). */
  value: number;
  unit: "images/s" | "captions/s" | "s";
}

/** Items per second of `run(n)`, best of `repeats` timed runs after one warm-up. */
function rate(n: number, repeats: number, run: (n: number) => unknown): number {
  run(Math.min(n, 64));
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    run(n);
    best = Math.min(best, performance.now() - start);
  }
  return n / (best / 1000);
}

/**
 * Measures every generator row (and, unless `suite: false`, one quick suite pass on models/tiny-clip).
 * @example
 * ```ts
 * import { measureWorld } from "./world.ts";
 * const rows = await measureWorld({ quick: true, suite: false });
 * rows[0].what; // → "classic, 32×32"
 * ```
 */
export async function measureWorld(
  options: { quick?: boolean; suite?: boolean; model?: string } = {},
): Promise<WorldBenchRow[]> {
  const n = options.quick ? 500 : 3000, repeats = options.quick ? 1 : 3;
  const rows: WorldBenchRow[] = [];
  const media: WorldMedium[] = WORLD_MEDIA.filter((m) => m !== "mixed");
  for (const medium of media) {
    for (const size of medium === "classic" ? [32] : [40, 32]) {
      rows.push({
        what: `${medium}, ${size}×${size}`,
        value: rate(n, repeats, (k) => generateBatch(1, k, { medium, size })),
        unit: "images/s",
      });
    }
  }
  rows.push({
    what: "mixed, 40×40",
    value: rate(n, repeats, (k) => generateBatch(1, k, { medium: "mixed" })),
    unit: "images/s",
  });
  rows.push({
    what: "captions alone (mixed, no pixels)",
    value: rate(n * 20, repeats, (k) => generateCaptions(1, k, { medium: "mixed" })),
    unit: "captions/s",
  });
  if (options.suite !== false) {
    const model = await ClipModel.load(options.model ?? "models/tiny-clip");
    try {
      const start = performance.now();
      await evaluateSuite(model, { quick: true, progress: false });
      rows.push({
        what: "evaluateSuite --quick (30 datasets, tiny-clip)",
        value: (performance.now() - start) / 1000,
        unit: "s",
      });
    } finally {
      await model.dispose();
    }
  }
  return rows;
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { quick: { type: "boolean", default: false } } });
  const rows = await measureWorld({ quick: values.quick });
  const width = Math.max(...rows.map((r) => r.what.length));
  console.log(`${"what".padEnd(width)}  speed (one thread${values.quick ? ", --quick" : ""})`);
  console.log(`${"-".repeat(width)}  ${"-".repeat(24)}`);
  for (const r of rows) {
    const value = r.unit === "s" ? r.value.toFixed(1) : Math.round(r.value).toLocaleString("en");
    console.log(`${r.what.padEnd(width)}  ${value} ${r.unit}`);
  }
}
