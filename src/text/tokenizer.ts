/**
 * CLIP's byte-level BPE tokenizer, identical to openai/CLIP's `SimpleTokenizer` + `clip.tokenize`.
 *
 * encode = ftfy → `html.unescape` twice → strip → whitespace runs → lower → pre-tokenizer regex →
 * UTF-8 bytes as characters → BPE merges → ids.
 * @module
 */
import { createHash } from "node:crypto";
import { bpeMerge, bpeStepsNaive, bytesToUnicode, END_OF_WORD, type MergeTable } from "./bpe.ts";
import { fixText } from "./ftfy.ts";
import { htmlUnescape, PRE_TOKENIZER, pyLower, pyStrip, whitespaceClean } from "./clean.ts";
import { CONTEXT_LENGTH, EOT_TOKEN, SOT_TOKEN } from "../constants.ts";
import { readVocabulary, type Vocabulary } from "./vocabulary.ts";
import { ContextLengthError, TokenizerError } from "../errors.ts";

export { ContextLengthError, TokenizerError, VocabularyFileError } from "../errors.ts";

export { bytesToUnicode } from "./bpe.ts";

/** Words cached per tokenizer before the cache is cleared (bounds memory on endless streams). */
const WORD_CACHE_LIMIT = 200_000;

/** Options of {@link ClipTokenizer.encode}. */
export interface EncodeOptions {
  /** Apply ftfy's fixes first, as openai/CLIP does (default true). */
  ftfy?: boolean;
}

/** Options of {@link ClipTokenizer.tokenize}. */
export interface TokenizeOptions extends EncodeOptions {
  /** Row length (CLIP: 77). */
  contextLength?: number;
  /** Cut over-long texts to `contextLength`, ending with EOT, instead of throwing. */
  truncate?: boolean;
  /**
   * `"max_length"` (default, `clip.tokenize`): every row is `contextLength` long. `"longest"`: rows are
   * as long as the batch's longest text with SOT and EOT (at most `contextLength`), as transformers.js's
   * `padding: true` gives; the ids are those of `"max_length"` with the all-zero tail columns cut off.
   */
  padding?: "max_length" | "longest";
}

/** A batch of token ids, row-major. */
export interface TokenBatch {
  /** `[batch, length]` int32, zero padded (length = `contextLength`, or the longest row). */
  ids: Int32Array;
  /** `[batch, length]`. */
  shape: [number, number];
}

/**
 * Tokens of each row up to and including its EOT, which is where CLIP's text tower pools: the position
 * of the row's first largest id (EOT is the largest id of a CLIP vocabulary) plus one. `[rows]` int32.
 * @example
 * ```ts
 * import { tokenLengths } from "./tokenizer.ts";
 * tokenLengths(Int32Array.of(49406, 320, 49407, 0, 49406, 49407, 0, 0), [2, 4]); // → Int32Array [3, 2]
 * ```
 */
export function tokenLengths(ids: ArrayLike<number>, shape: readonly [number, number]): Int32Array {
  const [rows, length] = shape;
  const lengths = new Int32Array(rows); // [rows]
  for (let r = 0, at = 0; r < rows; r++, at += length) {
    let eot = 0;
    for (let j = 1; j < length; j++) if (ids[at + j] > ids[at + eot]) eot = j;
    lengths[r] = eot + 1;
  }
  return lengths;
}

// U+0345 folds to ι: JS /iu counts it as a letter, Python's regex module matches it with no branch.
const UNMATCHED_BY_PYTHON = /\u0345/g;

function cleanText(text: string, ftfy: boolean): string {
  const fixed = ftfy ? fixText(text) : text;
  const basic = pyStrip(htmlUnescape(htmlUnescape(fixed)));
  return pyLower(whitespaceClean(basic));
}

function checkText(text: unknown, where: string): string {
  if (typeof text !== "string") {
    const got = text === null ? "null" : Array.isArray(text) ? "an array" : typeof text;
    throw new TokenizerError(
      `${where} must be a string, got ${got}`,
      { fix: "pass text (convert with String(x) if needed)" },
    );
  }
  if (!text.isWellFormed()) {
    const at = [...text].findIndex((c) => c.length === 1 && c >= "\ud800" && c <= "\udfff");
    throw new TokenizerError(
      `${where} contains a lone UTF-16 surrogate (near code point ${at}), which has no UTF-8 form`,
      { fix: "correct the string's source, or clean it with text.toWellFormed() (turns it into U+FFFD)" },
    );
  }
  return text;
}

