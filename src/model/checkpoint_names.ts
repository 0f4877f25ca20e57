/**
 * How the tensors of a PyTorch CLIP checkpoint become the weights the kit's ONNX exporter takes: one table,
 * one row per exporter weight, naming its tensor in openai/CLIP's `state_dict` (which open_clip keeps) and
 * in Hugging Face's `CLIPModel`, and the layout change each needs.
 *
 * ```
 * checkpoint tensors ─► checkWeights (missing / left over / shapes) ─► assembleWeights ─► exporter weights
 * (PyTorch layouts: Linear [out, in], Conv2d [W, 3, p, p])        (src/model/architecture.ts: [in, out], [3pp, W])
 * ```
 * @module
 */
import { CheckpointWeightsError, UnsupportedCheckpointError } from "../errors.ts";
import { type ClipArchitecture, weightShapes } from "./architecture.ts";

/** Which naming a checkpoint uses: openai/CLIP's (open_clip's hub files) or Hugging Face transformers'. */
export type CheckpointNaming = "openai" | "hf";

/**
 * How a tensor's PyTorch layout becomes the exporter's:
 * - `same`: as stored;
 * - `linear`: a Linear weight `[out, in]` → `[in, out]` (also HF's projections, stored as Linear weights);
 * - `conv`: the patch convolution `[W, 3, p, p]` → `[3·p·p, W]`;
 * - `qkv`: HF's separate q, k, v `[W, W]` Linear weights → openai's `in_proj_weight`, as `[W, 3W]`;
 * - `concat`: HF's q, k, v biases `[W]` → openai's `in_proj_bias` `[3W]`;
 * - `scalar`: `[]` or `[1]` → `[]` (the logit scale).
 */
export type LayoutChange = "same" | "linear" | "conv" | "qkv" | "concat" | "scalar";

/** One row: exporter name, openai/open_clip name and change, Hugging Face name(s) and change. */
type Row = [target: string, openai: string, openaiChange: LayoutChange, hf: string, hfChange: LayoutChange];

/**
 * The names of one transformer block. `{b}` is the block (`visual.transformer.resblocks.N`,
 * `transformer.resblocks.N`), `{l}` the Hugging Face layer (`vision_model.encoder.layers.N`,
 * `text_model.encoder.layers.N`); `{q,k,v}` stands for the three projections, in that order.
 */
const BLOCK: Row[] = [
  // exporter                 openai / open_clip             change    Hugging Face CLIPModel               change
  ["{b}.ln_1.weight", "{b}.ln_1.weight", "same", "{l}.layer_norm1.weight", "same"],
  ["{b}.ln_1.bias", "{b}.ln_1.bias", "same", "{l}.layer_norm1.bias", "same"],
  [
    "{b}.attn.in_proj_weight",
    "{b}.attn.in_proj_weight",
    "linear",
    "{l}.self_attn.{q,k,v}_proj.weight",
    "qkv",
  ],
  ["{b}.attn.in_proj_bias", "{b}.attn.in_proj_bias", "same", "{l}.self_attn.{q,k,v}_proj.bias", "concat"],
  [
    "{b}.attn.out_proj.weight",
    "{b}.attn.out_proj.weight",
    "linear",
    "{l}.self_attn.out_proj.weight",
    "linear",
  ],
  ["{b}.attn.out_proj.bias", "{b}.attn.out_proj.bias", "same", "{l}.self_attn.out_proj.bias", "same"],
  ["{b}.ln_2.weight", "{b}.ln_2.weight", "same", "{l}.layer_norm2.weight", "same"],
  ["{b}.ln_2.bias", "{b}.ln_2.bias", "same", "{l}.layer_norm2.bias", "same"],
  ["{b}.mlp.c_fc.weight", "{b}.mlp.c_fc.weight", "linear", "{l}.mlp.fc1.weight", "linear"],
  ["{b}.mlp.c_fc.bias", "{b}.mlp.c_fc.bias", "same", "{l}.mlp.fc1.bias", "same"],
  ["{b}.mlp.c_proj.weight", "{b}.mlp.c_proj.weight", "linear", "{l}.mlp.fc2.weight", "linear"],
  ["{b}.mlp.c_proj.bias", "{b}.mlp.c_proj.bias", "same", "{l}.mlp.fc2.bias", "same"],
];

