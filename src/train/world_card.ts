/**
 * The model card of a CLIP trained on the media world (`world_recipe.ts`): every number in it is read from the
 * run's record or measured on the model folder itself.
 *
 *   training.json (trainWorld's record; or, for an older run, curve.json) ─┐
 *   model folder ─► ClipModel ─► evaluateSuite on test (600 + 200 unseen pictures, seed 0, greedy 7) ─► eval.json
 *                                                                          └─► worldModelCard ─► MODEL_CARD.md
 *
 * The card says what the model is, the data, the architecture, the recipe and the command that reproduces it,
 * the time it took on which machine, the validation curve, the whole suite table, the gain of prompts over bare
 * class names next to the CLIP paper's, and the goals of `configs/world_goals.json`, each met or missed.
 *
 * ```sh
 * deno run -A src/train/world_card.ts --model models/tiny-clip [--notes notes.md]   (inference only, no training)
 * ```
 * @module
 */
import { basename, dirname, join, relative, resolve } from "node:path";
import { cpus, release } from "node:os";
import { fileURLToPath } from "node:url";
import { readJsonFile, writeAtomic } from "../fs.ts";
import { ClipModel } from "../model/clip_model.ts";
import type { BackendChoice } from "../model/runtime.ts";
import { type ClipArchitecture, parameterCount } from "../model/architecture.ts";
import { evaluateSuite, PHOTO_TEMPLATE, type SuiteTable } from "../data/suite.ts";
import { COLOURS, HELD_OUT, SHAPES } from "../data/shapes.ts";
import { MEDIA, WORLD_IMAGE_SIZE } from "../data/world.ts";
import { type CommandSpec, helpText, parseCommandLine, runCommand } from "../cli/args.ts";
import { UsageError } from "../errors.ts";
import type { CurvePoint, WorldRecipe } from "./world_recipe.ts";
import { recipeDifferences, worldPresets } from "./world_recipe.ts";
import goals from "./configs/world_goals.json" with { type: "json" };

/** What `trainWorld` writes as `training.json`. */
export interface WorldTrainingRecord {
  /** The command line that reproduces the run. */
  command: string;
  recipe: WorldRecipe;
  /** The architecture trained (the recipe's preset with its context length and the learned vocabulary size). */
  architecture: ClipArchitecture;
  parameters: number;
  steps: number;
  /** Image–caption pairs the model was trained on (steps × batch size). */
  images_seen: number;
  /** Training wall-clock and CPU seconds, validation excluded. */
  wall_s: number;
  cpu_s: number;
  /** Seconds spent exporting and validating at the checkpoints. */
  validation_wall_s?: number;
  validation_cpu_s?: number;
  /** The final logit scale (exp of the learned temperature). */
  logit_scale?: number;
  /** CPU, cores, OS, Deno and the engine's runtime of the run. */
  machine: string;
  /** When the record was written (ISO 8601, UTC). */
  finished?: string;
  curve: CurvePoint[];
}

/** What `trainWorld` hands {@link writeWorldRecord}. */
export interface WorldRunSummary {
  recipe: WorldRecipe;
  architecture: ClipArchitecture;
  curve: CurvePoint[];
  wall_s: number;
  cpu_s: number;
  validation_wall_s: number;
  validation_cpu_s: number;
  logit_scale: number;
  /** The engine's runtime, as `Runtime.describe()` says it. */
  runtime: string;
  command?: string;
}

