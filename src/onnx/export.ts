/**
 * Export a CLIP (trained weights, or random ones for any configuration) as a model directory in
 * the Hugging Face / transformers.js layout that `ClipModel.load` reads:
 *   onnx/text_model.onnx    input_ids int64 [batch, sequence] → text_embeds float32 [batch, D]
 *   onnx/vision_model.onnx  pixel_values float32 [batch, 3, R, R] → image_embeds float32 [batch, D]
 *   config.json, preprocessor_config.json, vocab.json + merges.txt (+ tokenizer.json)
 *
 * The text graph takes any sequence length up to `context_length`: it slices the positional
 * embedding and the causal mask to the input, and pools at ArgMax(input_ids) (EOT is the largest id).
 * Embeddings are the projections, not normalised.
 *
 * Command line: `deno run -A src/onnx/export.ts --config vit-b-32 --random 0 --out DIR
 * [--tokenizer ../shared/clip/bpe_simple_vocab_16e6.txt.gz]` writes random-weight graphs.
 * @module
 */
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { FLOAT, GraphBuilder, INT64 } from "./graph.ts";
import { writeAtomic } from "../fs.ts";
import { ExportError } from "../errors.ts";
import { CLIP_MEAN, CLIP_STD, EOT_TOKEN, LAYER_NORM_EPS, SOT_TOKEN } from "../constants.ts";
import {
  type ArchitecturePreset,
  type ClipArchitecture,
  initWeights,
  loadArchitecture,
  MLP_RATIO,
  validateArchitecture,
  visionTokens,
  weightShapes,
} from "../model/architecture.ts";
import { readVocabulary, writeHfTokenizerFiles } from "../text/vocabulary.ts";

/** Weights (named as in `weightShapes`, src/model/architecture.ts) with their architecture. */
export interface ClipCheckpoint {
  config: ClipArchitecture;
  weights: Record<string, Float32Array>;
}

/** Options of {@link exportClip}. */
export interface ExportOptions {
  /** Seed of random weights, used when `exportClip` gets a bare architecture (default 0). */
  random?: number;
  /** Anything `ClipTokenizer.load` reads; its merges are written as vocab.json + merges.txt. */
  tokenizer?: string;
  /** Extra fields merged into config.json (e.g. `{ _comment: "..." }`). */
  extraConfig?: Record<string, unknown>;
  /**
   * The MLP's activation: `"quick_gelu"` (default; openai/CLIP's `x·σ(1.702x)`) or `"gelu"` (the exact,
   * erf-based GELU of open_clip's LAION models and Hugging Face's `hidden_act: "gelu"`).
   */
  activation?: Activation;
}

/** The MLP activation of both towers' blocks. */
export type Activation = "quick_gelu" | "gelu";

/** What {@link exportClip} wrote. */
export interface ExportResult {
  dir: string;
  files: string[];
  parameters: number;
}

type W = Record<string, Float32Array>;

