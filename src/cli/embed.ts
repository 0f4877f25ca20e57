/**
 * `deno task embed`: embeddings of a folder of images or a caption file, in clip-retrieval's layout.
 *
 *   deno task embed my-photos --out my-photos-emb
 *   deno task embed captions.csv --model models/clip-vit-base-patch32 --out emb --dtype float32
 *
 * source (folder: every image at any depth; .csv/.tsv/.jsonl: image path + caption) → shards of
 * `--shard-size` items: `OUT/img_emb/img_emb_N.npy`, `OUT/text_emb/text_emb_N.npy` (captions),
 * `OUT/metadata/metadata_N.parquet` → `OUT/embed.json`. Run it again after a stop to continue.
 * @module
 */
import { extname } from "node:path";
import { UsageError } from "../errors.ts";
import { loadImageFiles } from "../data/image_folder.ts";
import { CAPTION_FILE_EXTENSIONS, loadCaptions } from "../data/caption_file.ts";
import type { NpyDtype } from "../data/npy.ts";
import { ClipModel } from "../model/clip_model.ts";
import type { BackendChoice } from "../model/runtime.ts";
import { DEFAULT_SHARD_SIZE, exportEmbeddings } from "../model/embedding_export.ts";
import { type CommandSpec, helpText, integerFlag, parseCommandLine, runCommand } from "./args.ts";

/** The command's arguments and flags (they make `--help`). */
export const EMBED_COMMAND: CommandSpec = {
  name: "embed",
  summary: "Embed a folder of images or a caption file (CSV/TSV/JSONL) into clip-retrieval's layout.",
  positionals: [{
    name: "SOURCE",
    help: `a folder of images (any depth), or a caption file (${CAPTION_FILE_EXTENSIONS.join(", ")})`,
  }],
  flags: [
    { name: "out", value: "DIR", help: "the embedding folder to write (required)" },
    { name: "model", value: "DIR", help: "model directory", default: "models/tiny-clip" },
    {
      name: "tokenizer",
      value: "PATH",
      help:
        "tokenizer, when the model folder has none (bpe_simple_vocab_16e6.txt.gz, or vocab.json + merges.txt)",
    },
    {
      name: "dtype",
      value: "TYPE",
      help: "values in the .npy files",
      default: "float16",
      choices: ["float16", "float32"],
    },
    { name: "shard-size", value: "N", help: "images per shard", default: String(DEFAULT_SHARD_SIZE) },
    { name: "batch-size", value: "N", help: "images per encoder batch", default: "32" },
    {
      name: "image-column",
      value: "NAME",
      help: "caption files: the column of image paths (default: found by name)",
    },
    {
      name: "caption-column",
      value: "NAME",
      help: "caption files: the column of captions (default: found by name)",
    },
    {
      name: "on-error",
      value: "MODE",
      help: "unreadable images",
      default: "fail",
      choices: ["fail", "skip"],
    },
    {
      name: "backend",
      value: "NAME",
      help: "ONNX runtime",
      default: "auto",
      choices: ["auto", "node", "web"],
    },
    { name: "overwrite", help: "start again instead of continuing what is in --out" },
  ],
  examples: [
    "deno task embed my-photos --out my-photos-emb",
    "deno task embed my-shapes/captions.csv --out shapes-emb --shard-size 16",
  ],
};

/** Run the command; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const cli = parseCommandLine(argv, EMBED_COMMAND);
  if (cli.help) {
    console.log(helpText(EMBED_COMMAND));
    return 0;
  }
  const { flags } = cli;
  const [source] = cli.positionals;
  if (typeof flags.out !== "string") {
    throw new UsageError("--out is required: the folder the embeddings go to", {
      fix: `write e.g. deno task embed ${source} --out ${source.replace(/\.[^./]+$/, "")}-emb`,
    });
  }
  const shardSize = integerFlag(flags, "shard-size", 1);
  const batchSize = integerFlag(flags, "batch-size", 1);
  const onError = flags["on-error"] === "skip" ? "skip" : "throw";
  const isFile = await Deno.stat(source).then((s) => s.isFile, () => false);
  if (!isFile && CAPTION_FILE_EXTENSIONS.includes(extname(source).toLowerCase())) {
    throw new UsageError(`no such caption file: ${source}`, { fix: "check the path" });
  }
  const dataset = isFile
    ? await loadCaptions(source, {
      imageColumn: flags["image-column"] as string | undefined,
      captionColumn: flags["caption-column"] as string | undefined,
      onError,
    })
    : await loadImageFiles(source, { onError });
  const model = await ClipModel.load(flags.model as string, {
    backend: flags.backend as BackendChoice,
    batchSize,
    tokenizer: flags.tokenizer as string | undefined,
  });
  try {
    console.log(`model  ${model.id} on ${model.runtime.describe()}`);
    console.log(
      `source ${source}: ${dataset.length} images${isFile ? " with captions" : ""}` +
        (dataset.skipped.length ? ` (${dataset.skipped.length} other files or rows skipped)` : ""),
    );
    const started = performance.now();
    const result = await exportEmbeddings(model, dataset, flags.out, {
      dtype: flags.dtype as NpyDtype,
      shardSize,
      batchSize,
      modelDir: flags.model as string,
      source,
      overwrite: flags.overwrite === true,
      onStart: ({ resumed, shards }) => {
        if (resumed > 0 && resumed < shards) {
          console.log(`continuing: shards 0…${resumed - 1} of ${shards} are complete`);
        }
      },
      onShard: ({ index, rows, failed }) =>
        console.log(`shard ${index}: ${rows} rows${failed ? ` (${failed} unreadable images skipped)` : ""}`),
    });
    const seconds = (performance.now() - started) / 1000;
    const fresh = result.rows - (result.resumed ? Math.min(result.rows, result.resumed * shardSize) : 0);
    if (result.written === 0) {
      console.log(`nothing to do: all ${result.manifest.shards} shards in ${flags.out} are complete`);
      return 0;
    }
    for (const f of result.manifest.failed ?? []) console.log(`  skipped unreadable ${f.path}: ${f.error}`);
    console.log(
      `wrote ${result.written} shard${result.written === 1 ? "" : "s"} to ${flags.out} ` +
        `(${result.rows} rows of ${result.manifest.dim} ${result.manifest.dtype} in all; ` +
        `${fresh} images in ${seconds.toFixed(1)} s)`,
    );
  } finally {
    await model.dispose();
  }
  return 0;
}

if (import.meta.main) await runCommand("embed", () => main(Deno.args));
