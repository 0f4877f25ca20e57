/**
 * PyTorch CLIP checkpoints in, ONNX model folders out: open_clip's hub layout and Hugging Face's
 * `CLIPModel` folders are converted once by the kit's exporter into a cache folder keyed by the
 * checkpoint's content, which `ClipModel.load` then reads like any model folder.
 *
 * ```
 * open_clip_config.json + open_clip_model.safetensors    (openai/CLIP state_dict names)  ┐
 * config.json + model.safetensors (or *.index.json + shards)  (transformers' names)      ┴─► readCheckpointPlan
 *   ─► architecture + activation + preprocessing ─► safetensors headers ─► checkWeights (names, shapes)
 *   ─► assembleWeights (PyTorch layouts → the exporter's) ─► exportClip into checkpoints/.tmp-… ─► rename to
 *   checkpoints/<sha256 of the files>/ (onnx/, config.json, preprocessor_config.json, tokenizer, manifest)
 * ```
 *
 * The cache folder holds `clipkit_conversion.json` (written last: its files and their sizes); a folder whose
 * manifest is missing, or whose files are missing or of another size, is rebuilt. Hashing a large checkpoint
 * takes seconds, so the key is remembered per source folder together with each file's size and mtime.
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import {
  CheckpointWeightsError,
  MissingModelFileError,
  ModelLoadError,
  UnsupportedCheckpointError,
} from "../errors.ts";
import { readJsonFile, writeAtomic } from "../fs.ts";
import { LAYER_NORM_EPS } from "../constants.ts";
import { type ClipArchitecture, MLP_RATIO, validateArchitecture } from "./architecture.ts";
import {
  assembleWeights,
  type CheckpointNaming,
  checkWeights,
  type WeightSource,
  weightSources,
} from "./checkpoint_names.ts";
import { type Dtype, DTYPE_SUFFIX } from "./config.ts";
import { Progress, type ProgressCallback } from "./progress.ts";
import { SafetensorsFile, type TensorInfo } from "./safetensors.ts";
import { type Activation, exportClip, preprocessorConfig } from "../onnx/export.ts";
import { toFp16, toInt8 } from "../onnx/variants.ts";
import { defaultCacheDir } from "../zeroshot/text_cache.ts";

/** The two checkpoint layouts read here. */
export type CheckpointLayout = "open_clip" | "hf";

/** A checkpoint folder as found on disk. */
export interface CheckpointFolder {
  /** The checkpoint folder. */
  dir: string;
  /** Whose layout it is in: open_clip's or Hugging Face's. */
  layout: CheckpointLayout;
  /** `open_clip_config.json` or `config.json`. */
  configPath: string;
  /** The safetensors file(s) holding the weights (several for a sharded checkpoint). */
  weightPaths: string[];
  /** `model.safetensors.index.json` of a sharded checkpoint. */
  indexPath?: string;
  /** `preprocessor_config.json` beside a Hugging Face checkpoint. */
  preprocessorPath?: string;
  /** Tokenizer files beside the checkpoint (`tokenizer.json`, `vocab.json`, `merges.txt`). */
  tokenizerPaths: string[];
}

/** What the conversion builds, read from the checkpoint's config. */
export interface CheckpointPlan {
  /** The architecture to build. */
  architecture: ClipArchitecture;
  /** The MLP activation (`quick_gelu` for OpenAI's models, `gelu` for most others). */
  activation: Activation;
  /** How the checkpoint names its tensors. */
  naming: CheckpointNaming;
  /** `preprocessor_config.json` to write (the checkpoint's own, or one built from open_clip's `preprocess_cfg`). */
  preprocessor: Record<string, unknown>;
}

/** How `ClipModel.load` converts a checkpoint folder (its `conversion` option). */
export interface ConversionOptions {
  /** Cache root (default `$CLIPKIT_CACHE/checkpoints`, else `.cache/clipkit/checkpoints` in the repository). */
  cacheDir?: string;
  /** Convert again even when a valid cache folder exists. */
  rebuild?: boolean;
  /** Draw a progress bar while converting (default true). */
  progress?: boolean;
  /** Called as the conversion advances (bytes hashed, read and written). */
  onProgress?: ProgressCallback;
}

/** Options of {@link prepareCheckpoint}. */
export interface PrepareCheckpointOptions extends ConversionOptions {
  /** Also build this ONNX variant in the cache folder (default `"fp32"`: none besides the float32 graphs). */
  dtype?: Dtype;
  /** A tokenizer (anything `ClipTokenizer.load` reads) when the checkpoint folder has none. */
  tokenizer?: string;
}

