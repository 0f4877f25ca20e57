/**
 * Writes `MODEL_CARD.md` of a model directory from its run record (`training.json`) and its test
 * evaluation (`eval.json`), so every number in the card is the measured one.
 *
 * `deno run -A src/train/model_card.ts [models/tiny-clip-classic] [--notes notes.md]`; `--notes` adds a
 * Markdown section (observations, limits) written by a person.
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readJsonFile, writeAtomic } from "../fs.ts";
import { evaluationTable, type ShapesEvaluation } from "./evaluate.ts";
import type { ClipArchitecture } from "../model/architecture.ts";
import type { TrainConfig, ValidationMetrics } from "./trainer.ts";
import { COLOURS, HELD_OUT, SHAPES } from "../data/shapes.ts";

/** The shipped model's targets on the test split (fractions), and which score each applies to. */
export const TARGETS = { colour: 0.98, shape: 0.90, seen: 0.90, unseen: 0.75 } as const;

/** What `pretrain.ts` writes as `training.json`. */
export interface TrainingRecord {
  command: string;
  config: ClipArchitecture;
  train: TrainConfig;
  parameters: number;
  /** The training engine and its runtime; records of the TensorFlow.js-era runs name the TF.js backend. */
  backend: { engine: string; runtime: string } | { backend: string; simd: boolean; threads: number };
  wall_seconds: number;
  cpu_seconds?: number;
  validations: ValidationMetrics[];
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * The card as Markdown.
 *
 * @example
 * ```ts
 * import { modelCard } from "./model_card.ts";
 * const record = JSON.parse(await Deno.readTextFile("models/tiny-clip-classic/training.json"));
 * const evaluation = JSON.parse(await Deno.readTextFile("models/tiny-clip-classic/eval.json"));
 * modelCard(record, evaluation).split("\n")[0]; // → "# tiny-clip — a CLIP pretrained from scratch on captioned shapes"
 * ```
 */
export function modelCard(r: TrainingRecord, e: ShapesEvaluation, notes = ""): string {
  const c = r.config, t = r.train;
  const pairs = t.steps * t.batch_size;
  const targetRows = (Object.keys(TARGETS) as (keyof typeof TARGETS)[]).map((k) => {
    const best = Math.max(e[k].ensemble, e[k].best.accuracy);
    return `| ${k} | ≥ ${pct(TARGETS[k])} | ${pct(e[k].ensemble)} | ${pct(e[k].best.accuracy)} | ${
      best >= TARGETS[k] ? "met" : "missed"
    } |`;
  });
  const curve = r.validations.map((v) =>
    `| ${v.step} | ${v.loss.toFixed(3)} | ${pct(v.colour)} | ${pct(v.shape)} | ${pct(v.seen)} | ${
      pct(v.unseen)
    } | ${v.logitScale.toFixed(1)} |`
  );
  const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
  const b = r.backend;
  const trainedOn = "engine" in b ? "its training engine" : "TensorFlow.js, WASM backend";
  const backendLine = "engine" in b
    ? `Backend: clipkit's training engine (one ONNX graph per step) on ${b.runtime}.`
    : `Backend: TensorFlow.js ${b.backend} (SIMD ${b.simd ? "on" : "off"}, ${b.threads} thread).`;
  return `# tiny-clip — a CLIP pretrained from scratch on captioned shapes

The real CLIP architecture and objective at toy scale, trained by clipkit itself
(${trainedOn}) so that every notebook and the demo run offline with a model that
really learned something. It knows ${COLOURS.length} colours and ${SHAPES.length} shapes drawn on noisy
backgrounds, nothing else.

## Data
The synthetic captioned-shapes world (\`src/data/shapes.ts\`): ${COLOURS.join(", ")} × ${SHAPES.join(", ")};
one to three shapes, small or large, at a position, on a noisy tinted background, 32×32 pixels, with
varied captions ("a small red circle on the left", "two blue squares", …). The
${HELD_OUT.length} held-out colour–shape combinations (${
    HELD_OUT.map(([a, b]) => `${a} ${b}`).join(", ")
  }) never appear in training.
Training: ${
    pairs.toLocaleString("en")
  } freshly generated image–caption pairs (${t.steps} steps × ${t.batch_size},
seed ${t.seed}, train split). Tokenizer: a byte-level BPE learned on 50,000 training captions
(\`src/train/bpe_learn.ts\`), ${c.vocab_size} ids, CLIP's format.

## Architecture
openai/CLIP (ViT variant), ${r.parameters.toLocaleString("en")} parameters:
- image tower: ${c.image_resolution}×${c.image_resolution} input, patch ${c.vision_patch_size} (${
    (c.image_resolution / c.vision_patch_size) ** 2
  } patches + class token), width ${c.vision_width}, ${c.vision_layers} pre-LN blocks, ${c.vision_heads} heads, QuickGELU, \`ln_post\` on the class token, projection to ${c.embed_dim};
- text tower: causal transformer, context ${c.context_length}, width ${c.transformer_width}, ${c.transformer_layers} blocks, ${c.transformer_heads} heads, features at EOT, projection to ${c.embed_dim};
- learnable logit scale (initialised at 1/0.07, clamped at 100): final value ${
    r.validations.at(-1)!.logitScale.toFixed(1)
  }.

## Training
\`${r.command}\` (seed ${t.seed}). Symmetric InfoNCE, AdamW (β 0.9/0.98, ε 1e-6, weight decay ${t.weight_decay}
except gains, biases, embeddings and the logit scale), peak learning rate ${t.lr} with ${
    Math.round(100 * t.warmup_fraction)
  }% linear warm-up then cosine decay, batch ${t.batch_size}.
${backendLine}
Wall time on this machine (2 CPU cores shared with other jobs): ${minutes(r.wall_seconds)}${
    r.cpu_seconds ? `; CPU time ${minutes(r.cpu_seconds)}` : ""
  }.

Validation during training (${t.validation_size} validation-split images, 12-template ensemble):

| step | val loss | colour | shape | seen (80-way) | unseen (80-way) | logit scale |
|---:|---:|---:|---:|---:|---:|---:|
${curve.join("\n")}

## Zero-shot accuracy on the test split
${e.protocol.examples} test-split images (seed ${e.protocol.seed}), measured through the inference path
(\`ClipModel\` on ONNX Runtime + \`zeroshot.ts\`) by \`deno run -A src/train/evaluate.ts --write\`;
\`test/tiny_clip_test.ts\` re-measures them. Templates: the ${e.templates.length} of \`src/zeroshot/templates/shapes.json\`.
"Seen"/"unseen": colour+shape named together, classified among all 80 combinations, on images of
combinations seen in training / of the held-out ones.

${evaluationTable(e)}

Targets (best of ensemble and single template counts):

| score | target | ensemble | best single template | |
|---|---:|---:|---:|---|
${targetRows.join("\n")}
${notes ? `\n## Notes\n${notes.trim()}\n` : ""}
## Files
\`onnx/text_model.onnx\` (input_ids int64 [batch, sequence ≤ ${c.context_length}] → text_embeds),
\`onnx/vision_model.onnx\` (pixel_values [batch, 3, ${c.image_resolution}, ${c.image_resolution}] → image_embeds),
\`config.json\`, \`preprocessor_config.json\`, \`vocab.json\` + \`merges.txt\` (+ \`tokenizer.json\`),
\`training.json\` (the run's record), \`eval.json\` (the numbers above).
`;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { notes: { type: "string" } },
  });
  const dir = positionals[0] ?? "models/tiny-clip-classic";
  const fixMissing = "train the model with `deno task pretrain` (it writes training.json and eval.json)";
  const record = await readJsonFile(join(dir, "training.json"), "training record", {
    fixMissing,
  }) as TrainingRecord;
  const evaluation = await readJsonFile(join(dir, "eval.json"), "evaluation", {
    fixMissing,
  }) as ShapesEvaluation;
  const notes = values.notes ? await Deno.readTextFile(values.notes) : "";
  const path = join(dir, "MODEL_CARD.md");
  await writeAtomic(path, modelCard(record, evaluation, notes));
  console.log(`wrote ${path}`);
}