/** The weights outside the blocks. */
const TOWERS: Row[] = [
  // image tower
  [
    "visual.conv1.weight",
    "visual.conv1.weight",
    "conv",
    "vision_model.embeddings.patch_embedding.weight",
    "conv",
  ],
  [
    "visual.class_embedding",
    "visual.class_embedding",
    "same",
    "vision_model.embeddings.class_embedding",
    "same",
  ],
  [
    "visual.positional_embedding",
    "visual.positional_embedding",
    "same",
    "vision_model.embeddings.position_embedding.weight",
    "same",
  ],
  ["visual.ln_pre.weight", "visual.ln_pre.weight", "same", "vision_model.pre_layrnorm.weight", "same"],
  ["visual.ln_pre.bias", "visual.ln_pre.bias", "same", "vision_model.pre_layrnorm.bias", "same"],
  ["visual.ln_post.weight", "visual.ln_post.weight", "same", "vision_model.post_layernorm.weight", "same"],
  ["visual.ln_post.bias", "visual.ln_post.bias", "same", "vision_model.post_layernorm.bias", "same"],
  ["visual.proj", "visual.proj", "same", "visual_projection.weight", "linear"],
  // text tower
  [
    "token_embedding.weight",
    "token_embedding.weight",
    "same",
    "text_model.embeddings.token_embedding.weight",
    "same",
  ],
  [
    "positional_embedding",
    "positional_embedding",
    "same",
    "text_model.embeddings.position_embedding.weight",
    "same",
  ],
  ["ln_final.weight", "ln_final.weight", "same", "text_model.final_layer_norm.weight", "same"],
  ["ln_final.bias", "ln_final.bias", "same", "text_model.final_layer_norm.bias", "same"],
  ["text_projection", "text_projection", "same", "text_projection.weight", "linear"],
  // both
  ["logit_scale", "logit_scale", "scalar", "logit_scale", "scalar"],
];

/**
 * Tensors that are not weights and are skipped: the `position_ids` buffers older transformers versions
 * saved, and the three integers openai's TorchScript state dicts carry.
 */
export const IGNORED_TENSORS: readonly RegExp[] = [
  /^(text_model|vision_model)\.embeddings\.position_ids$/,
  /^(input_resolution|context_length|vocab_size)$/,
];

/** Where one exporter weight comes from. */
export interface WeightSource {
  /** The exporter's name (src/model/architecture.ts `weightShapes`). */
  target: string;
  /** Its shape in the exporter's layout. */
  targetShape: number[];
  /** The checkpoint tensor(s) it is made of (three for `qkv` and `concat`). */
  sources: string[];
  /** The shape each source must have, in PyTorch's layout. */
  sourceShapes: number[][];
  /** How the sources become the target (copy, transpose, concatenation, …). */
  change: LayoutChange;
}

/** Options of {@link weightSources}. */
export interface NamingOptions {
  /**
   * open_clip's `CustomTextCLIP` keeps the text tower under `text.` (`text.token_embedding.weight`, …);
   * set this when the checkpoint does.
   */
  textPrefix?: string;
}

/**
 * For each weight the exporter needs, the checkpoint tensors it is made of and their expected shapes.
 * @example
 * ```ts
 * import { loadArchitecture } from "./architecture.ts";
 * const s = weightSources(loadArchitecture("tiny"), "hf").find((w) => w.target.endsWith("0.attn.in_proj_weight"))!;
 * s.sources; // → ["vision_model.encoder.layers.0.self_attn.q_proj.weight", "…k_proj.weight", "…v_proj.weight"]
 * s.sourceShapes; // → [[64, 64], [64, 64], [64, 64]]
 * ```
 */
