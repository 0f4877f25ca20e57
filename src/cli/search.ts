/**
 * `deno task search`: text-to-image search over an embedding folder written by `deno task embed`
 * (or by clip-retrieval).
 *
 *   deno task search my-photos-emb "a red car"
 *   deno task search emb "two dogs asleep" --k 20 --model models/clip-vit-base-patch32
 *
 * query → text tower → unit row → exact top-k over every shard (blocked matrix products, src/math/search.ts)
 * → the hits' paths from the metadata → a table (rank, cosine, path) and a thumbnail grid (SVG + PNG).
 * @module
 */
import { join } from "node:path";
import { EmbeddingStoreError, UsageError } from "../errors.ts";
import { openEmbeddingFolder, readShardEmbeddings, readShardMetadata } from "../data/embedding_shards.ts";
import { ExactSearch, type SearchHit } from "../math/search.ts";
import { normalize } from "../math/similarity.ts";
import { ClipModel } from "../model/clip_model.ts";
import type { BackendChoice } from "../model/runtime.ts";
import { plots } from "../plot/mod.ts";
import { type CommandSpec, helpText, integerFlag, parseCommandLine, runCommand } from "./args.ts";

const DEFAULT_MODEL = "models/tiny-clip";

/** The command's arguments and flags (they make `--help`). */
export const SEARCH_COMMAND: CommandSpec = {
  name: "search",
  summary: "Find the images of an embedding folder (deno task embed) that best match a text.",
  positionals: [
    { name: "EMBEDDINGS", help: "the folder deno task embed wrote (img_emb/, metadata/)" },
    { name: "QUERY", help: 'the text to search for, quoted: "a red car"' },
  ],
  flags: [
    { name: "k", value: "N", help: "results", default: "10" },
    {
      name: "model",
      value: "DIR",
      help: `model directory (default: the one embed.json names, else ${DEFAULT_MODEL})`,
    },
    {
      name: "tokenizer",
      value: "PATH",
      help:
        "tokenizer, when the model folder has none (bpe_simple_vocab_16e6.txt.gz, or vocab.json + merges.txt)",
    },
    {
      name: "out",
      value: "DIR",
      help: "where the thumbnail grid goes (search.svg, search.png)",
      default: "search-out",
    },
    { name: "columns", value: "N", help: "thumbnails per row in the grid", default: "5" },
    {
      name: "backend",
      value: "NAME",
      help: "ONNX runtime",
      default: "auto",
      choices: ["auto", "node", "web"],
    },
  ],
  examples: ['deno task search my-shapes-emb "a red circle" --k 5'],
};

/** A hit with what the metadata says about it. */
interface Found extends SearchHit {
  path: string;
  caption?: string;
}

/** Run the command; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const cli = parseCommandLine(argv, SEARCH_COMMAND);
  if (cli.help) {
    console.log(helpText(SEARCH_COMMAND));
    return 0;
  }
  const { flags } = cli;
  const [dir, query] = cli.positionals;
  if (query.trim() === "") {
    throw new UsageError("the query is empty", { fix: 'write what to look for: "a red car"' });
  }
  const k = integerFlag(flags, "k", 1);
  const columns = integerFlag(flags, "columns", 1);
  const folder = await openEmbeddingFolder(dir);
  const modelDir = (flags.model as string | undefined) ?? folder.manifest?.model ?? DEFAULT_MODEL;
  const model = await ClipModel.load(modelDir, {
    backend: flags.backend as BackendChoice,
    tokenizer: flags.tokenizer as string | undefined,
  });
  try {
    if (folder.manifest && folder.manifest.modelId !== model.id) {
      throw new EmbeddingStoreError(
        `the embeddings were made by ${folder.manifest.modelId}, the query would be embedded by ${model.id}`,
        {
          path: dir,
          fix: `pass --model ${folder.manifest.model}, or embed the images again with this model`,
        },
      );
    }
    if (folder.dim !== model.dim) {
      throw new EmbeddingStoreError(`the embeddings are ${folder.dim} wide, the model's ${model.dim}`, {
        path: dir,
        fix: "pass the --model the embeddings were made with",
      });
    }
    if (folder.count === 0) {
      throw new EmbeddingStoreError(
        "the embedding folder's shards hold no rows (every image failed to read)",
        {
          path: dir,
          fix: "embed the images again; see the failed list in embed.json",
        },
      );
    }
    const q = normalize(await model.encodeText([query], { truncate: true })); // [1, D]
    const started = performance.now();
    const search = new ExactSearch(q, Math.min(k, folder.count));
    for (const shard of folder.shards) search.add(await readShardEmbeddings(shard));
    const hits = search.results()[0];
    const ms = performance.now() - started;

    // Global row → shard and row, then the paths of the shards that hold hits.
    const firstRow = folder.shards.map((_, n) => folder.shards.slice(0, n).reduce((s, x) => s + x.rows, 0));
    const metadata = new Map<number, Record<string, unknown>[]>();
    const found: Found[] = [];
    for (const hit of hits) {
      let n = folder.shards.length - 1;
      while (firstRow[n] > hit.index) n--;
      if (!metadata.has(n)) metadata.set(n, await readShardMetadata(folder.shards[n]));
      const row = metadata.get(n)![hit.index - firstRow[n]];
      found.push({
        ...hit,
        path: String(row.image_path ?? row.url ?? ""),
        caption: typeof row.caption === "string" ? row.caption : undefined,
      });
    }
    console.log(`model  ${model.id}`);
    console.log(
      `query  ${JSON.stringify(query)} against ${folder.count} images in ${folder.shards.length} shards ` +
        `(exact search, ${ms.toFixed(1)} ms)`,
    );
    console.log(`\nrank  cosine  image`);
    found.forEach((f, i) => {
      console.log(
        `${String(i + 1).padStart(4)}  ${f.score.toFixed(4)}  ${f.path}${
          f.caption ? `  "${f.caption}"` : ""
        }`,
      );
    });
    const out = flags.out as string;
    await Deno.mkdir(out, { recursive: true });
    const figure = plots.imageGrid(await plots.loadThumbnails(found.map((f) => f.path)), {
      captions: found.map((
        f,
        i,
      ) => [`${i + 1}. cosine ${f.score.toFixed(3)}`, f.path.split(/[\\/]/).slice(-2).join("/")]),
      columns,
      title: `Search: "${query}"`,
      subtitle: `top ${found.length} of ${folder.count} images · ${model.id}`,
    });
    await figure.saveSvg(join(out, "search.svg"));
    await figure.savePng(join(out, "search.png"));
    console.log(`\nwrote ${join(out, "search.svg")}, ${join(out, "search.png")}`);
  } finally {
    await model.dispose();
  }
  return 0;
}

if (import.meta.main) await runCommand("search", () => main(Deno.args));
