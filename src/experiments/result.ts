/**
 * What every experiment returns and writes: one plain-JSON record (`ExperimentResult`) holding the
 * config, the seeds, each run's per-checkpoint numbers, the wall time, the machine and the kit's commit;
 * where it is written (`experiments/results/NAME.json` for a full run, a temporary folder for `--quick`),
 * and how it is read back (validated against its schema).
 *
 * run(options) ─► ExperimentResult ─► validateResult ─► writeResult (atomic JSON + figure SVG/PNG)
 * experiments/results/NAME.json ─► readResult ─► figure(result)
 * @module
 */
import { cpus, release, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readJsonFile, writeAtomic } from "../fs.ts";
import type { BackendChoice } from "../model/runtime.ts";
import type { ProgressOutput } from "../model/progress.ts";
import type { Figure } from "../plot/figure.ts";
import { ExperimentError } from "../errors.ts";
import { validateResult } from "./schema.ts";
import registry from "./registry.json" with { type: "json" };

/** The `format` field of every result this version writes. */
export const RESULT_FORMAT = "clipkit-experiment/1";

/** The repository root (results and figures are written below it). */
export const REPO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url));
/** Where full results are shipped. */
export const RESULTS_DIR: string = join(REPO_ROOT, "experiments", "results");
/** Where the figures of full results are shipped. */
export const FIGURES_DIR: string = join(REPO_ROOT, "docs", "figures");
/** Where `--quick` results go unless told otherwise (never over a shipped result). */
export const QUICK_DIR: string = join(tmpdir(), "clipkit", "experiments");

/** Which recipe of an experiment: the shipped full run, or the few-minutes version for notebooks and CI. */
export type Preset = "full" | "quick";

/** Options every experiment's `run` takes. */
export interface RunOptions<Config = Record<string, unknown>> {
  /** `"full"` (default, the shipped result) or `"quick"`. */
  preset?: Preset;
  /** Seed of everything random (weights, data order, validation data); default the config's. */
  seed?: number;
  /** ONNX Runtime backend of the training engine (default `"node"`). */
  backend?: BackendChoice;
  /** Intra-op threads (default: all cores). */
  threads?: number;
  /** Fields of the preset's config to change (e.g. `{ steps: 60, lr: 0.001 }`). */
  overrides?: Partial<Config>;
  /** Where the progress bar draws (default `"auto"`; `"none"` for none). */
  progress?: ProgressOutput;
}

/** One checkpoint: the step, and numbers (or objects of numbers) measured there. */
export interface CheckpointRecord {
  step: number;
  [metric: string]: unknown;
}

/** One training run of an experiment (a variant, for one seed). */
export interface RunRecord {
  /** Short id of the variant (`"learned"`, `"frozen-100"`). */
  name: string;
  /** How figures and tables name it. */
  label: string;
  seed: number;
  /** What distinguishes this run from the others (experiment-specific). */
  settings: Record<string, unknown>;
  checkpoints: CheckpointRecord[];
  wallSeconds: number;
}

/** The machine a result was measured on. */
export interface MachineInfo {
  /** CPU model name. */
  cpu: string;
  /** Logical cores. */
  cores: number;
  /** Operating system and kernel release (`linux 6.8.0`). */
  os: string;
  /** Deno's version. */
  deno: string;
  /** The engine's runtime, with its threads (`onnxruntime-node 1.30.0 (native CPU, 2 threads)`). */
  backend: string;
}

/** The kit that produced a result. */
export interface KitInfo {
  /** `version` of deno.json, when it has one. */
  version: string | null;
  /** The git commit checked out, when the kit is a git checkout. */
  commit: string | null;
  /** Whether tracked files differed from that commit. */
  dirty: boolean | null;
}

/** An experiment's result: plain JSON (see `schemas/experiment.json`). */
export interface ExperimentResult<Config = unknown, Summary = unknown> {
  format: typeof RESULT_FORMAT;
  name: string;
  /** The registry's one line on why the experiment exists. */
  why: string;
  preset: Preset;
  /** The full configuration the runs used (preset with overrides applied). */
  config: Config;
  /** Every seed the runs used. */
  seeds: number[];
  runs: RunRecord[];
  /** The headline numbers (experiment-specific). */
  summary: Summary;
  /** Seconds for the whole experiment. */
  wallSeconds: number;
  /** When it finished (ISO 8601, UTC). */
  finished: string;
  machine: MachineInfo;
  kit: KitInfo;
}

