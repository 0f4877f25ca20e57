/**
 * Zero-shot accuracy of a model directory on the shapes world's test split, measured through the
 * inference path (`ClipModel` + `zeroshot.ts` on ONNX Runtime): colour (10-way), shape (8-way), and
 * colour+shape (80-way) on combinations seen in training and on the held-out ones; each single
 * template, the template ensemble, and the bare class name.
 *
 * Command line: `deno run -A src/train/evaluate.ts [--model models/tiny-clip-classic] [--write]` prints the
 * table; `--write` stores it as `eval.json` in the model directory (what MODEL_CARD.md quotes).
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ClipModel } from "../model/clip_model.ts";
import { writeAtomic } from "../fs.ts";
import { accuracyOf, classWeights, embedPrompts } from "../zeroshot/classifier.ts";
import { Matrix } from "../math/matrix.ts";
import { normalize } from "../math/similarity.ts";
import { classNames, generateBatch, type ShapesTask } from "../data/shapes.ts";
import { shapesTemplates } from "./pretrain.ts";

/** The card's protocol: test-split examples drawn, and the seed of the split. */
export const EVAL_PROTOCOL = { split: "test", seed: 0, examples: 4000 } as const;
/** The bare class name, the baseline of the template ensemble. */
export const BARE_TEMPLATE = "{}";

/** Accuracy of one task under each prompt choice. */
export interface TaskScores {
  /** Number of test images scored. */
  images: number;
  /** Accuracy with each single template, in template order. */
  perTemplate: { template: string; accuracy: number }[];
  best: { template: string; accuracy: number };
  ensemble: number;
  bare: number;
  /** ensemble − bare, in accuracy points (0–1). */
  ensembleGain: number;
}

/** Results of {@link evaluateShapes}, per task. */
export interface ShapesEvaluation {
  protocol: typeof EVAL_PROTOCOL;
  templates: string[];
  colour: TaskScores;
  shape: TaskScores;
  seen: TaskScores;
  unseen: TaskScores;
}

/** The rows of `m` whose index passes `keep`. */
function pickRows(m: Matrix, keep: (i: number) => boolean): Matrix {
  const rows: number[] = [];
  for (let i = 0; i < m.rows; i++) if (keep(i)) rows.push(i);
  const out = new Float32Array(rows.length * m.cols);
  rows.forEach((r, k) => out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), k * m.cols));
  return new Matrix(out, rows.length, m.cols);
}

/**
 * Measure the card's numbers.
 *
 * @example
 * ```ts
 * import { evaluateShapes } from "./evaluate.ts";
 * import { ClipModel } from "../model/clip_model.ts";
 * const r = await evaluateShapes(await ClipModel.load("models/tiny-clip-classic"));
 * r.colour.ensemble; // → 0.99875 (fraction of test images right)
 * ```
 */
export async function evaluateShapes(
  model: ClipModel,
  templates: string[] = shapesTemplates(),
): Promise<ShapesEvaluation> {
  const { seed, examples } = EVAL_PROTOCOL;
  const data = generateBatch(seed, examples, { split: "test", size: model.imageSize });
  const images = normalize(await model.encodePixels(data.pixels, { progress: false })); // [N, D]
  const prompts = [...templates, BARE_TEMPLATE];
  const score = async (
    task: ShapesTask,
    labels: Int32Array,
    keep: (i: number) => boolean,
  ): Promise<TaskScores> => {
    const p = await embedPrompts(model, classNames(task), prompts, { cache: false });
    const subset = pickRows(images, keep);
    const y = Int32Array.from(labels.filter((_, i) => keep(i)));
    const acc = (ts: number[]) => accuracyOf(classWeights(p, ts), subset, y);
    const perTemplate = templates.map((template, t) => ({ template, accuracy: acc([t]) }));
    const best = perTemplate.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    const ensemble = acc(templates.map((_, t) => t));
    const bare = acc([templates.length]);
    return { images: y.length, perTemplate, best, ensemble, bare, ensembleGain: ensemble - bare };
  };
  return {
    protocol: EVAL_PROTOCOL,
    templates,
    colour: await score("colour", data.colourIndex, () => true),
    shape: await score("shape", data.shapeIndex, () => true),
    seen: await score("combo", data.comboIndex, (i) => data.heldOut[i] === 0),
    unseen: await score("combo", data.comboIndex, (i) => data.heldOut[i] === 1),
  };
}

/** The evaluation as a Markdown table (percentages). */
export function evaluationTable(r: ShapesEvaluation): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const pts = (x: number) => {
    const v = (100 * x).toFixed(1);
    return v === "-0.0" || v === "0.0" ? "±0.0" : `${x > 0 ? "+" : ""}${v}`;
  };
  const lines = [
    "| task | images | ensemble (12 templates) | best single template | bare class name | ensemble − bare |",
    "|---|---:|---:|---|---:|---:|",
  ];
  const rows: [string, TaskScores][] = [
    ["colour (10-way)", r.colour],
    ["shape (8-way)", r.shape],
    ["colour+shape, seen combos (80-way)", r.seen],
    ["colour+shape, unseen combos (80-way)", r.unseen],
  ];
  for (const [name, s] of rows) {
    lines.push(
      `| ${name} | ${s.images} | ${pct(s.ensemble)} | ${pct(s.best.accuracy)} \`${s.best.template}\` | ` +
        `${pct(s.bare)} | ${pts(s.ensembleGain)} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string", default: "models/tiny-clip-classic" },
      write: { type: "boolean", default: false },
    },
  });
  const model = await ClipModel.load(values.model!);
  const started = performance.now();
  const result = await evaluateShapes(model);
  console.log(evaluationTable(result));
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s, ${model.runtime.describe()})`);
  if (values.write) {
    const path = join(values.model!, "eval.json");
    await writeAtomic(path, JSON.stringify(result, null, 1) + "\n");
    console.log(`wrote ${path}`);
  }
  await model.dispose();
}
