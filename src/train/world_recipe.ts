/**
 * A training recipe for the media world (the shapes world drawn as icons, outlines, sketches, photos and pixel
 * art, with alt-text captions):
 *
 * training captions ─ learnBpe ─► tokenizer ─┐
 * architecture preset (src/model/architectures/NAME.json) ─► TrainingSession (one ONNX graph a step)
 * batches mixed over media (`media_mix`) ─► AdamW steps, linear warm-up then cosine decay ─► every
 * `validate_every` steps: export → zero-shot colour / shape / count on the suite's validation pictures
 * (ensemble of each dataset's template set) ─► curve.json and `checkpoint.bin` (weights, AdamW moments,
 * step, curve, clocks and the learned BPE merges) ─► at the end the exported model folder, `training.json`,
 * and (src/train/world_card.ts) `eval.json` (the zero-shot suite on test) and `MODEL_CARD.md`.
 *
 * A rerun with the same `out` resumes from `out/checkpoint.bin` (unless `fresh`) and continues bit for bit
 * as if never stopped: batch `step` depends only on the recipe and the step, the checkpoint holds the
 * session's whole state, and the tokenizer is rebuilt from the merges it stored. A checkpoint of another
 * recipe is refused with a `CheckpointError` naming the fields that differ. The checkpoint is removed once
 * the model folder is complete.
 *
 * Bytes repeat from run to run with one engine thread (`threads: 1`, `--threads 1`). With more threads,
 * onnxruntime-node's parallel kernels can round differently from one process to the next (measured: two
 * 30-step runs of the quick recipe on 2 threads ended with smoothed losses 4.9773 and 4.9771 and different
 * weights, two on 1 thread with the same bytes), so a resumed run then equals a straight one only as closely
 * as two straight runs do.
 *
 * The schedule runs over `steps`, or over `time_limit_s` of wall time when that comes first: the cosine is
 * driven by max(step / steps, elapsed / time_limit_s), so a run on a slower (or shared) machine still ends
 * with its learning rate decayed instead of being cut off at a high one. Such a run is reproducible in its
 * step count only; rerun with `steps` set to the count it reached (and no time limit) for the same bytes.
 *
 * ```sh
 * deno task train-world --preset full --out /tmp/world-clip     (Ctrl-C stops after the step; a rerun resumes)
 * deno task train-world --preset quick --out /tmp/world-quick --fresh
 * ```
 * @module
 */
import { join } from "node:path";
import { cpuUsage } from "node:process";
import { TrainingSession } from "./engine/session.ts";
import { readCheckpoint, sessionArrays, sessionFromArrays, writeCheckpoint } from "./checkpoint.ts";
import { readNotes, writeWorldCard, writeWorldRecord } from "./world_card.ts";
import { initStateDict } from "./engine/layout.ts";
import { learnBpe } from "./bpe_learn.ts";
import { type ClipArchitecture, parameterCount, validateArchitecture } from "../model/architecture.ts";
import { assembleWeights, weightSources } from "../model/checkpoint_names.ts";
import { ClipModel } from "../model/clip_model.ts";
import { exportClip } from "../onnx/export.ts";
import { writeHfTokenizerFiles } from "../text/vocabulary.ts";
import { ClipTokenizer } from "../text/tokenizer.ts";
import { generateBatch, generateCaptions } from "../data/shapes.ts";
import { MEDIA, WORLD_IMAGE_SIZE } from "../data/world.ts";
import { suiteDatasets, suiteImages, type SuiteTask } from "../data/suite.ts";
import { accuracyOf, classWeights, embedPrompts } from "../zeroshot/classifier.ts";
import { normalize } from "../math/similarity.ts";
import { preprocessInto } from "../image/preprocess.ts";
import { writeAtomic } from "../fs.ts";
import type { BackendChoice } from "../model/runtime.ts";
import { Progress } from "../model/progress.ts";
import { CheckpointError, TrainError, UsageError } from "../errors.ts";
import { type CommandSpec, helpText, integerFlag, parseCommandLine, runCommand } from "../cli/args.ts";
import presets from "./configs/world.json" with { type: "json" };

