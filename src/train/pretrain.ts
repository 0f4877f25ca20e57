/**
 * `deno task pretrain [--quick] [--out DIR] [--fresh] [--steps N] [--batch-size B] [--lr LR]`: pretrain the tiny CLIP on the
 * captioned-shapes world and write a model directory that `ClipModel.load` reads.
 *
 * 1. learns the BPE vocabulary from the training captions (`bpe_learn.ts`) → vocab.json, merges.txt
 * 2. trains (`trainer.ts`, on the training engine: one ONNX graph run per step) with a progress bar,
 *    validating and checkpointing as it goes
 *    (`DIR/checkpoint.bin`; a stopped run resumes from it unless `--fresh`)
 * 3. exports the ONNX graphs and configs (src/onnx/export.ts) and `training.json` (the run's record)
 *
 * The full run writes `models/tiny-clip-classic`; `--quick` (300 steps, for a notebook) writes to a folder
 * under the system temp directory unless `--out` says otherwise.
 * @module
 */
import { join } from "node:path";
import { tmpdir } from "node:os";
import process from "node:process";
import { writeAtomic } from "../fs.ts";
import {
  type ArchitecturePreset,
  type ClipArchitecture,
  loadArchitecture,
  parameterCount,
} from "../model/architecture.ts";
import { type TrainConfig, Trainer, type TrainerOptions, type ValidationMetrics } from "./trainer.ts";
import { exportClip } from "../onnx/export.ts";
import { learnBpe } from "./bpe_learn.ts";
import { ClipTokenizer } from "../text/tokenizer.ts";
import { writeHfTokenizerFiles } from "../text/vocabulary.ts";
import { classNames, generateCaptions } from "../data/shapes.ts";
import { Progress } from "../model/progress.ts";
import { fillTemplate } from "../zeroshot/templates.ts";
import { PretrainError } from "../errors.ts";
import {
  type CommandSpec,
  fractionFlag,
  helpText,
  integerFlag,
  parseCommandLine,
  runCommand,
} from "../cli/args.ts";

/** Captions of the train split the BPE vocabulary is learned from. */
export const BPE_CORPUS_SIZE = 50_000;
/** Vocabulary size of the tiny CLIP's tokenizer (514 bytes + specials, the rest merges). */
export const BPE_VOCAB_SIZE = 1024;
/** Where `--quick` writes when no `--out` is given. */
export const QUICK_OUT = join(tmpdir(), "clipkit", "tiny-clip-quick");
/** Where the full run writes when no `--out` is given. */
export const FULL_OUT = "models/tiny-clip-classic";

const HERE = new URL(".", import.meta.url);

/** A run preset from `configs/pretrain.json` (`"full"` or `"quick"`). */
export function pretrainConfig(preset: "full" | "quick"): TrainConfig {
  const all = JSON.parse(Deno.readTextFileSync(new URL("configs/pretrain.json", HERE))) as Record<
    string,
    TrainConfig
  >;
  return all[preset];
}

/** The shapes template set (`src/zeroshot/templates/shapes.json`). */
export function shapesTemplates(): string[] {
  return JSON.parse(Deno.readTextFileSync(new URL("../zeroshot/templates/shapes.json", HERE)))
    .templates as string[];
}

/** Options of {@link pretrain}. */
export interface PretrainOptions {
  preset?: "full" | "quick";
  out?: string;
  /** Ignore an existing checkpoint and start over. */
  fresh?: boolean;
  /** Override fields of the preset (e.g. `{ steps: 3000, batch_size: 64 }`). */
  overrides?: Partial<TrainConfig>;
  /** Called with each validation. */
  onValidation?: (m: ValidationMetrics) => void;
  /** Where the training engine runs (default: onnxruntime-node when it loads, all cores). */
  engine?: TrainerOptions;
}

/** What {@link pretrain} produced. */
export interface PretrainResult {
  out: string;
  config: ClipArchitecture;
  train: TrainConfig;
  final: ValidationMetrics;
  wallSeconds: number;
}

