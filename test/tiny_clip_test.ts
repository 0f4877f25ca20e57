/**
 * The shipped model `models/tiny-clip`, a CLIP trained on the media world (`deno task train-world --preset ship`):
 * its folder is complete, small and consistent (the architecture of `src/model/architectures/world-tiny.json`,
 * the BPE learned from its captions, 40 px preprocessing, the record of its run); `eval.json` is the zero-shot
 * suite measured on these very weights (its model id carries their hash) and adds up; MODEL_CARD.md quotes it;
 * and re-measuring part of the suite through the inference path (`ClipModel.load` → `evaluateSuite`, with the
 * protocol eval.json states) gives eval.json's numbers, each to within one test picture (ONNX Runtime's thread
 * scheduling may flip a near-tie between two classes).
 *
 * The classic model (`models/tiny-clip-classic`) has its own test, tiny_clip_classic_test.ts.
 */
import nodeAssert from "node:assert/strict";
import { join } from "node:path";
import { ClipModel } from "../src/model/clip_model.ts";
import { parameterCount } from "../src/model/architecture.ts";
import {
  evaluateSuite,
  SUITE_MEDIA,
  SUITE_TASKS,
  suiteDatasets,
  type SuiteMedium,
  type SuiteTable,
  type SuiteTask,
} from "../src/data/suite.ts";
import { WORLD_IMAGE_SIZE } from "../src/data/world.ts";
import { ROOT } from "./_shared.ts";
import { checkModelFolder } from "./_model_dir.ts";

const assert = (ok: boolean, msg = "assertion failed") => nodeAssert.ok(ok, msg);
const DIR = join(ROOT, "models", "tiny-clip");
/** The part of the suite re-measured here: two media of the media world and the classic world, every task. */
const REMEASURED: { media: SuiteMedium[]; tasks: SuiteTask[] } = {
  media: ["icon", "photo", "classic"],
  tasks: [...SUITE_TASKS],
};
/** The columns of a suite row that are accuracies on the test pictures. */
const COLUMNS = ["bare", "photo", "engineered", "ensemble", "greedy"] as const;

const readJson = async (file: string) => JSON.parse(await Deno.readTextFile(join(DIR, file)));

Deno.test("tiny-clip: the shipped directory is complete, small, and is the world-tiny architecture at 40 px", async () => {
  const { vocab } = await checkModelFolder(DIR, [
    "config.json",
    "preprocessor_config.json",
    "vocab.json",
    "merges.txt",
    "onnx/text_model.onnx",
    "onnx/vision_model.onnx",
    "curve.json",
    "training.json",
    "eval.json",
    "MODEL_CARD.md",
  ]);
  const config = await readJson("config.json");
  nodeAssert.equal(vocab["<|startoftext|>"], config.text_config.bos_token_id);

  // The architecture preset, with the context length of the recipe and the size of the learned vocabulary.
  const { why: _, ...preset } = JSON.parse(
    await Deno.readTextFile(join(ROOT, "src", "model", "architectures", "world-tiny.json")),
  );
  const record = await readJson("training.json");
  const arch = config.openai_clip_config;
  nodeAssert.deepEqual(arch, record.architecture);
  nodeAssert.deepEqual(
    { ...arch, context_length: undefined, vocab_size: undefined },
    { ...preset, context_length: undefined, vocab_size: undefined },
  );
  nodeAssert.equal(arch.context_length, record.recipe.context_length);
  assert(arch.vocab_size <= preset.vocab_size, `vocabulary of ${arch.vocab_size}`);
  nodeAssert.equal(record.parameters, parameterCount(arch));
  nodeAssert.equal(config.vision_config.image_size, WORLD_IMAGE_SIZE);
  const pre = await readJson("preprocessor_config.json");
  nodeAssert.equal(pre.crop_size?.height ?? pre.crop_size, WORLD_IMAGE_SIZE);

  // The run's record and its curve agree: the last point is the last step, its scale is the model's.
  const curve = (await readJson("curve.json")).curve;
  nodeAssert.deepEqual(record.curve, curve);
  nodeAssert.equal(curve.at(-1).step, record.steps);
  nodeAssert.equal(record.images_seen, record.steps * record.recipe.batch_size);
  // the curve keeps the logit scale to 2 decimals; a record written by trainWorld also keeps it, to 4
  const last = curve.at(-1).logit_scale;
  assert(
    Math.abs(last - config.logit_scale) <= 0.005,
    `curve ends at ${last}, config.json ${config.logit_scale}`,
  );
  if (record.logit_scale !== undefined) {
    assert(
      Math.abs(record.logit_scale - config.logit_scale) <= 5e-5,
      `${record.logit_scale} ≠ ${config.logit_scale}`,
    );
  }
});

Deno.test("tiny-clip: eval.json is the whole suite of these weights, its means add up, and the card quotes it", async () => {
  const stated = (await readJson("eval.json")) as SuiteTable;
  const model = await ClipModel.load(DIR);
  try {
    nodeAssert.equal(stated.model, model.id, "eval.json was measured on other weights");
  } finally {
    await model.dispose();
  }
  nodeAssert.deepEqual(stated.protocol, { seed: 0, examples: 600, unseenExamples: 200, greedySize: 7 });
  nodeAssert.deepEqual(stated.rows.map((r) => r.dataset), suiteDatasets().map((d) => d.name));
  for (const key of COLUMNS) {
    const mean = stated.rows.reduce((a, r) => a + r[key], 0) / stated.rows.length;
    assert(Math.abs(mean - stated.mean[key]) < 1e-12, `mean ${key}: ${stated.mean[key]}, rows give ${mean}`);
  }
  const card = await Deno.readTextFile(join(DIR, "MODEL_CARD.md"));
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  for (const r of stated.rows) {
    const line = card.split("\n").find((l) => l.startsWith(`| ${r.dataset} |`));
    assert(line !== undefined, `MODEL_CARD.md has no row for ${r.dataset}`);
    for (const key of COLUMNS) {
      assert(
        line!.includes(pct(r[key])),
        `MODEL_CARD.md's ${r.dataset} row lacks ${key} ${pct(r[key])}: ${line}`,
      );
    }
  }
  // the model learned its world: every media-world dataset above chance under the ensemble
  for (const r of stated.rows.filter((r) => r.medium !== "classic")) {
    assert(r.ensemble > r.chance, `${r.dataset}: ensemble ${r.ensemble}, chance ${r.chance}`);
  }
});

Deno.test("tiny-clip: re-measured suite accuracies (icon, photo, classic; every task) equal eval.json's", async () => {
  const stated = (await readJson("eval.json")) as SuiteTable;
  assert(REMEASURED.media.every((m) => SUITE_MEDIA.includes(m)));
  const model = await ClipModel.load(DIR);
  try {
    nodeAssert.equal(model.imageSize, WORLD_IMAGE_SIZE);
    const now = await evaluateSuite(model, { ...stated.protocol, ...REMEASURED, progress: false });
    nodeAssert.equal(now.rows.length, REMEASURED.media.length * REMEASURED.tasks.length);
    for (const row of now.rows) {
      const card = stated.rows.find((r) => r.dataset === row.dataset)!;
      nodeAssert.equal(row.test, card.test, `${row.dataset}: test pictures`);
      // One test picture changing its answer moves an accuracy by 1 / test.
      const tolerance = 1 / row.test + 1e-9;
      for (const key of COLUMNS) {
        const d = Math.abs(row[key] - card[key]);
        assert(d <= tolerance, `${row.dataset} ${key}: measured ${row[key]}, eval.json ${card[key]}`);
      }
    }
  } finally {
    await model.dispose();
  }
});
