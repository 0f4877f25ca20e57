/**
 * The training loop of the tiny CLIP on the training engine (src/train/engine/): batches from the
 * captioned-shapes generator, symmetric InfoNCE, AdamW with warm-up + cosine (`schedule.ts`), the logit
 * scale clamped at 100 — each step one `TrainingSession.step`, a single ONNX graph run — plus periodic
 * validation (loss and zero-shot accuracy), resumable checkpoints and a guard that stops on NaN.
 *
 *   generateBatch(seed, B, offset = step·B) → tokenize (padded to the longest caption)
 *     → TrainingSession.step(batch, cosineLr(step)) → loss; weights + AdamW moments stay in the session
 *   validate: TrainingSession.evaluate → unit features → zero-shot classWeights / accuracyOf (src/zeroshot/)
 *   save / resume: state dict + AdamW moments + step + history → checkpoint.bin (atomic)
 *
 * Same seed → same batches, same weights (the batch of step `s` is examples `s·B … s·B+B−1` of the
 * train split; the data position is the step), so a run resumed from a checkpoint continues exactly, bit
 * for bit, as if never stopped.
 * @module
 */
import { type ClipArchitecture, initWeights, validateArchitecture } from "../model/architecture.ts";
import type { BackendChoice } from "../model/runtime.ts";
import { TrainingSession } from "./engine/session.ts";
import { fromKitWeights, toKitWeights } from "./engine/layout.ts";
import { cosineLr } from "./schedule.ts";
import { readCheckpoint, sessionArrays, sessionFromArrays, writeCheckpoint } from "./checkpoint.ts";
import { CheckpointError, TrainingDivergedError } from "../errors.ts";
import { classNames, generateBatch, type Split } from "../data/shapes.ts";
import type { ClipTokenizer } from "../text/tokenizer.ts";
import { Matrix } from "../math/matrix.ts";
import { normalize } from "../math/similarity.ts";
import { accuracyOf, classWeights, type PromptEmbeddings } from "../zeroshot/classifier.ts";
import { fillTemplate } from "../zeroshot/templates.ts";

/** Hyper-parameters of a run (the entries of `configs/pretrain.json`). */
export interface TrainConfig {
  /** One line on what the preset is for (documentation only). */
  why?: string;
  /** The architecture preset (src/model/architectures/). */
  model: string;
  seed: number;
  steps: number;
  batch_size: number;
  lr: number;
  warmup_fraction: number;
  weight_decay: number;
  validate_every: number;
  validation_size: number;
  checkpoint_every: number;
}

/** Zero-shot accuracies (0–1) and the loss on held-out data. */
export interface ValidationMetrics {
  step: number;
  loss: number;
  colour: number;
  shape: number;
  /** Colour+shape, 80-way, on combinations seen in training. */
  seen: number;
  /** Colour+shape, 80-way, on the held-out combinations. */
  unseen: number;
  logitScale: number;
}

/** One record of the training history. */
export interface HistoryEntry {
  step: number;
  loss: number;
  lr: number;
}

/** A tokenised text batch, `[batch, length]` with length = the longest caption + SOT/EOT. */
export interface TextBatch {
  ids: Int32Array;
  batch: number;
  length: number;
}

/** Where the engine runs (see `TrainingSession.create`). */
export interface TrainerOptions {
  /** `"node"` (native, fastest), `"web"` (WASM) or `"auto"` (default). */
  backend?: BackendChoice;
  /** Intra-op threads (default: all cores). */
  threads?: number;
}

/** The checkpoint format this trainer writes: engine state dicts (openai/CLIP names, PyTorch layouts). */
const CHECKPOINT_FORMAT = "clipkit-engine-1";

/** Metadata stored in a checkpoint. */
interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  config: ClipArchitecture;
  train: TrainConfig;
  step: number;
  /** AdamW's update count (equals `step` for a run of this trainer). */
  adamStep: number;
  /** Where the data stream stands: the next batch is examples `offset … offset + B − 1` of `split`. */
  data: { seed: number; split: Split; offset: number };
  history: HistoryEntry[];
  validations: ValidationMetrics[];
  trainSeconds: number;
  cpuSeconds: number;
}