/** What {@link prepareCheckpoint} did. */
export interface PreparedCheckpoint {
  /** The ONNX model folder to load. */
  dir: string;
  /** The cache key: sha256 (hex) of the conversion's inputs. */
  key: string;
  /** Whether this call converted the checkpoint (false: the cache folder was reused). */
  converted: boolean;
  /** The checkpoint's layout. */
  layout: CheckpointLayout;
}

/** Changes whenever the conversion would write other bytes for the same checkpoint (part of the key). */
export const CONVERTER_VERSION = "clipkit-checkpoint-1";
/** The manifest of a cache folder, written last. */
export const MANIFEST = "clipkit_conversion.json";
/** Tokenizer files carried from a checkpoint folder into its cache folder. */
const TOKENIZER_FILES = ["tokenizer.json", "vocab.json", "merges.txt"];
/** Bytes hashed at a time. */
const HASH_CHUNK = 1 << 22;

/**
 * The folder conversions are cached in: `$CLIPKIT_CACHE/checkpoints` when that is set, else
 * `.cache/clipkit/checkpoints` in the repository (beside the text-embedding cache, `defaultCacheDir`).
 * @example
 * ```ts
 * checkpointCacheDir(); // → "/work/main/.cache/clipkit/checkpoints"
 * ```
 */
export function checkpointCacheDir(): string {
  return join(dirname(defaultCacheDir()), "checkpoints");
}

/**
 * Recognise a checkpoint folder (undefined for anything else, including ONNX model folders, which win
 * when a folder holds both). open_clip's files win over Hugging Face's when a repository has both, as
 * LAION's do. A folder with only pickle weights (`*.bin`) is a typed error: only safetensors are read.
 * @example
 * ```ts
 * findCheckpoint("../shared/fixtures/clip-tiny-checkpoints/hf")?.layout; // → "hf"
 * findCheckpoint("../shared/fixtures/clip-tiny-torch"); // → undefined (an ONNX folder)
 * ```
 */
export function findCheckpoint(dir: string): CheckpointFolder | undefined {
  const has = (name: string) => existsSync(join(dir, name));
  const onnx = ["onnx/text_model.onnx", "onnx/vision_model.onnx", "text_model.onnx", "vision_model.onnx"];
  const variants = Object.values(DTYPE_SUFFIX).flatMap((s) =>
    onnx.map((f) => f.replace(".onnx", `${s}.onnx`))
  );
  if (variants.some(has)) return undefined;
  const tokenizerPaths = TOKENIZER_FILES.filter(has).map((f) => join(dir, f));
  if (has("open_clip_config.json") && has("open_clip_model.safetensors")) {
    return {
      dir,
      layout: "open_clip",
      configPath: join(dir, "open_clip_config.json"),
      weightPaths: [join(dir, "open_clip_model.safetensors")],
      tokenizerPaths,
    };
  }
  if (has("config.json") && (has("model.safetensors") || has("model.safetensors.index.json"))) {
    const preprocessorPath = has("preprocessor_config.json")
      ? join(dir, "preprocessor_config.json")
      : undefined;
    const indexPath = has("model.safetensors") ? undefined : join(dir, "model.safetensors.index.json");
    return {
      dir,
      layout: "hf",
      configPath: join(dir, "config.json"),
      weightPaths: indexPath ? [] : [join(dir, "model.safetensors")], // shards: read from the index
      indexPath,
      preprocessorPath,
      tokenizerPaths,
    };
  }
  const pickle = ["open_clip_pytorch_model.bin", "pytorch_model.bin"].find(has);
  if (pickle && (has("open_clip_config.json") || has("config.json"))) {
    throw new UnsupportedCheckpointError(`the checkpoint's weights are only in ${pickle} (a Python pickle)`, {
      path: join(dir, pickle),
      fix:
        "clipkit reads safetensors: download the repository's open_clip_model.safetensors or model.safetensors " +
        "(`deno task fetch-model <repo-id>` picks them), or save the state_dict with safetensors.torch.save_file",
    });
  }
  return undefined;
}

// ── configs ─────────────────────────────────────────────────────────────────────────────────────────────

type Json = Record<string, unknown>;

/**
 * open_clip config fields the exporter cannot honour, with the value it builds: a checkpoint that sets
 * another value is refused with {@link UnsupportedCheckpointError} naming the field.
 */
