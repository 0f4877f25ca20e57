/**
 * Linear probes and the L-BFGS under them.
 *
 * - Against scikit-learn 1.2.1 (`../shared/golden/linear_probe.public.json`, `LogisticRegression(C, lbfgs,
 *   tol=1e-8)` for three C): test probabilities within 1e-3 absolute, coefficients within 1e-2 relative (of
 *   the largest coefficient), intercepts within 1e-2 absolute, test accuracy equal; and the same number of
 *   L-BFGS iterations as scikit-learn reported for these fits (`n_iter_` 17, 31, 77).
 * - L-BFGS on problems with known optima: Rosenbrock's valley (minimum at 1, …, 1; SciPy 1.10's L-BFGS-B takes
 *   39 iterations / 47 evaluations from (−1.2, 1) with gtol 1e-10, ftol 0) and a quadratic ½xᵀAx − bᵀx
 *   (minimum A⁻¹b).
 * - The C sweep on a synthetic problem picks a C whose validation accuracy is within one example of the best
 *   on a fine grid of C, and no more than a decade from it.
 * - Worker threads: the loss and gradient equal the single-thread ones to 1e-12 relative (the same sums in
 *   another order); fits agree to 1e-6.
 * - Bad input gives typed errors with a fix.
 */
import { Matrix } from "../src/math/matrix.ts";
import { lbfgs, MoreThuente } from "../src/math/lbfgs.ts";
import { gemmNT64, transpose64 } from "../src/math/gemm64.ts";
import { SoftmaxData } from "../src/math/softmax_loss.ts";
import { ThreadedSoftmaxData } from "../src/math/probe_threads.ts";
import { linearProbe } from "../src/math/linear_probe.ts";
import { evaluateScores } from "../src/zeroshot/classifier.ts";
import { SeededRng } from "../src/data/random.ts";
import { InputError, MatrixShapeError, NonFiniteError, ProbeError, TopKError } from "../src/errors.ts";
import { shared, sharedTest } from "./_shared.ts";
import { assert, assertAllClose, assertAlmostEquals, assertEquals, assertThrows } from "./_assert.ts";

interface GoldenFit {
  C: number;
  coef: number[][];
  intercept: number[];
  test_accuracy: number;
  test_proba: number[][];
}
interface Golden {
  classes: number;
  dim: number;
  train: { x: number[][]; y: number[] };
  test: { x: number[][]; y: number[] };
  fits: GoldenFit[];
}

/** scikit-learn 1.2.1's `n_iter_` for the golden fits (same data and settings), by C. */
const SKLEARN_ITERATIONS: Record<number, number> = { 0.316: 17, 3.16: 31, 100: 77 };

sharedTest("linear probe: equals scikit-learn's LogisticRegression (lbfgs) for C = 0.316, 3.16, 100", () => {
  const g: Golden = JSON.parse(Deno.readTextFileSync(shared("golden", "linear_probe.public.json")));
  assertEquals(g.fits.length, 3);
  for (const f of g.fits) {
    const probe = linearProbe(g.train.x, g.train.y, { C: f.C, tolerance: 1e-8, maxIterations: 1000 });
    assert(probe.converged, `C = ${f.C}: did not converge (${probe.stop})`);
    assertEquals(probe.iterations, SKLEARN_ITERATIONS[f.C], `C = ${f.C}: iterations`);
    assertEquals([probe.classNames.length, probe.dim], [g.classes, g.dim]);
    // probabilities: 1e-3 absolute
    assertAllClose(probe.probabilities(g.test.x).data, f.test_proba.flat(), 1e-3);
    // coefficients: 1e-2 relative to the largest
    const scale = Math.max(...f.coef.flat().map(Math.abs));
    assertAllClose(Array.from(probe.weights, (w) => w / scale), f.coef.flat().map((w) => w / scale), 1e-2);
    assertAllClose(probe.bias, f.intercept, 1e-2);
    // accuracy: equal
    const ev = probe.evaluate({ features: g.test.x, labels: g.test.y });
    assertAlmostEquals(ev.top1, f.test_accuracy, 1e-12);
    assertEquals(probe.C, f.C);
  }
});

