/**
 * Comparison 1: image embeddings per second on the full-size model, batch 1 and 32, each contender in its
 * own process, back to back: clipkit (files → embeddings) on both backends, a bare
 * onnxruntime-node session fed ready tensors (fresh outputs; pre-allocated outputs, the practical ceiling;
 * and without spin-waiting threads), clipkit fed the same tensors (`encodePixels`: the tower alone, timed
 * alternately with its run from files), transformers.js from the same files (default, all cores, WASM), and
 * PyTorch from the same files when Debian's python3-torch is present.
 * @module
 */
import type { Contender, HeadToHeadJob, ImageJob } from "./jobs.ts";
import { isSkipped, runJob } from "./jobs.ts";
import type { Timing } from "./stats.ts";
import { fmt, markdownTable, mib, ratio, withSpread } from "./table.ts";

/** One measured contender at one batch size. */
export interface ImageRow {
  contender: Contender;
  label: string;
  /** `files`: decode + preprocess + tower; `pixels`: ready tensors, the tower alone. */
  input: "files" | "pixels";
  batch: number;
  threads: number;
  /** Whether the threads were set for this row instead of the contender's default. */
  pinnedThreads: boolean;
  /** Images per repetition. */
  items: number;
  timing: Timing;
  /** Median images per second (and from the fastest and slowest repetitions). */
  perSecond: number;
  perSecondMin: number;
  perSecondMax: number;
  peakRss: number;
  note?: string;
}

/** One contender's speed in the head-to-head job (three contenders in one process, taking turns). */
export interface HeadToHeadRow {
  contender: Contender;
  label: string;
  batch: number;
  items: number;
  timing: Timing;
  perSecond: number;
  perSecondMin: number;
  perSecondMax: number;
}