const OPEN_CLIP_FIXED: [tower: "vision_cfg" | "text_cfg", field: string, builds: unknown, what: string][] = [
  ["vision_cfg", "timm_model_name", null, "a timm image tower"],
  ["vision_cfg", "mlp_ratio", MLP_RATIO, "an MLP 4× the width"],
  ["vision_cfg", "ls_init_value", null, "no layer scale"],
  ["vision_cfg", "attentional_pool", false, "class-token pooling"],
  ["vision_cfg", "no_ln_pre", false, "a layer norm before the blocks"],
  ["vision_cfg", "final_ln_after_pool", false, "the final layer norm on the class token"],
  ["vision_cfg", "global_average_pool", false, "class-token pooling"],
  ["vision_cfg", "pool_type", "tok", "class-token pooling"],
  ["vision_cfg", "pos_embed_type", "learnable", "learned position embeddings"],
  ["vision_cfg", "input_patchnorm", false, "a plain patch embedding"],
  ["text_cfg", "hf_model_name", null, "openai/CLIP's text transformer"],
  ["text_cfg", "mlp_ratio", MLP_RATIO, "an MLP 4× the width"],
  ["text_cfg", "ls_init_value", null, "no layer scale"],
  ["text_cfg", "embed_cls", false, "EOT pooling"],
  ["text_cfg", "pool_type", "argmax", "EOT pooling (argmax of the ids)"],
  ["text_cfg", "proj_bias", false, "a text projection without bias"],
  ["text_cfg", "proj_type", "linear", "a linear text projection"],
  ["text_cfg", "no_causal_mask", false, "a causal text transformer"],
  ["text_cfg", "final_ln_after_pool", false, "the final layer norm before pooling"],
];

/** Hugging Face's `CLIPTextConfig` / `CLIPVisionConfig` defaults, for fields a config.json leaves out. */
const HF_TEXT_DEFAULTS = {
  vocab_size: 49408,
  hidden_size: 512,
  intermediate_size: 2048,
  num_hidden_layers: 12,
  num_attention_heads: 8,
  max_position_embeddings: 77,
  hidden_act: "quick_gelu",
  layer_norm_eps: 1e-5,
};
const HF_VISION_DEFAULTS = {
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_channels: 3,
  image_size: 224,
  patch_size: 32,
  hidden_act: "quick_gelu",
  layer_norm_eps: 1e-5,
};
/** open_clip's `CLIPVisionCfg` / `CLIPTextCfg` defaults. */
const OPEN_CLIP_VISION_DEFAULTS = { layers: 12, width: 768, head_width: 64, patch_size: 16, image_size: 224 };
const OPEN_CLIP_TEXT_DEFAULTS = { context_length: 77, vocab_size: 49408, width: 512, heads: 8, layers: 12 };
/** open_clip's interpolation names → PIL filter numbers, as preprocessor_config.json's `resample`. */
const RESAMPLE: Record<string, number> = { nearest: 0, bilinear: 2, bicubic: 3 };

/**
 * Read a checkpoint's config into what the conversion builds; unsupported architectures are typed errors.
 * @example
 * ```ts
 * const plan = await readCheckpointPlan(findCheckpoint("../shared/fixtures/clip-tiny-checkpoints/openclip")!);
 * [plan.architecture.vision_heads, plan.activation, plan.naming]; // → [1, "quick_gelu", "openai"]
 * ```
 */
export async function readCheckpointPlan(folder: CheckpointFolder): Promise<CheckpointPlan> {
  const raw = await readJson(folder.configPath);
  const plan = folder.layout === "open_clip"
    ? openClipPlan(raw, folder.configPath)
    : await hfPlan(raw, folder);
  checkTowerSizes(weightSources(plan.architecture, plan.naming), folder.configPath);
  return plan;
}