Deno.test("linear probe: two classes are scikit-learn's binary logistic regression", () => {
  const x = [[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [0.5, 0.6]], y = [0, 0, 1, 1, 0];
  // scikit-learn 1.2.1, LogisticRegression(C=10, tol=1e-10).fit(x, y): coef_ [[-2.47528262846, 2.126002489419]],
  // intercept_ [-0.660161573632], n_iter_ [10], predict_proba([[0.8, 0.2]]) [[0.901605058539, 0.098394941461]].
  const probe = linearProbe(x, y, { C: 10, tolerance: 1e-10 });
  assertAllClose(probe.weights, [
    2.47528262846 / 2,
    -2.126002489419 / 2,
    -2.47528262846 / 2,
    2.126002489419 / 2,
  ], 1e-8);
  assertAllClose(probe.bias, [0.660161573632 / 2, -0.660161573632 / 2], 1e-8);
  assertEquals(probe.iterations, 10);
  assertAllClose(probe.probabilities([[0.8, 0.2]]).data, [0.901605058539, 0.098394941461], 1e-6);
  // The multinomial form penalises both rows, ‖w/2‖² · 2 = ‖w‖²/2: the same model at half the C.
  const softmax = linearProbe(x, y, {
    C: 5,
    tolerance: 1e-10,
    objectiveTolerance: 0,
    multiClass: "multinomial",
  });
  assertAllClose(softmax.weights, probe.weights, 1e-6);
  assertThrows(() => linearProbe(x, y, { C: 1, multiClass: "ovr" as "auto" }), ProbeError, "multiClass");
});

/** Rosenbrock's function in n dimensions (minimum 0 at 1, …, 1). */
function rosenbrock(x: Float64Array, g: Float64Array): number {
  let f = 0;
  g.fill(0);
  for (let i = 0; i < x.length - 1; i++) {
    const a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
    f += 100 * a * a + b * b;
    g[i] += -400 * x[i] * a - 2 * b;
    g[i + 1] += 200 * a;
  }
  return f;
}

Deno.test("lbfgs: Rosenbrock's valley, to (1, 1) on SciPy's L-BFGS-B path", () => {
  const r = lbfgs(rosenbrock, [-1.2, 1], { gradientTolerance: 1e-10, objectiveTolerance: 0 });
  assertEquals([r.stop, r.converged], ["gradient", true]);
  assertAllClose(r.x, [1, 1], 1e-9);
  assert(r.f < 1e-20, `f = ${r.f}`);
  // SciPy 1.10 (scipy.optimize.minimize(method="L-BFGS-B"), same options): nit 39, nfev 47.
  assertEquals([r.iterations, r.evaluations], [39, 47]);
  const r5 = lbfgs(rosenbrock, [-1.2, 1, -1.2, 1, 0.5], { gradientTolerance: 1e-10, objectiveTolerance: 0 });
  assertAllClose(r5.x, [1, 1, 1, 1, 1], 1e-9);
  assertEquals([r5.iterations, r5.evaluations], [51, 58]); // SciPy: nit 51, nfev 58
});

Deno.test("lbfgs: a 30-dimensional quadratic ½xᵀAx − bᵀx reaches A⁻¹b", () => {
  // A = tridiagonal(−1, 4, −1) + 0.5·diag(i): symmetric positive definite; choose x* and set b = A·x*.
  const n = 30;
  const xStar = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
  const mul = (x: Float64Array, out: Float64Array) => {
    for (let i = 0; i < n; i++) {
      out[i] = (4 + 0.5 * i) * x[i] - (i > 0 ? x[i - 1] : 0) - (i < n - 1 ? x[i + 1] : 0);
    }
    return out;
  };
  const b = mul(xStar, new Float64Array(n));
  const ax = new Float64Array(n);
  const r = lbfgs(
    (x, g) => {
      mul(x, ax);
      let f = 0;
      for (let i = 0; i < n; i++) {
        f += 0.5 * x[i] * ax[i] - b[i] * x[i];
        g[i] = ax[i] - b[i];
      }
      return f;
    },
    new Float64Array(n),
    { gradientTolerance: 1e-7, objectiveTolerance: 0 },
  );
  assertEquals(r.stop, "gradient");
  // max|x − x*| ≤ ‖A⁻¹‖∞ · max|g|, and ‖A⁻¹‖∞ ≤ 1/2 (each row of A: diagonal ≥ 4, off-diagonal sum ≤ 2)
  assertAllClose(r.x, xStar, 0.5e-7);
});

Deno.test("lbfgs: stops on the iteration limit, on a wrong gradient, and rejects bad options", () => {
  const capped = lbfgs(rosenbrock, [-1.2, 1], { maxIterations: 5 });
  assertEquals([capped.iterations, capped.stop, capped.converged], [5, "max-iterations", false]);
  // A gradient of the wrong sign: no step along "−g" decreases f, so the line search gives up.
  const wrong = lbfgs((x, g) => {
    g[0] = -2 * x[0];
    return x[0] * x[0];
  }, [1]);
  assertEquals([wrong.stop, wrong.converged], ["line-search", false]);
  assertAllClose(wrong.x, [1], 0);
  assertThrows(() => lbfgs(rosenbrock, [NaN, 1]), InputError, "not finite");
  assertThrows(() => lbfgs(rosenbrock, [], {}), InputError, "empty");
  assertThrows(() => lbfgs(rosenbrock, [0, 0], { history: 0 }), InputError, "history");
});

Deno.test("Moré–Thuente: the accepted step satisfies the strong Wolfe conditions", () => {
  // φ(t) = (t − 3)² − 9 + 0.1·t⁴ along a descent direction: φ(0) = 0, φ′(0) = −6.
  const phi = (t: number) => (t - 3) ** 2 - 9 + 0.1 * t ** 4;
  const dphi = (t: number) => 2 * (t - 3) + 0.4 * t ** 3;
  for (const first of [0.01, 1, 50]) {
    const ls = new MoreThuente(phi(0), dphi(0), first, 1e10);
    let n = 0;
    while (!ls.next(phi(ls.step), dphi(ls.step))) assert(++n < 30, "line search did not finish");
    const t = ls.step;
    assert(phi(t) <= phi(0) + 1e-3 * t * dphi(0), `sufficient decrease fails at t = ${t} (first ${first})`);
    assert(Math.abs(dphi(t)) <= 0.9 * Math.abs(dphi(0)), `curvature fails at t = ${t} (first ${first})`);
  }
});

Deno.test("gemmNT64: equals the plain triple loop at tile edges", () => {
  const rng = new SeededRng(3);
  for (const [n, m, l] of [[1, 1, 1], [5, 7, 3], [9, 6, 300], [67, 130, 257]]) {
    const a = Float64Array.from({ length: n * l }, () => rng.normal());
    const b = Float64Array.from({ length: m * l }, () => rng.normal());
    const want = new Float64Array(n * m);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let k = 0; k < l; k++) s += a[i * l + k] * b[j * l + k];
        want[i * m + j] = s;
      }
    }
    assertAllClose(gemmNT64(a, b, n, m, l), want, 1e-11);
    const acc = gemmNT64(a, b, n, m, l, Float64Array.from(want), true);
    assertAllClose(acc, want.map((v) => 2 * v), 1e-11);
    assertAllClose(transpose64(transpose64(a, n, l), l, n), a, 0);
  }
});

