/**
 * Experiment `prompts-vs-compute`: what prompt engineering and ensembling are worth, in training compute. The
 * CLIP paper (Radford et al. 2021, section 3.1.4, Figure 4) trains five image encoders of growing size and plots
 * their zero-shot accuracy, averaged over 36 datasets, against training GFLOPs twice: with the bare class names
 * as prompts, and with engineered, ensembled prompts. The prompted curve lies almost 5 points higher, about what
 * 4× the compute buys with bare names. Here several sizes of CLIP's architecture (ViT image tower, causal text
 * transformer, learned temperature) are trained on the media world with one recipe and compared the same way.
 *
 * configs/prompts-vs-compute.json (sizes, steps, recipe, suite)
 *   ─► per model: trainWorld (learned BPE, mixed media, alt-text captions; the engine, same seed for all)
 *   ─► evaluateSuite (bare names; greedy templates chosen on validation, scored on test; ensemble) ─► means
 *   ─► training FLOPs counted analytically: 2 × 3 × (batch × (image + text tower MACs) + logit MACs) × steps
 *   ─► bare accuracy against log₁₀ compute, interpolated piecewise-linearly between the models: for each
 *      model, the compute at which bare names would reach its prompted accuracy ÷ its own compute
 *   ─► summary (gains, compute multiples, a least-squares line as a flagged extrapolation) ─► figure
 * @module
 */
import * as Plot from "@observablehq/plot";
import { trainWorld, worldArchitecture, type WorldRecipe } from "../train/world_recipe.ts";
import { imageTowerMacs } from "../train/engine/supervised.ts";
import { type ClipArchitecture, parameterCount, validateArchitecture } from "../model/architecture.ts";
import { ClipModel } from "../model/clip_model.ts";
import { loadRuntime } from "../model/runtime.ts";
import { Progress } from "../model/progress.ts";
import { evaluateSuite, SUITE_MEDIA, SUITE_TASKS, type SuiteMedium, type SuiteTask } from "../data/suite.ts";
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
import { ExperimentError, PlotInputError } from "../errors.ts";
import { plotPanel } from "../plot/dom.ts";
import { compose, type Figure } from "../plot/figure.ts";
import { swatchLegend } from "../plot/legend.ts";
import { FONT_SIZE, INK, MUTED, OKABE_ITO } from "../plot/theme.ts";
import presets from "./configs/prompts-vs-compute.json" with { type: "json" };

/** This experiment's name (its registry entry, result file and figure). */
export const NAME = "prompts-vs-compute";

/** The paper's finding (Figure 4): prompts add almost 5 points, like 4× the compute with bare names. */
export const PAPER_PROMPT_GAIN = { points: 5, computeMultiple: 4 } as const;

/** How the training compute is counted (recorded in every result). */
export const FLOPS_CONVENTION =
  "forward multiply–adds of the matrix products of both towers (patch embedding, attention projections, " +
  "attention scores and their weighted sum over the full context, MLPs, projections) per pair, plus the " +
  "batch × batch logits; × 2 FLOPs per multiply–add; × 3 for forward + backward; × steps. Norms, softmax, " +
  "elementwise ops, the optimizer and the data pipeline are left out.";

/** The recipe every model shares: the world recipe's fields without architecture, steps and validation. */
export type SharedRecipe = Pick<
  WorldRecipe,
  | "batch_size"
  | "lr"
  | "warmup_fraction"
  | "min_lr"
  | "weight_decay"
  | "betas"
  | "media_mix"
  | "bpe"
  | "context_length"
>;

/** One model size. */
export interface ModelSpec {
  /** Short id (the run's name). */
  name: string;
  /** How the figure names it. */
  label: string;
  /** One line on why this size and step count. */
  why?: string;
  /** A preset of `src/model/architectures/` or the architecture itself (vocabulary and context come from the recipe). */
  architecture: string | ClipArchitecture;
  steps: number;
  /** The peak learning rate, when it differs from the recipe's. */
  lr?: number;
}

