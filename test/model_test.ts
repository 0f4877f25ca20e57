/**
 * ClipModel against PyTorch on `../shared/fixtures/clip-tiny-torch` (openai/CLIP's architecture,
 * random weights), on both backends; and the typed errors for bad model directories and inputs.
 *
 * Tolerance: 1e-4 absolute on embeddings and logits (the fixture README's suggestion; ORT measures ≤ 2e-6).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { shared, sharedTest } from "./_shared.ts";
import {
  ClipkitError,
  GraphMismatchError,
  InputError,
  MissingModelFileError,
  ModelLoadError,
  NonFiniteOutputError,
} from "../src/errors.ts";
import { ClipModel, Embeddings } from "../src/model/clip_model.ts";
import { formatProgress, Progress } from "../src/model/progress.ts";
import { FLOAT, GraphBuilder, INT64 } from "../src/onnx/graph.ts";
import { loadArchitecture } from "../src/model/architecture.ts";
import { exportClip } from "../src/onnx/export.ts";
import { Matrix } from "../src/math/matrix.ts";
import type { Backend } from "../src/model/runtime.ts";

const TOLERANCE = 1e-4;
/** The PNG images of the fixture (astronaut_256, chelsea, synth_rgba_160x120); #2 is rocket.jpg. */
const PNG = [0, 1, 3];
/** Different batch sizes run the same arithmetic row by row; allow only float reassociation noise. */
const BATCH_TOLERANCE = 1e-6;

const FIXTURE = shared("fixtures", "clip-tiny-torch");
const BPE = shared("clip", "bpe_simple_vocab_16e6.txt.gz");

interface Reference {
  captions: string[];
  input_ids: number[][];
  image_paths: string[];
  text_embeds: number[][];
  image_embeds: number[][];
  logits_per_image: number[][];
  logits_per_text: number[][];
  logit_scale: number;
}

function reference(): Reference {
  return JSON.parse(Deno.readTextFileSync(join(FIXTURE, "reference.json")));
}

function pixelValues(): Float32Array {
  const bytes = Deno.readFileSync(join(FIXTURE, "pixel_values.f32"));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4); // [4, 3, 64, 64]
}

function maxAbsDiff(m: Matrix, expected: number[][]): number {
  assert.deepEqual([m.rows, m.cols], [expected.length, expected[0].length]);
  let max = 0;
  expected.forEach((row, i) => row.forEach((v, j) => max = Math.max(max, Math.abs(m.get(i, j) - v))));
  return max;
}

function rowsOf(m: Matrix, rows: number[]): Matrix {
  return Matrix.fromRows(rows.map((i) => m.row(i)));
}

function assertClose(m: Matrix, expected: number[][], tolerance: number, what: string): number {
  const diff = maxAbsDiff(m, expected);
  assert.ok(diff <= tolerance, `${what}: max |diff| ${diff} > ${tolerance}`);
  return diff;
}

