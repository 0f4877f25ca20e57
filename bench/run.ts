/**
 * `deno task bench`: clipkit side by side with a bare onnxruntime-node session, transformers.js and
 * PyTorch on a full-size (ViT-B/32-shaped, random-weight) CLIP written by the project's exporter, the
 * tokenizer and preprocessing benchmarks, and training (clipkit's engine vs TensorFlow.js vs PyTorch);
 * prints the Markdown report and writes it, with the machine's description, to `bench/RESULTS.md`.
 *
 *   measure.ts (numbers) ──► BenchResults ──► RESULTS.json (merged: `--only` keeps the other sections)
 *     ──► carry.ts (sections in neither object: the old RESULTS.md's text, verbatim, labelled)
 *     ──► report.ts + goals.ts (prose, tables, goals of goals.json) ──► RESULTS.md
 *
 *   deno task bench                              # everything (≈20 min on 2 cores)
 *   deno task bench --quick                      # fewer repetitions and rows
 *   deno task bench --only images,text           # some sections (listed below)
 *   deno task bench --fresh --only train         # a report of these sections alone (no merge, no carry-over)
 *   deno task bench --model DIR --out FILE --reps N --sample-classes N
 *
 * Sections: images, text, tokenizer, preprocess, memory, gflops, train, search, world, probe.
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { writeAtomic } from "../src/fs.ts";
import { measureBench, type MeasureBenchOptions } from "./measure.ts";
import { renderReport } from "./report.ts";
import { mergeResults, readResults, type Section, SECTIONS, writeResults } from "./results.ts";
import { carrySections } from "./carry.ts";
import { existsSync } from "node:fs";

export { type Section, SECTIONS };

/** Where the report goes by default (the results object beside it, as `RESULTS.json`). */
export const RESULTS_PATH = join(import.meta.dirname!, "RESULTS.md");

/** Options of {@link runBench}. */
export interface BenchOptions extends MeasureBenchOptions {
  /** Report file (default bench/RESULTS.md; the results go beside it as .json); `null` to write none. */
  out?: string | null;
  /**
   * Merge into the results already beside `out` (sections not measured now are kept from there; default
   * true). False: the report holds this run's sections only.
   */
  merge?: boolean;
}

/** The results file beside a report file: `RESULTS.md` → `RESULTS.json`. */
export function resultsPathFor(report: string): string {
  return report.replace(/\.md$/, "") + ".json";
}

/**
 * Run the benchmark and return the report (Markdown); writes it to `out` (atomically), and the results
 * object beside it, unless `out` is null.
 * @example
 * ```ts
 * const report = await runBench({ only: ["memory"], out: null });
 * report.includes("## 4. Peak resident memory"); // true
 * ```
 */
export async function runBench(options: BenchOptions = {}): Promise<string> {
  const log = options.log ?? ((line: string) => console.error(line));
  const measured = await measureBench({ ...options, log });
  const out = options.out === null ? undefined : options.out ?? RESULTS_PATH;
  const json = out ? resultsPathFor(out) : undefined;
  const previous = json && (options.merge ?? true) ? await readResults(json) : undefined;
  const merge = options.merge ?? true;
  // Sections in neither results object are carried over from the report already there, verbatim.
  const earlier = out && merge && existsSync(out) ? await Deno.readTextFile(out) : undefined;
  const results = merge ? carrySections(mergeResults(previous, measured), earlier) : measured;
  const partial = (options.only ?? SECTIONS).length < SECTIONS.length;
  if (json && partial && merge && !previous) {
    log(
      `no ${json} (or of an older layout) to merge into: ` +
        (results.carried
          ? `sections ${Object.keys(results.carried.sections).join(", ")} carried over from ${out}'s text`
          : "the report holds this run's sections only"),
    );
  }
  const report = renderReport(results);
  if (out && json) {
    await writeResults(json, results);
    await writeAtomic(out, report);
    log(`wrote ${out} and ${json}`);
  }
  return report;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      fresh: { type: "boolean", default: false },
      only: { type: "string" },
      model: { type: "string" },
      reps: { type: "string" },
      out: { type: "string" },
      "sample-classes": { type: "string" },
    },
  });
  const only = values.only?.split(",").map((s) => s.trim()) as Section[] | undefined;
  const unknown = only?.filter((s) => !SECTIONS.includes(s));
  if (unknown?.length) {
    console.error(`unknown section(s) ${unknown.join(", ")}: use --only with some of ${SECTIONS.join(", ")}`);
    Deno.exit(2);
  }
  const report = await runBench({
    model: values.model,
    only,
    quick: values.quick,
    reps: values.reps ? Number(values.reps) : undefined,
    out: values.out,
    merge: !values.fresh,
    sampleClasses: values["sample-classes"] ? Number(values["sample-classes"]) : undefined,
  });
  console.log(report);
}
