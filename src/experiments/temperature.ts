/**
 * Experiment `temperature`: CLIP learns the temperature of its softmax. The paper (Radford et al.
 * 2021, sections 2.3 and 2.5) initialises the learned multiplier exp(t) at 1/0.07 and clips it so that
 * logits are never scaled by more than 100. Here the same contrastive run on the shapes world is trained
 * three ways — the scale learned from 1/0.07, frozen at 1/0.07, frozen at 100 — and compared on loss and
 * zero-shot accuracy; the summary says where the learned scale ends.
 *
 * configs/temperature.json (preset + overrides) ─► one contrastiveRun per variant (same seed: same initial
 * weights, same batches) ─► checkpoints ─► summary (learned scale's path, final accuracies) ─► figure
 * @module
 */
import {
  checkLogitScale,
  checkSchedule,
  contrastiveRun,
  type ContrastiveSchedule,
  type ZeroShotScores,
} from "./contrastive.ts";
import {
  type CheckpointRecord,
  type ExperimentResult,
  kitInfo,
  machineInfo,
  type Preset,
  presetConfig,
  resultHeader,
  type RunOptions,
  runOverrides,
  type RunRecord,
} from "./result.ts";
import { runCurves } from "./figure.ts";
import { Progress } from "../model/progress.ts";
import type { Figure } from "../plot/figure.ts";
import { templates as templateSets } from "../zeroshot/templates.ts";
import { ExperimentError } from "../errors.ts";
import { MAX_LOGIT_SCALE } from "../constants.ts";
import presets from "./configs/temperature.json" with { type: "json" };

/** This experiment's name (its registry entry, result file and figure). */
export const NAME = "temperature";

/** One way of treating the logit scale. */
export interface TemperatureVariant {
  /** Short id (`"learned"`, `"frozen-100"`). */
  name: string;
  /** How the figure's legend names it. */
  label: string;
  /** exp(t) at step 0. */
  logit_scale: number;
  /** Whether the optimiser trains t. */
  learned: boolean;
}

/** The experiment's configuration: a training schedule, the prompts, and the variants compared. */
export interface TemperatureConfig extends ContrastiveSchedule {
  /** One line on what the preset is for. */
  why?: string;
  seed: number;
  /** Name of a template set in `src/zeroshot/templates/` for the zero-shot heads. */
  templates: string;
  variants: TemperatureVariant[];
}

/** A run's numbers at its last checkpoint. */
export interface FinalNumbers extends ZeroShotScores {
  run: string;
  valLoss: number;
  logitScale: number;
}

/** The headline numbers. */
export interface TemperatureSummary {
  /** The clamp on the learned scale (openai/CLIP: 100). */
  clamp: number;
  /** The path of the first learned variant's scale (null without one). */
  learned: {
    run: string;
    start: number;
    end: number;
    max: number;
    /** Whether it came within 0.01 of the clamp. */
    reachedClamp: boolean;
    /** The first checkpoint where it did. */
    firstStepAtClamp: number | null;
  } | null;
  /** Each run at its last checkpoint. */
  final: FinalNumbers[];
  /** The run with the best final 80-way colour+shape accuracy. */
  bestCombo: string;
}

/** The result of {@link run}. */
export type TemperatureResult = ExperimentResult<TemperatureConfig, TemperatureSummary>;

/**
 * The config of a preset, with `overrides` applied and checked.
 *
 * @example
 * ```ts
 * import { temperatureConfig } from "./temperature.ts";
 * temperatureConfig("quick", { steps: 30 }).steps; // → 30
 * temperatureConfig("full").variants.map((v) => v.name); // → ["learned", "frozen-14", "frozen-100"]
 * ```
 */
export function temperatureConfig(
  preset: Preset = "full",
  overrides: Partial<TemperatureConfig> = {},
): TemperatureConfig {
  const config = presetConfig<TemperatureConfig>(presets, preset, overrides);
  if (!templateSets[config.templates]) {
    throw new ExperimentError(`no template set ${JSON.stringify(config.templates)}`, {
      fix: `use one of ${Object.keys(templateSets).join(", ")}`,
    });
  }
  if (!Array.isArray(config.variants) || config.variants.length === 0) {
    throw new ExperimentError("no variants to compare", {
      fix: "give at least one variant { name, label, logit_scale, learned }",
    });
  }
  const names = config.variants.map((v) => v.name);
  if (new Set(names).size !== names.length) {
    throw new ExperimentError(`variant names repeat: ${names.join(", ")}`, {
      fix: "give every variant its own name",
    });
  }
  if (!Number.isInteger(config.seed) || config.seed < 0) {
    throw new ExperimentError(`seed ${config.seed} is not a whole number ≥ 0`, { fix: "pass e.g. seed 0" });
  }
  checkSchedule(config);
  for (const v of config.variants) checkLogitScale(v);
  return config;
}

/** The first checkpoint within this much of the clamp counts as having reached it. */
const AT_CLAMP = 0.01;

