/**
 * Render the README's figures from a model directory and the sample images:
 *
 *   deno task figures [--model DIR] [--samples DIR] [--out docs/figures] [--scale 2] [--history FILE]
 *
 * `--model` defaults to `models/tiny-clip` when it exists, else the PyTorch fixture in
 * `../shared/fixtures/clip-tiny-torch` (random weights: the figures then show the pipeline, not
 * meaning). `--samples` is a folder with images and a `labels.json` ({ samples: [{ file, label,
 * caption }] }), default `models/samples`. When the samples are shapes-world pictures (labels "colour shape"),
 * the zero-shot figure uses the media world's templates (`suiteTemplates`), and the template-gain and confusion
 * figures are measured on 1,000 test pictures of the shapes world in `--medium` (default `mixed`: each picture in
 * one of the five media; `classic` for a model of the classic world) with that medium's shape templates.
 * `--history` is a training log: an array of `{ step, loss, accuracy?, logitScale? }`, the `training.json` (or
 * `curve.json`) that `deno task train-world` writes, the `training.json` of `deno task pretrain`, or a
 * checkpoint's `{ history, validations }` (default `<model>/training.json`, else `<model>/curve.json`, when
 * present; without one the training-curves figure is skipped). `media.png` shows four test scenes in every look
 * (the five media and the classic look). `deno task figures --help` lists every flag.
 * @module
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ClipModel } from "../model/clip_model.ts";
import { similarity } from "../math/similarity.ts";
import { templates } from "../zeroshot/templates.ts";
import { suiteTemplates } from "../data/suite.ts";
import { MEDIA } from "../data/world.ts";
import { zeroShotClassifier } from "../zeroshot/classifier.ts";
import { analyzePrompts } from "../zeroshot/prompt_analysis.ts";
import { type Figure, plots, type TrainingLog, type TrainingPoint, trainingPoints } from "../plot/mod.ts";
import type { Matrix } from "../math/matrix.ts";
import { fromRGBA } from "../image/mod.ts";
import {
  classNames as shapesClassNames,
  exampleSeed,
  generateExample,
  WORLD_MEDIA,
  type WorldMedium,
} from "../data/shapes.ts";
import { readJsonFile } from "../fs.ts";
import { UsageError } from "../errors.ts";
import { type CommandLine, type CommandSpec, helpText, parseCommandLine, runCommand } from "./args.ts";

const SHIPPED_MODEL = "models/tiny-clip";
const FIXTURE_MODEL = "../shared/fixtures/clip-tiny-torch";
/** CLIP's BPE merges, for a model directory without tokenizer files (the PyTorch fixture). */
const CLIP_MERGES = "../shared/clip/bpe_simple_vocab_16e6.txt.gz";
/** Images shown with their top-5 classes. */
const ZERO_SHOT_IMAGES = 4;
/** Test-split pictures of the shapes world for the template-gain and confusion figures. */
const SHAPES_TEST_PICTURES = 1000;
/** Seed of the scenes in `media.png`. */
const MEDIA_GRID_SEED = 3;

interface Sample {
  file: string;
  label: string;
  caption: string;
}

/** The command's flags (they make `--help`). */
export const FIGURES_COMMAND: CommandSpec = {
  name: "figures",
  summary: "Render the README's figures (PNG) from a model directory and sample images.",
  positionals: [],
  flags: [
    {
      name: "model",
      value: "DIR",
      help:
        `model directory (default ${SHIPPED_MODEL} when present, else the PyTorch fixture ${FIXTURE_MODEL})`,
    },
    {
      name: "tokenizer",
      value: "PATH",
      help: `tokenizer, when the model folder has none (default then: ${CLIP_MERGES})`,
    },
    {
      name: "samples",
      value: "DIR",
      help: "images + labels.json ({ samples: [{ file, label, caption }] })",
      default: "models/samples",
    },
    {
      name: "medium",
      value: "NAME",
      help: "look of the shapes-world test pictures for the template-gain and confusion figures",
      default: "mixed",
      choices: [...WORLD_MEDIA],
    },
    { name: "out", value: "DIR", help: "where the PNGs go", default: "docs/figures" },
    { name: "scale", value: "S", help: "pixel density of the PNGs (1 = screen size)", default: "2" },
    {
      name: "history",
      value: "FILE",
      help: "training log: training.json or curve.json from deno task train-world, training.json from " +
        "deno task pretrain, a checkpoint's { history, validations }, or a list of { step, loss } " +
        "(default <model>/training.json, else <model>/curve.json)",
    },
  ],
  examples: [
    "deno task figures",
    "deno task figures --model models/clip-vit-base-patch32 --out /tmp/figures",
  ],
};

if (import.meta.main) {
  await runCommand("figures", async () => {
    const cli = parseCommandLine(Deno.args, FIGURES_COMMAND);
    if (!cli.help) return await main(cli.flags);
    console.log(helpText(FIGURES_COMMAND));
    return 0;
  });
}

