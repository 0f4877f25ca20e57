/**
 * ONNX Runtime behind one interface: `onnxruntime-node` (native CPU, multi-threaded) or
 * `onnxruntime-web` (WASM SIMD, the portable path a browser uses). Both speak `onnxruntime-common`.
 *
 * A `Runtime` creates sessions with graph optimisation on and all cores in use; callers create one
 * session per graph and reuse it.
 */
import type { InferenceSession, Tensor } from "onnxruntime-common";
import { BackendError, ModelLoadError } from "../errors.ts";

/** A concrete ONNX Runtime backend. */
export type Backend = "node" | "web";
/** What a caller may ask for: `"auto"` picks `"node"` when its native binding loads, else `"web"`. */
export type BackendChoice = "auto" | Backend;

/** Options for `loadRuntime`. */
export interface RuntimeOptions {
  /**
   * Threads for one inference (default: all cores, `navigator.hardwareConcurrency`). onnxruntime-web
   * fixes its thread count when its WASM module starts, so the first web runtime of a process decides it.
   */
  threads?: number;
  /**
   * Keep the weights as stored, without the repacked copies the native matmul kernels are given at load
   * (onnxruntime-node only): peak memory ≈ 1.4× the weights instead of ≈ 1.8× on ViT-B/32, ≈ 5% slower.
   */
  lowMemory?: boolean;
}

/** One input or output of a graph, as the session reports it. */
export interface GraphValue {
  /** The input or output name. */
  name: string;
  /** Element type: `"float32"`, `"float16"`, `"int64"`, `"int32"`, … (`"unknown"` for non-tensors). */
  type: string;
  /** Dimensions; a string is a symbolic (dynamic) axis such as `"batch_size"`. */
  shape: (number | string)[];
}

/** An ONNX Runtime backend, ready to create sessions. */
export interface Runtime {
  /** Which backend this is. */
  readonly backend: Backend;
  /** Intra-op threads each session uses. */
  readonly threads: number;
  /** Whether `session.run` writes into caller-allocated output tensors (node: yes; web: no). */
  readonly preallocatedOutputs: boolean;
  /** Why `"auto"` did not pick `"node"` (only set after a fallback). */
  readonly fallbackReason?: string;
  /** The `Tensor` constructor of this backend (tensors must come from the backend that runs them). */
  readonly Tensor: typeof Tensor;
  /**
   * Create a session from an ONNX file's path (native backend) or bytes (`path` names it in error messages).
   * @example
   * ```ts
   * import { loadRuntime } from "./runtime.ts";
   * const rt = await loadRuntime("node");
   * const path = "models/tiny-clip/onnx/text_model.onnx";
   * const s = await rt.createSession(await Deno.readFile(path), path);
   * s.inputNames; // → ["input_ids"]
   * ```
   */
  createSession(model: Uint8Array | string, path: string): Promise<InferenceSession>;
  /** One line naming the backend and its threads, e.g. `"onnxruntime-node 1.30.0 (native CPU, 2 threads)"`. */
  describe(): string;
}

/** The onnxruntime version pinned in deno.json (both backends). */
const ORT_VERSION = "1.30.0";

/** What both npm packages export that clipkit uses. */
interface OrtModule {
  InferenceSession: {
    create(model: Uint8Array | string, options?: InferenceSession.SessionOptions): Promise<InferenceSession>;
  };
  Tensor: typeof Tensor;
}

/** Backend modules already imported (an import is done once per process). */
const modules = new Map<Backend, Promise<OrtModule>>();

/** The WASM thread count, fixed by the first web session of the process. */
let webThreads: number | undefined;

/**
 * Load an ONNX Runtime backend. `"auto"` picks `"node"` when its native binding loads, else `"web"`
 * (the runtime's `fallbackReason` then says why).
 * @example
 * ```ts
 * import { loadRuntime } from "./runtime.ts";
 * const rt = await loadRuntime("auto");
 * rt.describe(); // → "onnxruntime-node 1.30.0 (native CPU, 2 threads)"
 * ```
 */
export async function loadRuntime(
  choice: BackendChoice = "auto",
  options: RuntimeOptions = {},
): Promise<Runtime> {
  if (choice !== "auto" && choice !== "node" && choice !== "web") {
    throw new BackendError(`unknown backend "${choice}"`, { fix: 'use backend "auto", "node" or "web"' });
  }
  const threads = options.threads ?? Math.max(1, navigator.hardwareConcurrency || 1);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new BackendError(`threads must be a positive integer, got ${threads}`, {
      fix: "pass threads: 1 or more, or leave it out to use all cores",
    });
  }
  const lowMemory = options.lowMemory ?? false;
  if (choice !== "auto") return new OrtRuntime(choice, await importBackend(choice), threads, lowMemory);
  try {
    return new OrtRuntime("node", await importBackend("node"), threads, lowMemory);
  } catch (error) {
    const reason = `onnxruntime-node did not load (${error instanceof Error ? error.message : error})`;
    console.warn(`clipkit: ${reason}; using onnxruntime-web (WASM), which is slower`);
    return new OrtRuntime("web", await importBackend("web"), threads, lowMemory, reason);
  }
}