function openClipPlan(raw: Json, path: string): CheckpointPlan {
  const model = object(raw.model_cfg) ?? raw;
  const unsupported = (problem: string, fix?: string) =>
    new UnsupportedCheckpointError(problem, {
      path,
      fix: fix ?? "use a CLIP with openai/CLIP's ViT architecture (ViT-B/32, ViT-B/16, ViT-L/14, …)",
    });
  const vision = object(model.vision_cfg) ?? {};
  const text = object(model.text_cfg) ?? {};
  if (Array.isArray(vision.layers)) {
    throw unsupported(
      `vision_cfg.layers is ${
        JSON.stringify(vision.layers)
      }: a ResNet image tower (modified ResNet, attention pool)`,
      "use a ViT CLIP (ViT-B/32, ViT-B/16, ViT-L/14, …): the exporter builds ViT image towers only",
    );
  }
  if (model.init_logit_bias !== undefined && model.init_logit_bias !== null) {
    throw unsupported("init_logit_bias is set: a SigLIP model (sigmoid loss, logit bias)");
  }
  for (const [tower, field, builds, what] of OPEN_CLIP_FIXED) {
    const cfg = tower === "vision_cfg" ? vision : text;
    const value = cfg[field];
    if (value !== undefined && value !== builds) {
      throw unsupported(
        `${tower}.${field} is ${JSON.stringify(value)}; the exporter builds ${what} (${field} ${
          JSON.stringify(builds)
        })`,
      );
    }
  }
  const v = { ...OPEN_CLIP_VISION_DEFAULTS, ...vision } as Json;
  const t = { ...OPEN_CLIP_TEXT_DEFAULTS, ...text } as Json;
  const size = Array.isArray(v.image_size) ? v.image_size : [v.image_size, v.image_size];
  if (size[0] !== size[1]) {
    throw unsupported(`vision_cfg.image_size ${JSON.stringify(v.image_size)} is not square`);
  }
  const patch = Array.isArray(v.patch_size) ? v.patch_size[0] : v.patch_size;
  const architecture: ClipArchitecture = {
    embed_dim: int(model.embed_dim, "embed_dim", path),
    image_resolution: int(size[0], "vision_cfg.image_size", path),
    vision_layers: int(v.layers, "vision_cfg.layers", path),
    vision_width: int(v.width, "vision_cfg.width", path),
    vision_heads: int(
      Number(v.width) / Number(v.head_width),
      "vision_cfg.width / vision_cfg.head_width",
      path,
    ),
    vision_patch_size: int(patch, "vision_cfg.patch_size", path),
    context_length: int(t.context_length, "text_cfg.context_length", path),
    vocab_size: int(t.vocab_size, "text_cfg.vocab_size", path),
    transformer_width: int(t.width, "text_cfg.width", path),
    transformer_heads: int(t.heads, "text_cfg.heads", path),
    transformer_layers: int(t.layers, "text_cfg.layers", path),
  };
  validateArchitecture(architecture);
  const pre = object(raw.preprocess_cfg) ?? {};
  const resizeMode = pre.resize_mode ?? "shortest";
  if (resizeMode !== "shortest") {
    throw unsupported(
      `preprocess_cfg.resize_mode is ${JSON.stringify(resizeMode)}; clipkit preprocesses as CLIP does ` +
        "(resize the shortest side, centre crop)",
      'use a checkpoint trained with CLIP\'s preprocessing (resize_mode "shortest")',
    );
  }
  const interpolation = String(pre.interpolation ?? "bicubic");
  if (!(interpolation in RESAMPLE)) {
    throw unsupported(`preprocess_cfg.interpolation ${JSON.stringify(interpolation)} is not one PIL has`);
  }
  const preprocessor = {
    ...preprocessorConfig(architecture),
    ...(Array.isArray(pre.mean) ? { image_mean: pre.mean } : {}),
    ...(Array.isArray(pre.std) ? { image_std: pre.std } : {}),
    resample: RESAMPLE[interpolation],
  };
  return {
    architecture,
    activation: model.quick_gelu === true ? "quick_gelu" : "gelu",
    naming: "openai",
    preprocessor,
  };
}

