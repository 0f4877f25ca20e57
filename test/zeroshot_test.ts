/**
 * Zero-shot head, prompt analysis, template sets and the text-embedding cache, with fake encoders whose
 * embeddings are built by hand so that the right answers are known; end to end with the PyTorch fixture
 * model further down. Float tolerances are stated per assertion.
 */
import { join } from "node:path";
import { Matrix } from "../src/math/matrix.ts";
import {
  CacheError,
  InputError,
  MatrixShapeError,
  NonFiniteError,
  TemperatureError,
  TemplateError,
  TopKError,
} from "../src/errors.ts";
import {
  assertTemplates,
  fillTemplate,
  loadPromptFile,
  parseTemplateFile,
  templates,
  templateSets,
} from "../src/zeroshot/templates.ts";
import { CACHE_ENV, defaultCacheDir, TextEmbeddingCache } from "../src/zeroshot/text_cache.ts";
import { classWeights, embedPrompts, zeroShotClassifier } from "../src/zeroshot/classifier.ts";
import { analyzePrompts, greedySelect } from "../src/zeroshot/prompt_analysis.ts";
import { ClipModel } from "../src/model/clip_model.ts";
import { shared, sharedTest } from "./_shared.ts";
import { assert, assertAllClose, assertEquals, assertRejects, assertThrows } from "./_assert.ts";

/**
 * A text encoder that looks each text up in a table (texts not in the table: the vector of the first table
 * key the text contains), counting how many texts it encoded.
 */
class FakeEncoder {
  encoded = 0;
  calls = 0;
  constructor(readonly table: Record<string, number[]>, readonly id = "fake", readonly logitScale = 100) {}
  encodeText(texts: string[]): Promise<Matrix> {
    this.calls++;
    this.encoded += texts.length;
    return Promise.resolve(Matrix.fromRows(texts.map((t) => {
      if (this.table[t]) return this.table[t];
      const key = Object.keys(this.table).find((k) => t.includes(k));
      if (!key) throw new Error(`fake encoder: no vector for ${JSON.stringify(t)}`);
      return this.table[key];
    })));
  }
}

const BASIS = { cat: [1, 0, 0], dog: [0, 1, 0], car: [0, 0, 1] };

Deno.test("zero-shot: hand-built classes, predictions best first with softmax(logitScale × cosine) scores", async () => {
  const model = new FakeEncoder(BASIS);
  const head = await zeroShotClassifier(model, ["cat", "dog", "car"], ["a photo of a {}."], { cache: false });
  assertEquals(head.classNames, ["cat", "dog", "car"]);
  assertEquals(head.weights.shape, [3, 3]);
  assertAllClose(head.weights.data, [1, 0, 0, 0, 1, 0, 0, 0, 1], 0);
  // An image halfway between cat and dog, a bit more cat.
  const images = Matrix.fromRows([[0.8, 0.6, 0], [0, 0, 5]]);
  const [first, second] = await head.predict(images, { topK: 3 });
  assertEquals(first.map((p) => p.label), ["cat", "dog", "car"]);
  const z = Math.exp(80) + Math.exp(60) + Math.exp(0);
  assertAllClose(first.map((p) => p.score), [Math.exp(80) / z, Math.exp(60) / z, 1 / z], 1e-7);
  assertEquals(second[0], { label: "car", index: 2, score: 1 });
  assertEquals((await head.predict(images)).map((r) => r.length), [1, 1]);
  const probs = await head.probabilities(images);
  assertAllClose([probs.get(0, 0) + probs.get(0, 1) + probs.get(0, 2)], [1], 1e-6);
});

