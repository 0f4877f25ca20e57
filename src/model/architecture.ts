/**
 * A CLIP's architecture as data, without any tensor library: openai/CLIP's constructor fields
 * (`embed_dim`, `image_resolution`, `vision_*`, `context_length`, `vocab_size`, `transformer_*`),
 * the presets in `architectures/*.json`, the weight names and shapes of its `state_dict`, and
 * openai/CLIP's random initialisation.
 *
 * preset JSON → {@link ClipArchitecture} → {@link validateArchitecture} → {@link weightShapes} →
 * {@link initWeights} (plain `Float32Array`s) → the trainer (src/train/) or the ONNX exporter (src/onnx/).
 *
 * Weight layout: openai/CLIP's names, except that every linear weight is stored as `[in, out]` (ready
 * for `x @ W`) and the patch convolution as `[3·p·p, width]`.
 * @module
 */
import { ArchitectureError } from "../errors.ts";
import { INITIAL_LOGIT_SCALE } from "../constants.ts";
import { SeededRng } from "../data/random.ts";
import tiny from "./architectures/tiny.json" with { type: "json" };
import vitB32 from "./architectures/vit-b-32.json" with { type: "json" };
import worldTiny from "./architectures/world-tiny.json" with { type: "json" };
import world from "./architectures/world.json" with { type: "json" };

/**
 * openai/CLIP's `CLIP(...)` constructor arguments (ViT image tower), plus the heads of the image tower
 * (openai/CLIP derives them as `vision_width / 64`; stated here so that small models can choose).
 */
export interface ClipArchitecture {
  /** Width of the shared embedding space (the projection output). */
  embed_dim: number;
  /** Input image side in pixels. */
  image_resolution: number;
  /** Transformer blocks of the image tower. */
  vision_layers: number;
  /** Width of the image tower. */
  vision_width: number;
  /** Attention heads of the image tower. */
  vision_heads: number;
  /** Side of a square image patch in pixels. */
  vision_patch_size: number;
  /** Text positions (token ids per text, SOT and EOT included). */
  context_length: number;
  /** Token ids of the text tower's embedding. */
  vocab_size: number;
  /** Width of the text tower. */
  transformer_width: number;
  /** Attention heads of the text tower. */
  transformer_heads: number;
  /** Transformer blocks of the text tower. */
  transformer_layers: number;
}

/** The presets, each with a sentence on why it exists (`architectures/<name>.json`). */
const PRESETS = { tiny, "vit-b-32": vitB32, "world-tiny": worldTiny, world } as const;

/** Names of the presets in `src/model/architectures/`. */
export type ArchitecturePreset = keyof typeof PRESETS;

/** The fields of a {@link ClipArchitecture}, in openai/CLIP's order. */
export const ARCHITECTURE_FIELDS: readonly (keyof ClipArchitecture)[] = [
  "embed_dim",
  "image_resolution",
  "vision_layers",
  "vision_width",
  "vision_heads",
  "vision_patch_size",
  "context_length",
  "vocab_size",
  "transformer_width",
  "transformer_heads",
  "transformer_layers",
];

/** Width of the MLP hidden layer relative to the model width (CLIP: 4). */
export const MLP_RATIO = 4;

/**
 * A preset architecture (its fields only; the preset's `why` stays in the JSON).
 *
 * @example
 * ```ts
 * import { loadArchitecture } from "./architecture.ts";
 * loadArchitecture("tiny").vision_patch_size; // → 8
 * ```
 */
export function loadArchitecture(preset: ArchitecturePreset): ClipArchitecture {
  const entry = PRESETS[preset] as Record<string, unknown> | undefined;
  if (!entry) {
    throw new ArchitectureError(`no architecture preset ${JSON.stringify(preset)}`, {
      fix: `use one of ${Object.keys(PRESETS).join(", ")}`,
    });
  }
  const c = Object.fromEntries(ARCHITECTURE_FIELDS.map((f) => [f, entry[f]])) as unknown as ClipArchitecture;
  validateArchitecture(c);
  return c;
}

