/**
 * The probe and robustness experiments (src/experiments/zero_shot_vs_probe.ts, robustness.ts) and the
 * supervised baseline they share (src/train/engine/supervised.ts, src/experiments/supervised_baseline.ts).
 *
 * - The supervised objective (image tower + linear head, softmax cross-entropy against labels): its gradient
 *   with respect to every parameter against central finite differences in float64, along 3 random unit
 *   directions u: |⟨∇f, u⟩ − (f(x + εu) − f(x − εu)) / 2ε| ≤ 1e-6 · max(1, |⟨∇f, u⟩|), ε = 1e-5 (as the
 *   engine's own objective checks).
 * - Training is deterministic: the same seed gives the same weights and checkpoints, bit for bit; another
 *   source medium gives other weights. Its pictures are the experiments' test pictures' kind, exactly: at the
 *   medium's own side equal to the suite's pictures through CLIP's preprocessing (0 difference), and drawn at
 *   32 px and resized for the classic medium.
 * - The CLIP's training record is read from each format the kit writes (training.json of train-world or of
 *   pretrain, curve.json), and a folder with neither fails with a typed error.
 * - The quick presets run, validate against their schemas, and give the same numbers twice; the robustness
 *   groups split the shifts by what the CLIP's pretraining showed and add up; bad configs fail with a fix.
 */