function formatMetrics(m: ValidationMetrics): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return `step ${m.step}: val loss ${m.loss.toFixed(3)} · colour ${pct(m.colour)} · shape ${
    pct(m.shape)
  } · ` +
    `seen ${pct(m.seen)} · unseen ${pct(m.unseen)} (80-way) · logit scale ${m.logitScale.toFixed(1)}`;
}

/** Learn (or reuse) the tokenizer in `out`; returns it loaded. */
async function prepareTokenizer(out: string, seed: number, reuse: boolean): Promise<ClipTokenizer> {
  if (reuse) {
    try {
      return await ClipTokenizer.load(out);
    } catch {
      // no tokenizer yet: learn it below
    }
  }
  const texts = generateCaptions(seed, BPE_CORPUS_SIZE, { split: "train" }).map((s) => s.caption);
  const bpe = learnBpe(texts, { vocabSize: BPE_VOCAB_SIZE });
  await writeHfTokenizerFiles(out, bpe.merges);
  return await ClipTokenizer.load(out);
}

/** Longest tokenised text among training captions and all prompts, with SOT and EOT. */
function longestText(tokenizer: ClipTokenizer, seed: number, templates: string[]): number {
  const names = [...classNames("colour"), ...classNames("shape"), ...classNames("combo")];
  const texts = [
    ...generateCaptions(seed, 5000, { split: "train" }).map((s) => s.caption),
    ...templates.flatMap((t) => names.map((n) => fillTemplate(t, n))),
  ];
  return Math.max(...texts.map((t) => tokenizer.encode(t).length + 2));
}

/**
 * Run the whole pipeline; see the module documentation.
 *
 * @example
 * ```ts
 * import { pretrain } from "./pretrain.ts";
 * const r = await pretrain({ preset: "quick" });
 * r.final.colour; // → 0.99 (fraction right)
 * ```
 */