/**
 * CLIP's BPE tokenizer. Load with {@link ClipTokenizer.load}.
 * @example
 * ```ts
 * import { ClipTokenizer } from "./tokenizer.ts";
 * const tok = await ClipTokenizer.load("../shared/clip/bpe_simple_vocab_16e6.txt.gz");
 * tok.encode("a diagram"); // → [320, 22697]
 * tok.tokenize(["a diagram"]).ids.subarray(0, 5); // → Int32Array [49406, 320, 22697, 49407, 0]
 * ```
 */
export class ClipTokenizer {
  /** Id of `<|startoftext|>`. */
  readonly sot: number;
  /** Id of `<|endoftext|>`. */
  readonly eot: number;
  /** Number of ids (CLIP: 49408). */
  readonly vocabSize: number;
  private readonly encoder: Map<string, number>;
  private readonly decoder: string[];
  private readonly merges: MergeTable;
  private readonly mergeRanks: Map<string, number>;
  private readonly byteSymbol: Int32Array;
  private readonly byteSymbolEnd: Int32Array;
  private readonly byteEncoder = bytesToUnicode();
  private readonly byteDecoder = new Map(bytesToUnicode().map((c, b) => [c, b]));
  private readonly utf8 = new TextEncoder();
  private readonly cache = new Map<string, number[]>();
  private fingerprintHex?: string;

  /** Builds a tokenizer from an in-memory vocabulary (see `readVocabulary`, `vocabularyFromMerges`). */
  constructor(vocab: Vocabulary) {
    this.encoder = vocab.encoder;
    this.decoder = vocab.decoder;
    this.vocabSize = vocab.decoder.length;
    this.sot = this.special(SOT_TOKEN);
    this.eot = this.special(EOT_TOKEN);
    this.byteSymbol = new Int32Array(256);
    this.byteSymbolEnd = new Int32Array(256);
    for (let b = 0; b < 256; b++) {
      this.byteSymbol[b] = this.required(this.byteEncoder[b], "a byte character");
      this.byteSymbolEnd[b] = this.required(this.byteEncoder[b] + END_OF_WORD, "a byte character with </w>");
    }
    const stride = this.decoder.length; // greater than every id
    const rank = new Map<number, number>();
    const merged = new Int32Array(vocab.merges.length);
    this.mergeRanks = new Map();
    vocab.merges.forEach(([a, b], r) => {
      const left = this.encoder.get(a);
      const right = this.encoder.get(b);
      merged[r] = this.required(a + b, `the result of merge ${r + 1} ("${a} ${b}")`);
      this.mergeRanks.set(a + " " + b, r); // a repeated merge keeps its last rank, as in CLIP's dict
      if (left !== undefined && right !== undefined) rank.set(left * stride + right, r);
    });
    this.merges = { rank, merged, stride };
  }

  /**
   * Loads a vocabulary: a model directory (`vocab.json` + `merges.txt`, or `tokenizer.json`), one of
   * those files, or CLIP's `bpe_simple_vocab_16e6.txt.gz`.
   * @example
   * ```ts
   * import { ClipTokenizer } from "./tokenizer.ts";
   * const tok = await ClipTokenizer.load("../shared/clip/bpe_simple_vocab_16e6.txt.gz");
   * tok.encode("a photo of a dog."); // → [320, 1125, 539, 320, 1929, 269]
   * ```
   */
  static async load(path: string): Promise<ClipTokenizer> {
    return new ClipTokenizer(await readVocabulary(path));
  }

  /**
   * sha256 (hex) of the vocabulary and the ranked merges: equal fingerprints mean equal ids for every text.
   * Caches of text embeddings are keyed by it (through `ClipModel.id`).
   * @example
   * ```ts
   * import { ClipTokenizer } from "./tokenizer.ts";
   * const tok = await ClipTokenizer.load("../shared/clip/bpe_simple_vocab_16e6.txt.gz");
   * tok.fingerprint.length; // → 64
   * ```
   */
  get fingerprint(): string {
    if (this.fingerprintHex === undefined) {
      const hash = createHash("sha256");
      hash.update(`vocab ${this.decoder.length}\n`);
      for (const token of this.decoder) hash.update(token + "\n");
      const merges = [...this.mergeRanks].sort((a, b) => a[1] - b[1]);
      hash.update(`merges ${merges.length}\n`);
      for (const [pair] of merges) hash.update(pair + "\n");
      this.fingerprintHex = hash.digest("hex");
    }
    return this.fingerprintHex;
  }

  /** The id of a special token the vocabulary must have. */
  private special(token: string): number {
    const id = this.encoder.get(token);
    if (id === undefined) {
      throw new TokenizerError(
        `the vocabulary has no ${token} token (a CLIP vocabulary ends with <|startoftext|> and <|endoftext|>)`,
        { fix: "rebuild it with writeHfTokenizerFiles()" },
      );
    }
    return id;
  }

