console.log("\n######## cell 0");
import { ClipModel, ClipTokenizer, exampleSeed, generateExample, Matrix, plots, Progress, selectRows, shapesClassNames, similarity, templates,
  zeroShotClassifier } from "../src/mod.ts";
import { loadArchitecture, parameterCount } from "../src/model/architecture.ts";
import { Trainer } from "../src/train/trainer.ts";
import { pretrainConfig, shapesTemplates } from "../src/train/pretrain.ts";
import { exportClip } from "../src/onnx/export.ts";
import assert from "node:assert/strict";

const tokenizer = await ClipTokenizer.load("../models/tiny-clip-classic"); // the BPE vocabulary learned from the training captions
const config = { ...loadArchitecture("tiny"), vocab_size: tokenizer.vocabSize };
const run = pretrainConfig("quick");
const trainer = await Trainer.create(config, run, tokenizer, shapesTemplates());
console.log(`${parameterCount(config).toLocaleString("en")} parameters; ${run.steps} steps × ${run.batch_size} pairs; ` +
  `learning rate ${run.lr} (warm-up ${100 * run.warmup_fraction} %, then cosine); ${trainer.session.runtime.describe()}`);

console.log("\n######## cell 1");
const R = config.image_resolution; // 32
const watch = Array.from({ length: 8 }, (_, i) => generateExample(exampleSeed(run.seed, "validation", i), { split: "validation", size: R }));
const watchImages = watch.map((e) => ({ width: R, height: R, mode: "RGBA" as const, format: "RAW" as const, data: e.rgba }));
const watchCaptions = watch.map((e) => e.caption);
const checkpointDir = await Deno.makeTempDir({ prefix: "tiny-clip-quick-" });
async function snapshot(): Promise<{ step: number; S: Matrix; diagonalWins: number }> {
  await exportClip({ config, weights: trainer.weights() }, checkpointDir, { tokenizer: "../models/tiny-clip-classic" });
  const model = await ClipModel.load(checkpointDir);
  const images = await model.encodeImages(watchImages), texts = await model.encodeText(watchCaptions);
  const S = similarity(texts, images); // [captions, images], as the heatmap draws it
  const perImage = similarity(images, texts).toRows(); // [images, captions]: each picture's row of cosines
  const diagonalWins = perImage.filter((row, i) => row.indexOf(Math.max(...row)) === i).length;
  return { step: trainer.step, S, diagonalWins };
}
const snapshots = [await snapshot()];
plots.similarityHeatmap(snapshots[0].S, { texts: watchCaptions, images: watchImages, title: "Step 0: random weights" })

console.log("\n######## cell 2");
const validations = [await trainer.validate()];
const bar = new Progress(run.steps, { label: "training", unit: "steps" });
const started = performance.now();
while (trainer.step < run.steps) {
  await trainer.trainStep();
  bar.update(trainer.step);
  if (trainer.step % run.validate_every === 0) {
    const m = await trainer.validate();
    validations.push(m);
    snapshots.push(await snapshot());
    console.log(`step ${m.step}: validation loss ${m.loss.toFixed(3)}, colour ${(100 * m.colour).toFixed(0)} %, ` +
      `shape ${(100 * m.shape).toFixed(0)} %, logit scale ${m.logitScale.toFixed(1)}`);
  }
}
bar.finish();
console.log(`${run.steps} steps in ${((performance.now() - started) / 60000).toFixed(1)} min`);

console.log("\n######## cell 3");
const history = trainer.history.map((h) => ({ step: h.step, loss: h.loss }));
const checkpoints = validations.map((m) => ({ step: m.step, accuracy: m.colour, logitScale: m.logitScale, split: "validation" }));
plots.trainingCurves([...history, ...checkpoints], { title: `Training the tiny CLIP, ${run.steps} quick steps (accuracy: zero-shot colour, 10-way)` })

console.log("\n######## cell 4");
const [start, end] = [validations[0], validations.at(-1)!];
console.log(`validation loss ${start.loss.toFixed(3)} → ${end.loss.toFixed(3)} (chance level ln(128) = ${Math.log(128).toFixed(3)})`);
console.log(`logit scale ${start.logitScale.toFixed(2)} (T = 0.07) → ${end.logitScale.toFixed(2)} (T = ${(1 / end.logitScale).toFixed(3)})`);
assert.ok(end.loss < start.loss - 0.5, "training should lower the validation loss");
console.log("✔ the quick run lowered the loss");

console.log("\n######## cell 5");
for (const s of snapshots.slice(1)) {
  await Deno.jupyter.display(plots.similarityHeatmap(s.S, {
    texts: watchCaptions, images: watchImages, title: `Step ${s.step}: ${s.diagonalWins} of 8 pictures prefer their own caption`,
  }));
}

console.log("\n######## cell 6");
plots.trainingReplay(history, snapshots, { texts: watchCaptions, images: watchImages, title: `Replay of the ${run.steps} quick steps` })

console.log("\n######## cell 7");
const test = Array.from({ length: 1000 }, (_, i) => generateExample(exampleSeed(run.seed, "test", i), { split: "test", size: R }));
const testImages = test.map((e) => ({ width: R, height: R, mode: "RGBA" as const, format: "RAW" as const, data: e.rgba }));
type Example = (typeof test)[number];
async function zeroShotScores(model: ClipModel) {
  const embeddings = await model.encodeImages(testImages, { progress: false }); // [1000, 64]
  const accuracy = async (task: "colour" | "shape" | "combo", label: (e: Example) => number, keep = (_: Example) => true) => {
    const head = await zeroShotClassifier(model, shapesClassNames(task), templates.shapes);
    const rows = test.flatMap((e, i) => (keep(e) ? [i] : []));
    return (await head.evaluate({ images: selectRows(embeddings, rows), labels: rows.map((i) => label(test[i])) })).top1;
  };
  return {
    colour: await accuracy("colour", (e) => e.colourIndex),
    shape: await accuracy("shape", (e) => e.shapeIndex),
    seen: await accuracy("combo", (e) => e.comboIndex, (e) => !e.heldOut),
    unseen: await accuracy("combo", (e) => e.comboIndex, (e) => e.heldOut),
  };
}
const classicRun = JSON.parse(await Deno.readTextFile("../models/tiny-clip-classic/training.json")).train; // its recipe
const CLASSIC = `classic model (${classicRun.steps.toLocaleString("en")} steps)`;
const scores = {
  [`quick run (${run.steps} steps)`]: await zeroShotScores(await ClipModel.load(checkpointDir)),
  [CLASSIC]: await zeroShotScores(await ClipModel.load("../models/tiny-clip-classic")),
};
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
console.table(Object.entries(scores).map(([model, m]) => ({
  model, colour: pct(m.colour), shape: pct(m.shape), "seen combos (80-way)": pct(m.seen), "unseen combos (80-way)": pct(m.unseen),
})));
console.log(`${test.filter((e) => e.heldOut).length} of the ${test.length} test pictures show an unseen combination; chance is 1/80 = 1.3 %`);

console.log("\n######## cell 8");
const classicScores = scores[CLASSIC];
const chance = 1 / 80;
console.log(`classic model on unseen combinations: ${pct(classicScores.unseen)}, ${(classicScores.unseen / chance).toFixed(0)}× chance`);
assert.ok(classicScores.unseen > 10 * chance, "the classic model should recognise unseen combinations far above chance");
console.log("✔ the classic model classifies unseen combinations");