async function hfPlan(raw: Json, folder: CheckpointFolder): Promise<CheckpointPlan> {
  const path = folder.configPath;
  const unsupported = (problem: string) =>
    new UnsupportedCheckpointError(problem, {
      path,
      fix: 'use a Hugging Face CLIPModel checkpoint (model_type "clip", e.g. openai/clip-vit-base-patch32)',
    });
  const architectures = Array.isArray(raw.architectures) ? raw.architectures : [];
  if (raw.model_type !== "clip" && !architectures.includes("CLIPModel")) {
    throw unsupported(
      `config.json describes ${JSON.stringify(raw.model_type ?? architectures[0] ?? "an unknown model")}, ` +
        'not a CLIPModel (model_type "clip")',
    );
  }
  const text = {
    ...HF_TEXT_DEFAULTS,
    ...(object(raw.text_config) ?? object(raw.text_config_dict) ?? {}),
  } as Json;
  const vision = {
    ...HF_VISION_DEFAULTS,
    ...(object(raw.vision_config) ?? object(raw.vision_config_dict) ?? {}),
  } as Json;
  const acts = [text.hidden_act, vision.hidden_act];
  for (const act of acts) {
    if (act !== "quick_gelu" && act !== "gelu") {
      throw unsupported(`hidden_act ${JSON.stringify(act)}: the exporter builds "quick_gelu" and "gelu"`);
    }
  }
  if (acts[0] !== acts[1]) {
    throw unsupported(`the towers use different activations (text ${acts[0]}, vision ${acts[1]})`);
  }
  for (const [name, cfg] of [["text_config", text], ["vision_config", vision]] as const) {
    if (cfg.intermediate_size !== MLP_RATIO * Number(cfg.hidden_size)) {
      throw unsupported(
        `${name}.intermediate_size ${cfg.intermediate_size} is not ${MLP_RATIO}× hidden_size ${cfg.hidden_size}`,
      );
    }
    if (Math.abs(Number(cfg.layer_norm_eps) - LAYER_NORM_EPS) > 1e-12) {
      throw unsupported(`${name}.layer_norm_eps ${cfg.layer_norm_eps}: the exporter's layer norms use 1e-5`);
    }
  }
  if (vision.num_channels !== 3) {
    throw unsupported(`vision_config.num_channels ${vision.num_channels}, not 3`);
  }
  const architecture: ClipArchitecture = {
    embed_dim: int(raw.projection_dim ?? 512, "projection_dim", path),
    image_resolution: int(vision.image_size, "vision_config.image_size", path),
    vision_layers: int(vision.num_hidden_layers, "vision_config.num_hidden_layers", path),
    vision_width: int(vision.hidden_size, "vision_config.hidden_size", path),
    vision_heads: int(vision.num_attention_heads, "vision_config.num_attention_heads", path),
    vision_patch_size: int(vision.patch_size, "vision_config.patch_size", path),
    context_length: int(text.max_position_embeddings, "text_config.max_position_embeddings", path),
    vocab_size: int(text.vocab_size, "text_config.vocab_size", path),
    transformer_width: int(text.hidden_size, "text_config.hidden_size", path),
    transformer_heads: int(text.num_attention_heads, "text_config.num_attention_heads", path),
    transformer_layers: int(text.num_hidden_layers, "text_config.num_hidden_layers", path),
  };
  validateArchitecture(architecture);
  const preprocessor = folder.preprocessorPath
    ? await readJson(folder.preprocessorPath)
    : preprocessorConfig(architecture);
  return { architecture, activation: acts[0] as Activation, naming: "hf", preprocessor };
}

// ── weights ─────────────────────────────────────────────────────────────────────────────────────────────

/** The checkpoint's safetensors files, opened; tensors by name with the file holding each. */
async function openWeights(folder: CheckpointFolder): Promise<{
  files: SafetensorsFile[];
  tensors: Map<string, { file: SafetensorsFile; info: TensorInfo }>;
}> {
  const files: SafetensorsFile[] = [];
  const tensors = new Map<string, { file: SafetensorsFile; info: TensorInfo }>();
  try {
    for (const path of await weightPaths(folder)) {
      const file = await SafetensorsFile.open(path);
      files.push(file);
      for (const info of file.tensors.values()) {
        const other = tensors.get(info.name);
        if (other) {
          throw new CheckpointWeightsError(`tensor ${info.name} is in two shards`, {}, {
            path: `${other.file.path}, ${path}`,
            fix: "re-download the checkpoint: each tensor belongs in one shard",
          });
        }
        tensors.set(info.name, { file, info });
      }
    }
  } catch (error) {
    for (const f of files) f.close();
    throw error;
  }
  return { files, tensors };
}

/** The weight files: the one safetensors file, or the shards a `model.safetensors.index.json` names. */
async function weightPaths(folder: CheckpointFolder): Promise<string[]> {
  if (!folder.indexPath) return folder.weightPaths;
  const index = await readJson(folder.indexPath);
  const map = object(index.weight_map);
  if (!map) {
    throw new ModelLoadError("model.safetensors.index.json has no weight_map", {
      path: folder.indexPath,
      fix: "re-download the checkpoint's index file",
    });
  }
  const shards = [...new Set(Object.values(map).map(String))].sort();
  for (const shard of shards) {
    if (shard.includes("..") || shard.startsWith("/") || !existsSync(join(folder.dir, shard))) {
      throw new MissingModelFileError(`the shard ${shard} named by model.safetensors.index.json is missing`, {
        path: join(folder.dir, shard),
        fix: "download every shard (`deno task fetch-model <repo-id>` fetches them all)",
      });
    }
  }
  return shards.map((s) => join(folder.dir, s));
}