/** `[in, out]` matrix → `[out, in]` (for the Conv weight). */
function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** Pre-LN residual attention block on `x [B, S, width]`. */
function block(
  g: GraphBuilder,
  w: W,
  p: string,
  x: string,
  width: number,
  heads: number,
  mask: string | null,
  activation: Activation,
) {
  const d = width / heads;
  const ln = (name: string, input: string) =>
    g.op(
      "LayerNormalization",
      [
        input,
        g.float(`${p}.${name}.weight`, w[`${p}.${name}.weight`], [width]),
        g.float(`${p}.${name}.bias`, w[`${p}.${name}.bias`], [width]),
      ],
      { axis: -1, epsilon: { float: LAYER_NORM_EPS } },
      `${p}.${name}`,
    );
  const linear = (input: string, name: string, nIn: number, nOut: number) =>
    g.op(
      "Add",
      [
        g.op("MatMul", [input, g.float(`${name}.weight`, w[`${name}.weight`], [nIn, nOut])], {}, name),
        g.float(`${name}.bias`, w[`${name}.bias`], [nOut]),
      ],
      {},
      name,
    );

  // attention
  const a = `${p}.attn`;
  const h = ln("ln_1", x);
  const qkv = g.op(
    "Add",
    [
      g.op(
        "MatMul",
        [h, g.float(`${a}.in_proj_weight`, w[`${a}.in_proj_weight`], [width, 3 * width])],
        {},
        a,
      ),
      g.float(`${a}.in_proj_bias`, w[`${a}.in_proj_bias`], [3 * width]),
    ],
    {},
    a,
  ); // [B, S, 3W]
  const [q, k, v] = g.node("Split", [qkv, g.int64(`${a}.split`, [width, width, width])], { axis: -1 }, a, 3);
  const headShape = g.int64(`${a}.head_shape`, [0, 0, heads, d]);
  const toHeads = (t: string, perm: number[]) =>
    g.op("Transpose", [g.op("Reshape", [t, headShape], {}, a)], { perm }, a);
  const qh = g.op(
    "Mul",
    [toHeads(q, [0, 2, 1, 3]), g.float(`${a}.scale`, Float32Array.of(1 / Math.sqrt(d)), [])],
    {},
    a,
  ); // [B, H, S, d]
  const kt = toHeads(k, [0, 2, 3, 1]); // [B, H, d, S]
  const vh = toHeads(v, [0, 2, 1, 3]); // [B, H, S, d]
  let scores = g.op("MatMul", [qh, kt], {}, a); // [B, H, S, S]
  if (mask) scores = g.op("Add", [scores, mask], {}, a);
  const ctx = g.op("MatMul", [g.op("Softmax", [scores], { axis: -1 }, a), vh], {}, a); // [B, H, S, d]
  const merged = g.op(
    "Reshape",
    [
      g.op("Transpose", [ctx], { perm: [0, 2, 1, 3] }, a),
      g.int64(`${a}.merge_shape`, [0, 0, width]),
    ],
    {},
    a,
  ); // [B, S, W]
  x = g.op("Add", [x, linear(merged, `${a}.out_proj`, width, width)], {}, p);

  // MLP with QuickGELU, x·σ(1.702x), or the exact GELU, x·(½ + ½·erf(x/√2))
  const hidden = width * MLP_RATIO;
  const fc = linear(ln("ln_2", x), `${p}.mlp.c_fc`, width, hidden);
  const scalar = (name: string, v: number) => g.float(`${p}.mlp.${name}`, Float32Array.of(v), []);
  const gate = activation === "gelu"
    ? g.op(
      "Add",
      [
        g.op(
          "Mul",
          [
            g.op("Erf", [g.op("Mul", [fc, scalar("rsqrt2", Math.SQRT1_2)], {}, p)], {}, p),
            scalar("half", 0.5),
          ],
          {},
          p,
        ),
        scalar("half_offset", 0.5),
      ],
      {},
      p,
    )
    : g.op("Sigmoid", [g.op("Mul", [fc, scalar("gelu_alpha", 1.702)], {}, p)], {}, p);
  const gelu = g.op("Mul", [fc, gate], {}, `${p}.mlp`);
  return g.op("Add", [x, linear(gelu, `${p}.mlp.c_proj`, hidden, width)], {}, p);
}

/**
 * The text tower as an ONNX graph: `input_ids` int64 [batch, sequence] → `text_embeds` [batch, D].
 *
 * @example
 * ```ts
 * import { textGraph } from "./export.ts";
 * import { initWeights, loadArchitecture } from "../model/architecture.ts";
 * const config = loadArchitecture("tiny");
 * const bytes = textGraph(config, initWeights(config, 0)); // write it as onnx/text_model.onnx
 * bytes.length; // → 701026
 * ```
 */
