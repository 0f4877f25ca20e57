/**
 * `deno task zeroshot`: prompt prototyping on your own labelled pictures.
 *
 *   deno task zeroshot --data my-photos                        (my-photos/<class>/<image>)
 *   deno task zeroshot --data my-shapes --templates shapes --out zeroshot-out
 *
 * image folder → embed each image once (cached by content hash + model id) → accuracy of the bare class
 * names, each template, the ensemble, and a greedy selection (picked on a seeded validation split, scored
 * on the rest) → per-class accuracy → `template_gains.svg/.png`, `confusion.svg/.png`, `report.json`.
 * The same as a function for notebooks: `zeroShotReport` (src/zeroshot/report.ts).
 * @module
 */
import { extname, join } from "node:path";
import { UsageError } from "../errors.ts";
import { loadImageFolder } from "../data/image_folder.ts";
import { ClipModel } from "../model/clip_model.ts";
import type { BackendChoice } from "../model/runtime.ts";
import { parseTemplateFile, templates as templateSets } from "../zeroshot/templates.ts";
import { reportJson, zeroShotReport, zeroShotReportFigures } from "../zeroshot/report.ts";
import { writeAtomic } from "../fs.ts";
import {
  type CommandSpec,
  fractionFlag,
  helpText,
  integerFlag,
  parseCommandLine,
  runCommand,
} from "./args.ts";

const DEFAULT_MODEL = "models/tiny-clip";

/** The command's flags (they make `--help`). */
export const ZEROSHOT_COMMAND: CommandSpec = {
  name: "zeroshot",
  summary: "Zero-shot accuracy of prompt templates on an image folder (root/<class>/<image>).",
  positionals: [],
  flags: [
    { name: "data", value: "DIR", help: "the image folder: one sub-folder per class (required)" },
    { name: "model", value: "DIR", help: "model directory", default: DEFAULT_MODEL },
    {
      name: "tokenizer",
      value: "PATH",
      help:
        "tokenizer, when the model folder has none (bpe_simple_vocab_16e6.txt.gz, or vocab.json + merges.txt)",
    },
    {
      name: "templates",
      value: "FILE|SET",
      help: `templates: a JSON file (a list, or { "templates": [...] }) or a built-in set (${
        Object.keys(templateSets).join(", ")
      })`,
      default: "generic",
    },
    {
      name: "classes",
      value: "FILE",
      help:
        "class display names: JSON { folder: name } or a list in folder order, or a .txt with one per line",
    },
    { name: "out", value: "DIR", help: "where the figures and report.json go", default: "zeroshot-out" },
    { name: "seed", value: "N", help: "seed of the validation split", default: "0" },
    {
      name: "validation",
      value: "F",
      help: "share of each class used to pick templates greedily",
      default: "0.5",
    },
    { name: "greedy", value: "N", help: "templates the greedy selection picks", default: "7" },
    { name: "batch-size", value: "N", help: "images per encoder batch", default: "32" },
    {
      name: "backend",
      value: "NAME",
      help: "ONNX runtime",
      default: "auto",
      choices: ["auto", "node", "web"],
    },
    {
      name: "on-error",
      value: "MODE",
      help: "unreadable images",
      default: "fail",
      choices: ["fail", "skip"],
    },
    { name: "no-cache", help: "embed every image again instead of reading the image-embedding cache" },
  ],
  examples: [
    "deno task zeroshot --data my-photos",
    "deno task zeroshot --data my-shapes --templates shapes --classes names.json --out report",
  ],
};

async function readTemplates(choice: string): Promise<string[]> {
  if (choice in templateSets) return [...templateSets[choice]];
  let text: string;
  try {
    text = await Deno.readTextFile(choice);
  } catch {
    throw new UsageError(`--templates ${choice} is neither a file nor a built-in set`, {
      fix: `pass a JSON file of templates, or one of ${Object.keys(templateSets).join(", ")}`,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--templates ${choice} is not valid JSON (${(error as Error).message})`, {
      fix: 'write a JSON list such as ["a photo of a {}.", "a drawing of a {}."]',
    });
  }
  const sets = parseTemplateFile(json, choice, choice);
  return sets.flatMap((s) => s.templates);
}

async function readClasses(path: string): Promise<Record<string, string> | string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new UsageError(`--classes ${path}: no such file`, { fix: "check the path" });
  }
  if (extname(path).toLowerCase() === ".txt") {
    return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--classes ${path} is not valid JSON (${(error as Error).message})`, {
      fix: 'write { "folder": "display name", … }, a JSON list, or a .txt file with one name per line',
    });
  }
}

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : "n/a");
const gain = (
  v: number,
) => (Number.isFinite(v) ? `${v >= 0 ? "+" : "−"}${Math.abs(100 * v).toFixed(1)}` : "");

