/**
 * Tokenizer speed: this kit's ClipTokenizer vs transformers.js's CLIPTokenizer, same vocabulary
 * (CLIP's merges; transformers.js gets a tokenizer.json built from them, offline), same texts:
 * the golden captions plus every prompt template × class name of `../shared/clip/prompts.json`.
 *
 * Run: `deno run -A bench/tokenizer.ts` (prints a table). `runTokenizerBench()` returns the rows.
 * @module
 */
import { CLIPTokenizer } from "@huggingface/transformers";
import { ClipTokenizer } from "../src/text/tokenizer.ts";
import { readVocabulary, tokenizerJson } from "../src/text/vocabulary.ts";
import { shared } from "./shared.ts";
import { VERSIONS } from "./versions.ts";

/** One measured configuration. */
export interface TokenizerBenchRow {
  tokenizer: string;
  /** `encode` (ids of one text, no specials; warm, or one pass from a fresh tokenizer) or `tokenize` (batches of rows of 77). */
  mode: string;
  texts: number;
  /** BPE tokens produced per pass (this kit's count, without SOT/EOT/padding). */
  tokens: number;
  /** Best time of the timed passes. */
  seconds: number;
  textsPerSecond: number;
  tokensPerSecond: number;
  /** This kit's speed over this row's speed, for the same mode (1 for this kit's own rows). */
  speedup: number;
}

/** Options of {@link runTokenizerBench}. */
export interface TokenizerBenchOptions {
  /** Timed passes after one warm-up pass; the best is kept. */
  passes?: number;
  /** Use at most this many texts (all by default). */
  limit?: number;
  /** Rows per tokenize call. */
  batchSize?: number;
}

/** The benchmark's texts: golden captions, then every template × class name. */
export function benchTexts(): string[] {
  const golden = Deno.readTextFileSync(shared("golden", "tokenizer.public.jsonl")).trim().split("\n")
    .map((l) => JSON.parse(l).text as string);
  const prompts = JSON.parse(Deno.readTextFileSync(shared("clip", "prompts.json"))) as Record<
    string,
    { classes: (string | string[])[]; templates: string[] }
  >;
  const texts = [...golden];
  for (const { classes, templates } of Object.values(prompts)) {
    for (const template of templates) {
      for (const name of classes.flat()) texts.push(template.replaceAll("{}", name));
    }
  }
  return texts;
}

function best(passes: number, run: () => void): number {
  run(); // warm-up: caches, JIT
  let bestSeconds = Infinity;
  for (let p = 0; p < passes; p++) {
    const t0 = performance.now();
    run();
    bestSeconds = Math.min(bestSeconds, (performance.now() - t0) / 1000);
  }
  return bestSeconds;
}

/**
 * Measures both tokenizers and returns one row per tokenizer and mode.
 * @example
 * const rows = await runTokenizerBench({ passes: 1, limit: 5000 });
 * rows.map((r) => `${r.tokenizer} ${r.mode} ${r.textsPerSecond.toFixed(0)}`)
 */
export async function runTokenizerBench(options: TokenizerBenchOptions = {}): Promise<TokenizerBenchRow[]> {
  const passes = options.passes ?? 2;
  const batchSize = options.batchSize ?? 256;
  const gz = shared("clip", "bpe_simple_vocab_16e6.txt.gz");
  const vocab = await readVocabulary(gz);
  const json = tokenizerJson(Object.fromEntries(vocab.encoder), vocab.merges);
  const config = {
    tokenizer_class: "CLIPTokenizer",
    model_max_length: 77,
    bos_token: "<|startoftext|>",
    eos_token: "<|endoftext|>",
    unk_token: "<|endoftext|>",
    pad_token: "<|endoftext|>",
  };
  const ours = new ClipTokenizer(vocab);
  const theirs = new CLIPTokenizer(json, config);
  let texts = benchTexts();
  if (options.limit !== undefined) texts = texts.slice(0, options.limit);
  const batches: string[][] = [];
  for (let i = 0; i < texts.length; i += batchSize) batches.push(texts.slice(i, i + batchSize));
  const tokens = texts.reduce((n, t) => n + ours.encode(t).length, 0);

  const cold = (encode: (t: string) => unknown) => {
    const t0 = performance.now();
    texts.forEach(encode);
    return (performance.now() - t0) / 1000;
  };
  const freshOurs = new ClipTokenizer(vocab);
  const freshTheirs = new CLIPTokenizer(json, config);
  const timings: [string, string, number][] = [
    ["clipkit", "encode, cold cache (1 pass)", cold((t) => freshOurs.encode(t))],
    [
      `transformers.js ${VERSIONS.transformers}`,
      "encode, cold cache (1 pass)",
      cold((t) => freshTheirs.encode(t, { add_special_tokens: false })),
    ],
    ["clipkit", "encode", best(passes, () => texts.forEach((t) => ours.encode(t)))],
    [
      `transformers.js ${VERSIONS.transformers}`,
      "encode",
      best(passes, () => texts.forEach((t) => theirs.encode(t, { add_special_tokens: false }))),
    ],
    ["clipkit", "tokenize", best(passes, () => batches.forEach((b) => ours.tokenize(b, { truncate: true })))],
    [
      `transformers.js ${VERSIONS.transformers}`,
      "tokenize",
      best(
        passes,
        () => batches.forEach((b) => theirs(b, { padding: "max_length", max_length: 77, truncation: true })),
      ),
    ],
  ];
  const oursSeconds = new Map(timings.filter(([who]) => who === "clipkit").map(([, mode, s]) => [mode, s]));
  return timings.map(([tokenizer, mode, seconds]) => ({
    tokenizer,
    mode,
    texts: texts.length,
    tokens,
    seconds,
    textsPerSecond: texts.length / seconds,
    tokensPerSecond: tokens / seconds,
    speedup: seconds / oursSeconds.get(mode)!,
  }));
}

/** How many texts both tokenizers turn into the same ids (no specials), and the first few that differ. */
export async function agreement(
  texts: string[],
): Promise<{ same: number; total: number; differing: string[] }> {
  const gz = shared("clip", "bpe_simple_vocab_16e6.txt.gz");
  const ours = await ClipTokenizer.load(gz);
  const vocab = await readVocabulary(gz);
  const theirs = new CLIPTokenizer(tokenizerJson(Object.fromEntries(vocab.encoder), vocab.merges), {});
  const differing: string[] = [];
  let same = 0;
  for (const t of texts) {
    const a = ours.encode(t);
    const b = theirs.encode(t, { add_special_tokens: false });
    if (a.length === b.length && a.every((v, i) => v === b[i])) same++;
    else if (differing.length < 5) differing.push(t);
  }
  return { same, total: texts.length, differing };
}

if (import.meta.main) {
  const rows = await runTokenizerBench();
  console.log(
    `texts: ${rows[0].texts} (golden captions + templates × class names), tokens/pass: ${rows[0].tokens}`,
  );
  console.table(rows.map((r) => ({
    tokenizer: r.tokenizer,
    mode: r.mode,
    "texts/s": Math.round(r.textsPerSecond),
    "tokens/s": Math.round(r.tokensPerSecond),
    "best pass (s)": Number(r.seconds.toFixed(3)),
    "clipkit speedup": `${r.speedup.toFixed(2)}×`,
  })));
  const golden = benchTexts().slice(0, 366);
  const agree = await agreement(golden);
  console.log(
    `same ids as transformers.js on the golden texts: ${agree.same}/${agree.total}; e.g. differing:`,
    agree.differing.map((t) => JSON.stringify(t)).join(", "),
  );
}
