/**
 * Experiments as code: the CLIP paper's findings in miniature, each a module `NAME.ts` with
 * `run(options) → result` (plain JSON, validated against `schemas/`) and `figure(result)`, listed with a
 * line on why in `registry.json`. `deno task experiment NAME [--quick]` runs one and writes its result
 * (`experiments/results/NAME.json`) and figure (`docs/figures/NAME.svg`, `.png`).
 *
 * @example
 * ```ts
 * import { EXPERIMENTS, experiment, readResult } from "./mod.ts";
 * EXPERIMENTS.map((e) => e.name).slice(0, 3); // → ["temperature", "zero-shot-vs-probe", "robustness"]
 * const shipped = await readResult("temperature");
 * experiment("temperature").figure(shipped).title; // → "Learned vs frozen temperature"
 * ```
 * @module
 */
export { experiment, type ExperimentInfo, experimentModules, EXPERIMENTS } from "./registry.ts";
export {
  type CheckpointRecord,
  defaultResultPath,
  type ExperimentModule,
  type ExperimentResult,
  figurePaths,
  FIGURES_DIR,
  type KitInfo,
  kitInfo,
  type MachineInfo,
  machineInfo,
  numbersOf,
  type Preset,
  QUICK_DIR,
  readResult,
  RESULT_FORMAT,
  RESULTS_DIR,
  type RunOptions,
  type RunRecord,
  shippedResultPath,
  writeResult,
  type WriteResultOptions,
} from "./result.ts";
export {
  EXPERIMENT_SCHEMAS,
  type ExperimentSchema,
  type JsonType,
  RESULT_SCHEMA,
  type Schema,
  validateAgainst,
  validateResult,
} from "./schema.ts";
export { type CurveMetric, runCurves, type RunCurvesOptions } from "./figure.ts";
export {
  type ContrastiveCheckpoint,
  contrastiveRun,
  type ContrastiveRunOptions,
  type ContrastiveRunResult,
  type ContrastiveSchedule,
  type LogitScaleSetting,
  SHAPES_TOKENIZER,
  type ZeroShotScores,
} from "./contrastive.ts";
export {
  figure as temperatureFigure,
  type FinalNumbers,
  run as runTemperature,
  type TemperatureConfig,
  temperatureConfig,
  type TemperatureResult,
  type TemperatureSummary,
  type TemperatureVariant,
} from "./temperature.ts";
export {
  type DatasetComparison,
  figure as zeroShotVsProbeFigure,
  run as runZeroShotVsProbe,
  type ZeroShotVsProbeConfig,
  zeroShotVsProbeConfig,
  type ZeroShotVsProbeResult,
  type ZeroShotVsProbeSummary,
} from "./zero_shot_vs_probe.ts";
export {
  figure as robustnessFigure,
  type ModelAccuracies,
  type RobustnessConfig,
  robustnessConfig,
  type RobustnessResult,
  type RobustnessSummary,
  run as runRobustness,
  type ShiftGroup,
} from "./robustness.ts";
export {
  type CurvePoint,
  type DatasetSummary,
  type FewShotConfig,
  fewShotConfig,
  type FewShotResult,
  type FewShotSummary,
  figure as fewShotFigure,
  formatShots,
  type GroupAverage,
  matchingShots,
  medianShots,
  PAPER_SHOTS_EQUAL,
  run as runFewShot,
  type ShotsEqual,
  shotsPosition,
} from "./few_shot.ts";
export {
  type ClipRecord,
  computeOf,
  type ComputeRecord,
  DEFAULT_SOURCE,
  readClipRecord,
  sourceBatch,
  type SupervisedCheckpoint,
  type SupervisedSchedule,
  type SupervisedTraining,
  trainSupervised,
} from "./supervised_baseline.ts";
export {
  type ComputeMultiple,
  type ComputePoint,
  type DatasetAccuracy,
  equivalentCompute,
  figure as promptsVsComputeFigure,
  FLOPS_CONVENTION,
  formatMultiple,
  logLine,
  type ModelSpec,
  PAPER_PROMPT_GAIN,
  type PromptedColumn,
  type PromptsVsComputeConfig,
  promptsVsComputeConfig,
  type PromptsVsComputeResult,
  type PromptsVsComputeSummary,
  run as runPromptsVsCompute,
  type SharedRecipe,
  type StepMacs,
  stepMacs,
  summarise as summarisePromptsVsCompute,
  trainingFlops,
} from "./prompts_vs_compute.ts";
export {
  checkpointSteps,
  figure as objectivesFigure,
  imagesToReach,
  objectiveMacs,
  type ObjectivesCheckpoint,
  type ObjectivesConfig,
  objectivesConfig,
  type ObjectiveSpec,
  type ObjectivesResult,
  type ObjectivesSummary,
  type ObjectiveSummary,
  PAPER_RATIOS,
  run as runObjectives,
  type SpeedRatio,
  speedRatios,
} from "./objectives.ts";
