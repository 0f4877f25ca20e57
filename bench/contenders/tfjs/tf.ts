/**
 * TensorFlow.js for training: `@tensorflow/tfjs-core` on the WASM backend (XNNPACK, SIMD).
 *
 * Deno runs npm packages as Node would, so the backend reads its `.wasm` binaries from the file
 * system: {@link initTf} points `setWasmPaths` at the package's own `dist/` folder.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
// The tfjs-core node bundle registers no gradients and no chained ops; the union package does.
import "@tensorflow/tfjs";
import { getThreadsCount, setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import "@tensorflow/tfjs-backend-cpu";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { TfBackendError } from "../../../src/errors.ts";

export { tf };

/** Backends that {@link initTf} can select. */
export type TfBackend = "wasm" | "cpu";

/** What {@link initTf} set up. */
export interface TfInfo {
  backend: TfBackend;
  simd: boolean;
  threads: number;
}

let ready: TfInfo | null = null;

/** `x` with its last two axes swapped, materialised (`[..., m, n]` → `[..., n, m]`). */
export function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
  return tf.transpose(x, perm);
}

/**
 * `matMul` with its transpose flags done as explicit transposes: the WASM backend multiplies
 * untransposed operands on its fast XNNPACK path and is up to 30× slower with a flag set.
 *
 * @example
 * ```ts
 * import { initTf, matmulExplicit, tf } from "./tf.ts";
 * await initTf();
 * const a = tf.ones([2, 3]), b = tf.ones([4, 3]);
 * matmulExplicit(a, b, false, true).shape; // → [2, 4] (the same result as tf.matMul(a, b, false, true))
 * ```
 */
export function matmulExplicit(
  a: tf.Tensor,
  b: tf.Tensor,
  transposeA = false,
  transposeB = false,
): tf.Tensor {
  return tf.matMul(transposeA ? swapLast(a) : a, transposeB ? swapLast(b) : b);
}

/**
 * Replace TensorFlow.js's BatchMatMul gradient by the same formulas computed with
 * {@link matmulExplicit}: the backward pass of every product otherwise sets transpose flags.
 */
function registerFastMatMulGradient(): void {
  tf.unregisterGradient("BatchMatMul");
  tf.registerGradient({
    kernelName: "BatchMatMul",
    inputsToSave: ["a", "b"],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: tf.NamedAttrMap) => {
      const g = dy as tf.Tensor, [a, b] = saved;
      const ta = Boolean(attrs?.transposeA), tb = Boolean(attrs?.transposeB);
      if (!ta && !tb) {
        return {
          a: () => matmulExplicit(g, b, false, true),
          b: () => matmulExplicit(a, g, true, false),
        };
      }
      if (!ta && tb) return { a: () => matmulExplicit(g, b), b: () => matmulExplicit(g, a, true, false) };
      if (ta && !tb) return { a: () => matmulExplicit(b, g, false, true), b: () => matmulExplicit(a, g) };
      return { a: () => matmulExplicit(b, g, true, true), b: () => matmulExplicit(g, a, true, true) };
    },
  });
}

/** Folder (with trailing slash) that holds `tfjs-backend-wasm*.wasm`. */
export function wasmDir(): string {
  const main = import.meta.resolve("@tensorflow/tfjs-backend-wasm");
  return dirname(fileURLToPath(main)) + "/";
}

/**
 * Select and initialise the backend once (later calls return the first result).
 * `threads > 1` asks for the threaded SIMD build; TensorFlow.js disables it under Node/Deno, and
 * the request then falls back to one thread (reported in the result).
 *
 * @example
 * ```ts
 * import { initTf } from "./tf.ts";
 * const info = await initTf();
 * // → { backend: "wasm", simd: true, threads: 1 }
 * ```
 */
export async function initTf(options: { backend?: TfBackend; threads?: number } = {}): Promise<TfInfo> {
  if (ready) return ready;
  const backend = options.backend ?? "wasm";
  if (backend === "wasm") {
    setWasmPaths(wasmDir());
    if (options.threads && options.threads > 1) setThreadsCount(options.threads);
  }
  const ok = await tf.setBackend(backend);
  if (!ok) {
    throw new TfBackendError(
      `TensorFlow.js backend "${backend}" failed to start`,
      {
        fix: `check that node_modules holds @tensorflow/tfjs-backend-${backend} (run \`deno install\`), ` +
          'or pass { backend: "cpu" }',
      },
    );
  }
  await tf.ready();
  registerFastMatMulGradient();
  const simd = backend === "wasm" ? Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) : false;
  ready = { backend, simd, threads: backend === "wasm" ? getThreadsCount() : 1 };
  return ready;
}
