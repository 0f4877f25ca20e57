/**
 * The `prompts-vs-compute` experiment: its quick path (cut to a few steps, two media, two tasks) runs end to
 * end, validates against its schema, and a second run with the same seed gives the same numbers bit for bit;
 * the analytic step MACs equal an independent count from the engine's parameter shapes (exact integers); the
 * log-compute interpolation and the least-squares line are checked against hand-worked and closed-form values;
 * bad configs fail with a typed error; the shipped result, once there, validates and draws.
 *
 * The cut-down quick run trains three small CLIPs for 4 steps of 16 pairs (a few seconds on two cores) and
 * runs twice here.
 */
import { existsSync } from "node:fs";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "./_assert.ts";
import {
  equivalentCompute,
  experiment,
  logLine,
  numbersOf,
  type PromptsVsComputeConfig,
  promptsVsComputeConfig,
  type PromptsVsComputeResult,
  readResult,
  shippedResultPath,
  stepMacs,
  summarisePromptsVsCompute,
  trainingFlops,
  validateResult,
} from "../src/experiments/mod.ts";
import { parameterShapes } from "../src/train/engine/layout.ts";
import { worldArchitecture } from "../src/train/world_recipe.ts";
import type { ClipArchitecture } from "../src/model/architecture.ts";
import { ExperimentError } from "../src/errors.ts";

const NAME = "prompts-vs-compute";

/** The quick preset cut further: 4 steps of 16 pairs per model, two media, two tasks, 16 pictures a split. */
function tinyOverrides(): Partial<PromptsVsComputeConfig> {
  const q = promptsVsComputeConfig("quick");
  return {
    recipe: { ...q.recipe, batch_size: 16, bpe: { captions: 2000, vocab_size: 1024 } },
    models: q.models.map((m) => ({ ...m, steps: 4 })),
    suite: {
      ...q.suite,
      media: ["icon", "classic"],
      tasks: ["colour", "shape"],
      examples: 16,
      unseen_examples: 8,
    },
  };
}

let quick: Promise<PromptsVsComputeResult> | undefined;
function quickRun(): Promise<PromptsVsComputeResult> {
  quick ??= experiment(NAME).run({
    preset: "quick",
    progress: "none",
    overrides: tinyOverrides(),
  }) as Promise<
    unknown
  > as Promise<PromptsVsComputeResult>;
  return quick;
}

Deno.test("prompts-vs-compute: a cut-down quick run validates and its summary is made of its checkpoints", async () => {
  const r = await quickRun();
  assertEquals(validateResult(JSON.parse(JSON.stringify(r))).name, NAME); // survives JSON as it is
  assertEquals(r.runs.map((run) => run.name), ["micro", "world-tiny", "world"]);
  assertEquals(r.summary.datasets, 4);
  const s = r.summary;
  for (const run of r.runs) {
    const c = run.checkpoints[0];
    assertEquals(run.checkpoints.length, 1);
    assertEquals(c.step, 4);
    assertEquals(c.examples, 4 * 16);
    const a = run.settings.architecture as ClipArchitecture;
    assertEquals(c.gflops, trainingFlops(a, 16, 4) / 1e9);
    assertEquals(run.settings.flopsPerStep, 6 * stepMacs(a, 16).total);
    const rows = c.datasets as { dataset: string; bare: number; greedy: number }[];
    assertEquals(rows.map((d) => d.dataset), [
      "icon-colour",
      "icon-shape",
      "classic-colour",
      "classic-shape",
    ]);
    const mean = c.mean as { bare: number; greedy: number };
    // the suite's mean is the mean of its rows (same order of additions: exact)
    assertEquals(mean.bare, rows.reduce((t, d) => t + d.bare, 0) / rows.length);
    // accuracies are shares of 16 test pictures
    for (const d of rows) assertAlmostEquals(d.bare * 16, Math.round(d.bare * 16), 1e-9);
    const p = s.points.find((p) => p.run === run.name)!;
    assertEquals([p.gflops, p.bare, p.prompted], [c.gflops, mean.bare, mean.greedy]);
    assertAlmostEquals(p.gainPoints, 100 * (mean.greedy - mean.bare), 1e-12);
  }
  // sorted by compute; micro < world-tiny < world, spanning more than 10×
  assertEquals(s.points.map((p) => p.run), ["micro", "world-tiny", "world"]);
  assert(s.computeSpan > 10, `compute span ${s.computeSpan}`);
  assertAlmostEquals(s.meanGainPoints, s.points.reduce((t, p) => t + p.gainPoints, 0) / 3, 1e-12);
  assert(r.machine.backend.startsWith("onnxruntime-node"), r.machine.backend);
  assertEquals(experiment(NAME).figure(r).title, "Prompts vs compute");
});

