/**
 * Comparison 2: text embeddings for CLIP's ImageNet zero-shot head, 1000 classes × 80 templates
 * (80,000 prompts), cold (every prompt through the text tower) and rebuilt from clipkit's disk cache.
 *
 * Cold speeds are measured on an even sample of the classes (all 80 templates each) and projected to the
 * 80,000 prompts (the cost is linear in prompts); the slower contenders time a strided subset of that sample
 * (the table shows each subset's mean prompt length, so the subsets are seen to be alike). clipkit batches
 * prompts of similar length and cuts each batch to its longest prompt (the exporter's text graph has a
 * dynamic sequence axis); the bare onnxruntime-node session pads to 77 like `clip.tokenize`; transformers.js
 * pads to 77 or, with `padding: true`, to each batch's longest prompt; PyTorch pads to 77.
 * @module
 */
import { ClipTokenizer } from "../src/text/tokenizer.ts";
import { fillTemplate } from "../src/zeroshot/templates.ts";
import type { Contender, HeadToHeadJob, TextJob } from "./jobs.ts";
import { isSkipped, runJob } from "./jobs.ts";
import type { Timing } from "./stats.ts";
import { fmt, markdownTable, ratio, withSpread } from "./table.ts";

/** One measured contender. */
export interface TextRow {
  contender: Contender;
  label: string;
  padding: TextJob["padding"];
  threads: number;
  prompts: number;
  /** Mean tokens per prompt with SOT and EOT (the work a cut-to-length batch does, before padding). */
  meanTokens: number;
  timing: Timing;
  perSecond: number;
  perSecondMin: number;
  perSecondMax: number;
  /** Seconds projected for all the head's prompts at the median speed. */
  projectedSeconds: number;
  note?: string;
}

/** clipkit cut to length and a bare session padded to 77, on the same prompts, in one process, in turns. */
export interface TextHeadToHead {
  prompts: number;
  meanTokens: number;
  /** Prompts per second (median), by `clipkit-node` and `ort-node`. */
  perSecond: Record<string, number>;
  timings: Record<string, Timing>;
}

/** The head rebuilt from the disk cache. */
export interface CachedHeadRow {
  label: string;
  prompts: number;
  timing: Timing;
}

/** Options of {@link benchText}. */
export interface TextBenchOptions {
  model: string;
  /** The head's classes (a class may have several names) and templates (CLIP's ImageNet: 1000 × 80). */
  classes: (string | string[])[];
  templates: string[];
  /** Classes in the timed sample (default 25: 2,000 prompts for 80 templates). */
  sampleClasses?: number;
  batch?: number;
  /** Timed passes (default 2); the cached rebuild gets 3. */
  reps?: number;
  quick?: boolean;
  log?: (line: string) => void;
}

/** How much of the sample each contender encodes (every `stride`-th prompt), by speed. */
const PLAN: { contender: Contender; padding: TextJob["padding"]; stride: number; quick: boolean }[] = [
  { contender: "clipkit-node", padding: "dynamic", stride: 1, quick: true },
  { contender: "clipkit-web", padding: "dynamic", stride: 4, quick: true },
  { contender: "ort-node", padding: "77", stride: 16, quick: true },
  { contender: "transformers.js", padding: "77", stride: 16, quick: true },
  { contender: "transformers.js", padding: "longest", stride: 4, quick: true },
  { contender: "pytorch", padding: "77", stride: 16, quick: false },
];

/**
 * Run comparison 2.
 * @example
 * const { rows, cached } = await benchText({ model: VITB32_DIR, classes, templates });
 * rows[0].projectedSeconds // 412 (80,000 prompts with clipkit, cut to length)
 */
export async function benchText(
  options: TextBenchOptions,
): Promise<
  { rows: TextRow[]; together?: TextHeadToHead; cached?: CachedHeadRow; skipped: string[]; total: number }
