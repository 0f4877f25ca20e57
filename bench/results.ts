/**
 * The benchmark's results object: what `measure.ts` measured, as plain JSON, before any prose. The report
 * (`report.ts`) is a function of it alone, and it is kept beside the report (`bench/RESULTS.json`) so that
 * `deno task bench --only SECTION` re-measures one section and re-renders the whole report with the other
 * sections as they were last measured (each section carries the run it came from).
 *
 *   measure.ts ──► BenchResults ──► RESULTS.json (merged by section) ──► report.ts ──► RESULTS.md
 * @module
 */
import { existsSync } from "node:fs";
import { writeAtomic } from "../src/fs.ts";
import type { CachedHeadRow, TextHeadToHead, TextRow } from "./text.ts";
import type { HeadToHeadRow, ImageRow } from "./images.ts";
import type { MemoryRow } from "./memory.ts";
import type { GflopsRun, VisionShape } from "./gflops.ts";
import type { TokenizerBenchRow } from "./tokenizer.ts";
import type { PreprocessBenchRow } from "./preprocess.ts";
import type { TrainResult } from "./train.ts";
import type { SearchBenchRow } from "./search.ts";
import type { WorldBenchRow } from "./world.ts";
import type { ProbeBenchRow } from "./linear_probe.ts";

/** The benchmark's sections, in report order. */
export const SECTIONS = [
  "images",
  "text",
  "tokenizer",
  "preprocess",
  "memory",
  "gflops",
  "train",
  "search",
  "world",
  "probe",
] as const;
export type Section = typeof SECTIONS[number];

/** Sections that run the full-size model of `bench/vitb32.ts`. */
export const MODEL_SECTIONS: readonly Section[] = ["images", "text", "memory", "gflops"];

/** Version of the results file's layout; a file of another version is not merged. */
export const RESULTS_SCHEMA = 2;

/** One invocation of the benchmark: when, on what, under which load. */
export interface RunInfo {
  /** ISO time of the start and the end. */
  started: string;
  finished: string;
  /** `--quick` (fewer repetitions and rows). */
  quick: boolean;
  /** The sections it measured. */
  sections: Section[];
  /** {@link machineDescription} at the start and the end. */
  machineAtStart: string;
  machineAtEnd: string;
  /** Whether other work competed for the CPUs during the run. */
  loaded: boolean;
  /** Whether `/usr/bin/python3` imported torch, torchvision and PIL (the PyTorch contenders). */
  pytorch: boolean;
}

/** The full-size model the inference sections ran on. */
export interface ModelInfo {
  path: string;
  /** config.json's `_comment` (it says the weights are random). */
  comment?: string;
  vision: VisionShape;
  text: { width: number; layers: number; vocab: number };
  projection: number;
  /** Each ONNX file with its size, e.g. `vision_model.onnx 335 MiB`. */
  files: string[];
  /** GFLOP per image of the vision tower (matrix products, 2 per multiply-add). */
  visionFlops: number;
}

export interface ImagesResult {
  rows: ImageRow[];
  headToHead: HeadToHeadRow[];
  headToHeadLabel?: string;
  skipped: string[];
}

export interface TextResult {
  rows: TextRow[];
  together?: TextHeadToHead;
  cached?: CachedHeadRow;
  skipped: string[];
  /** Prompts of the whole head, classes × templates. */
  total: number;
  classes: number;
  templates: number;
}

export interface TokenizerResult {
  rows: TokenizerBenchRow[];
}

export interface PreprocessResult {
  rows: PreprocessBenchRow[];
}

export interface MemoryResult {
  rows: MemoryRow[];
  skipped: string[];
}

export interface GflopsResult {
  /** The MatMul peak and the tower in one process, in turns, or why it was not measured. */
  inTurns: GflopsRun | { skipped: string };
  /** Batch-32 rows of comparison 1 (from the images section of the same run, or measured for this one). */
  imageRows: ImageRow[];
}

export interface SearchResult {
  /** Exact top-10 (one query, 16 queries, from disk), then embedding a folder end to end. */
  rows: SearchBenchRow[];
  /** The searched corpus: random unit rows. */
  corpus: { rows: number; dim: number };
  /** Rows at which one exact query takes 100 ms, and at which float32 rows fill 4 GB. */
  approximate: { latency: number; memory: number };
}

