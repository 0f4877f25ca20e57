/**
 * One CLIP encoder tower (text or vision) as an ONNX session: checks that the graph looks like
 * CLIP's, then runs batches of raw inputs (token ids or pixel values) into a caller's output rows.
 * It returns what the graph computed; the caller (`ClipModel`) checks for NaN/∞ in its own row order.
 *
 * Input buffers are allocated once and reused; on onnxruntime-node the output is written straight
 * into the caller's `Float32Array` (no copy).
 */
import type { InferenceSession, Tensor } from "onnxruntime-common";
import { GraphMismatchError, ModelLoadError } from "../errors.ts";
import { tokenLengths } from "../text/tokenizer.ts";
import { graphInputs, graphOutputs, type GraphValue, type Runtime } from "./runtime.ts";

/** Which tower. */
export type TowerKind = "text" | "vision";

/** The output each tower should have (HF's `CLIPTextModelWithProjection` / `CLIPVisionModelWithProjection`). */
const EMBEDS_OUTPUT: Record<TowerKind, string> = { text: "text_embeds", vision: "image_embeds" };

/** First bytes of a Git LFS pointer file (a clone made without `git lfs`). */
const LFS_POINTER = "version https://git-lfs";

/** A loaded tower; see the module documentation. */
export class Tower {
  readonly kind: TowerKind;
  /** The ONNX file. */
  readonly path: string;
  /** The main input (`input_ids` or `pixel_values`) as the graph declares it. */
  readonly input: GraphValue;
  /** The embeddings output. */
  readonly output: GraphValue;
  /** Text only: the graph's `attention_mask` input, when it has one. */
  readonly attentionMask?: GraphValue;
  /** Text only: the graph's `position_ids` input, when it has one. */
  readonly positionIds?: GraphValue;
  /** The fixed batch size of the graph (undefined when the batch axis is dynamic). */
  readonly fixedBatch?: number;
  readonly #session: InferenceSession;
  readonly #runtime: Runtime;
  #buffers = new Map<string, ArrayBufferView>();
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(kind: TowerKind, path: string, session: InferenceSession, runtime: Runtime) {
    this.kind = kind;
    this.path = path;
    this.#session = session;
    this.#runtime = runtime;
    const inputs = graphInputs(session);
    const outputs = graphOutputs(session);
    const io = kind === "text" ? textInputs(inputs, path) : { input: visionInput(inputs, path) };
    this.input = io.input;
    this.attentionMask = "attentionMask" in io ? io.attentionMask : undefined;
    this.positionIds = "positionIds" in io ? io.positionIds : undefined;
    this.output = embedsOutput(kind, outputs, path);
    const batch = this.input.shape[0];
    this.fixedBatch = typeof batch === "number" && batch > 0 ? batch : undefined;
  }

