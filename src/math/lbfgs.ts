/**
 * L-BFGS: minimise a smooth function of many variables from its value and gradient, in float64.
 *
 *   x₀ ─► direction d = −H·g (two-loop recursion over the last m steps) ─► line search along d
 *      (Moré–Thuente, strong Wolfe conditions) ─► x ← x + t·d, remember (s = Δx, y = Δg) ─► stop tests ─► …
 *
 * The rules are those of SciPy's `minimize(method="L-BFGS-B")` without bounds, which scikit-learn's
 * `LogisticRegression(solver="lbfgs")` calls, so a problem set up the same way takes the same path:
 * - history `m = 10` pairs; the initial inverse Hessian is `(sᵀy / yᵀy)·I` from the newest pair; a pair with
 *   `sᵀy ≤ ε·(−sᵀg)` (curvature not positive enough) is not stored;
 * - the first step tries `t = 1 / ‖d‖`, every later one `t = 1`; the line search is MINPACK-2's `dcsrch`
 *   (sufficient decrease 1e-3, curvature 0.9, interval tolerance 0.1), at most `maxLineSearch` evaluations;
 * - a failed line search (or a direction that does not descend) forgets the history and retries along −g;
 *   when that fails too, the run stops;
 * - stop when `max |gᵢ| ≤ gradientTolerance` (SciPy's `gtol`, the projected gradient without bounds), when
 *   the relative decrease `(f_old − f) / max(|f_old|, |f|, 1) ≤ objectiveTolerance` (SciPy's `ftol`), or after
 *   `maxIterations` iterations / `maxEvaluations` evaluations.
 * @module
 */
import { InputError } from "../errors.ts";

/** The function to minimise: returns `f(x)` and writes `∇f(x)` into `gradient` (same length as `x`). */
export type ObjectiveFunction = (x: Float64Array, gradient: Float64Array) => number;

/** Why {@link lbfgs} stopped. */
export type LbfgsStop =
  | "gradient" // max |gᵢ| ≤ gradientTolerance: converged
  | "objective" // the relative decrease of f fell to objectiveTolerance: converged
  | "max-iterations" // not converged
  | "max-evaluations" // not converged
  | "line-search"; // no step along −g decreased f (f is not smooth, or the gradient is wrong): not converged

/** One finished iteration, for progress reports. */
export interface LbfgsIteration {
  /** The iteration just finished (1 = the first). */
  iteration: number;
  /** f at the new point. */
  f: number;
  /** max |gᵢ| at the new point. */
  gradientMax: number;
  /** Function evaluations so far. */
  evaluations: number;
}

/** Options of {@link lbfgs}; the defaults are SciPy's. */
export interface LbfgsOptions {
  /** Correction pairs remembered (SciPy's `maxcor`, default 10). */
  history?: number;
  /** Stop when max |gᵢ| ≤ this (SciPy's `gtol`, default 1e-5). */
  gradientTolerance?: number;
  /** Stop when the relative decrease of f is ≤ this (SciPy's `ftol`, default 2.220446049250313e-9). */
  objectiveTolerance?: number;
  /** Iterations at most (SciPy's `maxiter`, default 15000). */
  maxIterations?: number;
  /** Function evaluations at most (SciPy's `maxfun`, default 15000). */
  maxEvaluations?: number;
  /** Function evaluations per line search at most (SciPy's `maxls`, default 20). */
  maxLineSearch?: number;
  /** Called after each iteration. */
  onIteration?: (info: LbfgsIteration) => void;
}

/** What {@link lbfgs} found. */
export interface LbfgsResult {
  /** The last point reached. */
  x: Float64Array;
  /** f there. */
  f: number;
  /** ∇f there. */
  gradient: Float64Array;
  /** Iterations (accepted steps). */
  iterations: number;
  /** Function-and-gradient evaluations. */
  evaluations: number;
  /** Whether a tolerance was met (`stop` is `"gradient"` or `"objective"`). */
  converged: boolean;
  /** Why the search stopped. */
  stop: LbfgsStop;
}

const EPS = 2.220446049250313e-16;
/** SciPy's default `ftol` (`factr = 1e7` × machine epsilon). */
export const SCIPY_FTOL = 1e7 * EPS;
/** The largest step the line search may take (L-BFGS-B's, without bounds). */
const MAX_STEP = 1e10;