/** One row of the goals table. */
export interface GoalResult {
  goal: string;
  /** The target, in percent (accuracies) or points (the prompt gain). */
  target: number;
  /** The measured value in the same unit; NaN when the table lacks the dataset. */
  measured: number;
  met: boolean;
  /** Points below the target when missed (0 when met). */
  short: number;
  unit: "%" | "points";
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const DATA_CARD = join(REPO_ROOT, "src/data/DATA_CARD.md");

/**
 * One line naming the machine: CPU model, logical cores, OS, Deno and (when given) the engine's runtime.
 *
 * @example
 * ```ts
 * import { machineLine } from "./world_card.ts";
 * machineLine("onnxruntime-node 1.30.0 (native CPU, 2 threads)").includes("cores"); // → true
 * ```
 */
export function machineLine(runtime?: string): string {
  const cpu = cpus()[0]?.model?.trim() || "unknown CPU";
  const cores = navigator.hardwareConcurrency ?? cpus().length;
  return [cpu, `${cores} cores`, `${Deno.build.os} ${release()}`, `Deno ${Deno.version.deno}`, runtime]
    .filter(Boolean).join(" · ");
}

/**
 * The command line that reproduces `recipe` into `out`: `deno task train-world --preset NAME` when a preset of
 * `configs/world.json` equals it (or does but for `steps`), else a `trainWorld` call with the recipe as JSON.
 *
 * @example
 * ```ts
 * import { reproduceCommand } from "./world_card.ts";
 * import { worldPresets } from "./world_recipe.ts";
 * reproduceCommand({ ...worldPresets().ship, steps: 500 }, "/tmp/m");
 * // → "deno task train-world --preset ship --out /tmp/m --steps 500"
 * ```
 */
export function reproduceCommand(recipe: WorldRecipe, out: string): string {
  const preset = presetOf(recipe);
  if (preset) {
    return `deno task train-world --preset ${preset.name} --out ${out}${
      preset.steps === undefined ? "" : ` --steps ${preset.steps}`
    }`;
  }
  const { why: _, ...fields } = recipe;
  return `trainWorld(${JSON.stringify(fields)}, ${JSON.stringify(out)}) (src/train/world_recipe.ts)`;
}

/** The preset of `configs/world.json` equal to `recipe` (`steps` set when only the step count differs). */
function presetOf(recipe: WorldRecipe): { name: string; why?: string; steps?: number } | undefined {
  const all = Object.entries(worldPresets());
  const same = all.find(([, p]) => recipeDifferences(p, recipe).length === 0);
  if (same) return { name: same[0], why: same[1].why };
  const bySteps = all.find(([, p]) => recipeDifferences({ ...p, steps: recipe.steps }, recipe).length === 0);
  return bySteps ? { name: bySteps[0], why: bySteps[1].why, steps: recipe.steps } : undefined;
}

/**
 * Write `training.json` of a finished run into `out`; returns the record.
 *
 * @example
 * ```ts ignore
 * import { writeWorldRecord } from "./world_card.ts";
 * const record = await writeWorldRecord("/tmp/m", summary); // what trainWorld calls at the end of a run
 * ```
 */
export async function writeWorldRecord(out: string, run: WorldRunSummary): Promise<WorldTrainingRecord> {
  const steps = run.curve.at(-1)?.step ?? 0;
  const record: WorldTrainingRecord = {
    command: run.command ?? reproduceCommand(run.recipe, out),
    recipe: run.recipe,
    architecture: run.architecture,
    parameters: parameterCount(run.architecture),
    steps,
    images_seen: steps * run.recipe.batch_size,
    wall_s: +run.wall_s.toFixed(1),
    cpu_s: +run.cpu_s.toFixed(1),
    validation_wall_s: +run.validation_wall_s.toFixed(1),
    validation_cpu_s: +run.validation_cpu_s.toFixed(1),
    logit_scale: +run.logit_scale.toFixed(4),
    machine: machineLine(run.runtime),
    finished: new Date().toISOString(),
    curve: run.curve,
  };
  await writeAtomic(join(out, "training.json"), JSON.stringify(record, null, 1) + "\n");
  return record;
}

/**
 * The run's record from a model folder: its `training.json`, or one built from `curve.json` (what runs before
 * `training.json` existed wrote: recipe, architecture and curve; the clocks are the last point's, the machine is
 * `machine` or this one, marked as such).
 *
 * @example
 * ```ts ignore
 * import { readWorldRecord } from "./world_card.ts";
 * const record = await readWorldRecord("models/tiny-clip");
 * record.images_seen; // → 1152000 (9000 steps × 128)
 * ```
 */
export async function readWorldRecord(dir: string, machine?: string): Promise<WorldTrainingRecord> {
  const fixMissing = "train the model with `deno task train-world --preset NAME --out DIR` (it writes both)";
  try {
    const record = await readJsonFile(join(dir, "training.json"), "training record", {
      fixMissing,
    }) as WorldTrainingRecord;
    return machine ? { ...record, machine } : record;
  } catch (error) {
    if ((error as Error).name !== "MissingFileError") throw error;
  }
  const { recipe, architecture, curve } = await readJsonFile(join(dir, "curve.json"), "training curve", {
    fixMissing,
  }) as { recipe: WorldRecipe; architecture: ClipArchitecture; curve: CurvePoint[] };
  const last = curve.at(-1);
  return {
    command: reproduceCommand(recipe, dir),
    recipe,
    architecture,
    parameters: parameterCount(architecture),
    steps: last?.step ?? 0,
    images_seen: (last?.step ?? 0) * recipe.batch_size,
    wall_s: last?.wall_s ?? 0,
    cpu_s: last?.cpu_s ?? 0,
    machine: machine ??
      `${machineLine()} (where this card was written; the run's curve.json names no machine)`,
    curve,
  };
}

/**
 * The goals of `configs/world_goals.json` on a suite table: each accuracy goal on its dataset's `score` column
 * (greedy selection), and the prompt gain (mean of that column − mean bare name, in points).
 *
 * @example
 * ```ts
 * import { worldGoals } from "./world_card.ts";
 * const row = (dataset: string, greedy: number) => ({ dataset, bare: 0.5, greedy });
 * const table = { rows: [row("icon-colour", 1), row("icon-shape", 0.9)], mean: { bare: 0.5, greedy: 0.95 } };
 * worldGoals(table as never).slice(0, 2).map((g) => [g.met, g.short]); // → [[true, 0], [false, 7]]
 * ```
 */
export function worldGoals(table: SuiteTable): GoalResult[] {
  const score = goals.score as keyof SuiteTable["mean"]; // the column both kinds of goal read
  const rows: GoalResult[] = goals.accuracy.map((g) => {
    const row = table.rows.find((r) => r.dataset === g.dataset);
    const measured = row ? +(row[score] * 100).toFixed(1) : NaN, target = g.at_least * 100;
    const met = measured >= target;
    return {
      goal: g.goal,
      target,
      measured,
      met,
      short: met ? 0 : +(target - measured).toFixed(1),
      unit: "%",
    };
  });
  const gain = +((table.mean[score] - table.mean.bare) * 100).toFixed(1);
  const target = goals.prompt_gain.at_least_points, met = gain >= target;
  rows.push({
    goal: goals.prompt_gain.goal,
    target,
    measured: gain,
    met,
    short: met ? 0 : +(target - gain).toFixed(1),
    unit: "points",
  });
  return rows;
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "—");
const points = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(100 * x).toFixed(1)}`;
const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
const cell = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v)).replaceAll("|", "\\|");

/** Options of {@link worldModelCard}. */
export interface WorldCardOptions {
  /** The model's name in the title (default: the recipe's architecture). */
  name?: string;
  /** The final logit scale, when the record lacks it (the model's `logitScale`). */
  logitScale?: number;
  /** Where the data card is, as the card links it (default `src/data/DATA_CARD.md`). */
  dataCard?: string;
}

/**
 * The card as Markdown; `notes` (a paragraph written by a person on what limits the model) becomes its
 * "What limits it" section.
 *
 * @example
 * ```ts
 * import { worldModelCard } from "./world_card.ts";
 * import { worldPresets } from "./world_recipe.ts";
 * import { loadArchitecture } from "../model/architecture.ts";
 * const architecture = { ...loadArchitecture("tiny"), image_resolution: 40, context_length: 32 };
 * const record = {
 *   command: "deno task train-world --preset ship --out models/tiny-clip", recipe: worldPresets().ship, architecture,
 *   parameters: 290_000, steps: 9000, images_seen: 1_152_000, wall_s: 3600, cpu_s: 7000, machine: "2 cores",
 *   curve: [{ step: 9000, wall_s: 3600, cpu_s: 7000, lr: 0, loss: 0.5 }],
 * };
 * const row = { dataset: "icon-shape", classes: 8, chance: 0.125, bare: 0.5, photo: 0.6, engineered: 0.7,
 *   ensemble: 0.8, greedy: 0.9 };
 * const table = { model: "tiny-clip", protocol: { seed: 0, examples: 600, unseenExamples: 200, greedySize: 7 },
 *   rows: [row], mean: row };
 * const card = worldModelCard(record, table as never, "Shape is the hard part.", { name: "tiny-clip" });
 * card.split("\n")[0]; // → "# tiny-clip — a CLIP trained from scratch on the media world"
 * ```
 */
export function worldModelCard(
  record: WorldTrainingRecord,
  table: SuiteTable,
  notes = "",
  options: WorldCardOptions = {},
): string {
  const a = record.architecture, r = record.recipe;
  const name = options.name ?? (typeof r.architecture === "string" ? r.architecture : "world CLIP");
  const logitScale = record.logit_scale ?? options.logitScale;
  const dataCard = options.dataCard ?? "src/data/DATA_CARD.md";
  const media = MEDIA.join(", ");
  const held = HELD_OUT.map(([c, s]) => `${c} ${s}`).join(", ");
  const p = table.protocol;
  const { why: ownWhy, ...fields } = r;
  const preset = presetOf(r);
  const why = preset && preset.steps === undefined ? preset.why : ownWhy; // the preset's line is kept current

  const recipeRows = Object.entries({ ...fields, time_limit_s: fields.time_limit_s ?? 0 }).map(([k, v]) =>
    `| \`${k}\` | ${cell(v)} |`
  );
  const curveRows = record.curve.map((c) => {
    const v = (task: string) => (c.validation?.[task] ? `${c.validation[task].mean.toFixed(1)}%` : "—");
    return `| ${c.step} | ${c.loss.toFixed(3)} | ${c.logit_scale?.toFixed(1) ?? "—"} | ${v("colour")} | ${
      v("shape")
    } | ${v("count")} |`;
  });
  const suiteRows = table.rows.map((row) =>
    `| ${row.dataset} | ${row.classes} | ${pct(row.chance)} | ${pct(row.bare)} | ${pct(row.photo)} | ${
      pct(row.engineered)
    } | ${pct(row.ensemble)} | ${pct(row.greedy)} | ${points(row.greedy - row.bare)} |`
  );
  const m = table.mean;
  const goalRows = worldGoals(table).map((g) => {
    const unit = g.unit === "%" ? "%" : " points";
    const value = Number.isFinite(g.measured)
      ? `${g.unit === "points" && g.measured >= 0 ? "+" : ""}${g.measured.toFixed(1)}${unit}`
      : "not measured";
    const status = g.met
      ? "met"
      : Number.isFinite(g.measured)
      ? `missed by ${g.short.toFixed(1)} points`
      : "missed";
    return `| ${g.goal} | ≥ ${g.unit === "points" ? "+" : ""}${g.target}${unit} | ${value} | ${status} |`;
  });
  const met = worldGoals(table).filter((g) => g.met).length, total = worldGoals(table).length;
  const gain = (key: "photo" | "engineered" | "ensemble" | "greedy") => points(m[key] - m.bare);

  return `# ${name} — a CLIP trained from scratch on the media world

The real CLIP architecture and objective (a ViT image tower, a causal text transformer, symmetric InfoNCE with
a learned temperature) at toy scale, trained by clipkit's own training engine on the synthetic media world: ${COLOURS.length}
colours × ${SHAPES.length} shapes, one to three of them, drawn as ${media}, with web-like alt-text
captions. It knows those colours, shapes and counts, in those media, and nothing else. ${
    met === total ? "It meets all" : `It meets ${met} of the ${total}`
  } goals below.

## Data

The media world (\`src/data/world.ts\`, \`media.ts\`, \`alt_text.ts\`; facts and rates in the
[data card](${dataCard})): one scene description (combination, count, size, position, turn) drawn in five media
(${media}) at ${WORLD_IMAGE_SIZE} × ${WORLD_IMAGE_SIZE} pixels, so example _i_ is the same scene in each. The
colours are ${COLOURS.join(", ")}; the shapes ${SHAPES.join(", ")}.

- **Captions** are alt text, not templates: varied wording and frames, synonyms, filler and irrelevant words,
  the medium named in about a third of them, occasional typos; a bare class name never occurs. So a bare class
  name is out of distribution and prompts that look like captions should beat it.
- **Held-out combinations**: ${held} never appear in training, in pixels or captions; the suite's "unseen"
  datasets are made of them alone.
- **Splits**: training batches are examples \`step · B … step · B + B − 1\` of the train split (media mixed by
  \`media_mix\`; \`{"mixed": 1}\` draws each example's medium uniformly); the validation split gave the curve below
  and the templates greedy selection picked; the test split was used only for the suite table.
- **The classic look** (32 px flat shapes on noisy grey, what \`models/tiny-clip-classic\` learned from) is the
  suite's sixth medium: never seen in training here, so its rows measure transfer.

## Architecture

| | |
| --- | --- |
| image | ${a.image_resolution} × ${a.image_resolution} pixels, patches of ${a.vision_patch_size} px (${
    (a.image_resolution / a.vision_patch_size) ** 2
  } patches + class token) |
| image tower | ViT, width ${a.vision_width}, ${a.vision_layers} layers, ${a.vision_heads} heads |
| text tower | causal transformer, width ${a.transformer_width}, ${a.transformer_layers} layers, ${a.transformer_heads} heads, context ${a.context_length} tokens |
| vocabulary | ${a.vocab_size} ids: byte-level BPE learned on ${
    r.bpe.captions.toLocaleString("en")
  } training captions |
| embedding | ${a.embed_dim} dimensions |
| parameters | ${record.parameters.toLocaleString("en")} |
| final logit scale | ${logitScale === undefined ? "—" : logitScale.toFixed(2)} (clamped at 100) |

## Recipe

${why ? `${why}\n\n` : ""}| field | value |
| --- | --- |
${recipeRows.join("\n")}

Reproduce it (a stopped run resumes when rerun; with \`--threads 1\` the weights repeat bit for bit, with more
engine threads ONNX Runtime's parallel kernels can change the last bits from run to run):

\`\`\`sh
${record.command}
\`\`\`

## Compute

${record.steps.toLocaleString("en")} steps × ${r.batch_size} pairs = ${
    record.images_seen.toLocaleString("en")
  } image–caption pairs seen. Training took ${minutes(record.wall_s)} of wall time and ${
    Math.round(record.cpu_s).toLocaleString("en")
  } CPU seconds${
    record.validation_wall_s !== undefined
      ? ` (validation at the checkpoints another ${minutes(record.validation_wall_s)})`
      : ""
  }, on: ${record.machine}.

## Validation curve

Zero-shot accuracy on the validation split (${r.validation_size} pictures per medium, mean over the five media,
ensemble of each dataset's template set); loss smoothed over steps.

| step | loss | logit scale | colour | shape | count |
| ---: | ---: | ---: | ---: | ---: | ---: |
${curveRows.join("\n")}

## Zero-shot suite (test split)

\`deno task suite --model DIR\`: seed ${p.seed}, ${p.examples} pictures a split (${p.unseenExamples} for unseen),
top-1 accuracy under the bare class name, "${PHOTO_TEMPLATE}", the medium's engineered template, the ensemble of
the dataset's template set, and the ${p.greedySize} templates greedy selection chose on validation (scored on
test). Also in \`eval.json\`.

| dataset | classes | chance | bare | "${PHOTO_TEMPLATE}" | engineered | ensemble | greedy | greedy − bare |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${suiteRows.join("\n")}
| **mean** | | | ${pct(m.bare)} | ${pct(m.photo)} | ${pct(m.engineered)} | ${pct(m.ensemble)} | ${
    pct(m.greedy)
  } | ${gain("greedy")} |

**Prompts over bare names**, mean over the suite: "${PHOTO_TEMPLATE}" ${
    gain("photo")
  }, the engineered template ${gain("engineered")}, the ensemble ${gain("ensemble")}, greedy selection ${
    gain("greedy")
  } points. The CLIP paper measured ≈ ${goals.clip_paper_gain_points} points for prompt engineering + ensembling over contextless class names, averaged over its 36 datasets.

## Goals

${goals.why}

| goal | target | measured | |
| --- | ---: | ---: | --- |
${goalRows.join("\n")}
${notes.trim() ? `\n## What limits it\n\n${notes.trim()}\n` : ""}
## Files

