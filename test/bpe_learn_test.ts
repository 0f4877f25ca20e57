/**
 * The BPE learner: CLIP's vocabulary layout, files that `ClipTokenizer.load` reads, round trips of
 * every caption the shapes world can write, context lengths, determinism.
 */
import nodeAssert from "node:assert/strict";
import { join } from "node:path";
import { BASE_VOCAB_SIZE, learnBpe } from "../src/train/bpe_learn.ts";
import { BpeLearnError } from "../src/errors.ts";
import { ClipTokenizer } from "../src/text/tokenizer.ts";
import { byteAlphabet } from "../src/text/bpe.ts";
import { writeHfTokenizerFiles } from "../src/text/vocabulary.ts";
import { classNames, COLOURS, generateCaptions, SHAPES } from "../src/data/shapes.ts";
import { allCaptions } from "../src/data/captions.ts";
import { ROOT } from "./_shared.ts";
import { assert, assertEquals } from "./_assert.ts";

const corpus = generateCaptions(0, 5000, { split: "train" }).map((s) => s.caption);
const learned = learnBpe(corpus);

/** A learned vocabulary written to a temporary directory and loaded back. */
async function loadLearned(): Promise<{ dir: string; tokenizer: ClipTokenizer }> {
  const dir = await Deno.makeTempDir({ prefix: "clipkit-bpe-" });
  await writeHfTokenizerFiles(dir, learned.merges, { tokenizerJson: false });
  return { dir, tokenizer: await ClipTokenizer.load(dir) };
}

/** What CLIP's decode gives back for a lower-case text: each pre-tokenizer piece, then a space. */
function expectedDecode(text: string): string {
  return text.toLowerCase().match(/\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/gu)!.map((w) => w + " ").join("");
}

Deno.test("learned vocabulary has CLIP's layout: bytes, bytes</w>, one id per merge, SOT, EOT", async () => {
  const { dir, tokenizer } = await loadLearned();
  const vocab: Record<string, number> = JSON.parse(await Deno.readTextFile(join(dir, "vocab.json")));
  const merges = (await Deno.readTextFile(join(dir, "merges.txt"))).split("\n");
  assertEquals(merges[0], "#version: 0.2");
  assertEquals(merges.length - 2, learned.merges.length); // header and final newline
  const alphabet = byteAlphabet();
  alphabet.forEach((c, i) => {
    assertEquals(vocab[c], i);
    assertEquals(vocab[c + "</w>"], 256 + i);
  });
  learned.merges.forEach(([a, b], r) => assertEquals(vocab[a + b], 512 + r, `merge ${r} ${a} ${b}`));
  assertEquals(Object.keys(vocab).length, learned.vocabSize);
  assertEquals(tokenizer.vocabSize, learned.vocabSize);
  assertEquals(vocab["<|startoftext|>"], learned.vocabSize - 2);
  assertEquals(vocab["<|endoftext|>"], learned.vocabSize - 1);
  assertEquals(learned.vocabSize, BASE_VOCAB_SIZE + learned.merges.length);
  // a few hundred to ~2k tokens; every corpus word became one token
  assert(learned.vocabSize > 600 && learned.vocabSize <= 2048, `vocab size ${learned.vocabSize}`);
  assertEquals(learned.wholeWords, learned.distinctWords);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("every caption and prompt round-trips through ClipTokenizer and fits the context", async () => {
  const { dir, tokenizer } = await loadLearned();
  const templates: string[] = JSON.parse(
    await Deno.readTextFile(join(ROOT, "src", "zeroshot", "templates", "shapes.json")),
  ).templates;
  const prompts = templates.flatMap((t) => classNames("combo").map((name) => t.replace("{}", name)));
  // the whole caption language, held-out combinations included (never in the corpus)
  const texts = [...allCaptions(COLOURS, SHAPES), ...prompts];
  let longest = 0;
  for (const text of texts) {
    const ids = tokenizer.encode(text);
    assertEquals(tokenizer.decode(ids), expectedDecode(text), text);
    assertEquals(ids.length, expectedDecode(text).split(" ").length - 1, `one token per word: ${text}`);
    longest = Math.max(longest, ids.length + 2);
  }
  // SOT + words + EOT: far below CLIP's 77 (the tiny model may use a shorter context)
  assert(longest <= 16, `longest caption has ${longest} tokens with SOT/EOT`);
  const batch = tokenizer.tokenize(texts.slice(0, 3), { contextLength: 16 });
  assertEquals(batch.shape, [3, 16]);
  assertEquals(batch.ids[0], learned.vocabSize - 2);
  // text outside the corpus still round-trips: the byte alphabet covers everything
  assertEquals(tokenizer.decode(tokenizer.encode("Naïve café: 3 ZEBRAS!")), "naïve café : 3 zebras ! ");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("learning is deterministic and ignores corpus order", () => {
  const again = learnBpe(corpus);
  assertEquals(again.merges, learned.merges);
  const reversed = learnBpe([...corpus].reverse());
  assertEquals(reversed.merges, learned.merges);
  const small = learnBpe(["a red circle", "two red circles", "a blue circle"], { vocabSize: 520 });
  const expected = [["c", "i"], ["c", "l"], ["ci", "r"], ["cir", "cl"], ["circl", "e</w>"], ["e", "d</w>"]];
  assertEquals(small.merges, expected);
});

Deno.test("vocabSize and minFrequency bound the merges; bad options get a BpeLearnError", () => {
  assertEquals(learnBpe(corpus, { vocabSize: 600 }).merges, learned.merges.slice(0, 600 - BASE_VOCAB_SIZE));
  assertEquals(learnBpe(["one word"], { minFrequency: 2 }).merges.length, 0);
  assert(learnBpe(["one word"], { minFrequency: 1 }).merges.length > 0);
  nodeAssert.throws(() => learnBpe(corpus, { vocabSize: 100 }), BpeLearnError);
  nodeAssert.throws(() => learnBpe(corpus, { minFrequency: 0 }), BpeLearnError);
});
