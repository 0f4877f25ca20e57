/**
 * Property tests over the decoders and the tokenizer: seeded random damage to valid files and random text,
 * bounded by an iteration count (never by wall time). The property: every call either succeeds with a
 * well-formed result or throws a typed `ClipkitError` — never a TypeError, RangeError or a crash from
 * inside a codec. A failure names the seed and iteration, so it can be replayed.
 */
import { join } from "node:path";
import { ClipkitError, ContextLengthError, ImageError, TokenizerError } from "../src/errors.ts";
import { decodeImage } from "../src/image/load.ts";
import { preprocessorOptions } from "../src/image/preprocess.ts";
import { ClipTokenizer } from "../src/text/tokenizer.ts";
import { readVocabulary } from "../src/text/vocabulary.ts";
import { noiseGif, noiseJpeg, noisePng } from "./fixtures/images.ts";
import { ROOT } from "./_shared.ts";
import { assert } from "./_assert.ts";

/** Seeded PRNG (mulberry32): `next()` in [0, 1). */
function rng(seed: number): { next: () => number; int: (n: number) => number } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}

/** One random kind of damage to `bytes`. */
function mutate(bytes: Uint8Array, r: ReturnType<typeof rng>): Uint8Array {
  const out = bytes.slice();
  switch (r.int(6)) {
    case 0: // flip a few bits
      for (let k = 1 + r.int(8); k > 0; k--) out[r.int(out.length)] ^= 1 << r.int(8);
      return out;
    case 1: // truncate
      return out.subarray(0, r.int(out.length));
    case 2: { // overwrite a span with random bytes
      const at = r.int(out.length), n = 1 + r.int(64);
      for (let k = at; k < Math.min(out.length, at + n); k++) out[k] = r.int(256);
      return out;
    }
    case 3: { // insert random bytes
      const at = r.int(out.length), extra = Uint8Array.from({ length: 1 + r.int(32) }, () => r.int(256));
      const grown = new Uint8Array(out.length + extra.length);
      grown.set(out.subarray(0, at));
      grown.set(extra, at);
      grown.set(out.subarray(at), at + extra.length);
      return grown;
    }
    case 4: // damage the header (where sizes and types live)
      for (let k = 1 + r.int(4); k > 0; k--) out[r.int(Math.min(out.length, 40))] = r.int(256);
      return out;
    default: { // repeat a span (duplicated chunks or segments)
      const at = r.int(out.length), n = 1 + r.int(200);
      const span = out.slice(at, at + n);
      const grown = new Uint8Array(out.length + span.length);
      grown.set(out.subarray(0, at + span.length));
      grown.set(span, at + span.length);
      grown.set(out.subarray(at + span.length), at + 2 * span.length);
      return grown;
    }
  }
}

/** An error class of the kit (whatever its constructor takes). */
// deno-lint-ignore no-explicit-any
type ErrorClass = abstract new (...args: any[]) => ClipkitError;

/** Fail unless `error` is a ClipkitError (of `cls` when given), naming where it happened. */
function typed(error: unknown, where: string, cls: ErrorClass = ClipkitError): void {
  if (error instanceof cls) {
    assert(/Fix: \S/.test(error.message), `${where}: "${error.message}" names no fix`);
    return;
  }
  throw new Error(`${where}: expected a ${cls.name}, got ${(error as Error)?.stack ?? String(error)}`);
}

const ITERATIONS = 250;

Deno.test("fuzz: damaged PNG, JPEG and GIF bytes decode or give an ImageError", async () => {
  const sources: [string, Uint8Array][] = [
    ["png", noisePng(24, 16)],
    ["png-sample", await Deno.readFile(join(ROOT, "models", "samples", "01_red_circle.png"))],
    ["jpeg", await noiseJpeg(24, 16)],
    ["gif", await noiseGif(24, 16)],
  ];
  let decoded = 0, refused = 0;
  for (const [name, valid] of sources) {
    const r = rng(0xc11b + name.length);
    for (let i = 0; i < ITERATIONS; i++) {
      const bytes = mutate(valid, r);
      const where = `${name} iteration ${i}`;
      try {
        // a small pixel limit keeps a damaged header from asking for gigabytes
        const image = await decodeImage(bytes, { maxPixels: 1 << 20, name: where });
        assert(image.width > 0 && image.height > 0, `${where}: an image of ${image.width}×${image.height}`);
        assert(image.data.length > 0, `${where}: an image without data`);
        decoded++;
      } catch (e) {
        typed(e, where, ImageError);
        refused++;
      }
    }
  }
  assert(decoded > 0 && refused > 0, `both outcomes occur (decoded ${decoded}, refused ${refused})`);
});

