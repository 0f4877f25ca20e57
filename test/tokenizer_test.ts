/**
 * The tokenizer against openai/CLIP's own output (../shared/golden/tokenizer.public.jsonl): ids are
 * integers, so every comparison is exact (tolerance 0).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { shared, sharedTest } from "./_shared.ts";
import {
  bytesToUnicode,
  ClipTokenizer,
  ContextLengthError,
  TokenizerError,
  tokenLengths,
  VocabularyFileError,
} from "../src/text/tokenizer.ts";
import { bpeMerge, bpeStepsNaive, byteAlphabet, END_OF_WORD } from "../src/text/bpe.ts";
import { readVocabulary, writeHfTokenizerFiles } from "../src/text/vocabulary.ts";
import { htmlUnescape, pyLower, pyStrip, whitespaceClean } from "../src/text/clean.ts";
import { fixMojibake, fixText } from "../src/text/ftfy.ts";

function assertEquals(actual: unknown, expected: unknown, message?: string): void {
  if (message === undefined) assert.deepStrictEqual(actual, expected);
  else assert.deepStrictEqual(actual, expected, message);
}

/** Runs `fn`, checks it throws an instance of `type` whose message includes `includes`; returns the error. */
function assertThrows<E extends Error>(
  fn: () => unknown,
  type: new (...args: never[]) => E,
  includes?: string,
  label?: string,
): E {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof type, `${label ?? ""} expected ${type.name}, got ${e}`);
    if (includes) assert.ok(e.message.includes(includes), `"${e.message}" should include "${includes}"`);
    return e;
  }
  throw new assert.AssertionError({ message: `${label ?? ""} expected ${type.name} to be thrown` });
}

const BPE_GZ = shared("clip", "bpe_simple_vocab_16e6.txt.gz");

interface GoldenLine {
  text: string;
  ids: number[];
  tokenize77: number[];
  truncate_false_raises: boolean;
  ftfy_sensitive: boolean;
  ids_ftfy?: number[];
  tokenize77_ftfy?: number[];
}

// Lines where this kit's ftfy differs from ftfy 6.3.1: none in the public set.
const KNOWN_FTFY_DIFFERENCES: string[] = [];

let clip: Promise<ClipTokenizer> | undefined;
const clipTokenizer = () => clip ??= ClipTokenizer.load(BPE_GZ);
const golden = (): GoldenLine[] =>
  Deno.readTextFileSync(shared("golden", "tokenizer.public.jsonl")).trim().split("\n").map((l) =>
    JSON.parse(l)
  );

function promptTexts(): string[] {
  const prompts = JSON.parse(Deno.readTextFileSync(shared("clip", "prompts.json")));
  const texts: string[] = [];
  for (
    const { classes, templates } of Object.values(prompts) as { classes: unknown[]; templates: string[] }[]
  ) {
    const names = classes.flat().map(String).slice(0, 40);
    for (const t of templates.slice(0, 10)) for (const c of names) texts.push(t.replace("{}", c));
  }
  return texts;
}

sharedTest(
  "golden: every public line matches openai/CLIP (ids, tokenize77, raises; ftfy forms)",
  async () => {
    const tok = await clipTokenizer();
    const lines = golden();
    assertEquals(lines.length, 366);
    let checked = 0;
    for (const line of lines) {
      const label = JSON.stringify(line.text);
      // Python with ftfy = identity, which is how `ids` were made.
      assertEquals(tok.encode(line.text, { ftfy: false }), line.ids, `ids (no ftfy) of ${label}`);
      assertEquals(
        Array.from(tok.tokenize(line.text, { truncate: true, ftfy: false }).ids),
        line.tokenize77,
        `tokenize77 (no ftfy) of ${label}`,
      );
      if (KNOWN_FTFY_DIFFERENCES.includes(line.text)) continue;
      assertEquals(tok.encode(line.text), line.ids_ftfy ?? line.ids, `ids (ftfy) of ${label}`);
      const row = tok.tokenize(line.text, { truncate: true });
      assertEquals(row.shape, [1, 77]);
      assertEquals(Array.from(row.ids), line.tokenize77_ftfy ?? line.tokenize77, `tokenize77 of ${label}`);
      if (line.truncate_false_raises) {
        assertThrows(() => tok.tokenize(line.text), ContextLengthError, undefined, label);
      } else {
        assertEquals(Array.from(tok.tokenize(line.text).ids), Array.from(row.ids));
      }
      checked++;
    }
    assertEquals(checked, lines.length - KNOWN_FTFY_DIFFERENCES.length);
  },
);