/** All files whose bytes go into the key: config, weights, index, preprocessing, tokenizer. */
async function keyedFiles(folder: CheckpointFolder, tokenizer?: string): Promise<string[]> {
  const files = [folder.configPath, ...await weightPaths(folder)];
  if (folder.indexPath) files.push(folder.indexPath);
  if (folder.preprocessorPath) files.push(folder.preprocessorPath);
  files.push(...folder.tokenizerPaths);
  if (tokenizer !== undefined && folder.tokenizerPaths.length === 0) {
    const stat = await Deno.stat(tokenizer);
    if (stat.isDirectory) {
      files.push(...TOKENIZER_FILES.map((f) => join(tokenizer, f)).filter((f) => existsSync(f)));
    } else files.push(tokenizer);
  }
  return files;
}

// ── cache ───────────────────────────────────────────────────────────────────────────────────────────────

/** The manifest of a cache folder. */
interface Manifest {
  converter: string;
  key: string;
  layout: CheckpointLayout;
  source: string;
  architecture: ClipArchitecture;
  activation: Activation;
  created: string;
  /** Path (relative to the cache folder) → size in bytes. */
  files: Record<string, number>;
}

/** The remembered key of a source folder: valid while every file keeps its size and mtime. */
interface Stamp {
  key: string;
  files: { path: string; size: number; mtimeMs: number | null }[];
}

/** The manifest, if the folder is complete: every listed file present with its size. */
async function readManifest(dir: string, key: string): Promise<Manifest | undefined> {
  try {
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, MANIFEST))) as Manifest;
    if (manifest.key !== key || manifest.converter !== CONVERTER_VERSION) return undefined;
    for (const [file, size] of Object.entries(manifest.files)) {
      if ((await Deno.stat(join(dir, file))).size !== size) return undefined;
    }
    return manifest;
  } catch {
    return undefined;
  }
}

async function fileStamps(paths: string[]): Promise<Stamp["files"]> {
  return await Promise.all(paths.map(async (path) => {
    const stat = await Deno.stat(path);
    return { path: resolve(path), size: stat.size, mtimeMs: stat.mtime?.getTime() ?? null };
  }));
}

/** sha256 over the converter version, the layout and each file's name and bytes. */
async function hashFiles(
  folder: CheckpointFolder,
  paths: string[],
  progress: Progress,
): Promise<string> {
  const hash = createHash("sha256");
  hash.update(`${CONVERTER_VERSION}\0${folder.layout}\0`);
  const chunk = new Uint8Array(HASH_CHUNK);
  for (const path of paths) {
    hash.update(`${relative(folder.dir, path) || basename(path)}\0${(await Deno.stat(path)).size}\0`);
    using file = await Deno.open(path);
    for (let n = await file.read(chunk); n !== null; n = await file.read(chunk)) {
      hash.update(chunk.subarray(0, n));
      progress.tick(n);
    }
  }
  return hash.digest("hex");
}

/** The cache key of a checkpoint, from the remembered stamp when no file changed, else by hashing. */
async function checkpointKey(
  folder: CheckpointFolder,
  paths: string[],
  root: string,
  options: PrepareCheckpointOptions,
): Promise<string> {
  const stampPath = join(
    root,
    "sources",
    `${sha256(resolve(folder.dir) + "\0" + (options.tokenizer ?? ""))}.json`,
  );
  const stamps = await fileStamps(paths);
  try {
    const stamp = JSON.parse(await Deno.readTextFile(stampPath)) as Stamp;
    if (JSON.stringify(stamp.files) === JSON.stringify(stamps)) return stamp.key;
  } catch {
    // no stamp yet, or an unreadable one: hash
  }
  const total = stamps.reduce((s, f) => s + f.size, 0);
  const progress = bar(total, `hashing ${basename(resolve(folder.dir))}`, options);
  const key = await hashFiles(folder, paths, progress);
  progress.finish();
  await writeAtomic(stampPath, JSON.stringify({ key, files: stamps } satisfies Stamp) + "\n", {
    mkdir: true,
  });
  return key;
}

/**
 * Find or build the ONNX model folder of a checkpoint folder: reuse `<cache>/<key>` when it is complete,
 * else convert into a temporary folder and rename it into place.
 * @example
 * ```ts
 * const prepared = await prepareCheckpoint("../shared/fixtures/clip-tiny-checkpoints/openclip");
 * prepared.converted; // → true the first time, false afterwards
 * prepared.dir; // → ".cache/clipkit/checkpoints/<64 hex digits>"
 * ```
 */