> {
  const log = options.log ?? (() => {});
  const { classes, templates } = options;
  const total = classes.length * templates.length;
  const sampleClasses = Math.min(options.sampleClasses ?? 25, classes.length);
  const step = classes.length / sampleClasses;
  const sample: string[] = [];
  for (let i = 0; i < sampleClasses; i++) {
    const name = [classes[Math.floor(i * step)]].flat()[0];
    for (const t of templates) sample.push(fillTemplate(t, name));
  }
  const tokenizer = await ClipTokenizer.load(options.model);
  const batch = options.batch ?? 32;
  const rows: TextRow[] = [];
  const skipped: string[] = [];
  for (const p of PLAN) {
    if (options.quick && !p.quick) continue;
    const prompts = sample.filter((_, i) => i % p.stride === 0);
    const { ids } = tokenizer.tokenize(prompts, { contextLength: 77, truncate: true }); // [prompts, 77]
    const meanTokens = ids.reduce((n, id) => n + (id !== 0 ? 1 : 0), 0) / prompts.length;
    const job: TextJob = {
      task: "text",
      contender: p.contender,
      model: options.model,
      prompts,
      batch,
      padding: p.padding,
      reps: options.reps ?? 2,
      ...(p.contender === "pytorch"
        ? { ids: prompts.map((_, r) => Array.from(ids.subarray(r * 77, (r + 1) * 77))) }
        : {}),
    };
    log(`text: ${p.contender} (${p.padding}), ${prompts.length} prompts`);
    const result = await runJob(job, { timeoutSeconds: 900 });
    if (isSkipped(result)) {
      if (!skipped.includes(result.skipped)) skipped.push(result.skipped);
      continue;
    }
    const t = result.timing!;
    const perSecond = prompts.length / t.median;
    rows.push({
      contender: p.contender,
      label: result.label +
        (p.padding === "dynamic" ? ", length-sorted batches cut to their longest prompt" : ""),
      padding: p.padding,
      threads: result.threads,
      prompts: prompts.length,
      meanTokens,
      timing: t,
      perSecond,
      perSecondMin: prompts.length / t.max,
      perSecondMax: prompts.length / t.min,
      projectedSeconds: total / perSecond,
      note: result.note,
    });
  }
  const prompts = sample.filter((_, i) => i % 8 === 0);
  const { ids } = tokenizer.tokenize(prompts, { contextLength: 77, truncate: true }); // [prompts, 77]
  log(
    `text: head to head (clipkit cut to length, bare ORT padded to 77, one process), ${prompts.length} prompts`,
  );
  const job: HeadToHeadJob = {
    task: "head-to-head",
    contender: "clipkit-node",
    set: "text",
    model: options.model,
    batch,
    files: [],
    prompts,
    warmup: 0,
    reps: options.reps ?? 2,
  };
  const h2h = await runJob(job, { timeoutSeconds: 900 });
  let together: TextHeadToHead | undefined;
  if (isSkipped(h2h)) skipped.push(h2h.skipped);
  else {
    together = {
      prompts: prompts.length,
      meanTokens: ids.reduce((n, id) => n + (id !== 0 ? 1 : 0), 0) / prompts.length,
      timings: h2h.timings!,
      perSecond: Object.fromEntries(
        Object.entries(h2h.timings!).map(([k, t]) => [k, prompts.length / t.median]),
      ),
    };
  }
  log(`text: the ${total}-prompt head from clipkit's disk cache`);
  const head = await runJob({
    task: "head-cache",
    contender: "clipkit-node",
    model: options.model,
    classes,
    templates,
    reps: 3,
  });
  let cached: CachedHeadRow | undefined;
  if (isSkipped(head)) skipped.push(head.skipped);
  else cached = { label: head.label, prompts: head.items, timing: head.timing! };
  return { rows, together, cached, skipped, total };
}

/** The Markdown table of comparison 2 (speeds, the projected cold head, ratio to the bare session padded to 77). */
export function textTable(rows: TextRow[], total: number, cached?: CachedHeadRow): string {
  const reference = rows.find((r) => r.contender === "ort-node" && r.padding === "77");
  const out = rows.map((r) => [
    r.label + (r.note ? ` — ${r.note}` : ""),
    String(r.threads),
    String(r.prompts),
    fmt(r.meanTokens),
    withSpread(r.perSecond, r.perSecondMin, r.perSecondMax),
    duration(r.projectedSeconds),
    reference ? ratio(r.perSecond, reference.perSecond) : "–",
  ]);
  if (cached) {
    out.push([
      `${cached.label}, rebuilt from the disk cache (median of ${cached.timing.samples.length})`,
      "–",
      String(cached.prompts),
      "–",
      fmt(cached.prompts / cached.timing.median),
      duration(cached.timing.median),
      reference ? ratio(cached.prompts / cached.timing.median, reference.perSecond) : "–",
    ]);
  }
  return markdownTable(
    [
      "contender",
      "threads",
      "prompts timed",
      "tokens/prompt",
      "prompts/s",
      `${total.toLocaleString("en")}-prompt head`,
      "vs bare ORT padded to 77",
    ],
    out,
    ["left", "right", "right", "right", "right", "right", "right"],
  );
}

/**
 * Seconds as a short duration.
 * @example
 * [duration(0.42), duration(75), duration(2400)] // ["420 ms", "75.0 s", "40.0 min"]
 */
export function duration(seconds: number): string {
  if (seconds < 1) return `${(seconds * 1000).toFixed(0)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  return `${(seconds / 60).toFixed(1)} min`;
}