sharedTest("golden: batch tokenize equals row-by-row tokenize", async () => {
  const tok = await clipTokenizer();
  const lines = golden();
  const batch = tok.tokenize(lines.map((l) => l.text), { truncate: true });
  assertEquals(batch.shape, [lines.length, 77]);
  lines.forEach((l, i) => {
    assertEquals(Array.from(batch.ids.subarray(i * 77, (i + 1) * 77)), l.tokenize77_ftfy ?? l.tokenize77);
  });
});

sharedTest(
  "padding longest: the max_length ids cut to the longest row; tokenLengths finds each EOT",
  async () => {
    const tok = await clipTokenizer();
    const check = (texts: string[], options: { contextLength?: number; truncate?: boolean } = {}) => {
      const full = tok.tokenize(texts, options);
      const [rows, width] = full.shape;
      // Each row's SOT … EOT ends at its last non-zero id (EOT is never 0).
      const ends = Array.from({ length: rows }, (_, r) => {
        let end = width;
        while (full.ids[r * width + end - 1] === 0) end--;
        return end;
      });
      const longest = Math.max(...ends);
      const cut = tok.tokenize(texts, { ...options, padding: "longest" });
      assertEquals(cut.shape, [rows, longest]);
      const expected = new Int32Array(rows * longest);
      for (let r = 0; r < rows; r++) {
        expected.set(
          full.ids.subarray(r * width, r * width + longest),
          r * longest,
        );
      }
      assertEquals(cut.ids, expected);
      // tokenLengths: up to the first EOT, where CLIP pools (earlier than the end when a text spells out
      // "<|endoftext|>"), equal under both paddings.
      const lengths = tokenLengths(full.ids, full.shape);
      assertEquals(tokenLengths(cut.ids, cut.shape), lengths);
      lengths.forEach((n, r) => {
        assertEquals(full.ids[r * width + n - 1], 49407);
        assert.ok(n <= ends[r] && !full.ids.subarray(r * width, r * width + n - 1).includes(49407));
      });
    };
    const lines = golden().map((l) => l.text);
    check(lines, { truncate: true });
    check(["a photo of a dog.", "a", "", "itap of a goldfish."]);
    check(["a " + "very ".repeat(90) + "long caption", "short"], { truncate: true, contextLength: 16 });
    // A row that fills the context is as long as max_length allows.
    assertEquals(tok.tokenize(["a " + "b ".repeat(80)], { truncate: true, padding: "longest" }).shape, [
      1,
      77,
    ]);
    assertEquals(tok.tokenize([""], { padding: "longest" }).ids, Int32Array.of(49406, 49407));
    assertThrows(
      () => tok.tokenize(["a"], { padding: "max" as unknown as "longest" }),
      TokenizerError,
      "padding must be",
    );
  },
);

