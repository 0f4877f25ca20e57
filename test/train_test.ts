/**
 * Tiny-CLIP training (TensorFlow.js, WASM): loss definition against `src/loss.ts`, the fast matmul
 * gradient against finite differences, the learning-rate schedule and weight-decay mask, loss
 * going down on a fixed batch, bit-identical checkpoint resume, and the NaN guard.
 */
import nodeAssert from "node:assert/strict";
import { initTf, tf } from "../src/train/tf.ts";
import {
  type ClipArchitecture,
  initWeights,
  loadArchitecture,
  parameterCount,
  validateArchitecture,
  weightShapes,
} from "../src/model/architecture.ts";
import { ArchitectureError } from "../src/errors.ts";
import { encodeText, patchify } from "../src/train/clip_tf.ts";
import { clipLossTf } from "../src/train/loss_tf.ts";
import { cosineLr, isDecayed } from "../src/train/optim.ts";
import { type TrainConfig, Trainer } from "../src/train/trainer.ts";
import { TrainingDivergedError } from "../src/errors.ts";
import { SeededRng } from "../src/data/random.ts";
import { clipLoss } from "../src/math/loss.ts";
import { Matrix } from "../src/math/matrix.ts";
import { ClipTokenizer } from "../src/text/tokenizer.ts";
import { vocabularyFromMerges } from "../src/text/vocabulary.ts";
import { generateBatch } from "../src/data/shapes.ts";

const assert = (ok: boolean, msg = "assertion failed") => nodeAssert.ok(ok, msg);
const assertEquals = (a: unknown, b: unknown, msg = "values differ") => nodeAssert.deepStrictEqual(a, b, msg);

await initTf();
/** A merge-free (byte-level) CLIP tokenizer: 514 ids, enough to train on without learning BPE. */
const tokenizer = new ClipTokenizer(vocabularyFromMerges([]));
/** The reference architecture with a byte-level vocabulary (so longer contexts). */
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

Deno.test("train: the reference config has ≈230k parameters, and bad configs are refused", () => {
  const n = parameterCount({ ...loadArchitecture("tiny"), vocab_size: 687 });
  assert(n > 200_000 && n < 300_000, `${n} parameters`);
  nodeAssert.throws(() => validateArchitecture({ ...config, vision_heads: 5 }), ArchitectureError);
  nodeAssert.throws(
    () => validateArchitecture({ ...config, image_resolution: 30 }),
    /multiple of the patch size/,
  );
});

Deno.test("train: InfoNCE in TensorFlow.js equals src/loss.ts clipLoss (≤ 1e-5)", () => {
  const rng = new SeededRng(2);
  const n = 6, d = 8;
  const a = rng.normals(n * d, 1), b = rng.normals(n * d, 1);
  const scale = 20;
  const ours =
    clipLossTf(tf.tensor2d(a, [n, d]), tf.tensor2d(b, [n, d]), tf.scalar(Math.log(scale))).dataSync()[0];
  const ref = clipLoss(new Matrix(a, n, d), new Matrix(b, n, d), { logitScale: scale }).loss;
  assert(Math.abs(ours - ref) <= 1e-5, `${ours} vs ${ref}`);
});

