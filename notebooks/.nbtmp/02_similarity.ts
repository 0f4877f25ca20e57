console.log("\n######## cell 0");
import { ClipModel, generateExample, Matrix, normalize, plots, similarity } from "../src/mod.ts";
import assert from "node:assert/strict";

const model = await ClipModel.load("../models/tiny-clip");
console.log(`${model.dir}: embeddings of width ${model.dim}, images ${model.imageSize}×${model.imageSize}, logit scale ${model.logitScale.toFixed(1)}, ${model.backend} backend`);
console.log("\n######## cell 1");
const examples = [3, 5, 8, 13, 21, 34, 55, 89].map((seed) => generateExample(seed, { split: "test", medium: "mixed" }));
const images = examples.map((e) => ({ width: e.size, height: e.size, mode: "RGBA" as const, data: e.rgba }));
const captions = examples.map((e) => e.caption);
console.table(examples.map((e, i) => ({ image: i + 1, medium: e.medium, caption: e.caption, colour: e.colour, shape: e.shape, count: e.count })));
console.log("\n######## cell 2");
const imageEmbeds = await model.encodeImages(images); // [8, D]
const textEmbeds = await model.encodeText(captions); // [8, D]
const norms = (m: Matrix) => Array.from({ length: m.rows }, (_, i) => Math.hypot(...m.row(i)).toFixed(2));
console.log(`image embeddings ${imageEmbeds.rows}×${imageEmbeds.cols}, lengths ${norms(imageEmbeds).join(" ")}`);
console.log(`text embeddings  ${textEmbeds.rows}×${textEmbeds.cols}, lengths ${norms(textEmbeds).join(" ")}`);
console.log("\n######## cell 3");
const I = normalize(imageEmbeds), T = normalize(textEmbeds);
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, k) => s + v * b[k], 0);
const S = similarity(imageEmbeds, textEmbeds); // [8 images, 8 captions]
console.log(`lengths after normalize: ${norms(I).join(" ")}`);
console.log(`cos(image 1, caption 1) = ${S.get(0, 0).toFixed(4)} = dot product of the unit rows ${dot(I.row(0), T.row(0)).toFixed(4)}`);
for (let i = 0; i < S.rows; i++) for (let j = 0; j < S.cols; j++) assert.ok(Math.abs(S.get(i, j) - dot(I.row(i), T.row(j))) < 1e-5);
console.log("✔ cosine similarity equals the dot product of unit rows");
console.log("\n######## cell 4");
const St = similarity(textEmbeds, imageEmbeds); // [8 captions, 8 images]: rows are texts, as in the figure
console.log(String(plots.similarityHeatmap(St, { texts: captions, images })));
console.log("\n######## cell 5");
const bestCaption = Array.from({ length: S.rows }, (_, i) => S.row(i).indexOf(Math.max(...S.row(i))));
const hits = bestCaption.filter((j, i) => j === i).length;
const diagonal = Array.from({ length: S.rows }, (_, i) => S.get(i, i));
const offDiagonal = S.toRows().flatMap((r, i) => r.filter((_, j) => j !== i));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`${hits} of ${S.rows} pictures find their own caption; mean cosine of true pairs ${mean(diagonal).toFixed(3)}, of the others ${mean(offDiagonal).toFixed(3)}`);
assert.ok(hits >= 6 && mean(diagonal) > mean(offDiagonal), "the true pairs should stand out on the diagonal");
console.log("✔ the diagonal holds the true pairs");
console.log("\n######## cell 6");
const order = [3, 0, 6, 1, 7, 2, 5, 4];
const shuffled = order.map((k) => captions[k]);
const Sshuffled = similarity(await model.encodeText(shuffled), imageEmbeds);
plots.similarityHeatmap(Sshuffled, {
  texts: shuffled, images, title: "Shuffled captions: the true pairs are no longer on the diagonal",
  pairs: order.map((k, row) => [row, k]),
})
console.log("\n######## cell 7");
const shuffledDiagonal = Array.from({ length: 8 }, (_, i) => Sshuffled.get(i, i));
console.log(`mean cosine on the diagonal: ${mean(diagonal).toFixed(3)} in order, ${mean(shuffledDiagonal).toFixed(3)} shuffled`);
console.log("\n######## cell 8");
console.log(String(plots.embeddingMap(imageEmbeds, textEmbeds, { textLabels: captions, imageLabels: captions.map((_, i) => `image ${i + 1}`) })));