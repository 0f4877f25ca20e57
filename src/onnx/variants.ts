/**
 * fp16 and int8 variants of an fp32 ONNX tower, in the files transformers.js names them
 * (`*_fp16.onnx`, `*_quantized.onnx`), made by rewriting the graph with ONNX's own schema (`onnx-proto`):
 * - fp16: every float32 initializer stored as float16, a `Cast` to float16 after each float input and a
 *   `Cast` back to float32 before each float output (inputs and outputs stay float32, like
 *   onnxconverter-common's `keep_io_types`).
 * - int8: ONNX Runtime's dynamic quantisation of every `MatMul` with a constant 2-D weight: the weight
 *   as int8 with one symmetric scale per output column, the activation quantised at run time
 *   (`DynamicQuantizeLinear → MatMulInteger → Cast → Mul`, which ONNX Runtime fuses into one kernel).
 *   Everything else (the patch `Conv`, embeddings, attention's activation×activation products) stays float32.
 * @module
 */
import onnxProto from "onnx-proto";
import { writeAtomic } from "../fs.ts";
import { VariantError } from "../errors.ts";

const { onnx } = onnxProto;
type Model = onnxProto.onnx.ModelProto;
/** A decoded graph: its lists and names are always present. */
interface Graph {
  node: (onnxProto.onnx.INodeProto & { input: string[]; output: string[]; name: string })[];
  initializer: (TensorProto & { name: string })[];
  input: (onnxProto.onnx.IValueInfoProto & { name: string })[];
  output: (onnxProto.onnx.IValueInfoProto & { name: string })[];
}
type TensorProto = onnxProto.onnx.ITensorProto;
type NodeProto = onnxProto.onnx.INodeProto;

const DT = onnx.TensorProto.DataType;
/** Largest magnitude of a symmetric int8 weight. */
const INT8_MAX = 127;

/** A float32 initializer's values (from `rawData` or `floatData`). */
function floats(t: TensorProto): Float32Array {
  if (t.rawData && t.rawData.length) {
    const raw = t.rawData;
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  }
  return Float32Array.from(t.floatData ?? []);
}

function bytesOf(a: Float16Array | Int8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function elemType(v: onnxProto.onnx.IValueInfoProto): number | undefined | null {
  return v.type?.tensorType?.elemType;
}

/**
 * The fp16 variant of an fp32 graph (float32 inputs and outputs kept).
 * @example
 * ```ts
 * import { toFp16 } from "./variants.ts";
 * const fp32 = await Deno.readFile("models/tiny-clip/onnx/vision_model.onnx");
 * const half = toFp16(fp32);
 * (half.length / fp32.length).toFixed(2); // → "0.52" (about half the bytes)
 * ```
 */
export function toFp16(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes) as Model;
  const graph = model.graph as unknown as Graph;
  for (const t of graph.initializer) {
    if (t.dataType !== DT.FLOAT) continue;
    const half = Float16Array.from(floats(t));
    t.rawData = bytesOf(half).slice();
    t.floatData = [];
    t.dataType = DT.FLOAT16;
  }
  const renamed = new Map<string, string>();
  const casts: NodeProto[] = [];
  for (const input of graph.input) {
    if (elemType(input) !== DT.FLOAT) continue;
    const half = `${input.name}_fp16`;
    renamed.set(input.name, half);
    casts.push({
      name: `${half}/Cast`,
      opType: "Cast",
      input: [input.name],
      output: [half],
      attribute: [castTo(DT.FLOAT16)],
    });
  }
  for (const node of graph.node) node.input = node.input.map((n) => renamed.get(n) ?? n);
  const tail: NodeProto[] = [];
  for (const output of graph.output) {
    if (elemType(output) !== DT.FLOAT) continue;
    const half = `${output.name}_fp16`;
    for (const node of graph.node) node.output = node.output.map((n) => (n === output.name ? half : n));
    tail.push({
      name: `${output.name}/Cast`,
      opType: "Cast",
      input: [half],
      output: [output.name],
      attribute: [castTo(DT.FLOAT)],
    });
  }
  graph.node = [...casts, ...graph.node, ...tail] as Graph["node"];
  return onnx.ModelProto.encode(model).finish();
}

/**
 * The int8 (dynamically quantised) variant of an fp32 graph; see the module documentation.
 * @example
 * ```ts
 * import { toInt8 } from "./variants.ts";
 * const fp32 = await Deno.readFile("models/tiny-clip/onnx/vision_model.onnx");
 * const q8 = toInt8(fp32);
 * (q8.length / fp32.length).toFixed(2); // → "0.41" (on this tiny model)
 * ```
 */