/** Which of the suite's prompted columns the prompted curve is. */
export type PromptedColumn = "greedy" | "ensemble";

/** The experiment's configuration. */
export interface PromptsVsComputeConfig {
  /** One line on what the preset is for. */
  why?: string;
  /** Seed of the weights, the data order and the BPE's captions (the same for every model). */
  seed: number;
  recipe: SharedRecipe;
  /** At least three sizes, in any order (the summary sorts them by compute). */
  models: ModelSpec[];
  suite: {
    media: SuiteMedium[];
    tasks: SuiteTask[];
    /** Pictures per split (validation and test) for colour, shape, seen and count. */
    examples: number;
    /** Pictures per split of held-out combinations (the unseen task). */
    unseen_examples: number;
    seed: number;
    /** Templates greedy selection picks on validation. */
    greedy_size: number;
  };
  /**
   * `"greedy"`: the templates greedy selection chose on the validation split, scored on test (what a prompt
   * engineer does, and the paper's protocol); `"ensemble"`: the whole template set, no selection.
   */
  prompted: PromptedColumn;
}

/** Forward multiply–adds of one step, by part. */
export interface StepMacs {
  /** One picture through the image tower and its projection. */
  image: number;
  /** One caption (the full context) through the text tower and its projection. */
  text: number;
  /** The batch × batch logits. */
  logits: number;
  /** batch × (image + text) + logits. */
  total: number;
}

/** One dataset's test accuracies (fractions). */
export interface DatasetAccuracy {
  dataset: string;
  bare: number;
  photo: number;
  engineered: number;
  ensemble: number;
  greedy: number;
}

/** A model's point on both curves. */
export interface ComputePoint {
  run: string;
  label: string;
  parameters: number;
  gflops: number;
  /** Suite means (fractions). */
  bare: number;
  prompted: number;
  /** prompted − bare, in percentage points. */
  gainPoints: number;
}

/** Where the bare curve reaches a model's prompted accuracy. */
export interface ComputeMultiple {
  run: string;
  gflops: number;
  prompted: number;
  /**
   * `"within"`: reached between two measured models (interpolated); `"beyond"`: above every measured bare
   * accuracy (the multiple is then a lower bound: more than the largest model's compute ÷ this one's);
   * `"below"`: under the smallest model's bare accuracy (less than the smallest compute ÷ this one's).
   */
  position: "within" | "beyond" | "below";
  /** GFLOPs at which bare names reach the prompted accuracy (null outside the measured range). */
  equivalentGflops: number | null;
  /** equivalentGflops ÷ gflops (null outside the measured range). */
  multiple: number | null;
  /** The bound when outside: (largest or smallest measured GFLOPs) ÷ gflops. */
  bound: number | null;
  /** The same read off the least-squares line (null when its slope is not positive). */
  lineMultiple: number | null;
  /** Whether the line's answer lies outside the measured compute (an extrapolation). */
  lineExtrapolated: boolean;
}

/** The headline numbers. */
export interface PromptsVsComputeSummary {
  flopsConvention: string;
  prompted: PromptedColumn;
  /** How the bare curve is read. */
  fit: string;
  datasets: number;
  /** The models sorted by compute. */
  points: ComputePoint[];
  /** Largest ÷ smallest training compute. */
  computeSpan: number;
  /** Mean over the models of prompted − bare, in points. */
  meanGainPoints: number;
  multiples: ComputeMultiple[];
  /** Median of the interpolated multiples (null when none is within the measured range). */
  medianMultiple: number | null;
  /** Least-squares line of bare accuracy (fraction) against log₁₀ GFLOPs. */
  line: { intercept: number; slopePerDecade: number };
  /** The compute multiple the mean gain is worth on the line: 10^(meanGain / slope); null for slope ≤ 0. */
  lineMultipleOfMeanGain: number | null;
  paper: { points: number; computeMultiple: number };
}