/**
 * Check that an architecture describes a buildable CLIP; throws {@link ArchitectureError}.
 *
 * @example
 * ```ts
 * import { loadArchitecture, validateArchitecture } from "./architecture.ts";
 * try {
 *   validateArchitecture({ ...loadArchitecture("tiny"), vision_heads: 5 });
 * } catch (e) {
 *   console.log(String(e)); // → "ArchitectureError: vision_width 64 is not divisible by vision_heads 5. Fix: …"
 * }
 * ```
 */
export function validateArchitecture(c: ClipArchitecture): void {
  for (const f of ARCHITECTURE_FIELDS) {
    if (!Number.isInteger(c[f]) || c[f] <= 0) {
      throw new ArchitectureError(`${f} = ${c[f]} is not a positive integer`, {
        fix: `give ${f} a positive integer value`,
      });
    }
  }
  if (c.image_resolution % c.vision_patch_size !== 0) {
    throw new ArchitectureError(
      `image_resolution ${c.image_resolution} is not divisible by vision_patch_size ${c.vision_patch_size}`,
      { fix: "choose a resolution that is a multiple of the patch size" },
    );
  }
  if (c.vision_width % c.vision_heads !== 0) {
    throw new ArchitectureError(
      `vision_width ${c.vision_width} is not divisible by vision_heads ${c.vision_heads}`,
      {
        fix: "pick heads that divide the width",
      },
    );
  }
  if (c.transformer_width % c.transformer_heads !== 0) {
    throw new ArchitectureError(
      `transformer_width ${c.transformer_width} is not divisible by transformer_heads ${c.transformer_heads}`,
      { fix: "pick heads that divide the width" },
    );
  }
}

/**
 * Number of image tokens: the patches plus the class token.
 *
 * @example
 * ```ts
 * import { loadArchitecture, visionTokens } from "./architecture.ts";
 * visionTokens(loadArchitecture("tiny")); // → 17 ((32 / 8)² patches + 1)
 * ```
 */
export function visionTokens(c: ClipArchitecture): number {
  return (c.image_resolution / c.vision_patch_size) ** 2 + 1;
}

/** Weight names and shapes of one pre-LN residual attention block. */
function blockShapes(prefix: string, width: number): [string, number[]][] {
  const hidden = width * MLP_RATIO;
  return [
    [`${prefix}.ln_1.weight`, [width]],
    [`${prefix}.ln_1.bias`, [width]],
    [`${prefix}.attn.in_proj_weight`, [width, 3 * width]],
    [`${prefix}.attn.in_proj_bias`, [3 * width]],
    [`${prefix}.attn.out_proj.weight`, [width, width]],
    [`${prefix}.attn.out_proj.bias`, [width]],
    [`${prefix}.ln_2.weight`, [width]],
    [`${prefix}.ln_2.bias`, [width]],
    [`${prefix}.mlp.c_fc.weight`, [width, hidden]],
    [`${prefix}.mlp.c_fc.bias`, [hidden]],
    [`${prefix}.mlp.c_proj.weight`, [hidden, width]],
    [`${prefix}.mlp.c_proj.bias`, [width]],
  ];
}

/**
 * Every weight name with its shape, in a fixed order (the order of checkpoints):
 *   visual.conv1.weight [3pp, W], visual.class_embedding [W], visual.positional_embedding [T, W],
 *   visual.ln_pre.*, visual.transformer.resblocks.i.{ln_1, attn.in_proj, attn.out_proj, ln_2, mlp.c_fc,
 *   mlp.c_proj}.*, visual.ln_post.*, visual.proj [W, D]; token_embedding.weight [V, W],
 *   positional_embedding [C, W], transformer.resblocks.i.*, ln_final.*, text_projection [W, D],
 *   logit_scale [] (natural log of the multiplier).
 *
 * @example
 * ```ts
 * import { loadArchitecture, weightShapes } from "./architecture.ts";
 * weightShapes(loadArchitecture("tiny"))[0]; // → ["visual.conv1.weight", [192, 64]]
 * ```
 */
