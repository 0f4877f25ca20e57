/**
 * Caption files: images paired with captions, one row each, as clip-retrieval and img2dataset read and
 * write them.
 *
 * ```
 * image_path,caption                     {"url": "photos/1.jpg", "caption": "a red car"}
 * photos/1.jpg,a red car                 {"url": "photos/2.jpg", "caption": "two dogs"}
 * "photos/2.jpg","two dogs, asleep"
 * ```
 *
 * read the file (CSV, TSV or JSONL) → find the image column (`image_path`, `filepath`, `image`, `url`, …)
 * and the caption column (`caption`, `text`, …), or the ones named → paths joined to the file's folder
 * → `CaptionDataset` (paths and captions now, pixels only when iterated, see `ImageDataset`).
 * @module
 */
import { basename, dirname, extname, isAbsolute, join } from "node:path";
import { DatasetError } from "../errors.ts";
import {
  type DatasetItem,
  IMAGE_EXTENSIONS,
  ImageDataset,
  isHidden,
  isImageFile,
  type OnImageError,
  type SkippedFile,
} from "./dataset.ts";

/** Column names taken as the image path, in order of preference (compared case-insensitively). */
export const IMAGE_COLUMNS: readonly string[] = [
  "image_path",
  "filepath",
  "image",
  "url",
  "path",
  "file_name",
  "file",
];
/** Column names taken as the caption, in order of preference (compared case-insensitively). */
export const CAPTION_COLUMNS: readonly string[] = ["caption", "text", "title", "sentence"];
/** The file extensions {@link loadCaptions} reads. */
export const CAPTION_FILE_EXTENSIONS: readonly string[] = [".csv", ".tsv", ".jsonl", ".ndjson"];

/** One image of a caption file. */
export interface CaptionItem extends DatasetItem {
  /** The caption of the image. */
  caption: string;
  /** Line of the file the row came from (1 = the first line). */
  line: number;
}

/** Options of {@link loadCaptions}. */
export interface CaptionFileOptions {
  /** The column holding image paths (default: the first of {@link IMAGE_COLUMNS} present). */
  imageColumn?: string;
  /** The column holding captions (default: the first of {@link CAPTION_COLUMNS} present). */
  captionColumn?: string;
  /** Unreadable images: throw their error while iterating (default), or skip them and list them in `failed`. */
  onError?: OnImageError;
}

/**
 * Images and their captions from a caption file, decoded lazily.
 * @example
 * ```ts
 * import { loadCaptions } from "./caption_file.ts";
 * import { writeShapesFolder } from "./shapes_folder.ts";
 * const { root } = await writeShapesFolder(await Deno.makeTempDir(), { perClass: 2, classes: ["circle"] });
 * const data = await loadCaptions(`${root}/captions.csv`);
 * [data.items.length, data.captionColumn]; // → [2, "caption"]
 * ```
 */
export class CaptionDataset extends ImageDataset<CaptionItem> {
  /** The caption file. */
  readonly file: string;
  /** The columns used. */
  readonly imageColumn: string;
  /** The column holding captions. */
  readonly captionColumn: string;

  /** Made by {@link loadCaptions}, which reads and checks the file. */
  constructor(
    file: string,
    columns: { image: string; caption: string },
    items: CaptionItem[],
    skipped: SkippedFile[],
    onError: OnImageError,
  ) {
    super(items, skipped, onError);
    this.file = file;
    this.imageColumn = columns.image;
    this.captionColumn = columns.caption;
  }

  /** Every caption, in order. */
  get captions(): string[] {
    return this.items.map((item) => item.caption);
  }
}

/** A table: column names and rows of strings, with the line each row starts on. */
interface Table {
  columns: string[];
  rows: { line: number; values: Record<string, string> }[];
}

/**
 * Parse CSV (RFC 4180: quoted fields may hold the delimiter, quotes doubled, line breaks) into rows of fields.
 * @example
 * ```ts
 * import { parseDelimited } from "./caption_file.ts";
 * parseDelimited('a,b\n"x, y","say ""hi"""\n', ",");
 * // → [{ line: 1, fields: ["a", "b"] }, { line: 2, fields: ["x, y", 'say "hi"'] }]
 * ```
 */
export function parseDelimited(
  text: string,
  delimiter: string,
  name?: string,
): { line: number; fields: string[] }[] {
  const rows: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1, rowLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark
  const endRow = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === "")) rows.push({ line: rowLine, fields });
    fields = [];
    field = "";
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === "\n") line++;
        field += c;
      }
    } else if (c === '"' && field === "") {
      quoted = true;
    } else if (c === delimiter) {
      fields.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      field += c;
    }
  }
  if (quoted) {
    throw new DatasetError(`a quoted field opened on line ${rowLine} is never closed`, {
      path: name,
      fix: 'close the quote; a quote inside a quoted field is written twice ("")',
    });
  }
  if (field !== "" || fields.length) endRow();
  return rows;
}

function readDelimited(text: string, delimiter: string, file: string): Table {
  const parsed = parseDelimited(text, delimiter, file);
  if (parsed.length === 0) {
    throw new DatasetError("the caption file is empty", {
      path: file,
      fix: "write a header row (e.g. image_path,caption) and one row per image",
    });
  }
  const columns = parsed[0].fields.map((c) => c.trim());
  const rows = parsed.slice(1).map(({ line, fields }) => {
    if (fields.length !== columns.length) {
      throw new DatasetError(
        `line ${line} has ${fields.length} fields but the header has ${columns.length}`,
        {
          path: file,
          fix: 'quote fields that hold the delimiter ("a, b"), and give every row one field per column',
        },
      );
    }
    return { line, values: Object.fromEntries(columns.map((c, k) => [c, fields[k]])) };
  });
  return { columns, rows };
}