/** The result of {@link run}. */
export type PromptsVsComputeResult = ExperimentResult<PromptsVsComputeConfig, PromptsVsComputeSummary>;

function fail(problem: string, fix: string): never {
  throw new ExperimentError(problem, { fix });
}

/**
 * The config of a preset, with `overrides` applied and checked.
 *
 * @example
 * ```ts
 * import { promptsVsComputeConfig } from "./prompts_vs_compute.ts";
 * promptsVsComputeConfig("full").models.map((m) => m.name); // → ["micro", "world-tiny", "world"]
 * promptsVsComputeConfig("quick", { prompted: "ensemble" }).prompted; // → "ensemble"
 * ```
 */
export function promptsVsComputeConfig(
  preset: Preset = "full",
  overrides: Partial<PromptsVsComputeConfig> = {},
): PromptsVsComputeConfig {
  const config = presetConfig<PromptsVsComputeConfig>(presets, preset, overrides);
  if (!Number.isInteger(config.seed) || config.seed < 0) {
    fail(`seed ${config.seed}`, "pass a whole number ≥ 0");
  }
  if (!Array.isArray(config.models) || config.models.length < 3) {
    fail(
      `${config.models?.length ?? 0} models; a compute curve needs at least 3`,
      "give three or more models { name, label, architecture, steps }",
    );
  }
  const names = config.models.map((m) => m.name);
  if (new Set(names).size !== names.length) fail(`model names repeat: ${names.join(", ")}`, "name each once");
  for (const m of config.models) {
    if (!Number.isInteger(m.steps) || m.steps < 1) fail(`${m.name}: steps ${m.steps}`, "use 1 or more steps");
    if (m.lr !== undefined && !(m.lr > 0)) fail(`${m.name}: lr ${m.lr}`, "use a positive learning rate");
    if (typeof m.architecture !== "string") {
      validateArchitecture({
        ...m.architecture,
        context_length: config.recipe.context_length,
        vocab_size: config.recipe.bpe.vocab_size,
      });
    }
  }
  const r = config.recipe;
  if (!Number.isInteger(r.batch_size) || r.batch_size < 2) {
    fail(`batch_size ${r.batch_size}`, "use 2 or more");
  }
  if (!(r.lr > 0)) fail(`recipe.lr ${r.lr}`, "use a positive learning rate");
  if (!(r.warmup_fraction >= 0 && r.warmup_fraction < 1)) {
    fail(`warmup_fraction ${r.warmup_fraction}`, "use [0, 1)");
  }
  const s = config.suite;
  for (
    const [field, values, known] of [
      ["media", s.media, SUITE_MEDIA],
      ["tasks", s.tasks, SUITE_TASKS],
    ] as const
  ) {
    if (!Array.isArray(values) || values.length === 0) {
      fail(`suite.${field} is empty`, `list some of ${known.join(", ")}`);
    }
    for (const v of values) {
      if (!(known as readonly string[]).includes(v)) {
        fail(`unknown suite ${field} entry ${JSON.stringify(v)}`, `use some of ${known.join(", ")}`);
      }
    }
  }
  for (const f of ["examples", "unseen_examples", "greedy_size"] as const) {
    if (!Number.isInteger(s[f]) || s[f] < 1) fail(`suite.${f} = ${s[f]}`, "use a whole number ≥ 1");
  }
  if (config.prompted !== "greedy" && config.prompted !== "ensemble") {
    fail(`prompted ${JSON.stringify(config.prompted)}`, 'use "greedy" or "ensemble"');
  }
  return config;
}

/** Forward multiply–adds of one caption through a CLIP text tower at the full context `L`, with its projection. */
function textTowerMacs(a: ClipArchitecture, L: number): number {
  const W = a.transformer_width;
  const block = L * W * 3 * W + 2 * L * L * W + L * W * W + 2 * L * W * 4 * W;
  return a.transformer_layers * block + W * a.embed_dim;
}

