/**
 * What the engine trains: the architecture (openai/CLIP's constructor fields plus the engine's choice of
 * text encoder and objective), its parameters in openai/CLIP's `state_dict` order, names and PyTorch
 * layouts, and their place in the one flat float32 vector the training graph reads and writes.
 *
 * architecture ──► {@link parameterShapes} (state_dict order) ──► {@link Layout} (offsets in the flat vector)
 * state dict (name → Float32Array) ◄──► flat vector ({@link flatten}, {@link unflatten})
 *
 * Layouts are PyTorch's: Linear weight `[out, in]`, `visual.conv1.weight [W, 3, p, p]`,
 * `attn.in_proj_weight [3W, W]`, `visual.proj` / `text_projection` `[W, D]`.
 * @module
 */
import { ARCHITECTURE_FIELDS, type ClipArchitecture } from "../../model/architecture.ts";
import { ClipInputError } from "../../errors.ts";
import { INITIAL_LOGIT_SCALE } from "../../constants.ts";
import { SeededRng } from "../../data/random.ts";

/** The text encoders the engine builds. */
export type TextEncoder = "transformer" | "bag_of_words";

/**
 * The training objectives: CLIP's symmetric InfoNCE, SigLIP's pairwise sigmoid loss, predicting the
 * caption's bag of words from the image, and a caption language model conditioned on the image.
 */
export type Objective = "infonce" | "siglip" | "bow_prediction" | "caption_lm";

/** openai/CLIP's constructor fields (with `vision_heads`) and the engine's options. */
export interface EngineArchitecture extends ClipArchitecture {
  /** The text tower of the contrastive objectives (default `"transformer"`, CLIP's). */
  text_encoder?: TextEncoder;
  /** What the loss is (default `"infonce"`, CLIP's). */
  objective?: Objective;
  /** Layers of the caption decoder (`objective: "caption_lm"`; default 1). */
  decoder_layers?: number;
}

/** Where each parameter sits in the flat vector. */
export interface Layout {
  names: string[];
  shapes: number[][];
  offsets: number[];
  sizes: number[];
  /** Total number of parameters. */
  total: number;
}

/** Width of the MLP hidden layer relative to the model width (CLIP: 4). */
export const MLP_RATIO = 4;

/** One residual attention block's parameters, in openai/CLIP's `state_dict` order. */
function blockShapes(prefix: string, width: number): [string, number[]][] {
  return [
    [`${prefix}.attn.in_proj_weight`, [3 * width, width]],
    [`${prefix}.attn.in_proj_bias`, [3 * width]],
    [`${prefix}.attn.out_proj.weight`, [width, width]],
    [`${prefix}.attn.out_proj.bias`, [width]],
    [`${prefix}.ln_1.weight`, [width]],
    [`${prefix}.ln_1.bias`, [width]],
    [`${prefix}.mlp.c_fc.weight`, [MLP_RATIO * width, width]],
    [`${prefix}.mlp.c_fc.bias`, [MLP_RATIO * width]],
    [`${prefix}.mlp.c_proj.weight`, [width, MLP_RATIO * width]],
    [`${prefix}.mlp.c_proj.bias`, [width]],
    [`${prefix}.ln_2.weight`, [width]],
    [`${prefix}.ln_2.bias`, [width]],
  ];
}

/** Whether the objective compares images with a text tower (InfoNCE, SigLIP). */
export function hasTextTower(a: EngineArchitecture): boolean {
  const o = a.objective ?? "infonce";
  return o === "infonce" || o === "siglip";
}

/**
 * Every parameter's name and PyTorch shape, in `state_dict` order (openai/CLIP's for the default
 * architecture; the other text encoders and objectives add or drop parameters as noted).
 *
 * @example
 * ```ts
 * import { parameterShapes } from "./layout.ts";
 * import { loadArchitecture } from "../../model/architecture.ts";
 * parameterShapes(loadArchitecture("tiny"))[0]; // → ["positional_embedding", [24, 64]]
 * ```
 */