Deno.test("zero-shot: prompt ensembling = mean of unit prompt embeddings, renormalised; several names per class", async () => {
  const model = new FakeEncoder({
    "a photo of a cat.": [3, 0, 0], // unit: [1, 0, 0]
    "a sketch of a cat.": [0, 0.5, 0], // unit: [0, 1, 0]
    "a photo of a car.": [0, 0, 1],
    "a sketch of a car.": [0, 0, 1],
    "a photo of a automobile.": [0, 2, 0],
    "a sketch of a automobile.": [0, 2, 0],
  });
  const head = await zeroShotClassifier(model, ["cat", ["car", "automobile"]], [
    "a photo of a {}.",
    "a sketch of a {}.",
  ], { cache: false });
  assertEquals(head.classNames, ["cat", "car"]);
  assertEquals(head.classNameLists, [["cat"], ["car", "automobile"]]);
  // cat: mean([1,0,0], [0,1,0]) renormalised; car: mean of two [0,0,1] and two [0,1,0].
  assertAllClose(head.weights.data, [Math.SQRT1_2, Math.SQRT1_2, 0, 0, Math.SQRT1_2, Math.SQRT1_2], 1e-7);
  const p = await embedPrompts(model, ["cat", ["car", "automobile"]], [
    "a photo of a {}.",
    "a sketch of a {}.",
  ], {
    cache: false,
  });
  assertEquals(p.rows, [[[0, 1]], [[2, 3], [4, 5]]]);
  assertAllClose(classWeights(p, [0]).data, [1, 0, 0, 0, Math.SQRT1_2, Math.SQRT1_2], 1e-7);
});

Deno.test("zero-shot: ties go to the lower class index with equal scores; one class scores 1", async () => {
  const twins = new FakeEncoder({ cat: [1, 0], dog: [1, 0] });
  const head = await zeroShotClassifier(twins, ["cat", "dog"], ["{}"], { cache: false });
  const [[a, b]] = await head.predict(Matrix.fromRows([[1, 1]]), { topK: 2 });
  assertEquals([a.label, b.label], ["cat", "dog"]);
  assertEquals(a.score, 0.5);
  assertEquals(b.score, 0.5);
  const one = await zeroShotClassifier(new FakeEncoder(BASIS), ["cat"], ["a {}."], { cache: false });
  assertEquals(await one.predict(Matrix.fromRows([[0, 1, 0]])), [[{ label: "cat", index: 0, score: 1 }]]);
  await assertRejects(() => one.predict(Matrix.fromRows([[0, 1, 0]]), { topK: 2 }), TopKError, "1 class");
  await assertRejects(
    () => head.predict(Matrix.fromRows([[1, 0]]), { topK: 0 }),
    TopKError,
    "ask for 1 to 2",
  );
});

Deno.test("zero-shot: evaluate gives top-1, top-5, per-class accuracy and the confusion matrix", async () => {
  const head = await zeroShotClassifier(new FakeEncoder(BASIS), ["cat", "dog", "car"], ["{}"], {
    cache: false,
  });
  const images = Matrix.fromRows([[1, 0.1, 0], [0.9, 0, 0.2], [0.6, 0.5, 0], [0, 0, 1]]);
  const r = await head.evaluate({ images, labels: [0, "cat", "dog", 2] });
  assertEquals(r.count, 4);
  assertEquals(r.top1, 0.75);
  assertEquals(r.top5, 1); // 3 classes: every class is within the top 3
  assertEquals(r.perClass.map((c) => [c.label, c.count, c.top1]), [["cat", 2, 1], ["dog", 1, 0], [
    "car",
    1,
    1,
  ]]);
  assertEquals(r.confusion, [[2, 0, 0], [1, 0, 0], [0, 0, 1]]);
  await assertRejects(() => head.evaluate({ images, labels: [0, 1, 2, "bird"] }), InputError, "no class");
  await assertRejects(
    () => head.evaluate({ images, labels: [0, 1] }),
    MatrixShapeError,
    "one label per image",
  );
});

Deno.test("zero-shot bad input: empty lists, template without {}, widths, NaN, temperature → typed errors", async () => {
  const model = new FakeEncoder(BASIS);
  const opts = { cache: false as const };
  await assertRejects(
    () => zeroShotClassifier(model, [], ["a {}."], opts),
    TemplateError,
    "class list is empty",
  );
  await assertRejects(
    () => zeroShotClassifier(model, ["cat"], [], opts),
    TemplateError,
    "template list is empty",
  );
  await assertRejects(
    () => zeroShotClassifier(model, ["cat"], ["a cat."], opts),
    TemplateError,
    "put {} where",
  );
  await assertRejects(() => zeroShotClassifier(model, ["cat", []], ["{}"], opts), TemplateError, "class 1");
  await assertRejects(() => zeroShotClassifier(model, ["cat", ""], ["{}"], opts), TemplateError, "non-empty");
  await assertRejects(
    () => zeroShotClassifier(model, ["cat"], ["{}"], { ...opts, logitScale: 0 }),
    TemperatureError,
  );
  const head = await zeroShotClassifier(model, ["cat", "dog"], ["{}"], opts);
  await assertRejects(() => head.predict(Matrix.fromRows([[1, 0]])), MatrixShapeError, "same model");
  await assertRejects(() => head.predict(Matrix.fromRows([[1, NaN, 0]])), NonFiniteError, "finite");
  await assertRejects(() => head.predict(["cat.jpg"]), InputError, "pass image embeddings as a Matrix");
  const broken = new FakeEncoder({ cat: [NaN, 0, 0] });
  await assertRejects(() => zeroShotClassifier(broken, ["cat"], ["{}"], opts), NonFiniteError, "NaN");
});

