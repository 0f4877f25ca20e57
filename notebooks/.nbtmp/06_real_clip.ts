console.log("\n######## cell 0");
import { ClipModel, loadPromptFile, plots, similarity, zeroShotClassifier, generateExample } from "../src/mod.ts";
import { existsSync } from "node:fs";
import assert from "node:assert/strict";

const REAL = "../models/clip-vit-base-patch32";
const isReal = existsSync(`${REAL}/config.json`);
if (!isReal) {
  console.log(`No real CLIP in ${REAL}. To get one (once, from the Hugging Face hub), run in the repository:

    deno task fetch-model Xenova/clip-vit-base-patch32              # full precision, about 600 MB
    deno task fetch-model Xenova/clip-vit-base-patch32 --dtype q8   # 8-bit quantised, about 150 MB

Until then every cell below runs on the shipped tiny model.`);
}
// Whichever variant was fetched: full precision if present, else the quantised towers.
const dtype = existsSync(`${REAL}/onnx/vision_model.onnx`) ? "fp32" : "q8";
const model = await ClipModel.load(isReal ? REAL : "../models/tiny-clip", isReal ? { dtype } : {});
console.log(`loaded ${model.dir} (${model.dtype}, ${model.backend} backend)`);
console.log("\n######## cell 1");
console.table([{
  model: model.dir.split("/").at(-1),
  "embedding width": model.dim,
  "image side (px)": model.imageSize,
  "context length": model.contextLength,
  "vocabulary": model.tokenizer.vocabSize,
  "logit scale (1/T)": Number(model.logitScale.toFixed(2)),
  backend: model.backend,
}]);
console.log("\n######## cell 2");
const examples = [3, 5, 8, 13, 21, 34, 55, 89].map((seed) => generateExample(seed, { size: model.imageSize, split: "test", medium: "mixed" }));
const images = examples.map((e) => ({ width: e.size, height: e.size, mode: "RGBA" as const, data: e.rgba }));
const captions = examples.map((e) => e.caption);
const imageEmbeds = await model.encodeImages(images);
const S = similarity(await model.encodeText(captions), imageEmbeds); // [captions, images]
console.log(String(plots.similarityHeatmap(S, { texts: captions, images, title: `Cosine similarity — ${model.dir.split("/").at(-1)}` })));
console.log("\n######## cell 3");
const CLIP_SELECTED = ["itap of a {}.", "a bad photo of the {}.", "a origami {}.", "a photo of the large {}.",
  "a {} in a video game.", "art of the {}.", "a photo of the small {}."]; // the 7 of 80 (CLIP's README)
const FOUND = ["../models/clip_prompts.json", "../../shared/clip/prompts.json"].find(existsSync);
let promptFile = FOUND;
if (!promptFile) {
  promptFile = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(promptFile, JSON.stringify({
    CIFAR10: {
      classes: ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
      templates: CLIP_SELECTED,
    },
  }));
}
const prompts = await loadPromptFile(promptFile);
// A real CLIP takes ImageNet's 1,000 classes; the tiny model's context (section 1) is too short for some of them.
const dataset = isReal && prompts.ImageNet ? "ImageNet" : "CIFAR10";
const set = prompts[dataset];
console.log(`${FOUND ?? "a small prompt file written for this chapter"}: ${Object.keys(prompts).length} dataset(s)` +
  (prompts.ImageNet ? `; ImageNet: ${prompts.ImageNet.classes!.length} classes × ${prompts.ImageNet.templates.length} templates` : ""));
console.log(`${dataset}: ${set.classes!.length} classes × ${set.templates.length} templates, e.g. "${set.templates[0]}"`);
const imagenetTemplates = prompts.ImageNet?.templates ?? set.templates; // where the authors' 7 come from
CLIP_SELECTED.forEach((t) => assert.ok(imagenetTemplates.includes(t), `"${t}" should be one of CLIP's ImageNet templates`));
console.log(`the 7 selected templates are among the ${imagenetTemplates.length} of the file`);
console.log("✔ the prompt file loads CLIP's templates");
console.log("\n######## cell 4");
const head = await zeroShotClassifier(model, set.classes!, CLIP_SELECTED);
const top5 = await head.predict(imageEmbeds, { topK: 5 });
console.log(String(plots.zeroShotBars(top5.slice(0, 4), { images: images.slice(0, 4), captions: captions.slice(0, 4) })));
console.log("\n######## cell 5");
console.table(top5.map((p, i) => ({ picture: captions[i], "best class": p[0].label, p: p[0].score.toFixed(2) })));
assert.equal(head.weights.cols, model.dim);
top5.forEach((p) => assert.ok(p[0].score >= p[4].score && p[0].score <= 1));
console.log(`✔ the chapter ran on a CLIP model (${isReal ? "a real one" : "the shipped tiny one"})`);