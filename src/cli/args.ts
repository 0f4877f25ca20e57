/**
 * The command-line plumbing of every command (`demo`, `figures`, `fetch-model`, `zeroshot`, `embed`, `search`,
 * `pretrain`): flags declared once (they make both the
 * parser and `--help`), and one way to fail — a single line saying what is wrong, why, and the fix, with a
 * non-zero exit and no stack trace.
 *
 * argv → parseCommandLine(spec) → { flags, positionals } or UsageError → runCommand prints it, exits 2.
 * @module
 */
import { ClipkitError, UsageError } from "../errors.ts";

/** One flag: `--name VALUE`, or `--name` alone when it has no `value`. */
export interface FlagSpec {
  name: string;
  /** Placeholder of the value in `--help` (`DIR`, `N`); absent for an on/off flag. */
  value?: string;
  help: string;
  /** The value when the flag is not given (shown in `--help`). */
  default?: string;
  /** The values allowed. */
  choices?: readonly string[];
  /** Takes every value up to the next `--flag` (`--images a.png b.png`): the value is then a `string[]`. */
  multiple?: boolean;
}

/** A command: its name, what it does, its positional arguments and flags. */
export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments, in order: `{ name, help, optional? }`. */
  positionals: { name: string; help: string; optional?: boolean }[];
  flags: FlagSpec[];
  /** Lines after the flags in `--help` (examples). */
  examples?: string[];
}

/** What {@link parseCommandLine} returns: flag values by name (defaults filled in) and positionals. */
export interface CommandLine {
  flags: Record<string, string | string[] | boolean | undefined>;
  positionals: string[];
  help: boolean;
}

/**
 * The `--help` text of a command.
 * @example
 * ```ts
 * import { helpText } from "./args.ts";
 * const text = helpText({
 *   name: "search",
 *   summary: "find images",
 *   positionals: [{ name: "OUT", help: "embeddings" }],
 *   flags: [{ name: "k", value: "N", help: "results", default: "10" }],
 * });
 * text;
 * // → "usage: deno task search OUT [options]\n\nfind images\n\n  OUT     embeddings\n  --k N   results (default 10)\n  --help  show this help"
 * ```
 */
export function helpText(spec: CommandSpec): string {
  const args = spec.positionals.map((p) => (p.optional ? `[${p.name}]` : p.name)).join(" ");
  const rows: [string, string][] = [
    ...spec.positionals.map((p): [string, string] => [p.name, p.help]),
    ...spec.flags.map((f): [string, string] => [
      `--${f.name}${f.value ? ` ${f.value}${f.multiple ? "…" : ""}` : ""}`,
      `${f.help}${f.choices ? ` (${f.choices.join(" | ")})` : ""}${
        f.default !== undefined ? ` (default ${f.default})` : ""
      }`,
    ]),
    ["--help", "show this help"],
  ];
  const width = Math.max(...rows.map(([a]) => a.length)) + 2;
  return [
    `usage: deno task ${spec.name} ${args ? `${args} ` : ""}[options]`,
    "",
    spec.summary,
    "",
    ...rows.map(([a, b]) => `  ${a.padEnd(width)}${b}`),
    ...(spec.examples?.length ? ["", "examples:", ...spec.examples.map((e) => `  ${e}`)] : []),
  ].join("\n");
}

/**
 * Parse `argv` against a command's spec. Unknown flags, missing values, values outside `choices`, and too
 * few or too many positionals throw a `UsageError`.
 * @example
 * ```ts
 * import { type CommandSpec, parseCommandLine } from "./args.ts";
 * const spec: CommandSpec = {
 *   name: "search",
 *   summary: "find images",
 *   positionals: [{ name: "OUT", help: "embeddings" }, { name: "QUERY", help: "text" }],
 *   flags: [{ name: "k", value: "N", help: "results" }, { name: "model", value: "DIR", help: "model", default: "models/tiny-clip" }],
 * };
 * parseCommandLine(["out", "a red car", "--k", "5"], spec);
 * // → { flags: { k: "5", model: "models/tiny-clip" }, positionals: ["out", "a red car"], help: false }
 * ```
 */
