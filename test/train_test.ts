/**
 * Tiny-CLIP pretraining on the training engine (src/train/trainer.ts over `TrainingSession`): the
 * reference config and its validation, the engine's loss against `src/math/loss.ts`, the learning-rate
 * schedule and weight-decay mask, text features that ignore padding after EOT (dynamic length), loss
 * going down on a fixed batch, same seed → same weights, bit-identical checkpoint resume, the NaN guard
 * (checkpoint kept) and zero-shot validation.
 *
 * The engine's own gradients (matmul included) are checked against finite differences and openai/CLIP's
 * golden step in test/train_engine_test.ts; its patch order (the stride-p convolution) against the
 * exported ONNX graphs in test/export_test.ts. The TensorFlow.js contender's internals are tested beside
 * it, in bench/contenders/tfjs/tfjs_test.ts.
 */
import nodeAssert from "node:assert/strict";
import {
  type ClipArchitecture,
  loadArchitecture,
  parameterCount,
  validateArchitecture,
} from "../src/model/architecture.ts";
import { ArchitectureError, CheckpointError, TrainingDivergedError } from "../src/errors.ts";
import { cosineLr } from "../src/train/schedule.ts";
import { initStateDict, isDecayed, parameterShapes, TrainingSession } from "../src/train/mod.ts";
import { type TrainConfig, Trainer } from "../src/train/trainer.ts";
import { writeCheckpoint } from "../src/train/checkpoint.ts";
import { clipLoss } from "../src/math/loss.ts";
import { Matrix } from "../src/math/matrix.ts";
import { ClipTokenizer } from "../src/text/tokenizer.ts";
import { vocabularyFromMerges } from "../src/text/vocabulary.ts";
import { generateBatch } from "../src/data/shapes.ts";

const assert = (ok: boolean, msg = "assertion failed") => nodeAssert.ok(ok, msg);
const assertEquals = (a: unknown, b: unknown, msg = "values differ") => nodeAssert.deepStrictEqual(a, b, msg);

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
/** One native thread: the tests compare numbers, not speed. */
const ENGINE = { backend: "node", threads: 1 } as const;
const trainer = (templates = ["a {}."]) => Trainer.create(config, train, tokenizer, templates, ENGINE);

Deno.test("train: the reference config has ≈230k parameters, and bad configs are refused", () => {
  const n = parameterCount({ ...loadArchitecture("tiny"), vocab_size: 687 });
  assert(n > 200_000 && n < 300_000, `${n} parameters`);
  nodeAssert.throws(() => validateArchitecture({ ...config, vision_heads: 5 }), ArchitectureError);
  nodeAssert.throws(
    () => validateArchitecture({ ...config, image_resolution: 30 }),
    /multiple of the patch size/,
  );
});

Deno.test("train: the engine's InfoNCE equals src/math/loss.ts clipLoss on its own features (≤ 1e-5 rel)", async () => {
  const s = await TrainingSession.create(config, initStateDict(config, 2), { ...ENGINE, batchSize: 6 });
  const batch = generateBatch(3, 6, { split: "train" });
  const ids = tokenizer.tokenize(batch.captions, { contextLength: 64, padding: "longest" }).ids; // [6, L]
  const out = await s.evaluate({ pixels: batch.pixels, ids, size: 6 });
  await s.dispose();
  const D = config.embed_dim;
  const ref =
    clipLoss(new Matrix(out.image, 6, D), new Matrix(out.text!, 6, D), { logitScale: 1 / 0.07 }).loss;
  assert(Math.abs(out.loss - ref) <= 1e-5 * ref, `${out.loss} vs ${ref}`);
});

Deno.test("train: warm-up + cosine schedule and the weight-decay mask", () => {
  assertEquals(cosineLr(0, 100, 10, 1e-3), 1e-4);
  assertEquals(cosineLr(9, 100, 10, 1e-3), 1e-3);
  assert(Math.abs(cosineLr(55, 100, 10, 1e-3) - 5e-4) < 1e-12);
  assert(cosineLr(99, 100, 10, 1e-3) < 1e-6);
  assert(isDecayed("visual.transformer.resblocks.0.attn.in_proj_weight"));
  assert(isDecayed("text_projection") && isDecayed("visual.conv1.weight"));
  for (
    const n of ["token_embedding.weight", "positional_embedding", "visual.class_embedding", "logit_scale"]
  ) {
    assert(!isDecayed(n), n);
  }
  assert(!isDecayed("ln_final.weight") && !isDecayed("transformer.resblocks.1.mlp.c_fc.bias"));
});

Deno.test("train: text features ignore the padding after EOT (dynamic length, ≤ 1e-5)", async () => {
  const s = await TrainingSession.create(config, initStateDict(config, 0), { ...ENGINE, batchSize: 1 });
  const pixels = new Float32Array(3 * 32 * 32); // [1, 3, 32, 32]
  const long = tokenizer.tokenize(["a red circle"], { contextLength: 64 }).ids; // [1, 64]
  const a = (await s.evaluate({ pixels, ids: long, size: 1 })).text!;
  const b = (await s.evaluate({ pixels, ids: long.slice(0, 20), size: 1 })).text!;
  await s.dispose();
  for (let i = 0; i < a.length; i++) assert(Math.abs(a[i] - b[i]) < 1e-5, `feature ${i}: ${a[i]} vs ${b[i]}`);
});