Deno.test("prompts-vs-compute: the same seed gives the same numbers, bit for bit", async () => {
  const first = await quickRun();
  const again = await experiment(NAME).run({ preset: "quick", progress: "none", overrides: tinyOverrides() });
  assertEquals(numbersOf(again), numbersOf(first));
});

/** Forward MACs counted from the engine's own weight shapes: every matrix × the tokens it multiplies. */
function independentMacs(
  a: ClipArchitecture,
  batch: number,
): { image: number; text: number; logits: number } {
  const patches = (a.image_resolution / a.vision_patch_size) ** 2, L = patches + 1, T = a.context_length;
  let image = 0, text = 0;
  for (const [name, shape] of parameterShapes(a)) {
    const n = shape.reduce((x, y) => x * y, 1);
    if (name === "visual.conv1.weight") image += n * patches;
    else if (name === "visual.proj") image += n; // the class token only
    else if (name === "text_projection") text += n; // the end-of-text token only
    else if (
      /^visual\.transformer\..*(in_proj_weight|out_proj\.weight|c_fc\.weight|c_proj\.weight)$/.test(name)
    ) {
      image += n * L;
    } else if (/^transformer\..*(in_proj_weight|out_proj\.weight|c_fc\.weight|c_proj\.weight)$/.test(name)) {
      text += n * T;
    }
  }
  // per layer: the scores Q·Kᵀ and their weighted sum of V, each (tokens² × width)
  image += a.vision_layers * 2 * L * L * a.vision_width;
  text += a.transformer_layers * 2 * T * T * a.transformer_width;
  return { image, text, logits: batch * batch * a.embed_dim };
}

Deno.test("prompts-vs-compute: step MACs equal an independent count from the parameter shapes", async () => {
  const config = promptsVsComputeConfig("full");
  const archs: ClipArchitecture[] = [
    await worldArchitecture("world-tiny"),
    await worldArchitecture("world"),
    { ...(config.models[0].architecture as ClipArchitecture) },
  ];
  for (const a of archs) {
    const m = stepMacs(a, 128), want = independentMacs(a, 128);
    assertEquals({ image: m.image, text: m.text, logits: m.logits }, want); // integers: exact
    assertEquals(m.total, 128 * (want.image + want.text) + want.logits);
    assertEquals(trainingFlops(a, 128, 10), 6 * 10 * m.total);
  }
});

Deno.test("prompts-vs-compute: compute where the bare curve reaches a target, and the least-squares line", () => {
  const x = [1, 10, 100], y = [0.3, 0.4, 0.6];
  // halfway in accuracy between 10 and 100 → halfway in log compute: 10^1.5
  assertAlmostEquals(equivalentCompute(x, y, 0.5) as number, 10 ** 1.5, 1e-9);
  assertEquals(equivalentCompute(x, y, 0.4), 10);
  assertEquals(equivalentCompute(x, y, 0.3), 1);
  assertEquals(equivalentCompute(x, y, 0.61), "beyond");
  assertEquals(equivalentCompute(x, y, 0.29), "below");
  // non-monotone: the first crossing of the running maximum (0.5 at 10, dip to 0.45, 0.7 at 1000)
  const x2 = [1, 10, 100, 1000], y2 = [0.3, 0.5, 0.45, 0.7];
  assertAlmostEquals(equivalentCompute(x2, y2, 0.6) as number, 10 ** (2 + 0.1 / 0.2), 1e-9);
  assertThrows(() => equivalentCompute([10, 1], [0.1, 0.2], 0.15), ExperimentError, "increasing");
  // least squares against the closed form from raw sums (Cramer's rule), tolerance 1e-12
  const xs = [0.9, 4.2, 17, 60, 250], ys = [0.31, 0.35, 0.41, 0.4, 0.52];
  const l = xs.map(Math.log10), n = l.length;
  const [sx, sy] = [l.reduce((a, b) => a + b, 0), ys.reduce((a, b) => a + b, 0)];
  const sxx = l.reduce((a, b) => a + b * b, 0), sxy = l.reduce((a, b, i) => a + b * ys[i], 0);
  const det = n * sxx - sx * sx;
  const fit = logLine(xs, ys);
  assertAlmostEquals(fit.slopePerDecade, (n * sxy - sx * sy) / det, 1e-12);
  assertAlmostEquals(fit.intercept, (sxx * sy - sx * sxy) / det, 1e-12);
});

