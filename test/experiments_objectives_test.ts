/**
 * The `objectives` experiment and the engine's zero-shot scoring graphs (src/train/engine/scoring.ts):
 *
 * - the caption LM's score of a prompt equals −(its teacher-forced cross-entropy × its target count) from the
 *   loss graph, and the BoW prediction's equals −(its BoW loss × its word count) and a plain TypeScript
 *   log-softmax of the same weights; image and text features equal the session's forward graph's. All in float32:
 *   |Δ| ≤ 1e-5 × (1 + |value|) (the graphs sum in different orders; the largest difference seen is ≈ 2e-6);
 * - chunking and length-grouping of prompts change no score (same tolerance);
 * - the analytic MAC count, the geometric checkpoints and the log-linear images-to-threshold by hand;
 * - the quick path with a smaller override runs, validates against its schema, and repeats bit for bit.
 */
import { assert, assertAllClose, assertEquals, assertThrows } from "./_assert.ts";
import { SMALL } from "./_small_architecture.ts";
import {
  checkpointSteps,
  experiment,
  imagesToReach,
  numbersOf,
  objectiveMacs,
  objectivesConfig,
  type ObjectivesResult,
  type ObjectiveSummary,
  speedRatios,
  validateResult,
} from "../src/experiments/mod.ts";
import {
  type EngineArchitecture,
  initStateDict,
  lossAndGradients,
  ObjectiveScorer,
  TrainingSession,
} from "../src/train/mod.ts";
import { ClipInputError, ExperimentError } from "../src/errors.ts";

/** Relative-and-absolute float32 tolerance of the scoring checks. */
const TOL = 1e-5;
const close = (a: number, b: number, what: string) =>
  assert(Math.abs(a - b) <= TOL * (1 + Math.abs(b)), `${what}: ${a} vs ${b}`);

/** SMALL's vocabulary ends with SOT (18) and EOT (19); prompts of different lengths, zero padded to 6. */
const SOT = SMALL.vocab_size - 2, EOT = SMALL.vocab_size - 1;
const PROMPTS = [
  [SOT, 3, 5, EOT, 0, 0],
  [SOT, 7, EOT, 0, 0, 0],
  [SOT, 1, 2, 3, 4, EOT],
  [SOT, 3, 3, EOT, 0, 0],
  [SOT, EOT, 0, 0, 0, 0],
];
const PROMPT_IDS = { ids: Int32Array.from(PROMPTS.flat()), shape: [PROMPTS.length, 6] as const };

/** Seeded weights, moved off their initial values (zero biases and unit gains would hide mistakes). */
function weights(a: EngineArchitecture): Record<string, Float32Array> {
  const w = initStateDict(a, 3);
  for (const [k, v] of Object.entries(w)) {
    for (let i = 0; i < v.length; i++) v[i] += 0.3 * Math.sin(i * 7.1 + k.length);
  }
  return w;
}

const N = 3, PLANE = 3 * SMALL.image_resolution ** 2;
const PIXELS = Float32Array.from({ length: N * PLANE }, (_, i) => Math.cos(i * 0.37)); // [3, 3, 8, 8]

Deno.test("scoring: caption-LM scores are −(teacher-forced cross-entropy × target tokens) of the loss graph", async () => {
  const a: EngineArchitecture = { ...SMALL, objective: "caption_lm" }, w = weights(a);
  const scorer = await ObjectiveScorer.create(a, w, { backend: "node", imageChunk: 2, promptChunk: 2 });
  try {
    const features = await scorer.imageFeatures(PIXELS, N);
    const scores = await scorer.promptScores(features, N, PROMPT_IDS); // [3, 5]
    for (let n = 0; n < N; n++) {
      for (const [m, p] of PROMPTS.entries()) {
        const batch = { pixels: PIXELS.slice(n * PLANE, (n + 1) * PLANE), ids: Int32Array.from(p), size: 1 };
        const { loss } = await lossAndGradients(a, w, batch, { backend: "node" });
        const targets = p.slice(1).filter((id) => id > 0).length;
        close(scores[n * PROMPTS.length + m], -loss * targets, `image ${n}, prompt ${m}`);
      }
    }
  } finally {
    await scorer.dispose();
  }
});