export function textGraph(c: ClipArchitecture, w: W, activation: Activation = "quick_gelu"): Uint8Array {
  const g = new GraphBuilder("clip_text");
  const width = c.transformer_width, C = c.context_length;
  const ids = g.input("input_ids", INT64, ["batch", "sequence"]);
  const seq = g.op("Slice", [g.op("Shape", [ids]), g.int64("one", [1]), g.int64("two", [2])], {}, "seq"); // [1]
  const zero = g.int64("zero", [0]);
  const tok = g.op("Gather", [
    g.float("token_embedding.weight", w["token_embedding.weight"], [c.vocab_size, width]),
    ids,
  ], {
    axis: 0,
  }, "token_embedding"); // [B, S, W]
  const pos = g.op(
    "Slice",
    [g.float("positional_embedding", w["positional_embedding"], [C, width]), zero, seq, zero],
    {},
    "pos",
  ); // [S, W]
  let x = g.op("Add", [tok, pos], {}, "embed");
  const full = new Float32Array(C * C);
  for (let i = 0; i < C; i++) for (let j = i + 1; j < C; j++) full[i * C + j] = -Infinity;
  const mask = g.op(
    "Slice",
    [
      g.float("causal_mask", full, [C, C]),
      g.int64("zero2", [0, 0]),
      g.op("Concat", [seq, seq], { axis: 0 }, "mask"),
      g.int64("axes01", [0, 1]),
    ],
    {},
    "mask",
  ); // [S, S]
  for (let i = 0; i < c.transformer_layers; i++) {
    x = block(g, w, `transformer.resblocks.${i}`, x, width, c.transformer_heads, mask, activation);
  }
  x = g.op(
    "LayerNormalization",
    [
      x,
      g.float("ln_final.weight", w["ln_final.weight"], [width]),
      g.float("ln_final.bias", w["ln_final.bias"], [width]),
    ],
    { axis: -1, epsilon: { float: LAYER_NORM_EPS } },
    "ln_final",
  );
  const eot = g.op("ArgMax", [ids], { axis: 1, keepdims: 1 }, "eot"); // [B, 1]
  const index = g.op(
    "Expand",
    [
      g.op("Unsqueeze", [eot, g.int64("axis2", [2])], {}, "eot"),
      g.int64("expand_shape", [1, 1, width]),
    ],
    {},
    "eot",
  ); // [B, 1, W]
  const pooled = g.op(
    "Squeeze",
    [
      g.op("GatherElements", [x, index], { axis: 1 }, "eot"),
      g.int64("axis1", [1]),
    ],
    {},
    "eot",
  ); // [B, W]
  const proj = g.float("text_projection", w["text_projection"], [width, c.embed_dim]);
  g.node("MatMul", [pooled, proj], {}, "text_projection");
  g.renameLast("text_embeds");
  g.output("text_embeds", FLOAT, ["batch", c.embed_dim]);
  return g.encode();
}

/**
 * The image tower as an ONNX graph: `pixel_values` [batch, 3, R, R] → `image_embeds` [batch, D].
 *
 * @example
 * ```ts
 * import { visionGraph } from "./export.ts";
 * import { initWeights, loadArchitecture } from "../model/architecture.ts";
 * const config = loadArchitecture("tiny");
 * const bytes = visionGraph(config, initWeights(config, 0)); // write it as onnx/vision_model.onnx
 * bytes.length; // → 486616
 * ```
 */
