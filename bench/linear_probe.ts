/**
 * Linear-probe benchmark: fitting the CLIP paper's probe (multinomial logistic regression, L2, L-BFGS) on
 * 10,000 × 512 embedding-like features with 100 classes, clipkit's `linearProbe` beside scikit-learn's
 * `LogisticRegression(C, solver="lbfgs", max_iter=1000, tol=1e-4)` on the same data in the same run, and how
 * far apart their answers are (probabilities on 2,000 held-out rows, coefficients).
 *
 *   features: unit rows, x = normalise(μ_class + noise), deterministic (mulberry32) ─► raw float32 files
 *     ─► clipkit: linearProbe(x, y, { C, threads })   (one thread, then one per core up to 8; float64)
 *     ─► Python:  /usr/bin/python3 + Debian's python3-sklearn, one BLAS thread and all of them
 *
 * Run alone: `deno run -A bench/linear_probe.ts [--rows 10000] [--dim 512] [--classes 100] [--C 1]
 * [--no-sklearn]`. Prints a Markdown table. scikit-learn is skipped, with a note, when `/usr/bin/python3`
 * cannot import it (`apt-get install python3-sklearn`).
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import process from "node:process";
import { Matrix } from "../src/math/matrix.ts";
import { linearProbe } from "../src/math/linear_probe.ts";
import { mulberry32 } from "../src/data/random.ts";
import { fmt, markdownTable } from "./table.ts";
import { machineDescription } from "./stats.ts";

/** The Python interpreter that has Debian's python3-sklearn. */
const PYTHON = "/usr/bin/python3";

/** One row of the table. */
export interface ProbeBenchRow {
  fitter: string;
  /** Wall milliseconds of the fit. */
  ms: number;
  /** CPU milliseconds (user + system, all threads) of the fit. */
  cpuMs: number;
  iterations: number;
  /** Max |p − p| against clipkit on one thread, over the held-out probabilities (0 for that row itself). */
  probaDiff: number;
  /** Max |W − W| / max |W| against clipkit on one thread. */
  coefDiff: number;
  /** Top-1 accuracy on the held-out rows. */
  top1: number;
  note: string;
}

/**
 * Embedding-like features: unit rows around `classes` random unit centres (labels cycle through them), a
 * training set and a held-out set around the same centres.
 */
export function probeData(
  rows: number,
  test: number,
  dim: number,
  classes: number,
  seed: number,
): { train: { x: Matrix; y: Int32Array }; held: { x: Matrix; y: Int32Array } } {
  const rng = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const centres = new Float64Array(classes * dim); // [classes, dim]
  for (let c = 0; c < classes; c++) {
    let ss = 0;
    for (let k = 0; k < dim; k++) ss += (centres[c * dim + k] = normal()) ** 2;
    for (let k = 0; k < dim; k++) centres[c * dim + k] /= Math.sqrt(ss);
  }
  const noise = 6 / Math.sqrt(dim); // noise norm ≈ 6 × the centre's: ~75% top-1 at 512 × 100, as real probes
  const v = new Float64Array(dim);
  const draw = (n: number) => {
    const data = new Float32Array(n * dim); // [n, dim]
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = (y[i] = i % classes);
      let ss = 0;
      for (let k = 0; k < dim; k++) ss += (v[k] = centres[c * dim + k] + noise * normal()) ** 2;
      const inv = 1 / Math.sqrt(ss);
      for (let k = 0; k < dim; k++) data[i * dim + k] = v[k] * inv;
    }
    return { x: new Matrix(data, n, dim), y };
  };
  return { train: draw(rows), held: draw(test) };
}

const SKLEARN_SCRIPT = `
import json, sys, time, os, resource
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
d = sys.argv[1]; meta = json.load(open(os.path.join(d, "meta.json")))
n, t, dim, k = meta["rows"], meta["test"], meta["dim"], meta["classes"]
x = np.fromfile(os.path.join(d, "x.f32"), dtype="<f4").reshape(n, dim).astype(np.float64)
y = np.fromfile(os.path.join(d, "y.i32"), dtype="<i4")
xt = np.fromfile(os.path.join(d, "xt.f32"), dtype="<f4").reshape(t, dim).astype(np.float64)
yt = np.fromfile(os.path.join(d, "yt.i32"), dtype="<i4")
r0 = resource.getrusage(resource.RUSAGE_SELF); t0 = time.perf_counter()
m = LogisticRegression(C=meta["C"], max_iter=meta["maxIter"], tol=meta["tol"]).fit(x, y)
ms = (time.perf_counter() - t0) * 1000; r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000
m.predict_proba(xt).astype("<f8").tofile(os.path.join(d, "proba.f64"))
m.coef_.astype("<f8").tofile(os.path.join(d, "coef.f64"))
print(json.dumps({"ms": ms, "cpuMs": cpu, "iterations": int(m.n_iter_[0]), "top1": float(m.score(xt, yt)),
                  "version": sklearn.__version__}))
`;

/** Whether /usr/bin/python3 imports scikit-learn. */
async function hasSklearn(): Promise<boolean> {
  try {
    const r = await new Deno.Command(PYTHON, {
      args: ["-c", "import sklearn"],
      stderr: "null",
      stdout: "null",
    })
      .output();
    return r.success;
  } catch {
    return false;
  }
}

