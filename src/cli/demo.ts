/**
 * The demo: zero-shot classification and an image–text similarity heatmap on the shipped model.
 *
 *   deno task demo
 *   deno task demo --images a.png b.jpg --labels "red circle" "blue star"
 *   deno task demo --model models/clip-vit-base-patch32 --images cat.jpg dog.jpg --labels cat dog
 *
 * Options: `--model DIR` (default `models/tiny-clip`), `--images FILE…`, `--labels NAME…`,
 * `--templates shapes|generic|FILE` (a JSON file: `{ "templates": [...] }` or a list), `--top K` (default 5),
 * `--out DIR` (default `demo-out`), `--backend auto|node|web`, `--tokenizer PATH`.
 * Without `--images`, it uses the sample pictures in `models/samples/` and their captions; without
 * `--labels`, the classes are the 80 colour–shape pairs of the shapes world the tiny model was trained on.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { ClipModel } from "../model/clip_model.ts";
import { similarity } from "../math/similarity.ts";
import { templateSets } from "../zeroshot/templates.ts";
import { readJsonFile } from "../fs.ts";
import { zeroShotClassifier } from "../zeroshot/classifier.ts";
import { plots } from "../plot/mod.ts";
import { classNames as shapesClassNames } from "../data/shapes.ts";
import type { BackendChoice } from "../model/runtime.ts";

const DEFAULT_MODEL = "models/tiny-clip";
const SAMPLES_DIR = "models/samples";
const USAGE = `usage: deno task demo [--model DIR] [--images FILE…] [--labels NAME…]
                      [--templates shapes|generic|FILE] [--top K] [--out DIR] [--backend auto|node|web]`;

/** What the command line asked for. */
interface DemoArgs {
  model: string;
  images: string[];
  labels: string[];
  templates?: string;
  top: number;
  out: string;
  backend: BackendChoice;
  tokenizer?: string;
}

/** Flags take every value up to the next `--flag`, so `--images a.png b.jpg` works as in the README. */
function parseDemoArgs(argv: string[]): DemoArgs {
  const values: Record<string, string[]> = {};
  let flag: string | undefined;
  for (const arg of argv) {
    if (arg.startsWith("--")) {
      flag = arg.slice(2);
      values[flag] ??= [];
    } else if (flag) values[flag].push(arg);
    else fail(`unexpected argument "${arg}"`);
  }
  const known = ["model", "images", "labels", "templates", "top", "out", "backend", "tokenizer", "help"];
  for (const key of Object.keys(values)) if (!known.includes(key)) fail(`unknown option --${key}`);
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const one = (key: string) => values[key]?.[0];
  const top = Number(one("top") ?? 5);
  if (!Number.isInteger(top) || top < 1) fail(`--top must be a positive integer, got ${one("top")}`);
  return {
    model: one("model") ?? DEFAULT_MODEL,
    images: values.images ?? [],
    labels: values.labels ?? [],
    templates: one("templates"),
    top,
    out: one("out") ?? "demo-out",
    backend: (one("backend") ?? "auto") as BackendChoice,
    tokenizer: one("tokenizer"),
  };
}

function fail(message: string): never {
  console.error(`demo: ${message}\n${USAGE}`);
  Deno.exit(2);
}

/** Template set by name, or read from a JSON file. */
async function chooseTemplates(choice: string | undefined, ownLabels: boolean): Promise<string[]> {
  const name = choice ?? (ownLabels ? "generic" : "shapes");
  if (name in templateSets) return [...templateSets[name].templates];
  if (!existsSync(name)) fail(`--templates ${name}: neither a template set (shapes, generic) nor a file`);
  const json = await readJsonFile(name, "template file").catch((e: Error) => fail(e.message));
  const list = Array.isArray(json) ? json : (json as { templates?: unknown }).templates;
  if (!Array.isArray(list) || !list.every((t) => typeof t === "string")) {
    fail(`--templates ${name}: write { "templates": ["a photo of a {}.", …] } or a JSON list of templates`);
  }
  return list;
}

/** Shorten a label to `width` characters for the table. */
function cell(text: string, width: number): string {
  return text.length > width ? text.slice(0, width - 1) + "…" : text.padEnd(width);
}

const args = parseDemoArgs(Deno.args);
if (!existsSync(join(args.model, "config.json"))) {
  fail(
    `no model at ${args.model} (config.json missing). The shipped model is ${DEFAULT_MODEL}; ` +
      `train it again with \`deno task pretrain\`, or fetch a real one with ` +
      `\`deno task fetch-model Xenova/clip-vit-base-patch32 --dir models/clip-vit-base-patch32\``,
  );
}

// Images and their captions: the user's, or the shipped samples.
let images = args.images;
let captions: string[];
let truth: string[] | undefined;
if (images.length === 0) {
  const samples: { file: string; label: string; caption: string }[] =
    JSON.parse(readFileSync(join(SAMPLES_DIR, "labels.json"), "utf8")).samples;
  images = samples.map((s) => join(SAMPLES_DIR, s.file));
  captions = samples.map((s) => s.caption);
  truth = args.labels.length ? undefined : samples.map((s) => s.label);
} else {
  for (const image of images) if (!existsSync(image)) fail(`image not found: ${image}`);
  captions = args.labels.length === images.length ? args.labels : images.map((p) => basename(p));
}
const ownLabels = args.labels.length > 0;
const classes = ownLabels ? args.labels : shapesClassNames("combo");
const templates = await chooseTemplates(args.templates, ownLabels);
const top = Math.min(args.top, classes.length);

const model = await ClipModel.load(args.model, {
  backend: args.backend,
  ...(args.tokenizer ? { tokenizer: args.tokenizer } : {}),
});
console.log(`model ${args.model} on ${model.runtime.describe()}`);
console.log(`${images.length} images × ${classes.length} classes × ${templates.length} templates\n`);

// Zero-shot: the classifier is made of prompts alone.
const head = await zeroShotClassifier(model, classes, templates);
const imageEmbeds = await model.encodeImages(images); // [images, D]
const predictions = await head.predict(imageEmbeds, { topK: top });

const nameWidth = Math.max(5, ...images.map((p) => basename(p).length));
console.log(
  `${cell("image", nameWidth)}  ${truth ? cell("true class", 16) + "  " : ""}top-${top} (probability)`,
);
predictions.forEach((row, i) => {
  const guesses = row.map((p) => `${p.label} ${(100 * p.score).toFixed(1)}%`).join(", ");
  const mark = truth ? (row[0].label === truth[i] ? "✓ " : "✗ ") : "";
  console.log(
    `${cell(basename(images[i]), nameWidth)}  ${truth ? cell(truth[i], 16) + "  " : ""}${mark}${guesses}`,
  );
});
if (truth) {
  const right = predictions.filter((row, i) => row[0].label === truth![i]).length;
  console.log(`\ntop-1: ${right}/${truth.length} correct`);
}

// The similarity matrix between captions and images, as in CLIP's paper figure.
const textEmbeds = await model.encodeText(captions); // [texts, D]
const S = similarity(textEmbeds, imageEmbeds); // [texts, images] cosine
const figure = plots.similarityHeatmap(S, {
  texts: captions,
  images,
  title: "Cosine similarity: captions × images",
});
await Deno.mkdir(args.out, { recursive: true });
const svgPath = join(args.out, "similarity.svg");
const pngPath = join(args.out, "similarity.png");
await figure.saveSvg(svgPath);
await figure.savePng(pngPath, { scale: 2 });
console.log(`\nsimilarity heatmap written to ${svgPath} and ${pngPath}`);
await model.dispose();
