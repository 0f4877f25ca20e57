/**
 * Contrastive losses against PyTorch (../shared/golden/loss.public.json) and on hand-built batches.
 * Tolerance for the golden data: |ours − torch| ≤ 1e-5 · |torch| + 1e-7 (1e-5 relative; the 1e-7 floor only
 * matters for values that are zero to float32 precision, e.g. a softmax entry of 1e-30).
 */
import { Matrix } from "../src/math/matrix.ts";
import { similarity, softmax } from "../src/math/similarity.ts";
import { MatrixShapeError, NonFiniteError, TemperatureError } from "../src/errors.ts";
import { scale, transpose } from "../src/math/matrix.ts";
import {
  clipLoss,
  sigLipLoss,
  softmaxAtTemperatures,
  temperatureRange,
  temperatureSweep,
} from "../src/math/loss.ts";
import { shared, sharedTest } from "./_shared.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "./_assert.ts";

const REL = 1e-5;
const FLOOR = 1e-7;
/**
 * Cosines near 0 cannot agree to 1e-5 *relative*: PyTorch's float32 dot product of 16–64 unit-vector
 * components is itself off by up to ~1e-6 from the exact value (ours sums in float64). So cosines also get an
 * absolute floor of 1e-6 (logits: 1e-6 × logit scale).
 */
const COS_FLOOR = 1e-6;

interface Case {
  seed: number;
  image: number[][];
  text: number[][];
  logit_scale: number;
  cosine: number[][];
  logits_per_image: number[][];
  softmax_image_to_text: number[][];
  softmax_text_to_image: number[][];
  clip_loss?: number;
  loss_image_to_text?: number;
  loss_text_to_image?: number;
  acc_image_to_text?: number;
  acc_text_to_image?: number;
  siglip_logit_scale?: number;
  siglip_logit_bias?: number;
  siglip_loss?: number;
}

function loadGolden(): {
  cases: Case[];
  temperature_sweep: { cosine: number[]; rows: { temperature: number; probs: number[] }[] };
} {
  return JSON.parse(Deno.readTextFileSync(shared("golden", "loss.public.json")));
}

/** Assert |actual − expected| ≤ REL·|expected| + floor elementwise; returns the max abs diff for the report. */
function assertClose(actual: ArrayLike<number>, expected: number[], what: string, floor = FLOOR): number {
  assertEquals(actual.length, expected.length, `${what}: length`);
  let maxAbs = 0;
  for (let k = 0; k < expected.length; k++) {
    const d = Math.abs(actual[k] - expected[k]);
    maxAbs = Math.max(maxAbs, d);
    toleranceUsed = Math.max(toleranceUsed, d / (REL * Math.abs(expected[k]) + floor));
    assert(
      d <= REL * Math.abs(expected[k]) + floor,
      `${what}[${k}]: ${actual[k]} vs torch ${expected[k]} (diff ${d})`,
    );
  }
  return maxAbs;
}

/** Largest share of its tolerance that any compared value used (reported, for the closing note). */
let toleranceUsed = 0;
const diffs: Record<string, number> = {};
function track(name: string, d: number) {
  diffs[name] = Math.max(diffs[name] ?? 0, d);
}

sharedTest("golden loss: cosine, logits, both softmaxes, CLIP loss, accuracies, SigLIP (1e-5 rel)", () => {
  const { cases } = loadGolden();
  for (const c of cases) {
    const img = Matrix.fromRows(c.image), txt = Matrix.fromRows(c.text);
    const tag = `seed ${c.seed}`;
    const cos = similarity(img, txt);
    track("cosine", assertClose(cos.data, c.cosine.flat(), `${tag} cosine`, COS_FLOOR));
    const logits = scale(cos, c.logit_scale);
    track(
      "logits",
      assertClose(
        logits.data,
        c.logits_per_image.flat(),
        `${tag} logits_per_image`,
        COS_FLOOR * c.logit_scale,
      ),
    );
    const pRows = softmax(logits);
    track("softmax", assertClose(pRows.data, c.softmax_image_to_text.flat(), `${tag} softmax image→text`));
    const pCols = transpose(softmax(logits, { axis: "cols" }));
    track("softmax", assertClose(pCols.data, c.softmax_text_to_image.flat(), `${tag} softmax text→image`));
    if (c.clip_loss !== undefined) {
      const r = clipLoss(img, txt, { logitScale: c.logit_scale });
      track(
        "logits",
        assertClose(
          r.logits.data,
          c.logits_per_image.flat(),
          `${tag} clipLoss logits`,
          COS_FLOOR * c.logit_scale,
        ),
      );
      track("loss", assertClose([r.loss], [c.clip_loss], `${tag} clip_loss`));
      track("loss", assertClose([r.imageToText], [c.loss_image_to_text!], `${tag} loss_image_to_text`));
      track("loss", assertClose([r.textToImage], [c.loss_text_to_image!], `${tag} loss_text_to_image`));
      assertEquals(r.accuracyImageToText, c.acc_image_to_text, `${tag} acc_image_to_text`);
      assertEquals(r.accuracyTextToImage, c.acc_text_to_image, `${tag} acc_text_to_image`);
      assertEquals(r.accuracy, (c.acc_image_to_text! + c.acc_text_to_image!) / 2);
    }
    if (c.siglip_loss !== undefined) {
      const r = sigLipLoss(img, txt, { logitScale: c.siglip_logit_scale!, logitBias: c.siglip_logit_bias! });
      track("siglip", assertClose([r.loss], [c.siglip_loss], `${tag} siglip_loss`));
    }
  }
  console.log("max |ours − torch|:", diffs, "largest share of tolerance used:", toleranceUsed.toFixed(3));
});

