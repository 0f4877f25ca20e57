/**
 * The bad-input corpus: what a new user gets wrong, made as files under a temporary folder (broken images,
 * model folders with one thing wrong, damaged caches, CLI arguments), and for each case the answer the kit
 * must give — a typed `ClipkitError` whose message names the problem and a fix, or the documented result.
 *
 * Groups: silently wrong numbers (caches keyed by everything that changes them, checksums, self-healing
 * files, PCA, ranking), crashes that must be clear errors (model folders, configs, encoders, heads, losses,
 * tokenizer files), figures that adapt to their size, URL downloads with limits (a local server on
 * 127.0.0.1), and every command line (one line on stderr, non-zero exit, `--help` listing every flag).
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  BackendError,
  CacheError,
  ClipkitError,
  ImageError,
  InputError,
  MatrixShapeError,
  MissingModelFileError,
  ModelLoadError,
  NonFiniteError,
  PlotInputError,
  RasterError,
  TemperatureError,
  TemplateError,
  VocabularyFileError,
} from "../src/errors.ts";
import { ClipModel } from "../src/model/clip_model.ts";
import { Matrix } from "../src/math/matrix.ts";
import { argmaxRows, topK } from "../src/math/similarity.ts";
import { clipLoss, sigLipLoss } from "../src/math/loss.ts";
import { zeroShotClassifier } from "../src/zeroshot/classifier.ts";
import {
  CACHE_ENV,
  defaultCacheDir,
  TextEmbeddingCache,
  type TextEncoderLike,
} from "../src/zeroshot/text_cache.ts";
import { contentHash, ImageEmbeddingCache } from "../src/zeroshot/image_cache.ts";
import { decodeImage, loadImage } from "../src/image/load.ts";
import { ClipTokenizer } from "../src/text/tokenizer.ts";
import { writeHfTokenizerFiles } from "../src/text/vocabulary.ts";
import { plots } from "../src/plot/mod.ts";
import { pca2 } from "../src/plot/pca.ts";
import { MAX_PNG_SIDE } from "../src/plot/raster.ts";
import { xTicks } from "../src/plot/ticks.ts";
import { DEMO_COMMAND } from "../src/cli/demo.ts";
import { FETCH_MODEL_COMMAND } from "../src/cli/fetch_model.ts";
import { ZEROSHOT_COMMAND } from "../src/cli/zeroshot.ts";
import { EMBED_COMMAND } from "../src/cli/embed.ts";
import { SEARCH_COMMAND } from "../src/cli/search.ts";
import type { CommandSpec } from "../src/cli/args.ts";
import { noisePng } from "./fixtures/images.ts";
import { ROOT, shared, sharedTest } from "./_shared.ts";
import { assert, assertEquals } from "./_assert.ts";

// deno-lint-ignore no-explicit-any
type ErrorClass = new (...args: any[]) => ClipkitError;

const TINY = join(ROOT, "models", "tiny-clip");
const SAMPLE = join(ROOT, "models", "samples", "01_red_circle.png");
/** The corpus: every file the cases below make lives here. */
const CORPUS = await Deno.makeTempDir({ prefix: "clipkit-bad-input-" });

/**
 * `run` must fail with an error of class `cls` (a ClipkitError) whose message matches `problem` and carries
 * a fix (`Fix: …`, also in `error.fix`).
 */
async function expectError(run: () => unknown, cls: ErrorClass, problem: RegExp): Promise<void> {
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  assert(error !== undefined, `expected ${cls.name} (${problem}), but nothing was thrown`);
  assert(error instanceof ClipkitError, `expected a ClipkitError, got ${String(error)}`);
  assert(
    error instanceof cls,
    `expected ${cls.name}, got ${(error as Error).name}: ${(error as Error).message}`,
  );
  const e = error as ClipkitError;
  assert(problem.test(e.message), `message "${e.message}" does not match ${problem}`);
  assert(/\. Fix: \S/.test(e.message) && !!e.fix, `message "${e.message}" names no fix`);
}

/** A copy of the shipped model's folder (ONNX graphs linked, not copied) with edits. */
async function modelFolder(
  name: string,
  edit: {
    config?: (c: Record<string, unknown>) => void;
    preprocess?: (p: Record<string, unknown>) => void;
    tokenizer?: boolean;
  } = {},
): Promise<string> {
  const dir = join(CORPUS, "models", name);
  await Deno.mkdir(dir, { recursive: true });
  const config = JSON.parse(await Deno.readTextFile(join(TINY, "config.json")));
  edit.config?.(config);
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config));
  const pre = JSON.parse(await Deno.readTextFile(join(TINY, "preprocessor_config.json")));
  edit.preprocess?.(pre);
  await Deno.writeTextFile(join(dir, "preprocessor_config.json"), JSON.stringify(pre));
  if (edit.tokenizer !== false) {
    for (const f of ["vocab.json", "merges.txt"]) await Deno.copyFile(join(TINY, f), join(dir, f));
  }
  await Deno.symlink(join(TINY, "onnx"), join(dir, "onnx"));
  return dir;
}

