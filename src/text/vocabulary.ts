/**
 * Reading and writing BPE vocabularies: CLIP's `bpe_simple_vocab_16e6.txt.gz` and the Hugging Face
 * forms (`vocab.json` + `merges.txt`, `tokenizer.json`).
 * @module
 */
import { basename, dirname, join } from "node:path";
import { byteAlphabet, END_OF_WORD } from "./bpe.ts";
import { writeAtomic } from "../fs.ts";
import { CONTEXT_LENGTH, EOT_TOKEN, SOT_TOKEN } from "../constants.ts";
import { preTokenizerPattern } from "./clean.ts";
import { VocabularyFileError } from "../errors.ts";

/** CLIP reads merges lines `[1 : 49152 - 256 - 2 + 1]` of its BPE file (48,894 merges). */
export const CLIP_MERGE_COUNT = 49152 - 256 - 2;
const SPECIAL_TOKENS = [SOT_TOKEN, EOT_TOKEN];
const MERGES_HEADER = "#version: 0.2";

/** A vocabulary in memory: token → id, id → token, and the merges in rank order. */
export interface Vocabulary {
  /** Token → id. */
  encoder: Map<string, number>;
  /** Id → token. */
  decoder: string[];
  /** The BPE merges, highest priority first. */
  merges: [string, string][];
}

const HOW_TO_GET =
  "pass a model directory with vocab.json + merges.txt (or tokenizer.json), or CLIP's bpe_simple_vocab_16e6.txt.gz";

async function readText(path: string): Promise<string> {
  try {
    if (!path.endsWith(".gz")) return await Deno.readTextFile(path);
    const file = await Deno.open(path);
    const stream = file.readable.pipeThrough(new DecompressionStream("gzip")).pipeThrough(
      new TextDecoderStream(),
    );
    let text = "";
    for await (const chunk of stream) text += chunk;
    return text;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new VocabularyFileError("no vocabulary file", { path, fix: HOW_TO_GET });
    }
    throw new VocabularyFileError(
      `cannot read the vocabulary (${(e as Error).message}), the file is damaged`,
      { path, fix: `download it again (${HOW_TO_GET})`, cause: e },
    );
  }
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new VocabularyFileError(
      `not valid JSON (${(e as Error).message}), the file is damaged`,
      { path, fix: "download it again", cause: e },
    );
  }
}

function parseMergeLine(line: string, where: string): [string, string] {
  const parts = line.trim().split(" ");
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new VocabularyFileError(
      `${where} is ${JSON.stringify(line)}, not two symbols separated by a space`,
      { fix: "the merges file is damaged: download it again" },
    );
  }
  return [parts[0], parts[1]];
}

/**
 * The vocabulary that CLIP's `SimpleTokenizer` builds from a list of merges.
 * @example
 * ```ts
 * import { vocabularyFromMerges } from "./vocabulary.ts";
 * const v = vocabularyFromMerges([["c", "a"], ["ca", "t</w>"]]);
 * v.encoder.size; // → 516
 * v.encoder.get("cat</w>"); // → 513
 * ```
 */
export function vocabularyFromMerges(merges: [string, string][]): Vocabulary {
  const alphabet = byteAlphabet();
  const decoder = [
    ...alphabet,
    ...alphabet.map((c) => c + END_OF_WORD),
    ...merges.map(([a, b]) => a + b),
    ...SPECIAL_TOKENS,
  ];
  const encoder = new Map<string, number>();
  decoder.forEach((token, id) => encoder.set(token, id)); // a repeated token keeps its last id, like CLIP's dict
  return { encoder, decoder, merges };
}

/** Reads CLIP's BPE merges file (`.txt.gz` or `.txt`): a header line, then one merge per line. */
async function readClipBpe(path: string): Promise<Vocabulary> {
  const lines = (await readText(path)).split("\n");
  if (lines.length < 2 || !lines[0].includes("version")) {
    throw new VocabularyFileError(
      "no '#version' header line at the start, so this is not a CLIP BPE merges file",
      { path, fix: HOW_TO_GET },
    );
  }
  const merges = lines.slice(1, CLIP_MERGE_COUNT + 1).filter((l) => l.length > 0)
    .map((l, i) => parseMergeLine(l, `line ${i + 2} of ${path}`));
  return vocabularyFromMerges(merges);
}

function encoderFromJson(json: unknown, path: string): Map<string, number> {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new VocabularyFileError("no token → id object, the vocabulary is damaged", {
      path,
      fix: "download it again",
    });
  }
  const encoder = new Map<string, number>();
  for (const [token, id] of Object.entries(json)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw new VocabularyFileError(
        `token ${JSON.stringify(token)} has id ${id}, not an id, the file is damaged`,
        { path, fix: "download it again" },
      );
    }
    encoder.set(token, id as number);
  }
  return encoder;
}