import { join } from "node:path";
import { assert, assertAlmostEquals, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { SMALL } from "./_small_architecture.ts";
import {
  initSupervisedStateDict,
  supervisedGradientGraph,
  supervisedLayout,
} from "../src/train/engine/supervised.ts";
import { flatten } from "../src/train/mod.ts";
import { loadRuntime } from "../src/model/runtime.ts";
import { SeededRng } from "../src/data/random.ts";
import {
  computeOf,
  preprocessAll,
  readClipRecord,
  sourceBatch,
  trainSupervised,
} from "../src/experiments/supervised_baseline.ts";
import { run as runProbe, zeroShotVsProbeConfig } from "../src/experiments/zero_shot_vs_probe.ts";
import { robustnessConfig, run as runRobustness } from "../src/experiments/robustness.ts";
import { suiteImages } from "../src/data/suite.ts";
import { MEDIA } from "../src/data/world.ts";
import { CLIP_MEAN, CLIP_STD } from "../src/constants.ts";
import { ExperimentError } from "../src/errors.ts";
import { ROOT } from "./_shared.ts";
import { numbersOf } from "../src/experiments/result.ts";
import { validateResult } from "../src/experiments/schema.ts";
import { experiment } from "../src/experiments/registry.ts";

Deno.test("supervised objective: the gradient of image tower + head + cross-entropy matches finite differences", async () => {
  const B = 4, K = 5, layout = supervisedLayout(SMALL, K), rng = new SeededRng(11);
  const init = initSupervisedStateDict(SMALL, K, 3);
  for (const [name, v] of Object.entries(init)) {
    // perturb gains and biases (zero or one at init) and the small head so that no gradient is special
    if (/bias|ln_|head/.test(name)) v.forEach((x, i) => (v[i] = x + 0.3 * rng.normal()));
  }
  const params = Float64Array.from(flatten(layout, init));
  const pixels = Float64Array.from({ length: B * 3 * 8 * 8 }, () => rng.normal());
  const labels = Int32Array.of(0, 3, 4, 3);
  const rt = await loadRuntime("node");
  const session = await rt.createSession(supervisedGradientGraph(SMALL, K, B, "float64"), "supervised");
  const run = async (p: Float64Array) =>
    await session.run({
      params: new rt.Tensor("float64", p, [layout.total]),
      pixels: new rt.Tensor("float64", pixels, [B, 3, 8, 8]),
      labels: new rt.Tensor("int32", labels, [B]),
    });
  const at = await run(params), grads = at.grads.data as Float64Array;
  const loss = Number(at.loss.data[0]);
  assert(loss > 0 && Number.isFinite(loss), `loss ${loss}`);
  assert(grads.some((g) => g !== 0), "all gradients are zero");
  const eps = 1e-5;
  for (let k = 0; k < 3; k++) {
    const raw = Float64Array.from({ length: layout.total }, () => rng.normal());
    const norm = Math.hypot(...raw);
    const u = raw.map((x) => x / norm);
    const analytic = u.reduce((s, x, i) => s + x * grads[i], 0);
    const plus = Number((await run(params.map((x, i) => x + eps * u[i]))).loss.data[0]);
    const minus = Number((await run(params.map((x, i) => x - eps * u[i]))).loss.data[0]);
    const numeric = (plus - minus) / (2 * eps);
    assert(
      Math.abs(numeric - analytic) <= 1e-6 * Math.max(1, Math.abs(analytic)),
      `direction ${k}: analytic ${analytic} vs finite difference ${numeric}`,
    );
  }
  // the head's gradient alone, checked in closed form: ∂loss/∂bias = mean(softmax − onehot) sums to 0
  const at0 = layout.names.indexOf("head.bias"), off = layout.offsets[at0];
  const biasGrad = grads.subarray(off, off + K).reduce((a, b) => a + b, 0);
  assert(Math.abs(biasGrad) < 1e-12, `head.bias gradient sums to ${biasGrad}, not 0`);
  await session.release();
});

const TINY_SCHEDULE = {
  model: "world-tiny" as const,
  steps: 6,
  batch_size: 16,
  lr: 0.002,
  warmup_fraction: 0.2,
  weight_decay: 0.1,
  eval_every: 3,
  validation_size: 64,
};

Deno.test("supervised baseline: same seed, same weights and checkpoints; the loss starts at ln 80", async () => {
  const a = await trainSupervised(TINY_SCHEDULE, 5, { cache: false });
  const b = await trainSupervised(TINY_SCHEDULE, 5, { cache: false });
  assertEquals(a.checkpoints, b.checkpoints);
  assertEquals(a.checkpoints.map((c) => c.step), [0, 3, 6]);
  assertEquals([...a.snapshots.keys()], [0, 3, 6]);
  for (const [name, w] of Object.entries(a.snapshots.get(6)!)) {
    assertEquals(w, b.snapshots.get(6)![name], name);
  }
  // the head starts small: the first steps' loss is about ln 80, a uniform guess over the 80 classes
  const first = a.checkpoints[1].trainLoss!;
  assert(Math.abs(first - Math.log(80)) < 0.1, `first steps' loss ${first}, not ≈ ln 80 = ${Math.log(80)}`);
  assertEquals(a.source, "icon");
  // the labels of another medium: other pictures, so other weights from the same seed
  const classic = await trainSupervised(TINY_SCHEDULE, 5, { cache: false, source: "classic" });
  assertEquals(classic.source, "classic");
  assert(
    classic.snapshots.get(6)!["head.weight"].some((v, i) => v !== a.snapshots.get(6)!["head.weight"][i]),
    "training on classic pictures gave the same head as on icons",
  );
  await assertRejects(
    () => trainSupervised(TINY_SCHEDULE, 5, { cache: false, source: "oil" as never }),
    ExperimentError,
    'source "oil" is not a medium of the suite',
  );
});

Deno.test("supervised baseline: its pictures are the suite's, through CLIP's preprocessing, at the tower's side", () => {
  const options = { size: 40, cropSize: 40, mean: CLIP_MEAN, std: CLIP_STD };
  for (const [medium, split] of [["icon", "train"], ["photo", "validation"], ["classic", "train"]] as const) {
    const batch = sourceBatch(3, 12, split, 0, medium, 40);
    const suite = suiteImages(medium, split, 12, { seed: 3, combos: split === "train" ? "seen" : "all" });
    assertEquals(suite.images[0].width, medium === "classic" ? 32 : 40);
    const expected = preprocessAll(suite.images, 40, options); // [12, 3, 40, 40]
    assertEquals(batch.pixels.length, 12 * 3 * 40 * 40);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) {
      worst = Math.max(worst, Math.abs(batch.pixels[i] - expected[i]));
    }
    assertEquals(worst, 0, `${medium} ${split}: largest difference ${worst}`);
    assertEquals([...batch.comboIndex], [...suite.combo]);
    assertEquals([...batch.heldOut], [...suite.heldOut]);
  }
  // an offset continues the same stream: examples 5 … 8 of the train split
  const whole = sourceBatch(3, 9, "train", 0, "classic", 40),
    tail = sourceBatch(3, 4, "train", 5, "classic", 40);
  assertEquals(tail.pixels, whole.pixels.subarray(5 * 3 * 40 * 40));
});

