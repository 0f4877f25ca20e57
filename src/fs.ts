/**
 * File helpers shared by every package: one atomic write, one JSON reader.
 *
 * writeAtomic = temporary file in the same folder → write → rename (readers never see half a file)
 * readJsonFile = read → JSON.parse, a missing file or malformed JSON → a typed error naming the path
 * @module
 */
import { basename, dirname, join } from "node:path";
import { type ClipkitError, type ErrorDetails, MalformedFileError, MissingFileError } from "./errors.ts";

/** Options of {@link writeAtomic}. */
export interface WriteAtomicOptions {
  /** Create the parent folder first (default false). */
  mkdir?: boolean;
}

/**
 * Write bytes or text to `path` atomically: a temporary file in the same folder, then a rename. A crash
 * or a full disk leaves the old file (or none), never a half-written one.
 *
 * @example
 * ```ts
 * import { writeAtomic } from "./fs.ts";
 * const dir = await Deno.makeTempDir();
 * await writeAtomic(`${dir}/figure.svg`, "<svg/>");
 * console.log(await Deno.readTextFile(`${dir}/figure.svg`)); // → "<svg/>"
 * ```
 */
export async function writeAtomic(
  path: string,
  data: Uint8Array | string,
  options: WriteAtomicOptions = {},
): Promise<void> {
  if (options.mkdir) await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** An error class {@link readJsonFile} can throw: any ClipkitError subclass with the usual constructor. */
export type FileErrorClass = new (problem: string, details?: ErrorDetails) => ClipkitError;

/** Options of {@link readJsonFile}: which errors to throw, and what to tell the user. */
export interface ReadJsonOptions {
  /** Thrown when the file does not exist (default {@link MissingFileError}). */
  missing?: FileErrorClass;
  /** Thrown when the file is not valid JSON (default {@link MalformedFileError}). */
  malformed?: FileErrorClass;
  /** The fix for a missing file (default: check the path). */
  fixMissing?: string;
  /** The fix for malformed JSON (default: repair or re-create the file). */
  fixMalformed?: string;
}

/**
 * Read and parse a JSON file. A missing file or malformed JSON throws a typed error naming the path and
 * `what` the file is; so does a folder in its place or a file without read permission.
 *
 * @example
 * ```ts
 * import { readJsonFile, writeAtomic } from "./fs.ts";
 * const dir = await Deno.makeTempDir();
 * await writeAtomic(`${dir}/labels.json`, '{"samples": []}');
 * console.log(await readJsonFile(`${dir}/labels.json`, "labels.json")); // → { samples: [] }
 * await readJsonFile(`${dir}/nope.json`, "labels.json").catch((e) => console.log(e.message));
 * // → "no labels.json: /tmp/…/nope.json. Fix: check the path"
 * ```
 */
export async function readJsonFile(
  path: string | URL,
  what: string,
  options: ReadJsonOptions = {},
): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.IsADirectory || error instanceof Deno.errors.PermissionDenied) {
      const Malformed = options.malformed ?? MalformedFileError;
      const folder = error instanceof Deno.errors.IsADirectory;
      throw new Malformed(
        `${what} cannot be read: ${folder ? "it is a folder, not a file" : "permission denied"}`,
        {
          path: String(path),
          fix: folder ? "replace the folder with the file" : "make the file readable (chmod +r)",
          cause: error,
        },
      );
    }
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    const Missing = options.missing ?? MissingFileError;
    throw new Missing(`no ${what}`, {
      path: String(path),
      fix: options.fixMissing ?? "check the path",
      cause: error,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const Malformed = options.malformed ?? MalformedFileError;
    throw new Malformed(`${what} is not valid JSON (${(error as Error).message})`, {
      path: String(path),
      fix: options.fixMalformed ?? "repair the file, or create it again",
      cause: error,
    });
  }
}
