/**
 * The benchmark model: a full-size, random-weight CLIP of ViT-B/32 shape (image 224, patch 32, width 768,
 * 12 layers; text width 512, 12 layers, vocab 49,408; projection 512), written by the project's exporter
 * into `bench/out/vit-b-32/` (gitignored) when absent, with its fp16 and int8 variants
 * (`onnx/*_fp16.onnx`, `onnx/*_quantized.onnx`, made by `src/onnx/variants.ts`).
 *
 * Run alone: `deno run -A bench/vitb32.ts [--out DIR]` (prints what it wrote, or that it was there).
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { exportClip } from "../src/onnx/export.ts";
import { type ClipArchitecture, loadArchitecture } from "../src/model/architecture.ts";
import { shared } from "./shared.ts";
import { readVocabulary, writeHfTokenizerFiles } from "../src/text/vocabulary.ts";
import { writeVariants } from "../src/onnx/variants.ts";

/** Where `deno task bench` keeps the full-size model. */
export const VITB32_DIR = join(import.meta.dirname!, "out", "vit-b-32");
/** Seed of the random weights (speed does not depend on their values). */
const SEED = 0;
/** The tokenizer files the exporter writes (transformers.js needs tokenizer_config.json too). */
const TOKENIZER_FILES = ["vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"];
/** The model's files that must all exist for the directory to count as complete. */
const FILES = [
  "config.json",
  "preprocessor_config.json",
  ...TOKENIZER_FILES,
  "onnx/text_model.onnx",
  "onnx/vision_model.onnx",
  "onnx/text_model_fp16.onnx",
  "onnx/vision_model_fp16.onnx",
  "onnx/text_model_quantized.onnx",
  "onnx/vision_model_quantized.onnx",
];

/** Options of {@link ensureModel}. */
export interface EnsureModelOptions {
  /** Model shape (default: the exporter's `vit-b-32` preset). */
  config?: ClipArchitecture;
  /** Tokenizer written beside the graphs (default CLIP's `bpe_simple_vocab_16e6.txt.gz` in ../shared). */
  tokenizer?: string;
  /** Print what is written. */
  log?: (line: string) => void;
}

/**
 * Write the random-weight model directory (fp32, fp16, int8) unless every file is already there; returns
 * the directory.
 * @example
 * await ensureModel(VITB32_DIR) // "/work/main/bench/out/vit-b-32" (≈1 min the first time, then instant)
 */
export async function ensureModel(
  dir: string = VITB32_DIR,
  options: EnsureModelOptions = {},
): Promise<string> {
  const log = options.log ?? (() => {});
  if (FILES.every((f) => existsSync(join(dir, f)))) return dir;
  const config = options.config ?? loadArchitecture("vit-b-32");
  const tokenizer = options.tokenizer ?? shared("clip", "bpe_simple_vocab_16e6.txt.gz");
  const started = performance.now();
  const has = (f: string) => existsSync(join(dir, f));
  if (!has("onnx/vision_model.onnx") || !has("onnx/text_model.onnx") || !has("config.json")) {
    const result = await exportClip(config, dir, {
      random: SEED,
      tokenizer,
      extraConfig: { _comment: `RANDOM weights (seed ${SEED}): for benchmarks only` },
    });
    log(`wrote ${dir}: ${result.parameters.toLocaleString("en")} parameters`);
  } else if (!TOKENIZER_FILES.every(has)) {
    await writeHfTokenizerFiles(dir, (await readVocabulary(tokenizer)).merges);
    log(`wrote the tokenizer files of ${dir}`);
  }
  for (const tower of ["text", "vision"] as const) {
    if (has(`onnx/${tower}_model_fp16.onnx`) && has(`onnx/${tower}_model_quantized.onnx`)) continue;
    const written = await writeVariants(join(dir, "onnx", `${tower}_model.onnx`));
    log(`wrote ${written.map((p) => p.split("/").pop()).join(", ")}`);
  }
  log(`model ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { out: { type: "string" } } });
  const dir = await ensureModel(values.out ?? VITB32_DIR, { log: console.log });
  console.log(`model directory: ${dir}`);
}