  /**
   * Load a tower from an ONNX file and check its inputs and outputs.
   * @example
   * ```ts
   * import { Tower } from "./tower.ts";
   * import { loadRuntime } from "./runtime.ts";
   * const text = await Tower.load(await loadRuntime("node"), "text", "models/tiny-clip/onnx/text_model.onnx");
   * [text.input.name, text.output.name, text.dim]; // → ["input_ids", "text_embeds", 64]
   * ```
   */
  static async load(runtime: Runtime, kind: TowerKind, path: string): Promise<Tower> {
    checkOnnxBytes(await readHead(path), (await Deno.stat(path)).size, path);
    // onnxruntime-node reads the file itself, so the weights are not held twice (once in JS memory, once
    // in the runtime): peak memory ≈ 1.8× instead of 3× the weights on ViT-B/32. WASM needs the bytes.
    const model = runtime.backend === "node" ? path : await Deno.readFile(path);
    const session = await runtime.createSession(model, path);
    try {
      return new Tower(kind, path, session, runtime);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  /** Embedding width from the graph (undefined when that axis is symbolic). */
  get dim(): number | undefined {
    const d = this.output.shape[1];
    return typeof d === "number" ? d : undefined;
  }

  /** Text: the graph's sequence length; vision: its image side. Undefined when the axis is dynamic. */
  get fixedLength(): number | undefined {
    const d = this.input.shape[this.kind === "text" ? 1 : 2];
    return typeof d === "number" ? d : undefined;
  }

  /**
   * Run one batch. Text: `data` is `[rows, length]` token ids (`Int32Array`, zero padded as in
   * `clip.tokenize`). Vision: `data` is `[rows, 3, length, length]` pixel values (`Float32Array`).
   * Writes `[rows, dim]` float32 embeddings into `out`, as the graph computed them (NaN included).
   * @example
   * ```ts
   * import { Tower } from "./tower.ts";
   * import { loadRuntime } from "./runtime.ts";
   * const tower = await Tower.load(await loadRuntime("node"), "text", "models/tiny-clip/onnx/text_model.onnx");
   * const ids = new Int32Array(2 * 24); // [2, 24], zero padded
   * ids.set([685, 5, 686], 0); // row 0: SOT, one token, EOT
   * ids.set([685, 686], 24); // row 1: SOT, EOT
   * const out = new Float32Array(2 * 64); // [2, 64]
   * await tower.run(ids, 2, 24, out); // out now holds encode_text for the 2 rows
   * out.length; // → 128
   * ```
   */
  run(data: Int32Array | Float32Array, rows: number, length: number, out: Float32Array): Promise<void> {
    // One run at a time per session: input buffers are reused, and each run already uses every core.
    const result = this.#queue.then(() => this.#run(data, rows, length, out));
    this.#queue = result.catch(() => {});
    return result;
  }

  async #run(data: Int32Array | Float32Array, rows: number, length: number, out: Float32Array) {
    const feeds: Record<string, Tensor> = {};
    if (this.kind === "text") {
      const ids = data as Int32Array; // [rows, length]
      feeds[this.input.name] = this.#intTensor("ids", this.input.type, ids, [rows, length]);
      if (this.attentionMask) {
        feeds[this.attentionMask.name] = this.#intTensor(
          "mask",
          this.attentionMask.type,
          maskOf(ids, rows, length),
          [
            rows,
            length,
          ],
        );
      }
      if (this.positionIds) {
        const positions = new Int32Array(rows * length).map((_, i) => i % length); // [rows, length]
        feeds[this.positionIds.name] = this.#intTensor("positions", this.positionIds.type, positions, [
          rows,
          length,
        ]);
      }
    } else {
      const shape = [rows, 3, length, length]; // [rows, 3, R, R]
      if (this.input.type === "float16") {
        const half = this.#buffer("pixels16", Float16Array, data.length, data); // [rows, 3, R, R] float16
        const bits = new Uint16Array(half.buffer, half.byteOffset, half.length);
        const tensor = new this.#runtime.Tensor("float16", bits, shape);
        // onnxruntime-common keeps float16 data as a Float16Array where one exists (Deno has it), which
        // onnxruntime-node's native binding reads as empty: hand it the same bytes as a Uint16Array.
        if (this.#runtime.backend === "node") (tensor as unknown as { cpuData: Uint16Array }).cpuData = bits;
        feeds[this.input.name] = tensor;
      } else {
        feeds[this.input.name] = new this.#runtime.Tensor("float32", data as Float32Array, shape);
      }
    }
    const dim = out.length / rows;
    const inPlace = this.#runtime.preallocatedOutputs && this.output.type === "float32";
    const fetches = inPlace
      ? { [this.output.name]: new this.#runtime.Tensor("float32", out, [rows, dim]) }
      : [this.output.name];
    let result: InferenceSession.ReturnType;
    try {
      result = await this.#session.run(feeds, fetches);
    } catch (error) {
      throw new ModelLoadError(`the ${this.kind} tower failed on a batch of ${rows}`, {
        path: this.path,
        fix: `check that the graph's ${this.output.name} is [batch, ${dim}] and its input is ${
          JSON.stringify(this.input.shape)
        }`,
        cause: error,
      });
    }
    const tensor = result[this.output.name];
    if (tensor.dims.length !== 2 || tensor.dims[0] !== rows || tensor.dims[1] !== dim) {
      throw new GraphMismatchError(
        `the ${this.kind} tower returned ${this.output.name} of shape [${tensor.dims}], expected [${rows}, ${dim}]`,
        {
          path: this.path,
          fix: "both towers must project to the same width, given by config.json's projection_dim",
        },
      );
    }
    if (!inPlace) out.set(toFloat32(tensor.data));
  }

  /** Free the session. */
  async release(): Promise<void> {
    await this.#session.release();
  }

  #intTensor(key: string, type: string, values: Int32Array, shape: number[]): Tensor {
    if (type === "int32") return new this.#runtime.Tensor("int32", values, shape);
    const wide = this.#buffer(key, BigInt64Array, values.length) as BigInt64Array;
    for (let i = 0; i < values.length; i++) wide[i] = BigInt(values[i]);
    return new this.#runtime.Tensor("int64", wide, shape);
  }

  /** A reused buffer of at least `n` elements, viewed as exactly `n`; filled from `from` if given. */
  #buffer<T extends BigInt64Array | Float16Array>(
    key: string,
    Kind: { new (n: number): T },
    n: number,
    from?: ArrayLike<number>,
  ): T {
    let buffer = this.#buffers.get(key) as T | undefined;
    if (!buffer || buffer.length < n) {
      buffer = new Kind(n);
      this.#buffers.set(key, buffer);
    }
    const view = buffer.subarray(0, n) as T;
    if (from) (view as Float16Array).set(from);
    return view;
  }
}