/**
 * Forward multiply–adds of one contrastive step of `batch` pairs (see {@link FLOPS_CONVENTION}); a training
 * step costs 3 × 2 × `total` FLOPs.
 *
 * @example
 * ```ts
 * import { stepMacs } from "./prompts_vs_compute.ts";
 * import { worldArchitecture } from "../train/world_recipe.ts";
 * const m = stepMacs(await worldArchitecture("world-tiny"), 128);
 * [m.image, m.text, m.logits]; // → [3040256, 3411968, 1048576]
 * ```
 */
export function stepMacs(a: ClipArchitecture, batch: number): StepMacs {
  const image = imageTowerMacs(a),
    text = textTowerMacs(a, a.context_length),
    logits = batch * batch * a.embed_dim;
  return { image, text, logits, total: batch * (image + text) + logits };
}

/** Training FLOPs of `steps` steps of `batch` pairs: 2 × 3 × step MACs × steps. */
export function trainingFlops(a: ClipArchitecture, batch: number, steps: number): number {
  return 6 * stepMacs(a, batch).total * steps;
}

/**
 * The compute at which a curve (accuracy against compute, in increasing compute) first reaches `target`,
 * interpolated linearly in log₁₀ compute between the two measured points around it; a running maximum makes a
 * non-monotone curve's first crossing the answer. `"beyond"` when no point reaches it, `"below"` when the
 * first point already exceeds it.
 *
 * @example
 * ```ts
 * import { equivalentCompute } from "./prompts_vs_compute.ts";
 * const compute = [1, 10, 100], bare = [0.3, 0.4, 0.6];
 * equivalentCompute(compute, bare, 0.35); // → 3.1622776601683773 (halfway from 1 to 10 in log₁₀)
 * equivalentCompute(compute, bare, 0.7); // → "beyond"
 * equivalentCompute(compute, bare, 0.2); // → "below"
 * ```
 */
export function equivalentCompute(
  compute: readonly number[],
  accuracy: readonly number[],
  target: number,
): number | "beyond" | "below" {
  if (compute.length < 2 || compute.length !== accuracy.length) {
    fail(
      `equivalentCompute: ${compute.length} computes, ${accuracy.length} accuracies`,
      "pass two or more points, one accuracy each",
    );
  }
  if (compute.some((c, i) => !(c > 0) || (i > 0 && !(c > compute[i - 1])))) {
    fail("equivalentCompute: compute is not positive and increasing", "sort the points by compute");
  }
  const first = accuracy.findIndex((a) => a >= target);
  if (first < 0) return "beyond";
  if (first === 0) return accuracy[0] === target ? compute[0] : "below";
  const [a0, a1] = [Math.max(...accuracy.slice(0, first)), accuracy[first]];
  const [l0, l1] = [Math.log10(compute[first - 1]), Math.log10(compute[first])];
  return 10 ** (l0 + (l1 - l0) * (target - a0) / (a1 - a0));
}

/**
 * Ordinary least squares of `y` on log₁₀ `x`: `y ≈ intercept + slopePerDecade · log₁₀ x`.
 *
 * @example
 * ```ts
 * import { logLine } from "./prompts_vs_compute.ts";
 * logLine([1, 10, 100], [0.2, 0.3, 0.4]); // → { intercept: 0.19999999999999998, slopePerDecade: 0.1 }
 * ```
 */
export function logLine(
  x: readonly number[],
  y: readonly number[],
): { intercept: number; slopePerDecade: number } {
  if (x.length < 2 || x.length !== y.length) {
    fail(`logLine: ${x.length} x, ${y.length} y`, "pass two or more points");
  }
  const l = x.map((v) => Math.log10(v)), n = l.length;
  const ml = l.reduce((a, b) => a + b, 0) / n, my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (l[i] - ml) * (y[i] - my);
    sxx += (l[i] - ml) ** 2;
  }
  const slopePerDecade = sxx > 0 ? sxy / sxx : 0;
  return { intercept: my - slopePerDecade * ml, slopePerDecade };
}