/** One preset of `configs/world.json` (the `why` fields are documentation only). */
export interface WorldRecipe {
  /** One line on what the recipe is for and what it measured (documentation only: it changes no number). */
  why?: string;
  /** A preset name of `src/model/architectures/` (`"world-tiny"`), or the architecture itself. */
  architecture: string | ClipArchitecture;
  seed: number;
  steps: number;
  time_limit_s?: number;
  batch_size: number;
  lr: number;
  warmup_fraction: number;
  min_lr: number;
  weight_decay: number;
  betas: [number, number];
  media_mix: Record<string, number>;
  /**
   * Hard-negative batches: when > 0, batch `step` (every `grouped_every`-th step) holds pictures of only this many
   * colours, so colour cannot tell the pairs apart and the contrastive loss must use shape and count.
   */
  colours_per_batch: number;
  grouped_every: number;
  bpe: { captions: number; vocab_size: number };
  context_length: number;
  validate_every: number;
  /** Pictures per medium scored at each checkpoint; 0 exports the model there without scoring it. */
  validation_size: number;
}

/** Options of {@link trainWorld} beyond the recipe (none changes its numbers on one backend). */
export interface TrainWorldOptions {
  /** ONNX Runtime of the engine (default `"node"`). */
  backend?: BackendChoice;
  /** Intra-op threads (default: all cores). */
  threads?: number;
  /** Called after every step with the step count reached and that step's loss (for a progress bar). */
  onStep?: (step: number, loss: number) => void;
  /** Ignore `out/checkpoint.bin` and start over (default false: resume from it when it is there). */
  fresh?: boolean;
  /**
   * When it is aborted, the run ends after the step in progress, writes `out/checkpoint.bin` there and returns
   * the curve so far; a later call with the same recipe and `out` resumes (the CLI aborts it on Ctrl-C).
   */
  signal?: AbortSignal;
  /** Draw a progress bar on stderr (default true). */
  progress?: boolean;
  /**
   * After training, score the suite on test (600 + 200 unseen pictures, seed 0, greedy 7) into `eval.json` and
   * write `MODEL_CARD.md` (default true; false writes neither, e.g. for an experiment's many short runs).
   */
  card?: boolean;
  /** A Markdown paragraph for the card's "What limits it" section, written by a person. */
  notes?: string;
  /** The command line the card gives to reproduce the run (default: the preset's `deno task train-world`). */
  command?: string;
}

/** The checkpoint format of {@link trainWorld}: the engine's state dict, AdamW moments and the run's state. */
const WORLD_CHECKPOINT_FORMAT = "clipkit-world-1";

/** What {@link trainWorld} stores in `checkpoint.bin` besides the arrays of `sessionArrays`. */
interface WorldCheckpointMeta {
  format: typeof WORLD_CHECKPOINT_FORMAT;
  recipe: WorldRecipe;
  architecture: ClipArchitecture;
  /** Steps done; AdamW's update count is the same. */
  step: number;
  /** The smoothed loss and the last learning rate at `step` (the curve's next point continues from them). */
  loss: number | null;
  lr: number;
  curve: CurvePoint[];
  /** Training wall and CPU seconds up to `step` (validation excluded), unrounded. */
  wall_s: number;
  cpu_s: number;
  /** Wall and CPU seconds spent on checkpoints (export + validation) so far. */
  validation_wall_s: number;
  validation_cpu_s: number;
  /** The BPE merges learned on the recipe's captions (the tokenizer is rebuilt from them). */
  merges: [string, string][];
}

/** `value` as JSON with object keys sorted (two recipes compare equal whatever their key order). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    return `{${
      Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) =>
        `${JSON.stringify(k)}:${canonical(o[k])}`
      )
        .join(",")
    }}`;
  }
  return JSON.stringify(value);
}

/**
 * The recipe fields whose values differ between `a` and `b`, as `"field: A there, B here"` (the `why` line is
 * documentation and an absent `time_limit_s` is 0, so neither counts).
 *
 * @example
 * ```ts
 * import { recipeDifferences, worldPresets } from "./world_recipe.ts";
 * const quick = worldPresets().quick;
 * recipeDifferences(quick, { ...quick, steps: 60, why: "other" });
 * // → ["steps: 30 there, 60 here"]
 * ```
 */