/** A text encoder without ONNX: deterministic vectors from the text, counting what it encodes. */
function fakeEncoder(id = "fake-encoder-v1"): TextEncoderLike & { encoded: number } {
  const self = {
    id,
    logitScale: 100,
    encoded: 0,
    encodeText(texts: string[]): Promise<Matrix> {
      self.encoded += texts.length;
      return Promise.resolve(
        Matrix.fromRows(texts.map((t) => {
          const h = createHash("sha256").update(t).digest();
          return Array.from({ length: 8 }, (_, k) => h[k] / 255 - 0.5);
        })),
      );
    },
  };
  return self;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Where {@link TextEmbeddingCache} keeps the file of `texts` (all distinct) for a model id. */
function textCacheFile(cache: TextEmbeddingCache, id: string, texts: string[]): string {
  return join(cache.modelDir(id), `${sha256(JSON.stringify(texts)).slice(0, 32)}.bin`);
}

/** A cache that collects its notices instead of printing them. */
function quietTextCache(dir: string): { cache: TextEmbeddingCache; notices: string[] } {
  const notices: string[] = [];
  return { cache: new TextEmbeddingCache(dir, { onNotice: (m) => notices.push(m) }), notices };
}

// ── 1. caches keyed by everything that changes the numbers ──────────────────────────────────────────────

Deno.test("bad input: the prompt cache tells tokenizers apart (same graphs, other vocabulary → other embeddings)", async () => {
  // A second, smaller vocabulary for the same graphs (516 ids ≤ the model's 687).
  const otherTokenizer = join(CORPUS, "other-tokenizer");
  await writeHfTokenizerFiles(otherTokenizer, [["c", "i"], ["ci", "r"], ["s", "q"]]);
  const own = await ClipModel.load(TINY);
  const other = await ClipModel.load(TINY, { tokenizer: otherTokenizer });
  try {
    assert(own.id !== other.id, "the model id covers the tokenizer");
    const dir = await Deno.makeTempDir({ dir: CORPUS });
    const classes = ["red circle", "blue square"], prompts = ["a photo of a {}."];
    const first = await zeroShotClassifier(own, classes, prompts, { cache: dir });
    const second = await zeroShotClassifier(other, classes, prompts, { cache: dir });
    const truth = await zeroShotClassifier(other, classes, prompts, { cache: false });
    assertEquals(Array.from(second.weights.data), Array.from(truth.weights.data));
    assert(
      Array.from(first.weights.data).some((v, k) => Math.abs(v - truth.weights.data[k]) > 1e-3),
      "the two tokenizers give different heads (else the test shows nothing)",
    );
  } finally {
    await own.dispose();
    await other.dispose();
  }
});

sharedTest(
  "bad input: the PyTorch fixture with CLIP's vocabulary and with another tokenizer gets two cache keys",
  async () => {
    const fixture = shared("fixtures", "clip-tiny-torch");
    const clip = await ClipModel.load(fixture, { tokenizer: shared("clip", "bpe_simple_vocab_16e6.txt.gz") });
    const tiny = await ClipModel.load(fixture, { tokenizer: TINY });
    try {
      assert(clip.id !== tiny.id);
      const dir = await Deno.makeTempDir({ dir: CORPUS });
      await zeroShotClassifier(clip, ["circle", "square"], ["a {}."], { cache: dir });
      const cached = await zeroShotClassifier(tiny, ["circle", "square"], ["a {}."], { cache: dir });
      const fresh = await zeroShotClassifier(tiny, ["circle", "square"], ["a {}."], { cache: false });
      assertEquals(Array.from(cached.weights.data), Array.from(fresh.weights.data));
    } finally {
      await clip.dispose();
      await tiny.dispose();
    }
  },
);

Deno.test("bad input: the model id also covers preprocessing and context length (image cache keys)", async () => {
  const plain = await ClipModel.load(TINY);
  const dir = await modelFolder("other-mean", {
    preprocess: (p) => p.image_mean = [0.5, 0.5, 0.5],
  });
  const otherMean = await ClipModel.load(dir);
  try {
    assert(plain.id !== otherMean.id, "preprocessing changes image embeddings, so the id");
  } finally {
    await plain.dispose();
    await otherMean.dispose();
  }
});

// ── 2 and 3. checksums, self-healing files, clear file-system errors ────────────────────────────────────

Deno.test("bad input: text cache — flipped bytes, truncation, a garbled index or an old format are dropped and rebuilt", async (t) => {
  const texts = ["a red circle", "a blue square", "a green star"];
  const damage: Record<string, (b: Uint8Array) => Uint8Array> = {
    "flipped payload bytes": (b) => {
      const c = b.slice();
      for (let k = c.length - 16; k < c.length; k++) c[k] ^= 0x5a;
      return c;
    },
    "truncated file": (b) => b.slice(0, b.length - 7),
    "garbled index": (b) => {
      const c = b.slice();
      c.fill(0x7b, 12, 40); // "{{{{…" where the JSON index starts
      return c;
    },
    "older format": (b) => {
      const c = b.slice();
      c[7] = "1".charCodeAt(0); // CLIPKTC1
      return c;
    },
    "empty file": () => new Uint8Array(0),
  };
  for (const [name, hurt] of Object.entries(damage)) {
    await t.step(name, async () => {
      const { cache, notices } = quietTextCache(await Deno.makeTempDir({ dir: CORPUS }));
      const model = fakeEncoder();
      const truth = await cache.encode(model, texts);
      const file = textCacheFile(cache, model.id, texts);
      await Deno.writeFile(file, hurt(await Deno.readFile(file)));
      const again = await cache.encode(model, texts);
      assertEquals(Array.from(again.data), Array.from(truth.data)); // never the damaged numbers
      assertEquals(cache.dropped, 1);
      assertEquals(model.encoded, 2 * texts.length); // recomputed
      assert(notices.length === 1 && notices[0].includes(file), `one notice naming the file: ${notices}`);
      await cache.encode(model, texts); // healed: read whole from disk, nothing dropped
      assertEquals([cache.lastStats.wholeFile, cache.dropped, model.encoded], [true, 1, 6]);
    });
  }
  await t.step("a damaged file of another list is skipped when assembling, and removed", async () => {
    const { cache } = quietTextCache(await Deno.makeTempDir({ dir: CORPUS }));
    const model = fakeEncoder();
    await cache.encode(model, texts);
    const file = textCacheFile(cache, model.id, texts);
    const bytes = await Deno.readFile(file);
    await Deno.writeFile(file, bytes.slice(0, bytes.length - 4)); // header intact, payload short
    const part = await cache.encode(model, [texts[0], "a yellow moon"]);
    assertEquals(part.rows, 2);
    assertEquals(cache.dropped, 1);
    assertEquals(await Deno.stat(file).then(() => true, () => false), false);
  });
});

Deno.test("bad input: text cache — folders and files in the wrong places are CacheErrors with a fix", async (t) => {
  const texts = ["a red circle"];
  await t.step("a folder where a cache file should be", async () => {
    const cache = new TextEmbeddingCache(await Deno.makeTempDir({ dir: CORPUS }));
    const model = fakeEncoder();
    await Deno.mkdir(textCacheFile(cache, model.id, texts), { recursive: true });
    await expectError(
      () => cache.encode(model, texts),
      CacheError,
      /a folder is where a cache file should be/,
    );
  });
  await t.step("a file where the model's cache folder should be", async () => {
    const cache = new TextEmbeddingCache(await Deno.makeTempDir({ dir: CORPUS }));
    const model = fakeEncoder();
    await Deno.writeTextFile(cache.modelDir(model.id), "not a folder");
    await expectError(
      () => cache.encode(model, texts),
      CacheError,
      /a file is where a cache folder should be/,
    );
  });
  await t.step("CLIPKIT_CACHE names a file", async () => {
    const file = join(CORPUS, "cache-is-a-file");
    await Deno.writeTextFile(file, "");
    // Set, read and restore without an await in between: the environment is shared with other tests.
    const before = Deno.env.get(CACHE_ENV);
    let thrown: unknown;
    Deno.env.set(CACHE_ENV, file);
    try {
      defaultCacheDir();
    } catch (e) {
      thrown = e;
    } finally {
      if (before === undefined) Deno.env.delete(CACHE_ENV);
      else Deno.env.set(CACHE_ENV, before);
    }
    await expectError(
      () => {
        if (thrown) throw thrown;
      },
      CacheError,
      /CLIPKIT_CACHE names a file/,
    );
  });
  await t.step("an encoder without an id", async () => {
    const cache = new TextEmbeddingCache(await Deno.makeTempDir({ dir: CORPUS }));
    await expectError(() => cache.encode({ ...fakeEncoder(), id: "" }, texts), CacheError, /has no id/);
  });
});

Deno.test("bad input: image cache — a damaged segment is dropped (never returned), the rest still served", async (t) => {
  const h1 = contentHash(new Uint8Array([1])), h2 = contentHash(new Uint8Array([2]));
  const segmentName = (hashes: string[]) => `${sha256(hashes.join("")).slice(0, 16)}.bin`;
  for (
    const [name, hurt] of Object.entries({
      "flipped bytes": (b: Uint8Array) => {
        const c = b.slice();
        c[c.length - 3] ^= 0xff;
        return c;
      },
      "truncated": (b: Uint8Array) => b.slice(0, b.length - 5),
      "older format": (b: Uint8Array) => {
        const c = b.slice();
        c[7] = "1".charCodeAt(0);
        return c;
      },
    })
  ) {
    await t.step(name, async () => {
      const dir = await Deno.makeTempDir({ dir: CORPUS });
      const writer = new ImageEmbeddingCache(dir);
      await writer.store("m", [h1], Matrix.fromRows([[0.25, 0.5]]));
      await writer.store("m", [h2], Matrix.fromRows([[0.75, 1]]));
      const file = join(dir, "m", segmentName([h1]));
      await Deno.writeFile(file, hurt(await Deno.readFile(file)));
      const notices: string[] = [];
      const reader = new ImageEmbeddingCache(dir, { onNotice: (m) => notices.push(m) });
      const [a, b] = await reader.lookup("m", [h1, h2]);
      assertEquals(a, undefined);
      assertEquals(Array.from(b!), [0.75, 1]);
      assertEquals(reader.stats.dropped, 1);
      assert(notices.length === 1 && notices[0].includes(file));
    });
  }
  await t.step("a folder where a segment file should be", async () => {
    const dir = await Deno.makeTempDir({ dir: CORPUS });
    await Deno.mkdir(join(dir, "m", segmentName([h1])), { recursive: true });
    const cache = new ImageEmbeddingCache(dir);
    await expectError(
      () => cache.store("m", [h1], Matrix.fromRows([[1, 2]])),
      CacheError,
      /a folder is where/,
    );
  });
  await t.step("a hash that is not one", async () => {
    const cache = new ImageEmbeddingCache(await Deno.makeTempDir({ dir: CORPUS }));
    await expectError(
      () => cache.store("m", ["abc"], Matrix.fromRows([[1, 2]])),
      InputError,
      /not 64 hex digits/,
    );
  });
});

// ── 4 and 5. PCA, ranking, heads, logit scales ──────────────────────────────────────────────────────────

Deno.test("bad input: rank-deficient data — PCA's second component is orthogonal and explains 0%", () => {
  const { explained } = pca2([[1, 2, 3], [3, 2, 1]]);
  assertEquals(explained.map((e) => Number(e.toFixed(6))), [1, 0]);
  const svg = plots.embeddingMap([[1, 0, 0.2]], [[0.3, 0.9, 0.1]]).toSvg();
  assert(svg.includes("PC1 (100%"), "PC1 explains everything");
  assert(svg.includes("PC2 (0%"), "PC2 explains nothing, instead of a second 100%");
});

Deno.test("bad input: ranking, heads and logit scales", async (t) => {
  await t.step(
    "topK of a row holding NaN",
    () => expectError(() => topK(Matrix.fromRows([[0.1, NaN, 0.3]]), 1), NonFiniteError, /\[0, 1\] is NaN/),
  );
  const model = fakeEncoder();
  await t.step("argmaxRows of a row holding NaN: the documented result, torch.argmax's", () => {
    assertEquals(Array.from(argmaxRows(Matrix.fromRows([[1, NaN, 3], [NaN, 5, 2], [0, 2, 1]]))), [
      1,
      0,
      1,
    ]);
  });
  await t.step("duplicate class names", () =>
    expectError(
      () => zeroShotClassifier(model, ["cat", "dog", "cat"], ["a {}."], { cache: false }),
      TemplateError,
      /"cat" is in class 0 and class 2/,
    ));
  await t.step("a synonym repeated in another class", () =>
    expectError(
      () => zeroShotClassifier(model, [["cat", "kitty"], ["kitty"]], ["a {}."], { cache: false }),
      TemplateError,
      /"kitty" is in class 0 and class 1/,
    ));
  await t.step("one string instead of a list of classes", () =>
    expectError(
      () => zeroShotClassifier(model, "red circle" as unknown as string[], ["a {}."], { cache: false }),
      TemplateError,
      /the class list is one string, "red circle"/,
    ));
  await t.step("duplicate class names, kept on purpose: the documented result (an even split)", async () => {
    const kept = await zeroShotClassifier(model, ["cat", "dog", "cat"], ["a {}."], {
      cache: false,
      allowDuplicateNames: true,
    });
    const p = (await kept.probabilities(Matrix.fromRows([Array.from(kept.weights.row(0))]))).row(0);
    assert(Math.abs(p[0] - p[2]) < 1e-6, `the two "cat" classes split evenly: ${Array.from(p)}`);
  });
  const head = await zeroShotClassifier(model, ["cat", "dog"], ["a {}."], { cache: false });
  await t.step("predict on a plain { rows, cols, data } object", () =>
    expectError(
      () =>
        head.predict(
          { rows: 1, cols: 8, data: new Float32Array(8) } as unknown as Matrix,
        ),
      InputError,
      /plain \{ rows, cols, data \} object, not a Matrix/,
    ));
  await t.step(
    "Matrix.fromRows of strings",
    () =>
      expectError(
        () => Matrix.fromRows([["0.1", "0.2"]] as unknown as number[][]),
        MatrixShapeError,
        /"0\.1", not a number/,
      ),
  );
  await t.step("clipLoss without options", () =>
    expectError(
      () =>
        (clipLoss as unknown as (a: Matrix, b: Matrix) => unknown)(
          Matrix.fromRows([[1, 0]]),
          Matrix.fromRows([[0, 1]]),
        ),
      TemperatureError,
      /clipLoss\(images, texts, options\) needs its options/,
    ));
  await t.step("sigLipLoss without options", () =>
    expectError(
      () =>
        (sigLipLoss as unknown as (a: Matrix, b: Matrix) => unknown)(
          Matrix.fromRows([[1, 0]]),
          Matrix.fromRows([[0, 1]]),
        ),
      TemperatureError,
      /sigLipLoss/,
    ));
});

// ── crashes deep inside → clear errors: model folders, configs, encoders, tokenizer files ───────────────

Deno.test("bad input: model folders and configs", async (t) => {
  const cases: [string, () => Promise<string>, ErrorClass, RegExp][] = [
    [
      "a file path instead of the folder",
      () => Promise.resolve(join(TINY, "config.json")),
      ModelLoadError,
      /takes a model directory, but this is a file/,
    ],
    [
      "logit_scale: -5",
      () => modelFolder("negative-scale", { config: (c) => c.logit_scale = -5 }),
      ModelLoadError,
      /logit_scale is -5.*must be above 0/,
    ],
    [
      'logit_scale: "big"',
      () => modelFolder("string-scale", { config: (c) => c.logit_scale = "big" }),
      ModelLoadError,
      /logit_scale is "big", not a finite number/,
    ],
    [
      'image_mean: "abc"',
      () => modelFolder("string-mean", { preprocess: (p) => p.image_mean = "abc" }),
      ModelLoadError,
      /preprocessor_config\.json cannot be used: mean and std must be 3 finite numbers/,
    ],
    [
      "image_std: [0, 1, 1]",
      () => modelFolder("zero-std", { preprocess: (p) => p.image_std = [0, 1, 1] }),
      ModelLoadError,
      /std > 0/,
    ],
    [
      "config.json is a folder",
      async () => {
        const dir = await modelFolder("config-folder");
        await Deno.remove(join(dir, "config.json"));
        await Deno.mkdir(join(dir, "config.json"));
        return dir;
      },
      ModelLoadError,
      /it is a folder, not a file/,
    ],
    [
      "no tokenizer files",
      () => modelFolder("no-tokenizer", { tokenizer: false }),
      MissingModelFileError,
      /no tokenizer.*--tokenizer PATH/s,
    ],
  ];
  for (const [name, make, cls, problem] of cases) {
    await t.step(name, async () => {
      const dir = await make();
      await expectError(() => ClipModel.load(dir), cls, problem);
    });
  }
  await t.step("a vocabulary larger than the model's", async () => {
    const clip = shared("clip", "bpe_simple_vocab_16e6.txt.gz");
    if (!(await Deno.stat(clip).then(() => true, () => false))) return; // ../shared absent (test/_shared.ts)
    const model = await ClipModel.load(TINY, { tokenizer: clip });
    const ids = JSON.parse(await Deno.readTextFile(join(TINY, "config.json"))).text_config.vocab_size;
    try {
      assertEquals(model.tokenizerMismatch, true);
      assert(ids < 49408, `the tiny model's vocabulary (${ids} ids) is smaller than CLIP's`);
      await expectError(
        () => model.encodeText(["a photo of a dog"]),
        VocabularyFileError,
        new RegExp(`past the text tower's ${ids} ids.*the tokenizer has 49408 ids`),
      );
    } finally {
      await model.dispose();
    }
  });
  await t.step(
    "an unknown backend",
    () => expectError(() => ClipModel.load(TINY, { backend: "bogus" as "auto" }), BackendError, /bogus/),
  );
});

Deno.test("bad input: encoders — null images, bytes that are no image, use after dispose", async (t) => {
  const model = await ClipModel.load(TINY);
  try {
    await t.step(
      "encodeImages([null])",
      () =>
        expectError(() => model.encodeImages([null as unknown as string]), InputError, /image #0 is null/),
    );
    await t.step(
      "encodeImages of a truncated PNG",
      () =>
        expectError(() => model.encodeImages([noisePng(16, 16).subarray(0, 40)]), ImageError, /the PNG file/),
    );
    await t.step(
      "encodeText of a number",
      () => expectError(() => model.encodeText([42 as unknown as string]), InputError, /text #0 is a number/),
    );
  } finally {
    await model.dispose();
  }
  await t.step(
    "encodeText after dispose()",
    () =>
      expectError(
        () => model.encodeText(["a red circle"]),
        InputError,
        /encodeText was called after model\.dispose\(\)/,
      ),
  );
  await t.step(
    "encodeImages after dispose()",
    () => expectError(() => model.encodeImages([SAMPLE]), InputError, /after model\.dispose\(\)/),
  );
  await model.dispose(); // a second dispose is harmless
});

Deno.test("bad input: tokenizer files", async (t) => {
  const tok = await ClipTokenizer.load(TINY);
  await t.step("writeHfTokenizerFiles(dir, tok.merges)", () =>
    expectError(
      () =>
        writeHfTokenizerFiles(
          join(CORPUS, "merges-table"),
          (tok as unknown as { merges: [string, string][] }).merges,
        ),
      VocabularyFileError,
      /merges must be a list of \[left, right\] pairs, got object/,
    ));
  await t.step("a merge that is one string", () =>
    expectError(
      () => writeHfTokenizerFiles(join(CORPUS, "merge-string"), ["c a"] as unknown as [string, string][]),
      VocabularyFileError,
      /merge 0 is "c a", not a \[left, right\] pair/,
    ));
});

// ── 6. figures that adapt to their size ─────────────────────────────────────────────────────────────────

/** Width and height of PNG bytes, from IHDR. */
function pngSize(png: Uint8Array): [number, number] {
  const view = new DataView(png.buffer, png.byteOffset);
  return [view.getUint32(16), view.getUint32(20)];
}

Deno.test("bad input: figures — default labels, big matrices, many classes", async (t) => {
  await t.step("default labels name the thing, not the option", () => {
    const heat = plots.similarityHeatmap([[0.3, 0.1], [0.1, 0.3]]).toSvg();
    const map = plots.embeddingMap([[1, 0], [0, 1]], [[1, 0.1], [0.1, 1]], { labels: true }).toSvg();
    const bars = plots.zeroShotBars([[{ label: "cat", score: 0.9 }]]).toSvg();
    for (const svg of [heat, map, bars]) {
      for (const leak of ["imageLabels 1", "textLabels 1", "captions 1", "texts 1"]) {
        assert(!svg.includes(leak), `no "${leak}" in the figure`);
      }
    }
    assert(heat.includes("text 1") && heat.includes("image 1"));
    assert(map.includes("image 1") && map.includes("text 1"));
    assert(bars.includes("image 1"));
  });
  await t.step("a 200×200 heatmap drops the cell numbers and thins its labels; its PNG stays small", () => {
    const n = 200;
    const S = Array.from(
      { length: n },
      (_, i) => Array.from({ length: n }, (_, j) => Math.cos(i * 0.1 - j * 0.05)),
    );
    const fig = plots.similarityHeatmap(S, { texts: S.map((_, i) => `caption ${i}`) });
    const svg = fig.toSvg();
    assert(!svg.includes(">0.99<") && !svg.includes(">-0.99<"), "no per-cell numbers");
    assert(svg.includes("too small for their values"), "the subtitle says so");
    assert(svg.includes("caption 0") && !svg.includes(">caption 1<"), "one row label in k");
    const [w, h] = pngSize(fig.toPng({ scale: 2 }));
    assert(w <= 3000 && h <= 3000, `a ${w}×${h} PNG`);
  });
  await t.step("a slanted first column label fits in the left margin", () => {
    const labels = ["a_really_long_image_file_name", "b", "c"];
    const plan = xTicks(labels.map((l) => l.slice(0, 18)), 80, 14);
    assertEquals(plan.rotate, -40);
    const fig = plots.similarityHeatmap([[0.3, 0.1, 0.2]], { texts: ["a"], imageLabels: labels });
    assert(
      fig.width >= plan.overhangLeft,
      `the figure (${fig.width} px) holds the label's ${plan.overhangLeft} px`,
    );
  });
  await t.step("an 80-class confusion matrix writes at most one label per line of text", () => {
    const k = 80;
    const C = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? 5 : 0)));
    const svg = plots.confusionMatrix(C, { labels: Array.from({ length: k }, (_, i) => `class number ${i}`) })
      .toSvg();
    const shown = (svg.match(/>class number \d+</g) ?? []).length;
    assert(shown > 0 && shown <= k, `${shown} labels on both axes for ${k} classes`);
    assert(svg.includes("one class label in 2 shown"));
  });
  await t.step("savePng into a folder that does not exist", () =>
    expectError(
      () => plots.confusionMatrix([[1, 0], [0, 1]]).savePng(join(CORPUS, "no", "such", "figure.png")),
      RasterError,
      /its folder does not exist/,
    ));
  await t.step("a PNG request beyond the cap is drawn at a lower scale", () => {
    const fig = plots.confusionMatrix([[1, 0], [0, 1]]);
    const warn = console.warn;
    const said: string[] = [];
    console.warn = (m: string) => said.push(m);
    try {
      const [w, h] = pngSize(fig.toPng({ scale: 16 }));
      assert(Math.max(w, h) <= MAX_PNG_SIDE, `${w}×${h}`);
      assert(said.some((m) => m.includes("drawn at scale")), "and says so");
    } finally {
      console.warn = warn;
    }
  });
  await t.step(
    "trainingCurves accepts the shipped curve.json and the classic training.json; a wrong history is a PlotInputError",
    async () => {
      for (
        const file of [join(TINY, "curve.json"), join(ROOT, "models", "tiny-clip-classic", "training.json")]
      ) {
        const log = JSON.parse(await Deno.readTextFile(file));
        const svg = plots.trainingCurves(log, { smooth: 20 }).toSvg();
        assert(svg.includes("train") && svg.includes("validation"), `both series drawn (${file})`);
      }
      await expectError(
        () => plots.trainingCurves({ nothing: 1 } as never),
        PlotInputError,
        /no curve, loss_every_10_steps/,
      );
    },
  );
});