Deno.test("scoring: BoW-prediction scores equal −(BoW loss × words) and a plain TypeScript log-softmax", async () => {
  const a: EngineArchitecture = { ...SMALL, objective: "bow_prediction" }, w = weights(a);
  const scorer = await ObjectiveScorer.create(a, w, { backend: "node" });
  const session = await TrainingSession.create(a, w, { backend: "node", batchSize: N });
  try {
    const features = await scorer.imageFeatures(PIXELS, N); // [3, 8]
    const forward = await session.evaluate({
      pixels: PIXELS,
      ids: Int32Array.from(PROMPTS.slice(0, N).flat()),
      size: N,
    });
    assertAllClose(features, forward.image, TOL);
    const scores = await scorer.promptScores(features, N, PROMPT_IDS);
    const D = a.embed_dim, V = a.vocab_size, W = w["bow_head.weight"], bias = w["bow_head.bias"];
    for (let n = 0; n < N; n++) {
      const logits = Array.from({ length: V }, (_, v) => {
        let s = bias[v];
        for (let d = 0; d < D; d++) s += features[n * D + d] * W[v * D + d];
        return s;
      });
      const max = Math.max(...logits);
      const lse = max + Math.log(logits.reduce((s, x) => s + Math.exp(x - max), 0));
      for (const [m, p] of PROMPTS.entries()) {
        const words = p.filter((id) => id > 0 && id < SOT);
        close(
          scores[n * PROMPTS.length + m],
          words.reduce((s, id) => s + logits[id] - lse, 0),
          `TS ${n}, ${m}`,
        );
        if (words.length === 0) continue;
        const batch = { pixels: PIXELS.slice(n * PLANE, (n + 1) * PLANE), ids: Int32Array.from(p), size: 1 };
        const { loss } = await lossAndGradients(a, w, batch, { backend: "node" });
        close(scores[n * PROMPTS.length + m], -loss * words.length, `loss graph ${n}, ${m}`);
      }
    }
  } finally {
    await scorer.dispose();
    await session.dispose();
  }
});

Deno.test("scoring: text features equal the forward graph's, whatever the padding and chunking", async () => {
  for (const text_encoder of ["transformer", "bag_of_words"] as const) {
    const a: EngineArchitecture = { ...SMALL, text_encoder }, w = weights(a);
    const scorer = await ObjectiveScorer.create(a, w, { backend: "node", promptChunk: 2 });
    const session = await TrainingSession.create(a, w, { backend: "node", batchSize: PROMPTS.length });
    try {
      const text = await scorer.textFeatures(PROMPT_IDS); // [5, 8], prompts cut to their own lengths
      const pixels = new Float32Array(PROMPTS.length * PLANE);
      const forward = await session.evaluate({ pixels, ids: PROMPT_IDS.ids, size: PROMPTS.length }); // padded to 6
      assertAllClose(text, forward.text!, TOL);
    } finally {
      await scorer.dispose();
      await session.dispose();
    }
  }
});

Deno.test("scoring: chunks of images and prompts give the same scores as one graph run", async () => {
  const a: EngineArchitecture = { ...SMALL, objective: "caption_lm" }, w = weights(a);
  const one = await ObjectiveScorer.create(a, w, { backend: "node" });
  const many = await ObjectiveScorer.create(a, w, { backend: "node", imageChunk: 2, promptChunk: 3 });
  try {
    const features = await one.imageFeatures(PIXELS, N);
    assertAllClose(
      await many.promptScores(features, N, PROMPT_IDS),
      await one.promptScores(features, N, PROMPT_IDS),
      TOL,
    );
    assertThrows(() => one.load({}), ClipInputError, "lacks");
  } finally {
    await one.dispose();
    await many.dispose();
  }
});

Deno.test("objectives: MACs per picture, counted by hand for the small architecture", () => {
  // image: 4 patches × 48 × 8 (patchify) + one block over 5 tokens of width 8 + 8 × 8 (projection)
  const block = (L: number) => L * 8 * 24 + 2 * L * L * 8 + L * 64 + 2 * L * 8 * 32;
  const image = 4 * 48 * 8 + block(5) + 64;
  assertEquals(image, 5840);
  assertEquals(objectiveMacs({ ...SMALL, objective: "bow_prediction" }, 6, 4), image + 8 * 20);
  assertEquals(
    objectiveMacs({ ...SMALL, objective: "caption_lm" }, 6, 4),
    image + 64 + block(6) + 5 * 8 * 20,
  );
  assertEquals(objectiveMacs(SMALL, 6, 4), image + block(6) + 64 + 4 * 8);
  assertEquals(objectiveMacs({ ...SMALL, text_encoder: "bag_of_words" }, 6, 4), image + 6 * 8 + 64 + 4 * 8);
});

Deno.test("objectives: geometric checkpoints and log-linear images to a threshold", () => {
  assertEquals(checkpointSteps(1280, 6, 40), [40, 80, 160, 320, 640, 1280]);
  assertEquals(checkpointSteps(1000, 6, 31), [31, 62, 124, 249, 499, 1000]);
  assertEquals(checkpointSteps(5, 1, 1), [5]);
  const curve = [{ images: 100, accuracy: 0.1 }, { images: 1000, accuracy: 0.2 }, {
    images: 10000,
    accuracy: 0.5,
  }];
  const at = imagesToReach(curve, 0.35); // halfway from 0.2 to 0.5: 10^3.5
  assertEquals(at.reached, "interpolated");
  assert(Math.abs(at.images! / 10 ** 3.5 - 1) < 1e-12, String(at.images));
  assertEquals(imagesToReach(curve, 0.05), { images: 100, reached: "first-checkpoint" });
  assertEquals(imagesToReach(curve, 0.6), { images: null, reached: "never" });
  // the first crossing counts, not a later one
  const dip = [{ images: 10, accuracy: 0.1 }, { images: 20, accuracy: 0.4 }, { images: 40, accuracy: 0.2 }];
  assertEquals(imagesToReach(dip, 0.4), { images: 20, reached: "interpolated" });
});