export function parameterShapes(a: EngineArchitecture): [string, number[]][] {
  validateEngineArchitecture(a);
  const vw = a.vision_width, tw = a.transformer_width, p = a.vision_patch_size, D = a.embed_dim;
  const tokens = (a.image_resolution / p) ** 2 + 1;
  const objective = a.objective ?? "infonce",
    transformerText = (a.text_encoder ?? "transformer") === "transformer";
  const text = hasTextTower(a);
  const out: [string, number[]][] = [];
  if (text && transformerText) out.push(["positional_embedding", [a.context_length, tw]]);
  if (text) out.push(["text_projection", [tw, D]], ["logit_scale", []]);
  if (objective === "siglip") out.push(["logit_bias", []]);
  out.push(
    ["visual.class_embedding", [vw]],
    ["visual.positional_embedding", [tokens, vw]],
    ["visual.proj", [vw, D]],
    ["visual.conv1.weight", [vw, 3, p, p]],
    ["visual.ln_pre.weight", [vw]],
    ["visual.ln_pre.bias", [vw]],
  );
  for (let i = 0; i < a.vision_layers; i++) out.push(...blockShapes(`visual.transformer.resblocks.${i}`, vw));
  out.push(["visual.ln_post.weight", [vw]], ["visual.ln_post.bias", [vw]]);
  if (text && transformerText) {
    for (let i = 0; i < a.transformer_layers; i++) out.push(...blockShapes(`transformer.resblocks.${i}`, tw));
  }
  if (text) out.push(["token_embedding.weight", [a.vocab_size, tw]]);
  if (text && transformerText) out.push(["ln_final.weight", [tw]], ["ln_final.bias", [tw]]);
  if (objective === "bow_prediction") {
    out.push(["bow_head.weight", [a.vocab_size, D]], ["bow_head.bias", [a.vocab_size]]);
  }
  if (objective === "caption_lm") {
    out.push(
      ["decoder.image_proj.weight", [tw, D]],
      ["decoder.image_proj.bias", [tw]],
      ["decoder.token_embedding.weight", [a.vocab_size, tw]],
      ["decoder.positional_embedding", [a.context_length, tw]],
    );
    for (let i = 0; i < (a.decoder_layers ?? 1); i++) {
      out.push(...blockShapes(`decoder.transformer.resblocks.${i}`, tw));
    }
    out.push(["decoder.ln_final.weight", [tw]], ["decoder.ln_final.bias", [tw]]);
  }
  return out;
}

/** Check the engine's options on top of the CLIP fields; throws {@link ClipInputError}. */
export function validateEngineArchitecture(a: EngineArchitecture): void {
  for (const f of ARCHITECTURE_FIELDS) {
    if (!Number.isInteger(a[f]) || a[f] <= 0) {
      throw new ClipInputError(`architecture.${f} = ${a[f]} is not a positive integer`, {
        fix: `give ${f} a positive integer`,
      });
    }
  }
  if (a.image_resolution % a.vision_patch_size !== 0) {
    throw new ClipInputError(
      `image_resolution ${a.image_resolution} is not a multiple of vision_patch_size ${a.vision_patch_size}`,
      {
        fix: "choose a resolution that is a multiple of the patch size",
      },
    );
  }
  if (a.vision_width % a.vision_heads !== 0 || a.transformer_width % a.transformer_heads !== 0) {
    throw new ClipInputError(`a width is not divisible by its heads`, {
      fix: "pick heads that divide vision_width and transformer_width",
    });
  }
  const objectives: Objective[] = ["infonce", "siglip", "bow_prediction", "caption_lm"];
  if (a.objective !== undefined && !objectives.includes(a.objective)) {
    throw new ClipInputError(`unknown objective ${JSON.stringify(a.objective)}`, {
      fix: `use one of ${objectives.join(", ")}`,
    });
  }
  if (a.text_encoder !== undefined && a.text_encoder !== "transformer" && a.text_encoder !== "bag_of_words") {
    throw new ClipInputError(`unknown text_encoder ${JSON.stringify(a.text_encoder)}`, {
      fix: 'use "transformer" or "bag_of_words"',
    });
  }
}

/**
 * The flat-vector layout of an architecture's parameters.
 *
 * @example
 * ```ts
 * import { layoutOf } from "./layout.ts";
 * import { loadArchitecture } from "../../model/architecture.ts";
 * layoutOf(loadArchitecture("tiny")).total; // → 267393 (with the preset's 1024-token vocabulary)
 * ```
 */
