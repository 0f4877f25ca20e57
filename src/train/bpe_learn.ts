/**
 * Learning a small byte-level BPE vocabulary in CLIP's exact format, from a caption corpus.
 *
 * Words are cut exactly as {@link ClipTokenizer} cuts them (ftfy, `html.unescape`, whitespace,
 * lower case, CLIP's pre-tokenizer regex, UTF-8 bytes as `bytes_to_unicode` characters, `</w>` on
 * the last one): the learner asks a merge-free tokenizer for each word's starting symbols. Then,
 * as in Sennrich et al. (2016), the most frequent adjacent pair is merged, again and again.
 *
 * The vocabulary is CLIP's layout: 256 byte characters, the same 256 with `</w>`, one token per
 * merge, `<|startoftext|>`, `<|endoftext|>`. Written as `vocab.json` + `merges.txt` (and
 * `tokenizer.json`) by `writeHfTokenizerFiles`, it loads with `ClipTokenizer.load(dir)`.
 *
 * Run: `deno run -A src/train/bpe_learn.ts --out models/tiny-clip-classic [--vocab-size 1024]` learns from
 * the shapes world's training captions.
 * @module
 */

import { parseArgs } from "node:util";
import { ClipTokenizer } from "../text/tokenizer.ts";
import { vocabularyFromMerges, writeHfTokenizerFiles } from "../text/vocabulary.ts";
import { generateCaptions } from "../data/shapes.ts";
import { BpeLearnError } from "../errors.ts";

/** Ids that are not merges: 256 byte characters, 256 with `</w>`, SOT and EOT. */
export const BASE_VOCAB_SIZE = 256 + 256 + 2;
/** Default total vocabulary size (the learner stops earlier when no pair is frequent enough). */
export const DEFAULT_VOCAB_SIZE = 1024;
/** Default least number of occurrences for a pair to be merged. */
export const DEFAULT_MIN_FREQUENCY = 2;
/** Training captions the command-line learner reads from the shapes world. */
export const DEFAULT_CORPUS_SIZE = 50_000;

/** Options of {@link learnBpe}. */
export interface LearnBpeOptions {
  /** Total ids including the 514 base and special tokens (default {@link DEFAULT_VOCAB_SIZE}). */
  vocabSize?: number;
  /** A pair must occur at least this often to be merged (default 2). */
  minFrequency?: number;
}

/** A learned BPE vocabulary. */
export interface LearnedBpe {
  /** Merges in rank order, as `merges.txt` lists them. */
  merges: [string, string][];
  /** Total ids: {@link BASE_VOCAB_SIZE} + merges (every merge makes a new token). */
  vocabSize: number;
  /** Distinct words in the corpus and their total count. */
  distinctWords: number;
  totalWords: number;
  /** Words of the corpus that end as a single token. */
  wholeWords: number;
}

/** One distinct word: its current symbols and how often it occurs. */
interface WordEntry {
  symbols: string[];
  count: number;
}

/** CLIP's starting symbols of every word of `texts`, counted (via a merge-free tokenizer). */
function countWords(texts: Iterable<string>): Map<string, WordEntry> {
  const vocab = vocabularyFromMerges([]);
  const tokenizer = new ClipTokenizer(vocab);
  const words = new Map<string, WordEntry>();
  for (const text of texts) {
    let symbols: string[] = [];
    for (const id of tokenizer.encode(text)) {
      const symbol = vocab.decoder[id];
      symbols.push(symbol);
      if (!symbol.endsWith("</w>")) continue;
      const key = symbols.join(" ");
      const entry = words.get(key);
      if (entry) entry.count++;
      else words.set(key, { symbols, count: 1 });
      symbols = [];
    }
  }
  return words;
}

/** Merges every left-to-right, non-overlapping occurrence of `left right` in `symbols`. */
function mergePair(symbols: string[], left: string, right: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
      out.push(left + right);
      i++;
    } else {
      out.push(symbols[i]);
    }
  }
  return out;
}