export function visionGraph(c: ClipArchitecture, w: W, activation: Activation = "quick_gelu"): Uint8Array {
  const g = new GraphBuilder("clip_vision");
  const width = c.vision_width, p = c.vision_patch_size, R = c.image_resolution, grid = R / p;
  const pixels = g.input("pixel_values", FLOAT, ["batch", 3, R, R]);
  const convW = transpose2d(w["visual.conv1.weight"], 3 * p * p, width); // [W, 3·p·p] = [W, 3, p, p]
  const conv = g.op("Conv", [pixels, g.float("visual.conv1.weight", convW, [width, 3, p, p])], {
    kernel_shape: [p, p],
    strides: [p, p],
  }, "visual.conv1"); // [B, W, g, g]
  const patches = g.op(
    "Transpose",
    [
      g.op("Reshape", [conv, g.int64("visual.flat_shape", [0, width, grid * grid])], {}, "visual.patches"),
    ],
    { perm: [0, 2, 1] },
    "visual.patches",
  ); // [B, g², W]
  const batch = g.op(
    "Slice",
    [g.op("Shape", [pixels]), g.int64("zero", [0]), g.int64("one", [1])],
    {},
    "batch",
  );
  const clsShape = g.op("Concat", [batch, g.int64("visual.cls_tail", [1, width])], { axis: 0 }, "visual.cls");
  const cls = g.op(
    "Expand",
    [
      g.float("visual.class_embedding", w["visual.class_embedding"], [1, 1, width]),
      clsShape,
    ],
    {},
    "visual.cls",
  ); // [B, 1, W]
  let x = g.op(
    "Add",
    [
      g.op("Concat", [cls, patches], { axis: 1 }, "visual.tokens"),
      g.float("visual.positional_embedding", w["visual.positional_embedding"], [visionTokens(c), width]),
    ],
    {},
    "visual.embed",
  ); // [B, T, W]
  const ln = (name: string, input: string) =>
    g.op(
      "LayerNormalization",
      [
        input,
        g.float(`visual.${name}.weight`, w[`visual.${name}.weight`], [width]),
        g.float(`visual.${name}.bias`, w[`visual.${name}.bias`], [width]),
      ],
      { axis: -1, epsilon: { float: LAYER_NORM_EPS } },
      `visual.${name}`,
    );
  x = ln("ln_pre", x);
  for (let i = 0; i < c.vision_layers; i++) {
    x = block(g, w, `visual.transformer.resblocks.${i}`, x, width, c.vision_heads, null, activation);
  }
  const first = g.op("Gather", [x, g.int64("visual.cls_index", [0], [])], { axis: 1 }, "visual.cls_token"); // [B, W]
  const pooled = ln("ln_post", first);
  g.node(
    "MatMul",
    [pooled, g.float("visual.proj", w["visual.proj"], [width, c.embed_dim])],
    {},
    "visual.proj",
  );
  g.renameLast("image_embeds");
  g.output("image_embeds", FLOAT, ["batch", c.embed_dim]);
  return g.encode();
}

/**
 * `config.json` in the Hugging Face CLIP form (plus `openai_clip_config`, the constructor arguments).
 *
 * @example
 * ```ts
 * import { hfConfig } from "./export.ts";
 * import { loadArchitecture } from "../model/architecture.ts";
 * hfConfig(loadArchitecture("tiny"), 2.659, 1022, 1023).logit_scale; // → 14.28 (the multiplier)
 * ```
 */
export function hfConfig(
  c: ClipArchitecture,
  logLogitScale: number,
  sot: number,
  eot: number,
  activation: Activation = "quick_gelu",
): Record<string, unknown> {
  const common = { hidden_act: activation, layer_norm_eps: LAYER_NORM_EPS, projection_dim: c.embed_dim };
  return {
    model_type: "clip",
    architectures: ["CLIPModel"],
    projection_dim: c.embed_dim,
    logit_scale: Math.exp(logLogitScale),
    logit_scale_init_value: logLogitScale,
    text_config: {
      vocab_size: c.vocab_size,
      hidden_size: c.transformer_width,
      intermediate_size: c.transformer_width * MLP_RATIO,
      num_attention_heads: c.transformer_heads,
      num_hidden_layers: c.transformer_layers,
      max_position_embeddings: c.context_length,
      ...common,
      bos_token_id: sot,
      eos_token_id: eot,
      pad_token_id: 0,
    },
    vision_config: {
      image_size: c.image_resolution,
      patch_size: c.vision_patch_size,
      num_channels: 3,
      hidden_size: c.vision_width,
      intermediate_size: c.vision_width * MLP_RATIO,
      num_attention_heads: c.vision_heads,
      num_hidden_layers: c.vision_layers,
      ...common,
    },
    openai_clip_config: { ...c },
  };
}

/** `preprocessor_config.json`: CLIP's resize (bicubic) → centre crop → normalise at `R`. */
export function preprocessorConfig(c: ClipArchitecture): Record<string, unknown> {
  return {
    crop_size: { height: c.image_resolution, width: c.image_resolution },
    size: { shortest_edge: c.image_resolution },
    image_mean: CLIP_MEAN,
    image_std: CLIP_STD,
    do_center_crop: true,
    resample: 3,
    do_resize: true,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    do_convert_rgb: true,
    feature_extractor_type: "CLIPFeatureExtractor",
    image_processor_type: "CLIPImageProcessor",
  };
}