/**
 * Tokenise, padded to the batch's longest text (nothing after EOT changes a causal CLIP's output).
 * For `["a red circle"]` the ids are `[SOT, a, red, circle, EOT]` (`batch` 1, `length` 5).
 */
function textBatch(tokenizer: ClipTokenizer, texts: string[], contextLength: number): TextBatch {
  const { ids, shape: [batch, length] } = tokenizer.tokenize(texts, { contextLength, padding: "longest" });
  return { ids, batch, length };
}

/** Zero-shot class names per validation task. */
const TASKS = { colour: classNames("colour"), shape: classNames("shape"), combo: classNames("combo") };

/** The rows of `m` whose index passes `keep`. */
function pickRows(m: Matrix, keep: (i: number) => boolean): { rows: Matrix; index: number[] } {
  const index: number[] = [];
  for (let i = 0; i < m.rows; i++) if (keep(i)) index.push(i);
  const out = new Float32Array(index.length * m.cols); // [kept, D]
  index.forEach((r, k) => out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), k * m.cols));
  return { rows: new Matrix(out, index.length, m.cols), index };
}

/** Trains one CLIP; see the module documentation. */
export class Trainer {
  step = 0;
  history: HistoryEntry[] = [];
  validations: ValidationMetrics[] = [];
  /** Wall-clock seconds of the run so far, summed over resumed sessions (kept by the caller). */
  trainSeconds = 0;
  /** CPU seconds of the run so far (user + system), summed over resumed sessions (kept by the caller). */
  cpuSeconds = 0;

  private constructor(
    readonly config: ClipArchitecture,
    readonly train: TrainConfig,
    readonly tokenizer: ClipTokenizer,
    readonly templates: string[],
    /** The engine session that holds the weights and AdamW's moments. */
    readonly session: TrainingSession,
  ) {}

  /**
   * A trainer over fresh weights — the kit's `initWeights(config, train.seed)` (openai/CLIP's
   * initialisation, the numbers every trainer of the kit has started the shipped model from), converted to
   * the engine's layouts — or over the given state dict (openai/CLIP names, PyTorch layouts).
   *
   * @example
   * ```ts
   * import { Trainer } from "./trainer.ts";
   * import { loadArchitecture } from "../model/architecture.ts";
   * import { ClipTokenizer } from "../text/tokenizer.ts";
   * import { pretrainConfig } from "./pretrain.ts";
   * const tokenizer = await ClipTokenizer.load("models/tiny-clip-classic");
   * const t = await Trainer.create(loadArchitecture("tiny"), pretrainConfig("quick"), tokenizer, ["a {}."]);
   * await t.trainStep(); // → 5.1595 (the loss of the first batch; the shipped run started there too)
   * await t.dispose();
   * ```
   */
  static async create(
    config: ClipArchitecture,
    train: TrainConfig,
    tokenizer: ClipTokenizer,
    templates: string[],
    options: TrainerOptions & { stateDict?: Record<string, Float32Array> } = {},
  ): Promise<Trainer> {
    validateArchitecture(config);
    const session = await TrainingSession.create(
      config,
      options.stateDict ?? fromKitWeights(config, initWeights(config, train.seed)),
      {
        backend: options.backend ?? "auto",
        threads: options.threads,
        batchSize: train.batch_size,
        lr: train.lr,
        weightDecay: train.weight_decay,
      },
    );
    return new Trainer(config, train, tokenizer, templates, session);
  }

  /** Learning rate of step `step`. */
  lr(step = this.step): number {
    return cosineLr(
      step,
      this.train.steps,
      Math.round(this.train.warmup_fraction * this.train.steps),
      this.train.lr,
    );
  }

