/**
 * The media-world recipe as a resumable command (src/train/world_recipe.ts) and its model card
 * (src/train/world_card.ts): a run stopped half-way and resumed gives the same bytes as one never stopped, a
 * checkpoint of another recipe (or of another trainer) is refused with a typed error, and the card reports
 * every number it is given — the curve, the whole suite table, the prompt gain and each goal met or missed.
 */
import { join } from "node:path";
import {
  groupedBatches,
  main,
  recipeDifferences,
  TRAIN_WORLD_COMMAND,
  trainWorld,
  worldPresets,
  type WorldRecipe,
} from "../src/train/world_recipe.ts";
import {
  readWorldRecord,
  reproduceCommand,
  worldGoals,
  worldModelCard,
  type WorldTrainingRecord,
} from "../src/train/world_card.ts";
import { writeCheckpoint } from "../src/train/checkpoint.ts";
import type { SuiteRow, SuiteTable } from "../src/data/suite.ts";
import { CheckpointError, UsageError } from "../src/errors.ts";
import { helpText } from "../src/cli/args.ts";
import { Progress } from "../src/model/progress.ts";
import { assert, assertEquals, assertRejects } from "./_assert.ts";

const presets = worldPresets();

/**
 * A few seconds of training: the tiny architecture, 8 pairs a step, 6 steps validated every 3 on 2 pictures
 * per medium, hard-negative batches every other step (so resuming must also replay the grouped sampler).
 */
const TINY: WorldRecipe = {
  ...presets.quick,
  steps: 6,
  batch_size: 8,
  warmup_fraction: 0.3,
  bpe: { captions: 300, vocab_size: 600 },
  validate_every: 3,
  validation_size: 2,
  colours_per_batch: 2,
  grouped_every: 2,
};
/** One engine thread: with more, onnxruntime's parallel kernels can round differently from run to run. */
const quiet = { progress: false, card: false, threads: 1 } as const;

/** Every file under `dir` (relative path → bytes). */
async function files(dir: string, under = ""): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(join(dir, under))) {
    const rel = under ? `${under}/${e.name}` : e.name;
    if (e.isDirectory) { for (const [k, v] of await files(dir, rel)) out.set(k, v); }
    else out.set(rel, await Deno.readFile(join(dir, rel)));
  }
  return out;
}

/** The curve without its clocks (which differ between runs). */
const numbers = (curve: { wall_s: number; cpu_s: number }[]) =>
  curve.map(({ wall_s: _, cpu_s: __, ...p }) => p);

Deno.test("trainWorld: stopped after 4 of 6 steps and resumed, the model is bit-identical to a straight run", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "clipkit-world-resume-" });
  const straight = join(root, "straight"), resumed = join(root, "resumed");
  const straightCurve = await trainWorld(TINY, straight, () => {}, quiet);
  assertEquals(straightCurve.map((p) => p.step), [3, 6]);
  assert(
    !(await Deno.stat(join(straight, "checkpoint.bin")).then(() => true, () => false)),
    "checkpoint kept",
  );

  const stop = new AbortController();
  const partial = await trainWorld(TINY, resumed, () => {}, {
    ...quiet,
    signal: stop.signal,
    onStep: (step) => step === 4 && stop.abort(),
  });
  assertEquals(partial.map((p) => p.step), [3]);
  assert(await Deno.stat(join(resumed, "checkpoint.bin")).then(() => true, () => false), "no checkpoint");

  await t.step("a checkpoint of another recipe is refused, naming the field and the fix", async () => {
    const error = await trainWorld({ ...TINY, lr: 0.001 }, resumed, () => {}, quiet).then(
      () => null,
      (e) => e,
    );
    assert(error instanceof CheckpointError, String(error));
    assert(error.message.includes("another recipe (lr: 0.002 there, 0.001 here)"), error.message);
    assert(
      error.message.includes("Fix: rerun with the recipe it was written for, pass --fresh"),
      error.message,
    );
  });

  await t.step("resuming continues from step 4 and ends with the same bytes", async () => {
    const lines: string[] = [];
    const curve = await trainWorld(TINY, resumed, (l) => lines.push(l), quiet);
    assert(lines.some((l) => l.startsWith("resuming from") && l.includes("at step 4/6")), lines.join("\n"));
    assertEquals(numbers(curve), numbers(straightCurve));
    const a = await files(straight), b = await files(resumed);
    for (
      const f of ["onnx/text_model.onnx", "onnx/vision_model.onnx", "vocab.json", "merges.txt", "config.json"]
    ) {
      assert(a.has(f), `the straight run wrote no ${f}`);
      assertEquals(b.get(f), a.get(f), `${f} differs`);
    }
    const record = JSON.parse(new TextDecoder().decode(b.get("training.json"))) as WorldTrainingRecord;
    assertEquals([record.steps, record.images_seen, record.curve.length], [6, 48, 2]);
    assert(!b.has("checkpoint.bin") && !b.has("MODEL_CARD.md"), [...b.keys()].join(", "));
  });
  await Deno.remove(root, { recursive: true });
});