/** Attention mask for CLIP-tokenized rows: 1 up to and including the EOT (the row's largest id). */
function maskOf(ids: Int32Array, rows: number, length: number): Int32Array {
  const mask = new Int32Array(rows * length); // [rows, length]
  tokenLengths(ids, [rows, length]).forEach((n, r) => mask.fill(1, r * length, r * length + n));
  return mask;
}

function toFloat32(data: Tensor["data"]): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof Uint16Array) {
    return Float32Array.from(new Float16Array(data.buffer, data.byteOffset, data.length));
  }
  if (data instanceof Float16Array) return Float32Array.from(data);
  throw new GraphMismatchError(
    `the graph's embeddings are ${data.constructor.name}, not float32 or float16`,
    {
      fix: "export the tower with a float32 (or float16) embedding output",
    },
  );
}

/** The first bytes of a file (fewer when the file is shorter). */
async function readHead(path: string): Promise<Uint8Array> {
  using file = await Deno.open(path);
  const head = new Uint8Array(ONNX_HEAD_BYTES);
  const n = await file.read(head);
  return head.subarray(0, n ?? 0);
}

/** Bytes read from the start of an ONNX file to recognise it. */
const ONNX_HEAD_BYTES = 64;

/** Reject files that cannot be ONNX (from their first bytes and size), with a fix for each case. */
function checkOnnxBytes(bytes: Uint8Array, size: number, path: string): void {
  const head = new TextDecoder().decode(bytes.subarray(0, 64));
  if (head.startsWith(LFS_POINTER)) {
    throw new ModelLoadError("this ONNX file is a Git LFS pointer, not the model", {
      path,
      fix: "run `git lfs pull` in the clone, or download with `deno task fetch-model <repo-id>`",
    });
  }
  // An ONNX ModelProto starts with field 1 (ir_version, a varint): tag byte 0x08.
  if (size < 16 || bytes[0] !== 0x08) {
    throw new ModelLoadError(
      `not an ONNX model (${size} bytes, starts with ${JSON.stringify(head.slice(0, 16))})`,
      {
        path,
        fix: "re-download the file with `deno task fetch-model <repo-id>`",
      },
    );
  }
}

function textInputs(inputs: GraphValue[], path: string) {
  const input = inputs.find((v) => v.name === "input_ids") ??
    inputs.find((v) => isInt(v) && v.shape.length === 2);
  const attentionMask = inputs.find((v) => v.name === "attention_mask");
  const positionIds = inputs.find((v) => v.name === "position_ids");
  const known = [input, attentionMask, positionIds];
  const extra = inputs.filter((v) => !known.includes(v));
  if (!input || !isInt(input) || input.shape.length !== 2 || extra.length > 0) {
    throw new GraphMismatchError(
      `this is not a CLIP text tower: its inputs are ${
        describe(inputs)
      }, expected input_ids int64 [batch, 77]` +
        " (optionally attention_mask, position_ids)",
      { path, fix: "use the text_model*.onnx of a CLIP export (HF CLIPTextModelWithProjection)" },
    );
  }
  return { input, attentionMask, positionIds };
}

function visionInput(inputs: GraphValue[], path: string): GraphValue {
  const input = inputs[0];
  const channels = input?.shape[1];
  if (
    inputs.length !== 1 || !(input.type === "float32" || input.type === "float16") ||
    input.shape.length !== 4 ||
    !(channels === 3 || typeof channels === "string")
  ) {
    throw new GraphMismatchError(
      `this is not a CLIP vision tower: its inputs are ${describe(inputs)}, expected pixel_values float32 ` +
        "[batch, 3, R, R]",
      { path, fix: "use the vision_model*.onnx of a CLIP export (HF CLIPVisionModelWithProjection)" },
    );
  }
  return input;
}

function embedsOutput(kind: TowerKind, outputs: GraphValue[], path: string): GraphValue {
  const output = outputs.find((v) => v.name === EMBEDS_OUTPUT[kind]) ??
    outputs.find((v) => v.name.endsWith("embeds") && v.shape.length === 2) ??
    (outputs.length === 1 && outputs[0].shape.length === 2 ? outputs[0] : undefined);
  if (!output || !(output.type === "float32" || output.type === "float16")) {
    throw new GraphMismatchError(
      `the ${kind} tower has no projected embeddings output: its outputs are ${
        describe(outputs)
      }, expected ` +
        `${EMBEDS_OUTPUT[kind]} float32 [batch, dim]`,
      {
        path,
        fix: `export the tower with its projection (HF CLIP${
          kind === "text" ? "Text" : "Vision"
        }ModelWithProjection)`,
      },
    );
  }
  return output;
}

function isInt(v: GraphValue): boolean {
  return v.type === "int64" || v.type === "int32";
}

function describe(values: GraphValue[]): string {
  return values.map((v) => `${v.name} ${v.type} [${v.shape.join(", ")}]`).join(", ") || "(none)";
}
