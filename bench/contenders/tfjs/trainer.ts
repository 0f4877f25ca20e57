/**
 * The TensorFlow.js trainer, the kit's first training path, kept as a benchmark contender (the kit
 * trains with src/train/trainer.ts on its training engine; the run configuration and history types are
 * that trainer's). The training loop of the tiny CLIP: batches from the captioned-shapes generator, symmetric
 * InfoNCE, AdamW with warm-up + cosine, the logit scale clamped at 100, periodic validation
 * (loss and zero-shot accuracy), resumable checkpoints and a guard that stops on NaN.
 *
 * Same seed → same batches, same weights (the batch of step `s` is examples `s·B … s·B+B−1` of the
 * train split), so a run resumed from a checkpoint continues exactly as if never stopped.
 * @module
 */
import { tf } from "./tf.ts";
import { MAX_LOGIT_SCALE } from "../../../src/constants.ts";
import {
  type ClipArchitecture,
  initWeights,
  validateArchitecture,
  weightShapes,
} from "../../../src/model/architecture.ts";
import { encodeImage, encodeText, toVariables } from "./clip_tf.ts";
import { clipLossTf, l2normalize } from "./loss_tf.ts";
import { AdamW, cosineLr } from "./optim.ts";
import { readCheckpoint, writeCheckpoint } from "../../../src/train/checkpoint.ts";
import { CheckpointError, TrainingDivergedError } from "../../../src/errors.ts";
import { classNames, generateBatch, type Split } from "../../../src/data/shapes.ts";
import type { ClipTokenizer } from "../../../src/text/tokenizer.ts";
import { Matrix } from "../../../src/math/matrix.ts";
import { classWeights, type PromptEmbeddings } from "../../../src/zeroshot/classifier.ts";
import { fillTemplate } from "../../../src/zeroshot/templates.ts";
import type { HistoryEntry, TextBatch, TrainConfig, ValidationMetrics } from "../../../src/train/trainer.ts";

export type { HistoryEntry, TextBatch, TrainConfig, ValidationMetrics };

/** Metadata stored in a checkpoint. */
interface CheckpointMeta {
  config: ClipArchitecture;
  train: TrainConfig;
  step: number;
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
   * import { Trainer } from "./trainer.ts";
   * import { loadArchitecture } from "../../../src/model/architecture.ts";
   * import { ClipTokenizer } from "../../../src/text/tokenizer.ts";
   * import { pretrainConfig } from "../../../src/train/pretrain.ts";
   * import { initTf } from "./tf.ts";
   * await initTf();
   * const tokenizer = await ClipTokenizer.load("models/tiny-clip");
   * const t = new Trainer(loadArchitecture("tiny"), pretrainConfig("quick"), tokenizer, ["a {}."]);
   * t.trainStep(); // → 5.3779826164245605 (the loss of the first batch, WASM backend)
   * ```
   */
  constructor(
    readonly config: ClipArchitecture,
    readonly train: TrainConfig,
    readonly tokenizer: ClipTokenizer,
    readonly templates: string[],
    weights?: Record<string, Float32Array>,
  ) {
    validateArchitecture(config);
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
    const text = textBatch(this.tokenizer, captions, this.config.context_length);
    const lr = this.lr();
    const { value, grads: byId } = tf.variableGrads(() => this.loss(pixels, text), Object.values(this.vars));
    const grads = Object.fromEntries(Object.entries(this.vars).map(([name, v]) => [name, byId[v.name]]));
    const loss = value.dataSync()[0];
    if (!Number.isFinite(loss)) {
      tf.dispose([value, ...Object.values(grads)]);
      throw new TrainingDivergedError(
        `the loss became ${loss} at step ${this.step} (learning rate ${lr.toExponential(2)})`,
        { fix: 'lower "lr" in configs/pretrain.json or resume from the last checkpoint with a smaller one' },
      );
    }
    this.optimizer.apply(grads, lr);
    tf.dispose([value, ...Object.values(grads)]);
    const s = this.vars["logit_scale"];
    tf.tidy(() => s.assign(tf.clipByValue(s, 0, Math.log(MAX_LOGIT_SCALE))));
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

  /**
   * Zero-shot class weights `[classes, D]`: the inference path's `classWeights` (src/zeroshot/) over the
   * unit embeddings of every `fillTemplate(template, class)` prompt, encoded by the current weights.
   */
  classifier(classes: string[], templates = this.templates): tf.Tensor2D {
    const texts = classes.flatMap((name) => templates.map((t) => fillTemplate(t, name)));
    const D = this.config.embed_dim, B = this.train.batch_size;
    const unit = new Float32Array(texts.length * D); // [classes · templates, D]
    for (let at = 0; at < texts.length; at += B) {
      const text = textBatch(this.tokenizer, texts.slice(at, at + B), this.config.context_length);
      tf.tidy(() => {
        unit.set(l2normalize(encodeText(this.config, this.vars, text.ids, text.batch)).dataSync(), at * D);
      });
    }
    const prompts: PromptEmbeddings = {
      classNameLists: classes.map((name) => [name]),
      templates: [...templates],
      embeddings: new Matrix(unit, texts.length, D),
      rows: classes.map((_, c) => [templates.map((_, t) => c * templates.length + t)]),
    };
    const weights = classWeights(prompts); // [classes, D], unit rows
    return tf.tensor2d(weights.data, [weights.rows, weights.cols]);
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
      const text = textBatch(
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
   * import { Trainer } from "./trainer.ts";
   * import { loadArchitecture } from "../../../src/model/architecture.ts";
   * import { ClipTokenizer } from "../../../src/text/tokenizer.ts";
   * import { pretrainConfig } from "../../../src/train/pretrain.ts";
   * import { initTf } from "./tf.ts";
   * await initTf();
   * const tokenizer = await ClipTokenizer.load("models/tiny-clip");
   * const first = new Trainer(loadArchitecture("tiny"), pretrainConfig("quick"), tokenizer, ["a {}."]);
   * first.trainStep();
   * const path = `${await Deno.makeTempDir()}/checkpoint.bin`;
   * await first.save(path);
   * const t = await Trainer.resume(path, tokenizer, ["a {}."]);
   * t.step; // → 1
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
          `the checkpoint lacks ${name} [${shape}], so it was written by another model`,
          { path, fix: "resume with the architecture it was written for, or pass another --out folder" },
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
