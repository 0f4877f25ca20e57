/**
 * The training loop of the tiny CLIP: batches from the captioned-shapes generator, symmetric
 * InfoNCE, AdamW with warm-up + cosine, the logit scale clamped at 100, periodic validation
 * (loss and zero-shot accuracy), resumable checkpoints and a guard that stops on NaN.
 *
 * Same seed → same batches, same weights (the batch of step `s` is examples `s·B … s·B+B−1` of the
 * train split), so a run resumed from a checkpoint continues exactly as if never stopped.
 * @module
 */
import { tf } from "./tf.ts";
import { type ClipConfig, LOGIT_SCALE_MAX, validateConfig } from "./config.ts";
import { encodeImage, encodeText, initWeights, toVariables, weightShapes } from "./clip_tf.ts";
import { clipLossTf, l2normalize } from "./loss_tf.ts";
import { AdamW, cosineLr } from "./optim.ts";
import { CheckpointError, readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
import { classNames, generateBatch, type Split } from "../data/shapes.ts";
import type { ClipTokenizer } from "../text/tokenizer.ts";

/** Hyper-parameters of a run (the entries of `configs/pretrain.json`). */
export interface TrainConfig {
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

/** Raised when the loss stops being a finite number. */
export class TrainingDivergedError extends Error {
  override name = "TrainingDivergedError";
}

/** Metadata stored in a checkpoint. */
interface CheckpointMeta {
  config: ClipConfig;
  train: TrainConfig;
  step: number;
  history: HistoryEntry[];
  validations: ValidationMetrics[];
  trainSeconds: number;
  cpuSeconds: number;
}

/** The tokenised, trimmed text batch: `[batch, length]` with length = longest caption + SOT/EOT. */
export interface TextBatch {
  ids: Int32Array;
  batch: number;
  length: number;
}

/**
 * Tokenise and drop the all-padding tail columns (nothing after EOT changes a causal CLIP's output).
 *
 * @example
 * ```ts
 * tokenizeTrimmed(tok, ["a red circle"], 24); // → { ids: Int32Array [SOT, a, red, circle, EOT], batch: 1, length: 5 }
 * ```
 */
export function tokenizeTrimmed(tokenizer: ClipTokenizer, texts: string[], contextLength: number): TextBatch {
  const { ids } = tokenizer.tokenize(texts, { contextLength });
  let length = 1;
  for (let b = 0; b < texts.length; b++) {
    for (let j = contextLength - 1; j >= length; j--) {
      if (ids[b * contextLength + j] !== 0) {
        length = j + 1;
        break;
      }
    }
  }
  const out = new Int32Array(texts.length * length);
  for (let b = 0; b < texts.length; b++) {
    out.set(ids.subarray(b * contextLength, b * contextLength + length), b * length);
  }
  return { ids: out, batch: texts.length, length };
}

/** Zero-shot class names per validation task. */
const TASKS = { colour: classNames("colour"), shape: classNames("shape"), combo: classNames("combo") };

/** Trains one CLIP; see the module documentation. */
export class Trainer {
  readonly vars: Record<string, tf.Variable>;
  readonly optimizer: AdamW;
  step = 0;
  history: HistoryEntry[] = [];
  validations: ValidationMetrics[] = [];
  /** Wall-clock seconds of the run so far, summed over resumed sessions (kept by the caller). */
  trainSeconds = 0;
  /** CPU seconds of the run so far (user + system), summed over resumed sessions (kept by the caller). */
  cpuSeconds = 0;

  /**
   * @example
   * ```ts
   * const t = new Trainer(loadConfig("tiny"), pretrainConfig("quick"), tokenizer, ["a {}."]);
   * t.trainStep(); // → 4.86 (the loss of the first batch)
   * ```
   */
  constructor(
    readonly config: ClipConfig,
    readonly train: TrainConfig,
    readonly tokenizer: ClipTokenizer,
    readonly templates: string[],
    weights?: Record<string, Float32Array>,
  ) {
    validateConfig(config);
    this.vars = toVariables(config, weights ?? initWeights(config, train.seed));
    this.optimizer = new AdamW(this.vars, { weightDecay: train.weight_decay });
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

  /** Loss of a batch under the current weights (no update). */
  loss(pixels: Float32Array, text: TextBatch): tf.Scalar {
    const img = encodeImage(this.config, this.vars, pixels, text.batch); // [B, D]
    const txt = encodeText(this.config, this.vars, text.ids, text.batch); // [B, D]
    return clipLossTf(img, txt, this.vars["logit_scale"]);
  }

  /** One AdamW update on the given batch; returns its loss (before the update). */
  stepOn(pixels: Float32Array, captions: string[]): number {
    const text = tokenizeTrimmed(this.tokenizer, captions, this.config.context_length);
    const lr = this.lr();
    const { value, grads: byId } = tf.variableGrads(() => this.loss(pixels, text), Object.values(this.vars));
    const grads = Object.fromEntries(Object.entries(this.vars).map(([name, v]) => [name, byId[v.name]]));
    const loss = value.dataSync()[0];
    if (!Number.isFinite(loss)) {
      tf.dispose([value, ...Object.values(grads)]);
      throw new TrainingDivergedError(
        `the loss became ${loss} at step ${this.step} (learning rate ${lr.toExponential(2)}): ` +
          `lower "lr" in configs/pretrain.json or resume from the last checkpoint with a smaller one`,
      );
    }
    this.optimizer.apply(grads, lr);
    tf.dispose([value, ...Object.values(grads)]);
    const s = this.vars["logit_scale"];
    tf.tidy(() => s.assign(tf.clipByValue(s, 0, Math.log(LOGIT_SCALE_MAX))));
    this.history.push({ step: this.step, loss, lr });
    this.step += 1;
    return loss;
  }

  /** The next training batch (deterministic in seed and step) and one update on it. */
  trainStep(): number {
    const B = this.train.batch_size;
    const batch = generateBatch(this.train.seed, B, {
      split: "train",
      offset: this.step * B,
      size: this.config.image_resolution,
    });
    return this.stepOn(batch.pixels, batch.captions);
  }

  /** Normalised text embeddings of `classes`, averaged over the templates (CLIP's prompt ensemble). */
  classifier(classes: string[], templates = this.templates): tf.Tensor2D {
    return tf.tidy(() => {
      const rows: tf.Tensor[] = [];
      for (const name of classes) {
        const texts = templates.map((t) => t.replaceAll("{}", name));
        const text = tokenizeTrimmed(this.tokenizer, texts, this.config.context_length);
        const emb = l2normalize(encodeText(this.config, this.vars, text.ids, text.batch)).mean(0);
        rows.push(emb.div(emb.norm()));
      }
      return tf.stack(rows) as tf.Tensor2D; // [classes, D]
    });
  }

  /** Zero-shot accuracies and loss on `n` examples of `split`. */
  validate(split: Split = "validation", n = this.train.validation_size): ValidationMetrics {
    const B = this.train.batch_size;
    const data = generateBatch(this.train.seed, n, { split, size: this.config.image_resolution });
    const plane = data.pixels.length / n;
    let lossSum = 0, lossBatches = 0;
    const imgRows: Float32Array[] = [];
    for (let at = 0; at < n; at += B) {
      const m = Math.min(B, n - at);
      const pixels = data.pixels.subarray(at * plane, (at + m) * plane);
      const text = tokenizeTrimmed(
        this.tokenizer,
        data.captions.slice(at, at + m),
        this.config.context_length,
      );
      tf.tidy(() => {
        const img = encodeImage(this.config, this.vars, pixels, m);
        imgRows.push(l2normalize(img).dataSync() as Float32Array);
        if (m === B) {
          lossSum +=
            clipLossTf(img, encodeText(this.config, this.vars, text.ids, m), this.vars["logit_scale"])
              .dataSync()[0];
          lossBatches += 1;
        }
      });
    }
    const images = tf.tensor2d(concat(imgRows), [n, this.config.embed_dim]);
    const accuracy = (classes: string[], label: Int32Array, keep: (i: number) => boolean) =>
      tf.tidy(() => {
        const pred = tf.matMul(images, this.classifier(classes), false, true).argMax(1).dataSync();
        let right = 0, total = 0;
        for (let i = 0; i < n; i++) {
          if (!keep(i)) continue;
          total += 1;
          if (pred[i] === label[i]) right += 1;
        }
        return total ? right / total : NaN;
      });
    const metrics: ValidationMetrics = {
      step: this.step,
      loss: lossBatches ? lossSum / lossBatches : NaN,
      colour: accuracy(TASKS.colour, data.colourIndex, () => true),
      shape: accuracy(TASKS.shape, data.shapeIndex, () => true),
      seen: accuracy(TASKS.combo, data.comboIndex, (i) => data.heldOut[i] === 0),
      unseen: accuracy(TASKS.combo, data.comboIndex, (i) => data.heldOut[i] === 1),
      logitScale: Math.exp(this.vars["logit_scale"].dataSync()[0]),
    };
    images.dispose();
    return metrics;
  }

  /** Current weights as arrays (copies). */
  weights(): Record<string, Float32Array> {
    return Object.fromEntries(
      weightShapes(this.config).map(([n]) => [n, new Float32Array(this.vars[n].dataSync())]),
    );
  }

  /** Save weights, AdamW state, step and history atomically. */
  async save(path: string): Promise<void> {
    const opt = this.optimizer.state();
    const arrays: Record<string, Float32Array> = {};
    for (const [n, a] of Object.entries(this.weights())) arrays[`param/${n}`] = a;
    for (const [n, a] of Object.entries(opt.m)) arrays[`m/${n}`] = a;
    for (const [n, a] of Object.entries(opt.v)) arrays[`v/${n}`] = a;
    const meta: CheckpointMeta & { adamStep: number } = {
      config: this.config,
      train: this.train,
      step: this.step,
      history: this.history,
      validations: this.validations,
      trainSeconds: this.trainSeconds,
      cpuSeconds: this.cpuSeconds,
      adamStep: opt.step,
    };
    await writeCheckpoint(path, { meta, arrays });
  }

  /**
   * A trainer restored from {@link save}: same weights, moments, step and history.
   *
   * @example
   * ```ts
   * const t = await Trainer.resume("run/checkpoint.bin", tokenizer, ["a {}."]);
   * t.step; // → 1200
   * ```
   */
  static async resume(path: string, tokenizer: ClipTokenizer, templates: string[]): Promise<Trainer> {
    const { meta, arrays } = await readCheckpoint<CheckpointMeta & { adamStep: number }>(path);
    const pick = (prefix: string) =>
      Object.fromEntries(
        Object.entries(arrays).filter(([k]) => k.startsWith(prefix)).map((
          [k, a],
        ) => [k.slice(prefix.length), a]),
      );
    const params = pick("param/");
    for (const [name, shape] of weightShapes(meta.config)) {
      const want = shape.reduce((a, b) => a * b, 1);
      if (params[name]?.length !== want) {
        throw new CheckpointError(
          `checkpoint ${path} lacks ${name} [${shape}]: it was written by another model`,
        );
      }
    }
    const t = new Trainer(meta.config, meta.train, tokenizer, templates, params);
    t.optimizer.load({ step: meta.adamStep, m: pick("m/"), v: pick("v/") });
    t.step = meta.step;
    t.history = meta.history;
    t.validations = meta.validations;
    t.trainSeconds = meta.trainSeconds;
    t.cpuSeconds = meta.cpuSeconds ?? 0;
    return t;
  }

  /** Free all tensors. */
  dispose(): void {
    this.optimizer.dispose();
    tf.dispose(Object.values(this.vars));
  }
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