export function recipeDifferences(a: WorldRecipe, b: WorldRecipe): string[] {
  const norm = (r: WorldRecipe) => ({ ...r, why: undefined, time_limit_s: r.time_limit_s ?? 0 });
  return fieldDifferences(norm(a), norm(b));
}

/** The fields of two objects whose values differ, as `"field: A there, B here"`. */
function fieldDifferences(a: object, b: object): string[] {
  const x = a as Record<string, unknown>, y = b as Record<string, unknown>;
  return [...new Set([...Object.keys(x), ...Object.keys(y)])]
    .filter((k) => canonical(x[k]) !== canonical(y[k]))
    .map((k) => `${k}: ${canonical(x[k]) ?? "absent"} there, ${canonical(y[k]) ?? "absent"} here`);
}

/** One point of the learning curve. */
export interface CurvePoint {
  step: number;
  wall_s: number;
  cpu_s: number;
  lr: number;
  loss: number;
  logit_scale?: number;
  validation?: Record<string, { mean: number; byMedium: Record<string, number> }>;
}

const VALIDATION_TASKS: SuiteTask[] = ["colour", "shape", "count"];

/**
 * The architecture preset `name` from `src/model/architectures/NAME.json`, checked.
 *
 * @example
 * ```ts
 * import { worldArchitecture } from "./world_recipe.ts";
 * const a = await worldArchitecture("world");
 * [a.image_resolution, a.vision_patch_size]; // → [40, 8]
 * ```
 */
export async function worldArchitecture(name: string): Promise<ClipArchitecture> {
  const url = new URL(`../model/architectures/${name}.json`, import.meta.url);
  const { why: _, ...fields } = JSON.parse(await Deno.readTextFile(url)) as Record<string, unknown>;
  const a = fields as unknown as ClipArchitecture;
  validateArchitecture(a);
  return a;
}

/**
 * The BPE merges of a media-world recipe: a byte-level BPE learned on the first `bpe.captions` training captions
 * (all media mixed) of `seed`, with `bpe.vocab_size` ids. Every media-world trainer (this recipe, the
 * experiments) learns its tokenizer here, so the same seed gives the same vocabulary.
 *
 * @example
 * ```ts
 * import { learnWorldMerges } from "./world_recipe.ts";
 * learnWorldMerges(0, { captions: 200, vocab_size: 600 }).length > 0; // → true
 * ```
 */
export function learnWorldMerges(
  seed: number,
  bpe: { captions: number; vocab_size: number },
): [string, string][] {
  const texts = generateCaptions(seed, bpe.captions, { split: "train", medium: "mixed" }).map((c) =>
    c.caption
  );
  return learnBpe(texts, { vocabSize: bpe.vocab_size }).merges;
}

/**
 * The learning rate at `progress` ∈ [0, 1] of the schedule: linear warm-up over `warmup_fraction`, then
 * cosine decay from `lr` to `min_lr`.
 *
 * @example
 * ```ts
 * import { scheduledLr } from "./world_recipe.ts";
 * const r = { lr: 1e-3, min_lr: 0, warmup_fraction: 0.1 };
 * [scheduledLr(r, 0.05), scheduledLr(r, 0.1), scheduledLr(r, 1)]; // → [0.0005, 0.001, 0]
 * ```
 */
export function scheduledLr(
  r: Pick<WorldRecipe, "lr" | "min_lr" | "warmup_fraction">,
  progress: number,
): number {
  const p = Math.min(1, Math.max(0, progress));
  if (p < r.warmup_fraction) return r.lr * p / r.warmup_fraction;
  const q = (p - r.warmup_fraction) / (1 - r.warmup_fraction);
  return r.min_lr + (r.lr - r.min_lr) * 0.5 * (1 + Math.cos(Math.PI * q));
}