export function weightSources(
  arch: ClipArchitecture,
  naming: CheckpointNaming,
  options: NamingOptions = {},
): WeightSource[] {
  const shapes = new Map(weightShapes(arch));
  const rows: [Row, Record<string, string>][] = [];
  for (const row of TOWERS.slice(0, 7)) rows.push([row, {}]); // visual, before the blocks
  for (let i = 0; i < arch.vision_layers; i++) {
    const names = { b: `visual.transformer.resblocks.${i}`, l: `vision_model.encoder.layers.${i}` };
    for (const row of BLOCK) rows.push([row, names]);
  }
  rows.push([TOWERS[7], {}]);
  const text = options.textPrefix ?? "";
  for (let i = 0; i < arch.transformer_layers; i++) {
    const names = { b: `transformer.resblocks.${i}`, l: `text_model.encoder.layers.${i}` };
    for (const row of BLOCK) rows.push([row, names]);
  }
  for (const row of TOWERS.slice(8)) rows.push([row, {}]);
  return rows.map(([[target, openai, openaiChange, hf, hfChange], names]) => {
    const fill = (s: string) => s.replace("{b}", names.b).replace("{l}", names.l);
    const name = fill(target);
    const targetShape = shapes.get(name);
    if (!targetShape) {
      throw new UnsupportedCheckpointError(`the name table has ${name}, which this architecture lacks`, {
        fix: "convert a ViT CLIP built as openai/CLIP builds it (the name table covers that layout only)",
      });
    }
    const change = naming === "openai" ? openaiChange : hfChange;
    const isText = !name.startsWith("visual.") && name !== "logit_scale";
    const source = naming === "openai" ? (isText ? text : "") + fill(openai) : fill(hf);
    const sources = source.includes("{q,k,v}")
      ? ["q", "k", "v"].map((p) => source.replace("{q,k,v}", p))
      : [source];
    return { target: name, targetShape, sources, sourceShapes: sourceShapes(targetShape, change), change };
  });
}

/** The PyTorch shape(s) a change starts from, given the exporter's shape. */
function sourceShapes(target: number[], change: LayoutChange): number[][] {
  switch (change) {
    case "same":
      return [target];
    case "linear":
      return [[target[1], target[0]]];
    case "conv": {
      const p = Math.round(Math.sqrt(target[0] / 3));
      return [[target[1], 3, p, p]];
    }
    case "qkv":
      return [0, 1, 2].map(() => [target[0], target[0]]);
    case "concat":
      return [0, 1, 2].map(() => [target[0] / 3]);
    case "scalar":
      return [[]];
  }
}

/** Whether a tensor's shape fits what a row expects (`scalar` takes `[]` and `[1]`). */
function fits(shape: number[], expected: number[], change: LayoutChange): boolean {
  if (change === "scalar") return shape.length === 0 || (shape.length === 1 && shape[0] === 1);
  return shape.length === expected.length && shape.every((d, i) => d === expected[i]);
}

