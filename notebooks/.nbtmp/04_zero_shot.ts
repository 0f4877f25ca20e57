console.log("\n######## cell 0");
import { analyzePrompts, ClipModel, embedPrompts, exampleSeed, generateExample, MEDIA, normalize, pickerSample, pickerState, plots, selectRows,
  shapesClassNames, suiteTemplates, zeroShotClassifier } from "../src/mod.ts";
import assert from "node:assert/strict";

const model = await ClipModel.load("../models/tiny-clip");
const CLASSES = shapesClassNames("combo"); // 80 names: "red circle", "red triangle", …
// 4,000 test pictures of seed 0, each in a medium of its own (about 800 per medium).
const test = Array.from({ length: 4000 }, (_, i) => generateExample(exampleSeed(0, "test", i), { split: "test", medium: "mixed" }));
const images = test.map((e) => ({ width: e.size, height: e.size, mode: "RGBA" as const, data: e.rgba }));
const labels = test.map((e) => e.comboIndex);
const imageEmbeds = await model.encodeImages(images); // [4000, D], embedded once, reused below
console.log(`${CLASSES.length} classes, ${test.length} test pictures of ${model.imageSize}×${model.imageSize} px ` +
  `(${test.filter((e) => e.heldOut).length} of combinations never seen in training)`);
console.table(MEDIA.map((m) => ({ medium: m, pictures: test.filter((e) => e.medium === m).length })));
console.log("\n######## cell 1");
const photo = await zeroShotClassifier(model, CLASSES, ["a photo of a {}."]);
console.log(`${photo.classNames.length} classes × ${photo.templates.length} template → class vectors ${photo.weights.rows}×${photo.weights.cols}`);
const first = await photo.predict(imageEmbeds, { topK: 5 });
assert.equal(photo.weights.rows, 80);
first.forEach((p) => assert.ok(Math.abs(p.reduce((s, c) => s + c.score, 0)) <= 1 + 1e-6));
console.log("✔ the classifier is built from class names alone");
console.log(String(plots.zeroShotBars(first.slice(0, 6), { images: images.slice(0, 6), truth: labels.slice(0, 6).map((y) => CLASSES[y]), columns: 3 })));
console.log("\n######## cell 2");
const WORLD = suiteTemplates("seen"); // every template of the five media's 80-class sets, once each
const PROMPT_SETS: [string, string[]][] = [
  ["bare class name: {}", ["{}"]],
  ['CLIP\'s default: "a photo of a {}."', ["a photo of a {}."]],
  [`ensemble of the ${WORLD.length} media-world templates`, WORLD],
];
const accuracy: number[] = [];
for (const [, set] of PROMPT_SETS) {
  const head = await zeroShotClassifier(model, CLASSES, set);
  accuracy.push((await head.evaluate({ images: imageEmbeds, labels })).top1);
}
console.table(PROMPT_SETS.map(([prompts], k) => ({ prompts, "top-1 accuracy": `${(100 * accuracy[k]).toFixed(1)} %` })));
console.log("\n######## cell 3");
const [bare, , ensemble] = accuracy;
const gained = Math.round((ensemble - bare) * test.length);
console.log(`ensemble ${(100 * ensemble).toFixed(1)} % vs bare names ${(100 * bare).toFixed(1)} %: ` +
  `${(100 * (ensemble - bare)).toFixed(1)} points, ${gained} more of the ${test.length} pictures right`);
assert.ok(ensemble > bare, "the ensemble should beat the bare class names on the tiny model");
console.log("✔ the ensemble beats the bare class names");
console.log("\n######## cell 4");
const analysis = await analyzePrompts(model, CLASSES, WORLD, { images: imageEmbeds, labels });
console.log(String(plots.templateGains({ perTemplate: analysis.perTemplate, bare: analysis.bare, ensemble: analysis.ensemble })));
console.log("\n######## cell 5");
const SHAPE_TEMPLATES = suiteTemplates("shape"); // the five media's templates for the 8-way shape task
const shapeAnalysis = await analyzePrompts(model, shapesClassNames("shape"), SHAPE_TEMPLATES, {
  images: imageEmbeds, labels: test.map((e) => e.shapeIndex),
});
console.log(String(plots.templateGains(shapeAnalysis)));
console.log("\n######## cell 6");
const shapePrompts = await embedPrompts(model, shapesClassNames("shape"), SHAPE_TEMPLATES);
const shapeLabels = test.map((e) => e.shapeIndex);
const picker = plots.templatePicker(shapePrompts, imageEmbeds, shapeLabels, { thumbnails: images });
console.log(`${picker.bytes().total.toLocaleString("en")} bytes in the notebook (HTML + its SVG fallback)`);
console.log(String(picker));
console.log("\n######## cell 7");
const sample = pickerSample(shapeLabels, 8, 256);
const shapeEnsemble = await zeroShotClassifier(model, shapesClassNames("shape"), SHAPE_TEMPLATES);
const onSample = await shapeEnsemble.evaluate({ images: selectRows(imageEmbeds, sample), labels: sample.map((i) => shapeLabels[i]) });
const pickerAll = pickerState(shapePrompts, normalize(selectRows(imageEmbeds, sample)), Int32Array.from(sample, (i) => shapeLabels[i]), SHAPE_TEMPLATES.map((_, t) => t));
console.log(`classifier: ${(100 * onSample.top1).toFixed(2)} %, picker with all templates: ${(100 * pickerAll.accuracy).toFixed(2)} %`);
assert.equal(pickerAll.accuracy, onSample.top1);
console.log("✔ the template picker shows the classifier's accuracy");
console.log("\n######## cell 8");
console.table(analysis.greedy.map((step, k) => ({ step: k + 1, "added template": step.added, "ensemble accuracy": `${(100 * step.accuracy).toFixed(1)} %` })));
console.log(`all ${WORLD.length} templates: ${(100 * analysis.ensemble).toFixed(1)} %`);
console.log("\n######## cell 9");
const shapeHead = await zeroShotClassifier(model, shapesClassNames("shape"), SHAPE_TEMPLATES);
const shapeEval = await shapeHead.evaluate({ images: imageEmbeds, labels: test.map((e) => e.shapeIndex) });
console.log(String(plots.confusionMatrix(shapeEval.confusion, { labels: shapesClassNames("shape") })));
console.log("\n######## cell 10");
const head = await zeroShotClassifier(model, CLASSES, WORLD);
const top = await head.predict(imageEmbeds, { topK: 5 });
const wrong = test.map((_, i) => i).filter((i) => top[i][0].index !== labels[i]);
plots.zeroShotBars(wrong.slice(0, 6).map((i) => top[i]), {
  images: wrong.slice(0, 6).map((i) => images[i]), truth: wrong.slice(0, 6).map((i) => CLASSES[labels[i]]), columns: 3,
})
console.log("\n######## cell 11");
const colourRight = wrong.filter((i) => top[i][0].label.startsWith(test[i].colour + " ")).length;
const shapeRight = wrong.filter((i) => top[i][0].label.endsWith(" " + test[i].shape)).length;
const unseen = test.filter((e) => e.heldOut).length, unseenWrong = wrong.filter((i) => test[i].heldOut).length;
console.log(`${wrong.length} errors of ${test.length}: ${colourRight} right colour / wrong shape, ${shapeRight} right shape / wrong colour, ` +
  `${wrong.length - colourRight - shapeRight} both wrong`);
console.log(`unseen combinations: ${unseen - unseenWrong} of ${unseen} right (${(100 * (unseen - unseenWrong) / unseen).toFixed(0)} %)`);