\`config.json\`, \`preprocessor_config.json\`, \`vocab.json\` + \`merges.txt\` + \`tokenizer.json\`,
\`onnx/text_model.onnx\` and \`onnx/vision_model.onnx\`; \`training.json\` (the run's record: recipe,
architecture, clocks, machine, curve), \`curve.json\` (recipe, architecture, curve), \`eval.json\` (the suite
table above). Load it with \`ClipModel.load(DIR)\`.
`;
}

/** Options of {@link writeWorldCard}. */
export interface WriteWorldCardOptions {
  /** The run's record (default: read from the folder, see {@link readWorldRecord}). */
  record?: WorldTrainingRecord;
  /** The paragraph of the card's "What limits it" section. */
  notes?: string;
  /** Reuse the folder's `eval.json` instead of scoring the suite again (default false). */
  reuseEval?: boolean;
  /** The machine line when the record has none (a card built from `curve.json`). */
  machine?: string;
  /** ONNX runtime of the model (default `"auto"`, as `deno task suite`). */
  backend?: BackendChoice;
  /** Show the suite's progress bar (default true). */
  progress?: boolean;
  log?: (line: string) => void;
}

/**
 * Score the suite on test into `dir/eval.json` (the table `deno task suite` prints: 600 + 200 unseen pictures a
 * split, seed 0, greedy 7) and write `dir/MODEL_CARD.md`; returns both. Needs only the model folder and its
 * record: no training.
 *
 * @example
 * ```ts ignore
 * import { writeWorldCard } from "./world_card.ts";
 * const { table } = await writeWorldCard("models/tiny-clip", { notes: "Shape on sketches is the weak spot." });
 * table.rows.length; // → 30
 * ```
 */