function importBackend(backend: Backend): Promise<OrtModule> {
  let module = modules.get(backend);
  if (!module) {
    module = (backend === "node" ? import("onnxruntime-node") : import("onnxruntime-web")).catch((error) => {
      modules.delete(backend);
      throw new BackendError(`onnxruntime-${backend} did not load`, {
        fix: backend === "node"
          ? 'run `deno install` (the native binaries ship in the npm package), or use backend "web"'
          : "run `deno install`",
        cause: error,
      });
    });
    modules.set(backend, module);
  }
  return module;
}

class OrtRuntime implements Runtime {
  readonly backend: Backend;
  readonly threads: number;
  readonly preallocatedOutputs: boolean;
  readonly fallbackReason?: string;
  readonly Tensor: typeof Tensor;
  readonly #ort: OrtModule;
  readonly #lowMemory: boolean;

  constructor(
    backend: Backend,
    ort: OrtModule,
    threads: number,
    lowMemory: boolean,
    fallbackReason?: string,
  ) {
    this.backend = backend;
    this.#lowMemory = lowMemory;
    this.#ort = ort;
    this.Tensor = ort.Tensor;
    // onnxruntime-web ignores caller-allocated outputs on the CPU: it returns them unwritten.
    this.preallocatedOutputs = backend === "node";
    this.fallbackReason = fallbackReason;
    if (backend === "web") {
      webThreads ??= threads;
      (ort as unknown as { env: { wasm: { numThreads: number } } }).env.wasm.numThreads = webThreads;
    }
    this.threads = backend === "web" ? webThreads! : threads;
  }

  async createSession(model: Uint8Array | string, path: string): Promise<InferenceSession> {
    const options: InferenceSession.SessionOptions = {
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      ...(this.backend === "node" ? { intraOpNumThreads: this.threads, interOpNumThreads: 1 } : {}),
      ...(this.backend === "node" && this.#lowMemory
        ? { extra: { session: { disable_prepacking: "1" } } }
        : {}),
    };
    try {
      return await this.#ort.InferenceSession.create(model, options);
    } catch (error) {
      throw new ModelLoadError(`onnxruntime-${this.backend} could not load this ONNX graph`, {
        path,
        fix: "re-download it with `deno task fetch-model <repo-id>` (the file may be truncated or not ONNX)",
        cause: error,
      });
    }
  }

  describe(): string {
    const kind = this.backend === "node" ? "native CPU" : "WASM SIMD";
    const threads = `${this.threads} thread${this.threads === 1 ? "" : "s"}`;
    return `onnxruntime-${this.backend} ${ORT_VERSION} (${kind}, ${threads})`;
  }
}

/**
 * The inputs of a session with their element types and shapes.
 * @example
 * ```ts
 * import { graphInputs, loadRuntime } from "./runtime.ts";
 * const session = await (await loadRuntime("node")).createSession(
 *   "models/tiny-clip/onnx/text_model.onnx",
 *   "models/tiny-clip/onnx/text_model.onnx",
 * );
 * graphInputs(session); // → [{ name: "input_ids", type: "int64", shape: ["batch", "sequence"] }]
 * ```
 */
export function graphInputs(session: InferenceSession): GraphValue[] {
  return describeValues(session.inputNames, session.inputMetadata);
}

/**
 * The outputs of a session with their element types and shapes.
 * @example
 * ```ts
 * import { graphOutputs, loadRuntime } from "./runtime.ts";
 * const session = await (await loadRuntime("node")).createSession(
 *   "models/tiny-clip/onnx/text_model.onnx",
 *   "models/tiny-clip/onnx/text_model.onnx",
 * );
 * graphOutputs(session); // → [{ name: "text_embeds", type: "float32", shape: ["batch", 64] }]
 * ```
 */
export function graphOutputs(session: InferenceSession): GraphValue[] {
  return describeValues(session.outputNames, session.outputMetadata);
}

function describeValues(
  names: readonly string[],
  metadata: readonly InferenceSession.ValueMetadata[] | undefined,
): GraphValue[] {
  return names.map((name, i) => {
    const meta = metadata?.[i];
    if (meta && meta.isTensor) return { name, type: meta.type, shape: [...meta.shape] };
    return { name, type: "unknown", shape: [] };
  });
}