/**
 * The headline numbers of a set of model points (any order): gains, the compute multiples read off the bare
 * curve (piecewise-linear in log compute), and the same off a least-squares line, flagged when extrapolated.
 *
 * @example
 * ```ts
 * import { summarise } from "./prompts_vs_compute.ts";
 * const p = (run: string, gflops: number, bare: number, prompted: number) =>
 *   ({ run, label: run, parameters: 1, gflops, bare, prompted, gainPoints: 100 * (prompted - bare) });
 * const s = summarise([p("s", 1, 0.3, 0.35), p("m", 10, 0.4, 0.45), p("l", 100, 0.5, 0.56)], "greedy", 30);
 * s.multiples.map((m) => m.position); // → ["within", "within", "beyond"]
 * s.multiples[0].multiple!.toFixed(3); // → "3.162"
 * ```
 */
export function summarise(
  points: ComputePoint[],
  prompted: PromptedColumn,
  datasets: number,
): PromptsVsComputeSummary {
  const sorted = [...points].sort((a, b) => a.gflops - b.gflops);
  const x = sorted.map((p) => p.gflops), bare = sorted.map((p) => p.bare);
  const line = logLine(x, bare);
  const [lo, hi] = [x[0], x.at(-1)!];
  const multiples = sorted.map((p): ComputeMultiple => {
    const e = equivalentCompute(x, bare, p.prompted);
    const lineAt = line.slopePerDecade > 0
      ? 10 ** ((p.prompted - line.intercept) / line.slopePerDecade)
      : null;
    return {
      run: p.run,
      gflops: p.gflops,
      prompted: p.prompted,
      position: typeof e === "number" ? "within" : e,
      equivalentGflops: typeof e === "number" ? e : null,
      multiple: typeof e === "number" ? e / p.gflops : null,
      bound: e === "beyond" ? hi / p.gflops : e === "below" ? lo / p.gflops : null,
      lineMultiple: lineAt !== null && Number.isFinite(lineAt / p.gflops) ? lineAt / p.gflops : null,
      lineExtrapolated: lineAt === null || !(lineAt >= lo && lineAt <= hi),
    };
  });
  const within = multiples.filter((m) => m.multiple !== null).map((m) => m.multiple!).sort((a, b) => a - b);
  const mid = Math.floor(within.length / 2);
  const medianMultiple = within.length === 0
    ? null
    : within.length % 2
    ? within[mid]
    : Math.sqrt(within[mid - 1] * within[mid]);
  const meanGainPoints = sorted.reduce((a, p) => a + p.gainPoints, 0) / sorted.length;
  const lineGain = 10 ** (meanGainPoints / 100 / line.slopePerDecade);
  return {
    flopsConvention: FLOPS_CONVENTION,
    prompted,
    fit:
      "bare accuracy against log10 training GFLOPs, interpolated piecewise-linearly between the measured " +
      "models (first crossing of its running maximum); a least-squares line is reported beside it",
    datasets,
    points: sorted,
    computeSpan: hi / lo,
    meanGainPoints,
    multiples,
    medianMultiple,
    line,
    lineMultipleOfMeanGain: line.slopePerDecade > 0 && Number.isFinite(lineGain) ? lineGain : null,
    paper: { ...PAPER_PROMPT_GAIN },
  };
}

/** The world recipe of one model: the shared recipe, its size and steps, validation off (the suite scores it). */
function recipeOf(config: PromptsVsComputeConfig, m: ModelSpec, architecture: ClipArchitecture): WorldRecipe {
  return {
    ...config.recipe,
    architecture,
    seed: config.seed,
    steps: m.steps,
    lr: m.lr ?? config.recipe.lr,
    colours_per_batch: 0,
    grouped_every: 1,
    validate_every: m.steps,
    validation_size: 0,
  };
}

