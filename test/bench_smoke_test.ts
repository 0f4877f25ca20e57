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
import { pythonImportsTorch } from "../bench/train.ts";
import { mergeResults, readResults } from "../bench/results.ts";
import { renderReport } from "../bench/report.ts";
import { carrySections, parseReport } from "../bench/carry.ts";
import { meets } from "../bench/goals.ts";
import { trainingStepFlops } from "../bench/flops.ts";
import { torchStateDict } from "../bench/contenders/train_engine.ts";
import { initWeights } from "../src/model/architecture.ts";
import { ClipModel } from "../src/model/clip_model.ts";
import { loadArchitecture } from "../src/model/architecture.ts";
import { SHARED as SHARED_DIR, sharedTest } from "./_shared.ts";

/** Least cosine similarity of fp16 and int8 embeddings to fp32's (per row, tiny random model). */
const FP16_MIN_COSINE = 0.9999;
const INT8_MIN_COSINE = 0.99;

/** A tiny CLIP with CLIP's vocabulary and 77-token context, written like the benchmark's full-size one. */
async function tinyModel(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "clipkit-bench-smoke-" });
  await ensureModel(join(dir, "tiny"), {
    config: { ...loadArchitecture("tiny"), vocab_size: 49408, context_length: 77 },
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
      train: { batch: 4 },
      out: join(dir, "RESULTS.md"),
      log: (line) => lines.push(line),
    });
    nodeAssert.equal(await Deno.readTextFile(join(dir, "RESULTS.md")), report);
    const results = await readResults(join(dir, "RESULTS.json"));
    nodeAssert.ok(results, "no RESULTS.json beside the report");
    nodeAssert.equal(renderReport(results), report, "the report is not a function of RESULTS.json");
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
        "## 6. Training",
        "### tiny, the shipped recipe",
        "## 7. Retrieval",
        "## 8. Shapes world",
        "## 9. Linear probe",
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
        "| TensorFlow.js 4.22.0 (wasm SIMD), the kit's first trainer |",
        "| bare ORT MatMul [2048, 1024] × [1024, 1024], pre-allocated output (the peak) |",
        "clipkit training engine ≥ 2× PyTorch's pairs/s (tiny, the shipped recipe)",
      ]
    ) {
      const squeezed = report.replace(/ {2,}/g, " ");
      nodeAssert.ok(squeezed.includes(row), `the report has no row "${row}"`);
    }
    if (await pythonHasTorch()) {
      nodeAssert.ok(report.includes("PyTorch"), "PyTorch is installed but has no row");
    }
    if (await pythonImportsTorch()) {
      nodeAssert.ok(report.includes("torch.optim.AdamW — "), "PyTorch is installed but has no training row");
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

Deno.test("bench: a CLIP training step counts 3× the forward pass's matrix products", () => {
  // tiny preset, batch 128, captions of 10 tokens: 759,496,704 forward FLOPs (see bench/flops.ts)
  nodeAssert.equal(trainingStepFlops(loadArchitecture("tiny"), 128, 10), 3 * 759_496_704);
});

Deno.test("bench: goals compare with their threshold the way goals.json says", () => {
  nodeAssert.equal(meets({ op: ">=", threshold: 1.3 }, 1.16), false);
  nodeAssert.equal(meets({ op: "<=", threshold: 0.2 }, 0.2), true);
  nodeAssert.equal(meets({ op: "<", threshold: 1 }, 1), false);
  nodeAssert.equal(meets({ op: null, threshold: null }, 5), undefined);
  nodeAssert.equal(meets({ op: ">=", threshold: 2 }, undefined), undefined);
});

Deno.test("bench: --only keeps the other sections of the previous results", () => {
  const run = (started: string, sections: ("tokenizer" | "train")[]) => ({
    started,
    finished: started,
    quick: false,
    sections,
    machineAtStart: "m",
    machineAtEnd: "m",
    loaded: false,
    pytorch: false,
  });
  const tokenizer = { rows: [], run: 0 };
  const older = { schema: 2, runs: [run("2026-01-01", ["tokenizer", "train"])], sections: { tokenizer } };
  const newer = {
    schema: 2,
    runs: [run("2026-02-01", ["train"])],
    sections: {
      train: {
        configs: [],
        recipe: { name: "full", lr: 1, betas: [0.9, 0.98] as [number, number], eps: 1, weightDecay: 0 },
        run: 0,
      },
    },
  };
  const merged = mergeResults(older, newer);
  nodeAssert.deepEqual(merged.runs.map((r) => r.started), ["2026-01-01", "2026-02-01"]);
  nodeAssert.equal(merged.sections.tokenizer?.run, 0);
  nodeAssert.equal(merged.sections.train?.run, 1);
});

Deno.test("bench: a section missing from RESULTS.json is carried over verbatim from the earlier report", () => {
  const earlier = [
    "# clipkit benchmarks",
    "",
    "Generated by `deno task bench` (bench/run.ts) on 2026-11-27 17:17 UTC, 8.0 min. Do not edit: re-run the task.",
    "",
    "- **Machine:** a test machine.",
    "",
    "## Goals",
    "",
    "| goal | measured | met |",
    "|------|----------|-----|",
    "| cached 80,000-prompt head rebuild < 1 s | 586 ms | yes |",
    "| clipkit training engine ≥ 2× PyTorch's pairs/s (tiny) | 1.50× | **no** |",
    "",
    "## 2. Text embeddings: CLIP's ImageNet head (1000 classes × 80 templates)",
    "",
    "| contender | prompts/s |",
    "|-----------|----------:|",
    "| clipkit   |     123.4 |",
    "",
    "### Head to head",
    "",
    "7.4× faster.",
    "",
    "## 6. Training: AdamW steps of CLIP's loss",
    "",
    "old training numbers",
    "",
  ].join("\n");
  const run = {
    started: "2026-12-01T19:00:00.000Z",
    finished: "2026-12-01T19:01:00.000Z",
    quick: true,
    sections: ["world" as const],
    machineAtStart: "m; load 1",
    machineAtEnd: "m; load 1",
    loaded: false,
    pytorch: false,
  };
  const fresh = {
    schema: 2,
    runs: [run],
    sections: {
      world: { rows: [{ what: "classic, 32×32", value: 1000, unit: "images/s" as const }], run: 0 },
    },
  };
  const text = parseReport(earlier).sections.text!;
  nodeAssert.ok(text.startsWith("## 2. Text embeddings") && text.endsWith("7.4× faster."), text);
  const results = carrySections(fresh, earlier);
  nodeAssert.deepEqual(Object.keys(results.carried?.sections ?? {}), ["text", "train"]);
  nodeAssert.equal(results.carried?.from, "2026-11-27 17:17 UTC");
  const report = renderReport(results);
  // The section's text verbatim (its sub-heading and table too), labelled with the run it came from.
  nodeAssert.ok(report.includes("| clipkit   |     123.4 |\n\n### Head to head\n\n7.4× faster."));
  nodeAssert.ok(report.includes("_Measured in the earlier run of 2026-11-27 17:17 UTC;"));
  nodeAssert.ok(report.includes("## 8. Shapes world") && report.includes("old training numbers"));
  nodeAssert.ok(
    report.replace(/ {2,}/g, " ").includes(
      "| cached 80,000-prompt head rebuild < 1 s | 586 ms (earlier run) |",
    ),
  );
  // Carried again from the new report: the same report (the label is not doubled).
  nodeAssert.equal(renderReport(carrySections(fresh, report)), report);
  // A section this run measured is not carried.
  nodeAssert.equal(
    carrySections(fresh, earlier.replace("## 6.", "## 8. Shapes world\n\nold\n\n## 6.")).carried?.sections
      .world,
    undefined,
  );
});

sharedTest(
  "bench: the engine's initial weights have openai/CLIP's state_dict names and PyTorch layouts",
  async () => {
    const manifest = JSON.parse(
      await Deno.readTextFile(join(SHARED_DIR, "golden", "train_step", "manifest.json")),
    );
    const architecture = { ...manifest.config, vision_heads: manifest.vision_heads };
    const sd = torchStateDict(architecture, 0);
    const want = manifest.parameters as Record<string, { shape: number[] }>;
    nodeAssert.deepEqual(Object.keys(sd).sort(), Object.keys(want).sort());
    for (const [name, { shape }] of Object.entries(want)) {
      nodeAssert.equal(sd[name].length, shape.reduce((a, b) => a * b, 1), name);
    }
    // in_proj_weight: initWeights stores [in, out] = [64, 192]; PyTorch's is [out, in] = [192, 64]
    const stored = initWeights(architecture, 0)["visual.transformer.resblocks.0.attn.in_proj_weight"];
    const torch = sd["visual.transformer.resblocks.0.attn.in_proj_weight"];
    nodeAssert.equal(torch[5 * 64 + 3], stored[3 * 192 + 5]); // [out 5, in 3] = [in 3, out 5]
  },
);
