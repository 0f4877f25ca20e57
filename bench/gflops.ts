/**
 * Comparison 5: achieved GFLOP/s of the image tower against the machine's matmul peak, a bare ONNX Runtime
 * MatMul of the tower's largest shape (`[32·T, W] × [W, 4W]`, the MLP's first layer at batch 32) with fresh
 * outputs and with pre-allocated ones.
 *
 * The tower's FLOPs are counted from its shape by `flops.ts` (matrix products only, 2 per multiply-add;
 * layer norms, softmax and activations, ≈1% more, are left out: achieved GFLOP/s are slight underestimates).
 * @module
 */
import type { ImageRow } from "./images.ts";
import { isSkipped, runJob } from "./jobs.ts";
import { MATMUL_RUNS } from "./contenders/ort.ts";
import type { Timing } from "./stats.ts";
import { fmt, markdownTable } from "./table.ts";
import { visionTowerFlops } from "./flops.ts";

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
  return visionTowerFlops(s);
}

/** The MatMul peak and the image tower, measured in one process, in turns. */
export interface GflopsRun {
  m: number;
  k: number;
  n: number;
  threads: number;
  /** GFLOP/s at the median, by key: `matmul-fresh`, `matmul-prealloc`, `ort-node-prealloc`, `clipkit-node`. */
  gflops: Record<string, number>;
  labels: Record<string, string>;
  timings: Record<string, Timing>;
}

/**
 * Time the bare MatMul (fresh and pre-allocated outputs) and the image tower fed tensors at batch 32 (bare
 * session, clipkit) in one process, in turns.
 * @example
 * (await measureGflops(dir, shape, files, 5)).gflops // { "matmul-fresh": 129, "matmul-prealloc": 344, "ort-node-prealloc": 297, "clipkit-node": 290 }
 */
export async function measureGflops(
  model: string,
  shape: VisionShape,
  files: string[],
  reps = 5,
): Promise<GflopsRun | string> {
  const batch = 32;
  const m = batch * ((shape.imageSize / shape.patchSize) ** 2 + 1), k = shape.width, n = 4 * shape.width;
  const images = Array.from({ length: batch }, (_, i) => files[i % files.length]);
  const result = await runJob({
    task: "head-to-head",
    contender: "clipkit-node",
    set: "gflops",
    model,
    batch,
    files: images,
    matmul: { m, k, n },
    warmup: 1,
    reps,
  });
  if (isSkipped(result)) return result.skipped;
  const perImage = visionFlops(shape);
  const gflops: Record<string, number> = {};
  for (const [key, t] of Object.entries(result.timings!)) {
    gflops[key] = (key.startsWith("matmul") ? MATMUL_RUNS * 2 * m * k * n : batch * perImage) / t.median /
      1e9;
  }
  return { m, k, n, threads: result.threads, gflops, labels: result.labels!, timings: result.timings! };
}

/**
 * The Markdown table of comparison 5: the MatMul and the tower measured together (in turns, one process),
 * then each batch-32 row of comparison 1 (separate processes) against the same peak.
 */
export function gflopsTable(flopsPerImage: number, run: GflopsRun, rows: ImageRow[]): string {
  const peak = run.gflops["matmul-prealloc"];
  const out: string[][] = Object.entries(run.gflops).map(([key, g]) => [
    `${run.labels[key]} (one process, in turns)`,
    String(run.threads),
    fmt(g),
    `${((100 * g) / peak).toFixed(0)}%`,
  ]);
  for (const r of rows.filter((x) => x.batch === 32)) {
    const gflops = (r.perSecond * flopsPerImage) / 1e9;
    out.push([
      `${r.label}, ${r.input === "files" ? "image files" : "ready tensors"} (comparison 1, own process)`,
      String(r.threads),
      fmt(gflops),
      `${((100 * gflops) / peak).toFixed(0)}%`,
    ]);
  }
  return markdownTable(
    ["what", "threads", "GFLOP/s", "of the MatMul peak"],
    out,
    ["left", "right", "right", "right"],
  );
}
