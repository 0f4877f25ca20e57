/**
 * Where the benchmarks find CLIP's golden data: `../shared` beside the repository (CLIP's BPE merges and
 * prompts, the golden preprocessing images), or the folder named by `CLIPKIT_SHARED`.
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

/** Absolute path of the repository root. */
export const ROOT: string = join(import.meta.dirname!, "..");

/** Absolute path of the shared data folder (override with `CLIPKIT_SHARED`). */
export const SHARED: string = Deno.env.get("CLIPKIT_SHARED") ?? join(ROOT, "..", "shared");

/**
 * A path inside the shared data folder.
 * @example
 * ```ts
 * shared("clip", "prompts.json"); // "/work/shared/clip/prompts.json"
 * ```
 */
export function shared(...parts: string[]): string {
  return join(SHARED, ...parts);
}

/**
 * Whether the shared data folder is there (the benchmarks that read golden data need it).
 * @example
 * ```ts
 * hasShared(); // true
 * ```
 */
export function hasShared(): boolean {
  return existsSync(join(SHARED, "golden")) || existsSync(join(SHARED, "clip"));
}