/**
 * Learns BPE merges from `texts`. Each step merges the adjacent symbol pair with the highest
 * count over the corpus; ties go to the pair that sorts first (left symbol, then right, by
 * UTF-16 code units), so the result depends only on the word counts, not on corpus order. A pair
 * whose merged string is already a token is skipped, so every merge adds exactly one id (CLIP's
 * layout: id = 512 + merge rank). Stops at `vocabSize` or when no pair reaches `minFrequency`.
 *
 * @example
 * ```ts
 * import { learnBpe } from "./bpe_learn.ts";
 * const bpe = learnBpe(["a red circle", "two red circles", "a blue circle"], { vocabSize: 520 });
 * bpe.merges; // → [["c", "i"], ["c", "l"], ["ci", "r"], ["cir", "cl"], ["circl", "e</w>"], ["e", "d</w>"]]
 * bpe.vocabSize; // → 520
 * ```
 */
export function learnBpe(texts: Iterable<string>, options: LearnBpeOptions = {}): LearnedBpe {
  const vocabSize = options.vocabSize ?? DEFAULT_VOCAB_SIZE;
  const minFrequency = options.minFrequency ?? DEFAULT_MIN_FREQUENCY;
  if (!Number.isInteger(vocabSize) || vocabSize < BASE_VOCAB_SIZE) {
    throw new BpeLearnError(
      `vocabSize must be an integer ≥ ${BASE_VOCAB_SIZE} (256 bytes, 256 with </w>, SOT, EOT), got ${vocabSize}`,
      { fix: `pass e.g. ${DEFAULT_VOCAB_SIZE}` },
    );
  }
  if (!Number.isInteger(minFrequency) || minFrequency < 1) {
    throw new BpeLearnError(`minFrequency must be an integer ≥ 1, got ${minFrequency}`, {
      fix: "pass e.g. 2",
    });
  }
  const words = [...countWords(texts).values()];
  const tokens = new Set(vocabularyFromMerges([]).decoder);
  const merges: [string, string][] = [];

  while (BASE_VOCAB_SIZE + merges.length < vocabSize) {
    // pair counts over the corpus: "left right" → occurrences
    const pairs = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        if (tokens.has(symbols[i] + symbols[i + 1])) continue;
        const key = symbols[i] + " " + symbols[i + 1];
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    let best: [string, string] | null = null, bestCount = 0;
    for (const [key, count] of pairs) {
      const pair = key.split(" ") as [string, string];
      if (
        count > bestCount ||
        (count === bestCount && best !== null &&
          (pair[0] < best[0] || (pair[0] === best[0] && pair[1] < best[1])))
      ) {
        best = pair;
        bestCount = count;
      }
    }
    if (best === null || bestCount < minFrequency) break;
    const [left, right] = best;
    merges.push(best);
    tokens.add(left + right);
    for (const word of words) {
      if (word.symbols.length > 1 && word.symbols.includes(left)) {
        word.symbols = mergePair(word.symbols, left, right);
      }
    }
  }
  const whole = words.filter((w) => w.symbols.length === 1);
  return {
    merges,
    vocabSize: BASE_VOCAB_SIZE + merges.length,
    distinctWords: words.length,
    totalWords: words.reduce((sum, w) => sum + w.count, 0),
    wholeWords: whole.length,
  };
}

/** Command line: learn from the shapes world's training captions and write the tokenizer files. */
async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: "string" },
      "vocab-size": { type: "string", default: String(DEFAULT_VOCAB_SIZE) },
      "min-frequency": { type: "string", default: String(DEFAULT_MIN_FREQUENCY) },
      captions: { type: "string", default: String(DEFAULT_CORPUS_SIZE) },
      seed: { type: "string", default: "0" },
    },
  });
  if (!values.out) {
    throw new BpeLearnError(
      "no output directory",
      {
        fix: "pass --out DIR (e.g. --out models/tiny-clip-classic) to write vocab.json and merges.txt there",
      },
    );
  }
  const texts = generateCaptions(Number(values.seed), Number(values.captions), { split: "train" })
    .map((scene) => scene.caption);
  const bpe = learnBpe(texts, {
    vocabSize: Number(values["vocab-size"]),
    minFrequency: Number(values["min-frequency"]),
  });
  const written = await writeHfTokenizerFiles(values.out, bpe.merges);
  console.log(
    `learned ${bpe.merges.length} merges from ${texts.length} training captions ` +
      `(${bpe.distinctWords} distinct words, ${bpe.wholeWords} now single tokens): ` +
      `${written.vocabSize} ids written to ${written.vocab} and ${written.merges}`,
  );
}

if (import.meta.main) await main(Deno.args);