Deno.test("zero-shot: images go through model.encodeImages when given as inputs", async () => {
  const model = Object.assign(new FakeEncoder(BASIS), {
    encodeImages: (names: string[]) => Promise.resolve(Matrix.fromRows(names.map((n) => BASIS[n as "cat"]))),
  });
  const head = await zeroShotClassifier(model, ["cat", "dog", "car"], ["{}"], { cache: false });
  assertEquals((await head.predict(["dog", "car"])).map((r) => r[0].label), ["dog", "car"]);
  assertEquals((await head.evaluate({ images: ["dog", "cat"], labels: [1, 1] })).top1, 0.5);
});

Deno.test("prompt analysis: bare name vs each template vs ensemble, per-class gains, greedy selection", async () => {
  // Bare names are confused (cat's name embeds as dog and vice versa) and so is "a {} toy.";
  // "a photo of a {}." is right; "a drawing of a {}." gets cat and car right but not dog.
  const model = new FakeEncoder({
    "cat": [0, 1, 0],
    "dog": [1, 0, 0],
    "car": [0, 0, 1],
    "a photo of a cat.": [1, 0, 0],
    "a photo of a dog.": [0, 1, 0],
    "a photo of a car.": [0, 0, 1],
    "a drawing of a cat.": [1, 0, 0],
    "a drawing of a dog.": [0.1, 0, 1],
    "a drawing of a car.": [0, 0, 1],
    "a cat toy.": [0, 1, 0],
    "a dog toy.": [1, 0, 0],
    "a car toy.": [0, 0, 1],
  });
  const images = Matrix.fromRows([[1, 0, 0], [1, 0.1, 0], [0, 1, 0], [0, 0, 1]]);
  const labels = ["cat", "cat", "dog", "car"];
  const tpl = ["a {} toy.", "a drawing of a {}.", "a photo of a {}."];
  const a = await analyzePrompts(model, ["cat", "dog", "car"], tpl, { images, labels }, {
    cache: false,
    greedySize: 2,
  });
  assertEquals(a.bare, 0.25); // only car
  assertEquals(a.perTemplate.map((t) => [t.template, t.accuracy, t.gain]), [
    ["a photo of a {}.", 1, 0.75],
    ["a drawing of a {}.", 0.75, 0.5],
    ["a {} toy.", 0.25, 0],
  ]);
  assertEquals(a.ensemble, 1);
  assertEquals(a.ensembleGain, 0.75);
  // Step 2: photo + toy makes cat and dog identical (0.75); photo + drawing keeps 1.
  assertEquals(a.selected, ["a photo of a {}.", "a drawing of a {}."]);
  assertEquals(a.greedy.map((s) => s.accuracy), [1, 1]);
  assertEquals(a.perClassGains.map((c) => [c.label, c.count, c.bare, c.ensemble, c.gain]), [
    ["cat", 2, 0, 1, 1],
    ["dog", 1, 0, 1, 1],
    ["car", 1, 1, 1, 0],
  ]);
  assertEquals(a.ensembleGain, a.ensemble - a.bare);
  // greedySelect stops at the number of templates.
  const p = await embedPrompts(model, ["cat", "dog", "car"], tpl, { cache: false });
  assertEquals(greedySelect(p, images, Int32Array.of(0, 0, 1, 2), 10).length, 3);
});