  /**
   * One AdamW update on the given batch (`batch_size` pairs); returns its loss (before the update).
   * A non-finite loss throws {@link TrainingDivergedError}; the session's weights are then spoiled, so
   * resume from the last checkpoint (which stays as it was).
   */
  async stepOn(pixels: Float32Array, captions: string[]): Promise<number> {
    const text = textBatch(this.tokenizer, captions, this.config.context_length); // ids [B, L]
    const lr = this.lr();
    const loss = await this.session.step({ pixels, ids: text.ids, size: text.batch }, lr);
    if (!Number.isFinite(loss)) {
      throw new TrainingDivergedError(
        `the loss became ${loss} at step ${this.step} (learning rate ${lr.toExponential(2)})`,
        { fix: 'lower "lr" in configs/pretrain.json or resume from the last checkpoint with a smaller one' },
      );
    }
    this.history.push({ step: this.step, loss, lr });
    this.step += 1;
    return loss;
  }

  /** The next training batch (deterministic in seed and step) and one update on it. */
  trainStep(): Promise<number> {
    const B = this.train.batch_size;
    const batch = generateBatch(this.train.seed, B, {
      split: "train",
      offset: this.step * B,
      size: this.config.image_resolution,
    });
    return this.stepOn(batch.pixels, batch.captions);
  }