function decoderOf(encoder: Map<string, number>): string[] {
  const decoder: string[] = [];
  for (const [token, id] of encoder) decoder[id] = token;
  return decoder;
}

async function readVocabMerges(vocabPath: string, mergesPath: string): Promise<Vocabulary> {
  const encoder = encoderFromJson(parseJson(await readText(vocabPath), vocabPath), vocabPath);
  const merges = (await readText(mergesPath)).split("\n")
    .map((line, i) => [line, i] as const)
    .filter(([line, i]) => line.trim().length > 0 && !(i === 0 && line.startsWith("#version")))
    .map(([line, i]) => parseMergeLine(line, `line ${i + 1} of ${mergesPath}`));
  return { encoder, decoder: decoderOf(encoder), merges };
}

async function readTokenizerJson(path: string): Promise<Vocabulary> {
  const json = parseJson(await readText(path), path) as {
    model?: { type?: string; vocab?: unknown; merges?: unknown };
    added_tokens?: { id: number; content: string }[];
  };
  const model = json?.model;
  if (!model || (model.type !== undefined && model.type !== "BPE") || !Array.isArray(model.merges)) {
    throw new VocabularyFileError(
      "no BPE model with merges, so this is not a CLIP tokenizer.json",
      { path, fix: HOW_TO_GET },
    );
  }
  const encoder = encoderFromJson(model.vocab, path);
  for (const added of json.added_tokens ?? []) {
    if (typeof added?.content === "string" && Number.isInteger(added.id)) {
      encoder.set(added.content, added.id);
    }
  }
  const merges = (model.merges as unknown[]).map((m, i): [string, string] => {
    if (typeof m === "string") return parseMergeLine(m, `merge ${i} of ${path}`);
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === "string" && typeof m[1] === "string") {
      return [m[0], m[1]];
    }
    throw new VocabularyFileError(
      `merge ${i} is ${JSON.stringify(m)}, not a pair, the file is damaged`,
      { path, fix: "download it again" },
    );
  });
  return { encoder, decoder: decoderOf(encoder), merges };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads a vocabulary from a model directory, a `vocab.json`/`merges.txt`/`tokenizer.json` file, or
 * CLIP's `bpe_simple_vocab_16e6.txt(.gz)`.
 * @example
 * ```ts
 * import { readVocabulary } from "./vocabulary.ts";
 * const v = await readVocabulary("../shared/clip/bpe_simple_vocab_16e6.txt.gz");
 * v.merges.length; // → 48894
 * ```
 */
export async function readVocabulary(path: string): Promise<Vocabulary> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch {
    throw new VocabularyFileError("nothing at this path", { path, fix: HOW_TO_GET });
  }
  const dir = stat.isDirectory ? path : dirname(path);
  const name = stat.isDirectory ? "" : basename(path);
  if (name === "tokenizer.json") return await readTokenizerJson(path);
  if (name === "vocab.json" || name === "merges.txt" || name === "") {
    const vocab = join(dir, "vocab.json");
    const merges = join(dir, "merges.txt");
    if (await exists(vocab) && await exists(merges)) return await readVocabMerges(vocab, merges);
    if (name === "" && await exists(join(dir, "tokenizer.json"))) {
      return await readTokenizerJson(join(dir, "tokenizer.json"));
    }
    throw new VocabularyFileError("the folder lacks vocab.json + merges.txt (or tokenizer.json)", {
      path,
      fix: HOW_TO_GET,
    });
  }
  if (name.endsWith(".gz") || name.endsWith(".txt")) return await readClipBpe(path);
  throw new VocabularyFileError("not a vocabulary file this kit reads", { path, fix: HOW_TO_GET });
}

/** The files {@link writeHfTokenizerFiles} wrote. */
export interface WrittenTokenizerFiles {
  /** Path of `vocab.json`. */
  vocab: string;
  /** Path of `merges.txt`. */
  merges: string;
  /** Path of `tokenizer.json`, when written. */
  tokenizerJson?: string;
  /** Path of `tokenizer_config.json`, when written. */
  tokenizerConfig?: string;
  /** Number of ids (256 + 256 + merges + 2 when every merge makes a new token). */
  vocabSize: number;
}

/** `tokenizer_config.json` of a CLIP tokenizer (what transformers / transformers.js read beside tokenizer.json). */
export const TOKENIZER_CONFIG = {
  tokenizer_class: "CLIPTokenizer",
  model_max_length: CONTEXT_LENGTH,
  bos_token: SPECIAL_TOKENS[0],
  eos_token: SPECIAL_TOKENS[1],
  unk_token: SPECIAL_TOKENS[1],
  pad_token: SPECIAL_TOKENS[1],
  do_lower_case: true,
  errors: "replace",
  add_prefix_space: false,
};

