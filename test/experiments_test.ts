/**
 * Experiments as code: the registry joins every entry to a module and a schema; the `temperature`
 * experiment's `--quick` path runs end to end, its result validates, and a second run with the same seed
 * gives the same numbers bit for bit; the validator rejects broken results; quick results never overwrite
 * the shipped one; the shipped result validates and draws; the CLI fails in one line.
 *
 * The quick preset trains three tiny CLIPs for 60 steps each (about 25 s on two cores); it runs twice here.
 */
import { join } from "node:path";
import { ROOT } from "./_shared.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import {
  experiment,
  EXPERIMENT_SCHEMAS,
  experimentModules,
  type ExperimentResult,
  EXPERIMENTS,
  figurePaths,
  numbersOf,
  readResult,
  shippedResultPath,
  temperatureConfig,
  type TemperatureResult,
  validateAgainst,
  validateResult,
  writeResult,
} from "../src/experiments/mod.ts";
import { ExperimentError, ExperimentResultError, UsageError } from "../src/errors.ts";
import { main as experimentCli } from "../src/cli/experiment.ts";
import { INITIAL_LOGIT_SCALE, MAX_LOGIT_SCALE } from "../src/constants.ts";

/** The quick run, shared by the tests that read it (run once, on first use). */
let quick: Promise<TemperatureResult> | undefined;
function quickRun(): Promise<TemperatureResult> {
  quick ??= experiment("temperature").run({ preset: "quick", progress: "none" }) as Promise<
    unknown
  > as Promise<TemperatureResult>;
  return quick;
}

Deno.test("experiments: every registry entry has a module and a schema, and nothing else does", () => {
  const names = EXPERIMENTS.map((e) => e.name);
  assertEquals([...experimentModules()].sort(), [...names].sort());
  assertEquals(Object.keys(EXPERIMENT_SCHEMAS).sort(), [...names].sort());
  for (const e of EXPERIMENTS) {
    assert(e.why.length > 20 && e.paper.length > 10, `${e.name} lacks a why or a paper reference`);
  }
  assertThrows(() => experiment("temprature"), ExperimentError, "use one of temperature");
});

Deno.test("experiments: temperature --quick runs, validates, and its frozen scales stay put", async () => {
  const r = await quickRun();
  assertEquals(validateResult(JSON.parse(JSON.stringify(r))).name, "temperature"); // survives JSON as it is
  const config = temperatureConfig("quick");
  assertEquals(r.runs.map((run) => run.name), ["learned", "frozen-14", "frozen-100"]);
  for (const run of r.runs) {
    assertEquals(run.checkpoints.map((c) => c.step), [0, 20, 40, 60]);
    assertEquals(run.checkpoints.at(-1)!.examples, config.steps * config.batch_size);
  }
  const scales = (i: number) => r.runs[i].checkpoints.map((c) => c.logitScale as number);
  // float32 ln(1/0.07) and ln(100), exponentiated: within 1e-6 relative of the intended values, at every checkpoint
  for (const s of scales(1)) assert(Math.abs(s / INITIAL_LOGIT_SCALE - 1) < 1e-6, `frozen-14 moved to ${s}`);
  for (const s of scales(2)) assert(Math.abs(s / MAX_LOGIT_SCALE - 1) < 1e-6, `frozen-100 moved to ${s}`);
  assert(scales(0).slice(1).some((s) => s !== scales(0)[0]), "the learned scale never changed");
  // the same seed gives the same initial weights: at step 0 only the scale (and so the loss) differs
  const zeroShotAt0 = r.runs.map((run) => run.checkpoints[0].zeroShot);
  assertEquals(zeroShotAt0[1], zeroShotAt0[0]);
  assertEquals(zeroShotAt0[2], zeroShotAt0[0]);
  // training lowered the loss of every run
  for (const run of r.runs) {
    const loss = run.checkpoints.map((c) => c.valLoss as number);
    assert(loss.at(-1)! < loss[0], `${run.name}: validation loss ${loss[0]} → ${loss.at(-1)}`);
  }
  assertEquals(r.summary.learned!.start, scales(0)[0]);
  assertEquals(r.summary.learned!.end, scales(0).at(-1)!);
  assertEquals(r.summary.final.map((f) => f.run), ["learned", "frozen-14", "frozen-100"]);
  assert(r.machine.cores >= 1 && r.machine.backend.startsWith("onnxruntime-node"), r.machine.backend);
  assertEquals(experiment("temperature").figure(r).title, "Learned vs frozen temperature");
});