Deno.test("supervised baseline: the CLIP's training record is read from training.json or curve.json", async () => {
  const shipped = await readClipRecord(join(ROOT, "models/tiny-clip"));
  assertEquals(shipped.architecture.image_resolution, 40);
  assertEquals(shipped.media, [...MEDIA]);
  // whichever record the folder has: 9000 steps × 128 pairs
  assertEquals([shipped.steps, shipped.batchSize, shipped.images], [9000, 128, 1152000]);
  const classic = await readClipRecord(join(ROOT, "models/tiny-clip-classic"));
  assertEquals([classic.file, classic.images, classic.media], ["training.json", 4500 * 128, ["classic"]]);
  assertEquals(classic.architecture.image_resolution, 32);
  const dir = await Deno.makeTempDir({ prefix: "clipkit-clip-record-" });
  try {
    await assertRejects(() => readClipRecord(dir), ExperimentError, "neither training.json nor curve.json");
    const architecture = shipped.architecture;
    const recipe = { steps: 3000, batch_size: 64, time_limit_s: 0, media_mix: { icon: 1, photo: 2 } };
    await Deno.writeTextFile(join(dir, "curve.json"), JSON.stringify({ recipe, architecture, curve: [] }));
    const fromCurve = await readClipRecord(dir);
    assertEquals([fromCurve.file, fromCurve.images, fromCurve.media], ["curve.json", 3000 * 64, [
      "icon",
      "photo",
    ]]);
    // a run cut short by its time limit: the last curve point's step counts
    await Deno.writeTextFile(
      join(dir, "curve.json"),
      JSON.stringify({
        recipe: { ...recipe, time_limit_s: 60 },
        architecture,
        curve: [{ step: 500 }, { step: 1000 }],
      }),
    );
    assertEquals((await readClipRecord(dir)).images, 1000 * 64);
    // training.json wins over curve.json, and its images_seen is taken as it is
    const training = {
      steps: 700,
      images_seen: 700 * 32,
      recipe: { ...recipe, batch_size: 32 },
      architecture,
    };
    await Deno.writeTextFile(join(dir, "training.json"), JSON.stringify(training));
    const fromTraining = await readClipRecord(dir);
    assertEquals([fromTraining.file, fromTraining.images, fromTraining.steps], ["training.json", 22400, 700]);
    await Deno.writeTextFile(join(dir, "training.json"), JSON.stringify({ ...training, steps: undefined }));
    await assertRejects(() => readClipRecord(dir), ExperimentError, "lacks steps and recipe.batch_size");
    await Deno.writeTextFile(join(dir, "training.json"), "{ not json");
    await assertRejects(() => readClipRecord(dir), ExperimentError, "cannot be read as JSON");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // the supervised tower is the CLIP's image tower plus the 64 × 80 head
  const c = computeOf(TINY_SCHEDULE, shipped);
  assertEquals(c.macsPerImage - c.clipMacsPerImage, 64 * 80);
  assertEquals([c.images, c.clipImages, c.clipContext], [6 * 16, 1152000, 32]);
});

Deno.test("zero-shot-vs-probe: the quick preset runs, validates, and repeats bit for bit", async () => {
  const overrides = { media: ["classic" as const, "photo" as const] };
  const first = await runProbe({ preset: "quick", overrides, progress: "none" });
  validateResult(first);
  assertEquals(first.summary.total, 10);
  assertEquals(first.summary.datasets.map((d) => d.dataset).slice(0, 2), ["classic-colour", "classic-shape"]);
  // the baseline learned the icons' labels; the CLIP's record names the five media it was pretrained on
  assertEquals([first.summary.source, first.runs[0].settings.task], ["icon", "icon-seen"]);
  assertEquals(first.summary.clipMedia, [...MEDIA]);
  assertEquals(first.summary.compute.clipImages, 1152000);
  for (const d of first.summary.datasets) {
    assert(d.zeroShot >= 0 && d.zeroShot <= 1 && d.probe >= 0 && d.probe <= 1, d.dataset);
    assertEquals(d.delta, d.zeroShot - d.probe);
  }
  assertEquals(first.summary.wins, first.summary.datasets.filter((d) => d.delta > 0).length);
  const again = await runProbe({ preset: "quick", overrides, progress: "none" });
  assertEquals(numbersOf(again), numbersOf(first));
  assertEquals(
    experiment("zero-shot-vs-probe").figure(first).title,
    "Zero-shot CLIP vs a linear probe on supervised features",
  );
});

Deno.test("robustness: the quick preset runs, validates, and repeats bit for bit", async () => {
  const overrides = { shifts: ["photo" as const, "sketch" as const, "classic" as const] };
  const first = await runRobustness({ preset: "quick", overrides, progress: "none" });
  validateResult(first);
  const s = first.summary;
  assertEquals(s.source, "icon");
  assertEquals(Object.keys(s.zeroShot.shifts), ["photo", "sketch", "classic"]);
  assertEquals(s.supervised.map((m) => m.step), [0, 20, 40]);
  assertEquals(s.adaptation.source, s.adapted.source - s.zeroShot.source);
  assertEquals(s.gap.zeroShot, s.zeroShot.source - s.zeroShot.meanShift);
  // the CLIP was pretrained on photos and sketches (with captions), never on the classic pictures
  assertEquals(s.groups.map((g) => [g.group, g.media]), [["pretrained", ["photo", "sketch"]], ["unseen", [
    "classic",
  ]]]);
  const [seen, unseen] = s.groups;
  assertAlmostEquals(
    seen.meanShift.zeroShot,
    (s.zeroShot.shifts.photo + s.zeroShot.shifts.sketch) / 2,
    1e-12,
  );
  assertEquals(unseen.meanShift.adapted, s.adapted.shifts.classic);
  assertEquals(unseen.meanShift.supervised, s.supervised.at(-1)!.shifts.classic);
  // each group's effective robustness is against that group's own supervised trend
  for (const g of s.groups) {
    const expected = g.trend.slope * s.zeroShot.source + g.trend.intercept;
    assertAlmostEquals(g.effectiveRobustness.zeroShot, g.meanShift.zeroShot - expected, 1e-12);
  }
  const again = await runRobustness({ preset: "quick", overrides, progress: "none" });
  assertEquals(numbersOf(again), numbersOf(first));
  assertEquals(experiment("robustness").figure(first).title, "Robustness to a change of medium");
});

Deno.test("probe experiments: the presets share one baseline; bad sources and shifts fail with a fix", () => {
  for (const preset of ["full", "quick"] as const) {
    const p = zeroShotVsProbeConfig(preset), r = robustnessConfig(preset);
    // one cached supervised run serves both experiments: the same schedule, source and seed
    assertEquals([p.supervised, p.source, p.seed, p.clip], [r.supervised, r.source, r.seed, r.clip]);
    assertEquals(r.shifts, ["outline", "sketch", "photo", "pixel", "classic"]);
  }
  assertThrows(
    () => robustnessConfig("quick", { shifts: ["icon"] }),
    ExperimentError,
    "is the source itself",
  );
  assertThrows(
    () => robustnessConfig("quick", { shifts: ["oil" as never] }),
    ExperimentError,
    "not a medium",
  );
  assertThrows(
    () => robustnessConfig("quick", { shifts: ["photo", "photo"] }),
    ExperimentError,
    "name a medium twice",
  );
  assertThrows(() => zeroShotVsProbeConfig("quick", { source: "oil" as never }), ExperimentError, "source");
  // another source is a config field away: the classic source may shift to icons
  assertEquals(robustnessConfig("quick", { source: "classic", shifts: ["icon"] }).source, "classic");
});
