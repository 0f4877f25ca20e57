/**
 * Retrieval benchmarks: exact top-k search over 100,000 × 512 random unit rows (what `deno task search`
 * does per query, embeddings in memory), and embedding a folder of images end to end (list → decode →
 * preprocess → vision tower → unit rows → `.npy` + Parquet shards, what `deno task embed` does).
 *
 * Run alone: `deno run -A bench/search.ts [--rows 100000] [--dim 512] [--images 256] [--vitb32]`
 * (`--vitb32` also embeds with the full-size random-weight ViT-B/32 of bench/vitb32.ts when it is there).
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { Matrix } from "../src/math/matrix.ts";
import { ExactSearch } from "../src/math/search.ts";
import { mulberry32 } from "../src/data/random.ts";
import { writeShapesFolder } from "../src/data/shapes_folder.ts";
import { loadImageFiles } from "../src/data/image_folder.ts";
import { ClipModel } from "../src/model/clip_model.ts";
import { exportEmbeddings } from "../src/model/embedding_export.ts";
import { openEmbeddingFolder, readShardEmbeddings, writeShard } from "../src/data/embedding_shards.ts";
import { fmt, markdownTable } from "./table.ts";
import { machineDescription, measure, type Timing } from "./stats.ts";
import { VITB32_DIR } from "./vitb32.ts";

/** One row of the table. */
export interface SearchBenchRow {
  task: string;
  /** What one unit is (`query`, `image`). */
  unit: string;
  /** Median milliseconds per unit. */
  msPerUnit: number;
  /** Units per second at the median. */
  perSecond: number;
  timing: Timing;
}

/** `rows × dim` random unit rows (uniform directions from normalised uniform noise; speed does not care). */
export function randomUnitRows(rows: number, dim: number, seed: number): Matrix {
  const rng = mulberry32(seed);
  const data = new Float32Array(rows * dim); // [rows, dim]
  for (let i = 0; i < rows; i++) {
    let ss = 0;
    for (let k = 0; k < dim; k++) ss += (data[i * dim + k] = rng() - 0.5) ** 2;
    const inv = 1 / Math.sqrt(ss);
    for (let k = 0; k < dim; k++) data[i * dim + k] *= inv;
  }
  return new Matrix(data, rows, dim);
}

/** Exact top-10 for `queries` queries at once over `corpus`, in shards of 10,000 rows. */
export async function benchSearch(corpus: Matrix, queries: number, reps: number): Promise<SearchBenchRow> {
  const q = randomUnitRows(queries, corpus.cols, 7);
  const shard = 10_000 * corpus.cols;
  const shards: Matrix[] = [];
  for (let at = 0; at < corpus.data.length; at += shard) {
    const part = corpus.data.subarray(at, Math.min(corpus.data.length, at + shard));
    shards.push(new Matrix(part, part.length / corpus.cols, corpus.cols));
  }
  const timing = await measure(() => {
    const search = new ExactSearch(q, 10);
    for (const s of shards) search.add(s);
    return search.results();
  }, { warmup: 1, reps });
  const ms = (timing.median * 1000) / queries;
  return {
    task: `exact top-10, ${corpus.rows.toLocaleString("en")} × ${corpus.cols} (${queries} quer${
      queries > 1 ? "ies" : "y"
    } per call)`,
    unit: "query",
    msPerUnit: ms,
    perSecond: 1000 / ms,
    timing,
  };
}