export async function pretrain(options: PretrainOptions = {}): Promise<PretrainResult> {
  const preset = options.preset ?? "full";
  const out = options.out ?? (preset === "quick" ? QUICK_OUT : FULL_OUT);
  const train = { ...pretrainConfig(preset), ...options.overrides };
  const ckpt = join(out, "checkpoint.bin");
  await Deno.mkdir(out, { recursive: true });
  const templates = shapesTemplates();

  const resumable = !options.fresh && (await Deno.stat(ckpt).then(() => true, () => false));
  const tokenizer = await prepareTokenizer(out, train.seed, resumable);
  const config: ClipArchitecture = {
    ...loadArchitecture(train.model as ArchitecturePreset),
    vocab_size: tokenizer.vocabSize,
  };
  const longest = longestText(tokenizer, train.seed, templates);
  if (longest > config.context_length) {
    throw new PretrainError(
      `a caption or prompt needs ${longest} tokens but context_length is ${config.context_length}`,
      { fix: `raise context_length in src/model/architectures/${train.model}.json` },
    );
  }
  const trainer = resumable
    ? await Trainer.resume(ckpt, tokenizer, templates, options.engine)
    : await Trainer.create(config, train, tokenizer, templates, options.engine);
  const engine = trainer.session.runtime.describe();
  if (resumable) console.error(`resuming from ${ckpt} at step ${trainer.step}/${trainer.train.steps}`);
  console.error(
    `tiny CLIP: ${
      parameterCount(trainer.config).toLocaleString("en")
    } parameters, ${trainer.train.steps} steps × ` +
      `${trainer.train.batch_size} pairs, training engine on ${engine}, out ${out}`,
  );

  const t = trainer.train;
  const bar = new Progress(t.steps, { label: "pretrain", unit: "steps" });
  bar.update(trainer.step);
  let mark = performance.now(), cpuMark = process.cpuUsage();
  const clock = () => {
    const now = performance.now(), cpu = process.cpuUsage(cpuMark);
    trainer.trainSeconds += (now - mark) / 1000;
    trainer.cpuSeconds += (cpu.user + cpu.system) / 1e6;
    mark = now;
    cpuMark = process.cpuUsage();
  };
  while (trainer.step < t.steps) {
    await trainer.trainStep();
    bar.update(trainer.step);
    const done = trainer.step === t.steps;
    if (trainer.step % t.validate_every === 0 && !done) {
      const m = await trainer.validate();
      trainer.validations.push(m);
      options.onValidation?.(m);
      console.error(`\n${formatMetrics(m)}`);
    }
    if (trainer.step % t.checkpoint_every === 0 || done) {
      clock();
      await trainer.save(ckpt);
    }
  }
  bar.finish();
  const final = await trainer.validate();
  trainer.validations.push(final);
  options.onValidation?.(final);
  console.error(formatMetrics(final));
  clock();

  const weights = trainer.weights();
  await exportClip({ config: trainer.config, weights }, out, { tokenizer: out });
  const record = {
    command: `deno task pretrain${preset === "quick" ? " --quick" : ""}${
      options.out ? ` --out ${options.out}` : ""
    }${
      Object.entries(options.overrides ?? {}).map(([k, v]) => ` --${k.replaceAll("_", "-")} ${v}`).join("")
    }`,
    config: trainer.config,
    train: trainer.train,
    parameters: parameterCount(trainer.config),
    backend: { engine: "clipkit training engine (src/train/engine/)", runtime: engine },
    wall_seconds: Math.round(trainer.trainSeconds),
    cpu_seconds: Math.round(trainer.cpuSeconds),
    validations: trainer.validations,
    loss_every_10_steps: trainer.history.filter((h) => h.step % 10 === 0).map((
      h,
    ) => [h.step, +h.loss.toFixed(4)]),
  };
  await writeAtomic(join(out, "training.json"), JSON.stringify(record, null, 1) + "\n");
  await Deno.remove(ckpt);
  await trainer.dispose();
  console.error(
    `wrote ${out} (${Math.round(trainer.trainSeconds)} s wall, ${Math.round(trainer.cpuSeconds)} s CPU)`,
  );
  return { out, config: trainer.config, train: trainer.train, final, wallSeconds: trainer.trainSeconds };
}

/** The command's flags (they make `--help`). */
export const PRETRAIN_COMMAND: CommandSpec = {
  name: "pretrain",
  summary: "Pretrain the tiny CLIP on the captioned-shapes world and write a model directory.",
  positionals: [],
  flags: [
    { name: "quick", help: "the short run (300 steps), written under the temp folder unless --out" },
    { name: "out", value: "DIR", help: "the model directory to write (default models/tiny-clip-classic)" },
    { name: "fresh", help: "start over instead of resuming from DIR/checkpoint.bin" },
    { name: "steps", value: "N", help: "training steps (default: the preset's)" },
    { name: "batch-size", value: "B", help: "pairs per step (default: the preset's)" },
    { name: "lr", value: "LR", help: "peak learning rate (default: the preset's)" },
  ],
  examples: ["deno task pretrain", "deno task pretrain --quick --out /tmp/tiny"],
};

if (import.meta.main) {
  await runCommand("pretrain", async () => {
    const cli = parseCommandLine(Deno.args, PRETRAIN_COMMAND);
    if (cli.help) {
      console.log(helpText(PRETRAIN_COMMAND));
      return 0;
    }
    const flags = cli.flags;
    const overrides: Partial<TrainConfig> = {};
    if (flags.steps !== undefined) overrides.steps = integerFlag(flags, "steps", 1);
    if (flags["batch-size"] !== undefined) overrides.batch_size = integerFlag(flags, "batch-size", 2);
    if (flags.lr !== undefined) overrides.lr = fractionFlag(flags, "lr", 0, 1);
    await pretrain({
      preset: flags.quick ? "quick" : "full",
      out: flags.out as string | undefined,
      fresh: flags.fresh === true,
      overrides,
    });
    return 0;
  });
}
