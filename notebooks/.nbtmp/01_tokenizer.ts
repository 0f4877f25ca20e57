console.log("\n######## cell 0");
import { ClipTokenizer, plots } from "../src/mod.ts";
import assert from "node:assert/strict";

const MODEL = "../models/tiny-clip";
const tok = await ClipTokenizer.load(MODEL);
const contextLength = JSON.parse(await Deno.readTextFile(`${MODEL}/config.json`)).text_config.max_position_embeddings;
console.log(`${tok.vocabSize} tokens; start ${tok.sot}, end ${tok.eot}; the tiny model's text encoder has ${contextLength} positions`);
console.log("\n######## cell 1");
const samples = ["A  Photo of a CAT", "rock &amp; roll", "don't   stop", "2024: year-end", "  a red circle!  "];
console.table(samples.map((text) => ({ text, "decode(encode(text))": tok.decode(tok.encode(text)) })));
console.log("\n######## cell 2");
import { htmlUnescape, pyLower, whitespaceClean } from "../src/mod.ts";
// simple_tokenizer.py: basic_clean (html.unescape twice, strip), whitespace_clean, lower()
const clean = (text: string) => pyLower(whitespaceClean(htmlUnescape(htmlUnescape(text))));
// its pattern, with \p{L} letters and \p{N} digits (one digit per piece)
const WORDS = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/gu;
console.table(samples.map((text) => ({ text, cleaned: clean(text), words: clean(text).match(WORDS)!.join(" | ") })));
console.log("\n######## cell 3");
import { bytesToUnicode } from "../src/mod.ts";
const BYTE_CHAR = bytesToUnicode(); // 256 entries: byte value → its character
const spell = (word: string) => [...new TextEncoder().encode(word)].map((b) => BYTE_CHAR[b]).join("");
console.log(`unchanged: ${BYTE_CHAR.filter((c, b) => c.codePointAt(0) === b).length} bytes; shifted: ${BYTE_CHAR.filter((c, b) => c.codePointAt(0) !== b).length}`);
console.table(["cat", "café", "naïve", "🙂"].map((w) => ({
  word: w,
  "utf-8 bytes": [...new TextEncoder().encode(w)].map((b) => b.toString(16).padStart(2, "0")).join(" "),
  "byte-level spelling": spell(w),
})));
console.log("\n######## cell 4");
const merges = (await Deno.readTextFile(`${MODEL}/merges.txt`)).split("\n").filter((l) => l && !l.startsWith("#version"));
const rank = new Map(merges.map((pair, i) => [pair, i]));
const steps = tok.bpeSteps("triangles");
console.table(steps.map((symbols, k) => {
  if (k === 0) return { merge: "(start: one symbol per byte)", symbols: symbols.join(" · ") };
  const i = symbols.findIndex((s, j) => s !== steps[k - 1][j]); // the first symbol that changed
  const pair = `${steps[k - 1][i]} ${steps[k - 1][i + 1]}`;
  return { merge: `${pair.replace(" ", " + ")} (rank ${rank.get(pair)})`, symbols: symbols.join(" · ") };
}));
console.log("\n######## cell 5");
const idOf = new Map(tok.tokens().map((t, id) => [t, id]));
for (const word of ["triangles", "photograph", "zebra"]) {
  const pieces = tok.bpeSteps(word).at(-1)!;
  const ids = pieces.map((p) => idOf.get(p)!);
  console.log(`${word.padEnd(11)} → ${pieces.join(" · ").padEnd(40)} → ids ${JSON.stringify(ids)}`);
  assert.deepEqual(ids, tok.encode(word), `the last BPE step and encode() disagree on ${word}`);
}
console.log("✔ BPE by hand equals tok.encode");
console.log("\n######## cell 6");
const prompt = "a photo of a cat";
const { ids, shape } = tok.tokenize([prompt]);
const row = Array.from(ids.subarray(0, 77));
const n = tok.encode(prompt).length;
console.log(`shape ${JSON.stringify(shape)}`);
console.log(`ids: ${JSON.stringify(row.slice(0, n + 4))} … (${row.filter((v) => v === 0).length} zeros)`);
assert.deepEqual(shape, [1, 77]);
assert.equal(row[0], tok.sot);
assert.equal(row[n + 1], tok.eot);
assert.ok(row.slice(n + 2).every((v) => v === 0));
console.log("✔ tokenize() gives SOT … EOT, zero padded to 77");
console.log("\n######## cell 7");
const prompts = ["a red circle.", "two small blue stars", "there is a large green hexagon near the top", "a photo of a cat"];
const batch = tok.tokenize(prompts);
const WIDTH = 14;
const grid = prompts.map((_, i) => Array.from(batch.ids.subarray(i * 77, i * 77 + WIDTH))); // [4, 14] of [4, 77]
plots.similarityHeatmap(grid, {
  texts: prompts, imageLabels: Array.from({ length: WIDTH }, (_, k) => `${k}`), pairs: [],
  title: "tokenize(prompts): the first 14 of 77 positions", label: "token id", format: (id) => String(id),
})
console.log("\n######## cell 8");
const long = Array.from({ length: 40 }, (_, i) => `${["red", "blue"][i % 2]} star`).join(" and ");
try {
  tok.tokenize([long]);
} catch (e) {
  console.log(`${(e as Error).name}: ${(e as Error).message}`);
}
const cut = Array.from(tok.tokenize([long], { truncate: true }).ids);
console.log(`with truncate: … ${JSON.stringify(cut.slice(-3))} (last is EOT ${tok.eot})`);
assert.equal(cut.at(-1), tok.eot);
console.log("\n######## cell 9");
import { shapesClassNames, suiteTemplates } from "../src/mod.ts";
const WORLD = suiteTemplates("seen");
const filled = WORLD.flatMap((t) => shapesClassNames("combo").map((c) => t.replace("{}", c)));
const counts = filled.map((p) => tok.encode(p).length + 2); // + SOT and EOT
const histogram = Object.entries(Object.groupBy(counts, (c) => c)).map(([tokens, list]) => ({ tokens: Number(tokens), prompts: list!.length }));
console.log(`${filled.length} prompts (${WORLD.length} templates × 80 classes): ${Math.min(...counts)}–${Math.max(...counts)} tokens of 77`);
console.table(histogram);
console.log("\n######## cell 10");
import { existsSync } from "node:fs";
const first12 = (t: ClipTokenizer) => Array.from(t.tokenize(["a photo of a cat"]).ids.subarray(0, 12));
console.log(`shipped vocabulary:  ${JSON.stringify(first12(tok))}  (${tok.vocabSize} tokens)`);
assert.deepEqual(first12(tok), [685, 320, 79, 71, 78, 670, 519, 320, 66, 620, 686, 0]);
const CLIP_VOCAB = ["../models/clip-vit-base-patch32", "../../shared/clip/bpe_simple_vocab_16e6.txt.gz"].find(existsSync);
if (CLIP_VOCAB) {
  const clipTok = await ClipTokenizer.load(CLIP_VOCAB);
  console.log(`CLIP's vocabulary:   ${JSON.stringify(first12(clipTok))}  (${clipTok.vocabSize} tokens)`);
  assert.deepEqual(first12(clipTok), [49406, 320, 1125, 539, 320, 2368, 49407, 0, 0, 0, 0, 0]); // clip.tokenize("a photo of a cat")
} else {
  console.log("CLIP's vocabulary is not on this machine: deno task fetch-model Xenova/clip-vit-base-patch32 brings it");
}
console.log("✔ a known prompt has its known ids");