export interface WorldResult {
  /** Generator speed per medium and size, captions alone, and (unless --quick) one quick suite pass. */
  rows: WorldBenchRow[];
}

export interface ProbeResult {
  /** clipkit's fits (one thread, then several), then scikit-learn's (one BLAS thread, then all). */
  rows: ProbeBenchRow[];
  data: { rows: number; dim: number; classes: number; C: number };
  /** Why scikit-learn has no rows, when it has none. */
  skipped: string[];
}

/** Each section's measurements. */
export interface SectionResults {
  images: ImagesResult;
  text: TextResult;
  tokenizer: TokenizerResult;
  preprocess: PreprocessResult;
  memory: MemoryResult;
  gflops: GflopsResult;
  train: TrainResult;
  search: SearchResult;
  world: WorldResult;
  probe: ProbeResult;
}

/** A section's measurements with the run they came from (an index into {@link BenchResults.runs}). */
export type Measured<S extends Section> = SectionResults[S] & { run: number };

/** Everything the report shows. */
export interface BenchResults {
  schema: number;
  /** The runs the sections came from, oldest first. */
  runs: RunInfo[];
  /** The model of the inference sections (from the latest run that used it). */
  model?: ModelInfo;
  sections: { [S in Section]?: Measured<S> };
  /** Sections measured before this file existed, carried over from the earlier report's text (carry.ts). */
  carried?: CarriedSections;
}

/** Sections carried over verbatim from an earlier report, with that run's header bullets and goal rows. */
export interface CarriedSections {
  /** When the earlier run started, e.g. `2026-11-27 17:17 UTC`. */
  from: string;
  header: string[];
  /** Each carried section's Markdown, heading first. */
  sections: { [S in Section]?: string };
  /** The earlier goal rows of the carried sections: goal, measured, met. */
  goals: { section: Section; cells: string[] }[];
  /** The earlier report's notes, kept while the section that wrote them (GFLOP/s) is carried. */
  notes?: string[];
}

/**
 * Read a results file; `undefined` when absent or of another layout version.
 * @example
 * ```ts
 * (await readResults("bench/RESULTS.json"))?.runs.length; // 2
 * ```
 */
export async function readResults(path: string): Promise<BenchResults | undefined> {
  if (!existsSync(path)) return undefined;
  const parsed = JSON.parse(await Deno.readTextFile(path)) as BenchResults;
  return parsed.schema === RESULTS_SCHEMA ? parsed : undefined;
}

/**
 * Write a results file atomically (two-space JSON).
 * @example
 * ```ts
 * await writeResults("bench/RESULTS.json", results);
 * ```
 */
export async function writeResults(path: string, results: BenchResults): Promise<void> {
  await writeAtomic(path, JSON.stringify(results, null, 2) + "\n");
}

/**
 * The newer results over the older: the newer run's sections replace the older's, the other sections stay
 * (with their runs); runs no section refers to any more are dropped.
 * @example
 * ```ts
 * const merged = mergeResults(old, fresh); // old's images and text, fresh's train
 * Object.keys(merged.sections); // ["images", "text", "train"]
 * ```
 */
export function mergeResults(older: BenchResults | undefined, newer: BenchResults): BenchResults {
  if (!older) return newer;
  const runs: RunInfo[] = [];
  const sections: Record<string, { run: number }> = {};
  const keep = (from: BenchResults, name: Section) => {
    const s = from.sections[name];
    if (!s) return;
    const info = from.runs[s.run];
    let at = runs.indexOf(info);
    if (at < 0) at = runs.push(info) - 1;
    sections[name] = { ...s, run: at };
  };
  for (const name of SECTIONS) keep(newer.sections[name] ? newer : older, name);
  const order = runs.map((_, i) => i).sort((a, b) => runs[a].started.localeCompare(runs[b].started));
  for (const s of Object.values(sections)) s.run = order.indexOf(s.run);
  const newerUsedModel = MODEL_SECTIONS.some((s) => newer.sections[s]);
  return {
    schema: RESULTS_SCHEMA,
    runs: order.map((i) => runs[i]),
    model: newerUsedModel ? newer.model : older.model ?? newer.model,
    sections: sections as BenchResults["sections"],
    ...(older.carried ? { carried: older.carried } : {}),
  };
}
