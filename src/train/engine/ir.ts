/**
 * The training engine's op-graph IR: tensors with static shapes, written straight into an ONNX graph
 * (`src/onnx/graph.ts` GraphBuilder, opset 17), and a tape of the differentiable ops.
 *
 * model code (`clip.ts`, `objectives.ts`) ──calls──► {@link Graph} ops ──► ONNX nodes + tape entries
 * tape ──► `autodiff.ts` (reverse walk) ──► `rules.ts` (one backward rule per op, as ONNX nodes)
 *
 * Every op here does two things: it emits the forward ONNX node(s) and, unless the graph is emitting a
 * backward rule, records one tape entry `{ op, inputs, outputs, attrs, saved }` whose `op` names the rule in
 * `rules.ts`. Shapes are static (known when the graph is built), so broadcasting, reductions and the
 * gradient's un-broadcasting are resolved here in TypeScript, not at run time.
 *
 * A graph computes in one float type, `float32` for training or `float64` for the finite-difference tests
 * of the rules (onnxruntime's CPU kernels run both for every op used here except `Erf`).
 * @module
 */
import onnxProto from "onnx-proto";
import { type AttrValue, GraphBuilder } from "../../onnx/graph.ts";
import { TrainError } from "../../errors.ts";

const DataType = onnxProto.onnx.TensorProto.DataType;

/** Element types of engine tensors. */
export type DType = "float32" | "float64" | "int64" | "int32" | "bool";

const ONNX_TYPE: Record<DType, number> = {
  float32: DataType.FLOAT,
  float64: DataType.DOUBLE,
  int64: DataType.INT64,
  int32: DataType.INT32,
  bool: DataType.BOOL,
};

/** A tensor of the graph: its ONNX value name, static shape and element type. */
export interface T {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** One differentiable op on the tape. `saved` holds forward intermediates its backward rule reuses. */
export interface TapeEntry {
  op: string;
  inputs: T[];
  outputs: T[];
  attrs: Record<string, unknown>;
  saved: Record<string, T>;
}

/** Number of elements of a shape. */
export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** numpy's broadcast of two shapes; throws when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length), out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new TrainError(`shapes [${a}] and [${b}] do not broadcast`, {
        fix: "reshape one operand so that each axis matches or is 1",
      });
    }
    out.push(Math.max(x, y));
  }
  return out;
}

/** Builds one training graph; see the module documentation. */
export class Graph {
  readonly builder: GraphBuilder;
  readonly tape: TapeEntry[] = [];
  /** The float type of this graph's activations and parameters. */
  readonly float: "float32" | "float64";
  #recording = true;
  #constants = 0;
  #scalars = new Map<number, T>();

  constructor(name: string, float: "float32" | "float64" = "float32") {
    this.builder = new GraphBuilder(name);
    this.float = float;
  }

  // ─── graph inputs, outputs, constants ───────────────────────────────────────────────

  /** A graph input. */
  input(name: string, shape: number[], dtype: DType = this.float): T {
    this.builder.input(name, ONNX_TYPE[dtype], shape);
    return { name, shape, dtype };
  }

  /** Publish `t` as graph output `name` (through an Identity node that carries the public name). */
  output(t: T, name: string): void {
    this.builder.node("Identity", [t.name], {}, name);
    this.builder.renameLast(name);
    this.builder.output(name, ONNX_TYPE[t.dtype], [...t.shape]);
  }

  /** A float constant of this graph's float type (stored as float32, cast up in a float64 graph). */
  constant(values: ArrayLike<number>, shape: number[]): T {
    if (values.length !== size(shape)) {
      throw new TrainError(`constant of ${values.length} values for shape [${shape}]`, {
        fix: "pass as many values as the shape holds",
      });
    }
    const name = this.builder.float(`const_${this.#constants++}`, Float32Array.from(values), shape);
    if (this.float === "float32") return { name, shape, dtype: "float32" };
    const cast = this.builder.op("Cast", [name], { to: ONNX_TYPE.float64 }, "const");
    return { name: cast, shape, dtype: "float64" };
  }