Deno.test("experiments: two quick runs with the same seed give the same numbers, bit for bit", async () => {
  const first = await quickRun();
  const second = await experiment("temperature").run({ preset: "quick", progress: "none" });
  assertEquals(numbersOf(second), numbersOf(first));
});

Deno.test("experiments: the validator rejects broken results, naming the field", async () => {
  const good = JSON.parse(JSON.stringify(await quickRun())) as ExperimentResult;
  const broken = (edit: (r: Record<string, unknown>) => void) => {
    const r = structuredClone(good) as unknown as Record<string, unknown>;
    edit(r);
    return () => validateResult(r);
  };
  const runs = (r: Record<string, unknown>) =>
    r.runs as { checkpoints: Record<string, unknown>[]; seed: number }[];
  assertThrows(broken((r) => delete r.machine), ExperimentResultError, "result lacks machine");
  assertThrows(broken((r) => r.seeds = []), ExperimentResultError, "result.seeds has 0 items");
  assertThrows(broken((r) => r.format = "other/2"), ExperimentResultError, "result.format");
  assertThrows(broken((r) => r.name = "nope"), ExperimentResultError, 'result.name "nope" is no experiment');
  assertThrows(broken((r) => r.extra = 1), ExperimentResultError, "result.extra is not a field");
  assertThrows(
    broken((r) => runs(r)[0].checkpoints[1].step = "20"),
    ExperimentResultError,
    'result.runs[0].checkpoints[1].step is the string "20", not integer',
  );
  assertThrows(
    broken((r) => runs(r)[0].checkpoints[2].valLoss = NaN),
    ExperimentResultError,
    "result.runs[0].checkpoints[2].valLoss is NaN",
  );
  assertThrows(
    broken((r) => delete (runs(r)[1].checkpoints[0].zeroShot as Record<string, unknown>).unseen),
    ExperimentResultError,
    "result.runs[1].checkpoints[0].zeroShot lacks unseen",
  );
  assertThrows(
    broken((r) => runs(r)[0].checkpoints.reverse()),
    ExperimentResultError,
    "not in increasing step order",
  );
  assertThrows(broken((r) => runs(r)[2].seed = 7), ExperimentResultError, "seed 7 is not among result.seeds");
  assertThrows(
    broken((r) => (r.summary as Record<string, unknown>).bestCombo = 3),
    ExperimentResultError,
    "bestCombo",
  );
  assertThrows(() => validateResult("a string"), ExperimentResultError, "result is the string");
  // many problems: the first few listed, the rest counted
  assertThrows(
    broken((r) => runs(r).forEach((run) => run.checkpoints.forEach((c) => c.logitScale = -1))),
    ExperimentResultError,
    "more)",
  );
});

Deno.test("experiments: validateAgainst checks types, enums, bounds, items and extra fields", () => {
  const schema = {
    type: "object" as const,
    required: ["a", "b"],
    additionalProperties: false,
    properties: {
      a: { type: "integer" as const, minimum: 0 },
      b: { type: "array" as const, minItems: 1, items: { enum: ["x", "y"] } },
      c: { type: ["number", "null"] as ("number" | "null")[], maximum: 1 },
    },
  };
  assertEquals(validateAgainst(schema, { a: 1, b: ["x"], c: null }), []);
  assertEquals(validateAgainst(schema, { a: 1.5, b: ["x"] }), ["result.a is the number 1.5, not integer"]);
  assertEquals(validateAgainst(schema, { a: -1, b: [] }), [
    "result.a is -1, below 0",
    "result.b has 0 items, fewer than 1",
  ]);
  assertEquals(validateAgainst(schema, { a: 0, b: ["z"], c: 2 }), [
    'result.b[0] is the string "z", not one of "x", "y"',
    "result.c is 2, above 1",
  ]);
  assertEquals(validateAgainst(schema, { a: 0, b: ["x"], d: 1 }), ["result.d is not a field of this schema"]);
  assertEquals(validateAgainst(schema, { b: ["x"], a: Infinity }), ["result.a is Infinity, not integer"]);
});

