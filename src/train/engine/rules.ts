/**
 * The backward rule of every op of the engine, one function per op, each written as ONNX nodes.
 *
 * A rule receives the forward tape entry (`e.inputs`, `e.outputs`, `e.attrs`, `e.saved`), the gradients
 * of the loss with respect to the op's outputs (`dy`; `null` for an output the loss does not depend on)
 * and which inputs need a gradient (`needs`), and returns one gradient per input (`null` where not
 * needed). Rules run with the tape's recording off, so they may use the {@link Graph} ops freely.
 *
 * Notation in the comments: `y` the op's output, `dy` ∂loss/∂y, `dx` ∂loss/∂x; sums "over broadcast axes"
 * undo numpy broadcasting (see {@link unbroadcast}).
 * @module
 */
import { type Graph, size, type T, type TapeEntry } from "./ir.ts";

/** A backward rule; see the module documentation. */
export type Rule = (g: Graph, e: TapeEntry, dy: (T | null)[], needs: boolean[]) => (T | null)[];

/** `grad` summed over the axes that broadcasting added or stretched, so that it has `shape`. */
export function unbroadcast(g: Graph, grad: T, shape: readonly number[]): T {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad;
  const lead = grad.shape.length - shape.length, axes: number[] = [];
  grad.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const summed = axes.length ? g.reduceSum(grad, axes, true) : grad;
  return g.reshape(summed, [...shape]);
}