Deno.test("linear probe: worker threads give the single-thread loss, gradient and fit", () => {
  const rng = new SeededRng(5);
  const n = 103, d = 17, k = 6;
  const x = Float64Array.from({ length: n * d }, () => rng.normal());
  const y = Int32Array.from({ length: n }, (_, i) => i % k);
  const params = Float64Array.from({ length: k * d + k }, () => rng.normal() * 0.3);
  const want = new Float64Array(k * d + k);
  const loss = new SoftmaxData(x, y, n, d, k, true).loss(params, want);
  for (const threads of [2, 3]) {
    const pool = ThreadedSoftmaxData.start(x, y, n, d, k, true, threads);
    assert(pool !== undefined, "workers did not start");
    try {
      const grad = new Float64Array(k * d + k);
      for (let call = 0; call < 3; call++) {
        // relative 1e-12: the same numbers summed in another order
        assertAlmostEquals(pool.loss(params, grad), loss, 1e-12 * loss);
        assertAllClose(grad, want, 1e-12 * Math.max(...want.map(Math.abs)));
      }
    } finally {
      pool.close();
    }
  }
  const rows = Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * d, (i + 1) * d)));
  const one = linearProbe(rows, y, { C: 0.5, threads: 1 });
  const three = linearProbe(rows, y, { C: 0.5, threads: 3 });
  assertAllClose(three.weights, one.weights, 1e-6);
  assertAllClose(three.probabilities(rows).data, one.probabilities(rows).data, 1e-6);
});