export async function prepareCheckpoint(
  dirOrFolder: string | CheckpointFolder,
  options: PrepareCheckpointOptions = {},
): Promise<PreparedCheckpoint> {
  const folder = typeof dirOrFolder === "string" ? findCheckpoint(dirOrFolder) : dirOrFolder;
  if (!folder) {
    throw new MissingModelFileError("not a checkpoint folder", {
      path: String(dirOrFolder),
      fix: "point at a folder with open_clip_config.json + open_clip_model.safetensors, or config.json + " +
        "model.safetensors",
    });
  }
  const dtype = options.dtype ?? "fp32";
  const root = options.cacheDir ?? checkpointCacheDir();
  const key = await checkpointKey(folder, await keyedFiles(folder, options.tokenizer), root, options);
  const target = join(root, key);
  const manifest = options.rebuild ? undefined : await readManifest(target, key);
  if (manifest) {
    await addVariant(target, manifest, dtype);
    return { dir: target, key, converted: false, layout: folder.layout };
  }
  await convert(folder, target, key, options);
  return { dir: target, key, converted: true, layout: folder.layout };
}

/** Convert a checkpoint into `target` (see the module documentation). */
async function convert(
  folder: CheckpointFolder,
  target: string,
  key: string,
  options: PrepareCheckpointOptions,
): Promise<void> {
  const plan = await readCheckpointPlan(folder);
  const { files, tensors } = await openWeights(folder);
  const root = dirname(target);
  const tmp = join(root, `.tmp-${key.slice(0, 16)}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
  try {
    const textPrefix = plan.naming === "openai" && tensors.has("text.token_embedding.weight") ? "text." : "";
    const sources = weightSources(plan.architecture, plan.naming, { textPrefix });
    const shapes = new Map([...tensors].map(([name, t]) => [name, t.info.shape]));
    checkWeights(sources, shapes, files.map((f) => f.path).join(", "));
    const needed = sources.flatMap((s) => s.sources);
    const readBytes = needed.reduce(
      (sum, n) => sum + tensors.get(n)!.info.end - tensors.get(n)!.info.begin,
      0,
    );
    const parameters = sources.reduce((sum, s) => sum + s.targetShape.reduce((a, b) => a * b, 1), 0);
    const writeBytes = 4 * parameters;
    const progress = bar(readBytes + writeBytes, `converting ${basename(resolve(folder.dir))}`, options);
    const weights = await assembleWeights(sources, async (name) => {
      const { file, info } = tensors.get(name)!;
      const data = await file.readFloat32(name);
      progress.tick(info.end - info.begin);
      return data;
    });
    for (const f of files) f.close();
    files.length = 0;
    await Deno.mkdir(tmp, { recursive: true });
    const tokenizer = folder.tokenizerPaths.length ? folder.dir : options.tokenizer;
    await exportClip({ config: plan.architecture, weights }, tmp, {
      tokenizer,
      activation: plan.activation,
      extraConfig: { _clipkit_checkpoint: { layout: folder.layout, source: resolve(folder.dir), key } },
    });
    await writeAtomic(
      join(tmp, "preprocessor_config.json"),
      JSON.stringify(plan.preprocessor, null, 2) + "\n",
    );
    progress.tick(writeBytes);
    progress.finish();
    const manifest: Manifest = {
      converter: CONVERTER_VERSION,
      key,
      layout: folder.layout,
      source: resolve(folder.dir),
      architecture: plan.architecture,
      activation: plan.activation,
      created: new Date().toISOString(),
      files: {},
    };
    await addVariant(tmp, manifest, options.dtype ?? "fp32", false);
    manifest.files = await listFiles(tmp);
    await writeAtomic(join(tmp, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
    await moveIntoPlace(tmp, target, key);
  } finally {
    for (const f of files) f.close();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** The largest ONNX file the exporter writes: one protobuf message, which cannot exceed 2 GiB. */
const MAX_ONNX_BYTES = 2 ** 31 - 2 ** 24;

/** Refuse towers whose float32 weights would not fit in one ONNX file (ViT-H/14's and larger image towers). */
function checkTowerSizes(sources: WeightSource[], path: string): void {
  for (const tower of ["vision", "text"] as const) {
    const bytes = sources
      .filter((s) => s.target.startsWith("visual.") === (tower === "vision"))
      .reduce((sum, s) => sum + 4 * s.targetShape.reduce((a, b) => a * b, 1), 0);
    if (bytes > MAX_ONNX_BYTES) {
      throw new UnsupportedCheckpointError(
        `the ${tower} tower holds ${
          (bytes / 2 ** 30).toFixed(2)
        } GiB of float32 weights, more than one ONNX ` +
          "file can hold (2 GiB without external data, which the exporter does not write)",
        { path, fix: "use a CLIP up to ViT-L/14 (its image tower is 1.2 GB)" },
      );
    }
  }
}

/** Rename the finished temporary folder to `target`, replacing a damaged one; a racing process's result wins. */
async function moveIntoPlace(tmp: string, target: string, key: string): Promise<void> {
  if (existsSync(target)) {
    const trash = `${target}.trash-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.rename(target, trash).catch(() => {});
    await Deno.remove(trash, { recursive: true }).catch(() => {});
  }
  try {
    await Deno.rename(tmp, target);
  } catch (error) {
    if (await readManifest(target, key)) return; // another process finished the same conversion first
    throw error;
  }
}