/**
 * Write a model directory from trained weights, or from a bare config with seeded random weights.
 *
 * @example
 * ```ts
 * import { exportClip } from "./export.ts";
 * import { loadArchitecture } from "../model/architecture.ts";
 * await exportClip(loadArchitecture("vit-b-32"), "/tmp/clip-b32", { random: 0, tokenizer: "../shared/clip/bpe_simple_vocab_16e6.txt.gz" });
 * // → { dir: "/tmp/clip-b32", files: ["vocab.json", "merges.txt", …, "preprocessor_config.json"], parameters: 151277313 }
 * ```
 */
export async function exportClip(
  model: ClipCheckpoint | ClipArchitecture,
  dir: string,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const config = "config" in model ? model.config : model;
  validateArchitecture(config);
  const weights = "config" in model ? model.weights : initWeights(config, options.random ?? 0);
  let parameters = 0;
  for (const [name, shape] of weightShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (weights[name]?.length !== n) {
      throw new ExportError(
        `weight ${name} should hold ${n} values [${shape}], so the weights do not match the config`,
        { fix: "export the weights with the config they were trained with" },
      );
    }
    parameters += n;
  }
  let sot = config.vocab_size - 2, eot = config.vocab_size - 1;
  const files: string[] = [];
  await Deno.mkdir(join(dir, "onnx"), { recursive: true });
  if (options.tokenizer) {
    const vocab = await readVocabulary(options.tokenizer);
    if (vocab.decoder.length !== config.vocab_size) {
      throw new ExportError(
        `the tokenizer has ${vocab.decoder.length} ids but the model's vocab_size is ${config.vocab_size}`,
        { path: options.tokenizer, fix: "pass the tokenizer the model was trained with" },
      );
    }
    sot = vocab.encoder.get(SOT_TOKEN)!;
    eot = vocab.encoder.get(EOT_TOKEN)!;
    const written = await writeHfTokenizerFiles(dir, vocab.merges);
    for (const path of [written.vocab, written.merges, written.tokenizerJson, written.tokenizerConfig]) {
      if (path) files.push(relative(dir, path));
    }
  }
  await writeAtomic(join(dir, "onnx", "text_model.onnx"), textGraph(config, weights, options.activation));
  await writeAtomic(join(dir, "onnx", "vision_model.onnx"), visionGraph(config, weights, options.activation));
  const cfg = {
    ...hfConfig(config, weights["logit_scale"][0], sot, eot, options.activation),
    ...options.extraConfig,
  };
  await writeAtomic(join(dir, "config.json"), JSON.stringify(cfg, null, 2) + "\n");
  await writeAtomic(
    join(dir, "preprocessor_config.json"),
    JSON.stringify(preprocessorConfig(config), null, 2) + "\n",
  );
  files.push("onnx/text_model.onnx", "onnx/vision_model.onnx", "config.json", "preprocessor_config.json");
  return { dir, files, parameters };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      config: { type: "string", default: "vit-b-32" },
      random: { type: "string", default: "0" },
      out: { type: "string" },
      tokenizer: { type: "string" },
    },
  });
  if (!values.out) {
    throw new ExportError("no output folder", {
      fix: "pass --out DIR (e.g. --out /tmp/clip-vit-b-32-random)",
    });
  }
  const started = performance.now();
  const result = await exportClip(loadArchitecture(values.config as ArchitecturePreset), values.out, {
    random: Number(values.random),
    tokenizer: values.tokenizer,
    extraConfig: {
      _comment: `RANDOM weights (seed ${values.random}), ${values.config} shape: for benchmarks only`,
    },
  });
  console.log(
    `wrote ${result.files.join(", ")} to ${result.dir}: ${
      result.parameters.toLocaleString("en")
    } parameters, ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}