sharedTest(
  "HF files written from CLIP's merges give the same vocabulary and ids (vocab+merges, tokenizer.json)",
  async () => {
    const tok = await clipTokenizer();
    const fromGz = await readVocabulary(BPE_GZ);
    const dir = await Deno.makeTempDir({ prefix: "clipkit_tok_" });
    try {
      const written = await writeHfTokenizerFiles(dir, fromGz.merges);
      assertEquals(written.vocabSize, 49408);
      const viaDir = await ClipTokenizer.load(dir);
      const viaJson = await ClipTokenizer.load(join(dir, "tokenizer.json"));
      await Deno.remove(join(dir, "vocab.json"));
      const viaDirJsonOnly = await ClipTokenizer.load(dir); // falls back to tokenizer.json
      for (const other of [viaDir, viaJson, viaDirJsonOnly]) {
        assertEquals([other.vocabSize, other.sot, other.eot], [49408, 49406, 49407]);
        assertEquals(other.tokens(), tok.tokens());
      }
      const texts = [...golden().map((l) => l.text), ...promptTexts()];
      const want = tok.tokenize(texts, { truncate: true }).ids;
      for (const other of [viaDir, viaJson, viaDirJsonOnly]) {
        assertEquals(other.tokenize(texts, { truncate: true }).ids, want);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

sharedTest(
  "fast BPE (heap) equals CLIP's loop on every word of the golden texts, prompts and long runs",
  async () => {
    const tok = await clipTokenizer();
    const vocab = await readVocabulary(BPE_GZ);
    const ranks = new Map(vocab.merges.map(([a, b], r) => [`${a} ${b}`, r]));
    const stride = vocab.decoder.length;
    const rank = new Map<number, number>();
    const merged = new Int32Array(vocab.merges.length);
    vocab.merges.forEach(([a, b], r) => {
      rank.set(vocab.encoder.get(a)! * stride + vocab.encoder.get(b)!, r);
      merged[r] = vocab.encoder.get(a + b)!;
    });
    const table = { rank, merged, stride };
    const byteChar = bytesToUnicode();
    const words = new Set<string>();
    for (const text of [...golden().map((l) => l.text), ...promptTexts()]) {
      for (const w of text.toLowerCase().split(/[^\p{L}]+/u)) if (w) words.add(w);
    }
    ["a".repeat(300), "ab".repeat(150), "aaab".repeat(50), "zzzzzzzzzzzzzzzzzzzzzz", "hahahahahahahaha"]
      .forEach((w) => words.add(w));
    assert.ok(words.size > 1000);
    for (const word of words) {
      const symbols = [...new TextEncoder().encode(word)].map((b) => byteChar[b]);
      symbols[symbols.length - 1] += END_OF_WORD;
      const steps = bpeStepsNaive(symbols, ranks);
      const naive = steps[steps.length - 1].map((s) => vocab.encoder.get(s)!);
      assertEquals(bpeMerge(symbols.map((s) => vocab.encoder.get(s)!), table), naive, word);
    }
    assertEquals(tok.bpeSteps("cats"), [["c", "a", "t", "s</w>"], ["c", "at", "s</w>"], ["c", "ats</w>"], [
      "cats</w>",
    ]]);
  },
);

Deno.test("fast BPE applies one rank everywhere before any newer pair (CLIP's order, unusual merges)", () => {
  // (ab, a) has a lower rank than (a, b), which real BPE training never produces. CLIP still merges every
  // (a, b) first: a b a b c</w> → ab ab c</w>; merging (ab, a) as soon as it appears would give aba b c</w>.
  const ids = new Map([["a", 0], ["b", 1], ["c</w>", 2], ["ab", 3], ["aba", 4]]);
  const order: [string, string][] = [["ab", "a"], ["a", "b"]];
  const stride = 8;
  const table = {
    rank: new Map(order.map(([x, y], r) => [ids.get(x)! * stride + ids.get(y)!, r])),
    merged: Int32Array.from(order.map(([x, y]) => ids.get(x + y)!)),
    stride,
  };
  const word = ["a", "b", "a", "b", "c</w>"];
  const steps = bpeStepsNaive(word, new Map(order.map(([x, y], r) => [`${x} ${y}`, r])));
  assertEquals(steps, [word, ["ab", "ab", "c</w>"]]);
  assertEquals(bpeMerge(word.map((s) => ids.get(s)!), table), [3, 3, 2]);
});

sharedTest("clean and pretokenize show the steps before BPE", async () => {
  const tok = await clipTokenizer();
  assertEquals(tok.clean("  Fish &amp;amp; CHIPS\n"), "fish & chips");
  assertEquals(tok.clean("don’t", { ftfy: false }), "don’t");
  assertEquals(tok.pretokenize("It's 12:30!"), ["it", "'s", "1", "2", ":", "3", "0", "!"]);
  assertEquals(tok.pretokenize("hello <|endoftext|> world"), ["hello", "<|endoftext|>", "world"]);
});

sharedTest("decode inverts encode up to spacing; SOT/EOT and bytes round-trip", async () => {
  const tok = await clipTokenizer();
  assertEquals(tok.decode(tok.encode("a photo of a dog.")), "a photo of a dog . ");
  assertEquals(tok.decode(tok.encode("日本語 🐶")), "日本語 🐶 ");
  assertEquals(tok.decode([tok.sot, 320, tok.eot]), "<|startoftext|>a <|endoftext|>");
  assertThrows(() => tok.decode([49408]), TokenizerError, "not in the vocabulary");
});

sharedTest("a small learned vocabulary: sot/eot come from the vocab, not CLIP's 49406/49407", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clipkit_tok_" });
  try {
    const merges: [string, string][] = [["c", "a"], ["ca", "t</w>"], ["d", "o"], ["do", "g</w>"]];
    const written = await writeHfTokenizerFiles(dir, merges);
    assertEquals(written.vocabSize, 512 + 4 + 2);
    const config = JSON.parse(await Deno.readTextFile(join(dir, "tokenizer_config.json")));
    assertEquals([config.tokenizer_class, config.model_max_length], ["CLIPTokenizer", 77]);
    const tok = await ClipTokenizer.load(dir);
    assertEquals([tok.vocabSize, tok.sot, tok.eot], [518, 516, 517]);
    const id = (token: string) => tok.tokens().indexOf(token);
    assertEquals(tok.encode("Cat"), [id("cat</w>")]);
    const { ids, shape } = tok.tokenize(["cat dog", "cats"], { contextLength: 6 });
    assertEquals(shape, [2, 6]);
    assertEquals(Array.from(ids), [
      ...[516, id("cat</w>"), id("dog</w>"), 517, 0, 0],
      ...[516, id("ca"), id("t"), id("s</w>"), 517, 0],
    ]);
    await assertRejects(writeHfTokenizerFiles(dir, [["x", "yz"]]), "no earlier merge made");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

sharedTest("truncation: error names the token count and the limit; truncate keeps EOT last", async () => {
  const tok = await clipTokenizer();
  const long = Array(100).fill("a").join(" ");
  const e = assertThrows(() => tok.tokenize(["ok", long]), ContextLengthError);
  assertEquals([e.index, e.tokenCount, e.contextLength], [1, 102, 77]);
  assert.ok(e.message.includes("102") && e.message.includes("77") && e.message.includes("truncate"));
  const { ids } = tok.tokenize(long, { truncate: true, contextLength: 10 });
  assertEquals(Array.from(ids), [49406, 320, 320, 320, 320, 320, 320, 320, 320, 49407]);
  assertEquals(Array.from(tok.tokenize("a a", { contextLength: 4 }).ids), [49406, 320, 320, 49407]);
  assertEquals(Array.from(tok.tokenize("", { contextLength: 2 }).ids), [49406, 49407]);
  assertEquals(tok.tokenize([]).shape, [0, 77]);
});

sharedTest("bad input: typed errors with a fix in the message", async () => {
  const tok = await clipTokenizer();
  const untyped = tok as unknown as {
    encode(x: unknown): number[];
    tokenize(x: unknown, o?: object): unknown;
  };
  assertThrows(() => untyped.encode(42), TokenizerError, "must be a string, got number");
  assertThrows(() => untyped.encode(null), TokenizerError, "got null");
  assertThrows(() => untyped.tokenize(["ok", 7]), TokenizerError, "text 1 must be a string");
  assertThrows(() => untyped.tokenize(undefined), TokenizerError, "must be a string");
  assertThrows(() => tok.encode("a\ud800b"), TokenizerError, "lone UTF-16 surrogate");
  assertThrows(() => tok.tokenize("x\udc00"), TokenizerError, "toWellFormed");
  for (const contextLength of [1, 0, -5, 2.5, NaN]) {
    assertThrows(() => tok.tokenize("a", { contextLength }), TokenizerError, "at least 2");
  }
  assertThrows(() => tok.bpeSteps("two words"), TokenizerError, "one word");
  assertThrows(
    () => (tok as unknown as { clean(x: unknown): string }).clean(1),
    TokenizerError,
    "got number",
  );
});

Deno.test("bad vocabulary files: missing, corrupt gzip, corrupt JSON, broken merges line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clipkit_tok_" });
  try {
    await assertRejects(ClipTokenizer.load(join(dir, "nope.txt.gz")), "nothing at");
    await assertRejects(ClipTokenizer.load(dir), "lacks vocab.json + merges.txt");
    await Deno.writeFile(join(dir, "bad.txt.gz"), new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]));
    await assertRejects(ClipTokenizer.load(join(dir, "bad.txt.gz")), "damaged");
    await Deno.writeTextFile(join(dir, "vocab.json"), "{ not json");
    await Deno.writeTextFile(join(dir, "merges.txt"), "#version: 0.2\na b\n");
    await assertRejects(ClipTokenizer.load(dir), "not valid JSON");
    await writeHfTokenizerFiles(dir, [["a", "b"]], { tokenizerJson: false });
    await Deno.writeTextFile(join(dir, "merges.txt"), "#version: 0.2\na b c\n");
    await assertRejects(ClipTokenizer.load(dir), "not two symbols");
    await Deno.writeTextFile(join(dir, "merges.txt"), "#version: 0.2\nq z\n");
    await assertRejects(ClipTokenizer.load(dir), "do not belong together");
    await Deno.writeTextFile(join(dir, "tokenizer.json"), JSON.stringify({ model: { type: "WordPiece" } }));
    await assertRejects(ClipTokenizer.load(join(dir, "tokenizer.json")), "no BPE model");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function assertRejects(promise: Promise<unknown>, includes: string): Promise<void> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof VocabularyFileError || e instanceof TokenizerError, `typed error, got ${e}`);
    assert.ok(
      (e as Error).message.includes(includes),
      `"${(e as Error).message}" should include "${includes}"`,
    );
    return;
  }
  throw new Error(`expected a rejection including "${includes}"`);
}

Deno.test("Python's html.unescape, strip, whitespace and lower", () => {
  assertEquals(htmlUnescape("fish &amp; chips"), "fish & chips");
  assertEquals(htmlUnescape("&amp &lt3 &copy 2023"), "& <3 © 2023");
  assertEquals(htmlUnescape("&notit; &notin;"), "¬it; ∉");
  assertEquals(htmlUnescape("&#0;&#128;&#x80;&#159;&#13;"), "\ufffd€€Ÿ\r");
  assertEquals(htmlUnescape("&#xD800;&#1114112;&#99999999999999999999;"), "\ufffd\ufffd\ufffd");
  assertEquals(htmlUnescape("&#1;&#xFFFF;x"), "x");
  assertEquals(htmlUnescape("&#128512;&#x1F600"), "😀😀");
  assertEquals(htmlUnescape("&unknown; & AT&T &;"), "&unknown; & AT&T &;");
  assertEquals(htmlUnescape("&acE;"), "\u223e\u0333");
  assertEquals(pyStrip("\x1c\x85 a b\u3000\u2029"), "a b");
  assertEquals(pyStrip("\ufeffa\ufeff"), "\ufeffa\ufeff");
  assertEquals(whitespaceClean(" a \t\n b\x85c\u200bd\ufeffe "), "a b c\u200bd\ufeffe");
  assertEquals(pyLower("İstanbul ΟΔΥΣΣΕΥΣ Straße ǅ"), "i̇stanbul οδυσσευς straße ǆ");
  assertEquals(pyLower("\ua7cbA"), "\ua7cba"); // a Unicode 16 capital that Python 3.11 keeps
});

Deno.test("ftfy's default fixes", () => {
  assertEquals(fixText("don’t ‘quote’ “double”"), `don't 'quote' "double"`);
  assertEquals(fixText("ＡＢＣ１２３，\u3000ｶﾀｶﾅ"), "ABC123, カタカナ");
  assertEquals(fixText("ﬁne ﬂuﬃ ǅ Ĳ"), "fine fluffi Dž IJ");
  assertEquals(fixText("a\x85b a\x80b a\x81b"), "a…b a€b a\x81b");
  assertEquals(fixText("a\x00b\x07c\x0bd\x1ce\ufefff\u206ag\t\n\f"), "abcdefg\t\n\f");
  assertEquals(fixText("\x1b[31mred\x1b[0m"), "red");
  assertEquals(fixText("cafe\u0301 a\r\nb\rc\u2028d"), "café a\nb\nc\nd");
  assertEquals(fixText("&amp;amp;amp; P&EACUTE;REZ &eacute &#59;"), "& PÉREZ &eacute &#59;");
  assertEquals(fixText("<b>&amp;</b>\n&amp;"), "<b>&amp;</b>\n&amp;"); // HTML-looking: no unescaping from here on
  assertEquals(fixText("cafÃ© Ã¼ber â€œquotedâ€\x9d"), 'café über "quoted"');
  assertEquals(fixMojibake("cafÃƒÂ©"), "café"); // double mojibake
  assertEquals(
    fixMojibake("naïve Ångström café ¡Hola! «x» °C µm ™ ® © ¼ ¾ Привет Её"),
    "naïve Ångström café ¡Hola! «x» °C µm ™ ® © ¼ ¾ Привет Её",
  ); // real text stays
  assertEquals(fixMojibake("cafÃ© naïve 日本 â€”"), "café naïve 日本 —"); // mojibake beside real text
  assertEquals(fixMojibake("ÐŸÑ€Ð¸Ð²ÐµÑ‚ ðŸ˜€ Å‚ÃƒÂ©"), "Привет 😀 łé");
  assertEquals(
    fixMojibake("voilÃ le travail, Ã s vezes, 100Â km"),
    "voilà le travail, às vezes, 100\u00a0km",
  );
  assertEquals(fixMojibake("âœ” ã\x83\x84 uÌˆnicode .â\x81”."), "✔ ツ u\u0308nicode .⁔.");
  assertEquals(fixMojibake("AHÅ™, the new sofa from IKEA®"), "AHÅ™, the new sofa from IKEA®");
  assertEquals(fixMojibake("Å er en elv"), "Å er en elv");
  for (const text of ["Charlotte Brontë…”", "JOSÉ’s", "CAFÉ…", "« café\u00a0»"]) {
    assertEquals(fixMojibake(text), text);
  }
  assertEquals(fixMojibake("\u00c0\u0080 \u00ed\u00a0\u0080"), "\u00c0\u0080 \u00ed\u00a0\u0080"); // overlong, surrogate: not UTF-8
  assertEquals(fixText(""), "");
});

Deno.test("byte alphabet: 256 distinct printable characters, CLIP's order", () => {
  const table = bytesToUnicode();
  assertEquals(new Set(table).size, 256);
  assertEquals([table[0x20], table[0x41], table[0x00], table[0xad]], ["Ġ", "A", "Ā", "Ń"]);
  const alphabet = byteAlphabet();
  assertEquals(alphabet.slice(0, 3), ["!", '"', "#"]);
  assertEquals(alphabet.length, 256);
  assertEquals(new Set(alphabet), new Set(table));
});