  /** A scalar float constant (shape `[]`), shared between uses of the same value. */
  scalar(value: number): T {
    let t = this.#scalars.get(value);
    if (!t) {
      t = this.constant([value], []);
      this.#scalars.set(value, t);
    }
    return t;
  }

  /** An int64 constant. */
  int64(values: number[], shape: number[] = [values.length]): T {
    const name = this.builder.int64(`const_${this.#constants++}`, values, shape);
    return { name, shape, dtype: "int64" };
  }

  /** Emit one ONNX node without recording it (for non-differentiable ops and inside backward rules). */
  emit(
    opType: string,
    inputs: (T | string)[],
    attrs: Record<string, AttrValue>,
    shapes: readonly (readonly number[])[],
    dtype: DType | DType[] = this.float,
  ): T[] {
    const names = this.builder.node(
      opType,
      inputs.map((t) => typeof t === "string" ? t : t.name),
      attrs,
      opType,
      shapes.length,
    );
    return names.map((name, i) => ({
      name,
      shape: [...shapes[i]],
      dtype: Array.isArray(dtype) ? dtype[i] : dtype,
    }));
  }

  /** Like {@link emit} for a single output. */
  emit1(
    opType: string,
    inputs: (T | string)[],
    attrs: Record<string, AttrValue>,
    shape: readonly number[],
    dtype: DType = this.float,
  ): T {
    return this.emit(opType, inputs, attrs, [shape], dtype)[0];
  }

  /** Record a tape entry (unless a backward rule is being emitted). */
  record(
    op: string,
    inputs: T[],
    outputs: T[],
    attrs: Record<string, unknown> = {},
    saved: Record<string, T> = {},
  ): void {
    if (this.#recording) this.tape.push({ op, inputs, outputs, attrs, saved });
  }

  /** Run `fn` with recording off (backward rules are built from the same ops but are not differentiated). */
  unrecorded<R>(fn: () => R): R {
    const was = this.#recording;
    this.#recording = false;
    try {
      return fn();
    } finally {
      this.#recording = was;
    }
  }

  // ─── elementwise ────────────────────────────────────────────────────────────────────

  #binary(op: "Add" | "Sub" | "Mul" | "Div", rule: string, a: T, b: T): T {
    const y = this.emit1(op, [a, b], {}, broadcastShapes(a.shape, b.shape), a.dtype);
    this.record(rule, [a, b], [y]);
    return y;
  }
  /** `a + b` (broadcasting). */
  add(a: T, b: T): T {
    return this.#binary("Add", "add", a, b);
  }
  /** `a − b` (broadcasting). */
  sub(a: T, b: T): T {
    return this.#binary("Sub", "sub", a, b);
  }
  /** `a · b` (broadcasting). */
  mul(a: T, b: T): T {
    return this.#binary("Mul", "mul", a, b);
  }
  /** `a / b` (broadcasting). */
  div(a: T, b: T): T {
    return this.#binary("Div", "div", a, b);
  }
  /** `x · c` for a number `c`. */
  scale(x: T, c: number): T {
    return this.mul(x, this.scalar(c));
  }