Deno.test("prompts-vs-compute: the summary reads multiples off the curve and flags the range", () => {
  const p = (run: string, gflops: number, bare: number, prompted: number) => ({
    run,
    label: run,
    parameters: 1,
    gflops,
    bare,
    prompted,
    gainPoints: 100 * (prompted - bare),
  });
  // given out of order: the summary sorts by compute
  const s = summarisePromptsVsCompute(
    [p("l", 100, 0.5, 0.56), p("s", 1, 0.3, 0.35), p("m", 10, 0.4, 0.45)],
    "greedy",
    30,
  );
  assertEquals(s.points.map((q) => q.run), ["s", "m", "l"]);
  assertEquals(s.multiples.map((m) => m.position), ["within", "within", "beyond"]);
  // s: 0.35 is halfway from 0.3 (1 GFLOP) to 0.4 (10): 10^0.5 GFLOPs, 3.16× its own
  assertAlmostEquals(s.multiples[0].multiple!, Math.sqrt(10), 1e-9);
  // m: 0.45 halfway from 0.4 (10) to 0.5 (100): 10^1.5, 3.16× its 10
  assertAlmostEquals(s.multiples[1].multiple!, Math.sqrt(10), 1e-9);
  // l: beyond; the bound is the largest compute over its own (1×), nothing extrapolated in `multiple`
  assertEquals([s.multiples[2].multiple, s.multiples[2].bound], [null, 1]);
  assert(s.multiples[2].lineExtrapolated);
  // the line is exact here (0.1 per decade from 0.3): 5 points → 10^0.5 for s and m, 6 points → 10^0.6 for l
  assertAlmostEquals(s.multiples[2].lineMultiple!, 10 ** 0.6, 1e-9);
  assertAlmostEquals(s.medianMultiple!, Math.sqrt(10), 1e-9);
  assertAlmostEquals(s.meanGainPoints, 16 / 3, 1e-9);
  assertAlmostEquals(s.lineMultipleOfMeanGain!, 10 ** (16 / 3 / 100 / 0.1), 1e-9);
  assertAlmostEquals(s.computeSpan, 100, 1e-12);
  // prompts that hurt the smallest model: below the measured range, bound < 1
  const below = summarisePromptsVsCompute(
    [p("s", 1, 0.3, 0.25), p("m", 10, 0.4, 0.45), p("l", 100, 0.5, 0.6)],
    "ensemble",
    3,
  );
  assertEquals([below.multiples[0].position, below.multiples[0].bound], ["below", 1]);
  // a flat bare curve: no line multiple, no extrapolation
  const flat = summarisePromptsVsCompute(
    [p("s", 1, 0.3, 0.35), p("m", 10, 0.3, 0.35), p("l", 100, 0.3, 0.3)],
    "greedy",
    3,
  );
  assertEquals(flat.lineMultipleOfMeanGain, null);
  assertEquals(flat.multiples.map((m) => m.lineMultiple), [null, null, null]);
});

Deno.test("prompts-vs-compute: bad configs fail with a typed error", () => {
  const q = promptsVsComputeConfig("quick");
  assertThrows(
    () => promptsVsComputeConfig("quick", { models: q.models.slice(0, 2) }),
    ExperimentError,
    "at least 3",
  );
  assertThrows(
    () => promptsVsComputeConfig("quick", { models: [q.models[0], q.models[0], q.models[1]] }),
    ExperimentError,
    "repeat",
  );
  assertThrows(
    () => promptsVsComputeConfig("quick", { prompted: "photo" as never }),
    ExperimentError,
    "greedy",
  );
  assertThrows(
    () => promptsVsComputeConfig("quick", { suite: { ...q.suite, media: ["watercolour" as never] } }),
    ExperimentError,
    "watercolour",
  );
  assertThrows(
    () => promptsVsComputeConfig("quick", { models: q.models.map((m) => ({ ...m, steps: 0 })) }),
    ExperimentError,
    "steps",
  );
  assertThrows(() => promptsVsComputeConfig("medium" as never), ExperimentError, "preset");
});

Deno.test({
  name: "prompts-vs-compute: the shipped result validates and draws",
  ignore: !existsSync(shippedResultPath(NAME)),
  fn: async () => {
    const r = await readResult(NAME) as unknown as PromptsVsComputeResult;
    assertEquals(r.preset, "full");
    assertEquals(r.config, promptsVsComputeConfig("full"));
    assert(r.summary.computeSpan >= 10, `compute span ${r.summary.computeSpan}`);
    assertEquals(experiment(NAME).figure(r).title, "Prompts vs compute");
  },
});
