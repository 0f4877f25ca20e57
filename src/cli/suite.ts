/**
 * `deno task suite`: a model's zero-shot accuracy on every dataset of the shapes-world suite (6 media × 5
 * tasks), under the bare class name, "a photo of a {}.", the medium's engineered template, the ensemble and
 * greedy selection chosen on validation and scored on test.
 *
 *   deno task suite                                   (models/tiny-clip, full splits: 600 + 200 unseen)
 *   deno task suite --model my-model --quick --out suite-out
 *
 * model → evaluateSuite (src/data/suite.ts) → the table on stdout → optionally `suite.json` and the
 * `suite_bars.svg/.png` figure in `--out`.
 * @module
 */
import { join } from "node:path";
import { ClipModel } from "../model/clip_model.ts";
import type { BackendChoice } from "../model/runtime.ts";
import {
  evaluateSuite,
  SUITE_MEDIA,
  SUITE_TASKS,
  type SuiteMedium,
  suiteTableText,
  type SuiteTask,
} from "../data/suite.ts";
import { suiteBars } from "../plot/suite_bars.ts";
import { writeAtomic } from "../fs.ts";
import { UsageError } from "../errors.ts";
import { type CommandSpec, helpText, integerFlag, parseCommandLine, runCommand } from "./args.ts";

/** The command's flags (they make `--help`). */
export const SUITE_COMMAND: CommandSpec = {
  name: "suite",
  summary: "Zero-shot accuracy on the shapes-world suite: every medium × task, five prompt choices.",
  positionals: [],
  flags: [
    { name: "model", value: "DIR", help: "model directory", default: "models/tiny-clip" },
    { name: "quick", help: "small splits (150 pictures, 50 unseen) instead of 600 and 200" },
    { name: "examples", value: "N", help: "pictures per split (overrides --quick)" },
    { name: "seed", value: "N", help: "seed of the suite's splits", default: "0" },
    { name: "greedy", value: "N", help: "templates greedy selection picks on validation", default: "7" },
    { name: "media", value: "LIST", help: `comma-separated media (default all: ${SUITE_MEDIA.join(",")})` },
    { name: "tasks", value: "LIST", help: `comma-separated tasks (default all: ${SUITE_TASKS.join(",")})` },
    { name: "out", value: "DIR", help: "also write suite.json and suite_bars.svg/.png here" },
    {
      name: "backend",
      value: "NAME",
      help: "ONNX runtime",
      default: "auto",
      choices: ["auto", "node", "web"],
    },
  ],
  examples: ["deno task suite --quick", "deno task suite --model my-model --out suite-out"],
};

function listFlag<T extends string>(raw: unknown, name: string, allowed: readonly T[]): T[] | undefined {
  if (typeof raw !== "string") return undefined;
  const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
  const bad = items.filter((s) => !allowed.includes(s as T));
  if (bad.length || items.length === 0) {
    throw new UsageError(`--${name} ${JSON.stringify(raw)} names no known ${name}: ${bad.join(", ")}`, {
      fix: `choose from ${allowed.join(", ")}`,
    });
  }
  return items as T[];
}

/** Runs the command on `argv`; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const { flags, help } = parseCommandLine(argv, SUITE_COMMAND);
  if (help) {
    console.log(helpText(SUITE_COMMAND));
    return 0;
  }
  const media = listFlag<SuiteMedium>(flags.media, "media", SUITE_MEDIA);
  const tasks = listFlag<SuiteTask>(flags.tasks, "tasks", SUITE_TASKS);
  const examples = flags.examples === undefined ? undefined : integerFlag(flags, "examples", 1);
  const model = await ClipModel.load(String(flags.model), { backend: flags.backend as BackendChoice });
  try {
    const table = await evaluateSuite(model, {
      quick: flags.quick === true,
      examples,
      unseenExamples: examples === undefined ? undefined : Math.max(1, Math.round(examples / 3)),
      seed: integerFlag(flags, "seed", 0),
      greedySize: integerFlag(flags, "greedy", 1),
      media,
      tasks,
    });
    const p = table.protocol;
    console.log(
      `zero-shot suite · ${table.model} · seed ${p.seed} · ${p.examples} pictures a split (${p.unseenExamples} ` +
        `unseen) · greedy ${p.greedySize} on validation, scored on test · top-1 %\n`,
    );
    console.log(suiteTableText(table));
    if (typeof flags.out === "string") {
      await Deno.mkdir(flags.out, { recursive: true });
      await writeAtomic(
        join(flags.out, "suite.json"),
        new TextEncoder().encode(JSON.stringify(table, null, 2) + "\n"),
      );
      const figure = suiteBars(table);
      await figure.saveSvg(join(flags.out, "suite_bars.svg"));
      await figure.savePng(join(flags.out, "suite_bars.png"));
      console.log(
        `\nwrote ${
          ["suite.json", "suite_bars.svg", "suite_bars.png"].map((f) => join(flags.out as string, f)).join(
            ", ",
          )
        }`,
      );
    }
  } finally {
    await model.dispose();
  }
  return 0;
}

if (import.meta.main) await runCommand("suite", () => main(Deno.args));
