/**
 * The assertions the tests share, on top of `node:assert/strict` (Deno's std is not reachable here).
 * Each failure message says what differed.
 */
import nodeAssert from "node:assert/strict";

// deno-lint-ignore no-explicit-any
type ErrorClass = new (...args: any[]) => Error;

/** `cond` holds. */
export function assert(cond: boolean, msg = "assertion failed"): asserts cond {
  nodeAssert.ok(cond, msg);
}

/** Deep strict equality. */
export function assertEquals(actual: unknown, expected: unknown, msg?: string): void {
  if (msg === undefined) nodeAssert.deepStrictEqual(actual, expected);
  else nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Deep strict inequality. */
export function assertNotEquals(actual: unknown, expected: unknown): void {
  nodeAssert.notDeepStrictEqual(actual, expected);
}

/** |a − b| ≤ tol. */
export function assertAlmostEquals(a: number, b: number, tol: number): void {
  nodeAssert.ok(Math.abs(a - b) <= tol, `${a} vs ${b} (tolerance ${tol})`);
}

/** Same length and every |a[k] − b[k]| ≤ tol. */
export function assertAllClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  assertEquals(a.length, b.length);
  for (let k = 0; k < a.length; k++) {
    nodeAssert.ok(Math.abs(a[k] - b[k]) <= tol, `[${k}] ${a[k]} vs ${b[k]} (tol ${tol})`);
  }
}

function isErrorLike(e: unknown, cls: ErrorClass, includes: string): true {
  nodeAssert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
  nodeAssert.ok(
    (e as Error).message.includes(includes),
    `message "${(e as Error).message}" lacks "${includes}"`,
  );
  return true;
}

/** `fn` throws a `cls` whose message contains `includes`. */
export function assertThrows(fn: () => unknown, cls: ErrorClass, includes = ""): void {
  nodeAssert.throws(fn, (e: unknown) => isErrorLike(e, cls, includes));
}

/** `fn` rejects with a `cls` whose message contains `includes`. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  cls: ErrorClass,
  includes = "",
): Promise<void> {
  await nodeAssert.rejects(fn, (e: unknown) => isErrorLike(e, cls, includes));
}