/** The last two axes swapped. */
function swapLast(g: Graph, x: T): T {
  const perm = x.shape.map((_, i) => i);
  [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
  return g.transpose(x, perm);
}

/** `dy` with the reduced axes restored as size 1 (for broadcasting it back over the input). */
function keepDims(g: Graph, dy: T, x: T, axes: number[], keepdims: boolean): T {
  return keepdims ? dy : g.reshape(dy, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
}

/** The rules, keyed by the tape's op names. */
export const RULES: Record<string, Rule> = {
  /** y = a + b: da = dy, db = dy (each summed over its broadcast axes). */
  add(g, e, [dy], needs) {
    const [a, b] = e.inputs;
    return [needs[0] ? unbroadcast(g, dy!, a.shape) : null, needs[1] ? unbroadcast(g, dy!, b.shape) : null];
  },

  /** y = a − b: da = dy, db = −dy. */
  sub(g, e, [dy], needs) {
    const [a, b] = e.inputs;
    return [
      needs[0] ? unbroadcast(g, dy!, a.shape) : null,
      needs[1] ? unbroadcast(g, g.scale(dy!, -1), b.shape) : null,
    ];
  },

  /** y = a · b: da = dy · b, db = dy · a. */
  mul(g, e, [dy], needs) {
    const [a, b] = e.inputs;
    return [
      needs[0] ? unbroadcast(g, g.mul(dy!, b), a.shape) : null,
      needs[1] ? unbroadcast(g, g.mul(dy!, a), b.shape) : null,
    ];
  },

  /** y = a / b: da = dy / b, db = −dy · y / b. */
  div(g, e, [dy], needs) {
    const [a, b] = e.inputs, [y] = e.outputs;
    const da = g.div(dy!, b);
    return [
      needs[0] ? unbroadcast(g, da, a.shape) : null,
      needs[1] ? unbroadcast(g, g.scale(g.mul(da, y), -1), b.shape) : null,
    ];
  },

  /** y = eˣ: dx = dy · y. */
  exp(g, e, [dy]) {
    return [g.mul(dy!, e.outputs[0])];
  },

  /** y = ln x: dx = dy / x. */
  log(g, e, [dy]) {
    return [g.div(dy!, e.inputs[0])];
  },

  /** y = √x: dx = dy / (2y). */
  sqrt(g, e, [dy]) {
    return [g.div(g.scale(dy!, 0.5), e.outputs[0])];
  },

  /** y = σ(x): dx = dy · y (1 − y). */
  sigmoid(g, e, [dy]) {
    const y = e.outputs[0];
    return [g.mul(dy!, g.mul(y, g.sub(g.scalar(1), y)))];
  },

  /** y = tanh x: dx = dy · (1 − y²). */
  tanh(g, e, [dy]) {
    const y = e.outputs[0];
    return [g.mul(dy!, g.sub(g.scalar(1), g.mul(y, y)))];
  },

  /** y = x · s with s = σ(1.702 x): dx = dy · (s + 1.702 · x · s · (1 − s)). */
  quickGelu(g, e, [dy]) {
    const x = e.inputs[0], s = e.saved.s;
    const ds = g.mul(g.scale(x, 1.702), g.mul(s, g.sub(g.scalar(1), s)));
    return [g.mul(dy!, g.add(s, ds))];
  },

  /** y = ½ x (1 + erf(x/√2)): dx = dy · (½ (1 + erf(x/√2)) + x · φ(x)), φ the standard normal density. */
  gelu(g, e, [dy]) {
    const x = e.inputs[0];
    const cdf = g.scale(g.add(e.saved.erf, g.scalar(1)), 0.5);
    const pdf = g.scale(g.exp(g.scale(g.mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return [g.mul(dy!, g.add(cdf, g.mul(x, pdf)))];
  },

  /** y = log σ(x): dx = dy · σ(−x). */
  logSigmoid(g, e, [dy]) {
    return [g.mul(dy!, g.sigmoid(g.scale(e.inputs[0], -1)))];
  },

  /**
   * y = a @ b over the last two axes: da = dy @ bᵀ, db = aᵀ @ dy (each summed over the leading axes
   * that broadcasting stretched).
   */
  matmul(g, e, [dy], needs) {
    const [a, b] = e.inputs;
    return [
      needs[0] ? unbroadcast(g, g.matmul(dy!, swapLast(g, b)), a.shape) : null,
      needs[1] ? unbroadcast(g, g.matmul(swapLast(g, a), dy!), b.shape) : null,
    ];
  },

  /** y = x Wᵀ + b (x [N, in], W [out, in]): dx = dy W, dW = dyᵀ x, db = Σₙ dy. One Gemm each. */
  linear(g, e, [dy], needs) {
    const [x, w] = e.inputs;
    const dx = needs[0] ? g.emit1("Gemm", [dy!, w], {}, x.shape) : null; // [N, in]
    const dw = needs[1] ? g.emit1("Gemm", [dy!, x], { transA: 1 }, w.shape) : null; // [out, in]
    const db = e.inputs.length > 2 && needs[2] ? g.reduceSum(dy!, [0]) : null; // [out]
    return [dx, dw, db];
  },

  /**
   * y = x̂ · w + b with x̂ = (x − μ) · r, r = 1/√(σ² + ε) over the last axis:
   * dx = r · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂)) with ĝ = dy · w; dw = Σ dy · x̂; db = Σ dy (over leading axes).
   */
  layerNorm(g, e, [dy], needs) {
    const [x, w] = e.inputs, { mean, invStd } = e.saved;
    const xhat = g.mul(g.sub(x, mean), invStd);
    const lead = x.shape.slice(0, -1).map((_, i) => i);
    let dx: T | null = null;
    if (needs[0]) {
      const gh = g.mul(dy!, w);
      const m1 = g.reduceMean(gh, [-1], true), m2 = g.reduceMean(g.mul(gh, xhat), [-1], true);
      dx = g.mul(invStd, g.sub(g.sub(gh, m1), g.mul(xhat, m2)));
    }
    return [
      dx,
      needs[1] ? g.reduceSum(g.mul(dy!, xhat), lead) : null,
      needs[2] ? g.reduceSum(dy!, lead) : null,
    ];
  },

  /**
   * y = softmax(x): dx = y · (dy − Σ dy · y) over the softmax axis, then re-centred (dx − y · Σ dx) so that
   * each row sums to zero as it does exactly in real arithmetic. Without this the float32 residue flows
   * into the gradient of attention's key bias, which is exactly zero (softmax ignores a per-row shift),
   * and Adam, dividing by √v, turns that noise into updates of ~1e-5 per step.
   */
  softmax(g, e, [dy]) {
    const y = e.outputs[0], axis = e.attrs.axis as number;
    const dx = g.mul(y, g.sub(dy!, g.reduceSum(g.mul(dy!, y), [axis], true)));
    return [g.sub(dx, g.mul(y, g.reduceSum(dx, [axis], true)))];
  },

  /** y = log softmax(x): dx = dy − eʸ · Σ dy over the axis. */
  logSoftmax(g, e, [dy]) {
    const y = e.outputs[0], axis = e.attrs.axis as number;
    return [g.sub(dy!, g.mul(g.exp(y), g.reduceSum(dy!, [axis], true)))];
  },

  /** y = x / ‖x‖: dx = (dy − y · Σ dy · y) / ‖x‖ over the last axis. */
  l2normalize(g, e, [dy]) {
    const y = e.outputs[0];
    return [g.div(g.sub(dy!, g.mul(y, g.reduceSum(g.mul(dy!, y), [-1], true))), e.saved.norm)];
  },

  /** y = Σₙ wₙ · (−log pₙ,ₜₙ) / Σ wₙ: dlogits = dy · wₙ · (softmax(xₙ) − onehot(tₙ)) / Σ wₙ. */
  crossEntropy(g, e, [dy]) {
    const { logp, onehot, count } = e.saved;
    let d = g.sub(g.exp(logp), onehot); // [N, C]
    if (e.inputs.length > 2) d = g.mul(d, g.reshape(e.inputs[2], [e.inputs[2].shape[0], 1]));
    return [g.mul(d, g.div(dy!, count)), null, null];
  },

  /** y = Σ x over axes: dx = dy broadcast back over the summed axes. */
  reduceSum(g, e, [dy]) {
    const x = e.inputs[0], { axes, keepdims } = e.attrs as { axes: number[]; keepdims: boolean };
    return [g.expand(keepDims(g, dy!, x, axes, keepdims), [...x.shape])];
  },

  /** y = mean x over axes: dx = dy / n broadcast back. */
  reduceMean(g, e, [dy]) {
    const x = e.inputs[0], { axes, keepdims } = e.attrs as { axes: number[]; keepdims: boolean };
    const n = axes.reduce((p, a) => p * x.shape[a], 1);
    return [g.expand(g.scale(keepDims(g, dy!, x, axes, keepdims), 1 / n), [...x.shape])];
  },

  /** y = max x over axes: dx = dy · [x = y] / #ties (shared equally between tied maxima). */
  reduceMax(g, e, [dy]) {
    const x = e.inputs[0], { axes, keepdims } = e.attrs as { axes: number[]; keepdims: boolean };
    const yk = keepDims(g, e.outputs[0], x, axes, keepdims);
    const hit = g.cast(g.emit1("Equal", [x, yk], {}, x.shape, "bool"), g.float);
    const ties = g.reduceSum(hit, axes, true);
    return [g.mul(hit, g.div(keepDims(g, dy!, x, axes, keepdims), ties))];
  },

  /** y = x reshaped: dx = dy reshaped back. */
  reshape(g, e, [dy]) {
    return [g.reshape(dy!, [...e.inputs[0].shape])];
  },

  /** y = x with axes permuted by p: dx = dy permuted by p⁻¹. */
  transpose(g, e, [dy]) {
    const perm = e.attrs.perm as number[], inverse = perm.map((_, i) => perm.indexOf(i));
    return [g.transpose(dy!, inverse)];
  },

  /** y = x broadcast: dx = dy summed over the broadcast axes. */
  expand(g, e, [dy]) {
    return [unbroadcast(g, dy!, e.inputs[0].shape)];
  },

  /** y = concat(xs): each dx is its slice of dy. */
  concat(g, e, [dy], needs) {
    const axis = e.attrs.axis as number;
    let at = 0;
    return e.inputs.map((x, i) => {
      const start = at;
      at += x.shape[axis];
      return needs[i] ? g.slice(dy!, axis, start, at) : null;
    });
  },

  /** ys = split(x): dx = concat(dys), zeros for a piece the loss does not use. */
  split(g, e, dys) {
    const axis = e.attrs.axis as number;
    const parts = dys.map((d, i) => d ?? zeros(g, e.outputs[i].shape));
    return [g.concat(parts, axis)];
  },

  /** y = x[start:end] along an axis: dx = dy padded with zeros back to x's shape. */
  slice(g, e, [dy]) {
    const x = e.inputs[0], axis = e.attrs.axis as number, start = e.attrs.start as number;
    const r = x.shape.length, pads = new Array(2 * r).fill(0);
    pads[axis] = start;
    pads[r + axis] = x.shape[axis] - start - dy!.shape[axis];
    return [g.emit1("Pad", [dy!, g.int64(pads)], {}, x.shape)];
  },

  /** y = table[indices]: dtable = dy scatter-added into zeros at the indices (repeated indices add up). */
  gather(g, e, [dy]) {
    const [table, indices] = e.inputs, n = size(indices.shape), row = table.shape.slice(1);
    const updates = g.reshape(dy!, [n, ...row]); // [n, ...row]
    const at = g.emit1("Reshape", [indices, g.int64([n, 1])], {}, [n, 1], "int64"); // [n, 1]
    return [
      g.emit1(
        "ScatterND",
        [zeros(g, table.shape), at, updates],
        { reduction: { string: "add" } },
        table.shape,
      ),
      null,
    ];
  },
};

/** A zero tensor of `shape` (this graph's float type). */
export function zeros(g: Graph, shape: readonly number[]): T {
  return g.emit1("Expand", [g.scalar(0), g.int64([...shape])], {}, shape);
}