function dot(a: Float64Array, b: Float64Array): number {
  let s0 = 0, s1 = 0;
  const n = a.length, n2 = n & ~1;
  for (let i = 0; i < n2; i += 2) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
  }
  if (n2 < n) s0 += a[n2] * b[n2];
  return s0 + s1;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m || v !== v) m = v; // NaN wins, so a NaN gradient never passes a tolerance
  }
  return m;
}

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/**
 * Minimise `fn` from `x0` by L-BFGS (see the module header for the exact rules).
 * @example
 * ```ts
 * import { lbfgs } from "./lbfgs.ts";
 * // f(x, y) = (x − 3)² + 10·(y + 1)²
 * const r = lbfgs((x, g) => {
 *   g[0] = 2 * (x[0] - 3);
 *   g[1] = 20 * (x[1] + 1);
 *   return (x[0] - 3) ** 2 + 10 * (x[1] + 1) ** 2;
 * }, Float64Array.of(0, 0));
 * r.x.map((v) => Math.round(v * 1e6) / 1e6); // → Float64Array [3, -1]
 * r.converged; // → true
 * ```
 */
export function lbfgs(fn: ObjectiveFunction, x0: ArrayLike<number>, options: LbfgsOptions = {}): LbfgsResult {
  const m = options.history ?? 10;
  const gtol = options.gradientTolerance ?? 1e-5;
  const ftol = options.objectiveTolerance ?? SCIPY_FTOL;
  const maxIter = options.maxIterations ?? 15000;
  const maxEval = options.maxEvaluations ?? 15000;
  const maxLs = options.maxLineSearch ?? 20;
  checkOption("history", m, 1, true);
  checkOption("gradientTolerance", gtol, 0, false);
  checkOption("objectiveTolerance", ftol, 0, false);
  checkOption("maxIterations", maxIter, 0, true);
  checkOption("maxEvaluations", maxEval, 1, true);
  checkOption("maxLineSearch", maxLs, 1, true);

  const n = x0.length;
  if (n === 0) {
    throw new InputError("lbfgs: x0 is empty", { fix: "start from a point with at least one value" });
  }
  let x = Float64Array.from(x0), g = new Float64Array(n);
  let f = fn(x, g);
  let evaluations = 1;
  if (!Number.isFinite(f) || !allFinite(x) || !allFinite(g)) {
    throw new InputError(`lbfgs: f or its gradient is not finite at the starting point (f = ${f})`, {
      fix: "start from a point where the function and its gradient are finite numbers",
    });
  }
  let xOld = new Float64Array(n), gOld = new Float64Array(n);
  const d = new Float64Array(n);
  const S = Array.from({ length: m }, () => new Float64Array(n)); // [m, n] steps, a ring
  const Y = Array.from({ length: m }, () => new Float64Array(n)); // [m, n] gradient changes
  const rho = new Float64Array(m), alpha = new Float64Array(m);
  let stored = 0, newest = -1, gamma = 1;
  let iterations = 0;
  const done = (stop: LbfgsStop): LbfgsResult => ({
    x,
    f,
    gradient: g,
    iterations,
    evaluations,
    converged: stop === "gradient" || stop === "objective",
    stop,
  });
  if (maxAbs(g) <= gtol) return done("gradient");
  if (maxIter === 0) return done("max-iterations");

  for (;;) {
    // d = −H·g by the two-loop recursion (plain −g with no history).
    for (let i = 0; i < n; i++) d[i] = -g[i];
    if (stored > 0) {
      for (let k = 0; k < stored; k++) {
        const j = (newest - k + m) % m;
        const a = rho[j] * dot(S[j], d);
        alpha[j] = a;
        const y = Y[j];
        for (let i = 0; i < n; i++) d[i] -= a * y[i];
      }
      for (let i = 0; i < n; i++) d[i] *= gamma;
      for (let k = stored - 1; k >= 0; k--) {
        const j = (newest - k + m) % m;
        const b = alpha[j] - rho[j] * dot(Y[j], d);
        const s = S[j];
        for (let i = 0; i < n; i++) d[i] += b * s[i];
      }
    }
    const gd = dot(g, d);
    let accepted = false;
    let step = 0;
    if (gd < 0) {
      step = iterations === 0 ? Math.min(1 / Math.sqrt(dot(d, d)), MAX_STEP) : 1;
      [xOld, x] = [x, xOld];
      [gOld, g] = [g, gOld];
      const fOld = f;
      const search = new MoreThuente(fOld, gd, step, MAX_STEP);
      for (let tries = 1;; tries++) {
        for (let i = 0; i < n; i++) x[i] = xOld[i] + step * d[i];
        f = fn(x, g);
        evaluations++;
        if (Number.isFinite(f) && allFinite(g)) {
          if (search.next(f, dot(g, d))) {
            accepted = true;
            break;
          }
          step = search.step;
        } else {
          step = search.shrink(); // overflow: back off towards the best point so far
        }
        if (tries >= maxLs || evaluations >= maxEval) break;
      }
      if (accepted) {
        iterations++;
        const gMax = maxAbs(g);
        options.onIteration?.({ iteration: iterations, f, gradientMax: gMax, evaluations });
        if (gMax <= gtol) return done("gradient");
        if (fOld - f <= ftol * Math.max(Math.abs(fOld), Math.abs(f), 1)) return done("objective");
        if (iterations >= maxIter) return done("max-iterations");
        if (evaluations >= maxEval) return done("max-evaluations");
        // Remember the pair unless its curvature sᵀy is not clearly positive (L-BFGS-B's test).
        const next = (newest + 1) % m;
        const s = S[next], y = Y[next];
        for (let i = 0; i < n; i++) {
          s[i] = x[i] - xOld[i];
          y[i] = g[i] - gOld[i];
        }
        const sy = dot(s, y);
        if (sy > EPS * -gd * step) {
          rho[next] = 1 / sy;
          gamma = sy / dot(y, y);
          newest = next;
          stored = Math.min(stored + 1, m);
        }
        continue;
      }
      // The line search failed: go back to where it started.
      [xOld, x] = [x, xOld];
      [gOld, g] = [g, gOld];
      f = fOld;
      if (evaluations >= maxEval) return done("max-evaluations");
    }
    // No descent, or no acceptable step: forget the history and retry along −g, unless that was −g already.
    if (stored === 0) return done("line-search");
    stored = 0;
    newest = -1;
    gamma = 1;
  }
}

