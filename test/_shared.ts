/**
 * Access to `../shared` (golden data, the PyTorch fixture model, CLIP's merges).
 *
 * A user's clone has no `../shared`: tests that need it are then ignored with a visible notice, so
 * `deno task test` passes on a fresh clone. In CI (`CI=true`) a missing `../shared` is an error.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";

/** Absolute path of the repository root. */
export const ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Absolute path of `../shared` (override with `CLIPKIT_SHARED`). */
export const SHARED: string = Deno.env.get("CLIPKIT_SHARED") ?? join(ROOT, "..", "shared");

/** Whether `../shared` is present. */
export const HAS_SHARED: boolean = existsSync(join(SHARED, "DESIGN.md")) ||
  existsSync(join(SHARED, "golden"));

const inCI = Deno.env.get("CI") === "true";
if (!HAS_SHARED) {
  if (inCI) throw new Error(`CI=true but ${SHARED} is missing: CI must run with ../shared beside the clone`);
  console.warn(`NOTICE: ${SHARED} not found: tests that need CLIP's golden data are skipped (ignored).`);
}

/** Path inside `../shared`. */
export function shared(...parts: string[]): string {
  return join(SHARED, ...parts);
}

/** `Deno.test` that is ignored (with a notice) when `../shared` is absent. */
export function sharedTest(name: string, fn: (t: Deno.TestContext) => void | Promise<void>): void {
  Deno.test({ name, ignore: !HAS_SHARED, fn });
}
