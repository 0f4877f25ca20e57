/**
 * Builds the notebooks from their readable sources, then executes them in place.
 *
 * Each chapter is written as Markdown in `notebooks/src/NN_title.md`: every ```ts fence becomes a code
 * cell, the prose between fences becomes a Markdown cell. This script writes `notebooks/NN_title.ipynb`
 * (Deno kernel, deterministic cell ids, no outputs) and, unless `--no-execute`, runs each one with real
 * Jupyter (`jupyter nbconvert --execute --inplace`, kernel `deno`) so the committed notebooks carry their
 * outputs.
 *
 * ```sh
 * deno run -A notebooks/build.ts                 # all chapters, built and executed
 * deno run -A notebooks/build.ts 01 04           # only chapters whose file name starts with 01 or 04
 * deno run -A notebooks/build.ts --no-execute    # only rewrite the .ipynb files (outputs dropped)
 * ```
 * @module
 */
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder holding the notebooks (this file's folder). */
export const NOTEBOOK_DIR: string = dirname(fileURLToPath(import.meta.url));
/** The folder holding the Markdown sources. */
export const SOURCE_DIR: string = join(NOTEBOOK_DIR, "src");
/** Per-cell execution limit in seconds (chapter 5 trains a tiny CLIP live in one cell). */
export const CELL_TIMEOUT_S = 900;

/** Kernel metadata every notebook carries: Deno's kernel as `deno jupyter --install` registers it. */
const KERNEL_METADATA = {
  kernelspec: { name: "deno", display_name: "Deno", language: "typescript" },
  language_info: {
    name: "typescript",
    file_extension: ".ts",
    mimetype: "text/x.typescript",
    codemirror_mode: "typescript",
    pygments_lexer: "typescript",
    nbconvert_exporter: "script",
  },
};

/** One notebook cell as nbformat 4.5 stores it. */
export interface Cell {
  cell_type: "markdown" | "code";
  id: string;
  metadata: Record<string, unknown>;
  source: string[];
  outputs?: unknown[];
  execution_count?: number | null;
}

/** An nbformat 4 notebook. */
export interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** Thrown when a chapter source cannot be turned into a notebook. */
export class NotebookSourceError extends Error {
  override name = "NotebookSourceError";
}

/** Splits text into nbformat's list of lines, each keeping its newline except the last. */
function toLines(text: string): string[] {
  const lines = text.split("\n");
  return lines.map((line, i) => i < lines.length - 1 ? line + "\n" : line).filter((l) => l !== "");
}

/**
 * Parses a chapter source: ```ts fences are code cells, the text between them Markdown cells.
 * A line holding only `---` between prose paragraphs starts a new Markdown cell.
 * @example
 * parseSource("# Title\n\n```ts\n1 + 1\n```\n", "01").map((c) => c.cell_type) // ["markdown", "code"]
 */
export function parseSource(text: string, stem: string): Cell[] {
  const cells: Cell[] = [];
  let prose: string[] = [];
  let code: string[] | null = null;
  const flushProse = () => {
    const body = prose.join("\n").trim();
    if (body) cells.push({ cell_type: "markdown", id: "", metadata: {}, source: toLines(body) });
    prose = [];
  };
  for (const [n, line] of text.split("\n").entries()) {
    if (code === null && /^```ts\s*$/.test(line)) {
      flushProse();
      code = [];
    } else if (code !== null && /^```\s*$/.test(line)) {
      const body = code.join("\n").trim();
      if (!body) throw new NotebookSourceError(`${stem}: empty code fence ending on line ${n + 1}; delete it`);
      cells.push({ cell_type: "code", id: "", metadata: {}, source: toLines(body), outputs: [], execution_count: null });
      code = null;
    } else if (code !== null) {
      code.push(line);
    } else if (line.trim() === "---") {
      flushProse();
    } else {
      prose.push(line);
    }
  }
  if (code !== null) throw new NotebookSourceError(`${stem}: a \`\`\`ts fence is never closed; add a closing \`\`\``);
  flushProse();
  cells.forEach((cell, i) => cell.id = `${stem.slice(0, 2)}-${String(i).padStart(3, "0")}`);
  return cells;
}

/** The notebook (without outputs) for one chapter source file. */
export function buildNotebook(sourcePath: string): Notebook {
  const stem = basename(sourcePath, ".md");
  return {
    cells: parseSource(Deno.readTextFileSync(sourcePath), stem),
    metadata: KERNEL_METADATA,
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** Chapter sources, sorted by name, optionally only those whose names start with one of `prefixes`. */
export function chapterSources(prefixes: string[] = []): string[] {
  return [...Deno.readDirSync(SOURCE_DIR)]
    .filter((e) => e.isFile && /^\d\d_.+\.md$/.test(e.name))
    .map((e) => e.name)
    .filter((name) => prefixes.length === 0 || prefixes.some((p) => name.startsWith(p)))
    .sort()
    .map((name) => join(SOURCE_DIR, name));
}

/** Writes a file atomically (temp file in the same folder, then rename). */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(tmp, text);
  Deno.renameSync(tmp, path);
}

/** Serialises like Jupyter does (1-space indent, trailing newline), so re-saving in Jupyter is a no-op diff. */
export function serialize(nb: Notebook): string {
  return JSON.stringify(nb, null, 1) + "\n";
}

/**
 * Jupyter `nbconvert` arguments that execute a notebook with the Deno kernel, deterministically.
 * The executing preprocessor is `notebooks/deno_execute.py`'s subclass of nbconvert's `ExecutePreprocessor`
 * (it keeps console output that Deno's kernel publishes after the cell's `idle`; needs `PYTHONPATH` from
 * {@link executionEnv}), so `--execute` is not passed: it would run the notebook a second time.
 */
export function nbconvertArgs(notebook: string, extra: string[]): string[] {
  return [
    "nbconvert",
    "--to",
    "notebook",
    '--Exporter.preprocessors=["deno_execute.DenoExecutePreprocessor"]',
    "--ExecutePreprocessor.kernel_name=deno",
    `--ExecutePreprocessor.timeout=${CELL_TIMEOUT_S}`,
    "--ExecutePreprocessor.record_timing=False",
    ...extra,
    notebook,
  ];
}

/**
 * Environment of a headless execution: no ANSI colours in printed values, an empty text-embedding cache
 * (`CLIPKIT_CACHE`) so every run does the same work and shows the same outputs, and `PYTHONPATH` so that
 * nbconvert finds `deno_execute.py`.
 */
export function executionEnv(cacheDir: string): Record<string, string> {
  const path = Deno.env.get("PYTHONPATH");
  return { NO_COLOR: "1", CLIPKIT_CACHE: cacheDir, PYTHONPATH: path ? `${NOTEBOOK_DIR}:${path}` : NOTEBOOK_DIR };
}

/** Executes a notebook in place with real Jupyter; throws with Jupyter's report when a cell fails. */
export async function executeInPlace(path: string): Promise<number> {
  const start = performance.now();
  const cache = Deno.makeTempDirSync({ prefix: "clipkit-nb-cache-" });
  const out = await new Deno.Command("jupyter", {
    args: nbconvertArgs(path, ["--inplace"]),
    cwd: NOTEBOOK_DIR,
    env: executionEnv(cache),
    stdout: "piped",
    stderr: "piped",
  }).output().finally(() => Deno.removeSync(cache, { recursive: true }));
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr);
    throw new Error(`executing ${basename(path)} failed:\n${err.slice(err.indexOf("CellExecutionError") - 200)}`);
  }
  // nbconvert writes its own formatting; normalise so the file matches `serialize` byte for byte.
  const nb = JSON.parse(Deno.readTextFileSync(path)) as Notebook;
  writeAtomic(path, serialize(nb));
  return (performance.now() - start) / 1000;
}

if (import.meta.main) {
  const execute = !Deno.args.includes("--no-execute");
  const prefixes = Deno.args.filter((a) => !a.startsWith("--"));
  for (const source of chapterSources(prefixes)) {
    const target = join(NOTEBOOK_DIR, basename(source, ".md") + ".ipynb");
    writeAtomic(target, serialize(buildNotebook(source)));
    if (!execute) {
      console.log(`wrote ${basename(target)}`);
      continue;
    }
    const seconds = await executeInPlace(target);
    console.log(`wrote and executed ${basename(target)} in ${seconds.toFixed(1)} s`);
  }
}
