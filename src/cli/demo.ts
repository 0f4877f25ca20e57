/**
 * The demo: zero-shot classification and an image–text similarity heatmap on the shipped model.
 *
 *   deno task demo
 *   deno task demo --images a.png b.jpg --labels "red circle" "blue star"
 *   deno task demo --model models/clip-vit-base-patch32 --images cat.jpg dog.jpg --labels cat dog
 *
 * Without `--images`, it uses the sample pictures in `models/samples/` (media-world pictures: icons, outlines,
 * sketches, photos and pixel art) and their alt-text captions; without `--labels`, the classes are the 80
 * colour–shape pairs of the shapes world the tiny model was trained on, prompted with the media world's templates
 * (`world`: every template of the five media's colour + shape datasets, `src/zeroshot/templates/world/*.json`,
 * since the pictures come in every medium); with `--labels`, with the generic set.
 * The heatmap's captions are `--captions` (one per image), else the labels when there is one per image, else
 * the file names (and the demo says so). `deno task demo --help` lists every flag.
 * @module
 */
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { ClipModel } from "../model/clip_model.ts";
import { similarity } from "../math/similarity.ts";
import { templateSets } from "../zeroshot/templates.ts";
import { readJsonFile } from "../fs.ts";
import { zeroShotClassifier } from "../zeroshot/classifier.ts";
import { plots } from "../plot/mod.ts";
import { classNames as shapesClassNames } from "../data/shapes.ts";
import { type SuiteMedium, suiteTemplates } from "../data/suite.ts";
import { MEDIA } from "../data/world.ts";
import type { BackendChoice } from "../model/runtime.ts";
import { UsageError } from "../errors.ts";
import { type CommandSpec, helpText, integerFlag, parseCommandLine, runCommand } from "./args.ts";

const DEFAULT_MODEL = "models/tiny-clip";
const SAMPLES_DIR = "models/samples";

/** The demo's flags (they make `--help`). */
export const DEMO_COMMAND: CommandSpec = {
  name: "demo",
  summary: "Zero-shot top-K classes and a caption × image similarity heatmap, on the shipped model or yours.",
  positionals: [],
  flags: [
    { name: "model", value: "DIR", help: "model directory", default: DEFAULT_MODEL },
    {
      name: "tokenizer",
      value: "PATH",
      help: "tokenizer, when the model folder has none: bpe_simple_vocab_16e6.txt.gz or a folder with " +
        "vocab.json + merges.txt",
    },
    {
      name: "images",
      value: "FILE",
      multiple: true,
      help: `images to classify (default: the pictures in ${SAMPLES_DIR}/)`,
    },
    {
      name: "labels",
      value: "NAME",
      multiple: true,
      help: "class names (default: the shapes world's 80 colour–shape pairs); with one per image they also " +
        "caption the heatmap",
    },
    {
      name: "captions",
      value: "TEXT",
      multiple: true,
      help: "heatmap captions, one per image (default: the labels if one per image, else the file names)",
    },
    {
      name: "templates",
      value: "SET|FILE",
      help: "prompt templates: world (the media world's, all five media), a medium's own " +
        `(${[...MEDIA, "classic"].join(", ")}), a set (${
          Object.keys(templateSets).join(", ")
        }) or a JSON file ` +
        '({ "templates": [...] } or a list) (default world; generic with --labels)',
    },
    { name: "top", value: "K", help: "classes shown per image", default: "5" },
    { name: "out", value: "DIR", help: "where similarity.svg and similarity.png go", default: "demo-out" },
    {
      name: "backend",
      value: "NAME",
      help: "ONNX runtime",
      default: "auto",
      choices: ["auto", "node", "web"],
    },
  ],
  examples: [
    "deno task demo",
    'deno task demo --images a.png b.jpg --labels "red circle" "blue star"',
    "deno task demo --model models/clip-vit-base-patch32 --images cat.jpg dog.jpg --labels cat dog",
  ],
};

/** The names `--templates` takes besides a file. */
const TEMPLATE_NAMES = ["world", ...MEDIA, "classic", ...Object.keys(templateSets)];

/** Template set by name, or read from a JSON file. */
async function chooseTemplates(choice: string | undefined, ownLabels: boolean): Promise<string[]> {
  const name = choice ?? (ownLabels ? "generic" : "world");
  if (name === "world" || name === "classic" || (MEDIA as readonly string[]).includes(name)) {
    return suiteTemplates("seen", name === "world" ? MEDIA : [name as SuiteMedium]);
  }
  if (name in templateSets) return [...templateSets[name].templates];
  if (!existsSync(name)) {
    throw new UsageError(`--templates ${name} is neither a template set nor a file`, {
      fix: `use one of ${TEMPLATE_NAMES.join(", ")}, or the path of a JSON template file`,
    });
  }
  const json = await readJsonFile(name, "template file", {
    fixMalformed: 'write { "templates": ["a photo of a {}.", …] } or a JSON list of templates',
  });
  const list = Array.isArray(json) ? json : (json as { templates?: unknown })?.templates;
  if (!Array.isArray(list) || !list.every((t) => typeof t === "string")) {
    throw new UsageError(`--templates ${name} holds no list of template strings`, {
      fix: 'write { "templates": ["a photo of a {}.", …] } or a JSON list of templates',
    });
  }
  return list;
}