Deno.test("experiments: results and figures are written atomically; a quick result never replaces the shipped one", async () => {
  const r = await quickRun();
  const dir = await Deno.makeTempDir({ prefix: "clipkit-experiment-" });
  try {
    const out = join(dir, "temperature.json");
    const written = await writeResult(r, { out, figure: experiment("temperature").figure(r) });
    assertEquals(written, {
      result: out,
      svg: join(dir, "temperature.svg"),
      png: join(dir, "temperature.png"),
    });
    assertEquals(numbersOf(await readResult(out)), numbersOf(r));
    assert((await Deno.readTextFile(written.svg!)).startsWith("<svg"), "no SVG written");
    assertEquals([...(await Deno.readFile(written.png!)).subarray(1, 4)], [80, 78, 71]); // "PNG"
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "temperature.json",
      "temperature.png",
      "temperature.svg",
    ]);
    await assertRejects(
      () => writeResult(r, { out: shippedResultPath("temperature") }),
      ExperimentError,
      "would overwrite the shipped",
    );
    assertEquals(
      figurePaths("temperature", shippedResultPath("temperature")).svg,
      join(ROOT, "docs", "figures", "temperature.svg"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("experiments: the shipped temperature result validates and draws", async () => {
  const shipped = await readResult("temperature");
  assertEquals(shipped.preset, "full");
  assertEquals(shipped.config, temperatureConfig("full"));
  const fig = experiment("temperature").figure(shipped);
  assert(
    fig.svg.includes("frozen at 100") && fig.svg.includes("learned (starts at 1/0.07)"),
    "legend lacks the variants",
  );
});

Deno.test("experiments: bad options and command lines fail with one typed error", async () => {
  assertThrows(() => temperatureConfig("quick", { templates: "nope" }), ExperimentError, "no template set");
  assertThrows(
    () =>
      temperatureConfig("quick", {
        variants: [{ name: "a", label: "a", logit_scale: 2, learned: true }, {
          name: "a",
          label: "b",
          logit_scale: 3,
          learned: false,
        }],
      }),
    ExperimentError,
    "variant names repeat",
  );
  await assertRejects(
    () =>
      experiment("temperature").run({
        preset: "quick",
        progress: "none",
        overrides: { validation_size: 100 },
      }),
    ExperimentError,
    "not a multiple of batch_size",
  );
  await assertRejects(
    () =>
      experiment("temperature").run({
        preset: "quick",
        progress: "none",
        overrides: { variants: [{ name: "hot", label: "hot", logit_scale: 500, learned: false }] },
      }),
    ExperimentError,
    "outside [1, 100]",
  );
  await assertRejects(() => experimentCli(["temperature", "--bogus"]), UsageError, "unknown option --bogus");
  await assertRejects(
    () => experimentCli(["temperature", "--seed", "-1"]),
    UsageError,
    "--seed must be a whole number ≥ 0",
  );
  await assertRejects(
    () => experimentCli(["temperature", "--backend", "gpu"]),
    UsageError,
    "--backend gpu is not one of node, web",
  );
  await assertRejects(() => experimentCli(["nope"]), ExperimentError, 'no experiment "nope"');
  // through the task: one line on stderr, exit code 2, no stack trace
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "src/cli/experiment.ts"), "temperature", "--quick", "--bogus"],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  assertEquals(out.code, 2);
  assertEquals(stderr.split("\n").length, 1, stderr);
  assert(stderr.startsWith("experiment: unknown option --bogus. Fix:"), stderr);
});
