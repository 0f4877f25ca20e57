/**
 * The benchmark harness (`deno task bench`) on a tiny model, one repetition, so that it cannot rot:
 * every section runs every contender end to end and the report has their rows. No timing is asserted.
 * Also: the FLOP count of the ViT-B/32 tower, and the fp16 / int8 variants the harness writes (their
 * embeddings within cosine 0.9999 / 0.99 of fp32's on the tiny model).
 */
import nodeAssert from "node:assert/strict";
import { join } from "node:path";
import { runBench } from "../bench/run.ts";
import { ensureModel } from "../bench/vitb32.ts";
import { visionFlops } from "../bench/gflops.ts";
import { markdownTable, withSpread } from "../bench/table.ts";
import { median } from "../bench/stats.ts";
import { pythonHasTorch } from "../bench/jobs.ts";
import { ClipModel } from "../src/model/clip_model.ts";
import { loadConfig } from "../src/train/config.ts";
import { sharedTest } from "./_shared.ts";

/** Least cosine similarity of fp16 and int8 embeddings to fp32's (per row, tiny random model). */
const FP16_MIN_COSINE = 0.9999;
const INT8_MIN_COSINE = 0.99;

/** A tiny CLIP with CLIP's vocabulary and 77-token context, written like the benchmark's full-size one. */
async function tinyModel(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "clipkit-bench-smoke-" });
  await ensureModel(join(dir, "tiny"), {
    config: { ...loadConfig("tiny"), vocab_size: 49408, context_length: 77 },
  });
  return dir;
}

function cosines(a: Float32Array, b: Float32Array, dim: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < a.length / dim; r++) {
    let ab = 0, aa = 0, bb = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) {
      ab += a[i] * b[i];
      aa += a[i] * a[i];
      bb += b[i] * b[i];
    }
    out.push(ab / Math.sqrt(aa * bb));
  }
  return out;
}

sharedTest("bench: every section and contender runs on a tiny model and lands in the report", async () => {
  const dir = await tinyModel();
  try {
    const lines: string[] = [];
    const report = await runBench({
      model: join(dir, "tiny"),
      quick: true,
      reps: 1,
      batches: [2],
      sampleClasses: 1,
      tokenizerTexts: 200,
      memoryVariants: ["fp32"],
      out: join(dir, "RESULTS.md"),
      log: (line) => lines.push(line),
    });
    nodeAssert.equal(await Deno.readTextFile(join(dir, "RESULTS.md")), report);
    for (
      const heading of [
        "## Goals",
        "## 1. Image embeddings per second",
        "### Head to head",
        "## 2. Text embeddings",
        "## 3a. Tokenizer",
        "## 3b. Decode + CLIP preprocessing",
        "## 4. Peak resident memory",
        "## 5. Achieved GFLOP/s",
      ]
    ) nodeAssert.ok(report.includes(heading), `the report has no "${heading}"`);
    for (
      const row of [
        "| 2 | clipkit (onnxruntime-node) | image files",
        "| 2 | clipkit (onnxruntime-node) | ready tensors",
        "| 2 | clipkit (onnxruntime-web WASM) | image files",
        "| 2 | bare onnxruntime-node 1.30.0, pre-allocated outputs | ready tensors",
        "| 2 | transformers.js 4.3.2 (default: onnxruntime-node) | image files",
        "| 2 | transformers.js 4.3.2 (forced to WASM) | image files",
        "| clipkit (onnxruntime-node), length-sorted batches cut to their longest prompt |",
        "| transformers.js 4.3.2 (default: onnxruntime-node), padding to 77 |",
        "rebuilt from the disk cache",
        "| bare ORT MatMul",
        "decode + preprocess ≤ 1/5 of the forward pass",
        "from the file's bytes",
      ]
    ) {
      const squeezed = report.replace(/ {2,}/g, " ");
      nodeAssert.ok(squeezed.includes(row), `the report has no row "${row}"`);
    }
    if (await pythonHasTorch()) {
      nodeAssert.ok(report.includes("PyTorch"), "PyTorch is installed but has no row");
    }
    nodeAssert.ok(
      !report.includes("failed (exit"),
      `a contender failed:\n${report.match(/Not measured: .*/g)}`,
    );
    nodeAssert.ok(!/NaN|Infinity/.test(report), "the report has a non-finite number");
    nodeAssert.ok(lines.some((l) => l.startsWith("images: ")), "no progress lines were logged");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

sharedTest("bench: fp16 and int8 variants give embeddings close to fp32's", async () => {
  const dir = await tinyModel();
  try {
    const texts = ["a photo of a dog.", "a diagram", "itap of a large red goldfish in a bowl."];
    const pixels = new Float32Array(2 * 3 * 32 * 32).map((_, i) => Math.sin(i * 0.01)); // [2, 3, 32, 32]
    const embed = async (dtype: "fp32" | "fp16" | "q8") => {
      const model = await ClipModel.load(join(dir, "tiny"), { dtype });
      try {
        return { text: (await model.encodeText(texts)).data, image: (await model.encodePixels(pixels)).data };
      } finally {
        await model.dispose();
      }
    };
    const fp32 = await embed("fp32");
    for (const [dtype, least] of [["fp16", FP16_MIN_COSINE], ["q8", INT8_MIN_COSINE]] as const) {
      const other = await embed(dtype);
      const worst = Math.min(...cosines(fp32.text, other.text, 64), ...cosines(fp32.image, other.image, 64));
      console.log(`${dtype}: least cosine to fp32 ${worst.toFixed(6)}`);
      nodeAssert.ok(worst >= least, `${dtype} embeddings: cosine ${worst} < ${least}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench: the ViT-B/32 image tower does 8.82 GFLOP per image", () => {
  nodeAssert.equal(
    visionFlops({ imageSize: 224, patchSize: 32, width: 768, layers: 12, projection: 512 }),
    8_817_623_040,
  );
});

Deno.test("bench: tables, medians and spreads", () => {
  nodeAssert.equal(median([3, 1, 2, 10]), 2.5);
  nodeAssert.equal(median([0.3, 0.1, 0.2]), 0.2);
  nodeAssert.equal(withSpread(31.2, 30, 32.5), "31.2 ±4%");
  nodeAssert.equal(
    markdownTable(["tool", "images/s"], [["clipkit", "31.2"]], ["left", "right"]),
    "| tool    | images/s |\n|---------|---------:|\n| clipkit |     31.2 |",
  );
});