/** Options of {@link benchImages}. */
export interface ImageBenchOptions {
  /** The model directory (fp32 graphs). */
  model: string;
  /** Image files; batch 1 times each of the first 8 one by one, batch 32 times them repeated to 32. */
  files: string[];
  /** Batch sizes (default [1, 32]). */
  batches?: number[];
  /** Timed repetitions after one warm-up (default 2; the head-to-head jobs get one more). */
  reps?: number;
  /** Leave out the secondary rows (transformers.js on all cores, the bare session without spin-waiting). */
  quick?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** Images timed one by one at batch 1. */
const SINGLE_IMAGES = 8;

/** A contender as comparison 1 runs it. */
interface Entry {
  contender: Contender;
  input: "files" | "pixels";
  /** clipkit: threads instead of all cores. */
  threads?: number;
  /** Only at these batch sizes. */
  batches?: number[];
}

/**
 * The contenders, in table order. clipkit's native run from files also times the same images as ready
 * tensors, alternately, in the same process: that row comes from it.
 */
function contenders(quick: boolean): Entry[] {
  return [
    { contender: "clipkit-node", input: "files" },
    { contender: "clipkit-web", input: "files" },
    { contender: "ort-node", input: "pixels" },
    { contender: "ort-node-prealloc", input: "pixels" },
    ...(quick ? [] : [{ contender: "ort-node-nospin" as const, input: "pixels" as const, batches: [32] }]),
    { contender: "transformers.js", input: "files" },
    ...(quick
      ? []
      : [{ contender: "transformers.js-threads" as const, input: "files" as const, batches: [32] }]),
    { contender: "transformers.js-wasm", input: "files" },
    { contender: "pytorch", input: "files" },
  ];
}

/**
 * Run comparison 1 and return its rows (and the contenders that could not run, with why).
 * @example
 * const { rows } = await benchImages({ model: VITB32_DIR, files, reps: 3 });
 * rows[0] // { contender: "clipkit-node", input: "files", batch: 1, perSecond: 21.3, … }
 */
export async function benchImages(
  options: ImageBenchOptions,
): Promise<{ rows: ImageRow[]; headToHead: HeadToHeadRow[]; headToHeadLabel?: string; skipped: string[] }> {
  const log = options.log ?? (() => {});
  const rows: ImageRow[] = [];
  const headToHead: HeadToHeadRow[] = [];
  let headToHeadLabel: string | undefined;
  const skipped: string[] = [];
  for (const batch of options.batches ?? [1, 32]) {
    const files = batch === 1
      ? options.files.slice(0, SINGLE_IMAGES)
      : Array.from({ length: batch }, (_, i) => options.files[i % options.files.length]);
    for (const c of contenders(options.quick ?? false)) {
      if (c.batches && !c.batches.includes(batch)) continue;
      const job: ImageJob = {
        task: "images",
        contender: c.contender,
        model: options.model,
        input: c.input,
        batch,
        files,
        ...(c.threads ? { threads: c.threads } : {}),
        warmup: 1,
        reps: options.reps ?? 2,
      };
      log(
        `images: ${c.contender} (${c.input}${c.threads ? `, ${c.threads} thread(s)` : ""}), batch ${batch}`,
      );
      const result = await runJob(job);
      if (isSkipped(result)) {
        if (!skipped.includes(result.skipped)) skipped.push(result.skipped);
        continue;
      }
      const row = (input: "files" | "pixels", t: Timing): ImageRow => ({
        contender: c.contender,
        label: result.label,
        input,
        batch,
        threads: result.threads,
        pinnedThreads: c.threads !== undefined,
        items: result.items,
        timing: t,
        perSecond: result.items / t.median,
        perSecondMin: result.items / t.max,
        perSecondMax: result.items / t.min,
        peakRss: result.peakRss,
        note: result.note,
      });
      rows.push(row(c.input, result.timing!));
      if (result.timings?.pixels) rows.push(row("pixels", result.timings.pixels));
    }
    for (const set of ["native", "web"] as const) {
      const job: HeadToHeadJob = {
        task: "head-to-head",
        contender: "clipkit-node",
        set,
        model: options.model,
        batch,
        files,
        warmup: 1,
        reps: (options.reps ?? 2) + 1,
      };
      log(`images: head to head (${set}: contenders in one process, taking turns), batch ${batch}`);
      const result = await runJob(job);
      if (isSkipped(result)) {
        skipped.push(result.skipped);
        continue;
      }
      if (!headToHeadLabel?.includes(result.label)) {
        headToHeadLabel = [headToHeadLabel, result.label].filter(Boolean).join(" | ");
      }
      for (const [contender, t] of Object.entries(result.timings!)) {
        headToHead.push({
          contender: contender as Contender,
          label: result.labels?.[contender] ?? contender,
          batch,
          items: result.items,
          timing: t,
          perSecond: result.items / t.median,
          perSecondMin: result.items / t.max,
          perSecondMax: result.items / t.min,
        });
      }
    }
  }
  return { rows, headToHead, headToHeadLabel, skipped };
}

/**
 * The Markdown table of comparison 1: per batch size, images/s (median ± half the range) and the ratio to
 * clipkit's native backend from files.
 */
export function imagesTable(rows: ImageRow[]): string {
  const out: string[][] = [];
  for (const r of rows) {
    const reference = rows.find((x) =>
      x.batch === r.batch && x.contender === "clipkit-node" && x.input === "files"
    );
    out.push([
      String(r.batch),
      r.label + (r.note ? ` — ${r.note}` : ""),
      r.input === "files" ? "image files" : "ready tensors",
      String(r.threads),
      withSpread(r.perSecond, r.perSecondMin, r.perSecondMax),
      `${fmt(1000 / r.perSecond)} ms`,
      reference ? ratio(r.perSecond, reference.perSecond) : "–",
      mib(r.peakRss),
    ]);
  }
  return markdownTable(
    ["batch", "contender", "input", "threads", "images/s", "per image", "vs clipkit native", "peak RSS"],
    out,
    ["right", "left", "left", "right", "right", "right", "right", "right"],
  );
}

/** The Markdown table of the head-to-head job: images/s and the ratio to clipkit, per batch size. */
export function headToHeadTable(rows: HeadToHeadRow[]): string {
  const reference = (r: HeadToHeadRow) =>
    rows.find((x) =>
      x.batch === r.batch &&
      x.contender ===
        (r.contender.endsWith("wasm") || r.contender === "clipkit-web" ? "clipkit-web" : "clipkit-node")
    );
  return markdownTable(
    ["batch", "contender", "images/s", "clipkit over it"],
    rows.map((r) => [
      String(r.batch),
      r.label,
      withSpread(r.perSecond, r.perSecondMin, r.perSecondMax),
      ratio(reference(r)?.perSecond ?? NaN, r.perSecond),
    ]),
    ["right", "left", "right", "right"],
  );
}