function readJsonLines(text: string, file: string): Table {
  const columns: string[] = [];
  const rows: Table["rows"] = [];
  text.replace(/^\ufeff/, "").split(/\r?\n/).forEach((raw, k) => {
    if (raw.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new DatasetError(`line ${k + 1} is not valid JSON (${(error as Error).message})`, {
        path: file,
        fix: 'write one JSON object per line, e.g. {"image_path": "a.jpg", "caption": "a cat"}',
        cause: error,
      });
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) {
      throw new DatasetError(`line ${k + 1} is not a JSON object`, {
        path: file,
        fix: 'write one JSON object per line, e.g. {"image_path": "a.jpg", "caption": "a cat"}',
      });
    }
    const values: Record<string, string> = {};
    for (const [key, v] of Object.entries(value)) {
      if (!columns.includes(key)) columns.push(key);
      values[key] = v === null || v === undefined ? "" : typeof v === "string" ? v : String(v);
    }
    rows.push({ line: k + 1, values });
  });
  if (rows.length === 0) {
    throw new DatasetError("the caption file is empty", {
      path: file,
      fix: 'write one JSON object per line, e.g. {"image_path": "a.jpg", "caption": "a cat"}',
    });
  }
  return { columns, rows };
}

/** The column to use: the one named (exactly), else the first known name present (any case). */
function pickColumn(
  columns: string[],
  named: string | undefined,
  known: readonly string[],
  what: string,
  file: string,
) {
  const flag = what === "image" ? "imageColumn" : "captionColumn";
  if (named !== undefined) {
    if (columns.includes(named)) return named;
    throw new DatasetError(`the caption file has no column "${named}" (columns: ${columns.join(", ")})`, {
      path: file,
      fix: `name one of its columns as ${flag}`,
    });
  }
  for (const name of known) {
    const found = columns.find((c) => c.toLowerCase() === name);
    if (found !== undefined) return found;
  }
  throw new DatasetError(
    `the caption file has no ${what} column: none of ${known.join(", ")} (its columns: ${
      columns.join(", ")
    })`,
    { path: file, fix: `rename the column, or name it with ${flag} (--${what}-column on the command line)` },
  );
}

/**
 * Read a caption file: CSV, TSV or JSONL with an image-path column and a caption column, as clip-retrieval
 * and img2dataset write them. Columns are found by name (see {@link IMAGE_COLUMNS}, {@link CAPTION_COLUMNS})
 * or named in the options; relative paths are relative to the caption file. Rows whose path has another
 * extension, or names a hidden file, are skipped and listed in `skipped`. Nothing is decoded here.
 * @example
 * ```ts
 * import { loadCaptions } from "./caption_file.ts";
 * import { writeShapesFolder } from "./shapes_folder.ts";
 * const { root } = await writeShapesFolder(await Deno.makeTempDir(), { perClass: 2, classes: ["circle"] });
 * const data = await loadCaptions(`${root}/captions.csv`);
 * data.items[0].path.slice(root.length); // → "/circle/0.png"
 * data.items[0].caption; // → "there is a large white circle at the top"
 * data.imageColumn; // → "image_path"
 * ```
 */
export async function loadCaptions(file: string, options: CaptionFileOptions = {}): Promise<CaptionDataset> {
  const ext = extname(file).toLowerCase();
  if (!CAPTION_FILE_EXTENSIONS.includes(ext)) {
    throw new DatasetError(`a caption file ends in ${CAPTION_FILE_EXTENSIONS.join(", ")}, not "${ext}"`, {
      path: file,
      fix: "write the captions as CSV (image_path,caption) or JSONL, or pass an image folder instead",
    });
  }
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new DatasetError(
      error instanceof Deno.errors.NotFound
        ? "no such caption file"
        : `cannot read the caption file (${(error as Error).message})`,
      { path: file, fix: "check the path and its permissions", cause: error },
    );
  }
  const table = ext === ".csv"
    ? readDelimited(text, ",", file)
    : ext === ".tsv"
    ? readDelimited(text, "\t", file)
    : readJsonLines(text, file);
  const image = pickColumn(table.columns, options.imageColumn, IMAGE_COLUMNS, "image", file);
  const caption = pickColumn(table.columns, options.captionColumn, CAPTION_COLUMNS, "caption", file);
  if (table.rows.length === 0) {
    throw new DatasetError("the caption file has a header but no rows", {
      path: file,
      fix: "add one row per image",
    });
  }
  const base = dirname(file);
  const items: CaptionItem[] = [];
  const skipped: SkippedFile[] = [];
  for (const { line, values } of table.rows) {
    const raw = (values[image] ?? "").trim();
    if (raw === "") {
      throw new DatasetError(`line ${line} has no image path in column "${image}"`, {
        path: file,
        fix: "give every row an image path, or delete the row",
      });
    }
    const url = /^https?:\/\//i.test(raw);
    const path = url
      ? raw
      : /^file:\/\//i.test(raw)
      ? new URL(raw).pathname
      : isAbsolute(raw)
      ? raw
      : join(base, raw);
    if (!url && isHidden(basename(path))) {
      skipped.push({ path, reason: "hidden" });
    } else if (!url && !isImageFile(path)) {
      skipped.push({ path, reason: `not an image (${IMAGE_EXTENSIONS.join(", ")})` });
    } else {
      items.push({ path, caption: values[caption] ?? "", line });
    }
  }
  if (items.length === 0) {
    throw new DatasetError(`none of the ${table.rows.length} rows names an image file`, {
      path: file,
      fix: `list ${IMAGE_EXTENSIONS.join("/")} files in column "${image}"`,
    });
  }
  return new CaptionDataset(file, { image, caption }, items, skipped, options.onError ?? "throw");
}