/** Gaussian classes around means that differ in the first 5 of 40 dimensions: C matters. */
function blobs(rng: SeededRng, means: number[][], n: number) {
  const x: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % means.length;
    y.push(c);
    x.push(means[c].map((v) => v + rng.normal()));
  }
  return { x, y };
}

Deno.test("linear probe: the C sweep picks a C near the best on validation data", () => {
  const rng = new SeededRng(7);
  const means = Array.from(
    { length: 4 },
    () => Array.from({ length: 40 }, (_, j) => j < 5 ? rng.normal() * 0.8 : 0),
  );
  const train = blobs(rng, means, 80), val = blobs(rng, means, 400);
  const probe = linearProbe(train.x, train.y, {
    validation: { features: val.x, labels: val.y },
    sweep: { steps: 13, refineSteps: 8 },
    refit: false,
  });
  const sweep = probe.sweep!;
  assertEquals(sweep.length, 21);
  assert(sweep.every((p, i) => i === 0 || p.C > sweep[i - 1].C), "sweep sorted by C");
  // Reference: validation accuracy on a grid of 4 values per decade, fitted independently.
  const accuracyAt = (C: number) =>
    linearProbe(train.x, train.y, { C }).evaluate({ features: val.x, labels: val.y }).top1;
  const grid = Array.from({ length: 49 }, (_, i) => 10 ** (-6 + i / 4));
  const accuracies = grid.map(accuracyAt);
  const bestAcc = Math.max(...accuracies);
  const bestC = grid[accuracies.indexOf(bestAcc)];
  const chosen = accuracyAt(probe.C);
  assert(
    chosen >= bestAcc - 1 / 400,
    `chosen C ${probe.C}: accuracy ${chosen}, best ${bestAcc} at C ${bestC}`,
  );
  assert(Math.abs(Math.log10(probe.C / bestC)) <= 1, `chosen C ${probe.C} is far from the best ${bestC}`);
  assert(probe.C > 1e-5 && probe.C < 1e5, `C ${probe.C} at the grid's edge`);
  // The sweep's record agrees with the chosen point, and without refit the probe is that fit.
  const point = sweep.find((p) => p.C === probe.C)!;
  assertEquals(point.top1, Math.max(...sweep.map((p) => p.top1)));
  assertAlmostEquals(chosen, point.top1, 1e-12);
});