Deno.test("templates: generic and shapes sets as data; fillTemplate; the template-file shapes", () => {
  assert(templates.generic.length >= 8);
  templates.generic.forEach((t) => assert(t.includes("{}"), t));
  assertEquals(templateSets.generic.name, "generic");
  if (templateSets.shapes) assertTemplates(templates.shapes);
  assertEquals(fillTemplate("a photo of a {}.", "goldfish"), "a photo of a goldfish.");
  assertEquals(fillTemplate("a {} or a {}", "$&"), "a $& or a $&");
  assertEquals(parseTemplateFile(["a {}."], "mine")[0].templates, ["a {}."]);
  assertEquals(parseTemplateFile({ name: "x", templates: ["{}!"] }, "f")[0].name, "x");
  assertEquals(parseTemplateFile({ D: { classes: ["a"], templates: ["{}"] } }, "p")[0].classes, ["a"]);
  assertThrows(
    () => parseTemplateFile({ D: { templates: ["{}"] } }, "p"),
    TemplateError,
    "CLIP's prompt file format",
  );
  assertThrows(() => parseTemplateFile(42, "p"), TemplateError, "not a template file");
  assertThrows(() => assertTemplates(["{}", 3 as unknown as string]), TemplateError, "not a string");
});

sharedTest(
  "templates: loadPromptFile reads CLIP's prompts.json (27 datasets; ImageNet 1000 × 80)",
  async () => {
    const prompts = await loadPromptFile(shared("clip", "prompts.json"));
    assertEquals(Object.keys(prompts).length, 27);
    assertEquals(prompts.ImageNet.classes!.length, 1000);
    assertEquals(prompts.ImageNet.templates.length, 80);
    assertEquals(prompts.FacialEmotionRecognition2013.classes![3], ["happy", "smiling"]);
    await assertRejects(
      () => loadPromptFile(join(Deno.makeTempDirSync(), "none.json")),
      TemplateError,
      "check the path",
    );
  },
);