// ── URLs: time limit, size limit, header checked as bytes arrive ────────────────────────────────────────

Deno.test("bad input: loadImage(url) — a silent server, a bomb header, an endless body, limits that are not numbers", async (t) => {
  const bombHeader = noisePng(8, 8).slice(0, 33);
  new DataView(bombHeader.buffer).setUint32(16, 100_000); // IHDR width
  new DataView(bombHeader.buffer).setUint32(20, 100_000); // IHDR height (the CRC is not checked this early)
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/silent") {
      return new Promise<Response>((resolve) =>
        req.signal.addEventListener("abort", () => resolve(new Response(null)))
      );
    }
    const endless = (first: Uint8Array) => {
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        pull(c) {
          c.enqueue(sent++ === 0 ? first : new Uint8Array(64 * 1024));
          if (sent > 512) c.close(); // 32 MiB at most, should the client not stop
        },
      });
    };
    if (path === "/ok") { // a good image in 7-byte chunks: the header check waits for enough of them
      const png = noisePng(8, 8);
      let at = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(c) {
            c.enqueue(png.slice(at, at + 7));
            at += 7;
            if (at >= png.length) c.close();
          },
        }),
      );
    }
    if (path === "/bomb") return new Response(endless(bombHeader));
    if (path === "/huge") return new Response(endless(noisePng(8, 8).slice(0, 33)));
    if (path === "/announced") {
      return new Response(new Uint8Array(10), { headers: { "content-length": "10" } });
    }
    return new Response("no", { status: 404 });
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    await t.step("a good image in small chunks decodes", async () => {
      const image = await loadImage(`${base}/ok`, { timeoutMs: 5000 });
      assertEquals([image.width, image.height, image.mode], [8, 8, "RGB"]);
    });
    await t.step(
      "a server that never answers",
      () =>
        expectError(
          () => loadImage(`${base}/silent`, { timeoutMs: 300 }),
          ImageError,
          /no complete answer within 300 ms/,
        ),
    );
    await t.step(
      "a bomb header, refused before the body ends",
      () =>
        expectError(
          () => loadImage(`${base}/bomb`),
          ImageError,
          /declares 100000×100000.*the download was stopped/,
        ),
    );
    await t.step(
      "a body past maxBytes",
      () =>
        expectError(
          () => loadImage(`${base}/huge`, { maxBytes: 1 << 20 }),
          ImageError,
          /passed 1048576 bytes/,
        ),
    );
    await t.step(
      "a content-length past maxBytes",
      () =>
        expectError(() => loadImage(`${base}/announced`, { maxBytes: 5 }), ImageError, /announces 10 bytes/),
    );
    await t.step("HTTP 404", () => expectError(() => loadImage(`${base}/missing`), ImageError, /HTTP 404/));
    await t.step(
      "maxPixels: NaN",
      () =>
        expectError(
          () => loadImage(SAMPLE, { maxPixels: NaN }),
          ImageError,
          /maxPixels must be a number above 0, got NaN/,
        ),
    );
    await t.step(
      "timeoutMs: 0",
      () =>
        expectError(
          () => loadImage(`${base}/silent`, { timeoutMs: 0 }),
          ImageError,
          /timeoutMs must be a number above 0/,
        ),
    );
    await t.step(
      "decodeImage of a string",
      () =>
        expectError(() => decodeImage("a.png" as unknown as Uint8Array), ImageError, /takes a Uint8Array/),
    );
    await t.step(
      "loadImage of null",
      () => expectError(() => loadImage(null as unknown as string), ImageError, /the image source is null/),
    );
  } finally {
    await server.shutdown();
  }
});

