/**
 * Reading a CLIP model directory's `config.json` (the Hugging Face `CLIPModel` layout, as
 * transformers.js repositories and clipkit's own exports write it) and finding its ONNX files.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { MissingModelFileError, ModelLoadError } from "../errors.ts";
import { readJsonFile } from "../fs.ts";
import { CONTEXT_LENGTH, MAX_LOGIT_SCALE } from "../constants.ts";

/** Which ONNX variant to load: full precision, half precision, or 8-bit quantised. */
export type Dtype = "fp32" | "fp16" | "q8";

/** File-name suffix of each dtype, as transformers.js repositories name their variants. */
export const DTYPE_SUFFIX: Record<Dtype, string> = { fp32: "", fp16: "_fp16", q8: "_quantized" };

/** Where `logitScale` came from (real checkpoints keep the trained value in the weights, not the config). */
export type LogitScaleSource =
  | "option"
  | "config.logit_scale"
  | "openai-checkpoint"
  | "config.logit_scale_init_value";

/** What clipkit reads from `config.json`. */
export interface ClipConfig {
  /** Width of both towers' projections (`projection_dim`), when the config states it. */
  projectionDim?: number;
  /**
   * The multiplier of cosine similarities in CLIP's logits (about 100 for OpenAI's checkpoints). Always above 0:
   * a config.json `logit_scale` ≤ 0 or not a number is a `ModelLoadError` (it would invert or erase the logits).
   */
  logitScale: number;
  /** How `logitScale` was found. */
  logitScaleSource: LogitScaleSource;
  /** Text positions (`text_config.max_position_embeddings`, 77 for CLIP). */
  contextLength: number;
  /** Vision input resolution (`vision_config.image_size`), when stated. */
  imageSize?: number;
  /** The whole parsed `config.json`. */
  raw: Record<string, unknown>;
}

/**
 * Read and check `config.json` in `dir`.
 * @example
 * ```ts
 * import { readClipConfig } from "./config.ts";
 * const config = await readClipConfig("../shared/fixtures/clip-tiny-torch");
 * [config.projectionDim, config.logitScale, config.contextLength]; // → [64, 14.285714149475098, 77]
 * ```
 */
export async function readClipConfig(
  dir: string,
  options: { logitScale?: number } = {},
): Promise<ClipConfig> {
  const raw = await readJson(join(dir, "config.json"), "config.json");
  const text = objectField(raw, "text_config");
  const vision = objectField(raw, "vision_config");
  const projectionDim = numberField(raw, "projection_dim") ?? numberField(text, "projection_dim");
  const textProjection = numberField(text, "projection_dim");
  const visionProjection = numberField(vision, "projection_dim");
  if (textProjection !== undefined && visionProjection !== undefined && textProjection !== visionProjection) {
    throw new ModelLoadError(
      `text_config.projection_dim (${textProjection}) and vision_config.projection_dim (${visionProjection}) differ`,
      {
        path: join(dir, "config.json"),
        fix: "CLIP compares text and image embeddings, so both towers must project to the same width: " +
          "export both towers from the same checkpoint",
      },
    );
  }
  return {
    projectionDim,
    ...logitScale(raw, options.logitScale, join(dir, "config.json")),
    contextLength: numberField(text, "max_position_embeddings") ?? CONTEXT_LENGTH,
    imageSize: numberField(vision, "image_size"),
    raw,
  };
}

