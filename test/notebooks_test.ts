/**
 * The notebooks, executed headless with real Jupyter and Deno's kernel, as a user runs them.
 *
 * Each chapter is executed into a temporary folder with `jupyter nbconvert --execute` (kernel `deno`).
 * A cell that throws fails the test (nbconvert stops and reports the cell). The executed notebook must
 * then hold at least its number of figures (`image/svg+xml` outputs) and print every check line its
 * asserting cells end with ("✔ ..."), so the cells asserting key facts provably ran.
 *
 * Without `jupyter` or the `deno` kernel the execution tests are ignored with a notice; in CI
 * (`CI=true`) that is a failure. The committed notebooks are also checked statically (no Jupyter
 * needed): built from their sources, executed in order with outputs, no errors, no ANSI codes.
 */
import { basename, join } from "node:path";
import { existsSync } from "node:fs";
import {
  buildNotebook,
  type Cell,
  chapterSources,
  executionEnv,
  nbconvertArgs,
  type Notebook,
  NOTEBOOK_DIR,
  SOURCE_DIR,
} from "../notebooks/build.ts";

/** What each chapter must show when executed: its figures and the check lines of its asserting cells. */
const CHAPTERS: { file: string; minFigures: number; checks: string[] }[] = [
  {
    file: "01_tokenizer.ipynb",
    minFigures: 1,
    checks: ["✔ tokenize() gives SOT … EOT, zero padded to 77", "✔ a known prompt has its known ids"],
  },
  {
    file: "02_similarity.ipynb",
    minFigures: 3,
    checks: [
      "✔ cosine similarity equals the dot product of unit rows",
      "✔ the diagonal holds the true pairs",
    ],
  },
  {
    file: "03_loss_temperature.ipynb",
    minFigures: 4,
    checks: ["✔ InfoNCE by hand equals clipLoss", "✔ a lower temperature sharpens the softmax"],
  },
  {
    file: "04_zero_shot.ipynb",
    minFigures: 6,
    checks: [
      "✔ the classifier is built from class names alone",
      "✔ the ensemble and the bare class names are within a point of each other",
      "✔ the template picker shows the classifier's accuracy",
    ],
  },
  {
    file: "05_pretraining.ipynb",
    minFigures: 6,
    checks: ["✔ the quick run lowered the loss", "✔ the classic model classifies unseen combinations"],
  },
  {
    file: "06_real_clip.ipynb",
    minFigures: 2,
    checks: ["✔ the prompt file loads CLIP's templates", "✔ the chapter ran on a CLIP model"],
  },
  {
    file: "07_temperature.ipynb",
    minFigures: 2,
    checks: [
      "✔ the shipped result matches its schema and the learned scale grew",
      "✔ the frozen scales stayed frozen",
    ],
  },
  {
    file: "08_few_shot.ipynb",
    minFigures: 2,
    checks: [
      "✔ the shipped result matches its schema and zero-shot is worth more shots on the media the model knows",
      "✔ the same seed draws the same shots and gives the same probes",
    ],
  },
  {
    file: "09_probes_and_robustness.ipynb",
    minFigures: 4,
    checks: ["✔ the shipped results match their schemas and the prose", "✔ the quick runs ran and validated"],
  },
  {
    file: "10_objectives.ipynb",
    minFigures: 2,
    checks: ["✔ the shipped result matches its schema"],
  },
  {
    file: "11_prompts_vs_compute.ipynb",
    minFigures: 2,
    checks: [
      "✔ the shipped result matches its schema; its models span",
      "✔ every point's compute is the analytic count of its architecture and steps",
    ],
  },
];

const SVG = "image/svg+xml";
const inCI = Deno.env.get("CI") === "true";