export function layoutOf(a: EngineArchitecture): Layout {
  return layoutOfShapes(parameterShapes(a));
}

/**
 * The flat-vector layout of named parameter shapes, in the order given: each one's offset, size and the total.
 *
 * @example
 * ```ts
 * import { layoutOfShapes } from "./layout.ts";
 * layoutOfShapes([["w", [2, 3]], ["b", [3]]]).offsets; // → [0, 6]
 * ```
 */
export function layoutOfShapes(shapes: [string, number[]][]): Layout {
  const layout: Layout = { names: [], shapes: [], offsets: [], sizes: [], total: 0 };
  for (const [name, shape] of shapes) {
    const n = shape.reduce((p, q) => p * q, 1);
    layout.names.push(name);
    layout.shapes.push(shape);
    layout.offsets.push(layout.total);
    layout.sizes.push(n);
    layout.total += n;
  }
  return layout;
}

/** A state dict packed into one vector in layout order; throws {@link ClipInputError} on a missing or misshapen entry. */
export function flatten(layout: Layout, stateDict: Record<string, Float32Array>): Float32Array {
  const out = new Float32Array(layout.total);
  layout.names.forEach((name, i) => {
    const a = stateDict[name];
    if (!a || a.length !== layout.sizes[i]) {
      throw new ClipInputError(
        `state dict ${a ? `has ${a.length} values for` : "lacks"} ${name} (expected [${layout.shapes[i]}])`,
        { fix: "pass the state dict of this architecture, with openai/CLIP names and PyTorch layouts" },
      );
    }
    out.set(a, layout.offsets[i]);
  });
  return out;
}

/** The flat vector as a state dict (copies). */
export function unflatten(layout: Layout, flat: Float32Array): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  layout.names.forEach((name, i) => {
    out[name] = flat.slice(layout.offsets[i], layout.offsets[i] + layout.sizes[i]);
  });
  return out;
}

/**
 * Whether AdamW decays a parameter: weight matrices yes; layer-norm gains and biases, biases,
 * embeddings and the logit scale (and bias) no.
 *
 * @example
 * ```ts
 * import { isDecayed } from "./layout.ts";
 * isDecayed("transformer.resblocks.0.mlp.c_fc.weight"); // → true
 * isDecayed("visual.ln_pre.weight"); // → false
 * ```
 */
export function isDecayed(name: string): boolean {
  return !/(^|\.)ln_\w+\.|bias$|embedding|logit_scale/.test(name);
}

/**
 * Fresh parameters with openai/CLIP's `initialize_parameters` (and `nn.Linear` / `nn.LayerNorm` defaults
 * where CLIP keeps them), seeded: same seed, same numbers.
 *
 * @example
 * ```ts
 * import { initStateDict } from "./layout.ts";
 * import { loadArchitecture } from "../../model/architecture.ts";
 * initStateDict(loadArchitecture("tiny"), 0)["logit_scale"][0]; // → 2.6592600345611572 (ln(1/0.07))
 * ```
 */
export function initStateDict(a: EngineArchitecture, seed: number): Record<string, Float32Array> {
  const rng = new SeededRng(seed);
  const out: Record<string, Float32Array> = {};
  for (const [name, shape] of parameterShapes(a)) {
    const n = shape.reduce((p, q) => p * q, 1);
    const init = initialValue(name, a);
    out[name] = typeof init === "number" && init > 0
      ? rng.normals(n, init)
      : new Float32Array(n).fill(typeof init === "object" ? init.fill : 0);
  }
  return out;
}