/**
 * Training batch `step`: `batch_size` examples split over the media by `media_mix` weights, at disjoint example
 * indices (no scene twice in a batch). Returns pixels `[B, 3, 40, 40]` and captions.
 *
 * @example
 * ```ts
 * import { mixedBatch } from "./world_recipe.ts";
 * const b = mixedBatch({ seed: 0, batch_size: 4, media_mix: { icon: 1, sketch: 1 } }, 0);
 * [b.pixels.length, b.captions.length]; // → [19200, 4]
 * ```
 */
export function mixedBatch(
  r: Pick<WorldRecipe, "seed" | "batch_size" | "media_mix">,
  step: number,
): { pixels: Float32Array; captions: string[] } {
  const B = r.batch_size, chw = 3 * WORLD_IMAGE_SIZE * WORLD_IMAGE_SIZE;
  const entries = Object.entries(r.media_mix), total = entries.reduce((a, [, w]) => a + w, 0);
  const pixels = new Float32Array(B * chw); // [B, 3, 40, 40]
  const captions: string[] = [];
  let at = 0;
  entries.forEach(([medium, w], i) => {
    const n = i === entries.length - 1 ? B - at : Math.min(B - at, Math.round(B * w / total));
    if (n <= 0) return;
    const b = generateBatch(r.seed, n, { split: "train", medium: medium as "mixed", offset: step * B + at });
    pixels.set(b.pixels, at * chw);
    captions.push(...b.captions);
    at += n;
  });
  return { pixels, captions };
}

/**
 * A sampler of colour-grouped training batches (hard negatives): example indices of the train split are scanned
 * in order (captions only, no pixels) into one queue per colour; batch `step` takes `batch_size / colours`
 * examples from each of `colours` colours chosen by a seeded shuffle of the step, so every index is used at most
 * once and the same recipe gives the same batches. `next.skip(step)` moves the queues on as `next(step)` would,
 * drawing no pixels (a resumed run replays the grouped steps it has done).
 *
 * @example
 * ```ts
 * import { groupedBatches } from "./world_recipe.ts";
 * const next = groupedBatches({ seed: 0, batch_size: 4 }, 2);
 * next(0).captions.length; // → 4
 * const replayed = groupedBatches({ seed: 0, batch_size: 4 }, 2);
 * replayed.skip(0);
 * replayed(1).captions.join() === next(1).captions.join(); // → true
 * ```
 */