/** Build a dtype's ONNX variant in a cache folder if it is not there (and record it in the manifest). */
async function addVariant(
  dir: string,
  manifest: Manifest,
  dtype: Dtype,
  writeManifest = true,
): Promise<void> {
  if (dtype === "fp32") return;
  const suffix = DTYPE_SUFFIX[dtype];
  if (suffix === undefined) {
    throw new ModelLoadError(`unknown dtype "${dtype}"`, { fix: 'use dtype "fp32", "fp16" or "q8"' });
  }
  const convert = dtype === "fp16" ? toFp16 : toInt8;
  let added = false;
  for (const tower of ["text", "vision"]) {
    const file = `onnx/${tower}_model${suffix}.onnx`;
    if (manifest.files[file] !== undefined && existsSync(join(dir, file))) continue;
    const bytes = convert(await Deno.readFile(join(dir, "onnx", `${tower}_model.onnx`)));
    await writeAtomic(join(dir, file), bytes);
    manifest.files[file] = bytes.length;
    added = true;
  }
  if (added && writeManifest) {
    await writeAtomic(join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
  }
}

/** Every file under `dir` (relative path → size), the manifest excluded. */
async function listFiles(dir: string, prefix = ""): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) Object.assign(out, await listFiles(dir, rel));
    else if (rel !== MANIFEST) out[rel] = (await Deno.stat(join(dir, rel))).size;
  }
  return out;
}

/**
 * Load a checkpoint folder through its cache folder with `load` (ClipModel.load): convert when needed;
 * if a reused cache folder fails to load (damage its sizes do not show), rebuild it once and load again.
 */
export async function loadCheckpoint<T>(
  folder: CheckpointFolder,
  options: PrepareCheckpointOptions,
  load: (dir: string) => Promise<T>,
): Promise<T> {
  if (folder.tokenizerPaths.length === 0 && options.tokenizer === undefined) {
    // Say so before a conversion that would end in a model without a tokenizer.
    throw new MissingModelFileError(
      "the checkpoint folder has no tokenizer (tokenizer.json or vocab.json + merges.txt)",
      {
        path: folder.dir,
        fix:
          'pass { tokenizer: "path/to/bpe_simple_vocab_16e6.txt.gz" } (or a tokenizer directory) to ClipModel.load',
      },
    );
  }
  const prepared = await prepareCheckpoint(folder, options);
  try {
    return await load(prepared.dir);
  } catch (error) {
    if (prepared.converted || !(error instanceof ModelLoadError) || error instanceof MissingModelFileError) {
      throw error;
    }
    const rebuilt = await prepareCheckpoint(folder, { ...options, rebuild: true });
    return await load(rebuilt.dir);
  }
}

// ── helpers ─────────────────────────────────────────────────────────────────────────────────────────────

function bar(total: number, label: string, options: PrepareCheckpointOptions): Progress {
  return new Progress(total, {
    label,
    unit: "bytes",
    output: options.progress === false ? "none" : "auto",
    onProgress: options.onProgress,
  });
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

function object(v: unknown): Json | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? v as Json : undefined;
}

function int(v: unknown, field: string, path: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    throw new ModelLoadError(`${field} is ${JSON.stringify(v)}, not a positive integer`, {
      path,
      fix: "use the config file saved with the checkpoint",
    });
  }
  return n;
}

async function readJson(path: string): Promise<Json> {
  const parsed = await readJsonFile(path, basename(path), {
    missing: MissingModelFileError,
    malformed: ModelLoadError,
    fixMalformed: "re-download the checkpoint's config files",
  });
  const o = object(parsed);
  if (!o) throw new ModelLoadError(`${basename(path)} is not a JSON object`, { path, fix: "re-download it" });
  return o;
}
