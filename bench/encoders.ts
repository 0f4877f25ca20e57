/**
 * Encoder throughput on `../shared/fixtures/clip-tiny-torch`, both backends: texts/s (tokenize +
 * text tower), images/s from pixel values (vision tower alone) and from image files (decode +
 * preprocess + vision tower).
 *
 * `deno run -A bench/encoders.ts [--items 256] [--batch 32] [--threads N]` prints a table;
 * `benchEncoders()` returns its rows for `bench/run.ts`.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ClipModel } from "../src/model/clip_model.ts";
import type { Backend } from "../src/model/runtime.ts";
import { SHARED } from "./shared.ts";

const FIXTURE = join(SHARED, "fixtures", "clip-tiny-torch");
const BPE = join(SHARED, "clip", "bpe_simple_vocab_16e6.txt.gz");

/** One measurement. */
export interface EncoderBenchRow {
  backend: Backend;
  /** What was timed: `"text"`, `"pixels"` (vision tower alone) or `"image files"` (decode + preprocess too). */
  input: "text" | "pixels" | "image files";
  /** Intra-op threads of the runtime. */
  threads: number;
  batchSize: number;
  items: number;
  seconds: number;
  /** Items per second. */
  perSecond: number;
}

/** Options of `benchEncoders`. */
export interface EncoderBenchOptions {
  backends?: Backend[];
  /** Inputs per measurement (default 256). */
  items?: number;
  batchSize?: number;
  /** Threads (default all cores). */
  threads?: number;
}

/**
 * Time the encoders of the fixture model on each backend (after one warm-up batch).
 * @example
 * const rows = await benchEncoders({ items: 64 });
 * rows[0] // { backend: "node", input: "text", threads: 2, batchSize: 32, items: 64, seconds: 0.05, perSecond: 1280 }
 */
export async function benchEncoders(options: EncoderBenchOptions = {}): Promise<EncoderBenchRow[]> {
  const items = options.items ?? 256;
  const batchSize = options.batchSize ?? 32;
  const reference = JSON.parse(await Deno.readTextFile(join(FIXTURE, "reference.json")));
  const texts: string[] = Array.from({ length: items }, (_, i) => `${reference.captions[i % 7]} #${i}`);
  const files: string[] = Array.from(
    { length: items },
    (_, i) => join(FIXTURE, reference.image_paths[i % 4]),
  );
  const pixelBytes = await Deno.readFile(join(FIXTURE, "pixel_values.f32"));
  const four = new Float32Array(pixelBytes.buffer, pixelBytes.byteOffset, pixelBytes.byteLength / 4);
  const pixels = new Float32Array(items * (four.length / 4)); // [items, 3, 64, 64]
  for (let i = 0; i < items; i += 4) {
    pixels.set(four.subarray(0, Math.min(4, items - i) * (four.length / 4)), i * four.length / 4);
  }

  const rows: EncoderBenchRow[] = [];
  for (const backend of options.backends ?? ["node", "web"]) {
    const model = await ClipModel.load(FIXTURE, {
      backend,
      tokenizer: BPE,
      batchSize,
      threads: options.threads,
    });
    const row = (input: EncoderBenchRow["input"], seconds: number): EncoderBenchRow => ({
      backend,
      input,
      threads: model.runtime.threads,
      batchSize,
      items,
      seconds,
      perSecond: items / seconds,
    });
    await model.encodeText(texts.slice(0, batchSize));
    rows.push(row("text", await time(() => model.encodeText(texts, { progress: false }))));
    await model.encodePixels(pixels.subarray(0, batchSize * (four.length / 4)));
    rows.push(row("pixels", await time(() => model.encodePixels(pixels, { progress: false }))));
    rows.push(row("image files", await time(() => model.encodeImages(files, { progress: false }))));
    await model.dispose();
  }
  return rows;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { items: { type: "string" }, batch: { type: "string" }, threads: { type: "string" } },
  });
  const rows = await benchEncoders({
    items: values.items ? Number(values.items) : undefined,
    batchSize: values.batch ? Number(values.batch) : undefined,
    threads: values.threads ? Number(values.threads) : undefined,
  });
  console.log(`clip-tiny-torch encoders, ${navigator.hardwareConcurrency} cores\n`);
  console.log("| backend | input       | threads | batch | items | seconds | items/s |");
  console.log("|---------|-------------|--------:|------:|------:|--------:|--------:|");
  for (const r of rows) {
    console.log(
      `| ${r.backend.padEnd(7)} | ${r.input.padEnd(11)} | ${String(r.threads).padStart(7)} | ${
        String(r.batchSize).padStart(5)
      } | ${String(r.items).padStart(5)} | ${r.seconds.toFixed(3).padStart(7)} | ${
        r.perSecond.toFixed(0).padStart(7)
      } |`,
    );
  }
}
