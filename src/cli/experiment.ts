/**
 * `deno task experiment`: run one of the paper's findings in miniature and write its result and figure.
 *
 *   deno task experiment                          (lists the experiments, with why each exists)
 *   deno task experiment temperature              (the full run → experiments/results/temperature.json,
 *                                                  docs/figures/temperature.svg and .png)
 *   deno task experiment temperature --quick      (a few minutes; → a temporary folder, never the shipped file)
 *   deno task experiment temperature --redraw     (redraws the figure of the written result, no training)
 *
 * name → registry (src/experiments/registry.json) → run(options) → validateResult → writeResult (atomic)
 * @module
 */
import { experiment, EXPERIMENTS } from "../experiments/registry.ts";
import { defaultResultPath, readResult, writeFigure, writeResult } from "../experiments/result.ts";
import type { BackendChoice } from "../model/runtime.ts";
import { type CommandSpec, helpText, integerFlag, parseCommandLine, runCommand } from "./args.ts";

/** The command's flags (they make `--help`). */
export const EXPERIMENT_COMMAND: CommandSpec = {
  name: "experiment",
  summary: "Run an experiment (the CLIP paper's findings in miniature) and write its result JSON and figure.",
  positionals: [{
    name: "NAME",
    help: `the experiment (${EXPERIMENTS.map((e) => e.name).join(", ")}); none lists them`,
    optional: true,
  }],
  flags: [
    {
      name: "quick",
      help: "the few-minutes version (notebooks, CI); written to a temporary folder unless --out",
    },
    {
      name: "out",
      value: "FILE",
      help: "the result file (default experiments/results/NAME.json; --quick: a temporary folder)",
    },
    {
      name: "seed",
      value: "N",
      help: "seed of weights, data order and validation data (default: the config's)",
    },
    {
      name: "backend",
      value: "NAME",
      help: "ONNX Runtime of the training engine",
      default: "node",
      choices: ["node", "web"],
    },
    {
      name: "threads",
      value: "N",
      help:
        "intra-op threads of the engine: 1 repeats the shipped results bit for bit; more may change their " +
        "last bits from run to run",
      default: "1",
    },
    { name: "redraw", help: "only redraw the figure of the result already written (no training)" },
  ],
  examples: [
    "deno task experiment temperature --quick",
    "deno task experiment temperature --seed 1 --out /tmp/temperature-seed1.json",
    "deno task experiment temperature --redraw",
  ],
};

/** The command; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const cli = parseCommandLine(argv, EXPERIMENT_COMMAND);
  if (cli.help) {
    console.log(helpText(EXPERIMENT_COMMAND));
    return 0;
  }
  const [name] = cli.positionals;
  if (!name) {
    const width = Math.max(...EXPERIMENTS.map((e) => e.name.length)) + 2;
    for (const e of EXPERIMENTS) console.log(`${e.name.padEnd(width)}${e.why}`);
    console.log(`\nrun one: deno task experiment NAME [--quick]   (--help for the options)`);
    return 0;
  }
  const chosen = experiment(name);
  const seed = cli.flags.seed !== undefined ? integerFlag(cli.flags, "seed", 0) : undefined;
  const threads = integerFlag(cli.flags, "threads", 1);
  const preset = cli.flags.quick ? "quick" : "full";
  if (cli.flags.redraw) {
    const path = (cli.flags.out as string | undefined) ?? defaultResultPath(name, preset);
    const { svg, png } = await writeFigure(name, path, chosen.figure(await readResult(path)));
    console.log(`redrew the figure of ${path}\n      ${svg}\n      ${png}`);
    return 0;
  }
  const result = await chosen.run({ preset, seed, threads, backend: cli.flags.backend as BackendChoice });
  const written = await writeResult(result, {
    out: cli.flags.out as string | undefined,
    figure: chosen.figure(result),
  });
  console.log(
    `${name} (${preset}): ${result.runs.length} runs in ${
      result.wallSeconds.toFixed(1)
    } s on ${result.machine.backend}`,
  );
  console.log(`wrote ${written.result}\n      ${written.svg}\n      ${written.png}`);
  return 0;
}

if (import.meta.main) await runCommand("experiment", () => main(Deno.args));
