/**
 * The probe and robustness experiments (src/experiments/zero_shot_vs_probe.ts, robustness.ts) and the
 * supervised baseline they share (src/train/engine/supervised.ts, src/experiments/supervised_baseline.ts).
 *
 * - The supervised objective (image tower + linear head, softmax cross-entropy against labels): its gradient
 *   with respect to every parameter against central finite differences in float64, along 3 random unit
 *   directions u: |⟨∇f, u⟩ − (f(x + εu) − f(x − εu)) / 2ε| ≤ 1e-6 · max(1, |⟨∇f, u⟩|), ε = 1e-5 (as the
 *   engine's own objective checks).
 * - Training is deterministic: the same seed gives the same weights and checkpoints, bit for bit.
 * - The quick presets run, validate against their schemas, and give the same numbers twice.
 */
import { assert, assertEquals } from "./_assert.ts";
import { SMALL } from "./_small_architecture.ts";
import {
  initSupervisedStateDict,
  supervisedGradientGraph,
  supervisedLayout,
} from "../src/train/engine/supervised.ts";
import { flatten } from "../src/train/mod.ts";
import { loadRuntime } from "../src/model/runtime.ts";
import { SeededRng } from "../src/data/random.ts";
import { trainSupervised } from "../src/experiments/supervised_baseline.ts";
import { run as runProbe } from "../src/experiments/zero_shot_vs_probe.ts";
import { run as runRobustness } from "../src/experiments/robustness.ts";
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
  model: "tiny" as const,
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
  assertEquals(a.compute.images, 6 * 16);
});

Deno.test("zero-shot-vs-probe: the quick preset runs, validates, and repeats bit for bit", async () => {
  const overrides = { media: ["classic" as const, "photo" as const] };
  const first = await runProbe({ preset: "quick", overrides, progress: "none" });
  validateResult(first);
  assertEquals(first.summary.total, 10);
  assertEquals(first.summary.datasets.map((d) => d.dataset).slice(0, 2), ["classic-colour", "classic-shape"]);
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
  const overrides = { shifts: ["photo" as const, "sketch" as const] };
  const first = await runRobustness({ preset: "quick", overrides, progress: "none" });
  validateResult(first);
  const s = first.summary;
  assertEquals(Object.keys(s.zeroShot.shifts), ["photo", "sketch"]);
  assertEquals(s.supervised.map((m) => m.step), [0, 20, 40]);
  assertEquals(s.adaptation.source, s.adapted.source - s.zeroShot.source);
  assertEquals(s.gap.zeroShot, s.zeroShot.source - s.zeroShot.meanShift);
  const again = await runRobustness({ preset: "quick", overrides, progress: "none" });
  assertEquals(numbersOf(again), numbersOf(first));
  assertEquals(experiment("robustness").figure(first).title, "Robustness to a change of medium");
});
