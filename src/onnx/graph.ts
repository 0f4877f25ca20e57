/**
 * A small builder for ONNX graphs on ONNX's own schema (`onnx-proto`, the generated `onnx.proto`
 * classes on protobufjs): named initializers, nodes with attributes, typed inputs and outputs.
 * @module
 */
import onnxProto from "onnx-proto";
import { OnnxGraphError } from "../errors.ts";

const { onnx } = onnxProto;

/** ONNX element types used here. */
export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;

/** ONNX opset of the exported graphs (17: `LayerNormalization` is a standard operator). */
export const OPSET = 17;
/** IR version matching {@link OPSET}. */
export const IR_VERSION = 8;

/** An attribute value: integer, float, integer list, float list, or string. */
export type AttrValue = number | number[] | { float: number } | { floats: number[] } | { string: string };

/** A tensor dimension: a fixed size or a symbolic name (`"batch"`). */
export type Dim = number | string;

/** Builds one graph; `node` returns the names of its outputs. */
export class GraphBuilder {
  private nodes: onnxProto.onnx.INodeProto[] = [];
  private initializers: onnxProto.onnx.ITensorProto[] = [];
  private inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private counter = 0;

  constructor(readonly name: string) {}

  /**
   * A float32 initializer (stored as raw little-endian bytes); returns its name.
   *
   * @example
   * ```ts
   * import { GraphBuilder } from "./graph.ts";
   * const g = new GraphBuilder("demo");
   * g.float("ln.weight", new Float32Array([1, 1]), [2]); // → "ln.weight"
   * ```
   */
  float(name: string, data: Float32Array, dims: number[]): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length) {
      throw new OnnxGraphError(
        `initializer ${name} has ${data.length} values but dims [${dims}]`,
        { fix: "pass as many values as the dims multiply to (check the weight's shape)" },
      );
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, dims, dataType: FLOAT, rawData: bytes });
    return name;
  }

  /** An int64 initializer; returns its name. */
  int64(name: string, values: number[], dims: number[] = [values.length]): string {
    this.initializers.push({ name, dims, dataType: INT64, int64Data: values });
    return name;
  }

  /** A graph input with element type and shape. */
  input(name: string, elemType: number, shape: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, shape));
    return name;
  }

  /** Declare `name` a graph output. */
  output(name: string, elemType: number, shape: Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, shape));
  }

  /**
   * Add a node; returns its output names (`outputs` of them, named after `hint`).
   *
   * @example
   * ```ts
   * import { FLOAT, GraphBuilder } from "./graph.ts";
   * const g = new GraphBuilder("demo");
   * const x = g.input("x", FLOAT, ["batch", 4]);
   * const [y] = g.node("Softmax", [x], { axis: -1 }, "attn");
   * y; // → "attn/Softmax_0"
   * ```
   */
  node(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    hint = opType,
    outputs = 1,
  ): string[] {
    const id = this.counter++;
    const out = Array.from(
      { length: outputs },
      (_, i) => `${hint}/${opType}_${id}${outputs > 1 ? `_${i}` : ""}`,
    );
    this.nodes.push({
      name: `${hint}/${opType}_${id}`,
      opType,
      input: inputs,
      output: out,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  /** Like {@link node} with one output, returning it. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, hint = opType): string {
    return this.node(opType, inputs, attrs, hint)[0];
  }

  /** Rename the single output of the last node added (to give it a public name). */
  renameLast(name: string): void {
    const last = this.nodes[this.nodes.length - 1];
    last.output = [name];
  }

  /**
   * Serialise as an ONNX model (protobuf bytes).
   *
   * @example
   * ```ts
   * import { FLOAT, GraphBuilder } from "./graph.ts";
   * const g = new GraphBuilder("demo");
   * const x = g.input("x", FLOAT, ["batch", 4]);
   * g.output(g.op("Softmax", [x], { axis: -1 }), FLOAT, ["batch", 4]);
   * const bytes = g.encode(); // protobuf, ready for Deno.writeFile("model.onnx", bytes)
   * bytes.length; // → 168
   * ```
   */
  encode(producer = "clipkit"): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: "", version: OPSET }],
      producerName: producer,
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, elemType: number, shape: Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === "number") return { name, type: T.INT, i: v };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ("float" in v) return { name, type: T.FLOAT, f: v.float };
  if ("string" in v) return { name, type: T.STRING, s: new TextEncoder().encode(v.string) };
  return { name, type: T.FLOATS, floats: v.floats };
}
