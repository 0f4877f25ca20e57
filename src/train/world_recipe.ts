/**
 * A training recipe for the media world (the shapes world drawn as icons, outlines, sketches, photos and pixel
 * art, with alt-text captions):
 *
 * training captions ─ learnBpe ─► tokenizer ─┐
 * architecture preset (src/model/architectures/NAME.json) ─► TrainingSession (one ONNX graph a step)
 * batches mixed over media (`media_mix`) ─► AdamW steps, linear warm-up then cosine decay ─► every
 * `validate_every` steps: export → zero-shot colour / shape / count on the suite's validation pictures
 * (ensemble of each dataset's template set) ─► curve.json, and the exported model folder at the end.
 *
 * The schedule runs over `steps`, or over `time_limit_s` of wall time when that comes first: the cosine is
 * driven by max(step / steps, elapsed / time_limit_s), so a run on a slower (or shared) machine still ends
 * with its learning rate decayed instead of being cut off at a high one. Such a run is reproducible in its
 * step count only; rerun with `steps` set to the count it reached (and no time limit) for the same bytes.
 *
 * ```sh
 * deno run -A src/train/world_recipe.ts --preset full --out /tmp/world-clip
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { cpuUsage } from "node:process";
import { TrainingSession } from "./engine/session.ts";
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
import { TrainError } from "../errors.ts";
import presets from "./configs/world.json" with { type: "json" };

/** One preset of `configs/world.json` (the `why` fields are documentation only). */
export interface WorldRecipe {
  architecture: string;
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
  validation_size: number;
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
 * once and the same recipe gives the same batches.
 *
 * @example
 * ```ts
 * import { groupedBatches } from "./world_recipe.ts";
 * const next = groupedBatches({ seed: 0, batch_size: 4 }, 2);
 * next(0).captions.length; // → 4
 * ```
 */
export function groupedBatches(
  r: Pick<WorldRecipe, "seed" | "batch_size">,
  colours: number,
): (step: number) => { pixels: Float32Array; captions: string[] } {
  const queues: number[][] = Array.from({ length: 10 }, () => []);
  let cursor = 0;
  const chw = 3 * WORLD_IMAGE_SIZE * WORLD_IMAGE_SIZE;
  return (step) => {
    const B = r.batch_size, pixels = new Float32Array(B * chw), captions: string[] = []; // [B, 3, 40, 40]
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
        const b = generateBatch(r.seed, 1, { split: "train", medium: "mixed", offset: index });
        pixels.set(b.pixels, at * chw);
        captions.push(b.captions[0]);
        at++;
      }
    }
    return { pixels, captions };
  };
}

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

/**
 * Train the recipe and write the model folder `out` (ONNX towers, tokenizer, config) with `curve.json`.
 *
 * @example
 * ```ts ignore
 * import { trainWorld } from "./world_recipe.ts";
 * const curve = await trainWorld({ ...presets.quick, steps: 20 } as never, "/tmp/world-clip-20");
 * ```
 */