export async function writeWorldCard(
  dir: string,
  options: WriteWorldCardOptions = {},
): Promise<{ card: string; table: SuiteTable }> {
  const record = options.record ?? await readWorldRecord(dir, options.machine);
  const log = options.log ?? console.error;
  const model = await ClipModel.load(dir, { backend: options.backend ?? "auto" });
  const logitScale = model.logitScale;
  let table: SuiteTable;
  try {
    if (options.reuseEval) {
      table = await readJsonFile(join(dir, "eval.json"), "suite table", {
        fixMissing: "leave out --reuse-eval to score the suite",
      }) as SuiteTable;
    } else {
      log(`scoring the zero-shot suite on ${dir} (test split, 600 + 200 unseen pictures a split)`);
      table = await evaluateSuite(model, { seed: 0, greedySize: 7, progress: options.progress ?? true });
      await writeAtomic(join(dir, "eval.json"), JSON.stringify(table, null, 1) + "\n");
    }
  } finally {
    await model.dispose();
  }
  const inRepo = !relative(REPO_ROOT, resolve(dir)).startsWith("..");
  const card = worldModelCard(record, table, options.notes ?? "", {
    name: basename(resolve(dir)),
    logitScale,
    dataCard: inRepo ? relative(resolve(dir), DATA_CARD) : "src/data/DATA_CARD.md",
  });
  await writeAtomic(join(dir, "MODEL_CARD.md"), card);
  log(`wrote ${join(dir, "eval.json")} and ${join(dir, "MODEL_CARD.md")}`);
  return { card, table };
}

