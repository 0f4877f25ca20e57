/**
 * Comparison 4: peak resident memory (VmHWM) of a process that loads the image tower and embeds one
 * image, for the fp32, fp16 and int8 graphs: clipkit's tower (as `ClipModel` loads it), a bare
 * onnxruntime-node session created from the file's path (and, fp32, from its bytes as clipkit does, and with
 * weight prepacking off), transformers.js, and PyTorch (fp32); each in a fresh
 * process, next to the same process with the runtime loaded and no model (the baseline).
 * @module
 */
import { statSync } from "node:fs";
import { onnxPath } from "../src/model/config.ts";
import type { Contender, MemoryJob, Variant } from "./jobs.ts";
import { isSkipped, runJob } from "./jobs.ts";
import { markdownTable, mib } from "./table.ts";

/** One measured process. */
export interface MemoryRow {
  contender: Contender;
  label: string;
  variant: Variant;
  /** Bytes of the vision graph's file (its weights, essentially). */
  weights: number;
  peakRss: number;
  /** Peak RSS of a Deno process with onnxruntime-node loaded and no model. */
  baseline: number;
  /** Weight prepacking turned off (clipkit's `lowMemory`). */
  prepack?: false;
}

/** Options of {@link benchMemory}. */
export interface MemoryBenchOptions {
  model: string;
  variants?: Variant[];
  quick?: boolean;
  log?: (line: string) => void;
}

/**
 * Run comparison 4.
 * @example
 * const { rows } = await benchMemory({ model: VITB32_DIR });
 * rows[0] // { contender: "clipkit-node", variant: "fp32", weights: 351481602, peakRss: 842137600, baseline: 98304000, … }
 */
export async function benchMemory(
  options: MemoryBenchOptions,
): Promise<{ rows: MemoryRow[]; skipped: string[] }> {
  const log = options.log ?? (() => {});
  const skipped: string[] = [];
  const base = await runJob({ task: "memory", contender: "ort-node", model: "", variant: "fp32" });
  if (isSkipped(base)) return { rows: [], skipped: [base.skipped] };
  const rows: MemoryRow[] = [];
  const all = options.variants ?? ["fp32", "fp16", "q8"];
  const plan: { contender: Contender; variants: Variant[]; load?: "bytes"; prepack?: false }[] = [
    { contender: "clipkit-node", variants: all },
    { contender: "clipkit-node", variants: ["fp32"], prepack: false },
    { contender: "ort-node", variants: all },
    { contender: "ort-node", variants: ["fp32"], load: "bytes" },
    { contender: "ort-node", variants: ["fp32"], prepack: false },
    { contender: "transformers.js", variants: options.quick ? ["fp32"] : ["fp32", "q8"] },
    { contender: "pytorch", variants: ["fp32"] },
  ];
  for (const { contender, variants, load, prepack } of plan) {
    for (const variant of variants) {
      log(
        `memory: ${contender} ${variant}${load ? ` from ${load}` : ""}${
          prepack === false ? ", no prepacking" : ""
        }`,
      );
      const job: MemoryJob = { task: "memory", contender, model: options.model, variant, load, prepack };
      const result = await runJob(job);
      if (isSkipped(result)) {
        if (!skipped.includes(result.skipped)) skipped.push(result.skipped);
        continue;
      }
      rows.push({
        contender,
        label: result.label,
        variant,
        weights: statSync(onnxPath(options.model, "vision", variant)).size,
        peakRss: result.peakRss,
        baseline: base.peakRss,
        prepack,
      });
    }
  }
  return { rows, skipped };
}

/** The Markdown table of comparison 4. */
export function memoryTable(rows: MemoryRow[]): string {
  return markdownTable(
    [
      "process",
      "graph",
      "weights (file)",
      "peak RSS",
      "peak RSS − runtime alone",
      "peak / weights",
      "(peak − runtime) / weights",
    ],
    rows.map((r) => [
      r.label,
      r.contender === "pytorch" ? "fp32 (PyTorch modules)" : r.variant,
      mib(r.weights),
      mib(r.peakRss),
      mib(r.peakRss - r.baseline),
      `${(r.peakRss / r.weights).toFixed(2)}×`,
      `${((r.peakRss - r.baseline) / r.weights).toFixed(2)}×`,
    ]),
    ["left", "left", "right", "right", "right", "right", "right"],
  );
}