export async function trainWorld(
  r: WorldRecipe,
  out: string,
  log: (line: string) => void = console.error,
): Promise<CurvePoint[]> {
  if (!(r.steps > 0) || !(r.batch_size > 0)) {
    throw new TrainError(`steps ${r.steps} and batch_size ${r.batch_size} must be positive`, {
      fix: "fix configs/world.json",
    });
  }
  await Deno.mkdir(out, { recursive: true });
  const tokDir = await Deno.makeTempDir({ prefix: "clipkit-world-bpe-" });
  const texts = generateCaptions(r.seed, r.bpe.captions, { split: "train", medium: "mixed" }).map((c) =>
    c.caption
  );
  await writeHfTokenizerFiles(tokDir, learnBpe(texts, { vocabSize: r.bpe.vocab_size }).merges);
  const tok = await ClipTokenizer.load(tokDir);
  const arch = {
    ...(await worldArchitecture(r.architecture)),
    context_length: r.context_length,
    vocab_size: tok.vocabSize,
  };
  log(`architecture ${r.architecture}: ${parameterCount(arch)} parameters`);
  const session = await TrainingSession.create(arch, initStateDict(arch, r.seed), {
    backend: "node",
    batchSize: r.batch_size,
    lr: r.lr,
    weightDecay: r.weight_decay,
    betas: r.betas,
  });
  const curve: CurvePoint[] = [];
  const cpu0 = cpuUsage(), t0 = performance.now();
  let evalMs = 0, evalCpu = 0, loss = NaN, step = 0;
  const elapsed = () => (performance.now() - t0 - evalMs) / 1000;
  const cpu = () => {
    const u = cpuUsage(cpu0);
    return (u.user + u.system) / 1e6 - evalCpu;
  };
  const progressAt = (s: number) => Math.max(s / r.steps, r.time_limit_s ? elapsed() / r.time_limit_s : 0);
  const exportTo = async (dir: string) => {
    const weights = await assembleWeights(
      weightSources(arch, "openai"),
      (n) => Promise.resolve(session.stateDict()[n]),
    );
    await exportClip({ config: arch, weights }, dir, { tokenizer: tokDir });
  };
  const checkpoint = async (lr: number) => {
    const te = performance.now(), ce = cpuUsage();
    const point: CurvePoint = {
      step,
      wall_s: +elapsed().toFixed(1),
      cpu_s: +cpu().toFixed(1),
      lr,
      loss: +loss.toFixed(4),
    };
    await exportTo(out);
    const v = await validate(out, r.validation_size, r.seed);
    point.logit_scale = +v.logitScale.toFixed(2);
    point.validation = v.validation;
    curve.push(point);
    log(
      JSON.stringify({
        ...point,
        validation: Object.fromEntries(Object.entries(v.validation).map(([k, t]) => [k, t.mean])),
      }),
    );
    const u = cpuUsage(ce);
    evalCpu += (u.user + u.system) / 1e6;
    evalMs += performance.now() - te;
  };
  const grouped = r.colours_per_batch > 0 ? groupedBatches(r, r.colours_per_batch) : undefined;
  let lr = 0;
  while (step < r.steps && progressAt(step) < 1) {
    const b = grouped && step % r.grouped_every === 0 ? grouped(step) : mixedBatch(r, step);
    const ids = tok.tokenize(b.captions, { contextLength: r.context_length, truncate: true }).ids; // [B, L]
    lr = scheduledLr(r, progressAt(step));
    const l = await session.step({ pixels: b.pixels, ids, size: r.batch_size }, lr);
    loss = Number.isNaN(loss) ? l : 0.95 * loss + 0.05 * l; // smoothed, as plotted
    step++;
    if (step % 50 === 0) {
      log(
        `step ${step} loss ${loss.toFixed(3)} lr ${lr.toExponential(2)} ${elapsed().toFixed(0)} s ${
          (1000 * elapsed() / step).toFixed(0)
        } ms/step`,
      );
    }
    if (step % r.validate_every === 0) await checkpoint(lr);
  }
  if (curve.at(-1)?.step !== step) await checkpoint(lr);
  await session.dispose();
  await writeAtomic(`${out}/curve.json`, JSON.stringify({ recipe: r, architecture: arch, curve }, null, 1));
  await Deno.remove(tokDir, { recursive: true });
  return curve;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { preset: { type: "string", default: "full" }, out: { type: "string" } },
  });
  // every entry with an architecture is a preset; "fields" documents them
  const all = Object.fromEntries(
    Object.entries(presets).filter(([, v]) => "architecture" in v),
  ) as unknown as Record<
    string,
    WorldRecipe
  >;
  const r = all[values.preset!];
  if (!r || !values.out) {
    throw new TrainError(`no preset ${JSON.stringify(values.preset)} or no --out`, {
      fix: `pass --preset ${Object.keys(all).join("|")} --out DIR`,
    });
  }
  await trainWorld(r, values.out);
}