for (const backend of ["node", "web"] as Backend[]) {
  sharedTest(
    `ClipModel (${backend}): PyTorch parity from ids and pixel values, end to end, batch sizes`,
    async (t) => {
      const ref = reference();
      const model = await ClipModel.load(FIXTURE, { backend, tokenizer: BPE });
      try {
        assert.equal(model.backend, backend);
        assert.deepEqual([model.dim, model.contextLength, model.imageSize], [64, 77, 64]);
        assert.ok(Math.abs(model.logitScale - ref.logit_scale) < 1e-6);
        const diffs: Record<string, number> = {};

        const ids = { ids: Int32Array.from(ref.input_ids.flat()), shape: [8, 77] as [number, number] };
        const paths = ref.image_paths.map((p) => join(FIXTURE, p));
        const text = await model.encodeTokens(ids);
        diffs.text = assertClose(text, ref.text_embeds, TOLERANCE, "text_embeds from reference ids");
        const image = await model.encodePixels(pixelValues());
        diffs.image = assertClose(image, ref.image_embeds, TOLERANCE, "image_embeds from pixel_values.f32");
        const { logitsPerImage, logitsPerText } = await model.logits(image, text);
        diffs.logits = assertClose(logitsPerImage, ref.logits_per_image, TOLERANCE, "logits_per_image");
        assertClose(logitsPerText, ref.logits_per_text, TOLERANCE, "logits_per_text");

        await t.step("end to end: captions → tokenizer, image files → preprocess → model", async () => {
          const e2eText = await model.encodeText(ref.captions, { truncate: true });
          diffs.e2eText = assertClose(e2eText, ref.text_embeds, TOLERANCE, "text_embeds from captions");
          const e2eImage = await model.encodeImages(paths);
          // Every file, the JPEG included: decoding (libjpeg-turbo, as PIL) and preprocessing are exact.
          diffs.e2eImage = assertClose(
            e2eImage,
            ref.image_embeds,
            TOLERANCE,
            "image_embeds from image files",
          );
          const pngPaths = PNG.map((i) => paths[i]);
          const e2e = await model.logits(pngPaths, ref.captions.slice(0, 7)); // the 8th needs truncation
          const logits = PNG.map((i) => ref.logits_per_image[i].slice(0, 7));
          diffs.e2eLogits = assertClose(e2e.logitsPerImage, logits, TOLERANCE, "logits_per_image end to end");
          const cosine = await model.similarity(rowsOf(e2eImage, PNG), e2eText);
          const cosines = PNG.map((i) => ref.logits_per_image[i].map((v) => v / ref.logit_scale));
          assertClose(cosine, cosines, TOLERANCE, "cosine similarity");
        });

        await t.step("batch sizes 1, 3 and all give the same embeddings", async () => {
          const files = await model.encodeImages(paths);
          for (const batchSize of [1, 3]) {
            const seen: number[] = [];
            const onProgress = (p: { done: number }) => seen.push(p.done);
            const byIds = await model.encodeTokens(ids, { batchSize, onProgress });
            assertClose(byIds, text.toRows(), BATCH_TOLERANCE, `ids, batch ${batchSize}`);
            assert.deepEqual(seen, batchSize === 1 ? [1, 2, 3, 4, 5, 6, 7, 8] : [3, 6, 8]);
            const byPixels = await model.encodePixels(pixelValues(), { batchSize });
            assertClose(byPixels, image.toRows(), BATCH_TOLERANCE, `pixels, batch ${batchSize}`);
            const byFiles = await model.encodeImages(paths, { batchSize });
            assertClose(byFiles, files.toRows(), BATCH_TOLERANCE, `image files, batch ${batchSize}`);
            const byTexts = await model.encodeText(ref.captions, { truncate: true, batchSize });
            assertClose(byTexts, text.toRows(), BATCH_TOLERANCE, `captions, batch ${batchSize}`);
          }
        });

        await t.step("inputs may be bytes or decoded images; model.id is stable", async () => {
          const bytes = await Deno.readFile(join(FIXTURE, ref.image_paths[1]));
          const one = await model.encodeImages([bytes]);
          assertClose(one, [ref.image_embeds[1]], TOLERANCE, "image from bytes");
          assert.match(model.id, /^clip-tiny-torch-fp32-[0-9a-f]{16}$/);
          assert.equal(model.id, model.id);
        });
        console.log(`  ${backend} max |ORT − PyTorch|: ${JSON.stringify(diffs)}`);
      } finally {
        await model.dispose();
      }
    },
  );
}

sharedTest("ClipModel: backend auto picks node and says so; normalize gives unit rows", async () => {
  const model = await ClipModel.load(FIXTURE, { tokenizer: BPE });
  try {
    assert.equal(model.backend, "node");
    assert.equal(model.runtime.fallbackReason, undefined);
    assert.match(model.runtime.describe(), /^onnxruntime-node 1\.30\.0 \(native CPU, \d+ threads?\)$/);
    const unit = (await model.encodeText(["a diagram", "a photo of a dog."])).normalize();
    assert.ok(unit instanceof Embeddings);
    for (let i = 0; i < unit.rows; i++) {
      assert.ok(Math.abs(Math.hypot(...unit.row(i)) - 1) < 1e-6);
    }
  } finally {
    await model.dispose();
  }
});

