/**
 * The versions of the npm packages the benchmark compares, read from deno.json's pinned `"imports"`
 * (`"onnxruntime-node": "npm:onnxruntime-node@1.30.0"` → `1.30.0`), so that labels and report prose
 * follow the pins instead of repeating them.
 * @module
 */
import { join } from "node:path";
import { ROOT } from "./shared.ts";

const imports: Record<string, string> = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).imports ??
  {};

/**
 * The pinned version of an npm package in deno.json's `"imports"`; throws when it is not pinned there.
 * @example
 * ```ts
 * packageVersion("onnxruntime-node"); // "1.30.0"
 * ```
 */
export function packageVersion(name: string): string {
  const spec = imports[name];
  const version = spec?.match(/^npm:(?:@[^/]+\/)?[^@]+@(.+)$/)?.[1];
  if (!version) {
    throw new Error(
      `deno.json's "imports" pins no version of ${name} (found ${JSON.stringify(spec)}): ` +
        `add "${name}": "npm:${name}@X.Y.Z" to deno.json`,
    );
  }
  return version;
}

/** Versions of the compared packages, as pinned in deno.json. */
export const VERSIONS = {
  ortNode: packageVersion("onnxruntime-node"),
  ortWeb: packageVersion("onnxruntime-web"),
  transformers: packageVersion("@huggingface/transformers"),
  tfjs: packageVersion("@tensorflow/tfjs-core"),
} as const;