/** The `tokenizer.json` (Hugging Face `tokenizers` format) of a CLIP vocabulary. */
export function tokenizerJson(vocab: Record<string, number>, merges: [string, string][]): object {
  const [sot, eot] = SPECIAL_TOKENS;
  const special = (content: string) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(sot), special(eot)],
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "NFC" },
        { type: "Replace", pattern: { Regex: "\\s+" }, content: " " },
        { type: "Lowercase" },
      ],
    },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: preTokenizerPattern("\\s") }, behavior: "Removed", invert: true },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: "RobertaProcessing",
      sep: [eot, vocab[eot]],
      cls: [sot, vocab[sot]],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: eot,
      continuing_subword_prefix: "",
      end_of_word_suffix: END_OF_WORD,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/**
 * Writes a BPE vocabulary in the Hugging Face form, atomically (temp file + rename): `vocab.json`,
 * `merges.txt` and (unless `tokenizerJson: false`) `tokenizer.json` + `tokenizer_config.json`, so
 * that transformers / transformers.js load the directory too. Ids: the 256 byte characters,
 * the same with `</w>`, one per merge (a merge whose result is already a token adds no id), then
 * `<|startoftext|>`, `<|endoftext|>`. Merges are in byte-character form, e.g. `["Ġ", "t"]`,
 * `["a", "t</w>"]`. `ClipTokenizer.load(dir)` reads the result.
 * @example
 * ```ts
 * import { writeHfTokenizerFiles } from "./vocabulary.ts";
 * const dir = await Deno.makeTempDir(); // a new model directory
 * const written = await writeHfTokenizerFiles(dir, [["c", "a"], ["ca", "t</w>"]]);
 * written.vocabSize; // → 516 (256 bytes, 256 with </w>, 2 merges, SOT and EOT)
 * written.merges.slice(dir.length); // → "/merges.txt"
 * ```
 */
export async function writeHfTokenizerFiles(
  dir: string,
  merges: [string, string][],
  options: { tokenizerJson?: boolean } = {},
): Promise<WrittenTokenizerFiles> {
  if (!Array.isArray(merges)) {
    throw new VocabularyFileError(
      `merges must be a list of [left, right] pairs, got ${merges === null ? "null" : typeof merges}` +
        (typeof merges === "object" && merges !== null ? ` (${(merges as object).constructor?.name})` : ""),
      {
        fix:
          "pass the learned list, e.g. learnBpe(texts, { vocabSize: 1024 }).merges (src/train/bpe_learn.ts), or " +
          "(await readVocabulary(path)).merges; a ClipTokenizer's internal merge table is not that list",
      },
    );
  }
  const alphabet = byteAlphabet();
  const symbols = new Set([...alphabet, ...alphabet.map((c) => c + END_OF_WORD)]);
  const tokens = [...symbols];
  merges.forEach((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new VocabularyFileError(`merge ${i} is ${JSON.stringify(pair)}, not a [left, right] pair`, {
        fix: 'pass merges as pairs of byte-character symbols, e.g. [["c", "a"], ["ca", "t</w>"]]',
      });
    }
    const [a, b] = pair;
    if (typeof a !== "string" || typeof b !== "string" || !a || !b || /\s/.test(a + b)) {
      throw new VocabularyFileError(
        `merge ${i} is ${JSON.stringify([a, b])}, not two symbols`,
        { fix: "pass merges of two non-empty byte-character symbols without spaces" },
      );
    }
    if (!symbols.has(a) || !symbols.has(b)) {
      throw new VocabularyFileError(
        `merge ${i} (${JSON.stringify([a, b])}) uses a symbol that no earlier merge made`,
        { fix: "order the merges as they were learned" },
      );
    }
    if (!symbols.has(a + b)) {
      symbols.add(a + b);
      tokens.push(a + b);
    }
  });
  tokens.push(...SPECIAL_TOKENS);
  const vocab: Record<string, number> = {};
  tokens.forEach((t, id) => vocab[t] = id);
  await Deno.mkdir(dir, { recursive: true });
  const written: WrittenTokenizerFiles = {
    vocab: join(dir, "vocab.json"),
    merges: join(dir, "merges.txt"),
    vocabSize: tokens.length,
  };
  await writeAtomic(written.vocab, JSON.stringify(vocab));
  await writeAtomic(
    written.merges,
    [MERGES_HEADER, ...merges.map(([a, b]) => `${a} ${b}`)].join("\n") + "\n",
  );
  if (options.tokenizerJson ?? true) {
    written.tokenizerJson = join(dir, "tokenizer.json");
    written.tokenizerConfig = join(dir, "tokenizer_config.json");
    await writeAtomic(written.tokenizerJson, JSON.stringify(tokenizerJson(vocab, merges)));
    await writeAtomic(written.tokenizerConfig, JSON.stringify(TOKENIZER_CONFIG, null, 2) + "\n");
  }
  return written;
}