Deno.test("linear probe: a held-out split and refit, predict/evaluate shaped like the zero-shot head's", () => {
  const rng = new SeededRng(11);
  const means = Array.from({ length: 3 }, () => Array.from({ length: 8 }, () => rng.normal() * 2));
  const { x, y } = blobs(rng, means, 150);
  const names = ["circle", "square", "star"];
  const probe = linearProbe(Matrix.fromRows(x), y.map((c) => names[c]), {
    classNames: names,
    sweep: { steps: 5, refineSteps: 2 },
  });
  assertEquals(probe.sweep!.length, 7);
  assertEquals(probe.classNames, names);
  const probs = probe.probabilities(x);
  assertEquals(probs.shape, [150, 3]);
  for (let i = 0; i < probs.rows; i++) assertAlmostEquals(probs.row(i).reduce((s, v) => s + v, 0), 1, 1e-6);
  const top = probe.predict(x.slice(0, 2), { topK: 3 });
  assertEquals(top.map((r) => r.length), [3, 3]);
  assert(top[0][0].score >= top[0][1].score && top[0][1].score >= top[0][2].score, "best first");
  assertEquals(top[0][0].label, names[top[0][0].index]);
  assertAlmostEquals(top[0][0].score, probs.get(0, top[0][0].index), 0);
  const ev = probe.evaluate({ images: Matrix.fromRows(x), labels: y });
  assertEquals(ev, evaluateScores(probe.logits(x), Int32Array.from(y), names));
  assert(ev.top1 > 0.9, `top-1 ${ev.top1} on separable blobs`);
  assertEquals(ev.confusion.flat().reduce((s, v) => s + v, 0), 150);
});

Deno.test("linear probe: bad input gives typed errors with a fix", () => {
  const x = [[1, 0], [0, 1], [1, 1], [0, 0]];
  const cases: [() => unknown, typeof ProbeError, string][] = [
    [() => linearProbe(x, [0, 1, 0], { C: 1 }), MatrixShapeError, "4 feature rows but 3 labels"],
    [() => linearProbe(x, [1, 1, 1, 1], { C: 1, classNames: ["a", "b"] }), ProbeError, "1 class"],
    [() => linearProbe(x, [0, 0, 0, 0], { C: 1 }), ProbeError, "1 class"],
    [() => linearProbe([[1, NaN], [0, 1]], [0, 1], { C: 1 }), NonFiniteError, "[0, 1] is NaN"],
    [() => linearProbe(x, [0, 1, 0, 1], { C: 0 }), ProbeError, "C is 0"],
    [() => linearProbe(x, [0, 1, 0, 1], { C: -1 }), ProbeError, "C is -1"],
    [() => linearProbe(x, [0, 1, 0, 1], { C: 1, classNames: ["a", "b", "c"] }), ProbeError, "no training"],
    [() => linearProbe(x, ["a", "b", "a", "b"], { C: 1 }), ProbeError, "no classNames"],
    [() => linearProbe(x, [0, 1, 0, 2.5], { C: 1 }), InputError, "no class"],
    [() => linearProbe([], [], { C: 1 }), MatrixShapeError, "empty"],
    [() => linearProbe([[1, 2], [3]], [0, 1], { C: 1 }), MatrixShapeError, "row 1 has 1"],
    [() => linearProbe(x, [0, 1, 0, 1], { C: 1, maxIterations: 0 }), ProbeError, "maxIterations"],
    [() => linearProbe(x, [0, 1, 0, 1]), ProbeError, "too few examples"],
  ];
  for (const [fn, cls, text] of cases) {
    assertThrows(fn, cls, text);
    try {
      fn();
    } catch (e) {
      assert((e as Error).message.includes(". Fix: "), `no fix in "${(e as Error).message}"`);
    }
  }
  const probe = linearProbe(x, [0, 1, 0, 1], { C: 1 });
  assertThrows(() => probe.predict([[1, 2, 3]]), MatrixShapeError, "3 wide");
  assertThrows(() => probe.predict(x, { topK: 3 }), TopKError, "topK = 3");
  assertThrows(() => probe.evaluate({ labels: [0] }), ProbeError, "no features");
});