/** Shorten a label to `width` characters for the table. */
function cell(text: string, width: number): string {
  return text.length > width ? text.slice(0, width - 1) + "…" : text.padEnd(width);
}

/** Run the demo with `argv`; returns the exit code (errors are thrown, and printed by `runCommand`). */
export async function main(argv: string[]): Promise<number> {
  const cli = parseCommandLine(argv, DEMO_COMMAND);
  if (cli.help) {
    console.log(helpText(DEMO_COMMAND));
    return 0;
  }
  const flags = cli.flags;
  const modelDir = flags.model as string;
  const top = integerFlag(flags, "top", 1);
  const out = flags.out as string;
  const labels = (flags.labels as string[] | undefined) ?? [];
  const ownCaptions = flags.captions as string[] | undefined;
  if (!existsSync(join(modelDir, "config.json"))) {
    throw new UsageError(`no model at ${modelDir} (config.json missing)`, {
      fix: `the shipped model is ${DEFAULT_MODEL} (train it again with ` +
        `\`deno task train-world --preset ship --out ${DEFAULT_MODEL}\`); or fetch a real ` +
        "one with `deno task fetch-model Xenova/clip-vit-base-patch32 --dir models/clip-vit-base-patch32`",
    });
  }

  // Images and their captions: the user's, or the shipped samples.
  let images = (flags.images as string[] | undefined) ?? [];
  let captions: string[];
  let truth: string[] | undefined;
  let captionNote: string | undefined;
  if (images.length === 0) {
    const json = await readJsonFile(join(SAMPLES_DIR, "labels.json"), "the samples' labels.json");
    const samples = (json as { samples: { file: string; label: string; caption: string }[] }).samples;
    images = samples.map((s) => join(SAMPLES_DIR, s.file));
    captions = samples.map((s) => s.caption);
    truth = labels.length ? undefined : samples.map((s) => s.label);
  } else {
    for (const image of images) {
      if (!existsSync(image)) {
        throw new UsageError(`image not found: ${image}`, {
          fix: "check the path (quote names with spaces)",
        });
      }
    }
    if (labels.length === images.length) captions = labels;
    else {
      captions = images.map((p) => basename(p));
      if (labels.length) {
        captionNote =
          `heatmap captions: the file names (${labels.length} labels for ${images.length} images; ` +
          "pass --captions with one per image to caption them)";
      }
    }
  }
  if (ownCaptions) {
    if (ownCaptions.length !== images.length) {
      throw new UsageError(`--captions has ${ownCaptions.length} texts for ${images.length} images`, {
        fix: "give one caption per image, in the order of --images",
      });
    }
    captions = ownCaptions;
    captionNote = undefined;
  }
  const ownLabels = labels.length > 0;
  const classes = ownLabels ? labels : shapesClassNames("combo");
  const templates = await chooseTemplates(flags.templates as string | undefined, ownLabels);
  const k = Math.min(top, classes.length);

  const model = await ClipModel.load(modelDir, {
    backend: flags.backend as BackendChoice,
    ...(flags.tokenizer ? { tokenizer: flags.tokenizer as string } : {}),
  });
  try {
    console.log(`model ${modelDir} on ${model.runtime.describe()}`);
    console.log(`${images.length} images × ${classes.length} classes × ${templates.length} templates\n`);

    // Zero-shot: the classifier is made of prompts alone.
    const head = await zeroShotClassifier(model, classes, templates);
    const imageEmbeds = await model.encodeImages(images); // [images, D]
    const predictions = await head.predict(imageEmbeds, { topK: k });

    const nameWidth = Math.max(5, ...images.map((p) => basename(p).length));
    console.log(
      `${cell("image", nameWidth)}  ${truth ? cell("true class", 16) + "  " : ""}top-${k} (probability)`,
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
    // A caption longer than the text encoder's context is cut (ending with EOT), and the demo says so.
    const long = captions.filter((c) => model.tokenizer.encode(c).length + 2 > model.contextLength);
    const textEmbeds = await model.encodeText(captions, { truncate: true }); // [texts, D]
    const S = similarity(textEmbeds, imageEmbeds); // [texts, images] cosine
    const figure = plots.similarityHeatmap(S, {
      texts: captions,
      images,
      title: "Cosine similarity: captions × images",
    });
    await Deno.mkdir(out, { recursive: true });
    const svgPath = join(out, "similarity.svg");
    const pngPath = join(out, "similarity.png");
    await figure.saveSvg(svgPath);
    await figure.savePng(pngPath, { scale: 2 });
    if (captionNote) console.log(`\n${captionNote}`);
    if (long.length) {
      console.log(
        `\n${long.length} caption(s) cut to the model's ${model.contextLength} tokens for the heatmap: ` +
          long.map((c) => JSON.stringify(c)).join(", "),
      );
    }
    console.log(`\nsimilarity heatmap written to ${svgPath} and ${pngPath}`);
  } finally {
    await model.dispose();
  }
  return 0;
}

if (import.meta.main) await runCommand("demo", () => main(Deno.args));