  /** The id of a token the vocabulary must have (`what` names it in the error). */
  private required(token: string, what: string): number {
    const id = this.encoder.get(token);
    if (id === undefined) {
      throw new TokenizerError(
        `the vocabulary lacks ${what}, ${JSON.stringify(token)}, so vocab and merges do not belong together`,
        { fix: "use the files of one model, or rebuild them with writeHfTokenizerFiles()" },
      );
    }
    return id;
  }

  /** Ids of one pre-tokenized word (cached). */
  private encodeWord(word: string): number[] {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    let ids: number[];
    if (word === SOT_TOKEN) ids = [this.sot];
    else if (word === EOT_TOKEN) ids = [this.eot];
    else {
      const bytes = this.utf8.encode(word);
      const symbols = new Array<number>(bytes.length);
      for (let i = 0; i < bytes.length; i++) {
        symbols[i] = i + 1 === bytes.length ? this.byteSymbolEnd[bytes[i]] : this.byteSymbol[bytes[i]];
      }
      ids = bpeMerge(symbols, this.merges);
    }
    if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, ids);
    return ids;
  }

  /**
   * The text as CLIP's regex sees it: ftfy, `html.unescape` twice, whitespace runs → one space,
   * `strip()`, `lower()`.
   * @example
   * ```ts
   * import { ClipTokenizer } from "./tokenizer.ts";
   * const tok = await ClipTokenizer.load("../shared/clip/bpe_simple_vocab_16e6.txt.gz");
   * tok.clean("  Fish &amp;amp; CHIPS\n"); // → "fish & chips"
   * ```
   */
  clean(text: string, options: EncodeOptions = {}): string {
    checkText(text, "clean(text): text");
    return cleanText(text, options.ftfy ?? true);
  }

  /**
   * The pieces CLIP's pre-tokenizer regex cuts the cleaned text into; each is then BPE-encoded alone.
   * @example
   * ```ts
   * import { ClipTokenizer } from "./tokenizer.ts";
   * const tok = await ClipTokenizer.load("../shared/clip/bpe_simple_vocab_16e6.txt.gz");
   * tok.pretokenize("It's 12:30!"); // → ["it", "'s", "1", "2", ":", "3", "0", "!"]
   * ```
   */
  pretokenize(text: string, options: EncodeOptions = {}): string[] {
    checkText(text, "pretokenize(text): text");
    return this.words(text, options.ftfy ?? true);
  }

  /** The words the pre-tokenizer cuts a cleaned, lower-cased text into. */
  private words(text: string, ftfy: boolean): string[] {
    const cleaned = cleanText(text, ftfy).replace(UNMATCHED_BY_PYTHON, " ");
    return cleaned.match(PRE_TOKENIZER) ?? [];
  }

  /**
   * BPE ids of a text, without SOT/EOT (`SimpleTokenizer.encode`).
   * @example
   * ```ts
   * import { ClipTokenizer } from "./tokenizer.ts";
   * const tok = await ClipTokenizer.load("../shared/clip/bpe_simple_vocab_16e6.txt.gz");
   * tok.encode("Don’t stop!"); // → [847, 713, 1691, 256]
   * ```
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    checkText(text, "encode(text): text");
    const ids: number[] = [];
    for (const word of this.words(text, options.ftfy ?? true)) {
      for (const id of this.encodeWord(word)) ids.push(id);
    }
    return ids;
  }

  /**
   * Text of a list of ids (`SimpleTokenizer.decode`): `</w>` becomes a space, bad UTF-8 U+FFFD.
   * @example
   * ```ts
   * import { ClipTokenizer } from "./tokenizer.ts";
   * const tok = await ClipTokenizer.load("../shared/clip/bpe_simple_vocab_16e6.txt.gz");
   * tok.decode([320, 1125, 539, 320, 1929, 269]); // → "a photo of a dog . "
   * ```
   */
  decode(ids: ArrayLike<number>): string {
    let symbols = "";
    for (let i = 0; i < ids.length; i++) {
      const token = this.decoder[ids[i]];
      if (token === undefined) {
        throw new TokenizerError(
          `decode: id ${ids[i]} at position ${i} is not in the vocabulary (0..${this.vocabSize - 1})`,
          { fix: "pass ids made by this tokenizer" },
        );
      }
      symbols += token;
    }
    const bytes: number[] = [];
    for (const c of symbols) bytes.push(this.byteDecoder.get(c) ?? 0x3f);
    return new TextDecoder("utf-8").decode(new Uint8Array(bytes)).replaceAll(END_OF_WORD, " ");
  }

  /**
   * `clip.tokenize`: SOT + ids + EOT per text, zero padded to `contextLength`, as int32 rows.
   * Too long: throws {@link ContextLengthError}, or with `truncate` keeps the first
   * `contextLength` ids and makes the last one EOT. With `padding: "longest"` the rows end at the
   * batch's longest text instead of at `contextLength`.
   * @example
   * ```ts
   * import { ClipTokenizer } from "./tokenizer.ts";
   * const tok = await ClipTokenizer.load("../shared/clip/bpe_simple_vocab_16e6.txt.gz");
   * const { ids, shape } = tok.tokenize(["a dog", "a cat"]);
   * shape; // → [2, 77]
   * ids.subarray(0, 5); // → Int32Array [49406, 320, 1929, 49407, 0]
   * tok.tokenize(["a dog", "a"], { padding: "longest" }).ids; // → Int32Array [49406, 320, 1929, 49407, 49406, 320, 49407, 0]
   * ```
   */
  tokenize(texts: string | string[], options: TokenizeOptions = {}): TokenBatch {
    const contextLength = options.contextLength ?? CONTEXT_LENGTH;
    if (!Number.isInteger(contextLength) || contextLength < 2) {
      throw new TokenizerError(
        `contextLength must be an integer of at least 2 (room for SOT and EOT), got ${contextLength}`,
        { fix: `use CLIP's ${CONTEXT_LENGTH} or your model's context length` },
      );
    }
    const list = typeof texts === "string" ? [texts] : texts;
    if (!Array.isArray(list)) {
      checkText(texts, "tokenize(texts): texts");
    }
    const padding = options.padding ?? "max_length";
    if (padding !== "max_length" && padding !== "longest") {
      throw new TokenizerError(`padding must be "max_length" or "longest", got ${JSON.stringify(padding)}`, {
        fix: 'pass padding: "max_length" (rows of contextLength, as clip.tokenize) or "longest"',
      });
    }
    const rows = list.map((text, row) => {
      checkText(text, `tokenize(texts): text ${row}`);
      const tokens = this.encode(text, options);
      if (tokens.length + 2 > contextLength && !options.truncate) {
        throw new ContextLengthError(row, tokens.length + 2, contextLength);
      }
      return tokens.length > contextLength - 2 ? tokens.slice(0, contextLength - 2) : tokens;
    });
    const width = padding === "max_length"
      ? contextLength
      : rows.reduce((longest, tokens) => Math.max(longest, tokens.length + 2), 2);
    const ids = new Int32Array(list.length * width); // [batch, width] int32
    rows.forEach((tokens, row) => {
      const offset = row * width;
      ids[offset] = this.sot;
      ids.set(tokens, offset + 1);
      ids[offset + 1 + tokens.length] = this.eot;
    });
    return { ids, shape: [list.length, width] };
  }

  /**
   * How BPE builds one word, merge by merge: the symbol lists from bytes to final tokens.
   * The word is cleaned and lower-cased like any text; it should be one pre-tokenizer piece.
   * @example
   * ```ts
   * import { ClipTokenizer } from "./tokenizer.ts";
   * const tok = await ClipTokenizer.load("../shared/clip/bpe_simple_vocab_16e6.txt.gz");
   * tok.bpeSteps("cats");
   * // → [["c","a","t","s</w>"], ["c","at","s</w>"], ["c","ats</w>"], ["cats</w>"]]
   * ```
   */
  bpeSteps(word: string): string[][] {
    checkText(word, "bpeSteps(word): word");
    const pieces = this.words(word, true);
    if (pieces.length !== 1) {
      throw new TokenizerError(
        `bpeSteps expects one word, got ${pieces.length} pieces ${JSON.stringify(pieces)}`,
        { fix: "pass a single word" },
      );
    }
    const symbols = [...this.utf8.encode(pieces[0])].map((b) => this.byteEncoder[b]);
    symbols[symbols.length - 1] += END_OF_WORD;
    return bpeStepsNaive(symbols, this.mergeRanks);
  }

  /**
   * The vocabulary as token strings in id order (byte characters, then `</w>` forms, merges, specials).
   * @example
   * ```ts
   * import { ClipTokenizer } from "./tokenizer.ts";
   * const tok = await ClipTokenizer.load("models/tiny-clip");
   * const tokens = tok.tokens();
   * [tokens.length, tokens[0], tokens[256], tokens[tokens.length - 1]]; // → [1024, "!", "!</w>", "<|endoftext|>"]
   * ```
   */
  tokens(): string[] {
    return this.decoder.slice();
  }
}