/** The architecture a model trains: its preset or object, with the recipe's context and vocabulary. */
async function architectureOf(config: PromptsVsComputeConfig, m: ModelSpec): Promise<ClipArchitecture> {
  const base = typeof m.architecture === "string" ? await worldArchitecture(m.architecture) : m.architecture;
  return { ...base, context_length: config.recipe.context_length, vocab_size: config.recipe.bpe.vocab_size };
}

/** Losses of the last steps averaged into a run's `trainLoss`. */
const LOSS_WINDOW = 50;

/**
 * Run the experiment: train every model, score it on the suite, read off what the prompts are worth.
 *
 * @example
 * ```ts
 * import { run } from "./prompts_vs_compute.ts";
 * const result = await run({ preset: "quick", progress: "none" });
 * result.runs.map((r) => r.name); // → ["micro", "world-tiny", "world"]
 * result.summary.computeSpan > 10; // → true
 * ```
 */
export async function run(options: RunOptions<PromptsVsComputeConfig> = {}): Promise<PromptsVsComputeResult> {
  const preset = options.preset ?? "full";
  const config = promptsVsComputeConfig(preset, runOverrides(options));
  const backend = options.backend ?? "node";
  const started = performance.now();
  const totalSteps = config.models.reduce((a, m) => a + m.steps, 0);
  const bar = new Progress(totalSteps, {
    label: `${NAME} (${preset})`,
    unit: "steps",
    output: options.progress ?? "auto",
  });
  const runs: RunRecord[] = [];
  const points: ComputePoint[] = [];
  let datasets = 0;
  try {
    for (const m of config.models) {
      const t0 = performance.now();
      const architecture = await architectureOf(config, m);
      const out = await Deno.makeTempDir({ prefix: `clipkit-${NAME}-${m.name}-` });
      try {
        const losses: number[] = [];
        await trainWorld(recipeOf(config, m, architecture), out, () => {}, {
          backend,
          threads: options.threads,
          fresh: true,
          card: false,
          progress: false,
          onStep: (_, loss) => {
            losses.push(loss);
            bar.tick();
          },
        });
        const model = await ClipModel.load(out, { backend, threads: options.threads });
        const table = await evaluateSuite(model, {
          examples: config.suite.examples,
          unseenExamples: config.suite.unseen_examples,
          seed: config.suite.seed,
          greedySize: config.suite.greedy_size,
          media: config.suite.media,
          tasks: config.suite.tasks,
          progress: false,
        });
        const logitScale = model.logitScale;
        await model.dispose();
        datasets = table.rows.length;
        const macs = stepMacs(architecture, config.recipe.batch_size);
        const gflops = trainingFlops(architecture, config.recipe.batch_size, m.steps) / 1e9;
        const last = losses.slice(-LOSS_WINDOW);
        const checkpoint: CheckpointRecord = {
          step: m.steps,
          examples: m.steps * config.recipe.batch_size,
          gflops,
          trainLoss: last.reduce((a, b) => a + b, 0) / last.length,
          logitScale,
          mean: table.mean,
          datasets: table.rows.map((row): DatasetAccuracy => ({
            dataset: row.dataset,
            bare: row.bare,
            photo: row.photo,
            engineered: row.engineered,
            ensemble: row.ensemble,
            greedy: row.greedy,
          })),
        };
        const parameters = parameterCount(architecture);
        runs.push({
          name: m.name,
          label: m.label,
          seed: config.seed,
          settings: {
            architecture,
            parameters,
            steps: m.steps,
            lr: m.lr ?? config.recipe.lr,
            batch_size: config.recipe.batch_size,
            macs,
            flopsPerStep: 6 * macs.total,
          },
          checkpoints: [checkpoint],
          wallSeconds: (performance.now() - t0) / 1000,
        });
        const prompted = table.mean[config.prompted];
        points.push({
          run: m.name,
          label: m.label,
          parameters,
          gflops,
          bare: table.mean.bare,
          prompted,
          gainPoints: 100 * (prompted - table.mean.bare),
        });
      } finally {
        await Deno.remove(out, { recursive: true }).catch(() => {});
      }
    }
  } finally {
    bar.finish();
  }
  const runtime = await loadRuntime(backend, { threads: options.threads });
  return {
    ...resultHeader(NAME, preset, config),
    seeds: [config.seed],
    runs,
    summary: summarise(points, config.prompted, datasets),
    wallSeconds: (performance.now() - started) / 1000,
    finished: new Date().toISOString(),
    machine: machineInfo(runtime.describe()),
    kit: await kitInfo(),
  };
}