export function parseCommandLine(argv: readonly string[], spec: CommandSpec): CommandLine {
  const flags: CommandLine["flags"] = {};
  const positionals: string[] = [];
  const byName = new Map(spec.flags.map((f) => [f.name, f]));
  const fix = `run \`deno task ${spec.name} --help\` for the options`;
  if (argv.some((a) => a === "--help" || a === "-h")) {
    return { flags, positionals: [], help: true }; // --help wins over every other (even a wrong) argument
  }
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (!arg.startsWith("--") || arg === "--") {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const flag = byName.get(name);
    if (!flag) throw new UsageError(`unknown option --${name}`, { fix });
    if (!flag.value) {
      if (inline !== undefined) {
        throw new UsageError(`--${name} takes no value`, { fix: `write --${name} alone` });
      }
      flags[name] = true;
      continue;
    }
    if (flag.multiple) {
      const values = inline !== undefined ? [inline] : [];
      while (inline === undefined && i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
        values.push(argv[++i]);
      }
      if (values.length === 0) {
        throw new UsageError(`--${name} needs at least one value (${flag.value})`, {
          fix: `write --${name} ${flag.value} [${flag.value} …]`,
        });
      }
      flags[name] = [...((flags[name] as string[] | undefined) ?? []), ...values];
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith("--"))) {
      throw new UsageError(`--${name} needs a value (${flag.value})`, {
        fix: `write --${name} ${flag.value}`,
      });
    }
    if (flag.choices && !flag.choices.includes(value)) {
      throw new UsageError(`--${name} ${value} is not one of ${flag.choices.join(", ")}`, {
        fix: `write --${name} ${flag.choices[0]}`,
      });
    }
    flags[name] = value;
  }
  for (const f of spec.flags) {
    if (flags[f.name] === undefined && f.default !== undefined && f.value && !f.multiple) {
      flags[f.name] = f.default;
    }
  }
  if (!help) {
    const required = spec.positionals.filter((p) => !p.optional).length;
    if (positionals.length < required) {
      const missing = spec.positionals[positionals.length];
      throw new UsageError(`missing ${missing.name} (${missing.help})`, { fix });
    }
    if (positionals.length > spec.positionals.length) {
      throw new UsageError(`unexpected argument "${positionals[spec.positionals.length]}"`, {
        fix: `quote arguments with spaces ("a red car"); ${fix}`,
      });
    }
  }
  return { flags, positionals, help };
}

/**
 * A flag's value as an integer ≥ `min`.
 * @example
 * ```ts
 * import { integerFlag } from "./args.ts";
 * integerFlag({ k: "5" }, "k", 1); // → 5
 * integerFlag({ k: "five" }, "k", 1); // throws UsageError: --k must be a whole number ≥ 1, got "five". Fix: …
 * ```
 */
export function integerFlag(flags: CommandLine["flags"], name: string, min: number): number {
  const raw = flags[name];
  const value = Number(raw);
  if (
    typeof raw !== "string" || !/^[+-]?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min
  ) {
    throw new UsageError(`--${name} must be a whole number ≥ ${min}, got ${JSON.stringify(raw)}`, {
      fix: `write e.g. --${name} ${Math.max(min, 10)}`,
    });
  }
  return value;
}

/**
 * A flag's value as a number in the open interval (lo, hi).
 * @example
 * ```ts
 * import { fractionFlag } from "./args.ts";
 * fractionFlag({ validation: "0.5" }, "validation", 0, 1); // → 0.5
 * ```
 */
export function fractionFlag(flags: CommandLine["flags"], name: string, lo: number, hi: number): number {
  const raw = flags[name];
  const value = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !(value > lo && value < hi)) {
    throw new UsageError(`--${name} must be a number between ${lo} and ${hi}, got ${JSON.stringify(raw)}`, {
      fix: `write e.g. --${name} ${(lo + hi) / 2}`,
    });
  }
  return value;
}

/**
 * Run a command's `main`, turning any failure into one line on stderr and a non-zero exit code: 2 for
 * bad arguments, 1 for anything else. Never prints a stack trace.
 * @example
 * ```ts
 * import { runCommand } from "./args.ts";
 * async function main(args: string[]): Promise<number> {
 *   console.log(args.length);
 *   return 0; // the exit code
 * }
 * if (import.meta.main) await runCommand("search", () => main(Deno.args));
 * ```
 */
export async function runCommand(name: string, main: () => Promise<number | void>): Promise<never> {
  let code: number;
  try {
    code = (await main()) ?? 0;
  } catch (error) {
    const line = error instanceof ClipkitError
      ? error.message
      : error instanceof Error
      ? `${error.name}: ${error.message}`
      : String(error);
    console.error(`${name}: ${line.replace(/\s*\n\s*/g, " ")}`);
    code = error instanceof UsageError ? 2 : 1;
  }
  Deno.exit(code);
}