sharedTest("ClipModel: empty inputs and NaN outputs are typed errors", async () => {
  const model = await ClipModel.load(FIXTURE, { tokenizer: BPE, backend: "node" });
  try {
    await assert.rejects(
      model.encodeText([]),
      (e: unknown) => e instanceof InputError && /no texts/.test(String(e)),
    );
    await assert.rejects(model.encodeImages([]), InputError);
    await assert.rejects(model.encodePixels(new Float32Array(0)), InputError);
    await assert.rejects(model.encodePixels(new Float32Array(100)), InputError);
    await assert.rejects(model.encodeText("a dog" as unknown as string[]), InputError);
    const pixels = pixelValues().slice();
    pixels[3 * 64 * 64 * 2 + 5] = NaN; // image #2
    await assert.rejects(
      model.encodePixels(pixels),
      (e: unknown) =>
        e instanceof NonFiniteOutputError && /image #2/.test(String(e)) && /Fix:/.test(String(e)),
    );
  } finally {
    await model.dispose();
  }
});

/** A temporary model directory: fixture files linked in, then changed by `edit`. */
async function brokenModel(edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "clipkit-model-" });
  await Deno.mkdir(join(dir, "onnx"));
  for (
    const f of ["config.json", "preprocessor_config.json", "onnx/text_model.onnx", "onnx/vision_model.onnx"]
  ) {
    await Deno.symlink(join(FIXTURE, f), join(dir, f));
  }
  await edit(dir);
  return dir;
}