sharedTest("golden temperature sweep: softmax(cosine / T) at six temperatures (1e-5 rel)", () => {
  const { temperature_sweep: sweep } = loadGolden();
  const ours = softmaxAtTemperatures(sweep.cosine, sweep.rows.map((r) => r.temperature));
  let maxAbs = 0;
  sweep.rows.forEach((r, k) => {
    assertEquals(ours[k].temperature, r.temperature);
    maxAbs = Math.max(maxAbs, assertClose(ours[k].probs, r.probs, `T=${r.temperature}`));
  });
  console.log("temperature sweep max |ours − torch|:", maxAbs);
});

const I2 = Matrix.fromRows([[1, 0], [0, 1]]);
const T2 = Matrix.fromRows([[1, 0.1], [0.1, 1]]);

Deno.test("clipLoss: perfect pairs give accuracy 1 and a loss that falls with the temperature", () => {
  const r = clipLoss(I2, T2, { logitScale: 100 });
  assertEquals(r.accuracy, 1);
  assertAlmostEquals(r.loss, Math.log1p(Math.exp(-100 * (1 - 0.1) / Math.sqrt(1.01))), 1e-9);
  assertAlmostEquals(r.imageToText, r.textToImage, 1e-12);
  const sweep = temperatureSweep(I2, T2, [1, 0.1, 0.01]);
  assert(sweep[0].loss > sweep[1].loss && sweep[1].loss > sweep[2].loss);
  assert(sweep[0].meanEntropy > sweep[2].meanEntropy);
  assert(sweep[0].meanTrueProbability < sweep[2].meanTrueProbability);
  sweep.forEach((p) => assertEquals(p.accuracy, 1));
});

Deno.test("clipLoss: swapped pairs give accuracy 0; the logit scale is clamped at 100", () => {
  const swapped = Matrix.fromRows([[0, 1], [1, 0]]);
  const r = clipLoss(I2, swapped, { logitScale: 1000 });
  assertEquals(r.accuracy, 0);
  assertEquals(r.logitScale, 100);
  assertAlmostEquals(r.loss, 100 + Math.log1p(Math.exp(-100)), 1e-9);
  const unclamped = clipLoss(I2, swapped, { logitScale: 1000, maxLogitScale: Infinity });
  assertAlmostEquals(unclamped.loss, 1000, 1e-6);
});

Deno.test("clipLoss: a tie counts for the first column, like torch.argmax", () => {
  const img = Matrix.fromRows([[1, 0], [1, 0]]);
  const r = clipLoss(img, img, { logitScale: 10 });
  assertEquals(r.accuracyImageToText, 0.5);
  assertAlmostEquals(r.loss, Math.log(2), 1e-9);
});

Deno.test("sigLipLoss: one pair at zero logit gives log 2; bias shifts every cell", () => {
  const one = Matrix.fromRows([[1, 0]]);
  const r = sigLipLoss(one, one, { logitScale: 10, logitBias: -10 });
  assertAlmostEquals(r.loss, Math.log(2), 1e-12);
  assertAlmostEquals(r.logits.get(0, 0), 0, 1e-6);
  const far = sigLipLoss(I2, I2, { logitScale: 10, logitBias: 0 });
  // diagonal logit 10 (positive), off-diagonal 0 (negative label): 2·log1p(e^-10) + 2·log 2, over n = 2
  assertAlmostEquals(far.loss, (2 * Math.log1p(Math.exp(-10)) + 2 * Math.log(2)) / 2, 1e-9);
});

Deno.test("temperatureRange and softmaxAtTemperatures", () => {
  assertEquals(temperatureRange(0.01, 1, 3), [0.01, 0.1, 1]);
  assertEquals(temperatureRange(0.5, 2, 1), [0.5]);
  const rows = softmaxAtTemperatures([0.3, 0.2], [1, 0.01]);
  assertAlmostEquals(rows[0].probs[0], 1 / (1 + Math.exp(-0.1)), 1e-6);
  assert(rows[1].probs[0] > 0.9999);
});

Deno.test("loss bad input: mismatched N, widths, empty, NaN, non-positive scale → typed errors naming the fix", () => {
  assertThrows(
    () => clipLoss(I2, Matrix.fromRows([[1, 0]]), { logitScale: 10 }),
    MatrixShapeError,
    "one text per image",
  );
  assertThrows(
    () => clipLoss(I2, Matrix.fromRows([[1, 0, 0], [0, 1, 0]]), { logitScale: 10 }),
    MatrixShapeError,
    "wide",
  );
  assertThrows(
    () => clipLoss(Matrix.zeros(0, 2), Matrix.zeros(0, 2), { logitScale: 10 }),
    MatrixShapeError,
    "empty",
  );
  assertThrows(
    () => clipLoss(Matrix.fromRows([[NaN, 0], [0, 1]]), I2, { logitScale: 10 }),
    NonFiniteError,
    "NaN",
  );
  assertThrows(() => clipLoss(I2, I2, { logitScale: 0 }), TemperatureError, "logit scale = 1 / temperature");
  assertThrows(() => clipLoss(I2, I2, { logitScale: -1 }), TemperatureError);
  assertThrows(() => sigLipLoss(I2, I2, { logitScale: 10, logitBias: NaN }), TemperatureError);
  assertThrows(() => temperatureSweep(I2, I2, [0.1, 0]), TemperatureError);
  assertThrows(() => softmaxAtTemperatures([1, 2], [-0.5]), TemperatureError);
});