function checkOption(name: string, value: number, min: number, integer: boolean): void {
  if (typeof value !== "number" || !(value >= min) || (integer && !Number.isInteger(value))) {
    throw new InputError(`lbfgs: ${name} is ${value}`, {
      fix: `pass ${integer ? "a whole number" : "a number"} ≥ ${min} for ${name}`,
    });
  }
}

/**
 * Moré and Thuente's line search (MINPACK-2's `dcsrch` and `dcstep`) for a step `t > 0` along a descent
 * direction that satisfies the strong Wolfe conditions
 *   φ(t) ≤ φ(0) + ftol·t·φ′(0)   and   |φ′(t)| ≤ gtol·|φ′(0)|,
 * by safeguarded cubic and quadratic interpolation inside an interval that is extended until it brackets
 * such a step and then shrunk. Feed it φ(t), φ′(t) through {@link MoreThuente.next} until that returns true;
 * in between, {@link MoreThuente.step} is the next step to try.
 * @example
 * ```ts
 * import { MoreThuente } from "./lbfgs.ts";
 * // φ(t) = (t − 2)², φ′(0) = −4: t = 10 overshoots, and the cubic step through it lands on the minimum.
 * const phi = (t: number) => (t - 2) ** 2, dphi = (t: number) => 2 * (t - 2);
 * const search = new MoreThuente(phi(0), dphi(0), 10, 1e10);
 * while (!search.next(phi(search.step), dphi(search.step)));
 * search.step; // → 2
 * ```
 */
export class MoreThuente {
  /** The step to evaluate next. */
  step: number;
  private readonly finit: number;
  private readonly ginit: number;
  private readonly gtest: number;
  private readonly stpmax: number;
  private readonly ftol: number;
  private readonly gtol: number;
  private readonly xtol: number;
  private brackt = false;
  private stage = 1;
  private width: number;
  private width1: number;
  // stx: the step with the least function value so far; sty: the other end of the interval.
  private stx = 0;
  private fx: number;
  private gx: number;
  private sty = 0;
  private fy: number;
  private gy: number;
  private stmin = 0;
  private stmax: number;