/** A standard deviation (normal init), 0 (zeros) or `{ fill }` (a constant). */
function initialValue(name: string, a: EngineArchitecture): number | { fill: number } {
  const visual = name.startsWith("visual."), decoder = name.startsWith("decoder.");
  const width = visual ? a.vision_width : a.transformer_width;
  const layers = visual ? a.vision_layers : decoder ? (a.decoder_layers ?? 1) : a.transformer_layers;
  if (name === "logit_scale") {
    return { fill: a.objective === "siglip" ? Math.log(10) : Math.log(INITIAL_LOGIT_SCALE) };
  }
  if (name === "logit_bias") return { fill: -10 };
  if (/(^|\.)ln_\w+\.weight$/.test(name)) return { fill: 1 };
  if (/bias$/.test(name)) return 0;
  if (name.endsWith("token_embedding.weight")) return 0.02;
  if (name === "positional_embedding" || name === "decoder.positional_embedding") return 0.01;
  if (name === "visual.conv1.weight") return (3 * a.vision_patch_size ** 2) ** -0.5;
  if (/class_embedding$|visual\.positional_embedding$|visual\.proj$|text_projection$/.test(name)) {
    return width ** -0.5;
  }
  if (name.endsWith("attn.in_proj_weight")) return width ** -0.5;
  if (name.endsWith("attn.out_proj.weight") || name.endsWith("mlp.c_proj.weight")) {
    return width ** -0.5 * (2 * layers) ** -0.5;
  }
  if (name.endsWith("mlp.c_fc.weight")) return (2 * width) ** -0.5;
  if (name === "bow_head.weight" || name === "decoder.image_proj.weight") return a.embed_dim ** -0.5;
  throw new ClipInputError(`no initialiser for parameter ${name}`, {
    fix: "add one to initialValue in src/train/engine/layout.ts",
  });
}

/** Whether a parameter is stored transposed in src/model/architecture.ts's layout (`[in, out]` linear weights). */
function transposedInKitLayout(name: string): boolean {
  return /attn\.in_proj_weight$|attn\.out_proj\.weight$|mlp\.c_fc\.weight$|mlp\.c_proj\.weight$/.test(name) ||
    name === "visual.conv1.weight";
}

/** A row-major `[rows, cols]` matrix transposed. */
function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length); // [cols, rows]
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/**
 * An engine state dict (PyTorch layouts) in the layout of src/model/architecture.ts, which the ONNX
 * exporter (src/onnx/export.ts) and the kit's checkpoints use: linear weights `[in, out]`,
 * `visual.conv1.weight [3·p·p, W]`; everything else unchanged. CLIP's architecture only (InfoNCE,
 * transformer text tower).
 *
 * @example
 * ```ts
 * import { initStateDict, toKitWeights } from "./layout.ts";
 * import { loadArchitecture } from "../../model/architecture.ts";
 * const a = loadArchitecture("tiny");
 * toKitWeights(a, initStateDict(a, 0))["visual.conv1.weight"].length; // → 12288 ([192, 64])
 * ```
 */
export function toKitWeights(
  a: EngineArchitecture,
  stateDict: Record<string, Float32Array>,
): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name, shape] of parameterShapes(a)) {
    const w = stateDict[name];
    if (!w) {
      throw new ClipInputError(`state dict lacks ${name}`, {
        fix: "pass the state dict of this architecture",
      });
    }
    const rows = shape[0], cols = w.length / rows;
    out[name] = transposedInKitLayout(name) ? transpose2d(w, rows, cols) : w.slice();
  }
  return out;
}

/**
 * The inverse of {@link toKitWeights}: weights in src/model/architecture.ts's layout (e.g. from
 * `initWeights` or a kit checkpoint) as an engine state dict with PyTorch layouts.
 *
 * @example
 * ```ts
 * import { fromKitWeights } from "./layout.ts";
 * import { initWeights, loadArchitecture } from "../../model/architecture.ts";
 * const a = loadArchitecture("tiny");
 * fromKitWeights(a, initWeights(a, 0))["visual.conv1.weight"].length; // → 12288 ([64, 3, 8, 8])
 * ```
 */
export function fromKitWeights(
  a: EngineArchitecture,
  weights: Record<string, Float32Array>,
): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name, shape] of parameterShapes(a)) {
    const w = weights[name];
    if (!w) {
      throw new ClipInputError(`weights lack ${name}`, { fix: "pass the weights of this architecture" });
    }
    const rows = shape[0], cols = w.length / rows; // PyTorch shape [rows, cols]; the kit stores [cols, rows]
    out[name] = transposedInKitLayout(name) ? transpose2d(w, cols, rows) : w.slice();
  }
  return out;
}