Deno.test("objectives: speed-ups and their bounds", () => {
  const o = (run: string, imagesToThreshold: number | null, reached: ObjectiveSummary["reached"]) =>
    ({ run, imagesToThreshold, reached, imagesSeen: 64000 }) as ObjectiveSummary;
  const ratios = (...objectives: ObjectiveSummary[]) =>
    speedRatios(objectives).map((q) => [q.faster, q.slower, q.measured, q.kind]);
  assertEquals(
    ratios(
      o("caption_lm", 30000, "interpolated"),
      o("bow_prediction", 10000, "interpolated"),
      o("bow_contrastive", 2000, "first-checkpoint"),
    ),
    [
      ["bow_prediction", "caption_lm", 3, "estimate"],
      ["bow_contrastive", "bow_prediction", 5, "at least"],
      ["bow_contrastive", "caption_lm", 15, "at least"],
    ],
  );
  // a slower run that never got there counts with all its pictures; a faster one that never did gives no ratio
  assertEquals(ratios(o("caption_lm", null, "never"), o("bow_prediction", 16000, "interpolated")), [
    ["bow_prediction", "caption_lm", 4, "at least"],
  ]);
  assertEquals(ratios(o("caption_lm", 8000, "interpolated"), o("bow_prediction", null, "never")), [
    ["bow_prediction", "caption_lm", null, "undetermined"],
  ]);
  assertEquals(ratios(o("caption_lm", 2000, "first-checkpoint"), o("bow_prediction", 1000, "interpolated")), [
    ["bow_prediction", "caption_lm", 2, "at most"],
  ]);
});

Deno.test("objectives: bad configs fail naming the field", () => {
  assertThrows(() => objectivesConfig("quick", { media: ["classic" as never] }), ExperimentError, "media");
  assertThrows(
    () => objectivesConfig("quick", { first_checkpoint: 100 }),
    ExperimentError,
    "first_checkpoint",
  );
  assertThrows(() => objectivesConfig("quick", { threshold: 2 }), ExperimentError, "threshold");
  assertThrows(() => objectivesConfig("quick", { objectives: [] }), ExperimentError, "no objectives");
  assertThrows(() => objectivesConfig("other" as never), ExperimentError, "no preset");
});

/** The quick preset cut further: 6 steps of 16, two checkpoints, one medium, a few pictures. */
const TINY = {
  steps: 6,
  batch_size: 16,
  checkpoints: 2,
  first_checkpoint: 3,
  media: ["icon" as const],
  test_examples: 6,
  test_unseen_examples: 3,
  bpe: { captions: 2000, vocab_size: 1024 },
};

Deno.test("objectives: the quick path runs, validates, and repeats bit for bit", async () => {
  const go = () =>
    experiment("objectives").run({ preset: "quick", progress: "none", overrides: TINY }) as Promise<
      unknown
    > as Promise<ObjectivesResult>;
  const r = await go();
  assertEquals(validateResult(JSON.parse(JSON.stringify(r))).name, "objectives");
  assertEquals(r.runs.map((x) => x.name), [
    "caption_lm",
    "bow_prediction",
    "bow_contrastive",
    "transformer_contrastive",
  ]);
  for (const run of r.runs) {
    assertEquals(run.checkpoints.map((c) => c.step), [3, 6]);
    assertEquals(run.checkpoints.map((c) => c.images), [48, 96]);
  }
  assertEquals(r.summary.datasets, ["icon-colour", "icon-shape", "icon-seen", "icon-unseen", "icon-count"]);
  assert(Math.abs(r.summary.chance - (0.1 + 0.125 + 2 / 80 + 1 / 3) / 5) < 1e-12, String(r.summary.chance));
  // every run reaches an automatic threshold (it is never above the slowest run's best)
  assert(r.summary.objectives.every((o) => o.reached !== "never"), JSON.stringify(r.summary.objectives));
  const flops = Object.fromEntries(r.summary.objectives.map((o) => [o.run, o.flopsPerStep]));
  assert(flops.transformer_contrastive > flops.bow_contrastive, "the transformer text tower costs more");
  assertEquals(r.summary.ratios.map((q) => q.paper), [3, 4, 12, null]);
  assertEquals(
    experiment("objectives").figure(r).title,
    "Efficiency of objectives: zero-shot accuracy vs pictures seen",
  );
  const again = await go();
  assertEquals(numbersOf(again), numbersOf(r));
});