// ── command lines: one line, non-zero exit, --help lists every flag ─────────────────────────────────────

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(script: string, ...args: string[]): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", CLIPKIT_CACHE: join(CORPUS, "cli-cache") },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** A failed run: non-zero exit, the last stderr line matches and names a fix, no stack trace anywhere. */
function assertOneLine(run: Run, code: number, problem: RegExp): void {
  assertEquals(run.code, code, `exit code (stderr: ${run.stderr})`);
  const lines = run.stderr.split("\n").map((l) => l.trim()).filter((l) => l && !l.includes("█"));
  assert(!/^\s*at /m.test(run.stderr), `a stack trace: ${run.stderr}`);
  const last = lines.at(-1) ?? "";
  assert(problem.test(last), `"${last}" does not match ${problem}`);
  assert(/Fix: \S/.test(last), `"${last}" names no fix`);
}

Deno.test("bad input: command lines print one line with a fix and exit non-zero", async (t) => {
  const truncated = join(CORPUS, "truncated.png");
  await Deno.writeFile(truncated, noisePng(16, 16).subarray(0, 40));
  const notJson = join(CORPUS, "templates.json");
  await Deno.writeTextFile(notJson, "{ templates: [a photo of a {}] }");
  const noTokenizer = await modelFolder("cli-no-tokenizer", { tokenizer: false });
  const cases: [string, string[], number, RegExp][] = [
    ["src/cli/demo.ts", ["--backend", "bogus"], 2, /^demo: --backend bogus is not one of auto, node, web/],
    ["src/cli/demo.ts", ["--top", "0"], 2, /--top must be a whole number ≥ 1/],
    ["src/cli/demo.ts", ["--bogus"], 2, /unknown option --bogus/],
    ["src/cli/demo.ts", ["--images", truncated], 1, /^demo: the PNG file .*truncated\.png/],
    ["src/cli/demo.ts", ["--templates", notJson], 1, /template file is not valid JSON/],
    ["src/cli/demo.ts", ["--model", noTokenizer], 1, /no tokenizer.*--tokenizer PATH/],
    [
      "src/cli/demo.ts",
      ["--model", "models/does-not-exist"],
      2,
      /no model at models\/does-not-exist.*fetch-model/,
    ],
    [
      "src/cli/demo.ts",
      ["--images", SAMPLE, "--captions", "a", "b"],
      2,
      /--captions has 2 texts for 1 images/,
    ],
    ["src/cli/figures.ts", ["--scale", "0"], 2, /--scale must be a number in \(0, 16\]/],
    ["src/cli/figures.ts", ["--bogus"], 2, /unknown option --bogus/],
    ["src/cli/fetch_model.ts", ["x/y", "--dtype", "int3"], 2, /--dtype int3 is not one of fp32, fp16, q8/],
    ["src/cli/zeroshot.ts", ["--backend", "bogus"], 2, /--backend bogus/],
    ["src/cli/embed.ts", ["folder", "--backend", "bogus"], 2, /--backend bogus/],
    ["src/cli/search.ts", ["out", "a query", "--backend", "bogus"], 2, /--backend bogus/],
    ["src/train/pretrain.ts", ["--steps", "many"], 2, /--steps must be a whole number/],
  ];
  for (const [script, args, code, problem] of cases) {
    await t.step(
      `${script} ${args.join(" ")}`,
      async () => assertOneLine(await cli(script, ...args), code, problem),
    );
  }
});

