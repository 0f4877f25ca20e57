/**
 * src/fs.ts: the one atomic write and the one JSON reader every package uses.
 */
import { join } from "node:path";
import { readJsonFile, writeAtomic } from "../src/fs.ts";
import { ClipkitError, MalformedFileError, MissingFileError, MissingModelFileError } from "../src/errors.ts";
import { assert, assertEquals, assertRejects } from "./_assert.ts";

/** The error `promise` rejects with (fails when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

Deno.test("writeAtomic writes text and bytes, replaces the old file, leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "a.json");
  await writeAtomic(path, "old");
  await writeAtomic(path, '{"new": 1}');
  assertEquals(await Deno.readTextFile(path), '{"new": 1}');
  await writeAtomic(join(dir, "b.bin"), new Uint8Array([1, 2, 3]));
  assertEquals(await Deno.readFile(join(dir, "b.bin")), new Uint8Array([1, 2, 3]));
  assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), ["a.json", "b.bin"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeAtomic creates the folder only with { mkdir: true }, and cleans up when the write fails", async () => {
  const dir = await Deno.makeTempDir();
  const nested = join(dir, "x", "y", "c.txt");
  await assertRejects(() => writeAtomic(nested, "c"), Deno.errors.NotFound);
  await writeAtomic(nested, "c", { mkdir: true });
  assertEquals(await Deno.readTextFile(nested), "c");
  // renaming onto a folder fails after the temporary file was written: it must be removed again
  await Deno.mkdir(join(dir, "taken"));
  assert((await rejection(writeAtomic(join(dir, "taken"), "d"))) instanceof Error);
  assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), ["taken", "x"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readJsonFile parses; a missing file or malformed JSON is a typed error naming the path", async () => {
  const dir = await Deno.makeTempDir();
  await writeAtomic(join(dir, "ok.json"), '{"samples": [1, 2]}');
  assertEquals(await readJsonFile(join(dir, "ok.json"), "labels"), { samples: [1, 2] });

  const missing = join(dir, "none.json");
  const e1 = await rejection(readJsonFile(missing, "labels file"));
  assert(e1 instanceof MissingFileError && e1 instanceof ClipkitError && e1.path === missing, String(e1));
  assertEquals(e1.message, `no labels file: ${missing}. Fix: check the path`);

  await writeAtomic(join(dir, "bad.json"), "{samples: [1,");
  const e2 = await rejection(readJsonFile(join(dir, "bad.json"), "labels file"));
  assert(e2 instanceof MalformedFileError && e2.path === join(dir, "bad.json"), String(e2));
  assert(e2.message.startsWith("labels file is not valid JSON ("), e2.message);

  // callers pick their own error class and fix
  await assertRejects(
    () =>
      readJsonFile(missing, "config.json", { missing: MissingModelFileError, fixMissing: "fetch a model" }),
    MissingModelFileError,
    "Fix: fetch a model",
  );
  await Deno.remove(dir, { recursive: true });
});