/** Fit with scikit-learn on the files in `dir`, with `threads` BLAS threads (0: the library's default). */
async function sklearnFit(dir: string, threads: number) {
  const env: Record<string, string> = threads > 0
    ? { OPENBLAS_NUM_THREADS: `${threads}`, OMP_NUM_THREADS: `${threads}`, MKL_NUM_THREADS: `${threads}` }
    : {};
  const out = await new Deno.Command(PYTHON, { args: ["-c", SKLEARN_SCRIPT, dir], env, stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`scikit-learn failed: ${new TextDecoder().decode(out.stderr)}`);
  const r = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    ms: number;
    cpuMs: number;
    iterations: number;
    top1: number;
    version: string;
  };
  const proba = new Float64Array((await Deno.readFile(join(dir, "proba.f64"))).buffer);
  const coef = new Float64Array((await Deno.readFile(join(dir, "coef.f64"))).buffer);
  return { ...r, proba, coef };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Options of {@link benchLinearProbe}. */
export interface ProbeBenchOptions {
  rows?: number;
  dim?: number;
  classes?: number;
  /** Held-out rows for comparing the answers (default 2,000). */
  test?: number;
  C?: number;
  /** scikit-learn's `tol` (default 1e-4, its default). */
  tolerance?: number;
  maxIterations?: number;
  /** Run scikit-learn too, when it is installed (default true). */
  sklearn?: boolean;
  log?: (line: string) => void;
}

/** Fit both and compare; returns the rows of the table (clipkit first). */
export async function benchLinearProbe(options: ProbeBenchOptions = {}): Promise<ProbeBenchRow[]> {
  const rows = options.rows ?? 10_000, dim = options.dim ?? 512, classes = options.classes ?? 100;
  const test = options.test ?? 2000, C = options.C ?? 1, tol = options.tolerance ?? 1e-4;
  const maxIter = options.maxIterations ?? 1000;
  const log = options.log ?? ((line: string) => console.error(line));
  const { train, held } = probeData(rows, test, dim, classes, 1);

  const out: ProbeBenchRow[] = [];
  let reference: { proba: Float32Array; weights: Float64Array; wMax: number } | undefined;
  const cores = navigator.hardwareConcurrency || 1;
  for (const threads of cores > 1 ? [1, Math.min(8, cores)] : [1]) {
    log(`clipkit: fitting ${rows} × ${dim}, ${classes} classes, C = ${C}, ${threads} thread(s) …`);
    const cpu0 = process.cpuUsage(), t0 = performance.now();
    const probe = linearProbe(train.x, train.y, {
      C,
      tolerance: tol,
      maxIterations: maxIter,
      threads,
      progress: false,
    });
    const ms = performance.now() - t0, used = process.cpuUsage(cpu0);
    const proba = probe.probabilities(held.x).data;
    reference ??= { proba, weights: probe.weights, wMax: Math.max(...Array.from(probe.weights, Math.abs)) };
    out.push({
      fitter: `clipkit linearProbe (${threads} thread${threads > 1 ? "s" : ""}, float64)`,
      ms,
      cpuMs: (used.user + used.system) / 1000,
      iterations: probe.iterations,
      probaDiff: maxAbsDiff(proba, reference.proba),
      coefDiff: maxAbsDiff(probe.weights, reference.weights) / reference.wMax,
      top1: probe.evaluate({ features: held.x, labels: held.y }).top1,
      note: `${probe.stop}; ${fmt(ms / probe.iterations)} ms per iteration`,
    });
  }
  const { proba, weights } = reference!;
  const wMax = reference!.wMax;
  if (options.sklearn === false) return out;
  if (!(await hasSklearn())) {
    log(`scikit-learn skipped: ${PYTHON} cannot import sklearn (apt-get install python3-sklearn)`);
    return out;
  }
  const dir = await Deno.makeTempDir({ prefix: "clipkit-probe-bench-" });
  try {
    const write = (name: string, a: Float32Array | Int32Array) =>
      Deno.writeFile(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    await write("x.f32", train.x.data);
    await write("y.i32", train.y);
    await write("xt.f32", held.x.data);
    await write("yt.i32", held.y);
    await Deno.writeTextFile(
      join(dir, "meta.json"),
      JSON.stringify({ rows, test, dim, classes, C, tol, maxIter }),
    );
    for (const threads of [1, 0]) {
      log(`scikit-learn: fitting with ${threads ? threads : "all"} BLAS thread(s) …`);
      const r = await sklearnFit(dir, threads);
      out.push({
        fitter: `scikit-learn ${r.version} lbfgs (${threads ? "1 BLAS thread" : "all BLAS threads"})`,
        ms: r.ms,
        cpuMs: r.cpuMs,
        iterations: r.iterations,
        probaDiff: maxAbsDiff(r.proba, proba),
        coefDiff: maxAbsDiff(r.coef, weights) / wMax,
        top1: r.top1,
        note: `${fmt(r.ms / r.iterations)} ms per iteration`,
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return out;
}

/** Print the table. */
export async function main(args: string[] = Deno.args): Promise<ProbeBenchRow[]> {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: "string" },
      dim: { type: "string" },
      classes: { type: "string" },
      C: { type: "string" },
      "no-sklearn": { type: "boolean" },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const rows = await benchLinearProbe({
    rows: num(values.rows),
    dim: num(values.dim),
    classes: num(values.classes),
    C: num(values.C),
    sklearn: !values["no-sklearn"],
  });
  console.log(`Linear probe on ${machineDescription()}\n`);
  console.log(markdownTable(
    ["fitter", "fit (s)", "CPU (s)", "iterations", "max abs Δp", "max abs ΔW ÷ max abs W", "top-1", "note"],
    rows.map((r, i) => [
      r.fitter,
      fmt(r.ms / 1000),
      fmt(r.cpuMs / 1000),
      `${r.iterations}`,
      i === 0 ? "–" : r.probaDiff.toExponential(1),
      i === 0 ? "–" : r.coefDiff.toExponential(1),
      r.top1.toFixed(4),
      r.note,
    ]),
    ["left", "right", "right", "right", "right", "right", "right", "left"],
  ));
  return rows;
}

if (import.meta.main) await main();