/** Names listed in a message: the first few and a count. */
function listed(names: string[], max = 8): string {
  return names.length <= max
    ? names.join(", ")
    : `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}

/**
 * Check a checkpoint's tensors (name → shape) against the architecture: every source present with its
 * shape, nothing left over except the ignored buffers. Throws {@link CheckpointWeightsError} listing all
 * problems at once, or {@link UnsupportedCheckpointError} for a ResNet image tower.
 * @example
 * ```ts
 * import { loadArchitecture } from "./architecture.ts";
 * const sources = weightSources(loadArchitecture("tiny"), "openai");
 * checkWeights(sources, new Map([["visual.conv1.weight", [64, 3, 8, 8]]]), "a.safetensors");
 * // → CheckpointWeightsError: the checkpoint's tensors do not fit …: 163 missing (visual.class_embedding, …)
 * ```
 */
export function checkWeights(sources: WeightSource[], tensors: Map<string, number[]>, path: string): void {
  const names = [...tensors.keys()];
  if (names.some((n) => /^visual\.(layer\d|attnpool|bn1|conv2|conv3)\b/.test(n))) {
    throw new UnsupportedCheckpointError(
      "the checkpoint has a ResNet image tower (visual.layer1…, visual.attnpool)",
      {
        path,
        fix: "use a ViT CLIP (ViT-B/32, ViT-B/16, ViT-L/14, …): the exporter builds ViT image towers only",
      },
    );
  }
  const used = new Set<string>();
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const s of sources) {
    s.sources.forEach((name, i) => {
      used.add(name);
      const shape = tensors.get(name);
      if (!shape) missing.push(name);
      else if (!fits(shape, s.sourceShapes[i], s.change)) {
        mismatched.push(`${name} [${shape}] ≠ [${s.sourceShapes[i]}]`);
      }
    });
  }
  const unexpected = names.filter((n) => !used.has(n) && !IGNORED_TENSORS.some((re) => re.test(n)));
  if (missing.length === 0 && unexpected.length === 0 && mismatched.length === 0) return;
  const parts = [
    missing.length ? `${missing.length} missing (${listed(missing)})` : "",
    unexpected.length ? `${unexpected.length} left over (${listed(unexpected)})` : "",
    mismatched.length ? `${mismatched.length} of another shape (${listed(mismatched, 4)})` : "",
  ].filter((p) => p);
  throw new CheckpointWeightsError(
    `the checkpoint's tensors do not fit the architecture its config describes: ${parts.join("; ")}`,
    { missing, unexpected, mismatched },
    {
      path,
      fix: unexpected.length && !missing.length && !mismatched.length
        ? "the checkpoint has parts the exporter does not build (supported: openai/CLIP's ViT architecture, " +
          "pre-LN blocks, class-token pooling, no layer scale or attention pooling); use a plain CLIP ViT checkpoint"
        : "use the config file saved with these weights (the folder's open_clip_config.json or config.json), " +
          "or re-download the checkpoint",
    },
  );
}

/**
 * Build the exporter's weights from checkpoint tensors read one at a time (`read(name)` → float32 data in
 * PyTorch's layout), applying each row's layout change. Call {@link checkWeights} first.
 * @example
 * ```ts
 * import { loadArchitecture } from "./architecture.ts";
 * import { SafetensorsFile } from "./safetensors.ts";
 * using file = await SafetensorsFile.open("../shared/fixtures/clip-tiny-checkpoints/hf/model.safetensors");
 * const fixture = { image_resolution: 64, vision_heads: 1, vision_patch_size: 16, context_length: 77, vocab_size: 49408 };
 * const sources = weightSources({ ...loadArchitecture("tiny"), ...fixture }, "hf");
 * const weights = await assembleWeights(sources, (name) => file.readFloat32(name));
 * weights["visual.conv1.weight"].length; // → 49152 (3 · 16 · 16 · 64)
 * ```
 */
export async function assembleWeights(
  sources: WeightSource[],
  read: (name: string) => Promise<Float32Array>,
): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const s of sources) {
    const parts: Float32Array[] = [];
    for (const name of s.sources) parts.push(await read(name));
    out[s.target] = changeLayout(s, parts);
  }
  return out;
}

/** Apply a row's layout change to its source tensors. */
function changeLayout(s: WeightSource, parts: Float32Array[]): Float32Array {
  const [rows, cols] = s.targetShape;
  switch (s.change) {
    case "same":
    case "scalar":
      return parts[0];
    case "linear":
    case "conv":
      // [cols, rows] (PyTorch: out × in, or W × 3pp) → [rows, cols]
      return transpose(parts[0], cols, rows);
    case "qkv": {
      const width = rows;
      const out = new Float32Array(width * 3 * width); // [W, 3W]: column block j is q, k, v
      parts.forEach((w, j) => {
        for (let o = 0; o < width; o++) {
          for (let i = 0; i < width; i++) out[i * 3 * width + j * width + o] = w[o * width + i];
        }
      });
      return out;
    }
    case "concat": {
      const out = new Float32Array(rows); // [3W]
      parts.forEach((b, j) => out.set(b, j * b.length));
      return out;
    }
  }
}

/** `[rows, cols]` → `[cols, rows]`. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length); // [cols, rows]
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[base + c];
  }
  return out;
}
