/**
 * Render the README's figures from a model directory and the sample images:
 *
 *   deno task figures [--model DIR] [--samples DIR] [--out docs/figures] [--scale 2] [--history FILE]
 *
 * `--model` defaults to `models/tiny-clip` when it exists, else the PyTorch fixture in
 * `../shared/fixtures/clip-tiny-torch` (random weights: the figures then show the pipeline, not
 * meaning). `--samples` is a folder with images and a `labels.json` ({ samples: [{ file, label,
 * caption }] }), default `models/samples`. `--history` is a training log: an array of
 * `{ step, loss, accuracy?, logitScale? }`, or a checkpoint's `{ history, validations }` (default
 * `<model>/training.json` when present; without one the training-curves figure is skipped).
 */
import { parseArgs } from "node:util";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ClipModel } from "../model/clip_model.ts";
import { similarity } from "../math/similarity.ts";
import { templates } from "../zeroshot/templates.ts";
import { zeroShotClassifier } from "../zeroshot/classifier.ts";
import { analyzePrompts } from "../zeroshot/prompt_analysis.ts";
import { type Figure, plots, type TrainingPoint } from "../plot/mod.ts";
import type { Matrix } from "../math/matrix.ts";
import { fromRGBA } from "../image/mod.ts";
import { classNames as shapesClassNames, exampleSeed, generateExample } from "../data/shapes.ts";

const SHIPPED_MODEL = "models/tiny-clip";
const FIXTURE_MODEL = "../shared/fixtures/clip-tiny-torch";
/** CLIP's BPE merges, for a model directory without tokenizer files (the PyTorch fixture). */
const CLIP_MERGES = "../shared/clip/bpe_simple_vocab_16e6.txt.gz";
/** Images shown with their top-5 classes. */
const ZERO_SHOT_IMAGES = 4;
/** Test-split pictures of the shapes world for the template-gain and confusion figures. */
const SHAPES_TEST_PICTURES = 1000;

interface Sample {
  file: string;
  label: string;
  caption: string;
}