/** Run the command; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const cli = parseCommandLine(argv, ZEROSHOT_COMMAND);
  if (cli.help) {
    console.log(helpText(ZEROSHOT_COMMAND));
    return 0;
  }
  const { flags } = cli;
  if (typeof flags.data !== "string") {
    throw new UsageError("--data is required: the image folder to classify", {
      fix: "write --data DIR, with DIR/<class>/<image> (run with --help for the rest)",
    });
  }
  const seed = integerFlag(flags, "seed", 0);
  const greedySize = integerFlag(flags, "greedy", 1);
  const batchSize = integerFlag(flags, "batch-size", 1);
  const validationFraction = fractionFlag(flags, "validation", 0, 1);
  const templates = await readTemplates(flags.templates as string);
  const classes = typeof flags.classes === "string" ? await readClasses(flags.classes) : undefined;
  const out = flags.out as string;

  const data = await loadImageFolder(flags.data, {
    classes,
    onError: flags["on-error"] === "skip" ? "skip" : "throw",
  });
  const model = await ClipModel.load(flags.model as string, {
    backend: flags.backend as BackendChoice,
    batchSize,
    tokenizer: flags.tokenizer as string | undefined,
  });
  try {
    console.log(`model  ${model.id} on ${model.runtime.describe()}`);
    console.log(
      `data   ${data.root}: ${data.length} images in ${data.classes.length} classes` +
        (data.skipped.length ? ` (${data.skipped.length} other files skipped)` : ""),
    );
    const report = await zeroShotReport(model, data, {
      templates,
      seed,
      greedySize,
      validationFraction,
      batchSize,
      imageCache: flags["no-cache"] ? false : undefined,
    });
    console.log(
      `images ${report.images} embedded (${report.cached} from the cache, ${report.encoded} encoded)`,
    );
    for (const f of report.failed) console.log(`  skipped unreadable ${f.path}: ${f.error}`);

    const width = Math.min(48, Math.max(24, ...report.perTemplate.map((t) => t.template.length + 2)));
    console.log(`\ntop-1 accuracy on all ${report.images} images (${report.classes.length} classes)`);
    console.log(`  ${"bare class name".padEnd(width)}${pct(report.bare).padStart(7)}`);
    for (const t of report.perTemplate) {
      console.log(
        `  ${JSON.stringify(t.template).padEnd(width)}${pct(t.accuracy).padStart(7)}  ${gain(t.gain)}`,
      );
    }
    console.log(
      `  ${`ensemble of all ${templates.length}`.padEnd(width)}${pct(report.ensemble).padStart(7)}  ${
        gain(report.ensemble - report.bare)
      }   (top-5 ${pct(report.top5)})`,
    );

    const g = report.greedy;
    console.log(
      `\ngreedy selection: picked on ${g.validationImages} validation images (seed ${g.seed}), ` +
        `scored on the other ${g.testImages}`,
    );
    g.steps.forEach((s, i) => {
      console.log(
        `  ${String(i + 1).padStart(2)}. + ${JSON.stringify(s.added).padEnd(width)} validation ${
          pct(s.accuracy)
        }`,
      );
    });
    console.log(
      `  test split: selected ${pct(g.test.selected)} · all templates ${pct(g.test.ensemble)} · bare ${
        pct(g.test.bare)
      }`,
    );

    const nameWidth = Math.max(5, ...report.perClass.map((c) => c.label.length)) + 2;
    console.log(`\nper class: images, bare name → ensemble`);
    for (const c of report.perClass) {
      console.log(
        `  ${c.label.padEnd(nameWidth)}${String(c.count).padStart(5)}   ${pct(c.bare).padStart(6)} → ${
          pct(c.ensemble)
        }`,
      );
    }

    await Deno.mkdir(out, { recursive: true });
    const figures = zeroShotReportFigures(report);
    const written: string[] = [];
    for (
      const [name, figure] of [["template_gains", figures.templateGains], [
        "confusion",
        figures.confusion,
      ]] as const
    ) {
      await figure.saveSvg(join(out, `${name}.svg`));
      await figure.savePng(join(out, `${name}.png`));
      written.push(join(out, `${name}.svg`), join(out, `${name}.png`));
    }
    await writeAtomic(join(out, "report.json"), reportJson(report));
    written.push(join(out, "report.json"));
    console.log(`\nwrote ${written.join(", ")}`);
  } finally {
    await model.dispose();
  }
  return 0;
}

if (import.meta.main) await runCommand("zeroshot", () => main(Deno.args));