/**
 * A compute multiple as text: `"3.2×"`, or the bound outside the measured range (`"> 8.1× (beyond the
 * measured range)"`); the largest model's bound is 1× and says nothing, so it is left out.
 *
 * @example
 * ```ts
 * import { formatMultiple } from "./prompts_vs_compute.ts";
 * formatMultiple({ position: "within", multiple: 3.21, bound: null }); // → "3.2×"
 * formatMultiple({ position: "beyond", multiple: null, bound: 8.123 }); // → "> 8.1× (beyond the measured range)"
 * formatMultiple({ position: "beyond", multiple: null, bound: 1 }); // → "beyond the measured range"
 * ```
 */
export function formatMultiple(m: Pick<ComputeMultiple, "position" | "multiple" | "bound">): string {
  const x = (v: number) => `${v < 10 ? v.toFixed(1) : v.toFixed(0)}×`;
  if (m.position === "within") return x(m.multiple!);
  const range = `${m.position} the measured range`;
  if (m.bound === null || Math.abs(m.bound - 1) < 0.05) return range;
  return `${m.position === "beyond" ? ">" : "<"} ${x(m.bound)} (${range})`;
}

/**
 * Suite-mean zero-shot accuracy against training GFLOPs (log scale): bare class names and the prompted column,
 * a point per model; each model's gain drawn as a vertical segment labelled in points, and, where the bare
 * curve reaches the prompted accuracy, a dashed segment to that compute labelled with the multiple. The axes
 * follow the data (any number of models, any compute range).
 *
 * @example
 * ```ts
 * import { figure } from "./prompts_vs_compute.ts";
 * import { readResult } from "./result.ts";
 * figure(await readResult("prompts-vs-compute")).title; // → "Prompts vs compute"
 * ```
 */
