/**
 * One error family: every error class lives in src/errors.ts and extends `ClipkitError`, and real throw sites
 * across the kit (tokenizer, matrices, image decoding, templates, figures) throw a `ClipkitError` whose message
 * reads `problem… Fix: …`. A source scan keeps it that way: no exported error class outside src/errors.ts (a
 * module may keep a private marker class that it catches itself), and no bare `Error` / `RangeError` /
 * `TypeError` made in src/.
 */
import { join, relative } from "node:path";
import * as errors from "../src/errors.ts";
import { ClipkitError, ContextLengthError, ImageError } from "../src/errors.ts";
import { ClipTokenizer } from "../src/text/tokenizer.ts";
import { Matrix } from "../src/math/matrix.ts";
import { similarity } from "../src/math/similarity.ts";
import { decodeImage } from "../src/image/mod.ts";
import { assertTemplates } from "../src/zeroshot/templates.ts";
import { plots } from "../src/plot/mod.ts";
import { ROOT } from "./_shared.ts";
import { assert, assertEquals } from "./_assert.ts";

/** Every class exported from src/errors.ts, by its export name. */
const CLASSES = Object.entries(errors).filter(([, v]) => typeof v === "function") as [
  string,
  new (...args: never[]) => Error,
][];

/**
 * An instance of each class. Most take `(problem, details)`; those with fields of their own take
 * `(problem, fields, details)` (e.g. CheckpointWeightsError's tensor lists), so the details go in both places.
 * ContextLengthError and ImageError have constructors of their own.
 */
function sample(name: string, cls: new (...args: never[]) => Error): Error {
  if (cls === ContextLengthError) return new ContextLengthError(0, 80, 77);
  if (cls === ImageError) return new ImageError("corrupt", "the PNG data is damaged", { fix: "re-save it" });
  const details = { fix: "do this" };
  return new (cls as unknown as new (p: string, a: object, b: object) => Error)(
    `a ${name} problem`,
    details,
    details,
  );
}

/** The ClipkitError `fn` throws (or rejects with); fails when it throws something else or nothing. */
async function caught(fn: () => unknown): Promise<ClipkitError> {
  try {
    await fn();
  } catch (e) {
    assert(e instanceof ClipkitError, `expected a ClipkitError, got ${e}`);
    return e;
  }
  throw new Error("expected a ClipkitError, but nothing was thrown");
}

Deno.test("errors: every class exported from src/errors.ts is ClipkitError or a subclass, named as exported", () => {
  assert(CLASSES.length >= 30, `only ${CLASSES.length} error classes exported`);
  for (const [name, cls] of CLASSES) {
    assert(
      cls === ClipkitError || cls.prototype instanceof ClipkitError,
      `${name} does not extend ClipkitError`,
    );
    const e = sample(name, cls);
    assert(e instanceof ClipkitError && e instanceof Error, `new ${name}(…) is not a ClipkitError`);
    assertEquals(e.name, name, `${name}'s name`);
    assert(e.message.includes(". Fix: "), `${name}: message "${e.message}" has no ". Fix: "`);
  }
});

Deno.test("errors: the message is `problem: path. Fix: fix`, built once by ClipkitError", () => {
  const e = new errors.VocabularyFileError("no vocabulary file", {
    path: "x/vocab.json",
    fix: "pass a model folder",
  });
  assertEquals(e.message, "no vocabulary file: x/vocab.json. Fix: pass a model folder");
  assertEquals([e.path, e.fix], ["x/vocab.json", "pass a model folder"]);
  assert(e instanceof errors.TokenizerError, "a VocabularyFileError is a TokenizerError");
  const long = new ContextLengthError(3, 90, 77);
  assertEquals([long.index, long.tokenCount, long.contextLength], [3, 90, 77]);
  assert(long.message.startsWith("text 3 has 90 tokens"), long.message);
  assert(long.fix!.includes("truncate: true"), long.message);
});

Deno.test("errors: real throw sites give a ClipkitError with a fix", async () => {
  const tok = await ClipTokenizer.load(join(ROOT, "models", "tiny-clip"));
  const tooLong = await caught(() => tok.tokenize("a red circle ".repeat(60)));
  assert(tooLong instanceof ContextLengthError, `${tooLong.name}: ${tooLong.message}`);

  const widths = await caught(() => similarity(Matrix.zeros(2, 3), Matrix.zeros(2, 4)));
  assert(widths instanceof errors.MatrixShapeError, `${widths.name}: ${widths.message}`);

  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8]);
  const badPng = await caught(() => decodeImage(png, { name: "bad.png" }));
  assert(badPng instanceof ImageError, `${badPng.name}: ${badPng.message}`);

  const template = await caught(() => assertTemplates(["a photo without a slot"]));
  assert(template instanceof errors.TemplateError, `${template.name}: ${template.message}`);

  const empty = await caught(() => plots.similarityHeatmap([]));
  assert(empty instanceof errors.PlotInputError, `${empty.name}: ${empty.message}`);

  for (const e of [tooLong, widths, badPng, template, empty]) {
    assert(e.message.includes("Fix:") && !!e.fix, `${e.name}: "${e.message}" has no fix`);
  }
});

/** Every .ts file under src/, as [path relative to the repository, text]. */
function sources(dir = join(ROOT, "src")): [string, string][] {
  const out: [string, string][] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...sources(path));
    else if (entry.name.endsWith(".ts")) out.push([relative(ROOT, path), Deno.readTextFileSync(path)]);
  }
  return out;
}

Deno.test("errors: no exported error class outside src/errors.ts, no bare Error, RangeError or TypeError in src/", () => {
  const problems: string[] = [];
  for (const [path, text] of sources()) {
    text.split("\n").forEach((line, i) => {
      if (path !== join("src", "errors.ts") && /export class \w+ extends \w*Error\b/.test(line)) {
        problems.push(`${path}:${i + 1} defines an error class (move it to src/errors.ts)`);
      }
      const bare = line.match(/\b(?:new|throw) ((?:Range|Type|Syntax)?Error)\(/);
      if (bare) problems.push(`${path}:${i + 1} makes a bare ${bare[1]} (use a ClipkitError subclass)`);
    });
  }
  assertEquals(problems, []);
});