/**
 * The Markdown of a `--notes FILE`; a file that cannot be read is a `UsageError` naming it.
 *
 * @example
 * ```ts
 * import { readNotes } from "./world_card.ts";
 * const path = `${await Deno.makeTempDir()}/notes.md`;
 * await Deno.writeTextFile(path, "Shape on sketches limits it.");
 * await readNotes(path); // → "Shape on sketches limits it."
 * ```
 */
export async function readNotes(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new UsageError(`cannot read the notes file (${(error as Error).name})`, {
      path,
      fix: "pass --notes a Markdown file that exists",
      cause: error,
    });
  }
}

/** The command's flags (they make `--help`). */
export const WORLD_CARD_COMMAND: CommandSpec = {
  name: "world-card",
  summary:
    "Score the zero-shot suite on a media-world model folder into eval.json and write its MODEL_CARD.md " +
    "from training.json (or curve.json); no training.",
  positionals: [],
  flags: [
    { name: "model", value: "DIR", help: "the model folder", default: "models/tiny-clip" },
    { name: "notes", value: "FILE", help: 'a Markdown paragraph for the card\'s "What limits it" section' },
    { name: "reuse-eval", help: "take the suite table from DIR/eval.json instead of scoring it again" },
    {
      name: "machine",
      value: "TEXT",
      help: "the machine the run trained on (for a folder without training.json)",
    },
    {
      name: "backend",
      value: "NAME",
      help: "ONNX runtime",
      default: "auto",
      choices: ["auto", "node", "web"],
    },
  ],
  examples: ["deno run -A src/train/world_card.ts --model models/tiny-clip --notes notes.md"],
};

/** Runs the command on `argv`; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const { flags, help } = parseCommandLine(argv, WORLD_CARD_COMMAND);
  if (help) {
    console.log(helpText(WORLD_CARD_COMMAND));
    return 0;
  }
  await writeWorldCard(String(flags.model), {
    notes: typeof flags.notes === "string" ? await readNotes(flags.notes) : undefined,
    reuseEval: flags["reuse-eval"] === true,
    machine: typeof flags.machine === "string" ? flags.machine : undefined,
    backend: flags.backend as BackendChoice,
  });
  return 0;
}

if (import.meta.main) await runCommand("world-card", () => main(Deno.args));
