/**
 * The `few-shot` experiment: its `--quick` path runs end to end and validates against its schema; a second
 * run with the same seed gives the same numbers bit for bit (another seed draws other shots); the zero-shot
 * numbers equal the suite table's ensemble column on the same pictures (an independent path through
 * src/data/suite.ts); the interpolation of "zero-shot equals k shots" and its median are checked on hand-made
 * curves; bad configs fail with a typed error; the shipped result validates, adds up and draws.
 *
 * The quick preset fits 90 small probes (about 5 s on two cores); it runs three times here.
 */
import { assert, assertAlmostEquals, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import {
  experiment,
  fewShotConfig,
  type FewShotResult,
  matchingShots,
  medianShots,
  numbersOf,
  readResult,
  shippedResultPath,
  validateResult,
} from "../src/experiments/mod.ts";
import { evaluateSuite } from "../src/data/suite.ts";
import { ClipModel } from "../src/model/clip_model.ts";
import { ExperimentError } from "../src/errors.ts";
import { ROOT } from "./_shared.ts";
import { join } from "node:path";
import { existsSync } from "node:fs";

const few = () => experiment("few-shot");

/** The quick run, shared by the tests that read it (run once, on first use). */
let quick: Promise<FewShotResult> | undefined;
function quickRun(): Promise<FewShotResult> {
  quick ??= few().run({ preset: "quick", progress: "none" }) as Promise<unknown> as Promise<FewShotResult>;
  return quick;
}

Deno.test("few-shot: --quick runs, validates against its schema, and has a number per dataset, k and draw", async () => {
  const r = await quickRun();
  assertEquals(validateResult(JSON.parse(JSON.stringify(r))).name, "few-shot"); // survives JSON as it is
  const config = fewShotConfig("quick");
  assertEquals(r.config, config);
  assertEquals(r.seeds, [0, 1, 2]);
  assertEquals(r.runs.map((run) => run.name), [
    "sketch-colour",
    "sketch-shape",
    "sketch-count",
    "classic-colour",
    "classic-shape",
    "classic-count",
  ]);
  for (const run of r.runs) {
    assertEquals(run.checkpoints.map((c) => c.step), config.shots);
    const classes = run.settings.classes as number;
    for (const c of run.checkpoints) {
      const draws = c.draws as number[];
      assertEquals(draws.length, 3);
      assertEquals(c.train, (c.shots as number) * classes);
      const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
      assertAlmostEquals(c.mean as number, mean, 1e-15);
      // every chosen C is a point of the sweep's grid (0.1, 1, 10, 100, 1000)
      for (const C of c.C as number[]) {
        const decade = Math.log10(C);
        assert(Math.abs(decade - Math.round(decade)) < 1e-9 && C >= 0.0999 && C <= 1000.01, `C = ${C}`);
      }
    }
    // accuracies are shares of the test pictures: multiples of 1/test
    const test = run.settings.test as number;
    for (const a of run.checkpoints.flatMap((c) => c.draws as number[])) {
      assertAlmostEquals(a * test, Math.round(a * test), 1e-9);
    }
  }
  // more shots help: on every dataset the 16-shot probe beats the 1-shot one on average
  for (const d of r.summary.datasets) assert(d.probe.at(-1)! > d.probe[0], `${d.dataset}: ${d.probe}`);
  // the summary's averages are the means of the runs
  const zs = r.runs.map((run) => run.settings.zeroShot as number);
  assertAlmostEquals(r.summary.average.zeroShot, zs.reduce((a, b) => a + b, 0) / zs.length, 1e-15);
  assertEquals(
    r.summary.average.shotsEqual,
    matchingShots(config.shots, r.summary.average.curve.map((p) => p.mean), r.summary.average.zeroShot),
  );
  // the shipped tiny CLIP was trained on the media world (sketches among its media), never on the classic
  // pictures: zero-shot is better on sketches, and worth more shots there than on the classic pictures
  const byMedium = Object.fromEntries(r.summary.byMedium.map((m) => [m.group, m]));
  assert(byMedium.sketch.zeroShot > byMedium.classic.zeroShot + 0.1, JSON.stringify(byMedium));
  const worth = (
    k: number | string,
  ) => (k === `>${config.shots.at(-1)}` ? Infinity : k === "<1" ? 0 : Number(k));
  assert(
    worth(byMedium.sketch.shotsEqual) > worth(byMedium.classic.shotsEqual),
    `shots zero-shot equals: sketch ${byMedium.sketch.shotsEqual}, classic ${byMedium.classic.shotsEqual}`,
  );
  const { below, within, above } = r.summary.shotsEqual;
  assertEquals(below + within + above, r.runs.length);
  assertEquals(few().figure(r).title, "Zero-shot vs few-shot linear probes");
});

Deno.test("few-shot: two quick runs with the same seed give the same numbers, bit for bit; another seed differs", async () => {
  const first = await quickRun();
  const second = await few().run({ preset: "quick", progress: "none" });
  assertEquals(numbersOf(second), numbersOf(first));
  const other = await few().run({
    preset: "quick",
    seed: 7,
    progress: "none",
    overrides: { media: ["classic"], tasks: ["shape"] },
  }) as unknown as FewShotResult;
  assertEquals(other.seeds, [7, 8, 9]);
  const at = first.runs.findIndex((run) => run.name === "classic-shape");
  // the zero-shot number has no random part; the probes' draws do
  assertEquals(other.runs[0].settings.zeroShot, first.runs[at].settings.zeroShot);
  assert(
    JSON.stringify(other.runs[0].checkpoints.map((c) => c.draws)) !==
      JSON.stringify(first.runs[at].checkpoints.map((c) => c.draws)),
    "seed 7 drew the same shots as seed 0",
  );
});

Deno.test("few-shot: the zero-shot numbers are the suite table's ensemble column on the same test pictures", async () => {
  const r = await quickRun();
  const model = await ClipModel.load(join(ROOT, "models/tiny-clip"));
  try {
    const table = await evaluateSuite(model, {
      quick: true,
      media: ["sketch", "classic"],
      tasks: ["shape", "count"],
      progress: false,
    });
    for (const row of table.rows) {
      const run = r.runs.find((run) => run.name === row.dataset)!;
      assertEquals(run.settings.test, row.test);
      // the same pictures and class weights; the prompts are embedded in other batches, so allow one picture
      assertAlmostEquals(run.settings.zeroShot as number, row.ensemble, 1 / row.test + 1e-12);
    }
  } finally {
    await model.dispose();
  }
});

Deno.test("few-shot: a fixed C is used for every probe, without held-out labels", async () => {
  const r = await few().run({
    preset: "quick",
    progress: "none",
    overrides: {
      media: ["classic"],
      tasks: ["count"],
      draws: 1,
      shots: [1, 4],
      C: 10,
      validation_per_class: 0,
    },
  }) as unknown as FewShotResult;
  validateResult(r);
  assertEquals(r.runs[0].checkpoints.flatMap((c) => c.C as number[]), [10, 10]);
  assertEquals(r.runs[0].settings.validation, 0);
  assertEquals(r.runs[0].checkpoints.map((c) => c.std), [0, 0]); // one draw: no spread
});

Deno.test("few-shot: matchingShots interpolates in log2 k and reports the bounds", () => {
  const k = [1, 2, 4, 8, 16];
  const rising = [0.2, 0.3, 0.4, 0.5, 0.6];
  assertAlmostEquals(matchingShots(k, rising, 0.35) as number, 2 ** 1.5, 1e-12); // halfway from 2 to 4
  assertAlmostEquals(matchingShots(k, rising, 0.425) as number, 2 ** 2.25, 1e-12); // a quarter from 4 to 8
  assertEquals(matchingShots(k, rising, 0.4), 4); // exactly at a measured k
  assertEquals(matchingShots(k, rising, 0.2), 1); // exactly at the first k
  assertEquals(matchingShots(k, rising, 0.1), "<1");
  assertEquals(matchingShots(k, rising, 0.61), ">16");
  assertEquals(matchingShots(k, rising, 0.6), 16);
  // a curve that dips: the first k that reaches the target counts
  assertAlmostEquals(matchingShots(k, [0.2, 0.5, 0.3, 0.6, 0.7], 0.35) as number, 2 ** 0.5, 1e-12);
  // other k: the bounds name them
  assertEquals(matchingShots([2, 8], [0.5, 0.6], 0.4), "<2");
  assertEquals(matchingShots([2, 8], [0.5, 0.6], 0.7), ">8");
  assertAlmostEquals(matchingShots([2, 8], [0.5, 0.6], 0.55) as number, 4, 1e-12);
  assertThrows(() => matchingShots(k, [0.1, 0.2], 0.3), ExperimentError, "5 shots but 2 accuracies");
  assertThrows(() => matchingShots([], [], 0.3), ExperimentError);
});

Deno.test("few-shot: medianShots orders bounds below and above the numbers", () => {
  assertEquals(medianShots([3, "<1", 12]), 3);
  assertAlmostEquals(medianShots([2, 8, ">16", "<1"]) as number, 4, 1e-12); // √(2·8)
  assertEquals(medianShots([">16", ">16", 5]), ">16");
  assertEquals(medianShots(["<1", "<1", 2, 9]), "<2"); // between a bound and 2
  assertEquals(medianShots([3, ">16"]), ">3");
  assertThrows(() => medianShots([]), ExperimentError);
});

Deno.test("few-shot: bad configs fail with a typed error and a fix", async () => {
  assertThrows(() => fewShotConfig("quick", { shots: [4, 2] }), ExperimentError, "not in increasing order");
  assertThrows(() => fewShotConfig("quick", { shots: [0, 2] }), ExperimentError, "shots[0] is 0");
  assertThrows(
    () => fewShotConfig("quick", { media: ["oil"] as never }),
    ExperimentError,
    'unknown medium "oil"',
  );
  assertThrows(() => fewShotConfig("quick", { tasks: [] }), ExperimentError, "no tasks");
  assertThrows(() => fewShotConfig("quick", { C: -1 }), ExperimentError, "C is -1");
  assertThrows(() => fewShotConfig("quick", { draws: 0 }), ExperimentError, "draws is 0");
  assertThrows(
    () => fewShotConfig("quick", { validation_per_class: 0 }),
    ExperimentError,
    "validation_per_class",
  );
  assertThrows(() => fewShotConfig("slow" as never), ExperimentError, 'no preset "slow"');
  // 80 classes cannot get 16 + 4 pictures each from a pool of 400
  await assertRejects(
    () =>
      few().run({ preset: "quick", progress: "none", overrides: { media: ["classic"], tasks: ["seen"] } }),
    ExperimentError,
    "raise pool_examples",
  );
});

Deno.test("few-shot: the shipped result validates, adds up, and draws", async () => {
  if (!existsSync(shippedResultPath("few-shot"))) {
    throw new Error("experiments/results/few-shot.json is missing: run deno task experiment few-shot");
  }
  const r = await readResult("few-shot") as unknown as FewShotResult;
  assertEquals(r.preset, "full");
  assertEquals(r.runs.length, r.config.media.length * r.config.tasks.length);
  assertEquals(r.seeds.length, r.config.draws);
  for (const d of r.summary.datasets) {
    assertEquals(d.shotsEqual, matchingShots(r.config.shots, d.probe, d.zeroShot));
  }
  const mean = r.summary.datasets.reduce((a, d) => a + d.zeroShot, 0) / r.summary.datasets.length;
  assertAlmostEquals(r.summary.average.zeroShot, mean, 1e-12);
  assertEquals(few().figure(r).title, "Zero-shot vs few-shot linear probes");
});