async function assertLoadFails(
  edit: (dir: string) => Promise<void>,
  type: new (...args: never[]) => ClipkitError,
  pattern: RegExp,
) {
  const dir = await brokenModel(edit);
  try {
    await assert.rejects(ClipModel.load(dir, { tokenizer: BPE, backend: "node" }), (e: unknown) => {
      assert.ok(e instanceof type, `expected ${type.name}, got ${e}`);
      assert.match(e.message, pattern);
      assert.match(e.message, /Fix: /);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

sharedTest(
  "ClipModel.load: bad model directories are typed errors naming the file and the fix",
  async (t) => {
    await t.step("no config.json", () =>
      assertLoadFails(
        (dir) => Deno.remove(join(dir, "config.json")),
        MissingModelFileError,
        /no config\.json.*fetch-model/,
      ));
    await t.step("no such directory", async () => {
      await assert.rejects(ClipModel.load("/nonexistent/clip"), MissingModelFileError);
    });
    await t.step("missing ONNX file, with the fetch command", () =>
      assertLoadFails(
        (dir) => Deno.remove(join(dir, "onnx/vision_model.onnx")),
        MissingModelFileError,
        /onnx\/vision_model\.onnx.*deno task fetch-model/,
      ));
    await t.step("missing dtype variant", async () => {
      await assert.rejects(
        ClipModel.load(FIXTURE, { tokenizer: BPE, dtype: "q8" }),
        (e: unknown) => e instanceof MissingModelFileError && /text_model_quantized\.onnx/.test(e.message),
      );
    });
    await t.step("a file that is not ONNX", () =>
      assertLoadFails(
        async (dir) => {
          await Deno.remove(join(dir, "onnx/text_model.onnx"));
          await Deno.writeTextFile(join(dir, "onnx/text_model.onnx"), "<html>404 Not Found</html>".repeat(4));
        },
        ModelLoadError,
        /not an ONNX model.*text_model\.onnx/,
      ));
    await t.step("a Git LFS pointer instead of the model", () =>
      assertLoadFails(
        async (dir) => {
          await Deno.remove(join(dir, "onnx/text_model.onnx"));
          await Deno.writeTextFile(
            join(dir, "onnx/text_model.onnx"),
            "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n",
          );
        },
        ModelLoadError,
        /Git LFS pointer.*git lfs pull/,
      ));
    await t.step("a truncated ONNX file", () =>
      assertLoadFails(
        async (dir) => {
          const bytes = await Deno.readFile(join(FIXTURE, "onnx/vision_model.onnx"));
          await Deno.remove(join(dir, "onnx/vision_model.onnx"));
          await Deno.writeFile(join(dir, "onnx/vision_model.onnx"), bytes.subarray(0, 5000));
        },
        ModelLoadError,
        /could not load this ONNX graph.*vision_model\.onnx/,
      ));
    await t.step(
      "a graph whose inputs are not CLIP's (towers swapped)",
      () =>
        assertLoadFails(
          async (dir) => {
            await Deno.remove(join(dir, "onnx/text_model.onnx"));
            await Deno.symlink(join(FIXTURE, "onnx/vision_model.onnx"), join(dir, "onnx/text_model.onnx"));
          },
          GraphMismatchError,
          /not a CLIP text tower: its inputs are pixel_values float32/,
        ),
    );
    await t.step("towers with different projection sizes", () =>
      assertLoadFails(
        async (dir) => {
          const config = JSON.parse(await Deno.readTextFile(join(FIXTURE, "config.json")));
          config.vision_config.projection_dim = 32;
          await Deno.remove(join(dir, "config.json"));
          await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config));
        },
        ModelLoadError,
        /projection_dim \(64\).*\(32\) differ/,
      ));
    await t.step("no tokenizer", async () => {
      await assert.rejects(
        ClipModel.load(FIXTURE),
        (e: unknown) => e instanceof MissingModelFileError && /no tokenizer.*tokenizer:/.test(e.message),
      );
    });
  },
);

Deno.test("Progress: counts, clamps, calls back, and formats a one-line bar", () => {
  const updates: number[] = [];
  const bar = new Progress(10, {
    label: "embedding",
    unit: "images",
    output: "none",
    onProgress: (u) => updates.push(u.done),
  });
  bar.tick(4);
  bar.tick();
  bar.update(25);
  bar.finish();
  bar.finish();
  assert.deepEqual(updates, [4, 5, 10]);
  assert.equal(bar.done, 10);
  assert.equal(
    formatProgress(50, 100, 10_000, "images", "images"),
    "images [████████████░░░░░░░░░░░░]  50% 50/100 images · 5.0 images/s · 10s left",
  );
  assert.equal(
    formatProgress(3_000_000, 3_000_000, 2_000, "fetching", "bytes"),
    "fetching [████████████████████████] 100% 3.0 MB/3.0 MB · 1.5 MB/s · 2s",
  );
  assert.match(formatProgress(0, 0, 0), /100% 0\/0 items/);
  assert.throws(() => new Progress(-1), InputError);
});

/** A vision tower `pixel_values [batch, 3, 64, 64] → Flatten → MatMul W → image_embeds [batch, dim]`. */
function linearVisionTower(dim: number, weight = 0.001, outputName = "image_embeds"): Uint8Array {
  const g = new GraphBuilder("vision");
  const x = g.input("pixel_values", FLOAT, ["batch_size", 3, 64, 64]);
  const flat = g.op("Flatten", [x], { axis: 1 }); // [batch, 12288]
  const w = g.float("w", new Float32Array(3 * 64 * 64 * dim).fill(weight), [3 * 64 * 64, dim]);
  g.op("MatMul", [flat, w]); // [batch, dim]
  g.renameLast(outputName);
  g.output(outputName, FLOAT, ["batch_size", dim]);
  return g.encode();
}

async function replaceVision(dir: string, bytes: Uint8Array) {
  await Deno.remove(join(dir, "onnx/vision_model.onnx"));
  await Deno.writeFile(join(dir, "onnx/vision_model.onnx"), bytes);
}

sharedTest("ClipModel.load: graphs that do not fit CLIP are typed errors", async (t) => {
  await t.step("towers whose graphs project to different widths", () =>
    assertLoadFails(
      (dir) => replaceVision(dir, linearVisionTower(32)),
      ModelLoadError,
      /text tower projects to 64 dimensions but the vision tower to 32/,
    ));
  await t.step("a vision graph without an embeddings output", () =>
    assertLoadFails(
      async (dir) => {
        const g = new GraphBuilder("vision");
        const x = g.input("pixel_values", FLOAT, ["batch_size", 3, 64, 64]);
        g.op("Identity", [x]);
        g.renameLast("last_hidden_state");
        g.output("last_hidden_state", FLOAT, ["batch_size", 3, 64, 64]);
        await replaceVision(dir, g.encode());
      },
      GraphMismatchError,
      /no projected embeddings output: its outputs are last_hidden_state float32/,
    ));
});

sharedTest("ClipModel: a NaN coming out of the graph names the input and the fix", async () => {
  const dir = await brokenModel((dir) => replaceVision(dir, linearVisionTower(64, NaN)));
  const model = await ClipModel.load(dir, { tokenizer: BPE, backend: "node" });
  try {
    await assert.rejects(
      model.encodePixels(pixelValues()),
      (e: unknown) =>
        e instanceof NonFiniteOutputError &&
        /vision tower returned NaN in the embedding of image #0/.test(e.message) &&
        e.message.includes("vision_model.onnx"),
    );
  } finally {
    await model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

sharedTest(
  "ClipModel: concurrent calls on one model give the same embeddings as calls one at a time",
  async () => {
    const ref = reference();
    const paths = ref.image_paths.map((p) => join(FIXTURE, p));
    const model = await ClipModel.load(FIXTURE, { tokenizer: BPE, backend: "node", batchSize: 1 });
    try {
      const images = await model.encodeImages(paths);
      const texts = await model.encodeText(ref.captions.slice(0, 7));
      const [a, b, c, d] = await Promise.all([
        model.encodeImages(paths),
        model.encodeImages([...paths].reverse()),
        model.encodeText(ref.captions.slice(0, 7)),
        model.encodeText(ref.captions.slice(0, 7).reverse()),
      ]);
      assert.deepEqual(a.data, images.data);
      assert.deepEqual(b.toRows(), images.toRows().reverse());
      assert.deepEqual(c.data, texts.data);
      assert.deepEqual(d.toRows(), texts.toRows().reverse());
    } finally {
      await model.dispose();
    }
  },
);

sharedTest(
  "ClipModel: a clipkit export (dynamic sequence axis) loads; shorter padding gives the same embeddings",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "clipkit-export-" });
    const model = await exportClip(
      { ...loadArchitecture("tiny"), vocab_size: 600, context_length: 16 },
      dir,
      {
        random: 1,
      },
    )
      .then(() => ClipModel.load(dir, { tokenizer: BPE, backend: "node" }));
    try {
      assert.deepEqual([model.contextLength, model.imageSize, model.dim], [16, 32, 64]);
      const sot = 598, eot = 599; // the export's vocabulary ends with SOT, EOT
      const rows = (length: number) => {
        const ids = new Int32Array(2 * length); // [2, length], zero padded
        ids.set([sot, 5, 6, eot], 0);
        ids.set([sot, 7, eot], length);
        return { ids, shape: [2, length] as [number, number] };
      };
      const full = await model.encodeTokens(rows(16));
      const short = await model.encodeTokens(rows(7)); // accepted: the graph's sequence axis is dynamic
      assert.ok(maxAbsDiff(short, full.toRows()) <= BATCH_TOLERANCE);
    } finally {
      await model.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/** A stand-in text tower `input_ids [batch, 77] → Cast → MatMul W → text_embeds [batch, 64]`. */
function linearTextTower(): Uint8Array {
  const g = new GraphBuilder("text");
  const ids = g.input("input_ids", INT64, ["batch_size", 77]);
  const w = g.float("w", new Float32Array(77 * 64).fill(1e-5), [77, 64]);
  g.op("MatMul", [g.op("Cast", [ids], { to: FLOAT }), w]); // [batch, 64]
  g.renameLast("text_embeds");
  g.output("text_embeds", FLOAT, ["batch_size", 64]);
  return g.encode();
}

/** A float16-in, float16-out vision tower (like some `_fp16` exports): `Cast → Flatten → MatMul W → Cast`. */
function halfVisionTower(w: Float32Array): Uint8Array {
  const FLOAT16 = 10; // onnx.TensorProto.DataType.FLOAT16
  const g = new GraphBuilder("vision_fp16");
  const x = g.input("pixel_values", FLOAT16, ["batch_size", 3, 64, 64]);
  const flat = g.op("Flatten", [g.op("Cast", [x], { to: FLOAT })], { axis: 1 }); // [batch, 12288] float32
  g.op("Cast", [g.op("MatMul", [flat, g.float("w", w, [3 * 64 * 64, 64])])], { to: FLOAT16 }); // [batch, 64]
  g.renameLast("image_embeds");
  g.output("image_embeds", FLOAT16, ["batch_size", 64]);
  return g.encode();
}

sharedTest(
  "ClipModel: dtype fp16 loads *_fp16.onnx and feeds/reads float16 tensors on both backends",
  async () => {
    const chw = 3 * 64 * 64;
    const w = new Float32Array(chw * 64).map((_, i) => ((i % 7) - 3) * 0.001); // [12288, 64]
    const dir = await brokenModel(async (dir) => {
      await Deno.writeFile(join(dir, "onnx/text_model_fp16.onnx"), linearTextTower()); // small: quick on WASM
      await Deno.writeFile(join(dir, "onnx/vision_model_fp16.onnx"), halfVisionTower(w));
    });
    const pixels = new Float32Array(2 * chw).map((_, i) => ((i % 11) - 5) * 0.1); // [2, 3, 64, 64]
    const half = Float32Array.from(new Float16Array(pixels)); // what the graph receives
    const expected = [0, 1].map((r) =>
      Array.from({ length: 64 }, (_, j) => {
        let sum = 0;
        for (let k = 0; k < chw; k++) sum += half[r * chw + k] * w[k * 64 + j];
        return sum;
      })
    );
    try {
      for (const backend of ["node", "web"] as Backend[]) {
        const model = await ClipModel.load(dir, { dtype: "fp16", tokenizer: BPE, backend });
        try {
          assert.equal(model.dtype, "fp16");
          // float16 output: 11 significant bits, so 1e-3 relative to the largest value (|max| ≈ 0.5).
          assertClose(await model.encodePixels(pixels), expected, 1e-3, `${backend} float16 tower`);
        } finally {
          await model.dispose();
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/** A text tower with an `attention_mask` input whose embedding is the mask itself (first 64 positions). */
function maskEchoTextTower(): Uint8Array {
  const g = new GraphBuilder("text_with_mask");
  const ids = g.input("input_ids", INT64, ["batch_size", 77]);
  const mask = g.input("attention_mask", INT64, ["batch_size", 77]);
  const eye = g.float(
    "eye",
    new Float32Array(77 * 64).map((_, i) => (i % 64 === Math.floor(i / 64) ? 1 : 0)),
    [77, 64],
  );
  const zero = g.float("zero", new Float32Array(77 * 64), [77, 64]);
  const fromMask = g.op("MatMul", [g.op("Cast", [mask], { to: FLOAT }), eye]); // [batch, 64]
  const fromIds = g.op("MatMul", [g.op("Cast", [ids], { to: FLOAT }), zero]); // [batch, 64] zeros
  g.op("Add", [fromMask, fromIds]);
  g.renameLast("text_embeds");
  g.output("text_embeds", FLOAT, ["batch_size", 64]);
  return g.encode();
}

sharedTest(
  "ClipModel: a text graph with attention_mask gets 1 up to and including EOT, 0 after",
  async () => {
    const dir = await brokenModel(async (dir) => {
      await Deno.remove(join(dir, "onnx/text_model.onnx"));
      await Deno.writeFile(join(dir, "onnx/text_model.onnx"), maskEchoTextTower());
    });
    const model = await ClipModel.load(dir, { tokenizer: BPE, backend: "node" });
    try {
      const e = await model.encodeText(["a diagram", "a photo of a dog."]); // 4 and 8 tokens with SOT and EOT
      const ones = (n: number) => Array.from({ length: 64 }, (_, j) => (j < n ? 1 : 0));
      assert.deepEqual(e.toRows(), [ones(4), ones(8)]);
    } finally {
      await model.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

sharedTest("ClipModel: lowMemory (no prepacked weights) gives PyTorch's embeddings too", async () => {
  const model = await ClipModel.load(FIXTURE, { tokenizer: BPE, backend: "node", lowMemory: true });
  try {
    const ref = reference();
    assertClose(
      await model.encodePixels(pixelValues()),
      ref.image_embeds,
      TOLERANCE,
      "image_embeds, lowMemory",
    );
    assertClose(await model.encodeText(ref.captions, { truncate: true }), ref.text_embeds, TOLERANCE, "text");
  } finally {
    await model.dispose();
  }
});