Deno.test("train: the explicit-transpose matmul gradient matches finite differences (rel ≤ 1e-2)", () => {
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

Deno.test("train: warm-up + cosine schedule and the weight-decay mask", () => {
  assertEquals(cosineLr(0, 100, 10, 1e-3), 1e-4);
  assertEquals(cosineLr(9, 100, 10, 1e-3), 1e-3);
  assert(Math.abs(cosineLr(55, 100, 10, 1e-3) - 5e-4) < 1e-12);
  assert(cosineLr(99, 100, 10, 1e-3) < 1e-6);
  assert(isDecayed("visual.transformer.resblocks.0.attn.in_proj_weight"));
  assert(isDecayed("text_projection"));
  for (
    const n of ["token_embedding.weight", "positional_embedding", "visual.class_embedding", "logit_scale"]
  ) {
    assert(!isDecayed(n), n);
  }
  assert(!isDecayed("ln_final.weight") && !isDecayed("transformer.resblocks.1.mlp.c_fc.bias"));
});

Deno.test("train: patchify orders patches like a stride-p convolution", () => {
  const R = 4, p = 2, px = Float32Array.from({ length: 3 * R * R }, (_, i) => i);
  const out = patchify(px, 1, R, p); // [4 patches, 12]
  // patch (0, 1), channel 2, pixel (1, 0) = pixels[2][1][2]
  assertEquals(out[1 * 12 + 2 * 4 + 1 * 2 + 0], px[2 * 16 + 1 * 4 + 2]);
});

Deno.test("train: text features ignore the padding after EOT (dynamic length)", () => {
  const W = Object.fromEntries(
    Object.entries(initWeights(config, 0)).map((
      [n, a],
    ) => [n, tf.tensor(a, weightShapes(config).find((s) => s[0] === n)![1])]),
  );
  const long = tokenizer.tokenize(["a red circle"], { contextLength: 64 }).ids;
  const short = long.slice(0, 20);
  const a = encodeText(config, W, long, 1).dataSync(), b = encodeText(config, W, short, 1).dataSync();
  for (let i = 0; i < a.length; i++) assert(Math.abs(a[i] - b[i]) < 1e-5);
});

Deno.test("train: a few AdamW steps lower the loss on a fixed batch", () => {
  const t = new Trainer(config, train, tokenizer, ["a {}."]);
  const batch = generateBatch(3, 16, { split: "train" });
  const first = t.stepOn(batch.pixels, batch.captions);
  let last = first;
  for (let i = 0; i < 7; i++) last = t.stepOn(batch.pixels, batch.captions);
  assert(last < first - 0.3, `loss ${first} → ${last}`);
  t.dispose();
});

Deno.test("train: resuming from a checkpoint continues bit-identically", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clipkit-ckpt-" });
  try {
    const straight = new Trainer(config, train, tokenizer, ["a {}."]);
    for (let i = 0; i < 4; i++) straight.trainStep();
    const stopped = new Trainer(config, train, tokenizer, ["a {}."]);
    for (let i = 0; i < 2; i++) stopped.trainStep();
    await stopped.save(`${dir}/checkpoint.bin`);
    stopped.dispose();
    const resumed = await Trainer.resume(`${dir}/checkpoint.bin`, tokenizer, ["a {}."]);
    assertEquals(resumed.step, 2);
    for (let i = 0; i < 2; i++) resumed.trainStep();
    const a = straight.weights(), b = resumed.weights();
    for (const [name] of weightShapes(config)) assertEquals(b[name], a[name], name);
    assertEquals(resumed.history.map((h) => h.loss), straight.history.map((h) => h.loss));
    assertEquals(resumed.optimizer.step, 4);
    straight.dispose();
    resumed.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train: a NaN loss stops training with TrainingDivergedError", () => {
  const t = new Trainer(config, train, tokenizer, ["a {}."]);
  const batch = generateBatch(3, 16, { split: "train" });
  batch.pixels[5] = NaN;
  nodeAssert.throws(() => t.stepOn(batch.pixels, batch.captions), TrainingDivergedError);
  nodeAssert.throws(() => t.stepOn(batch.pixels, batch.captions), /lower "lr"/);
  t.dispose();
});

Deno.test("train: validation reports loss and zero-shot accuracies in [0, 1]", () => {
  const t = new Trainer(config, train, tokenizer, ["a {}.", "a picture of a {}."]);
  const m = t.validate("validation", 32);
  for (const k of ["colour", "shape", "seen", "unseen"] as const) {
    assert(m[k] >= 0 && m[k] <= 1, `${k} ${m[k]}`);
  }
  assert(Number.isFinite(m.loss) && m.loss > 0);
  assert(Math.abs(m.logitScale - 1 / 0.07) < 1e-3);
  t.dispose();
});