  /**
   * `f0`, `g0`: φ(0) and φ′(0) < 0; `step`: the first step to try; `stpmax`: the largest allowed step.
   * The tolerances are L-BFGS-B's: sufficient decrease 1e-3, curvature 0.9, interval 0.1.
   */
  constructor(f0: number, g0: number, step: number, stpmax: number, ftol = 1e-3, gtol = 0.9, xtol = 0.1) {
    this.finit = this.fx = this.fy = f0;
    this.ginit = this.gx = this.gy = g0;
    this.gtest = ftol * g0;
    this.step = step;
    this.stpmax = stpmax;
    this.ftol = ftol;
    this.gtol = gtol;
    this.xtol = xtol;
    this.width = stpmax;
    this.width1 = 2 * stpmax;
    this.stmax = step + 4 * step;
  }

  /** A step halfway back to the best one so far, for when φ(step) could not be computed. */
  shrink(): number {
    this.step = this.stx + 0.5 * (this.step - this.stx);
    return this.step;
  }

  /**
   * Take φ(step) and φ′(step). Returns true when the search is over (the strong Wolfe conditions hold, or
   * the interval can shrink no further, as MINPACK-2's warnings: then `step` is the best that can be had);
   * otherwise `step` is the next step to try.
   */
  next(f: number, g: number): boolean {
    const stp = this.step;
    const ftest = this.finit + stp * this.gtest;
    if (this.stage === 1 && f <= ftest && g >= 0) this.stage = 2;
    // MINPACK-2's warnings: rounding errors, an interval below xtol, a step at the maximum or minimum.
    if (this.brackt && (stp <= this.stmin || stp >= this.stmax)) return true;
    if (this.brackt && this.stmax - this.stmin <= this.xtol * this.stmax) return true;
    if (stp === this.stpmax && f <= ftest && g <= this.gtest) return true;
    if (stp === 0 && (f > ftest || g >= this.gtest)) return true;
    // The strong Wolfe conditions.
    if (f <= ftest && Math.abs(g) <= this.gtol * -this.ginit) return true;

    let next: number;
    if (this.stage === 1 && f <= this.fx && f > ftest) {
      // While no step with sufficient decrease and g ≥ 0 is known, work on ψ(t) = φ(t) − φ(0) − gtest·t.
      const gt = this.gtest;
      const r = dcstep(
        this.stx,
        this.fx - this.stx * gt,
        this.gx - gt,
        this.sty,
        this.fy - this.sty * gt,
        this.gy - gt,
        stp,
        f - stp * gt,
        g - gt,
        this.brackt,
        this.stmin,
        this.stmax,
      );
      this.stx = r.stx;
      this.fx = r.fx + r.stx * gt;
      this.gx = r.dx + gt;
      this.sty = r.sty;
      this.fy = r.fy + r.sty * gt;
      this.gy = r.dy + gt;
      this.brackt = r.brackt;
      next = r.stp;
    } else {
      const r = dcstep(
        this.stx,
        this.fx,
        this.gx,
        this.sty,
        this.fy,
        this.gy,
        stp,
        f,
        g,
        this.brackt,
        this.stmin,
        this.stmax,
      );
      this.stx = r.stx;
      this.fx = r.fx;
      this.gx = r.dx;
      this.sty = r.sty;
      this.fy = r.fy;
      this.gy = r.dy;
      this.brackt = r.brackt;
      next = r.stp;
    }
    // Bisect when the interval does not shrink fast enough.
    if (this.brackt) {
      if (Math.abs(this.sty - this.stx) >= 0.66 * this.width1) next = this.stx + 0.5 * (this.sty - this.stx);
      this.width1 = this.width;
      this.width = Math.abs(this.sty - this.stx);
      this.stmin = Math.min(this.stx, this.sty);
      this.stmax = Math.max(this.stx, this.sty);
    } else {
      this.stmin = next + 1.1 * (next - this.stx);
      this.stmax = next + 4 * (next - this.stx);
    }
    next = Math.min(Math.max(next, 0), this.stpmax);
    // With no progress possible, the best step so far is the answer: try it last.
    if (
      this.brackt &&
      (next <= this.stmin || next >= this.stmax || this.stmax - this.stmin <= this.xtol * this.stmax)
    ) next = this.stx;
    this.step = next;
    return false;
  }
}

