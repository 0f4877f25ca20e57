/**
 * Matrix operations, cosine similarity, softmax, top-k and retrieval metrics on hand-built inputs whose
 * answers are known exactly. Float tolerances are stated per assertion (float32 storage: ~1e-7 relative).
 */
import { concatRows, matmulT, Matrix, selectRows, transpose } from "../src/math/matrix.ts";
import { argmaxRows, normalize, similarity, softmax, topK } from "../src/math/similarity.ts";
import { InputError, MatrixShapeError, NonFiniteError, TemperatureError, TopKError } from "../src/errors.ts";
import { retrievalFromScores, retrievalMetrics } from "../src/math/retrieval.ts";
import { assert, assertAllClose, assertEquals, assertThrows } from "./_assert.ts";

/** A deterministic pseudo-random matrix (LCG), values in [-1, 1). */
function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  let s = seed >>> 0;
  const data = new Float32Array(rows * cols);
  for (let k = 0; k < data.length; k++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[k] = s / 2 ** 31 - 1;
  }
  return new Matrix(data, rows, cols);
}

Deno.test("matmulT equals the naive triple loop across block edges (1e-5 abs)", () => {
  // 71 and 131 rows straddle the 64-row blocks and leave odd remainders for the 2×4 kernel; width 33 is odd.
  const a = randomMatrix(71, 33, 1), b = randomMatrix(131, 33, 2);
  const c = matmulT(a, b);
  assertEquals(c.shape, [71, 131]);
  const naive = new Float32Array(71 * 131);
  for (let i = 0; i < 71; i++) {
    for (let j = 0; j < 131; j++) {
      let s = 0;
      for (let k = 0; k < 33; k++) s += a.get(i, k) * b.get(j, k);
      naive[i * 131 + j] = s;
    }
  }
  assertAllClose(c.data, naive, 1e-5);
  assertEquals(
    matmulT(Matrix.fromRows([[1, 2], [3, 4]]), Matrix.fromRows([[1, 0], [0, 1], [1, 1]])).toRows(),
    [
      [1, 2, 3],
      [3, 4, 7],
    ],
  );
  assertThrows(() => matmulT(a, randomMatrix(2, 5, 3)), MatrixShapeError, "same model");
});

Deno.test("transpose, selectRows, concatRows", () => {
  const m = Matrix.fromRows([[1, 2, 3], [4, 5, 6]]);
  assertEquals(transpose(m).toRows(), [[1, 4], [2, 5], [3, 6]]);
  assertEquals(selectRows(m, [1, 0, 1]).toRows(), [[4, 5, 6], [1, 2, 3], [4, 5, 6]]);
  assertEquals(concatRows([m, Matrix.fromRows([[7, 8, 9]])]).shape, [3, 3]);
  assertThrows(() => concatRows([m, Matrix.fromRows([[1]])]), MatrixShapeError);
});

Deno.test("normalize gives unit rows and leaves a zero row at zero; NaN/Inf are refused", () => {
  const n = normalize(Matrix.fromRows([[3, 4], [0, 0], [0, -2]]));
  assertAllClose(n.data, [0.6, 0.8, 0, 0, 0, -1], 1e-7);
  assertThrows(() => normalize(Matrix.fromRows([[1, NaN]])), NonFiniteError, "[0, 1] is NaN");
  assertThrows(
    () => normalize(Matrix.fromRows([[1, 0], [Infinity, 0]])),
    NonFiniteError,
    "[1, 0] is Infinity",
  );
});

Deno.test("similarity is the cosine, independent of row length; width mismatch is refused", () => {
  const s = similarity(Matrix.fromRows([[1, 0], [1, 1], [-5, 0]]), Matrix.fromRows([[2, 0], [0, 3]]));
  assertAllClose(s.data, [1, 0, Math.SQRT1_2, Math.SQRT1_2, -1, 0], 1e-7);
  assertThrows(
    () => similarity(Matrix.fromRows([[1, 0]]), Matrix.fromRows([[1, 0, 0]])),
    MatrixShapeError,
    "image embeddings are 2 wide but text embeddings are 3 wide",
  );
});