function logitScale(
  raw: Record<string, unknown>,
  option: number | undefined,
  path: string,
): Pick<ClipConfig, "logitScale" | "logitScaleSource"> {
  if (option !== undefined) {
    if (!(Number.isFinite(option) && option > 0)) {
      throw new ModelLoadError(`logitScale must be a positive number, got ${option}`, {
        fix: "pass the multiplier (e.g. 100), not its logarithm",
      });
    }
    return { logitScale: option, logitScaleSource: "option" };
  }
  for (const key of ["logit_scale", "logit_scale_init_value"]) {
    const v = raw[key];
    if (v !== undefined && v !== null && !(typeof v === "number" && Number.isFinite(v))) {
      throw new ModelLoadError(`config.json's ${key} is ${JSON.stringify(v)}, not a finite number`, {
        path,
        fix: key === "logit_scale"
          ? 'write the multiplier as a number (e.g. "logit_scale": 100), or pass { logitScale } to ClipModel.load'
          : 'write its natural log as a number (e.g. "logit_scale_init_value": 2.6592)',
      });
    }
  }
  const direct = numberField(raw, "logit_scale");
  if (direct !== undefined) {
    // The multiplier of cosines (exp of the learned parameter): at or below 0 it would flip or erase the logits.
    if (!(direct > 0)) {
      throw new ModelLoadError(
        `config.json's logit_scale is ${direct}, but it is the multiplier of cosine similarities and must ` +
          "be above 0 (at or below 0 it would erase or invert model.logits)",
        {
          path,
          fix: `if ${direct} is the learned log-scale, write its exp (e.g. "logit_scale": ${
            Number(Math.exp(direct).toPrecision(6))
          }); or pass { logitScale } to ClipModel.load`,
        },
      );
    }
    return { logitScale: direct, logitScaleSource: "config.logit_scale" };
  }
  const name = String(raw["_name_or_path"] ?? raw["name_or_path"] ?? "");
  if (/openai\/clip-vit/i.test(name)) {
    // OpenAI's released checkpoints all trained `logit_scale` up to its clamp, ln(100).
    return { logitScale: MAX_LOGIT_SCALE, logitScaleSource: "openai-checkpoint" };
  }
  const init = numberField(raw, "logit_scale_init_value");
  if (init !== undefined) {
    return { logitScale: Math.exp(init), logitScaleSource: "config.logit_scale_init_value" };
  }
  throw new ModelLoadError("config.json has neither logit_scale nor logit_scale_init_value", {
    path,
    fix:
      'add "logit_scale" (the multiplier, e.g. 100) to config.json, or pass { logitScale } to ClipModel.load',
  });
}

/**
 * Path of a tower's ONNX file for a dtype, e.g. `onnx/vision_model_fp16.onnx`; a typed error
 * naming the file and the fetch command when it is missing.
 * @example
 * ```ts
 * import { onnxPath } from "./config.ts";
 * onnxPath("models/tiny-clip", "text", "fp32"); // → "models/tiny-clip/onnx/text_model.onnx" (throws when absent)
 * ```
 */
export function onnxPath(dir: string, tower: "text" | "vision", dtype: Dtype): string {
  const suffix = DTYPE_SUFFIX[dtype];
  if (suffix === undefined) {
    throw new ModelLoadError(`unknown dtype "${dtype}"`, { fix: 'use dtype "fp32", "fp16" or "q8"' });
  }
  const file = join("onnx", `${tower}_model${suffix}.onnx`);
  const path = join(dir, file);
  if (existsSync(path)) return path;
  const flat = join(dir, `${tower}_model${suffix}.onnx`);
  if (existsSync(flat)) return flat;
  throw new MissingModelFileError(`the ${tower} tower (${file}, dtype ${dtype}) is missing`, {
    path,
    fix: `download it with \`deno task fetch-model <repo-id> --dtype ${dtype} --dir ${dir}\`` +
      (dtype === "fp32" ? "" : `, or load another dtype (e.g. { dtype: "fp32" })`),
  });
}

/** Parse a JSON file, with typed errors for a missing or malformed file. */
export async function readJson(path: string, what: string): Promise<Record<string, unknown>> {
  const parsed = await readJsonFile(path, `${what} in the model directory`, {
    missing: MissingModelFileError,
    malformed: ModelLoadError,
    fixMissing:
      "point ClipModel.load at a CLIP model directory (config.json, preprocessor_config.json, onnx/), " +
      "or download one with `deno task fetch-model Xenova/clip-vit-base-patch32`",
    fixMalformed: "re-download the model directory with `deno task fetch-model <repo-id>`",
  });
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ModelLoadError(`${what} must hold a JSON object`, {
      path,
      fix: "re-download the model directory",
    });
  }
  return parsed as Record<string, unknown>;
}

function objectField(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = o[key];
  return typeof v === "object" && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : {};
}

function numberField(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}