Deno.test("train: a few AdamW steps lower the loss on a fixed batch", async () => {
  const t = await trainer();
  const batch = generateBatch(3, 16, { split: "train" });
  const first = await t.stepOn(batch.pixels, batch.captions);
  let last = first;
  for (let i = 0; i < 7; i++) last = await t.stepOn(batch.pixels, batch.captions);
  assert(last < first - 0.3, `loss ${first} → ${last}`);
  await t.dispose();
});

Deno.test("train: same seed → bit-identical weights and losses", async () => {
  const a = await trainer(), b = await trainer();
  for (let i = 0; i < 3; i++) {
    await a.trainStep();
    await b.trainStep();
  }
  const wa = a.stateDict(), wb = b.stateDict();
  for (const [name] of parameterShapes(config)) assertEquals(wb[name], wa[name], name);
  assertEquals(b.history, a.history);
  await a.dispose();
  await b.dispose();
});

Deno.test("train: resuming from a checkpoint continues bit-identically", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clipkit-ckpt-" });
  try {
    const straight = await trainer();
    for (let i = 0; i < 4; i++) await straight.trainStep();
    const stopped = await trainer();
    for (let i = 0; i < 2; i++) await stopped.trainStep();
    await stopped.save(`${dir}/checkpoint.bin`);
    await stopped.dispose();
    const resumed = await Trainer.resume(`${dir}/checkpoint.bin`, tokenizer, ["a {}."], ENGINE);
    assertEquals(resumed.step, 2);
    for (let i = 0; i < 2; i++) await resumed.trainStep();
    const a = straight.stateDict(), b = resumed.stateDict();
    for (const [name] of parameterShapes(config)) assertEquals(b[name], a[name], name);
    const ma = straight.session.optimizerState(), mb = resumed.session.optimizerState();
    for (const [name] of parameterShapes(config)) {
      assertEquals(mb.m[name], ma.m[name], `m ${name}`);
      assertEquals(mb.v[name], ma.v[name], `v ${name}`);
    }
    assertEquals(resumed.history.map((h) => h.loss), straight.history.map((h) => h.loss));
    assertEquals(mb.step, 4);
    await straight.dispose();
    await resumed.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train: checkpoints of another layout or model are refused with CheckpointError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clipkit-ckpt-" });
  try {
    await writeCheckpoint(`${dir}/old.bin`, { meta: { config, train, step: 3 }, arrays: {} });
    await nodeAssert.rejects(Trainer.resume(`${dir}/old.bin`, tokenizer, ["a {}."], ENGINE), CheckpointError);
    await nodeAssert.rejects(Trainer.resume(`${dir}/old.bin`, tokenizer, ["a {}."], ENGINE), /--fresh/);
    await writeCheckpoint(`${dir}/partial.bin`, {
      meta: { format: "clipkit-engine-1", config, train, step: 3, adamStep: 3 },
      arrays: { "param/logit_scale": new Float32Array(1) },
    });
    await nodeAssert.rejects(
      Trainer.resume(`${dir}/partial.bin`, tokenizer, ["a {}."], ENGINE),
      /written by another model/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train: a NaN loss stops training with TrainingDivergedError and leaves the checkpoint", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clipkit-ckpt-" });
  try {
    const t = await trainer();
    await t.trainStep();
    await t.save(`${dir}/checkpoint.bin`);
    const saved = await Deno.readFile(`${dir}/checkpoint.bin`);
    const batch = generateBatch(3, 16, { split: "train" });
    batch.pixels[5] = NaN;
    await nodeAssert.rejects(t.stepOn(batch.pixels, batch.captions), TrainingDivergedError);
    await nodeAssert.rejects(t.stepOn(batch.pixels, batch.captions), /lower "lr"/);
    assertEquals(t.step, 1);
    assertEquals(await Deno.readFile(`${dir}/checkpoint.bin`), saved);
    await t.dispose();
    const resumed = await Trainer.resume(`${dir}/checkpoint.bin`, tokenizer, ["a {}."], ENGINE);
    assert(Number.isFinite(await resumed.trainStep()));
    await resumed.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train: validation reports loss and zero-shot accuracies in [0, 1]", async () => {
  const t = await trainer(["a {}.", "a picture of a {}."]);
  const m = await t.validate("validation", 40);
  for (const k of ["colour", "shape", "seen", "unseen"] as const) {
    assert(m[k] >= 0 && m[k] <= 1, `${k} ${m[k]}`);
  }
  assert(Number.isFinite(m.loss) && m.loss > 0);
  assert(Math.abs(m.logitScale - 1 / 0.07) < 1e-3);
  // the kit-layout weights (what the exporter takes) hold the same numbers as the state dict
  const kit = t.weights(), sd = t.stateDict();
  assertEquals(kit["logit_scale"], sd["logit_scale"]);
  assertEquals(Object.keys(kit).sort(), Object.keys(sd).sort());
  await t.dispose();
});