Deno.test("softmax: rows and columns sum to 1, temperature sharpens, huge logits stay finite", () => {
  const logits = Matrix.fromRows([[1, 2, 3], [0, 0, 0]]);
  const p = softmax(logits);
  const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
  const z = e[0] + e[1] + e[2];
  assertAllClose(p.data, [e[0] / z, e[1] / z, e[2] / z, 1 / 3, 1 / 3, 1 / 3], 1e-7);
  const cols = softmax(logits, { axis: "cols" });
  for (let j = 0; j < 3; j++) assertAllClose([cols.get(0, j) + cols.get(1, j)], [1], 1e-7);
  assertAllClose([cols.get(0, 0)], [Math.exp(1) / (Math.exp(1) + 1)], 1e-7);
  const hot = softmax(logits, { temperature: 100 }), cold = softmax(logits, { temperature: 0.01 });
  assert(hot.get(0, 2) < p.get(0, 2) && p.get(0, 2) < cold.get(0, 2));
  assertAllClose([cold.get(0, 2)], [1], 1e-7);
  assertAllClose(softmax(Matrix.fromRows([[1e30, 1e30]])).data, [0.5, 0.5], 0);
  assertThrows(() => softmax(logits, { temperature: 0 }), TemperatureError, "above 0");
  assertThrows(() => softmax(logits, { temperature: -1 }), TemperatureError);
  assertThrows(() => softmax(logits, { temperature: NaN }), TemperatureError);
  assertThrows(() => softmax(Matrix.fromRows([[NaN, 1]])), NonFiniteError);
});

Deno.test("topK: best first, ties keep column order, k outside 1…cols is refused", () => {
  const m = Matrix.fromRows([[0.1, 0.7, 0.2, 0.7], [5, 4, 3, 2]]);
  const t = topK(m, 3);
  assertEquals(t[0].map((s) => s.index), [1, 3, 2]);
  assertEquals(t[1].map((s) => s.index), [0, 1, 2]);
  assertEquals(topK(m, 4)[1].map((s) => s.value), [5, 4, 3, 2]);
  assertEquals(Array.from(argmaxRows(m)), [1, 0]);
  assertThrows(() => topK(m, 5), TopKError, "from 1 to 4");
  assertThrows(() => topK(m, 0), TopKError);
});

Deno.test("retrieval: recall@k, mean and median rank both ways, open_clip conventions", () => {
  // image 0 → text 0 first; image 1 → text 1 is third; image 2 → text 2 second.
  const scores = Matrix.fromRows([
    [0.9, 0.1, 0.0],
    [0.8, 0.1, 0.7],
    [0.1, 0.5, 0.3],
  ]);
  const m = retrievalFromScores(scores, { ks: [1, 2] });
  assertEquals(Array.from(m.imageToText.ranks), [1, 3, 2]);
  assertEquals(m.imageToText.recall, { 1: 1 / 3, 2: 2 / 3 });
  assertEquals(m.imageToText.meanRank, 2);
  assertEquals(m.imageToText.medianRank, 2);
  // text 0: column [0.9, 0.8, 0.1] → image 0 first; text 1: [0.1, 0.1, 0.5] → image 1 ties image 0, comes after it.
  assertEquals(Array.from(m.textToImage.ranks), [1, 3, 2]);
  // Several captions per image: an image ranks by its best caption.
  const multi = retrievalFromScores(Matrix.fromRows([[0.2, 0.9, 0.1], [0.3, 0.1, 0.8]]), {
    imageOfText: [0, 0, 1],
  });
  assertEquals(Array.from(multi.imageToText.ranks), [1, 1]);
  assertEquals(Array.from(multi.textToImage.ranks), [2, 1, 1]);
  // Even count: median of 0-based ranks [0, 1] is 0.5 → floor + 1 = 1.
  assertEquals(retrievalFromScores(Matrix.fromRows([[1, 0], [1, 0]])).imageToText.medianRank, 1);
  const e = retrievalMetrics(Matrix.fromRows([[1, 0], [0, 1]]), Matrix.fromRows([[2, 0.1], [0.1, 2]]));
  assertEquals(e.imageToText.recall[1], 1);
  assertThrows(() => retrievalFromScores(Matrix.fromRows([[1, 0, 0]])), MatrixShapeError, "imageOfText");
  assertThrows(
    () => retrievalFromScores(Matrix.fromRows([[1, 0]]), { imageOfText: [0, 3] }),
    InputError,
    "no image",
  );
});