export function toInt8(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes) as Model;
  const graph = model.graph as unknown as Graph;
  const inits = new Map(graph.initializer.map((t) => [t.name!, t]));
  const uses = new Map<string, number>();
  for (const node of graph.node) for (const n of node.input) uses.set(n, (uses.get(n) ?? 0) + 1);
  const nodes: NodeProto[] = [];
  const dropped = new Set<string>();
  for (const node of graph.node) {
    const weight = node.opType === "MatMul" ? inits.get(node.input[1]) : undefined;
    if (
      !weight || weight.dataType !== DT.FLOAT || weight.dims?.length !== 2 || uses.get(weight.name!) !== 1
    ) {
      nodes.push(node);
      continue;
    }
    const [k, n] = weight.dims.map(Number);
    const w = floats(weight); // [k, n]
    const scale = new Float32Array(n); // per output column
    for (let r = 0; r < k; r++) {
      for (let c = 0; c < n; c++) scale[c] = Math.max(scale[c], Math.abs(w[r * n + c]));
    }
    for (let c = 0; c < n; c++) scale[c] = scale[c] / INT8_MAX || 1;
    const q = new Int8Array(k * n); // [k, n]
    for (let r = 0; r < k; r++) {
      for (let c = 0; c < n; c++) {
        q[r * n + c] = Math.max(-INT8_MAX, Math.min(INT8_MAX, Math.round(w[r * n + c] / scale[c])));
      }
    }
    const base = weight.name!;
    dropped.add(base);
    graph.initializer.push(
      ...[
        { name: `${base}_quantized`, dims: [k, n], dataType: DT.INT8, rawData: bytesOf(q).slice() },
        { name: `${base}_scale`, dims: [n], dataType: DT.FLOAT, rawData: new Uint8Array(scale.buffer) },
        { name: `${base}_zero_point`, dims: [n], dataType: DT.INT8, rawData: new Uint8Array(n) },
      ],
    );
    const p = node.name ?? base;
    const [a, y] = [node.input[0], node.output[0]];
    nodes.push(
      {
        name: `${p}/quant`,
        opType: "DynamicQuantizeLinear",
        input: [a],
        output: [`${p}/a_q`, `${p}/a_scale`, `${p}/a_zp`],
      },
      {
        name: `${p}/MatMulInteger`,
        opType: "MatMulInteger",
        input: [`${p}/a_q`, `${base}_quantized`, `${p}/a_zp`, `${base}_zero_point`],
        output: [`${p}/y_int32`],
      },
      {
        name: `${p}/cast`,
        opType: "Cast",
        input: [`${p}/y_int32`],
        output: [`${p}/y_float`],
        attribute: [castTo(DT.FLOAT)],
      },
      {
        name: `${p}/scales`,
        opType: "Mul",
        input: [`${p}/a_scale`, `${base}_scale`],
        output: [`${p}/scale`],
      },
      { name: `${p}/rescale`, opType: "Mul", input: [`${p}/y_float`, `${p}/scale`], output: [y] },
    );
  }
  if (dropped.size === 0) {
    throw new VariantError("no MatMul with a constant 2-D float weight to quantise", {
      fix: "quantise a graph exported by this kit or another one whose MatMul weights are initializers",
    });
  }
  graph.node = nodes as Graph["node"];
  graph.initializer = graph.initializer.filter((t) => !dropped.has(t.name));
  return onnx.ModelProto.encode(model).finish();
}

function castTo(to: number): onnxProto.onnx.IAttributeProto {
  return { name: "to", type: onnx.AttributeProto.AttributeType.INT, i: to };
}

/**
 * Write `<name>_fp16.onnx` and `<name>_quantized.onnx` beside an fp32 `<name>.onnx` (atomically); returns
 * their paths.
 * @example
 * ```ts
 * import { writeVariants } from "./variants.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.copyFile("models/tiny-clip/onnx/vision_model.onnx", `${dir}/vision_model.onnx`);
 * (await writeVariants(`${dir}/vision_model.onnx`)).map((p) => p.slice(dir.length));
 * // → ["/vision_model_fp16.onnx", "/vision_model_quantized.onnx"]
 * ```
 */
export async function writeVariants(fp32Path: string): Promise<string[]> {
  const bytes = await Deno.readFile(fp32Path);
  const written: string[] = [];
  for (const [suffix, convert] of [["_fp16", toFp16], ["_quantized", toInt8]] as const) {
    const path = fp32Path.replace(/\.onnx$/, `${suffix}.onnx`);
    await writeAtomic(path, convert(bytes));
    written.push(path);
  }
  return written;
}