Deno.test("bad input: demo — labels of another count than the images are classes; the heatmap says it uses file names", async () => {
  const out = await Deno.makeTempDir({ dir: CORPUS });
  const run = await cli(
    "src/cli/demo.ts",
    "--images",
    SAMPLE,
    join(ROOT, "models", "samples", "06_blue_square.png"),
    "--labels",
    "red circle",
    "blue square",
    "green star",
    "--out",
    out,
  );
  assertEquals(run.code, 0, run.stderr);
  assert(run.stdout.includes("heatmap captions: the file names (3 labels for 2 images"), run.stdout);
});

Deno.test("bad input: --help of every command lists every flag; the README names --tokenizer", async () => {
  const specs: [string, CommandSpec][] = [
    ["src/cli/demo.ts", DEMO_COMMAND],
    ["src/cli/fetch_model.ts", FETCH_MODEL_COMMAND],
    ["src/cli/zeroshot.ts", ZEROSHOT_COMMAND],
    ["src/cli/embed.ts", EMBED_COMMAND],
    ["src/cli/search.ts", SEARCH_COMMAND],
  ];
  for (const [script, spec] of specs) {
    const run = await cli(script, "--help");
    assertEquals(run.code, 0, run.stderr);
    for (const f of spec.flags) {
      assert(run.stdout.includes(`--${f.name}`), `${script} --help lists --${f.name}`);
    }
  }
  for (
    const [script, flags] of [["src/cli/figures.ts", [
      "model",
      "tokenizer",
      "samples",
      "out",
      "scale",
      "history",
    ]]] as const
  ) {
    const run = await cli(script, "--help");
    assertEquals(run.code, 0, run.stderr);
    for (const f of flags) assert(run.stdout.includes(`--${f}`), `${script} --help lists --${f}`);
  }
  for (const spec of [DEMO_COMMAND, ZEROSHOT_COMMAND, EMBED_COMMAND, SEARCH_COMMAND]) {
    assert(spec.flags.some((f) => f.name === "tokenizer"), `${spec.name} takes --tokenizer`);
  }
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  assert(readme.includes("--tokenizer"), "the README names --tokenizer");
});

Deno.test("bad input: the corpus folder is removed", async () => {
  await Deno.remove(CORPUS, { recursive: true });
});
