/**
 * `deno task fetch-model <repo-id> [--dtype fp32|fp16|q8] [--dir models/…] [--revision main]`
 *
 * Downloads a CLIP model directory (transformers.js layout) from the Hugging Face hub, or from
 * `$HF_ENDPOINT`. Interrupted downloads resume when the command is run again. A repository without ONNX
 * towers but with a PyTorch checkpoint in safetensors (open_clip's or Hugging Face's) gets only the
 * checkpoint's files; `ClipModel.load` converts them to ONNX on first load.
 */
import { parseArgs } from "node:util";
import { ClipkitError } from "../errors.ts";
import { fetchModel } from "../model/hub.ts";
import type { Dtype } from "../model/config.ts";

const USAGE =
  `usage: deno task fetch-model <repo-id> [--dtype fp32|fp16|q8] [--dir models/<name>] [--revision main]

  e.g. deno task fetch-model Xenova/clip-vit-base-patch32
       deno task fetch-model Xenova/clip-vit-base-patch32 --dtype q8 --dir models/clip-b32-q8
       deno task fetch-model laion/CLIP-ViT-B-32-laion2B-s34B-b79K   (open_clip safetensors)
       deno task fetch-model openai/clip-vit-base-patch32            (Hugging Face safetensors)

  HF_ENDPOINT  hub address (default https://huggingface.co)
  HF_TOKEN     access token for gated or private repositories`;

/** Run the command with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        dtype: { type: "string", default: "fp32" },
        dir: { type: "string" },
        revision: { type: "string", default: "main" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`expected one repository id, got ${positionals.length}\n\n${USAGE}`);
    return 2;
  }
  if (!["fp32", "fp16", "q8"].includes(values.dtype)) {
    console.error(`unknown --dtype ${values.dtype}: use fp32, fp16 or q8\n\n${USAGE}`);
    return 2;
  }
  try {
    const result = await fetchModel(positionals[0], {
      dtype: values.dtype as Dtype,
      dir: values.dir,
      revision: values.revision,
    });
    for (const file of result.files) {
      console.log(`${file.status.padEnd(10)} ${file.path} (${file.size} bytes)`);
    }
    const checkpoint = result.files.some((f) => f.path.endsWith(".safetensors"));
    console.log(
      `\nready: ClipModel.load(${JSON.stringify(result.dir)}${
        values.dtype === "fp32" ? "" : `, { dtype: "${values.dtype}" }`
      })${checkpoint ? " (a PyTorch checkpoint: converted to ONNX on the first load, then cached)" : ""}`,
    );
    return 0;
  } catch (error) {
    if (error instanceof ClipkitError) {
      console.error(`${error.name}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
