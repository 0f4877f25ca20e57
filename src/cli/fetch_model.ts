/**
 * `deno task fetch-model <repo-id> [--dtype fp32|fp16|q8] [--dir models/…] [--revision main]`
 *
 * Downloads a CLIP model directory (transformers.js layout) from the Hugging Face hub, or from
 * `$HF_ENDPOINT`. Interrupted downloads resume when the command is run again. A repository without ONNX
 * towers but with a PyTorch checkpoint in safetensors (open_clip's or Hugging Face's) gets only the
 * checkpoint's files; `ClipModel.load` converts them to ONNX on first load.
 */
import { ClipkitError, UsageError } from "../errors.ts";
import { fetchModel } from "../model/hub.ts";
import type { Dtype } from "../model/config.ts";
import { type CommandSpec, helpText, parseCommandLine } from "./args.ts";

/** The command's arguments and flags (they make `--help`). */
export const FETCH_MODEL_COMMAND: CommandSpec = {
  name: "fetch-model",
  summary: "Download a CLIP model directory (transformers.js layout, or a safetensors checkpoint) from the " +
    "Hugging Face hub, resuming interrupted downloads.\n\n" +
    "  HF_ENDPOINT  hub address (default https://huggingface.co)\n" +
    "  HF_TOKEN     access token for gated or private repositories",
  positionals: [{ name: "REPO-ID", help: "the repository, e.g. Xenova/clip-vit-base-patch32" }],
  flags: [
    {
      name: "dtype",
      value: "DTYPE",
      help: "which ONNX variant",
      default: "fp32",
      choices: ["fp32", "fp16", "q8"],
    },
    { name: "dir", value: "DIR", help: "where to put it (default models/<name>)" },
    { name: "revision", value: "REV", help: "branch, tag or commit", default: "main" },
  ],
  examples: [
    "deno task fetch-model Xenova/clip-vit-base-patch32",
    "deno task fetch-model Xenova/clip-vit-base-patch32 --dtype q8 --dir models/clip-b32-q8",
    "deno task fetch-model laion/CLIP-ViT-B-32-laion2B-s34B-b79K   (open_clip safetensors)",
    "deno task fetch-model openai/clip-vit-base-patch32            (Hugging Face safetensors)",
  ],
};

/**
 * Run the command with `args`; returns the exit code: 0 done, 2 bad arguments, 1 anything else. Every failure
 * is one line on stderr (`ErrorName: problem: where. Fix: …`), never a stack trace.
 */
export async function main(args: string[]): Promise<number> {
  try {
    const cli = parseCommandLine(args, FETCH_MODEL_COMMAND);
    if (cli.help) {
      console.log(helpText(FETCH_MODEL_COMMAND));
      return 0;
    }
    const dtype = cli.flags.dtype as Dtype;
    const result = await fetchModel(cli.positionals[0], {
      dtype,
      dir: cli.flags.dir as string | undefined,
      revision: cli.flags.revision as string,
    });
    for (const file of result.files) {
      console.log(`${file.status.padEnd(10)} ${file.path} (${file.size} bytes)`);
    }
    const checkpoint = result.files.some((f) => f.path.endsWith(".safetensors"));
    console.log(
      `\nready: ClipModel.load(${JSON.stringify(result.dir)}${
        dtype === "fp32" ? "" : `, { dtype: "${dtype}" }`
      })${checkpoint ? " (a PyTorch checkpoint: converted to ONNX on the first load, then cached)" : ""}`,
    );
    return 0;
  } catch (error) {
    const line = error instanceof ClipkitError
      ? `${error.name}: ${error.message}`
      : error instanceof Error
      ? `${error.name}: ${error.message}`
      : String(error);
    console.error(line.replace(/\s*\n\s*/g, " "));
    return error instanceof UsageError ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