function summarise(runs: RunRecord[], config: TemperatureConfig): TemperatureSummary {
  const final: FinalNumbers[] = runs.map((r) => {
    const c = r.checkpoints.at(-1) as CheckpointRecord & {
      valLoss: number;
      logitScale: number;
      zeroShot: ZeroShotScores;
    };
    return { run: r.name, valLoss: c.valLoss, logitScale: c.logitScale, ...c.zeroShot };
  });
  const at = config.variants.findIndex((v) => v.learned);
  let learned: TemperatureSummary["learned"] = null;
  if (at >= 0) {
    const scales = runs[at].checkpoints.map((c) => c.logitScale as number);
    const hit = runs[at].checkpoints.find((c) => (c.logitScale as number) >= MAX_LOGIT_SCALE - AT_CLAMP);
    learned = {
      run: runs[at].name,
      start: scales[0],
      end: scales.at(-1)!,
      max: Math.max(...scales),
      reachedClamp: hit !== undefined,
      firstStepAtClamp: hit?.step ?? null,
    };
  }
  const best = final.reduce((a, b) => (b.combo > a.combo ? b : a));
  return { clamp: MAX_LOGIT_SCALE, learned, final, bestCombo: best.run };
}

/**
 * Run the experiment: one contrastive run per variant, the same seed for all.
 *
 * @example
 * ```ts
 * import { run } from "./temperature.ts";
 * const result = await run({ preset: "quick", overrides: { steps: 20 } });
 * result.runs.map((r) => r.checkpoints.at(-1)!.step); // → [20, 20, 20]
 * result.summary.final.map((f) => f.run); // → ["learned", "frozen-14", "frozen-100"]
 * ```
 */
export async function run(options: RunOptions<TemperatureConfig> = {}): Promise<TemperatureResult> {
  const preset = options.preset ?? "full";
  const config = temperatureConfig(preset, runOverrides(options));
  const started = performance.now();
  const bar = new Progress(config.steps * config.variants.length, {
    label: `${NAME} (${preset})`,
    unit: "steps",
    output: options.progress ?? "auto",
  });
  const runs: RunRecord[] = [];
  let backend = "";
  try {
    for (const v of config.variants) {
      const r = await contrastiveRun({
        schedule: config,
        logitScale: { logit_scale: v.logit_scale, learned: v.learned },
        seed: config.seed,
        templates: templateSets[config.templates],
        backend: options.backend ?? "node",
        threads: options.threads,
        progress: bar,
      });
      backend = r.backend;
      runs.push({
        name: v.name,
        label: v.label,
        seed: config.seed,
        settings: { logit_scale: v.logit_scale, learned: v.learned },
        checkpoints: r.checkpoints as unknown as CheckpointRecord[],
        wallSeconds: r.wallSeconds,
      });
    }
  } finally {
    bar.finish();
  }
  return {
    ...resultHeader(NAME, preset, config),
    seeds: [config.seed],
    runs,
    summary: summarise(runs, config),
    wallSeconds: (performance.now() - started) / 1000,
    finished: new Date().toISOString(),
    machine: machineInfo(backend),
    kit: await kitInfo(),
  };
}

/** Ticks of the figure's log axes. */
const LOSS_TICKS = [1, 1.5, 2, 3, 5, 10, 20];
const SCALE_TICKS = [10, 14.3, 20, 30, 50, 100];

/**
 * Loss, zero-shot accuracy and logit scale against the step, one line per variant.
 *
 * @example
 * ```ts
 * import { figure } from "./temperature.ts";
 * import { readResult } from "./result.ts";
 * String(figure(await readResult("temperature"))); // → 'Figure "Learned vs frozen temperature" (896×644 SVG)'
 * ```
 */
export function figure(result: ExperimentResult): Figure {
  const c = result.config as unknown as TemperatureConfig;
  const zs = (k: keyof ZeroShotScores) => (p: CheckpointRecord) =>
    (p.zeroShot as ZeroShotScores | undefined)?.[k];
  const learned = (result.summary as unknown as TemperatureSummary).learned;
  return runCurves(result, [
    {
      label: "validation loss (nats, log scale)",
      value: (p) => p.valLoss as number,
      scale: "log",
      ticks: LOSS_TICKS,
    },
    {
      label: "logit scale exp(t) (log scale)",
      value: (p) => p.logitScale as number,
      rules: [MAX_LOGIT_SCALE],
      scale: "log",
      ticks: SCALE_TICKS,
    },
    { label: "zero-shot colour+shape, 80-way (%)", value: zs("combo"), percent: true },
    { label: "zero-shot shape, 8-way (%)", value: zs("shape"), percent: true },
  ], {
    title: "Learned vs frozen temperature",
    subtitle:
      `${result.preset} run: ${c.steps} steps × ${c.batch_size} pairs, seed ${result.seeds.join(", ")}; ` +
      `zero-shot on ${c.validation_size} validation pictures`,
    note: learned
      ? `The learned scale went from ${learned.start.toFixed(1)} to ${learned.end.toFixed(1)} ` +
        `(clamp ${MAX_LOGIT_SCALE}, dashed${
          learned.reachedClamp ? `; reached at step ${learned.firstStepAtClamp}` : ", not reached"
        }).`
      : undefined,
  });
}