Deno.test("fuzz: preprocessor configs of random shapes are accepted or give a typed error", () => {
  const r = rng(7);
  const values = [
    undefined,
    null,
    0,
    -1,
    3.5,
    224,
    "224",
    "abc",
    [],
    [0.5, 0.5, 0.5],
    [0, 0, 0],
    [1, 2],
    { shortest_edge: 224 },
    { height: 32, width: 64 },
    { height: 32 },
    NaN,
    true,
  ];
  const pick = () => values[r.int(values.length)];
  for (let i = 0; i < ITERATIONS; i++) {
    const config: Record<string, unknown> = {};
    for (const key of ["size", "crop_size", "image_mean", "image_std", "resample", "do_center_crop"]) {
      if (r.next() < 0.6) config[key] = pick();
    }
    try {
      const o = preprocessorOptions(config);
      assert(Number.isInteger(o.size) && o.size > 0, `iteration ${i}: size ${o.size}`);
      assert(o.mean.length === 3 && o.mean.every(Number.isFinite), `iteration ${i}: mean ${o.mean}`);
      assert(o.std.every((s) => s > 0), `iteration ${i}: std ${o.std}`);
    } catch (e) {
      typed(e, `preprocessor config ${JSON.stringify(config)} (iteration ${i})`);
    }
  }
});

/** Pieces of text that stress a tokenizer. */
const PIECES = [
  "a photo of a ",
  "dog",
  "  ",
  "\t\n",
  "ÄÖÜß",
  "naïve café",
  "北京",
  "😀👍🏽",
  "\u0301\u0308",
  "\u0000",
  "\uD800", // a lone surrogate
  "\uDC00x",
  "&amp;&lt;&#39;&#x1F600;&bogus;",
  "don't",
  "'s",
  "12:30",
  "ｆｕｌｌｗｉｄｔｈ",
  "\u200b\ufeff",
  "â€™", // mojibake
  "x".repeat(300),
  "<|startoftext|>",
  "<|endoftext|>",
  "!!!???",
];

Deno.test("fuzz: random texts tokenize (or give a TokenizerError); random ids decode or give one", async () => {
  const tokenizer = await ClipTokenizer.load(join(ROOT, "models", "tiny-clip"));
  const r = rng(77);
  for (let i = 0; i < ITERATIONS * 2; i++) {
    let text = "";
    for (let k = r.int(12); k > 0; k--) text += PIECES[r.int(PIECES.length)];
    if (r.next() < 0.3) text += String.fromCharCode(r.int(0x10000));
    const where = `text ${JSON.stringify(text.slice(0, 80))} (iteration ${i})`;
    try {
      const ids = tokenizer.encode(text);
      assert(
        ids.every((id) => Number.isInteger(id) && id >= 0 && id < tokenizer.vocabSize),
        `${where}: ids ${ids}`,
      );
      tokenizer.decode(ids);
    } catch (e) {
      typed(e, where, TokenizerError);
    }
    for (const truncate of [false, true]) {
      try {
        const { ids, shape } = tokenizer.tokenize([text], { contextLength: 24, truncate });
        assert(shape[0] === 1 && shape[1] === 24 && ids.length === 24, `${where}: shape ${shape}`);
        assert(ids[0] === tokenizer.sot, `${where}: starts with SOT`);
      } catch (e) {
        assert(!truncate || !(e instanceof ContextLengthError), `${where}: truncate still threw ${e}`);
        typed(e, `${where} truncate ${truncate}`, TokenizerError);
      }
    }
    const ids = Array.from(
      { length: r.int(10) },
      () => [r.int(tokenizer.vocabSize), -1, 1.5, 1e9, NaN][r.int(5)],
    );
    try {
      assert(typeof tokenizer.decode(ids) === "string");
    } catch (e) {
      typed(e, `decode ${JSON.stringify(ids)} (iteration ${i})`, TokenizerError);
    }
  }
  for (const bad of [42, null, undefined, {}, ["a"], Symbol.iterator]) {
    try {
      tokenizer.encode(bad as unknown as string);
      throw new Error(`encode(${String(bad)}) returned`);
    } catch (e) {
      typed(e, `encode(${String(bad)})`, TokenizerError);
    }
  }
});

Deno.test("fuzz: damaged vocab.json and merges.txt load or give a TokenizerError", async () => {
  const vocab = await Deno.readFile(join(ROOT, "models", "tiny-clip", "vocab.json"));
  const merges = await Deno.readFile(join(ROOT, "models", "tiny-clip", "merges.txt"));
  const dir = await Deno.makeTempDir({ prefix: "clipkit-fuzz-vocab-" });
  const r = rng(4242);
  try {
    for (let i = 0; i < 60; i++) {
      const hurtVocab = r.next() < 0.5;
      await Deno.writeFile(join(dir, "vocab.json"), hurtVocab ? mutate(vocab, r) : vocab);
      await Deno.writeFile(join(dir, "merges.txt"), hurtVocab && r.next() < 0.5 ? merges : mutate(merges, r));
      try {
        const tok = new ClipTokenizer(await readVocabulary(dir));
        tok.encode("a red circle");
      } catch (e) {
        typed(e, `vocabulary files, iteration ${i}`, TokenizerError);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