async function main(flags: CommandLine["flags"]): Promise<number> {
  const modelDir = (flags.model as string | undefined) ??
    (existsSync(join(SHIPPED_MODEL, "config.json")) ? SHIPPED_MODEL : FIXTURE_MODEL);
  const scale = Number(flags.scale);
  if (!(scale > 0 && scale <= 16)) {
    throw new UsageError(`--scale must be a number in (0, 16], got ${JSON.stringify(flags.scale)}`, {
      fix: "write --scale 1 for screen size, 2 for slides",
    });
  }
  const out = flags.out as string;
  const samplesDir = flags.samples as string;
  const hasTokenizer = ["vocab.json", "tokenizer.json"].some((f) => existsSync(join(modelDir, f)));
  const tokenizer = (flags.tokenizer as string | undefined) ?? (hasTokenizer ? undefined : CLIP_MERGES);
  const model = await ClipModel.load(modelDir, tokenizer ? { tokenizer } : {});
  const labelsFile = join(samplesDir, "labels.json");
  if (!existsSync(labelsFile)) {
    throw new UsageError(`no ${labelsFile}`, {
      fix: "pass --samples with a folder holding images and labels.json",
    });
  }
  const samples: Sample[] =
    ((await readJsonFile(labelsFile, "the samples' labels.json")) as { samples: Sample[] })
      .samples;
  const paths = samples.map((s) => join(samplesDir, s.file));
  const thumbnails = await plots.loadThumbnails(paths);
  mkdirSync(out, { recursive: true });
  console.log(`model ${modelDir}, ${samples.length} sample images → ${out}/ (scale ${scale})`);

  async function save(name: string, fig: Figure): Promise<void> {
    await fig.savePng(join(out, `${name}.png`), { scale });
    console.log(`  ${name}.png  ${fig.width}×${fig.height} px × ${scale}`);
  }

  const imageEmb = await model.encodeImages(paths); // [n, D]
  // (a caption longer than the model's context is cut, ending with EOT)
  const textEmb = await model.encodeText(samples.map((s) => s.caption), { truncate: true }); // [n, D]
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

  // Zero-shot: one class per distinct label; for shapes-world samples (labels "colour shape"), the media
  // world's templates for colour + shape, otherwise the generic set.
  const shapesWorld = samples.every((s) => s.label.split(" ").length === 2);
  const medium = flags.medium as WorldMedium;
  const media = medium === "mixed" ? MEDIA : [medium];
  const classNames = [...new Set(samples.map((s) => s.label))];
  const prompts = shapesWorld ? suiteTemplates("seen", media) : templates.generic;
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

  // Template gains and the confusion matrix need more pictures than the samples: on the shapes world, test
  // pictures in --medium, 8 shapes (the hard part for the tiny model) with the medium's shape templates;
  // otherwise the sample images.
  let evalClasses = classNames, evalData: { images: Matrix; labels: (number | string)[] } = dataset;
  let evalPrompts = prompts, evalName = `${samples.length} samples`;
  if (shapesWorld) {
    const test = Array.from(
      { length: SHAPES_TEST_PICTURES },
      (_, i) => generateExample(exampleSeed(0, "test", i), { split: "test", medium }),
    );
    const pictures = test.map((e) => fromRGBA(e.size, e.size, e.rgba));
    evalClasses = shapesClassNames("shape");
    evalData = { images: await model.encodeImages(pictures), labels: test.map((e) => e.shapeIndex) };
    evalPrompts = suiteTemplates("shape", media);
    const look = medium === "mixed" ? "all five media" : medium;
    evalName = `${SHAPES_TEST_PICTURES.toLocaleString("en")} test pictures of ${look}, 8 shapes`;
  }
  const evalHead = await zeroShotClassifier(model, evalClasses, evalPrompts, { cache: false });
  const ensemble = await evalHead.evaluate(evalData);
  const analysis = await analyzePrompts(model, evalClasses, evalPrompts, evalData, { cache: false });
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

  // The same scenes in every look: one row per scene, the five media then the classic look.
  const looks: WorldMedium[] = [...MEDIA, "classic"];
  const scenes = [0, 1, 2, 3].map((i) => exampleSeed(MEDIA_GRID_SEED, "test", i));
  const grid = scenes.flatMap((seed) =>
    looks.map((look) => generateExample(seed, { split: "test", medium: look }))
  );
  await save(
    "media",
    plots.imageGrid(grid.map((e) => fromRGBA(e.size, e.size, e.rgba)), {
      columns: looks.length,
      size: 96,
      captions: grid.map((_, k) => looks[k % looks.length]),
      title: "Four scenes, six looks: the media world's five media and the classic look",
      subtitle: `test split, seed ${MEDIA_GRID_SEED}: a row is one scene description drawn in each look`,
    }),
  );

  const historyFile = (flags.history as string | undefined) ??
    ["training.json", "curve.json"].map((f) => join(modelDir, f)).find(existsSync) ??
    join(modelDir, "training.json");
  if (existsSync(historyFile)) {
    await save("training_curves", plots.trainingCurves(await readHistory(historyFile), { smooth: 20 }));
  } else {
    console.log(`  training_curves.png skipped: no ${historyFile} (pass --history)`);
  }
  await model.dispose();
  return 0;
}

/**
 * A training log as TrainingPoint[]: a plain list, `deno task train-world`'s training.json / curve.json,
 * `deno task pretrain`'s training.json, or a checkpoint's `{ history, validations }`.
 */
async function readHistory(path: string): Promise<TrainingPoint[]> {
  return trainingPoints((await readJsonFile(path, "training history")) as TrainingPoint[] | TrainingLog);
}
