/**
 * The classic model `models/tiny-clip-classic` (trained by `deno task pretrain` on the classic shapes world, the
 * model the classic-world experiments and chapters 5 and 7 use): loads unchanged with `ClipModel.load`, its files
 * are what config.json says, and re-measuring the zero-shot accuracies on the test split gives the numbers
 * MODEL_CARD.md and eval.json state (to ≤ 0.25 points: ONNX Runtime thread scheduling may flip a
 * near-tie among 4000 images).
 */
import nodeAssert from "node:assert/strict";
import { join } from "node:path";
import { ClipModel } from "../src/model/clip_model.ts";
import { evaluateShapes, evaluationTable, type ShapesEvaluation } from "../src/train/evaluate.ts";
import { ROOT } from "./_shared.ts";
import { checkModelFolder } from "./_model_dir.ts";

const assert = (ok: boolean, msg = "assertion failed") => nodeAssert.ok(ok, msg);
const DIR = join(ROOT, "models", "tiny-clip-classic");
/** Largest allowed difference between re-measured and stated accuracies (fraction). */
const TOLERANCE = 0.0025;

Deno.test("tiny-clip-classic: the directory is complete, small, and consistent with its tokenizer", async () => {
  await checkModelFolder(DIR, [
    "config.json",
    "preprocessor_config.json",
    "vocab.json",
    "merges.txt",
    "onnx/text_model.onnx",
    "onnx/vision_model.onnx",
    "MODEL_CARD.md",
    "eval.json",
    "training.json",
  ]);
});

Deno.test("tiny-clip-classic: re-measured zero-shot accuracies equal the model card's", async () => {
  const model = await ClipModel.load(DIR);
  try {
    nodeAssert.equal(model.imageSize, 32);
    const stated = JSON.parse(await Deno.readTextFile(join(DIR, "eval.json"))) as ShapesEvaluation;
    const card = await Deno.readTextFile(join(DIR, "MODEL_CARD.md"));
    assert(card.includes(evaluationTable(stated)), "MODEL_CARD.md does not quote eval.json's table");
    const now = await evaluateShapes(model, stated.templates);
    for (const task of ["colour", "shape", "seen", "unseen"] as const) {
      for (const key of ["ensemble", "bare"] as const) {
        const d = Math.abs(now[task][key] - stated[task][key]);
        assert(d <= TOLERANCE, `${task} ${key}: measured ${now[task][key]}, card ${stated[task][key]}`);
      }
      const d = Math.abs(now[task].best.accuracy - stated[task].best.accuracy);
      assert(
        d <= TOLERANCE,
        `${task} best template: measured ${now[task].best.accuracy}, card ${stated[task].best.accuracy}`,
      );
    }
  } finally {
    await model.dispose();
  }
});