  #unary(op: string, rule: string, x: T): T {
    const y = this.emit1(op, [x], {}, x.shape, x.dtype);
    this.record(rule, [x], [y]);
    return y;
  }
  /** `eˣ`. */
  exp(x: T): T {
    return this.#unary("Exp", "exp", x);
  }
  /** Natural log. */
  log(x: T): T {
    return this.#unary("Log", "log", x);
  }
  /** Square root. */
  sqrt(x: T): T {
    return this.#unary("Sqrt", "sqrt", x);
  }
  /** Logistic sigmoid. */
  sigmoid(x: T): T {
    return this.#unary("Sigmoid", "sigmoid", x);
  }
  /** Hyperbolic tangent. */
  tanh(x: T): T {
    return this.#unary("Tanh", "tanh", x);
  }

  /** QuickGELU, openai/CLIP's activation: `x · σ(1.702 x)`. */
  quickGelu(x: T): T {
    const s = this.unrecorded(() =>
      this.emit1("Sigmoid", [this.emit1("Mul", [x, this.scalar(1.702)], {}, x.shape)], {}, x.shape)
    );
    const y = this.emit1("Mul", [x, s], {}, x.shape);
    this.record("quickGelu", [x], [y], {}, { s });
    return y;
  }

  /** Exact GELU: `x · Φ(x) = ½ x (1 + erf(x / √2))` (float32 graphs only: onnxruntime has no float64 Erf). */
  gelu(x: T): T {
    const e = this.emit1(
      "Erf",
      [this.emit1("Mul", [x, this.scalar(Math.SQRT1_2)], {}, x.shape)],
      {},
      x.shape,
    );
    const y = this.emit1(
      "Mul",
      [
        this.emit1("Mul", [x, this.scalar(0.5)], {}, x.shape),
        this.emit1("Add", [e, this.scalar(1)], {}, x.shape),
      ],
      {},
      x.shape,
    );
    this.record("gelu", [x], [y], {}, { erf: e });
    return y;
  }

  /** `log σ(x) = min(x, 0) − log(1 + e^{−|x|})`, stable for large |x|. */
  logSigmoid(x: T): T {
    const neg = this.emit1("Neg", [this.emit1("Abs", [x], {}, x.shape)], {}, x.shape);
    const soft = this.emit1(
      "Log",
      [this.emit1("Add", [this.emit1("Exp", [neg], {}, x.shape), this.scalar(1)], {}, x.shape)],
      {},
      x.shape,
    );
    const y = this.emit1("Sub", [this.emit1("Min", [x, this.scalar(0)], {}, x.shape), soft], {}, x.shape);
    this.record("logSigmoid", [x], [y]);
    return y;
  }

  // ─── products ───────────────────────────────────────────────────────────────────────

  /** `a @ b` over the last two axes, leading axes broadcast (both operands at least 2-D). */
  matmul(a: T, b: T): T {
    if (a.shape.length < 2 || b.shape.length < 2 || a.shape.at(-1) !== b.shape.at(-2)) {
      throw new TrainError(`matmul of [${a.shape}] and [${b.shape}]`, {
        fix: "pass [..., m, k] and [..., k, n]",
      });
    }
    const lead = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const y = this.emit1("MatMul", [a, b], {}, [...lead, a.shape.at(-2)!, b.shape.at(-1)!], a.dtype);
    this.record("matmul", [a, b], [y]);
    return y;
  }

  /** A PyTorch `Linear`: `x [N, in] @ weightᵀ + bias` with `weight [out, in]` (one Gemm). */
  linear(x: T, weight: T, bias?: T): T {
    if (x.shape.length !== 2 || weight.shape.length !== 2 || x.shape[1] !== weight.shape[1]) {
      throw new TrainError(`linear of x [${x.shape}] and weight [${weight.shape}]`, {
        fix: "pass x [N, in], weight [out, in]",
      });
    }
    const inputs = bias ? [x, weight, bias] : [x, weight];
    const y = this.emit1("Gemm", inputs, { transB: 1 }, [x.shape[0], weight.shape[0]], x.dtype); // [N, out]
    this.record("linear", inputs, [y]);
    return y;
  }

  // ─── normalisation and probabilities ────────────────────────────────────────────────

  /** Layer norm over the last axis with gain `w` and bias `b` (PyTorch's `LayerNorm`). */
  layerNorm(x: T, w: T, b: T, eps = 1e-5): T {
    const stat = [...x.shape.slice(0, -1), 1];
    if (this.float === "float32") {
      const [y, mean, invStd] = this.emit(
        "LayerNormalization",
        [x, w, b],
        { axis: -1, epsilon: { float: eps } },
        [x.shape, stat, stat],
      );
      this.record("layerNorm", [x, w, b], [y], { eps }, { mean, invStd });
      return y;
    }
    // float64: onnxruntime's LayerNormalization keeps its statistics in float32, so spell it out.
    const { mean, invStd, y } = this.unrecorded(() => {
      const mean = this.reduceMean(x, [-1], true); // [..., 1]
      const centred = this.sub(x, mean);
      const variance = this.reduceMean(this.mul(centred, centred), [-1], true);
      const invStd = this.emit1("Reciprocal", [this.sqrt(this.add(variance, this.scalar(eps)))], {}, stat);
      return { mean, invStd, y: this.add(this.mul(this.mul(centred, invStd), w), b) };
    });
    this.record("layerNorm", [x, w, b], [y], { eps }, { mean, invStd });
    return y;
  }

  /** Softmax over `axis`. */
  softmax(x: T, axis = -1): T {
    const y = this.emit1("Softmax", [x], { axis }, x.shape, x.dtype);
    this.record("softmax", [x], [y], { axis });
    return y;
  }

  /** Log-softmax over `axis`. */
  logSoftmax(x: T, axis = -1): T {
    const y = this.emit1("LogSoftmax", [x], { axis }, x.shape, x.dtype);
    this.record("logSoftmax", [x], [y], { axis });
    return y;
  }

  /** Rows scaled to unit L2 norm over the last axis: `x / ‖x‖`. */
  l2normalize(x: T): T {
    const stat = [...x.shape.slice(0, -1), 1];
    const norm = this.unrecorded(() =>
      this.emit1(
        "Sqrt",
        [this.emit1(
          "ReduceSum",
          [this.emit1("Mul", [x, x], {}, x.shape), this.int64([-1])],
          { keepdims: 1 },
          stat,
        )],
        {},
        stat,
      )
    );
    const y = this.emit1("Div", [x, norm], {}, x.shape);
    this.record("l2normalize", [x], [y], {}, { norm });
    return y;
  }

  /**
   * Mean cross-entropy of `logits [N, C]` against class indices `targets [N]` (int64), optionally weighted
   * per row by `weights [N]` (no gradient; e.g. 0 for padding): `Σ wₙ (logsumexp(xₙ) − xₙ,ₜₙ) / Σ wₙ`.
   */
  crossEntropy(logits: T, targets: T, weights?: T): T {
    const [N, C] = logits.shape;
    const logp = this.unrecorded(() => this.logSoftmax(logits, -1)); // [N, C]
    const onehot = this.oneHot(targets, C); // [N, C]
    const picked = this.emit1("ReduceSum", [this.emit1("Mul", [logp, onehot], {}, [N, C]), this.int64([1])], {
      keepdims: 0,
    }, [N]);
    let total: T, count: T;
    if (weights) {
      total = this.emit1("ReduceSum", [this.emit1("Mul", [picked, weights], {}, [N])], { keepdims: 0 }, []);
      count = this.emit1("ReduceSum", [weights], { keepdims: 0 }, []);
    } else {
      total = this.emit1("ReduceSum", [picked], { keepdims: 0 }, []);
      count = this.scalar(N);
    }
    const y = this.emit1("Neg", [this.emit1("Div", [total, count], {}, [])], {}, []);
    this.record("crossEntropy", weights ? [logits, targets, weights] : [logits, targets], [y], {}, {
      logp,
      onehot,
      count,
    });
    return y;
  }

  /** `oneHot(indices [N], depth)` → `[N, depth]` of this graph's float type (no gradient). */
  oneHot(indices: T, depth: number): T {
    // onnxruntime's OneHot has no float64 kernel: build it in float32 and cast.
    const values = this.builder.float(`const_${this.#constants++}`, Float32Array.of(0, 1), [2]);
    const shape = [...indices.shape, depth];
    const hot = this.emit1(
      "OneHot",
      [indices, this.int64([depth], []), values],
      { axis: -1 },
      shape,
      "float32",
    );
    return this.float === "float32" ? hot : this.cast(hot, "float64");
  }

  // ─── reductions ─────────────────────────────────────────────────────────────────────

  #reduced(x: T, axes: number[], keepdims: boolean): { axes: number[]; shape: number[] } {
    const r = x.shape.length, norm = axes.map((a) => (a + r) % r).sort((p, q) => p - q);
    const shape: number[] = [];
    x.shape.forEach((d, i) => {
      if (!norm.includes(i)) shape.push(d);
      else if (keepdims) shape.push(1);
    });
    return { axes: norm, shape };
  }
  /** Sum over `axes`. */
  reduceSum(x: T, axes: number[], keepdims = false): T {
    const r = this.#reduced(x, axes, keepdims);
    const y = this.emit1(
      "ReduceSum",
      [x, this.int64(r.axes)],
      { keepdims: keepdims ? 1 : 0 },
      r.shape,
      x.dtype,
    );
    this.record("reduceSum", [x], [y], { axes: r.axes, keepdims });
    return y;
  }
  /** Mean over `axes`. */
  reduceMean(x: T, axes: number[], keepdims = false): T {
    const r = this.#reduced(x, axes, keepdims);
    const y = this.emit1("ReduceMean", [x], { axes: r.axes, keepdims: keepdims ? 1 : 0 }, r.shape, x.dtype);
    this.record("reduceMean", [x], [y], { axes: r.axes, keepdims });
    return y;
  }
  /** Maximum over `axes` (the gradient is shared equally between tied maxima, as `torch.amax`). */
  reduceMax(x: T, axes: number[], keepdims = false): T {
    const r = this.#reduced(x, axes, keepdims);
    const y = this.emit1("ReduceMax", [x], { axes: r.axes, keepdims: keepdims ? 1 : 0 }, r.shape, x.dtype);
    this.record("reduceMax", [x], [y], { axes: r.axes, keepdims });
    return y;
  }

  // ─── shape and indexing ─────────────────────────────────────────────────────────────

  /** Same values, new shape. */
  reshape(x: T, shape: number[]): T {
    if (size(shape) !== size(x.shape)) {
      throw new TrainError(`reshape [${x.shape}] → [${shape}]`, { fix: "keep the number of elements" });
    }
    const y = this.emit1("Reshape", [x, this.int64(shape)], {}, shape, x.dtype);
    this.record("reshape", [x], [y]);
    return y;
  }

  /** Axes permuted: output axis i is input axis `perm[i]`. */
  transpose(x: T, perm: number[]): T {
    const y = this.emit1("Transpose", [x], { perm }, perm.map((p) => x.shape[p]), x.dtype);
    this.record("transpose", [x], [y], { perm });
    return y;
  }

  /** `x` broadcast to `shape`. */
  expand(x: T, shape: number[]): T {
    const y = this.emit1("Expand", [x, this.int64(shape)], {}, broadcastShapes(x.shape, shape), x.dtype);
    this.record("expand", [x], [y]);
    return y;
  }

  /** Joined along `axis`. */
  concat(xs: T[], axis: number): T {
    const r = xs[0].shape.length, ax = (axis + r) % r;
    const shape = [...xs[0].shape];
    shape[ax] = xs.reduce((s, t) => s + t.shape[ax], 0);
    const y = this.emit1("Concat", xs, { axis: ax }, shape, xs[0].dtype);
    this.record("concat", xs, [y], { axis: ax });
    return y;
  }

  /** Cut into pieces of `sizes` along `axis`. */
  split(x: T, axis: number, sizes: number[]): T[] {
    const r = x.shape.length, ax = (axis + r) % r;
    const shapes = sizes.map((s) => x.shape.map((d, i) => (i === ax ? s : d)));
    const ys = this.emit("Split", [x, this.int64(sizes)], { axis: ax }, shapes, x.dtype);
    this.record("split", [x], ys, { axis: ax });
    return ys;
  }

  /** `x[start:end]` along `axis` (step 1). */
  slice(x: T, axis: number, start: number, end: number): T {
    const r = x.shape.length, ax = (axis + r) % r;
    const shape = x.shape.map((d, i) => (i === ax ? end - start : d));
    const y = this.emit1(
      "Slice",
      [x, this.int64([start]), this.int64([end]), this.int64([ax])],
      {},
      shape,
      x.dtype,
    );
    this.record("slice", [x], [y], { axis: ax, start });
    return y;
  }

  /** Rows of `table [V, ...]` at `indices` (int64, any shape) → `[...indices, ...]` (embedding lookup). */
  gather(table: T, indices: T): T {
    const y = this.emit1(
      "Gather",
      [table, indices],
      { axis: 0 },
      [...indices.shape, ...table.shape.slice(1)],
      table.dtype,
    );
    this.record("gather", [table, indices], [y]);
    return y;
  }

  /** Elementwise cast (no gradient: used on integer ids and masks). */
  cast(x: T, dtype: DType): T {
    return this.emit1("Cast", [x], { to: ONNX_TYPE[dtype] }, x.shape, dtype);
  }
}