export function groupedBatches(
  r: Pick<WorldRecipe, "seed" | "batch_size">,
  colours: number,
): GroupedSampler {
  const queues: number[][] = Array.from({ length: 10 }, () => []);
  let cursor = 0;
  const chw = 3 * WORLD_IMAGE_SIZE * WORLD_IMAGE_SIZE;
  const take = (step: number, use: (index: number) => void) => {
    const B = r.batch_size;
    const order = [...Array(10).keys()];
    let h = ((step + 1) * 2654435761 + r.seed) >>> 0;
    for (let i = 9; i > 0; i--) {
      h = (Math.imul(h, 1103515245) + 12345) >>> 0;
      const j = h % (i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let at = 0;
    for (let g = 0; g < colours; g++) {
      const c = order[g], n = g === colours - 1 ? B - at : Math.floor(B / colours);
      while (queues[c].length < n) {
        generateCaptions(r.seed, 4096, { split: "train", medium: "mixed", offset: cursor })
          .forEach((s, k) => queues[s.colourIndex].push(cursor + k));
        cursor += 4096;
      }
      for (const index of queues[c].splice(0, n)) {
        use(index);
        at++;
      }
    }
  };
  const next = (step: number) => {
    const pixels = new Float32Array(r.batch_size * chw), captions: string[] = []; // [B, 3, 40, 40]
    take(step, (index) => {
      const b = generateBatch(r.seed, 1, { split: "train", medium: "mixed", offset: index });
      pixels.set(b.pixels, captions.length * chw);
      captions.push(b.captions[0]);
    });
    return { pixels, captions };
  };
  return Object.assign(next, { skip: (step: number) => take(step, () => {}) });
}

/** Colour-grouped batches: `next(step)` is batch `step`; `next.skip(step)` advances past it without drawing it. */
export type GroupedSampler = ((step: number) => { pixels: Float32Array; captions: string[] }) & {
  skip(step: number): void;
};

/** Zero-shot validation accuracy (%, template-set ensemble) of the model in `dir`, per task and medium. */
async function validate(dir: string, size: number, seed: number) {
  const model = await ClipModel.load(dir);
  const datasets = suiteDatasets();
  const quiet = {
    id: model.id,
    logitScale: model.logitScale,
    encodeText: (t: string[]) => model.encodeText(t, { progress: false }),
  };
  const out: Record<string, { mean: number; byMedium: Record<string, number> }> = {};
  for (const medium of MEDIA) {
    const v = suiteImages(medium, "validation", size, { seed });
    const chw = 3 * model.imageSize * model.imageSize, px = new Float32Array(v.images.length * chw); // [N, 3, R, R]
    v.images.forEach((im, i) => preprocessInto(im, px, i * chw, model.preprocessOptions));
    const images = normalize(await model.encodePixels(px, { progress: false }));
    for (const task of VALIDATION_TASKS) {
      const d = datasets.find((d) => d.medium === medium && d.task === task)!;
      const prompts = await embedPrompts(quiet, d.classes, d.templates, { cache: false });
      const labels = task === "shape" ? v.shape : task === "colour" ? v.colour : v.count;
      (out[task] ??= { mean: 0, byMedium: {} }).byMedium[medium] =
        +(accuracyOf(classWeights(prompts), images, labels) * 100)
          .toFixed(1);
    }
  }
  const logitScale = model.logitScale;
  await model.dispose();
  for (const t of Object.values(out)) {
    const v = Object.values(t.byMedium);
    t.mean = +(v.reduce((a, b) => a + b, 0) / v.length).toFixed(1);
  }
  return { validation: out, logitScale };
}

/** Read `path` as a checkpoint of {@link trainWorld} for recipe `r`, or throw a `CheckpointError` saying why not. */
async function readWorldCheckpoint(path: string, r: WorldRecipe) {
  const data = await readCheckpoint<WorldCheckpointMeta>(path);
  if (data.meta?.format !== WORLD_CHECKPOINT_FORMAT) {
    throw new CheckpointError("the checkpoint was not written by the media-world recipe (trainWorld)", {
      path,
      fix: "pass --fresh (fresh: true) to start over, or choose another --out folder",
    });
  }
  const differences = recipeDifferences(data.meta.recipe, r);
  if (differences.length) {
    throw new CheckpointError(`the checkpoint was written by another recipe (${differences.join("; ")})`, {
      path,
      fix: "rerun with the recipe it was written for, pass --fresh (fresh: true) to start over, or choose " +
        "another --out folder",
    });
  }
  return data;
}

/**
 * Train the recipe and write the model folder `out`: ONNX towers, tokenizer, config, `curve.json`,
 * `training.json` and (unless `options.card` is false) `eval.json` and `MODEL_CARD.md`. Resumes from
 * `out/checkpoint.bin` when a stopped run of the same recipe left one there (see the module notes).
 *
 * @example
 * ```ts ignore
 * import { trainWorld, worldPresets } from "./world_recipe.ts";
 * const recipe = { ...worldPresets().quick, steps: 20 };
 * const curve = await trainWorld(recipe, "/tmp/world-clip-20", console.error, { card: false });
 * curve.at(-1)?.step; // → 20
 * ```
 */
export async function trainWorld(
  r: WorldRecipe,
  out: string,
  log: (line: string) => void = console.error,
  options: TrainWorldOptions = {},
): Promise<CurvePoint[]> {
  if (!(r.steps > 0) || !(r.batch_size > 0)) {
    throw new TrainError(`steps ${r.steps} and batch_size ${r.batch_size} must be positive`, {
      fix: "fix configs/world.json",
    });
  }
  await Deno.mkdir(out, { recursive: true });
  const ckptPath = join(out, "checkpoint.bin");
  const resumed = !options.fresh && (await Deno.stat(ckptPath).then(() => true, () => false))
    ? await readWorldCheckpoint(ckptPath, r)
    : undefined;
  const m = resumed?.meta;
  const tokDir = await Deno.makeTempDir({ prefix: "clipkit-world-bpe-" });
  const merges = m?.merges ?? learnWorldMerges(r.seed, r.bpe);
  await writeHfTokenizerFiles(tokDir, merges);
  const tok = await ClipTokenizer.load(tokDir);
  const named = typeof r.architecture === "string";
  const arch = {
    ...(named ? await worldArchitecture(r.architecture as string) : r.architecture as ClipArchitecture),
    context_length: r.context_length,
    vocab_size: tok.vocabSize,
  };
  validateArchitecture(arch);
  const archDifferences = m ? fieldDifferences(m.architecture, arch) : [];
  if (archDifferences.length) {
    await Deno.remove(tokDir, { recursive: true });
    throw new CheckpointError(
      `the checkpoint was written for another architecture (${archDifferences.join("; ")})`,
      {
        path: ckptPath,
        fix: "restore the architecture file it was trained with, or pass --fresh to start over",
      },
    );
  }
  log(`architecture ${named ? r.architecture : "(given)"}: ${parameterCount(arch)} parameters`);
  const restored = resumed ? sessionFromArrays(resumed.arrays, arch, m!.step, ckptPath) : undefined;
  const session = await TrainingSession.create(arch, restored?.stateDict ?? initStateDict(arch, r.seed), {
    backend: options.backend ?? "node",
    threads: options.threads,
    batchSize: r.batch_size,
    lr: r.lr,
    weightDecay: r.weight_decay,
    betas: r.betas,
  });
  if (restored) session.loadState(restored.state);
  const curve: CurvePoint[] = m ? [...m.curve] : [];
  const wallBefore = m?.wall_s ?? 0, cpuBefore = m?.cpu_s ?? 0;
  const cpu0 = cpuUsage(), t0 = performance.now();
  let evalMs = 0, evalCpu = 0, loss = m?.loss ?? NaN, step = m?.step ?? 0;
  const startStep = step;
  if (m) log(`resuming from ${ckptPath} at step ${step}/${r.steps}`);
  const elapsed = () => wallBefore + (performance.now() - t0 - evalMs) / 1000;
  const cpu = () => {
    const u = cpuUsage(cpu0);
    return cpuBefore + (u.user + u.system) / 1e6 - evalCpu;
  };
  const validationClock = () => ({
    wall: (m?.validation_wall_s ?? 0) + evalMs / 1000,
    cpu: (m?.validation_cpu_s ?? 0) + evalCpu,
  });
  const progressAt = (s: number) => Math.max(s / r.steps, r.time_limit_s ? elapsed() / r.time_limit_s : 0);
  const exportTo = async (dir: string) => {
    const weights = await assembleWeights(
      weightSources(arch, "openai"),
      (n) => Promise.resolve(session.stateDict()[n]),
    );
    await exportClip({ config: arch, weights }, dir, { tokenizer: tokDir });
  };
  const bar = new Progress(r.steps - startStep, {
    label: startStep ? `train-world (from step ${startStep})` : "train-world",
    unit: "steps",
    output: options.progress === false ? "none" : "auto",
  });
  const say = (line: string) => {
    if (bar.output === "terminal") Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[K"));
    log(line);
  };
  let lr = m?.lr ?? 0;
  const save = async (wall: number, cpuSeconds: number) => {
    const clock = validationClock();
    const meta: WorldCheckpointMeta = {
      format: WORLD_CHECKPOINT_FORMAT,
      recipe: r,
      architecture: arch,
      step,
      loss: Number.isNaN(loss) ? null : loss,
      lr,
      curve,
      wall_s: wall,
      cpu_s: cpuSeconds,
      validation_wall_s: clock.wall,
      validation_cpu_s: clock.cpu,
      merges,
    };
    await writeCheckpoint(ckptPath, { meta, arrays: sessionArrays(session) });
  };
  const checkpoint = async () => {
    const te = performance.now(), ce = cpuUsage();
    const wallAt = elapsed(), cpuAt = cpu();
    const point: CurvePoint = {
      step,
      wall_s: +wallAt.toFixed(1),
      cpu_s: +cpuAt.toFixed(1),
      lr,
      loss: +loss.toFixed(4),
    };
    await exportTo(out);
    if (r.validation_size > 0) {
      const v = await validate(out, r.validation_size, r.seed);
      point.logit_scale = +v.logitScale.toFixed(2);
      point.validation = v.validation;
      say(
        JSON.stringify({
          ...point,
          validation: Object.fromEntries(Object.entries(v.validation).map(([k, t]) => [k, t.mean])),
        }),
      );
    }
    curve.push(point);
    await save(wallAt, cpuAt);
    const u = cpuUsage(ce);
    evalCpu += (u.user + u.system) / 1e6;
    evalMs += performance.now() - te;
  };
  const grouped = r.colours_per_batch > 0 ? groupedBatches(r, r.colours_per_batch) : undefined;
  for (let s = 0; grouped && s < step; s++) if (s % r.grouped_every === 0) grouped.skip(s);
  while (step < r.steps && progressAt(step) < 1 && !options.signal?.aborted) {
    const b = grouped && step % r.grouped_every === 0 ? grouped(step) : mixedBatch(r, step);
    const ids = tok.tokenize(b.captions, { contextLength: r.context_length, truncate: true }).ids; // [B, L]
    lr = scheduledLr(r, progressAt(step));
    const l = await session.step({ pixels: b.pixels, ids, size: r.batch_size }, lr);
    loss = Number.isNaN(loss) ? l : 0.95 * loss + 0.05 * l; // smoothed, as plotted
    step++;
    options.onStep?.(step, l);
    const msPerStep = 1000 * (elapsed() - wallBefore) / (step - startStep);
    bar.detail = `step ${step}/${r.steps} · loss ${loss.toFixed(3)} · lr ${lr.toExponential(2)} · ${
      msPerStep.toFixed(0)
    } ms/step`;
    bar.update(step - startStep);
    if (step % 50 === 0) {
      say(
        `step ${step} loss ${loss.toFixed(3)} lr ${lr.toExponential(2)} ${elapsed().toFixed(0)} s ${
          (1000 * elapsed() / step).toFixed(0)
        } ms/step`,
      );
    }
    if (step % r.validate_every === 0) await checkpoint();
    // a step awaits only microtasks: yield to the event loop so that a signal (Ctrl-C) can abort between steps
    if (options.signal) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  bar.finish();
  if (options.signal?.aborted && step < r.steps && progressAt(step) < 1) {
    if (curve.at(-1)?.step !== step) await save(elapsed(), cpu());
    await session.dispose();
    await Deno.remove(tokDir, { recursive: true });
    log(`stopped at step ${step}/${r.steps}; ${ckptPath} holds the run: rerun the same command to resume`);
    return curve;
  }
  if (curve.at(-1)?.step !== step) await checkpoint();
  else if (step === startStep) await exportTo(out); // resumed at its end: rewrite the folder from the checkpoint
  const logitScale = Math.exp(session.stateDict()["logit_scale"][0]);
  const runtime = session.runtime.describe();
  await session.dispose();
  await writeAtomic(`${out}/curve.json`, JSON.stringify({ recipe: r, architecture: arch, curve }, null, 1));
  await Deno.remove(tokDir, { recursive: true });
  const clock = validationClock();
  const record = await writeWorldRecord(out, {
    recipe: r,
    architecture: arch,
    curve,
    wall_s: elapsed(),
    cpu_s: cpu(),
    validation_wall_s: clock.wall,
    validation_cpu_s: clock.cpu,
    logit_scale: logitScale,
    runtime,
    command: options.command,
  });
  if (options.card !== false) {
    await writeWorldCard(out, { record, notes: options.notes, progress: options.progress, log });
  }
  await Deno.remove(ckptPath).catch(() => {}); // the folder is complete; nothing to resume
  return curve;
}

/**
 * The recipes of `configs/world.json` by name (every entry with an architecture; `fields` documents them).
 *
 * @example
 * ```ts
 * import { worldPresets } from "./world_recipe.ts";
 * const { ship } = worldPresets();
 * [ship.architecture, ship.steps, ship.validate_every]; // → ["world-tiny", 9000, 1000]
 * ```
 */
export function worldPresets(): Record<string, WorldRecipe> {
  return Object.fromEntries(
    Object.entries(presets).filter(([, v]) => "architecture" in v),
  ) as unknown as Record<string, WorldRecipe>;
}

/** The command's flags (they make `--help`). */
export const TRAIN_WORLD_COMMAND: CommandSpec = {
  name: "train-world",
  summary:
    "Train a CLIP on the media world by a recipe of src/train/configs/world.json and write its model " +
    "folder with MODEL_CARD.md; a stopped run (Ctrl-C) resumes when rerun.",
  positionals: [],
  flags: [
    {
      name: "preset",
      value: "NAME",
      help: "the recipe",
      default: "full",
      choices: Object.keys(worldPresets()),
    },
    { name: "out", value: "DIR", help: "the model folder to write (required)" },
    { name: "steps", value: "N", help: "training steps (default: the recipe's)" },
    { name: "fresh", help: "start over instead of resuming from DIR/checkpoint.bin" },
    { name: "notes", value: "FILE", help: 'a Markdown paragraph for the card\'s "What limits it" section' },
    { name: "no-card", help: "skip eval.json and MODEL_CARD.md (the suite on test takes a few minutes)" },
    {
      name: "backend",
      value: "NAME",
      help: "ONNX runtime of the engine",
      default: "node",
      choices: ["node", "web", "auto"],
    },
    { name: "threads", value: "N", help: "intra-op threads (default: all cores)" },
  ],
  examples: [
    "deno task train-world --preset quick --out /tmp/world-quick",
    "deno task train-world --preset ship --out models/tiny-clip --notes notes.md",
  ],
};

/** Runs the command on `argv`; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const { flags, help } = parseCommandLine(argv, TRAIN_WORLD_COMMAND);
  if (help) {
    console.log(helpText(TRAIN_WORLD_COMMAND));
    return 0;
  }
  const name = String(flags.preset);
  if (typeof flags.out !== "string") {
    throw new UsageError("missing --out DIR (the model folder to write)", {
      fix: `write e.g. deno task train-world --preset ${name} --out /tmp/world-clip`,
    });
  }
  const recipe = { ...worldPresets()[name] };
  if (flags.steps !== undefined) recipe.steps = integerFlag(flags, "steps", 1);
  const notes = typeof flags.notes === "string" ? await readNotes(flags.notes) : undefined;
  const stop = new AbortController();
  const onInterrupt = () => {
    if (stop.signal.aborted) Deno.exit(130);
    console.error(
      "\nstopping after this step (Ctrl-C again to quit at once, losing the steps since the last checkpoint)",
    );
    stop.abort();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    await trainWorld(recipe, flags.out, console.error, {
      fresh: flags.fresh === true,
      signal: stop.signal,
      card: flags["no-card"] !== true,
      notes,
      backend: flags.backend as BackendChoice,
      threads: flags.threads === undefined ? undefined : integerFlag(flags, "threads", 1),
      command: `deno task train-world --preset ${name} --out ${flags.out}${
        flags.steps !== undefined ? ` --steps ${recipe.steps}` : ""
      }`,
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
  const stopped = await Deno.stat(join(flags.out, "checkpoint.bin")).then(() => true, () => false);
  return stopped ? 130 : 0; // stopped by Ctrl-C: the checkpoint waits for a rerun
}

if (import.meta.main) await runCommand("train-world", () => main(Deno.args));