Deno.test("trainWorld: a checkpoint written by the classic trainer is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clipkit-world-other-" });
  await writeCheckpoint(join(dir, "checkpoint.bin"), { meta: { format: "clipkit-engine-1" }, arrays: {} });
  await assertRejects(
    () => trainWorld(TINY, dir, () => {}, quiet),
    CheckpointError,
    "not written by the media-world",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("groupedBatches: skip moves the sampler on exactly as drawing the batch does", () => {
  const drawn = groupedBatches({ seed: 3, batch_size: 6 }, 3),
    skipped = groupedBatches({ seed: 3, batch_size: 6 }, 3);
  for (const s of [0, 2, 4]) {
    drawn(s);
    skipped.skip(s);
  }
  assertEquals(skipped(6).captions, drawn(6).captions);
});

Deno.test("recipeDifferences: the why line and an absent time limit do not count", () => {
  const { time_limit_s: _, ...noLimit } = presets.ship;
  assertEquals(recipeDifferences(presets.ship, { ...noLimit, why: "another line" }), []);
  assertEquals(recipeDifferences(presets.ship, { ...presets.ship, media_mix: { icon: 1 } }), [
    'media_mix: {"mixed":1} there, {"icon":1} here',
  ]);
});

/** A suite row with the given accuracies (fractions). */
function row(dataset: string, bare: number, greedy: number, classes = 8): SuiteRow {
  const [medium, task] = dataset.split("-") as [SuiteRow["medium"], SuiteRow["task"]];
  return {
    dataset,
    medium,
    task,
    classes,
    validation: 600,
    test: 600,
    chance: 1 / classes,
    bare,
    photo: bare + 0.01,
    engineered: bare + 0.02,
    engineeredTemplate: "an icon of a {} shape.",
    ensemble: greedy - 0.01,
    greedy,
    greedyValidation: greedy,
    selected: ["a {}."],
    perClass: [],
  };
}

function fakeTable(): SuiteTable {
  const rows = [
    row("icon-colour", 0.95, 0.995, 10),
    row("icon-shape", 0.9, 0.955),
    row("icon-seen", 0.8, 0.96, 80),
    row("icon-unseen", 0.7, 0.8, 80),
    row("outline-shape", 0.8, 0.9),
    row("sketch-shape", 0.7, 0.84),
    row("photo-shape", 0.85, 0.86),
    row("pixel-shape", 0.8, 0.88),
  ];
  const mean = (k: "bare" | "photo" | "engineered" | "ensemble" | "greedy") =>
    rows.reduce((a, r) => a + r[k], 0) / rows.length;
  return {
    model: "fake",
    protocol: { seed: 0, examples: 600, unseenExamples: 200, greedySize: 7 },
    rows,
    mean: {
      bare: mean("bare"),
      photo: mean("photo"),
      engineered: mean("engineered"),
      ensemble: mean("ensemble"),
      greedy: mean("greedy"),
    },
  };
}

const fakeRecord = (): WorldTrainingRecord => ({
  command: reproduceCommand({
    ...presets.full,
    steps: 9000,
    time_limit_s: 0,
    validate_every: 1000,
    warmup_fraction: 0.05,
  }, "models/tiny-clip"),
  recipe: { ...presets.full, steps: 9000, time_limit_s: 0, validate_every: 1000, warmup_fraction: 0.05 },
  architecture: {
    embed_dim: 64,
    image_resolution: 40,
    vision_layers: 2,
    vision_width: 64,
    vision_heads: 4,
    vision_patch_size: 8,
    context_length: 32,
    vocab_size: 1024,
    transformer_width: 64,
    transformer_heads: 4,
    transformer_layers: 2,
  },
  parameters: 290_113,
  steps: 9000,
  images_seen: 1_152_000,
  wall_s: 4321,
  cpu_s: 8100,
  validation_wall_s: 120,
  logit_scale: 61.25,
  machine: "Test CPU · 2 cores · linux 6.8 · Deno 2.9.6 · onnxruntime-node 1.30.0 (native CPU, 2 threads)",
  curve: [
    { step: 1000, wall_s: 480, cpu_s: 900, lr: 0.0019, loss: 1.2346 },
    {
      step: 9000,
      wall_s: 4321,
      cpu_s: 8100,
      lr: 0,
      loss: 0.4567,
      logit_scale: 61.25,
      validation: {
        colour: { mean: 99.2, byMedium: {} },
        shape: { mean: 71.4, byMedium: {} },
        count: { mean: 93.0, byMedium: {} },
      },
    },
  ],
});

Deno.test("worldGoals: each goal met or missed by how many points", () => {
  const goals = worldGoals(fakeTable());
  const by = Object.fromEntries(goals.map((g) => [g.goal, g]));
  assertEquals([by["flat icons: colour"].met, by["flat icons: colour"].measured], [true, 99.5]);
  assertEquals([by["flat icons: shape"].met, by["flat icons: shape"].short], [false, 1.5]);
  assertEquals([by["sketches: shape"].met, by["sketches: shape"].short], [false, 1]);
  const gain = goals.at(-1)!; // mean greedy 89.875% − mean bare 81.25%
  assertEquals([gain.unit, gain.measured, gain.met], ["points", 8.6, true]);
  const partial = worldGoals({ ...fakeTable(), rows: fakeTable().rows.slice(0, 1) });
  assertEquals([partial[1].met, Number.isNaN(partial[1].measured)], [false, true]);
});

Deno.test("worldModelCard: architecture, recipe, command, clocks, curve, suite, prompt gain, goals and notes", () => {
  const card = worldModelCard(fakeRecord(), fakeTable(), "Shape on sketches is what limits it.", {
    name: "tiny-clip",
    dataCard: "../../src/data/DATA_CARD.md",
  });
  const lines = card.split("\n");
  assertEquals(lines[0], "# tiny-clip — a CLIP trained from scratch on the media world");
  for (
    const expected of [
      "[data card](../../src/data/DATA_CARD.md)",
      "red square", // a held-out combination
      "| image | 40 × 40 pixels, patches of 8 px (25 patches + class token) |",
      "| parameters | 290,113 |",
      "| final logit scale | 61.25 (clamped at 100) |",
      "| `steps` | 9000 |",
      "| `time_limit_s` | 0 |",
      '| `media_mix` | {"mixed":1} |',
      worldPresets().ship.why!, // the ship preset's line, as the run equals that preset
      "deno task train-world --preset ship --out models/tiny-clip",
      "1,152,000 image–caption pairs",
      "72.0 min of wall time and 8,100 CPU seconds",
      "Test CPU · 2 cores",
      "| 1000 | 1.235 | — | — | — | — |",
      "| 9000 | 0.457 | 61.3 | 99.2% | 71.4% | 93.0% |",
      "| icon-colour | 10 | 10.0% | 95.0% | 96.0% | 97.0% | 98.5% | 99.5% | +4.5 |",
      "| **mean** |",
      "≈ 5 points",
      "| flat icons: colour | ≥ 99% | 99.5% | met |",
      "| flat icons: shape | ≥ 97% | 95.5% | missed by 1.5 points |",
      "| sketches: shape | ≥ 85% | 84.0% | missed by 1.0 points |",
      "≥ +3 points | +8.6 points | met |",
      "## What limits it\n\nShape on sketches is what limits it.",
    ]
  ) assert(card.includes(expected), `the card lacks ${JSON.stringify(expected)}`);
  assertEquals(lines.filter((l) => l.startsWith("| icon-") || l.startsWith("| outline-")).length, 5);
  assert(!/issue|#\d/i.test(card), "tracker wording in the card");
  assert(!worldModelCard(fakeRecord(), fakeTable()).includes("What limits it"), "empty notes left a section");
});

Deno.test("readWorldRecord: a folder with only curve.json gives a record with the preset's command", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clipkit-world-card-" });
  const { recipe, architecture, curve } = fakeRecord();
  await Deno.writeTextFile(join(dir, "curve.json"), JSON.stringify({ recipe, architecture, curve }));
  const r = await readWorldRecord(dir, "the lead's machine");
  assertEquals(
    [r.command, r.steps, r.images_seen, r.wall_s, r.machine, r.parameters],
    [
      `deno task train-world --preset ship --out ${dir}`,
      9000,
      1_152_000,
      4321,
      "the lead's machine",
      290_113,
    ],
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("train-world command: --out is required, unknown presets are refused, --help lists ship", async () => {
  await assertRejects(() => main(["--preset", "quick"]), UsageError, "missing --out DIR");
  await assertRejects(() => main(["--preset", "nope", "--out", "/tmp/x"]), UsageError, "is not one of");
  assert(
    helpText(TRAIN_WORLD_COMMAND).includes("(full | wide | quick | ship)"),
    helpText(TRAIN_WORLD_COMMAND),
  );
});

Deno.test("Progress: the detail line follows the bar (the training loop's loss and ms/step)", () => {
  const bar = new Progress(10, { label: "train-world", unit: "steps", output: "none" });
  bar.update(5);
  bar.detail = "step 5/10 · loss 2.310 · 420 ms/step";
  assert(bar.toString().endsWith(" · step 5/10 · loss 2.310 · 420 ms/step"), bar.toString());
  assert(bar.toString().startsWith("train-world ["), bar.toString());
});