/** What an experiment module exports (`src/experiments/NAME.ts`). */
export interface ExperimentModule {
  run(options?: RunOptions): Promise<ExperimentResult>;
  figure(result: ExperimentResult): Figure;
}

/**
 * The machine, as a result records it.
 *
 * @example
 * ```ts
 * import { machineInfo } from "./result.ts";
 * machineInfo("onnxruntime-node 1.30.0 (native CPU, 2 threads)").cores; // → 2
 * ```
 */
export function machineInfo(backend: string): MachineInfo {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model?.trim() || "unknown",
    cores: navigator.hardwareConcurrency ?? cpu.length,
    os: `${Deno.build.os} ${release()}`,
    deno: Deno.version.deno,
    backend,
  };
}

/** Output of a read-only git command in the repository, or null when git or the checkout is missing. */
async function git(args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", { args, cwd: REPO_ROOT, stdout: "piped", stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

/**
 * The kit's version and commit, where known.
 *
 * @example
 * ```ts
 * import { kitInfo } from "./result.ts";
 * (await kitInfo()).commit?.length; // → 40 (in a git checkout)
 * ```
 */
export async function kitInfo(): Promise<KitInfo> {
  const config = await Deno.readTextFile(join(REPO_ROOT, "deno.json")).then((t) => JSON.parse(t), () => ({}));
  const commit = await git(["rev-parse", "HEAD"]);
  const status = commit ? await git(["status", "--porcelain", "--untracked-files=no"]) : null;
  return {
    version: typeof config.version === "string" ? config.version : null,
    commit,
    dirty: status === null ? null : status.length > 0,
  };
}

/** The shipped result file of an experiment. */
export function shippedResultPath(name: string): string {
  return join(RESULTS_DIR, `${name}.json`);
}

/** Where a result goes by default: the shipped file for a full run, a temporary folder for a quick one. */
export function defaultResultPath(name: string, preset: Preset): string {
  return preset === "full" ? shippedResultPath(name) : join(QUICK_DIR, `${name}.quick.json`);
}

/** The figure files of a result written to `resultPath`: docs/figures/NAME.{svg,png} for the shipped one. */
export function figurePaths(name: string, resultPath: string): { svg: string; png: string } {
  const shipped = resolve(resultPath) === resolve(shippedResultPath(name));
  const stem = shipped ? join(FIGURES_DIR, name) : resultPath.replace(/\.json$/, "");
  return { svg: `${stem}.svg`, png: `${stem}.png` };
}

/** Options of {@link writeResult}. */
/**
 * The config of `preset` in an experiment's `presets` (its configs/*.json), with `overrides` replacing whole
 * top-level keys, deep-copied so the caller may check and change it. An unknown preset is an
 * {@link ExperimentError}.
 *
 * @example
 * ```ts
 * import { presetConfig } from "./result.ts";
 * const presets = { full: { steps: 300, seed: 0 }, quick: { steps: 40, seed: 0 } };
 * presetConfig(presets, "quick", { seed: 3 }); // → { steps: 40, seed: 3 }
 * ```
 */
export function presetConfig<Config>(presets: unknown, preset: string, overrides: Partial<Config>): Config {
  const base = (presets as Record<string, Config>)[preset];
  if (!base) {
    throw new ExperimentError(`no preset ${JSON.stringify(preset)}`, { fix: 'use "full" or "quick"' });
  }
  return structuredClone({ ...base, ...overrides });
}

/**
 * The config overrides a `run` applies: `options.overrides`, with `options.seed` (when given) over its seed.
 *
 * @example
 * ```ts
 * import { runOverrides } from "./result.ts";
 * runOverrides({ seed: 7, overrides: { steps: 60, seed: 1 } }); // → { steps: 60, seed: 7 }
 * ```
 */
export function runOverrides<Config>(options: RunOptions<Config>): Partial<Config> {
  return {
    ...options.overrides,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  } as Partial<Config>;
}

/**
 * The fields every result opens with: the format, the experiment's name, its registry line on why, the preset
 * and the config the runs used.
 *
 * @example
 * ```ts
 * import { resultHeader } from "./result.ts";
 * const h = resultHeader("temperature", "quick", { steps: 20 });
 * [h.format, h.name, h.preset, h.config.steps]; // → ["clipkit-experiment/1", "temperature", "quick", 20]
 * ```
 */
export function resultHeader<Config>(
  name: string,
  preset: Preset,
  config: Config,
): Pick<ExperimentResult<Config>, "format" | "name" | "why" | "preset" | "config"> {
  const entry = registry.experiments.find((e) => e.name === name);
  if (!entry) {
    throw new ExperimentError(`no experiment ${JSON.stringify(name)} in registry.json`, {
      fix: "add an entry { name, why, paper } to src/experiments/registry.json",
    });
  }
  return { format: RESULT_FORMAT, name, why: entry.why, preset, config };
}

export interface WriteResultOptions {
  /** The result file (default {@link defaultResultPath}). */
  out?: string;
  /** The figure to save beside it (SVG and PNG). */
  figure?: Figure;
}

/**
 * Validate and write a result (and its figure) atomically. A quick result is never written over the
 * shipped one. Returns the paths written.
 *
 * @example
 * ```ts
 * import { writeResult } from "./result.ts";
 * import { run } from "./temperature.ts";
 * const result = await run({ preset: "quick" });
 * const paths = await writeResult(result, { out: `${await Deno.makeTempDir()}/temperature.json` });
 * paths.result.endsWith("temperature.json"); // → true
 * ```
 */
export async function writeResult(
  result: ExperimentResult,
  options: WriteResultOptions = {},
): Promise<{ result: string; svg?: string; png?: string }> {
  validateResult(result);
  const out = options.out ?? defaultResultPath(result.name, result.preset);
  if (result.preset !== "full" && resolve(out) === resolve(shippedResultPath(result.name))) {
    throw new ExperimentError(`a ${result.preset} result would overwrite the shipped ${out}`, {
      fix: "write it elsewhere (--out FILE), or run the full experiment (without --quick)",
    });
  }
  await Deno.mkdir(dirname(out), { recursive: true });
  await writeAtomic(out, JSON.stringify(result, null, 1) + "\n");
  if (!options.figure) return { result: out };
  return { result: out, ...(await writeFigure(result.name, out, options.figure)) };
}

/**
 * Save a result's figure where {@link figurePaths} puts it (SVG and PNG, atomically); `deno task experiment
 * NAME --redraw` uses it to redraw a result without re-running it.
 *
 * @example
 * ```ts
 * import { readResult, writeFigure } from "./result.ts";
 * import { figure } from "./temperature.ts";
 * const out = `${await Deno.makeTempDir()}/temperature.json`;
 * const paths = await writeFigure("temperature", out, figure(await readResult("temperature")));
 * paths.svg.endsWith("temperature.svg"); // → true
 * ```
 */
export async function writeFigure(
  name: string,
  resultPath: string,
  figure: Figure,
): Promise<{ svg: string; png: string }> {
  const { svg, png } = figurePaths(name, resultPath);
  await Deno.mkdir(dirname(svg), { recursive: true });
  await figure.saveSvg(svg);
  await figure.savePng(png);
  return { svg, png };
}

/**
 * Read a result file and validate it: an experiment's name reads its shipped result.
 *
 * @example
 * ```ts
 * import { readResult } from "./result.ts";
 * const result = await readResult("temperature"); // experiments/results/temperature.json
 * result.runs.map((r) => r.name); // → ["learned", "frozen-14", "frozen-100"]
 * ```
 */
export async function readResult(nameOrPath: string): Promise<ExperimentResult> {
  const path = /[\\/]|\.json$/.test(nameOrPath) ? nameOrPath : shippedResultPath(nameOrPath);
  const json = await readJsonFile(path, "experiment result", {
    fixMissing:
      "run the experiment first: deno task experiment NAME (without --quick writes the shipped result)",
  });
  return validateResult(json, { path });
}

/**
 * The numbers of a result without what legitimately differs between two identical runs (wall times, date,
 * machine, commit): equal seeds on the same backend must give equal `numbers(result)`, bit for bit.
 *
 * @example
 * ```ts
 * import { numbersOf, readResult } from "./result.ts";
 * const shipped = await readResult("temperature");
 * Object.keys(numbersOf(shipped) as object); // → ["config", "seeds", "runs", "summary"]
 * ```
 */
export function numbersOf(result: ExperimentResult): unknown {
  return {
    config: result.config,
    seeds: result.seeds,
    runs: result.runs.map(({ wallSeconds: _, ...run }) => run),
    summary: result.summary,
  };
}
