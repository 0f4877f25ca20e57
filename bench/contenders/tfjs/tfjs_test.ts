/**
 * The TensorFlow.js training contender (the kit's first trainer, kept for the training benchmark): its
 * InfoNCE against `src/math/loss.ts`, the explicit-transpose matmul gradient against finite differences,
 * the patch order of a stride-p convolution, text features that ignore padding after EOT, its forward
 * pass against the training engine's (≤ 1e-4 on the same weights), and AdamW lowering the loss.
 * @module
 */
import nodeAssert from "node:assert/strict";
import { initTf, tf } from "./tf.ts";
import { encodeImage, encodeText, patchify, toVariables } from "./clip_tf.ts";
import { clipLossTf } from "./loss_tf.ts";
import { Trainer } from "./trainer.ts";
import {
  type ClipArchitecture,
  initWeights,
  loadArchitecture,
  weightShapes,
} from "../../../src/model/architecture.ts";
import { fromKitWeights, TrainingSession } from "../../../src/train/mod.ts";
import type { TrainConfig } from "../../../src/train/trainer.ts";
import { SeededRng } from "../../../src/data/random.ts";
import { clipLoss } from "../../../src/math/loss.ts";
import { Matrix } from "../../../src/math/matrix.ts";
import { ClipTokenizer } from "../../../src/text/tokenizer.ts";
import { vocabularyFromMerges } from "../../../src/text/vocabulary.ts";
import { generateBatch } from "../../../src/data/shapes.ts";

const assert = (ok: boolean, msg = "assertion failed") => nodeAssert.ok(ok, msg);
const assertEquals = (a: unknown, b: unknown, msg = "values differ") => nodeAssert.deepStrictEqual(a, b, msg);

await initTf();
/** A merge-free (byte-level) CLIP tokenizer: 514 ids. */
const tokenizer = new ClipTokenizer(vocabularyFromMerges([]));
const config: ClipArchitecture = {
  ...loadArchitecture("tiny"),
  vocab_size: tokenizer.vocabSize,
  context_length: 64,
};
const train: TrainConfig = {
  model: "tiny",
  seed: 1,
  steps: 20,
  batch_size: 16,
  lr: 2e-3,
  warmup_fraction: 0.1,
  weight_decay: 0.1,
  validate_every: 10,
  validation_size: 32,
  checkpoint_every: 10,
};

Deno.test("tfjs contender: InfoNCE equals src/math/loss.ts clipLoss (≤ 1e-5)", () => {
  const rng = new SeededRng(2);
  const n = 6, d = 8;
  const a = rng.normals(n * d, 1), b = rng.normals(n * d, 1);
  const scale = 20;
  const ours =
    clipLossTf(tf.tensor2d(a, [n, d]), tf.tensor2d(b, [n, d]), tf.scalar(Math.log(scale))).dataSync()[0];
  const ref = clipLoss(new Matrix(a, n, d), new Matrix(b, n, d), { logitScale: scale }).loss;
  assert(Math.abs(ours - ref) <= 1e-5, `${ours} vs ${ref}`);
});

Deno.test("tfjs contender: the explicit-transpose matmul gradient matches finite differences (rel ≤ 1e-2)", () => {
  const rng = new SeededRng(4);
  const a = tf.tensor(rng.normals(2 * 3 * 4, 1), [2, 3, 4]);
  const b = tf.tensor(rng.normals(2 * 4 * 5, 1), [2, 4, 5]);
  const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y).square().sum() as tf.Scalar;
  const [ga, gb] = tf.grads(f)([a, b]);
  const eps = 1e-2;
  for (const [which, t, g] of [["a", a, ga], ["b", b, gb]] as const) {
    const base = t.dataSync().slice();
    for (const i of [0, 7, base.length - 1]) {
      const plus = base.slice(), minus = base.slice();
      plus[i] += eps;
      minus[i] -= eps;
      const fp = which === "a" ? f(tf.tensor(plus, t.shape), b) : f(a, tf.tensor(plus, t.shape));
      const fm = which === "a" ? f(tf.tensor(minus, t.shape), b) : f(a, tf.tensor(minus, t.shape));
      const numeric = (fp.dataSync()[0] - fm.dataSync()[0]) / (2 * eps);
      const analytic = g.dataSync()[i];
      assert(
        Math.abs(numeric - analytic) <= 1e-2 * Math.max(1, Math.abs(analytic)),
        `${which}[${i}]: ${numeric} vs ${analytic}`,
      );
    }
  }
});

Deno.test("tfjs contender: patchify orders patches like a stride-p convolution", () => {
  const R = 4, p = 2, px = Float32Array.from({ length: 3 * R * R }, (_, i) => i);
  const out = patchify(px, 1, R, p); // [4 patches, 12]
  // patch (0, 1), channel 2, pixel (1, 0) = pixels[2][1][2]
  assertEquals(out[1 * 12 + 2 * 4 + 1 * 2 + 0], px[2 * 16 + 1 * 4 + 2]);
});

Deno.test("tfjs contender: the forward pass equals the training engine's (≤ 1e-4), padding after EOT ignored", async () => {
  const weights = initWeights(config, 0);
  const V = toVariables(config, weights);
  const B = 4;
  const batch = generateBatch(3, B, { split: "train" });
  const long = tokenizer.tokenize(batch.captions, { contextLength: 64 }).ids; // [B, 64]
  const short = tokenizer.tokenize(batch.captions, { contextLength: 64, padding: "longest" }).ids; // [B, L]
  const tfImage = encodeImage(config, V, batch.pixels, B).dataSync();
  const tfLong = encodeText(config, V, long, B).dataSync(),
    tfShort = encodeText(config, V, short, B).dataSync();
  for (let i = 0; i < tfLong.length; i++) assert(Math.abs(tfLong[i] - tfShort[i]) < 1e-5, `text ${i}`);
  const s = await TrainingSession.create(config, fromKitWeights(config, weights), {
    backend: "node",
    batchSize: B,
    threads: 1,
  });
  const out = await s.evaluate({ pixels: batch.pixels, ids: short, size: B });
  await s.dispose();
  for (let i = 0; i < tfImage.length; i++) assert(Math.abs(tfImage[i] - out.image[i]) <= 1e-4, `image ${i}`);
  for (let i = 0; i < tfShort.length; i++) assert(Math.abs(tfShort[i] - out.text![i]) <= 1e-4, `text ${i}`);
  tf.dispose(Object.values(V));
  assertEquals(weightShapes(config).length, Object.keys(weights).length);
});

Deno.test("tfjs contender: a few AdamW steps lower the loss on a fixed batch", () => {
  const t = new Trainer(config, train, tokenizer, ["a {}."]);
  const batch = generateBatch(3, 16, { split: "train" });
  const first = t.stepOn(batch.pixels, batch.captions);
  let last = first;
  for (let i = 0; i < 7; i++) last = t.stepOn(batch.pixels, batch.captions);
  assert(last < first - 0.3, `loss ${first} → ${last}`);
  t.dispose();
});
