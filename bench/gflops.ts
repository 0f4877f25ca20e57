/**
 * Comparison 5: achieved GFLOP/s of the image tower against the machine's matmul peak, a bare ONNX Runtime
 * MatMul of the tower's largest shape (`[32·T, W] × [W, 4W]`, the MLP's first layer at batch 32) with fresh
 * outputs and with pre-allocated ones.
 *
 * The tower's FLOPs are counted from its shape: matrix products only, 2 per multiply-add (patch
 * embedding, QKV, attention scores and mix, output projection, MLP, final projection); layer norms, softmax
 * and activations (≈1% more) are left out, so achieved GFLOP/s are slight underestimates.
 * @module
 */
import type { ImageRow } from "./images.ts";
import { isSkipped, runJob } from "./jobs.ts";
import type { Timing } from "./stats.ts";
import { fmt, markdownTable } from "./table.ts";

/** The vision tower's shape, from config.json's `vision_config` and `projection_dim`. */
export interface VisionShape {
  imageSize: number;
  patchSize: number;
  width: number;
  layers: number;
  projection: number;
}

/**
 * Read the vision tower's shape from a model directory's config.json.
 * @example
 * await visionShape("bench/out/vit-b-32") // { imageSize: 224, patchSize: 32, width: 768, layers: 12, projection: 512 }
 */
export async function visionShape(model: string): Promise<VisionShape> {
  const c = JSON.parse(await Deno.readTextFile(`${model}/config.json`));
  const v = c.vision_config;
  return {
    imageSize: v.image_size,
    patchSize: v.patch_size,
    width: v.hidden_size,
    layers: v.num_hidden_layers,
    projection: c.projection_dim,
  };
}

/**
 * FLOPs of one image through the vision tower (matrix products, 2 per multiply-add).
 * @example
 * visionFlops({ imageSize: 224, patchSize: 32, width: 768, layers: 12, projection: 512 }) // 8_817_623_040 (≈8.82 GFLOP)
 */
export function visionFlops(s: VisionShape): number {
  const patches = (s.imageSize / s.patchSize) ** 2;
  const tokens = patches + 1; // + class token
  const w = s.width;
  const patchEmbed = 2 * patches * (3 * s.patchSize * s.patchSize) * w;
  const perLayer = 2 * tokens * w * 3 * w + // QKV
    2 * 2 * tokens * tokens * w + // scores and their mix of V
    2 * tokens * w * w + // output projection
    2 * 2 * tokens * w * 4 * w; // MLP, two layers
  return patchEmbed + s.layers * perLayer + 2 * w * s.projection;
}

/** The measured MatMul peak. */
export interface MatMulPeak {
  m: number;
  k: number;
  n: number;
  threads: number;
  fresh: Timing;
  prealloc: Timing;
  /** GFLOP/s at the median, fresh outputs and pre-allocated outputs. */
  freshGflops: number;
  preallocGflops: number;
}

/**
 * Time the bare MatMul peak for a vision shape at batch 32.
 * @example
 * (await matmulPeak(shape, 10)).preallocGflops // 344
 */
export async function matmulPeak(shape: VisionShape, reps = 10): Promise<MatMulPeak | string> {
  const m = 32 * ((shape.imageSize / shape.patchSize) ** 2 + 1), k = shape.width, n = 4 * shape.width;
  const result = await runJob({ task: "matmul", contender: "ort-node", m, k, n, warmup: 2, reps });
  if (isSkipped(result)) return result.skipped;
  const flops = 2 * m * k * n;
  const prealloc = result.timings!.prealloc;
  return {
    m,
    k,
    n,
    threads: result.threads,
    fresh: result.timing!,
    prealloc,
    freshGflops: flops / result.timing!.median / 1e9,
    preallocGflops: flops / prealloc.median / 1e9,
  };
}

/** The Markdown table of comparison 5: the peak rows, then each image row's achieved GFLOP/s and share of the peak. */
export function gflopsTable(flopsPerImage: number, peak: MatMulPeak, rows: ImageRow[]): string {
  const shape = `[${peak.m}, ${peak.k}] × [${peak.k}, ${peak.n}]`;
  const out: string[][] = [
    [`bare ORT MatMul ${shape}, fresh output each run`, String(peak.threads), fmt(peak.freshGflops), "–"],
    [
      `bare ORT MatMul ${shape}, pre-allocated output`,
      String(peak.threads),
      fmt(peak.preallocGflops),
      "100%",
    ],
  ];
  for (const r of rows.filter((x) => x.batch === 32)) {
    const gflops = (r.perSecond * flopsPerImage) / 1e9;
    out.push([
      `${r.label}, ${r.input === "files" ? "image files" : "ready tensors"}, batch ${r.batch}`,
      String(r.threads),
      fmt(gflops),
      `${((100 * gflops) / peak.preallocGflops).toFixed(0)}%`,
    ]);
  }
  return markdownTable(
    ["what", "threads", "GFLOP/s", "of the MatMul peak"],
    out,
    ["left", "right", "right", "right"],
  );
}