Deno.test("cache: second build encodes nothing and is bit-identical; shared texts are reused; files are atomic", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clipkit-cache-test-" });
  try {
    const cache = new TextEmbeddingCache(dir);
    const model = new FakeEncoder(BASIS, "fake-v1");
    const classes = ["cat", "dog", "car"];
    const first = await zeroShotClassifier(model, classes, ["a photo of a {}.", "a {}."], { cache });
    assertEquals(model.encoded, 6);
    assertEquals(cache.lastStats, { texts: 6, hits: 0, encoded: 6, wholeFile: false });
    const again = await zeroShotClassifier(model, classes, ["a photo of a {}.", "a {}."], { cache: dir });
    assertEquals(model.encoded, 6);
    assertEquals(again.weights.data, first.weights.data);
    // One template more: only its 3 prompts are encoded.
    await zeroShotClassifier(model, classes, ["a photo of a {}.", "a {}.", "the {}."], { cache });
    assertEquals(model.encoded, 9);
    assertEquals(cache.lastStats, { texts: 9, hits: 6, encoded: 3, wholeFile: false });
    // Another model id does not see these entries.
    const other = new FakeEncoder(BASIS, "fake-v2");
    await cache.encode(other, ["a cat."]);
    assertEquals(other.encoded, 1);
    // Duplicates are encoded once and returned per request.
    const dup = await cache.encode(model, ["a cat.", "a cat."]);
    assertEquals(dup.shape, [2, 3]);
    // No temporary files are left behind; a damaged file is rebuilt.
    const files = (await Array.fromAsync(Deno.readDir(cache.modelDir("fake-v1")))).map((e) => e.name);
    assert(files.every((f) => f.endsWith(".bin")), files.join(", "));
    for (const f of files) {
      await Deno.writeFile(join(cache.modelDir("fake-v1"), f), new Uint8Array([1, 2, 3]));
    }
    const before = model.encoded;
    const rebuilt = await zeroShotClassifier(model, classes, ["a photo of a {}.", "a {}."], { cache });
    assertEquals(model.encoded, before + 6);
    assertEquals(rebuilt.weights.data, first.weights.data);
    const noId = { id: "", logitScale: 1, encodeText: (t: string[]) => model.encodeText(t) };
    await assertRejects(() => cache.encode(noId, ["x"]), CacheError, "model.id");
    await cache.clear("fake-v1");
    await cache.encode(model, ["a cat."]);
    assertEquals(cache.lastStats.encoded, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cache: default folder is .cache/clipkit/text in the repository, or $CLIPKIT_CACHE/text", () => {
  const before = Deno.env.get(CACHE_ENV);
  try {
    Deno.env.delete(CACHE_ENV);
    assert(defaultCacheDir().endsWith(join(".cache", "clipkit", "text")), defaultCacheDir());
    Deno.env.set(CACHE_ENV, "/tmp/somewhere");
    assertEquals(defaultCacheDir(), join("/tmp/somewhere", "text"));
    assertEquals(new TextEmbeddingCache().dir, join("/tmp/somewhere", "text"));
  } finally {
    if (before === undefined) Deno.env.delete(CACHE_ENV);
    else Deno.env.set(CACHE_ENV, before);
  }
});

// ---- End to end with the PyTorch fixture model (../shared/fixtures/clip-tiny-torch) ----

const FIXTURE = "fixtures/clip-tiny-torch";

interface Reference {
  captions: string[];
  image_paths: string[];
  logit_scale: number;
  text_embeds: number[][];
  image_embeds: number[][];
  logits_per_image: number[][];
}

sharedTest(
  "fixture model: head shapes, unit rows, PyTorch logits (1e-4 abs), determinism, cache",
  async () => {
    const model = await ClipModel.load(shared(FIXTURE), {
      backend: "node",
      tokenizer: shared("clip", "bpe_simple_vocab_16e6.txt.gz"),
    });
    const dir = await Deno.makeTempDir({ prefix: "clipkit-zeroshot-fixture-" });
    try {
      const ref: Reference = JSON.parse(await Deno.readTextFile(shared(FIXTURE, "reference.json")));
      // The 7 captions that fit in 77 tokens as "classes", template "{}": weights = unit text embeddings.
      const captions = ref.captions.slice(0, 7);
      let encoded = 0;
      const counting = {
        id: model.id,
        logitScale: model.logitScale,
        encodeText: (t: string[]) => {
          encoded += t.length;
          return model.encodeText(t);
        },
        encodeImages: (images: string[]) => model.encodeImages(images),
      };
      const cache = new TextEmbeddingCache(dir);
      const head = await zeroShotClassifier(counting, captions, ["{}"], { cache });
      assertEquals(head.weights.shape, [7, 64]);
      assertEquals(encoded, 7);
      for (let c = 0; c < 7; c++) {
        const r = head.weights.row(c);
        assertAllClose([Math.hypot(...r)], [1], 1e-6);
      }
      // Logits of the reference image embeddings = PyTorch's logits_per_image (suggested tolerance 1e-4).
      assertAllClose([head.logitScale], [ref.logit_scale], 1e-6);
      const logits = await head.logits(Matrix.fromRows(ref.image_embeds));
      assertAllClose(logits.data, ref.logits_per_image.flatMap((row) => row.slice(0, 7)), 1e-4);
      // Images through the encoder: same top-1 as PyTorch's logits.
      const predicted = await head.predict(ref.image_paths.map((p) => shared(FIXTURE, p)), { topK: 3 });
      assertEquals(predicted.length, 4);
      predicted.forEach((row, i) => {
        const best = ref.logits_per_image[i].slice(0, 7).indexOf(
          Math.max(...ref.logits_per_image[i].slice(0, 7)),
        );
        assertEquals(row[0].index, best, `image ${i}`);
        assert(row[0].score >= row[1].score && row[1].score >= row[2].score);
      });
      // Ensembling on the real encoder: mean of unit prompt embeddings, renormalised (1e-6 abs).
      const tpl = templates.generic.slice(0, 4);
      const ensemble = await zeroShotClassifier(counting, ["dog", ["cat", "kitten"]], tpl, { cache });
      const catPrompts = ["cat", "kitten"].flatMap((n) => tpl.map((t) => fillTemplate(t, n)));
      const raw = await model.encodeText(catPrompts);
      const mean = new Array(64).fill(0);
      for (let i = 0; i < raw.rows; i++) {
        const r = raw.row(i), norm = Math.hypot(...r);
        r.forEach((v, k) => mean[k] += v / norm);
      }
      const norm = Math.hypot(...mean);
      assertAllClose(ensemble.weights.row(1), mean.map((v) => v / norm), 1e-6);
      // Deterministic and cached: a rebuild encodes nothing and is bit-identical to an uncached build.
      const before = encoded;
      const cached = await zeroShotClassifier(counting, ["dog", ["cat", "kitten"]], tpl, { cache });
      assertEquals(encoded, before);
      const uncached = await zeroShotClassifier(counting, ["dog", ["cat", "kitten"]], tpl, { cache: false });
      assertEquals(cached.weights.data, uncached.weights.data);
      assertEquals(cached.weights.data, ensemble.weights.data);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await model.dispose();
    }
  },
);