  /**
   * Features of `n` images and texts under the current weights, in chunks of `batch_size` (the last
   * chunk padded with blank rows, which change no other row): image `[n, D]`, text `[n, D]` (not
   * normalised), and the mean loss over the full chunks (NaN when there is none).
   */
  async #features(
    pixels: Float32Array,
    texts: string[],
  ): Promise<{ image: Float32Array; text: Float32Array; loss: number }> {
    const n = texts.length, B = this.train.batch_size, D = this.config.embed_dim;
    const R = this.config.image_resolution, plane = 3 * R * R;
    const image = new Float32Array(n * D), text = new Float32Array(n * D); // [n, D] each
    let lossSum = 0, lossBatches = 0;
    for (let at = 0; at < n; at += B) {
      const m = Math.min(B, n - at);
      const chunk = texts.slice(at, at + m);
      const ids = this.tokenizer.tokenize([...chunk, ...Array(B - m).fill("")], {
        contextLength: this.config.context_length,
      }).ids; // [B, context_length]: one graph shape for every chunk
      const px = new Float32Array(B * plane); // [B, 3, R, R]
      px.set(pixels.subarray(at * plane, (at + m) * plane));
      const out = await this.session.evaluate({ pixels: px, ids, size: B });
      image.set(out.image.subarray(0, m * D), at * D);
      text.set(out.text!.subarray(0, m * D), at * D);
      if (m === B) {
        lossSum += out.loss;
        lossBatches += 1;
      }
    }
    return { image, text, loss: lossBatches ? lossSum / lossBatches : NaN };
  }

  /**
   * Zero-shot class weights `[classes, D]`: the inference path's `classWeights` (src/zeroshot/) over the
   * unit embeddings of every `fillTemplate(template, class)` prompt, encoded by the current weights.
   */
  async classifier(classes: string[], templates: string[] = this.templates): Promise<Matrix> {
    const texts = classes.flatMap((name) => templates.map((t) => fillTemplate(t, name)));
    const R = this.config.image_resolution;
    const { text } = await this.#features(new Float32Array(texts.length * 3 * R * R), texts);
    const prompts: PromptEmbeddings = {
      classNameLists: classes.map((name) => [name]),
      templates: [...templates],
      embeddings: normalize(new Matrix(text, texts.length, this.config.embed_dim)), // [classes · templates, D]
      rows: classes.map((_, c) => [templates.map((_, t) => c * templates.length + t)]),
    };
    return classWeights(prompts); // [classes, D], unit rows
  }

  /** Zero-shot accuracies and loss on `n` examples of `split`. */
  async validate(split: Split = "validation", n = this.train.validation_size): Promise<ValidationMetrics> {
    const data = generateBatch(this.train.seed, n, { split, size: this.config.image_resolution });
    const { image, loss } = await this.#features(data.pixels, data.captions);
    const images = normalize(new Matrix(image, n, this.config.embed_dim)); // [n, D]
    const combo = await this.classifier(TASKS.combo);
    const accuracy = (weights: Matrix, label: Int32Array, keep: (i: number) => boolean) => {
      const { rows, index } = pickRows(images, keep);
      return index.length ? accuracyOf(weights, rows, Int32Array.from(index, (i) => label[i])) : NaN;
    };
    return {
      step: this.step,
      loss,
      colour: accuracy(await this.classifier(TASKS.colour), data.colourIndex, () => true),
      shape: accuracy(await this.classifier(TASKS.shape), data.shapeIndex, () => true),
      seen: accuracy(combo, data.comboIndex, (i) => data.heldOut[i] === 0),
      unseen: accuracy(combo, data.comboIndex, (i) => data.heldOut[i] === 1),
      logitScale: Math.exp(this.session.stateDict()["logit_scale"][0]),
    };
  }

  /** Current weights as an engine state dict (openai/CLIP names, PyTorch layouts; copies). */
  stateDict(): Record<string, Float32Array> {
    return this.session.stateDict();
  }

  /** Current weights in the kit's `[in, out]` layout (src/model/architecture.ts), what `exportClip` takes. */
  weights(): Record<string, Float32Array> {
    return toKitWeights(this.config, this.session.stateDict());
  }

  /** Save weights, AdamW state, step, data position and history atomically. */
  async save(path: string): Promise<void> {
    const arrays = sessionArrays(this.session);
    const meta: CheckpointMeta = {
      format: CHECKPOINT_FORMAT,
      config: this.config,
      train: this.train,
      step: this.step,
      adamStep: this.session.stepCount,
      data: { seed: this.train.seed, split: "train", offset: this.step * this.train.batch_size },
      history: this.history,
      validations: this.validations,
      trainSeconds: this.trainSeconds,
      cpuSeconds: this.cpuSeconds,
    };
    await writeCheckpoint(path, { meta, arrays });
  }

  /**
   * A trainer restored from {@link save}: same weights, moments, step and history.
   *
   * @example
   * ```ts
   * import { Trainer } from "./trainer.ts";
   * import { loadArchitecture } from "../model/architecture.ts";
   * import { ClipTokenizer } from "../text/tokenizer.ts";
   * import { pretrainConfig } from "./pretrain.ts";
   * const tokenizer = await ClipTokenizer.load("models/tiny-clip-classic");
   * const first = await Trainer.create(loadArchitecture("tiny"), pretrainConfig("quick"), tokenizer, ["a {}."]);
   * await first.trainStep();
   * const path = `${await Deno.makeTempDir()}/checkpoint.bin`;
   * await first.save(path);
   * await first.dispose();
   * const t = await Trainer.resume(path, tokenizer, ["a {}."]);
   * t.step; // → 1
   * await t.dispose();
   * ```
   */
  static async resume(
    path: string,
    tokenizer: ClipTokenizer,
    templates: string[],
    options: TrainerOptions = {},
  ): Promise<Trainer> {
    const { meta, arrays } = await readCheckpoint<CheckpointMeta>(path);
    if (meta.format !== CHECKPOINT_FORMAT) {
      throw new CheckpointError(
        "the checkpoint was written by another trainer (TensorFlow.js-era layout)",
        { path, fix: "start over with --fresh, or pass another --out folder" },
      );
    }
    const { stateDict, state } = sessionFromArrays(arrays, meta.config, meta.adamStep, path);
    const t = await Trainer.create(meta.config, meta.train, tokenizer, templates, {
      ...options,
      stateDict,
    });
    t.session.loadState(state);
    t.step = meta.step;
    t.history = meta.history;
    t.validations = meta.validations;
    t.trainSeconds = meta.trainSeconds;
    t.cpuSeconds = meta.cpuSeconds ?? 0;
    return t;
  }

  /** Release the engine's graph sessions. */
  dispose(): Promise<void> {
    return this.session.dispose();
  }
}
