/**
 * The experiments, as data: `registry.json` names each one with a line on why it exists and where the paper
 * reports it; this file joins each entry to its module (`NAME.ts`, exporting `run` and `figure`).
 *
 * registry.json (name, why, paper) ─► experiment(name) ─► { run(options), figure(result) }
 * @module
 */
import registry from "./registry.json" with { type: "json" };
import type { ExperimentModule } from "./result.ts";
import { ExperimentError } from "../errors.ts";
import * as temperature from "./temperature.ts";
import * as zeroShotVsProbe from "./zero_shot_vs_probe.ts";
import * as robustness from "./robustness.ts";
import * as fewShot from "./few_shot.ts";
import * as promptsVsCompute from "./prompts_vs_compute.ts";
import * as objectives from "./objectives.ts";

/** One registry entry. */
export interface ExperimentInfo {
  /** The module's file name, the result's file name and the CLI's argument. */
  name: string;
  /** One line: what question the experiment answers. */
  why: string;
  /** Where the paper reports the finding. */
  paper: string;
}

/** Every experiment, in registry order. */
export const EXPERIMENTS: readonly ExperimentInfo[] = registry.experiments;

/** The modules, by name. */
const MODULES: Record<string, ExperimentModule> = {
  temperature: temperature as unknown as ExperimentModule,
  "zero-shot-vs-probe": zeroShotVsProbe as unknown as ExperimentModule,
  robustness: robustness as unknown as ExperimentModule,
  "few-shot": fewShot as unknown as ExperimentModule,
  "prompts-vs-compute": promptsVsCompute as unknown as ExperimentModule,
  objectives: objectives as unknown as ExperimentModule,
};

/**
 * An experiment's registry entry and module; throws {@link ExperimentError} for an unknown name.
 *
 * @example
 * ```ts
 * import { experiment } from "./registry.ts";
 * const e = experiment("temperature");
 * typeof e.run; // → "function"
 * e.why.startsWith("CLIP learns the temperature"); // → true
 * ```
 */
export function experiment(name: string): ExperimentInfo & ExperimentModule {
  const info = EXPERIMENTS.find((e) => e.name === name);
  const module = MODULES[name];
  if (!info || !module) {
    throw new ExperimentError(`no experiment ${JSON.stringify(name)}`, {
      fix: `use one of ${EXPERIMENTS.map((e) => e.name).join(", ")}`,
    });
  }
  return { ...info, run: module.run, figure: module.figure };
}

/** Names of the modules joined to the registry (equal to the registry's names; a test checks it). */
export function experimentModules(): string[] {
  return Object.keys(MODULES);
}