const args = parseArgs({
  options: {
    model: { type: "string" },
    samples: { type: "string", default: "models/samples" },
    out: { type: "string", default: "docs/figures" },
    scale: { type: "string", default: "2" },
    history: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (args.values.help) {
  console.log(
    "deno task figures [--model DIR] [--samples DIR] [--out docs/figures] [--scale 2] [--history FILE]",
  );
  Deno.exit(0);
}
const modelDir = args.values.model ??
  (existsSync(join(SHIPPED_MODEL, "config.json")) ? SHIPPED_MODEL : FIXTURE_MODEL);
const scale = Number(args.values.scale);
const out = args.values.out!;
const hasTokenizer = ["vocab.json", "tokenizer.json"].some((f) => existsSync(join(modelDir, f)));
const model = await ClipModel.load(modelDir, hasTokenizer ? {} : { tokenizer: CLIP_MERGES });
const labelsFile = join(args.values.samples!, "labels.json");
if (!existsSync(labelsFile)) {
  console.error(`no ${labelsFile}: pass --samples with a folder holding images and labels.json`);
  Deno.exit(2);
}
const samples: Sample[] = JSON.parse(readFileSync(labelsFile, "utf8")).samples;
const paths = samples.map((s) => join(args.values.samples!, s.file));
const thumbnails = await plots.loadThumbnails(paths);
mkdirSync(out, { recursive: true });
console.log(`model ${modelDir}, ${samples.length} sample images → ${out}/ (scale ${scale})`);

async function save(name: string, fig: Figure): Promise<void> {
  await fig.savePng(join(out, `${name}.png`), { scale });
  console.log(`  ${name}.png  ${fig.width}×${fig.height} px × ${scale}`);
}

const imageEmb = await model.encodeImages(paths); // [n, D]
const textEmb = await model.encodeText(samples.map((s) => s.caption)); // [n, D]
const source = `model: ${modelDir.split("/").pop()}`;

await save(
  "similarity_heatmap",
  plots.similarityHeatmap(similarity(textEmb, imageEmb), {
    texts: samples.map((s) => s.caption),
    images: thumbnails,
    imageLabels: samples.map((s) => s.label),
    title: `Cosine similarity of captions and images (${source})`,
  }),
);

await save(
  "temperature_effects",
  plots.temperatureEffects(imageEmb, textEmb, { texts: samples.map((s) => s.label) }),
);

await save(
  "embedding_map",
  plots.embeddingMap(imageEmb, textEmb, {
    imageLabels: samples.map((s) => s.label),
    textLabels: samples.map((s) => s.caption),
    labels: samples.length <= 16,
  }),
);

// Zero-shot: one class per distinct label, prompts from the shapes templates when present.
const classNames = [...new Set(samples.map((s) => s.label))];
const prompts = templates.shapes ?? templates.generic;
const dataset = { images: imageEmb, labels: samples.map((s) => s.label) };
const head = await zeroShotClassifier(model, classNames, prompts, { cache: false });
const predictions = await head.predict(imageEmb, { topK: Math.min(5, classNames.length) });
await save(
  "zero_shot",
  plots.zeroShotBars(predictions.slice(0, ZERO_SHOT_IMAGES), {
    images: thumbnails.slice(0, ZERO_SHOT_IMAGES),
    truth: samples.slice(0, ZERO_SHOT_IMAGES).map((s) => s.label),
  }),
);

// Template gains and the confusion matrix need more pictures than the samples: on the shapes world, the test
// split of the model card (the 8 shapes, the hard part for the tiny model); otherwise the sample images.
const shapesWorld = templates.shapes !== undefined && samples.every((s) => s.label.split(" ").length === 2);
let evalClasses = classNames, evalData: { images: Matrix; labels: (number | string)[] } = dataset;
let evalName = `${samples.length} samples`;
if (shapesWorld) {
  const test = Array.from(
    { length: SHAPES_TEST_PICTURES },
    (_, i) => generateExample(exampleSeed(0, "test", i), { split: "test", size: model.imageSize }),
  );
  const pictures = test.map((e) => fromRGBA(e.size, e.size, e.rgba));
  evalClasses = shapesClassNames("shape");
  evalData = { images: await model.encodeImages(pictures), labels: test.map((e) => e.shapeIndex) };
  evalName = `${SHAPES_TEST_PICTURES} test pictures, 8 shapes`;
}
const evalHead = await zeroShotClassifier(model, evalClasses, prompts, { cache: false });
const ensemble = await evalHead.evaluate(evalData);
const analysis = await analyzePrompts(model, evalClasses, prompts, evalData, { cache: false });
await save(
  "template_gains",
  plots.templateGains({
    ...analysis,
    title: `Prompt templates: zero-shot gain over the bare class name (${source}, ${evalName})`,
  }),
);

await save(
  "confusion_matrix",
  plots.confusionMatrix(ensemble.confusion, {
    labels: evalClasses,
    title: `Zero-shot confusion matrix, ${evalName} (${source}, accuracy ${
      (ensemble.top1 * 100).toFixed(1)
    }%)`,
  }),
);

const historyFile = args.values.history ?? join(modelDir, "training.json");
if (existsSync(historyFile)) {
  await save("training_curves", plots.trainingCurves(readHistory(historyFile), { smooth: 20 }));
} else {
  console.log(`  training_curves.png skipped: no ${historyFile} (pass --history)`);
}
await model.dispose();

/** A training log as TrainingPoint[]: a plain array, or a checkpoint's `{ history, validations }`. */
function readHistory(path: string): TrainingPoint[] {
  const json = JSON.parse(readFileSync(path, "utf8"));
  if (Array.isArray(json)) return json;
  const train: TrainingPoint[] = (json.history ?? []).map((h: { step: number; loss: number }) => ({
    step: h.step,
    loss: h.loss,
    split: "train",
  }));
  const val: TrainingPoint[] = (json.validations ?? []).map((
    v: { step: number; loss: number; seen: number; logitScale: number },
  ) => ({
    step: v.step,
    loss: v.loss,
    accuracy: v.seen,
    logitScale: v.logitScale,
    split: "validation",
  }));
  return [...train, ...val];
}