/** Runs a command and returns its exit status and text output; `null` when the program is not installed. */
async function run(cmd: string, args: string[], cwd?: string, env: Record<string, string> = {}) {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      cwd,
      env: { NO_COLOR: "1", ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    return { ok: out.success, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Why notebooks cannot run here (no Jupyter, no nbconvert, no Deno kernel), or `null` when they can. */
async function missingJupyter(): Promise<string | null> {
  const nbconvert = await run("jupyter", ["nbconvert", "--version"]);
  if (!nbconvert?.ok) {
    return "jupyter nbconvert is not installed (Debian: apt-get install jupyter-nbconvert python3-nbclient " +
      "jupyter-client python3-ipykernel; or pip install nbconvert nbclient ipykernel)";
  }
  const specs = await run("jupyter", ["kernelspec", "list", "--json"]);
  const names = specs?.ok ? Object.keys(JSON.parse(specs.stdout).kernelspecs ?? {}) : [];
  if (!names.includes("deno")) return "Deno's Jupyter kernel is not registered (run: deno jupyter --install)";
  return null;
}

const missing = await missingJupyter();
if (missing) {
  if (inCI) throw new Error(`CI=true but the notebooks cannot be executed: ${missing}`);
  console.warn(`NOTICE: notebook execution tests are skipped: ${missing}`);
}

/** Executes a notebook into `outDir` with real Jupyter; returns the executed notebook or throws Jupyter's report. */
async function execute(path: string, outDir: string): Promise<Notebook> {
  const cache = join(outDir, "cache");
  const result = await run(
    "jupyter",
    nbconvertArgs(path, ["--output-dir", outDir]),
    NOTEBOOK_DIR,
    executionEnv(cache),
  );
  if (!result?.ok) {
    const err = result?.stderr ?? "jupyter not found";
    const at = err.indexOf("CellExecutionError");
    throw new Error(`${basename(path)}: execution failed\n${at >= 0 ? err.slice(at) : err.slice(-4000)}`);
  }
  return JSON.parse(Deno.readTextFileSync(join(outDir, basename(path))));
}

function codeCells(nb: Notebook): Cell[] {
  return nb.cells.filter((c) => c.cell_type === "code");
}

function outputsOf(nb: Notebook): Record<string, unknown>[] {
  return codeCells(nb).flatMap((c) => (c.outputs ?? []) as Record<string, unknown>[]);
}

function textOf(value: unknown): string {
  return Array.isArray(value) ? value.join("") : String(value ?? "");
}

/** Number of SVG figures among the outputs. */
function figureCount(nb: Notebook): number {
  return outputsOf(nb).filter((o) => SVG in ((o.data ?? {}) as Record<string, unknown>)).length;
}

/** Everything the notebook printed to stdout. */
function printed(nb: Notebook): string {
  return outputsOf(nb).filter((o) => o.output_type === "stream" && o.name === "stdout").map((o) =>
    textOf(o.text)
  )
    .join("");
}

/** The error outputs (ename: evalue), which a passing notebook has none of. */
function errors(nb: Notebook): string[] {
  return outputsOf(nb).filter((o) => o.output_type === "error").map((o) => `${o.ename}: ${o.evalue}`);
}

/** Fails with every problem of an executed notebook at once: errors, too few figures, missing check lines. */
function assertShows(nb: Notebook, chapter: (typeof CHAPTERS)[number]): void {
  const problems: string[] = [];
  for (const e of errors(nb)) problems.push(`a cell raised ${e}`);
  const figures = figureCount(nb);
  if (figures < chapter.minFigures) {
    problems.push(`${figures} SVG figures, expected at least ${chapter.minFigures}`);
  }
  const out = printed(nb);
  for (const check of chapter.checks) {
    if (!out.includes(check)) problems.push(`the check line "${check}" was never printed`);
  }
  if (problems.length) throw new Error(`${chapter.file}:\n  ${problems.join("\n  ")}`);
}

Deno.test("notebooks: every chapter has a source and a committed notebook, and nothing else is there", () => {
  const sources = chapterSources().map((s) => basename(s, ".md") + ".ipynb");
  const committed = [...Deno.readDirSync(NOTEBOOK_DIR)].map((e) => e.name).filter((n) => n.endsWith(".ipynb"))
    .sort();
  const expected = CHAPTERS.map((c) => c.file);
  if (JSON.stringify(sources) !== JSON.stringify(expected)) {
    throw new Error(`sources in ${SOURCE_DIR} give ${sources.join(", ")}; expected ${expected.join(", ")}`);
  }
  if (JSON.stringify(committed) !== JSON.stringify(expected)) {
    throw new Error(`notebooks/ holds ${committed.join(", ")}; expected ${expected.join(", ")}`);
  }
});

for (const chapter of CHAPTERS) {
  const path = join(NOTEBOOK_DIR, chapter.file);

  Deno.test(`notebooks: ${chapter.file} is committed built from its source, executed, with its outputs`, () => {
    if (!existsSync(path)) throw new Error(`${path} is missing: run deno run -A notebooks/build.ts`);
    const nb: Notebook = JSON.parse(Deno.readTextFileSync(path));
    const built = buildNotebook(join(SOURCE_DIR, chapter.file.replace(".ipynb", ".md")));
    const cellsOf = (n: Notebook) => n.cells.map((c) => [c.cell_type, c.id, textOf(c.source)]);
    if (JSON.stringify(cellsOf(nb)) !== JSON.stringify(cellsOf(built))) {
      throw new Error(
        `${chapter.file} differs from its source: run deno run -A notebooks/build.ts ${
          chapter.file.slice(0, 2)
        }`,
      );
    }
    if ((nb.metadata.kernelspec as { name: string })?.name !== "deno") {
      throw new Error(`${chapter.file} must use the deno kernel`);
    }
    const counts = codeCells(nb).map((c) => c.execution_count);
    const inOrder = counts.every((n, i) => n === i + 1);
    if (!inOrder) {
      throw new Error(`${chapter.file}: cells not executed top to bottom once (${counts.join(",")})`);
    }
    // The committed copy must read well on a code host: its outputs are those of a passing run.
    assertShows(nb, chapter);
    const raw = Deno.readTextFileSync(path);
    if (raw.includes("\\u001b[")) {
      throw new Error(`${chapter.file} holds ANSI colour codes: execute with NO_COLOR=1`);
    }
    const machinePath = raw.match(/(?:\/work\/|\/tmp\/|\/root\/|\/home\/)[^"\s]*/);
    if (machinePath) {
      throw new Error(
        `${chapter.file} shows a path of the machine it ran on (${machinePath[0]}): print relative paths`,
      );
    }
    const firstCell = textOf(nb.cells[0].source);
    if (nb.cells[0].cell_type !== "markdown" || !/learn/i.test(firstCell)) {
      throw new Error(`${chapter.file} must open with a Markdown cell saying what the reader will learn`);
    }
    if (!nb.cells.some((c) => c.cell_type === "markdown" && /^#+ Exercises/m.test(textOf(c.source)))) {
      throw new Error(`${chapter.file} must end with an "Exercises" section`);
    }
  });

  Deno.test({
    name: `notebooks: ${chapter.file} executes headless with Jupyter (kernel deno)`,
    ignore: missing !== null,
    async fn() {
      const outDir = Deno.makeTempDirSync({ prefix: "clipkit-nb-" });
      try {
        const start = performance.now();
        const nb = await execute(path, outDir);
        assertShows(nb, chapter);
        const seconds = ((performance.now() - start) / 1000).toFixed(1);
        console.log(`${chapter.file}: executed in ${seconds} s, ${figureCount(nb)} figures`);
      } finally {
        Deno.removeSync(outDir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "notebooks: the harness fails on a cell that throws and on a failed assert",
  ignore: missing !== null,
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "clipkit-nb-" });
    try {
      const cell = (id: string, source: string): Cell => ({
        cell_type: "code",
        id,
        metadata: {},
        source: [source],
        outputs: [],
        execution_count: null,
      });
      const notebook = (cells: Cell[]): Notebook => ({
        cells,
        metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
        nbformat: 4,
        nbformat_minor: 5,
      });
      const path = join(dir, "throws.ipynb");
      Deno.writeTextFileSync(
        path,
        JSON.stringify(notebook([
          cell("a", 'import assert from "node:assert/strict";\nassert.equal(1 + 1, 3, "arithmetic");'),
          cell("b", 'console.log("✔ never reached")'),
        ])),
      );
      const outDir = join(dir, "out");
      let message = "";
      await execute(path, outDir).catch((e) => message = String(e));
      if (!message.includes("throws.ipynb: execution failed") || !message.includes("arithmetic")) {
        throw new Error(`a failing assert was not reported with its message; got: ${message.slice(0, 500)}`);
      }
      // And the checks catch a notebook that ran but did not print its check line or show its figures.
      const quiet = notebook([cell("a", 'console.log("hello")')]);
      let caught = "";
      try {
        assertShows(quiet, { file: "quiet.ipynb", minFigures: 1, checks: ["✔ something"] });
      } catch (e) {
        caught = String(e);
      }
      if (!caught.includes("0 SVG figures") || !caught.includes('"✔ something" was never printed')) {
        throw new Error(`assertShows missed a problem: ${caught}`);
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