export function weightShapes(c: ClipArchitecture): [string, number[]][] {
  const vw = c.vision_width, tw = c.transformer_width, p = c.vision_patch_size;
  const out: [string, number[]][] = [
    ["visual.conv1.weight", [3 * p * p, vw]],
    ["visual.class_embedding", [vw]],
    ["visual.positional_embedding", [visionTokens(c), vw]],
    ["visual.ln_pre.weight", [vw]],
    ["visual.ln_pre.bias", [vw]],
  ];
  for (let i = 0; i < c.vision_layers; i++) out.push(...blockShapes(`visual.transformer.resblocks.${i}`, vw));
  out.push(
    ["visual.ln_post.weight", [vw]],
    ["visual.ln_post.bias", [vw]],
    ["visual.proj", [vw, c.embed_dim]],
    ["token_embedding.weight", [c.vocab_size, tw]],
    ["positional_embedding", [c.context_length, tw]],
  );
  for (let i = 0; i < c.transformer_layers; i++) out.push(...blockShapes(`transformer.resblocks.${i}`, tw));
  out.push(
    ["ln_final.weight", [tw]],
    ["ln_final.bias", [tw]],
    ["text_projection", [tw, c.embed_dim]],
    ["logit_scale", []],
  );
  return out;
}

/**
 * Number of trainable parameters.
 *
 * @example
 * ```ts
 * import { loadArchitecture, parameterCount } from "./architecture.ts";
 * parameterCount(loadArchitecture("vit-b-32")); // → 151277313
 * ```
 */
export function parameterCount(c: ClipArchitecture): number {
  return weightShapes(c).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
}

/** Initial standard deviation of one weight (openai/CLIP's `initialize_parameters`); 0 = zeros, -1 = ones. */
function initStd(name: string, c: ClipArchitecture): number {
  const visual = name.startsWith("visual.");
  const width = visual ? c.vision_width : c.transformer_width;
  const layers = visual ? c.vision_layers : c.transformer_layers;
  if (/ln_\w+\.weight$|ln_final\.weight$/.test(name)) return -1;
  if (/bias$/.test(name)) return 0;
  if (name === "token_embedding.weight") return 0.02;
  if (name === "positional_embedding") return 0.01;
  if (name === "visual.conv1.weight") return (3 * c.vision_patch_size ** 2) ** -0.5;
  if (/class_embedding$|visual\.positional_embedding$|visual\.proj$|text_projection$/.test(name)) {
    return width ** -0.5;
  }
  if (name.endsWith("attn.in_proj_weight")) return width ** -0.5;
  if (name.endsWith("attn.out_proj.weight") || name.endsWith("mlp.c_proj.weight")) {
    return width ** -0.5 * (2 * layers) ** -0.5;
  }
  if (name.endsWith("mlp.c_fc.weight")) return (2 * width) ** -0.5;
  throw new ArchitectureError(`no initialiser for weight ${name}`, {
    fix: "add one to initStd in src/model/architecture.ts",
  });
}

/**
 * Fresh weights, seeded: same seed, same numbers. openai/CLIP's initialisation (normal with its
 * per-weight standard deviations, layer-norm gains 1, biases 0, logit scale ln(1/0.07)).
 *
 * @example
 * ```ts
 * import { initWeights, loadArchitecture } from "./architecture.ts";
 * const w = initWeights(loadArchitecture("tiny"), 0);
 * w["logit_scale"][0]; // → 2.6592600345611572 (ln(1/0.07) in float32)
 * ```
 */
export function initWeights(c: ClipArchitecture, seed: number): Record<string, Float32Array> {
  validateArchitecture(c);
  const rng = new SeededRng(seed);
  const out: Record<string, Float32Array> = {};
  for (const [name, shape] of weightShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (name === "logit_scale") out[name] = Float32Array.of(Math.log(INITIAL_LOGIT_SCALE));
    else {
      const std = initStd(name, c);
      out[name] = std === -1
        ? new Float32Array(n).fill(1)
        : std === 0
        ? new Float32Array(n)
        : rng.normals(n, std);
    }
  }
  return out;
}