/**
 * One safeguarded step of Moré–Thuente (MINPACK-2's `dcstep`): from the interval ends (`stx`, `sty`, with
 * values and derivatives) and the new trial `stp`, the next trial and the updated interval.
 */
function dcstep(
  stx: number,
  fx: number,
  dx: number,
  sty: number,
  fy: number,
  dy: number,
  stp: number,
  fp: number,
  dp: number,
  brackt: boolean,
  stpmin: number,
  stpmax: number,
): {
  stx: number;
  fx: number;
  dx: number;
  sty: number;
  fy: number;
  dy: number;
  stp: number;
  brackt: boolean;
} {
  const sgnd = dp * (dx / Math.abs(dx));
  let stpf: number;
  if (fp > fx) {
    // Case 1: a higher value. The minimum is bracketed; take the cubic step, or halfway to the quadratic one.
    const theta = 3 * (fx - fp) / (stp - stx) + dx + dp;
    const s = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = s * Math.sqrt((theta / s) ** 2 - (dx / s) * (dp / s));
    if (stp < stx) gamma = -gamma;
    const p = gamma - dx + theta, q = gamma - dx + gamma + dp;
    const stpc = stx + (p / q) * (stp - stx);
    const stpq = stx + (dx / ((fx - fp) / (stp - stx) + dx)) / 2 * (stp - stx);
    stpf = Math.abs(stpc - stx) < Math.abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2;
    brackt = true;
  } else if (sgnd < 0) {
    // Case 2: lower value, derivatives of opposite sign. Bracketed; the step farther from stp.
    const theta = 3 * (fx - fp) / (stp - stx) + dx + dp;
    const s = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = s * Math.sqrt((theta / s) ** 2 - (dx / s) * (dp / s));
    if (stp > stx) gamma = -gamma;
    const p = gamma - dp + theta, q = gamma - dp + gamma + dx;
    const stpc = stp + (p / q) * (stx - stp);
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
    brackt = true;
  } else if (Math.abs(dp) < Math.abs(dx)) {
    // Case 3: lower value, same sign, smaller derivative. The cubic step only if it heads the right way.
    const theta = 3 * (fx - fp) / (stp - stx) + dx + dp;
    const s = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = s * Math.sqrt(Math.max(0, (theta / s) ** 2 - (dx / s) * (dp / s)));
    if (stp > stx) gamma = -gamma;
    const p = gamma - dp + theta, q = gamma + (dx - dp) + gamma;
    const r = p / q;
    const stpc = r < 0 && gamma !== 0 ? stp + r * (stx - stp) : stp > stx ? stpmax : stpmin;
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    if (brackt) {
      stpf = Math.abs(stpc - stp) < Math.abs(stpq - stp) ? stpc : stpq;
      stpf = stp > stx ? Math.min(stp + 0.66 * (sty - stp), stpf) : Math.max(stp + 0.66 * (sty - stp), stpf);
    } else {
      stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
      stpf = Math.max(stpmin, Math.min(stpmax, stpf));
    }
  } else {
    // Case 4: lower value, same sign, derivative not smaller. Cubic through the far end, or an extreme step.
    if (brackt) {
      const theta = 3 * (fp - fy) / (sty - stp) + dy + dp;
      const s = Math.max(Math.abs(theta), Math.abs(dy), Math.abs(dp));
      let gamma = s * Math.sqrt((theta / s) ** 2 - (dy / s) * (dp / s));
      if (stp > sty) gamma = -gamma;
      const p = gamma - dp + theta, q = gamma - dp + gamma + dy;
      stpf = stp + (p / q) * (sty - stp);
    } else {
      stpf = stp > stx ? stpmax : stpmin;
    }
  }
  // The new interval.
  if (fp > fx) {
    sty = stp;
    fy = fp;
    dy = dp;
  } else {
    if (sgnd < 0) {
      sty = stx;
      fy = fx;
      dy = dx;
    }
    stx = stp;
    fx = fp;
    dx = dp;
  }
  return { stx, fx, dx, sty, fy, dy, stp: stpf, brackt };
}