/** The same search as `deno task search` does it: shards read from disk (float16 `.npy`), widened, scored. */
export async function benchSearchFromDisk(corpus: Matrix, reps: number): Promise<SearchBenchRow> {
  const out = await Deno.makeTempDir({ prefix: "clipkit-bench-shards-" });
  const rowsPerShard = 10_000, d = corpus.cols;
  for (let n = 0; n * rowsPerShard < corpus.rows; n++) {
    const rows = Math.min(rowsPerShard, corpus.rows - n * rowsPerShard);
    const image = new Matrix(
      corpus.data.subarray(n * rowsPerShard * d, (n * rowsPerShard + rows) * d),
      rows,
      d,
    );
    const paths = Array.from({ length: rows }, (_, i) => `images/${n * rowsPerShard + i}.jpg`);
    await writeShard(out, n, {
      image,
      metadata: { image_path: paths, width: paths.map(() => 224), height: paths.map(() => 224) },
    }, "float16");
  }
  const q = randomUnitRows(1, d, 7);
  try {
    const timing = await measure(async () => {
      const folder = await openEmbeddingFolder(out);
      const search = new ExactSearch(q, 10);
      for (const shard of folder.shards) search.add(await readShardEmbeddings(shard));
      return search.results();
    }, { warmup: 1, reps });
    return {
      task: `exact top-10 from disk: ${
        corpus.rows.toLocaleString("en")
      } × ${d} float16 shards (read, widen, score)`,
      unit: "query",
      msPerUnit: timing.median * 1000,
      perSecond: 1 / timing.median,
      timing,
    };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

/** Embed a folder of `count` shapes-world pictures (224 px PNG) end to end with `modelDir`. */
export async function benchEmbedFolder(
  modelDir: string,
  count: number,
  reps: number,
): Promise<SearchBenchRow> {
  const root = await Deno.makeTempDir({ prefix: "clipkit-bench-folder-" });
  await writeShapesFolder(root, { task: "combo", perClass: Math.ceil(count / 80), size: 224 });
  const model = await ClipModel.load(modelDir);
  try {
    const timing = await measure(async () => {
      const out = await Deno.makeTempDir({ prefix: "clipkit-bench-emb-" });
      const data = await loadImageFiles(root);
      await exportEmbeddings(model, data, out, { shardSize: 1000, progress: false });
      await Deno.remove(out, { recursive: true });
    }, { warmup: 1, reps });
    const images = (await loadImageFiles(root)).length;
    const ms = (timing.median * 1000) / images;
    return {
      task: `embed a folder end to end: ${images} PNG 224 px, ${
        model.id.split("-fp32")[0]
      } (${model.runtime.describe()})`,
      unit: "image",
      msPerUnit: ms,
      perSecond: 1000 / ms,
      timing,
    };
  } finally {
    await model.dispose();
    await Deno.remove(root, { recursive: true });
  }
}

/**
 * The rows at which an approximate index starts to pay, from the measured exact-search speed: the corpus
 * size where one query takes 100 ms (an interactive budget), and where float32 rows need 4 GB of memory.
 */
export function approximateIndexThreshold(
  row: SearchBenchRow,
  rows: number,
  dim: number,
): { latency: number; memory: number } {
  const perRow = row.msPerUnit / rows;
  return { latency: Math.round(100 / perRow), memory: Math.round(4e9 / (4 * dim)) };
}

/** Run the benchmarks and print a Markdown table; returns the rows. */
export async function main(args: string[] = Deno.args): Promise<SearchBenchRow[]> {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: "string", default: "100000" },
      dim: { type: "string", default: "512" },
      images: { type: "string", default: "256" },
      reps: { type: "string", default: "5" },
      vitb32: { type: "boolean", default: false },
    },
  });
  const rows = Number(values.rows), dim = Number(values.dim), reps = Number(values.reps);
  const corpus = randomUnitRows(rows, dim, 1);
  const results: SearchBenchRow[] = [
    await benchSearch(corpus, 1, reps),
    await benchSearch(corpus, 16, reps),
    await benchSearchFromDisk(corpus, reps),
    await benchEmbedFolder(
      join(import.meta.dirname!, "..", "models", "tiny-clip"),
      Number(values.images),
      reps,
    ),
  ];
  if (values.vitb32 && existsSync(join(VITB32_DIR, "onnx", "vision_model.onnx"))) {
    results.push(await benchEmbedFolder(VITB32_DIR, Math.min(64, Number(values.images)), Math.min(reps, 3)));
  }
  console.log(`Retrieval on ${machineDescription()}\n`);
  console.log(markdownTable(
    ["task", "ms per unit", "per second", "spread (s, median min–max)"],
    results.map((r) => [
      r.task,
      `${fmt(r.msPerUnit)} / ${r.unit}`,
      `${fmt(r.perSecond)} ${r.unit === "query" ? "queries" : "images"}/s`,
      `${fmt(r.timing.median)} (${fmt(r.timing.min)}–${fmt(r.timing.max)})`,
    ]),
    ["left", "right", "right", "right"],
  ));
  const { latency, memory } = approximateIndexThreshold(results[0], rows, dim);
  console.log(
    `\nExact search is linear in the rows: at this speed one query over ${
      latency.toLocaleString("en")
    } × ${dim} rows ` +
      `takes 100 ms, and ${
        memory.toLocaleString("en")
      } float32 rows fill 4 GB. Beyond about a million rows an ` +
      `approximate index (IVF-PQ or HNSW, as clip-retrieval builds with autofaiss) is worth it.`,
  );
  return results;
}

if (import.meta.main) await main();
