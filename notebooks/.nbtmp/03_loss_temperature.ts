console.log("\n######## cell 0");
import { clipLoss, ClipModel, generateExample, plots, sigLipLoss, similarity, softmax, softmaxAtTemperatures,
  temperatureRange, temperatureSweep, transpose, Matrix } from "../src/mod.ts";
import assert from "node:assert/strict";

const model = await ClipModel.load("../models/tiny-clip");
// A hard batch: the first 8 purple pictures of the test split (each in a medium of its own), told apart only by
// shape, count, size, place and medium.
const examples = [];
for (let seed = 1; examples.length < 8; seed++) {
  const e = generateExample(seed, { split: "test", medium: "mixed" });
  if (e.colour === "purple") examples.push(e);
}
const images = examples.map((e) => ({ width: e.size, height: e.size, mode: "RGBA" as const, data: e.rgba }));
const captions = examples.map((e) => e.caption);
const imageEmbeds = await model.encodeImages(images); // [8, D]
const textEmbeds = await model.encodeText(captions); // [8, D]
console.log(`a batch of ${images.length} pairs, embeddings ${imageEmbeds.rows}×${imageEmbeds.cols}; logit scale ${model.logitScale.toFixed(2)}`);
console.log("\n######## cell 1");
const s = model.logitScale;
const cos = similarity(imageEmbeds, textEmbeds); // [8 images, 8 captions]
const n = cos.rows;
let imageToText = 0, textToImage = 0;
for (let i = 0; i < n; i++) {
  let rowSum = 0, colSum = 0;
  for (let j = 0; j < n; j++) {
    rowSum += Math.exp(s * cos.get(i, j)); // image i against every caption
    colSum += Math.exp(s * cos.get(j, i)); // caption i against every image
  }
  imageToText += -(s * cos.get(i, i) - Math.log(rowSum)) / n;
  textToImage += -(s * cos.get(i, i) - Math.log(colSum)) / n;
}
const byHand = (imageToText + textToImage) / 2;
console.log(`by hand:  image→text ${imageToText.toFixed(5)}  text→image ${textToImage.toFixed(5)}  loss ${byHand.toFixed(5)}`);
console.log("\n######## cell 2");
const result = clipLoss(imageEmbeds, textEmbeds, { logitScale: s });
console.log(`clipLoss: image→text ${result.imageToText.toFixed(5)}  text→image ${result.textToImage.toFixed(5)}  loss ${result.loss.toFixed(5)}`);
console.log(`accuracy: image→text ${result.accuracyImageToText}  text→image ${result.accuracyTextToImage}`);
assert.ok(Math.abs(byHand - result.loss) < 1e-4, "the hand-written loss and clipLoss must agree");
console.log("✔ InfoNCE by hand equals clipLoss");
console.log("\n######## cell 3");
plots.similarityHeatmap(transpose(result.logits), { // rows: captions, columns: images
  texts: captions, images, title: "CLIP's logits for a batch of 8 pairs", label: "logit = s · cosine",
  format: (v) => v.toFixed(1),
})
console.log("\n######## cell 4");
const row = Array.from(cos.row(0));
const temperatures = [1, 0.3, 0.1, 0.07, 0.03, 0.01];
const table = softmaxAtTemperatures(row, temperatures).map(({ temperature, probs }) => ({
  T: temperature,
  ...Object.fromEntries(probs.map((p, j) => [`caption ${j + 1}`, p.toFixed(3)])),
}));
console.table(table);
const peak = (t: number) => Math.max(...softmaxAtTemperatures(row, [t])[0].probs);
assert.ok(peak(0.01) > peak(0.07) && peak(0.07) > peak(1), "the top probability must grow as T falls");
console.log("✔ a lower temperature sharpens the softmax");
console.log("\n######## cell 5");
const sweep = temperatureSweep(imageEmbeds, textEmbeds, temperatureRange(0.003, 1, 25));
console.log(String(plots.temperatureEffects(imageEmbeds, textEmbeds, { texts: captions })));
console.log("\n######## cell 6");
const best = sweep.reduce((a, b) => (b.loss < a.loss ? b : a));
console.table(sweep.filter((_, k) => k % 4 === 0).map((p) => ({
  T: p.temperature.toPrecision(2), loss: p.loss.toFixed(3), accuracy: p.accuracy, "p(true pair)": p.meanTrueProbability.toFixed(3),
})));
console.log(`lowest loss on this batch at T ≈ ${best.temperature.toPrecision(2)} (logit scale ${(1 / best.temperature).toFixed(1)}); the model learned T = ${(1 / model.logitScale).toPrecision(2)}`);
console.log("\n######## cell 7");
const slider = plots.temperatureSlider(imageEmbeds, textEmbeds, { texts: captions, images, learnedTemperature: 1 / model.logitScale });
console.log(`${slider.bytes().total.toLocaleString("en")} bytes in the notebook (HTML + its SVG fallback)`);
console.log(String(slider));
console.log("\n######## cell 8");
const sig = model.logitScale;
const biases = Array.from({ length: 41 }, (_, k) => -k); // 0, −1, …, −40
const sweepB = biases.map((b) => ({ b, loss: sigLipLoss(imageEmbeds, textEmbeds, { logitScale: sig, logitBias: b }).loss }));
const bestB = sweepB.reduce((a, c) => (c.loss < a.loss ? c : a));
console.log(`SigLIP loss at its initial s = 10, b = −10: ${sigLipLoss(imageEmbeds, textEmbeds, { logitScale: 10, logitBias: -10 }).loss.toFixed(3)}`);
console.log(`with s = ${sig.toFixed(1)}: ${sweepB.filter((_, k) => k % 8 === 0).map((p) => `b = ${p.b}: ${p.loss.toFixed(3)}`).join(", ")}`);
console.log(`lowest at b = ${bestB.b} (loss ${bestB.loss.toFixed(3)})`);
const placed = sigLipLoss(imageEmbeds, textEmbeds, { logitScale: sig, logitBias: bestB.b });
const probs = placed.logits.toRows().map((r) => r.map((z) => 1 / (1 + Math.exp(-z)))); // [images, captions]
plots.similarityHeatmap(transpose(Matrix.fromRows(probs)), {
  texts: captions, images, title: `SigLIP: σ(s · cosine + b) for every pair (s = ${sig.toFixed(1)}, b = ${bestB.b})`,
  label: "probability of a match", domain: [0, 1],
})
console.log("\n######## cell 9");
const softmaxRows = softmax(result.logits); // [images, captions], CLIP's image→text probabilities
console.table(softmaxRows.toRows().map((r, i) => ({
  image: i + 1,
  "CLIP softmax: row sum": r.reduce((a, b) => a + b, 0).toFixed(3),
  "SigLIP sigmoids: row sum": probs[i].reduce((a, b) => a + b, 0).toFixed(3),
  "SigLIP: captions above 0.5": probs[i].filter((p) => p > 0.5).length,
})));