export function figure(result: ExperimentResult): Figure {
  const r = result as PromptsVsComputeResult;
  const s = r.summary;
  if (!s?.points?.length) {
    throw new PlotInputError("the prompts-vs-compute result has no models to draw", {
      fix: "pass a result of the prompts-vs-compute experiment's run()",
    });
  }
  const pct = (v: number) => 100 * v;
  const bareColour = OKABE_ITO[0], promptColour = OKABE_ITO[3];
  const pts = s.points;
  const xs = pts.map((p) => p.gflops);
  const [xlo, xhi] = [Math.min(...xs), Math.max(...xs)];
  const pad = Math.max(1.5, (xhi / xlo) ** 0.12);
  const ys = pts.flatMap((p) => [pct(p.bare), pct(p.prompted)]);
  const [ylo, yhi] = [Math.min(...ys), Math.max(...ys)];
  const ypad = Math.max(2, (yhi - ylo) * 0.18);
  const bare = pts.map((p) => ({ x: p.gflops, y: pct(p.bare), run: p.run }));
  const prompted = pts.map((p) => ({ x: p.gflops, y: pct(p.prompted) }));
  const multipleOf = new Map(s.multiples.map((m) => [m.run, m]));
  const sign = (g: number) => `${g >= 0 ? "+" : "−"}${Math.abs(g).toFixed(1)} pts`;
  const gaps = pts.map((p) => {
    const m = multipleOf.get(p.run)!;
    const worth = m.position === "within" ? `≈ ${formatMultiple(m)} compute` : formatMultiple(m);
    return {
      x: p.gflops,
      y: pct(p.bare),
      y1: pct(p.bare),
      y2: pct(p.prompted),
      text: `${p.run}\n${sign(p.gainPoints)}\n${worth}`,
    };
  });
  const reached = s.multiples.filter((m) => m.equivalentGflops !== null);
  const matches = reached.flatMap((m, k) => [
    { x: m.gflops, y: pct(m.prompted), k },
    { x: m.equivalentGflops!, y: pct(m.prompted), k },
  ]);
  const marks: Plot.Markish[] = [
    Plot.ruleX(gaps, { x: "x", y1: "y1", y2: "y2", stroke: MUTED, strokeWidth: 1.5 }),
    Plot.line(matches, { x: "x", y: "y", z: "k", stroke: INK, strokeDasharray: "3,3" }),
    Plot.dot(reached, {
      x: "equivalentGflops",
      y: (m: ComputeMultiple) => pct(m.prompted),
      stroke: INK,
      fill: "white",
      r: 4,
    }),
    Plot.line(bare, { x: "x", y: "y", stroke: bareColour, strokeWidth: 2.5 }),
    Plot.dot(bare, { x: "x", y: "y", fill: bareColour, r: 4.5 }),
    Plot.line(prompted, { x: "x", y: "y", stroke: promptColour, strokeWidth: 2.5 }),
    Plot.dot(prompted, { x: "x", y: "y", fill: promptColour, r: 4.5 }),
    Plot.text(gaps, {
      x: "x",
      y: "y",
      text: "text",
      dx: 5,
      dy: 9,
      lineAnchor: "top",
      textAnchor: "start",
      fontSize: FONT_SIZE - 2,
      fill: INK,
      stroke: "white", // a halo, so the label reads where it crosses a line
      strokeWidth: 3,
    }),
  ];
  const chart = plotPanel({
    width: 760,
    height: 440,
    marginLeft: 56,
    marginRight: 190,
    marginTop: 24,
    marginBottom: 46,
    x: {
      type: "log",
      domain: [xlo / pad, xhi * pad],
      label: "training compute (GFLOPs, log scale)",
      labelAnchor: "center",
      labelArrow: "none",
      grid: true,
    },
    y: {
      domain: [Math.max(0, ylo - ypad * 2.6), Math.min(100, yhi + ypad)],
      label: `zero-shot top-1, mean of ${s.datasets} datasets (%)`,
      labelArrow: "none",
      grid: true,
    },
    marks,
  });
  const c = r.config;
  const column = s.prompted === "greedy"
    ? `${c.suite.greedy_size} templates picked greedily on validation`
    : "ensemble of each template set";
  const median = s.medianMultiple === null
    ? "none within the measured range"
    : `a median ${formatMultiple({ position: "within", multiple: s.medianMultiple, bound: null })}`;
  return compose({
    title: "Prompts vs compute",
    subtitle:
      `${r.preset} run · ${pts.length} model sizes × ${c.recipe.batch_size} pairs a step · compute span ${
        s.computeSpan.toFixed(0)
      }× · ${s.datasets} suite datasets, ${c.suite.examples} test pictures a medium`,
    rows: [
      [swatchLegend([
        { label: "bare class names", color: bareColour, shape: "line" },
        { label: `prompts: ${column}`, color: promptColour, shape: "line" },
        { label: "where bare names reach it", color: INK, shape: "dash" },
      ])],
      [chart],
    ],
    note:
      `Prompts add ${
        s.meanGainPoints.toFixed(1)
      } points on average (paper: ≈ ${PAPER_PROMPT_GAIN.points}), ` +
      `worth ${median} compute with bare names (paper: ≈ ${PAPER_PROMPT_GAIN.computeMultiple}×).`,
  });
}
