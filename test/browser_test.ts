/**
 * The interactive figures in a real browser: a small notebook using the three of them is executed with real
 * Jupyter (kernel deno), converted with `jupyter nbconvert --to html`, and opened in headless Chromium (driven
 * by puppeteer-core, no browser download: Debian's /usr/bin/chromium). The test moves the temperature slider,
 * picks an image, ticks templates, slides through checkpoints and hovers heatmap cells, and checks that the
 * page shows the numbers the kit computes for that state — exactly (the page's numbers are the kit's float32 or
 * float64 values, read from data attributes) and as printed — and that the page logged no errors. It then
 * inserts the same outputs into a blank page the way JupyterLab renders a trusted output (innerHTML, scripts
 * re-created), one twice and one inside a shadow root, and checks that every copy binds and moves on its own.
 *
 * The notebook writes the inputs of its figures (embeddings, prompts, matrices) to a JSON file; the expected
 * numbers are computed here from those inputs with the kit's own functions (`temperatureSweep`,
 * `softmaxAtTemperatures`, `classWeights`, `accuracyOf`, `evaluateScores`, `similarity`).
 *
 * Without Chromium or Jupyter the tests are ignored with a notice; in CI (`CI=true`) that is a failure.
 * `CLIPKIT_SCREENSHOTS=docs/figures` also saves the three figures' screenshots there (the README's pictures).
 */
import nodeAssert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { executionEnv, nbconvertArgs, type Notebook } from "../notebooks/build.ts";
import { matmulT, Matrix } from "../src/math/matrix.ts";
import { normalize, similarity } from "../src/math/similarity.ts";
import { softmaxAtTemperatures, temperatureSweep } from "../src/math/loss.ts";
import {
  accuracyOf,
  classWeights,
  evaluateScores,
  type PromptEmbeddings,
} from "../src/zeroshot/classifier.ts";
import { diagonalWins } from "../src/plot/training_replay.ts";
import { pickerSample } from "../src/plot/template_picker.ts";
import { ROOT } from "./_shared.ts";

const inCI = Deno.env.get("CI") === "true";
const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
/** Chromium's flags: headless, no sandbox (root in CI), and nothing that reaches the network. */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function run(cmd: string, args: string[], cwd?: string, env: Record<string, string> = {}) {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      cwd,
      env: { NO_COLOR: "1", ...env },
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const text = new TextDecoder();
    return { ok: out.success, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Why the browser tests cannot run here, or `null` when they can. */
async function missingTools(): Promise<string | null> {
  if (!existsSync(CHROMIUM)) {
    return `Chromium is not installed at ${CHROMIUM} (Debian: apt-get install chromium; or set CHROMIUM_PATH)`;
  }
  const nbconvert = await run("jupyter", ["nbconvert", "--version"]);
  if (!nbconvert?.ok) return "jupyter nbconvert is not installed (Debian: apt-get install jupyter-nbconvert)";
  const specs = await run("jupyter", ["kernelspec", "list", "--json"]);
  const names = specs?.ok ? Object.keys(JSON.parse(specs.stdout).kernelspecs ?? {}) : [];
  if (!names.includes("deno")) return "Deno's Jupyter kernel is not registered (run: deno jupyter --install)";
  return null;
}

const missing = await missingTools();
if (missing) {
  if (inCI) throw new Error(`CI=true but the browser tests cannot run: ${missing}`);
  console.warn(`NOTICE: browser tests are skipped: ${missing}`);
}

/**
 * How JupyterLab shows a trusted `text/html` output: `innerHTML` (scripts do not run), then every script
 * replaced by a fresh copy, which runs. Inserts each of `htmls`, the first once more, and the last into a
 * shadow root.
 */
const INSERT_LIKE_JUPYTERLAB = `function (htmls) {
  function render(host, html) {
    host.innerHTML = html;
    Array.prototype.slice.call(host.querySelectorAll("script")).forEach(function (old) {
      var fresh = document.createElement("script");
      fresh.textContent = old.textContent;
      old.parentNode.replaceChild(fresh, old);
    });
  }
  htmls.concat([htmls[0]]).forEach(function (html) {
    var host = document.createElement("div");
    document.body.appendChild(host);
    render(host, html);
  });
  var shadowHost = document.createElement("div");
  document.body.appendChild(shadowHost);
  render(shadowHost.attachShadow({ mode: "open" }), htmls[htmls.length - 1]);
}`;

const MOD = new URL("../src/mod.ts", import.meta.url).href;
const MODEL = join(ROOT, "models", "tiny-clip");

/** The notebook: the three figures on the shipped model, and their inputs written to inputs.json. */
function notebookCells(): string[] {
  return [
    `import { ClipModel, embedPrompts, exampleSeed, generateExample, Matrix, plots, shapesClassNames, similarity, suiteTemplates, trainingPoints } from "${MOD}";
const model = await ClipModel.load(${JSON.stringify(MODEL)});
const examples = [];
for (let seed = 1; examples.length < 8; seed++) {
  const e = generateExample(seed, { split: "test", medium: "mixed" });
  if (e.colour === "purple") examples.push(e);
}
const images = examples.map((e) => ({ width: e.size, height: e.size, mode: "RGBA" as const, data: e.rgba }));
const captions = examples.map((e) => e.caption);
const imageEmbeds = await model.encodeImages(images, { progress: false });
const textEmbeds = await model.encodeText(captions);
const rows = (m: Matrix) => m.toRows();`,
    `plots.temperatureSlider(imageEmbeds, textEmbeds, { texts: captions, images, learnedTemperature: 1 / model.logitScale })`,
    `const test = Array.from({ length: 400 }, (_, i) => generateExample(exampleSeed(0, "test", i), { split: "test", medium: "mixed" }));
const testImages = test.map((e) => ({ width: e.size, height: e.size, mode: "RGBA" as const, data: e.rgba }));
const testEmbeds = await model.encodeImages(testImages, { progress: false });
const shapeLabels = test.map((e) => e.shapeIndex);
const prompts = await embedPrompts(model, shapesClassNames("shape"), suiteTemplates("shape"), { cache: false });
plots.templatePicker(prompts, testEmbeds, shapeLabels, { thumbnails: testImages })`,
    `// A replay of frames that sharpen towards the trained model's matrix (the shipped run's loss history).
const training = JSON.parse(Deno.readTextFileSync(${JSON.stringify(join(MODEL, "curve.json"))}));
const history = trainingPoints(training).filter((p) => p.split === "train").map(({ step, loss }) => ({ step, loss }));
const S = similarity(textEmbeds, imageEmbeds);
const steps = training.curve.at(-1).step;
const checkpoints = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * steps)).map((step, k) => ({
  step,
  S: Matrix.fromRows(rows(S).map((r, i) => r.map((v, j) => (k / 4) * v + (1 - k / 4) * Math.sin(7 * i + 3 * j + 1) * 0.3))),
}));
Deno.writeTextFileSync("inputs.json", JSON.stringify({
  imageEmbeds: rows(imageEmbeds), textEmbeds: rows(textEmbeds), captions, logitScale: model.logitScale,
  prompts: { classNameLists: prompts.classNameLists, templates: prompts.templates, rows: prompts.rows, embeddings: rows(prompts.embeddings) },
  testEmbeds: rows(testEmbeds), shapeLabels, checkpoints: checkpoints.map((c) => ({ step: c.step, S: rows(c.S) })),
}));
plots.trainingReplay(history, checkpoints, { texts: captions, images })`,
  ];
}

function notebook(): Notebook {
  return {
    cells: notebookCells().map((source, i) => ({
      cell_type: "code",
      id: `browser-${i}`,
      metadata: {},
      source: [source],
      outputs: [],
      execution_count: null,
    })),
    metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** Executes the notebook in `dir` and converts it to HTML; returns the HTML path. */
async function executeAndConvert(dir: string): Promise<string> {
  Deno.writeTextFileSync(join(dir, "figures.ipynb"), JSON.stringify(notebook()));
  const executed = await run(
    "jupyter",
    nbconvertArgs("figures.ipynb", ["--output", "executed"]),
    dir,
    executionEnv(join(dir, "cache")),
  );
  if (!executed?.ok) {
    throw new Error(`executing the figures notebook failed:\n${executed?.stderr.slice(-4000)}`);
  }
  const html = await run("jupyter", ["nbconvert", "--to", "html", "executed.ipynb"], dir);
  if (!html?.ok) throw new Error(`nbconvert --to html failed:\n${html?.stderr.slice(-2000)}`);
  return join(dir, "executed.html");
}

/** A page that records every error: script exceptions and console errors. Requests off this machine fail. */
async function openPage(browser: Browser, url: string) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  const errors: string[] = [];
  const blocked: string[] = [];
  await page.setRequestInterception(true);
  page.on("request", (req) => {
    const u = req.url();
    if (u.startsWith("file:") || u.startsWith("data:")) req.continue();
    else {
      blocked.push(u);
      req.abort();
    }
  });
  page.on("pageerror", (e) => errors.push(`page error: ${e}`));
  const failedLoads: { text: string; url: string }[] = [];
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const at = m.location()?.url ?? "";
    if (/^Failed to load resource/.test(m.text())) failedLoads.push({ text: m.text(), url: at });
    else errors.push(`console: ${m.text()} (${at})`);
  });
  await page.goto(url, { waitUntil: "load" });
  // nbconvert's page template loads RequireJS and MathJax (from a CDN, or from /usr/share/javascript on Debian);
  // offline, or not installed, they fail to load. Those are the template's scripts, not the figures': any
  // other failed load is an error. The figures themselves reference nothing but data: URIs (checked).
  const templateScripts = await page.$$eval(
    "script[src]",
    (els) =>
      els.filter((e) => !e.closest(".clipkit-interactive")).map((e) => (e as unknown as { src: string }).src),
  );
  for (const f of failedLoads) {
    if (!templateScripts.some((src) => src === f.url || f.url.startsWith(src.split("?")[0]))) {
      errors.push(`console: ${f.text} (${f.url})`);
    }
  }
  const external = await page.$$eval(
    ".clipkit-interactive [src], .clipkit-interactive [href]",
    (els) =>
      els.map((e) => e.getAttribute("src") ?? e.getAttribute("href") ?? "").filter((u) =>
        !u.startsWith("data:")
      ),
  );
  nodeAssert.deepEqual(external, [], "the figures reference only data: URIs");
  return { page, errors, blocked };
}

const approxEqual = (a: number, b: number, what: string) =>
  nodeAssert.equal(a, b, `${what}: page ${a}, kit ${b}`);

interface Inputs {
  imageEmbeds: number[][];
  textEmbeds: number[][];
  captions: string[];
  logitScale: number;
  prompts: { classNameLists: string[][]; templates: string[]; rows: number[][][]; embeddings: number[][] };
  testEmbeds: number[][];
  shapeLabels: number[];
  checkpoints: { step: number; S: number[][] }[];
}

/** The figure `index` (0, 1, 2 in notebook order). */
async function figure(page: Page, index: number) {
  const all = await page.$$(".clipkit-interactive");
  nodeAssert.equal(all.length, 3, `the page shows 3 interactive figures, found ${all.length}`);
  return all[index];
}

Deno.test({
  name:
    "browser: the interactive figures show the kit's numbers in Chromium (nbconvert HTML, JupyterLab-style insertion)",
  ignore: missing !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // Inside the repository, so that the kernel finds deno.json (the import map) as the chapters do.
    const dir = Deno.makeTempDirSync({ dir: ROOT, prefix: ".browser-test-" });
    let browser: Browser | undefined;
    try {
      const htmlPath = await executeAndConvert(dir);
      const input: Inputs = JSON.parse(Deno.readTextFileSync(join(dir, "inputs.json")));
      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        pipe: true,
        args: [...CHROMIUM_FLAGS, `--user-data-dir=${join(dir, "profile")}`],
      });
      const { page, errors, blocked } = await openPage(browser, `file://${htmlPath}`);
      const shots = Deno.env.get("CLIPKIT_SCREENSHOTS");

      // 1. Temperature: two steps down with the keyboard, then image 3.
      const temp = await figure(page, 0);
      const slider = (await temp.$(".ck-t"))!;
      const startFrame = Number(await slider.evaluate((e) => (e as unknown as { value: string }).value));
      await slider.focus();
      for (let k = 0; k < 6; k++) await page.keyboard.press("ArrowLeft");
      await (await temp.$(".ck-image"))!.select("2");
      const t = await temp.$eval(".ck-readout", (e) => ({
        frame: Number(e.getAttribute("data-frame")),
        T: Number(e.getAttribute("data-t")),
        loss: Number(e.getAttribute("data-loss")),
        ptrue: Number(e.getAttribute("data-ptrue")),
        text: e.textContent ?? "",
      }));
      nodeAssert.equal(t.frame, startFrame - 6, "six key presses move the slider six frames");
      const img = Matrix.fromRows(input.imageEmbeds), txt = Matrix.fromRows(input.textEmbeds);
      const [kit] = temperatureSweep(img, txt, [t.T]);
      approxEqual(t.loss, kit.loss, `loss at T = ${t.T}`);
      approxEqual(t.ptrue, kit.meanTrueProbability, `mean p(true pair) at T = ${t.T}`);
      nodeAssert.ok(
        t.text.includes(`loss ${kit.loss.toFixed(4)}`),
        `the readout "${t.text}" prints the loss`,
      );
      const bars = await temp.$$eval(
        ".ck-bar",
        (els) => els.map((e) => Number(e.getAttribute("data-value"))),
      );
      const probs = softmaxAtTemperatures(similarity(img, txt).row(2), [t.T])[0].probs;
      bars.forEach((p, j) => approxEqual(p, probs[j], `image 3's bar ${j + 1} at T = ${t.T}`));
      const pcts = await temp.$$eval(".ck-pct", (els) => els.map((e) => e.textContent));
      nodeAssert.deepEqual(
        pcts,
        probs.map((p) => `${(100 * p).toFixed(1)} %`),
        "the bars' printed percentages",
      );
      const learned = (await temp.$$(".ck-jump"))[0];
      await learned.click();
      const T1 = await temp.$eval(".ck-readout", (e) => Number(e.getAttribute("data-t")));
      approxEqual(T1, 1 / input.logitScale, "the learned-T button jumps to 1 / logitScale");
      if (shots) await temp.screenshot({ path: join(shots, "interactive_temperature.png") });

      // 2. Templates: none, then templates 2, 5 and 8.
      const pick = await figure(page, 1);
      await (await pick.$(".ck-none"))!.click();
      for (const k of [1, 4, 7]) await (await pick.$(`.ck-template[value="${k}"]`))!.click();
      const acc = await pick.$eval(".ck-readout", (e) => Number(e.getAttribute("data-accuracy")));
      const prompts: PromptEmbeddings = {
        ...input.prompts,
        embeddings: Matrix.fromRows(input.prompts.embeddings),
      };
      const sample = pickerSample(input.shapeLabels, 8, 256);
      const X = normalize(Matrix.fromRows(sample.map((i) => input.testEmbeds[i])));
      const y = Int32Array.from(sample, (i) => input.shapeLabels[i]);
      const W = classWeights(prompts, [1, 4, 7]);
      approxEqual(acc, accuracyOf(W, X, y), "ensemble accuracy of templates 2, 5, 8");
      const perClass = await pick.$$eval(
        ".ck-bar",
        (els) => els.map((e) => Number(e.getAttribute("data-value"))),
      );
      const names = prompts.classNameLists.map((l) => l[0]);
      const kitPerClass = evaluateScores(matmulT(X, W), y, names).perClass.map((c) => c.top1);
      perClass.forEach((a, c) => approxEqual(a, kitPerClass[c], `accuracy of class ${names[c]}`));
      await (await pick.$('.ck-cell[data-i="2"][data-j="3"]'))!.hover();
      const tip = await pick.$eval(".ck-tip", (e) => ({
        text: e.textContent ?? "",
        shown: (e as unknown as { style: { display: string } }).style.display,
        img: e.querySelector("img") !== null,
      }));
      const scores = matmulT(X, W); // [N, 8]
      let sum = 0, count = 0;
      for (let i = 0; i < X.rows; i++) if (y[i] === 3) sum += scores.get(i, 2), count++;
      nodeAssert.equal(tip.shown, "block", "hovering a cell shows its card");
      nodeAssert.ok(tip.img, "the card shows the column's picture");
      for (const part of [`“${names[2]}”`, `“${names[3]}”`, (sum / count).toFixed(4)]) {
        nodeAssert.ok(tip.text.includes(part), `the hover card "${tip.text}" shows ${part}`);
      }
      if (shots) await pick.screenshot({ path: join(shots, "interactive_templates.png") });

      // 3. Replay: checkpoint 2 (slider moved by mouse-free keyboard input from the start).
      const replay = await figure(page, 2);
      const step = (await replay.$(".ck-step"))!;
      await step.focus();
      await page.keyboard.press("Home");
      await page.keyboard.press("ArrowRight");
      await page.keyboard.press("ArrowRight");
      const r = await replay.$eval(".ck-readout", (e) => ({
        step: Number(e.getAttribute("data-step")),
        wins: Number(e.getAttribute("data-wins")),
      }));
      const cp = input.checkpoints[2];
      nodeAssert.equal(r.step, cp.step, "the slider shows checkpoint 2's step");
      nodeAssert.equal(
        r.wins,
        diagonalWins(cp.S.map((row) => row.map(Math.fround))),
        "pictures preferring their caption",
      );
      const cells = await replay.$$eval(
        ".ck-cell",
        (els) =>
          els.map((
            e,
          ) => [
            Number(e.getAttribute("data-i")),
            Number(e.getAttribute("data-j")),
            Number(e.getAttribute("data-value")),
          ]),
      );
      nodeAssert.equal(cells.length, 64);
      for (const [i, j, v] of cells) {
        approxEqual(v, Math.fround(cp.S[i][j]), `cell (${i}, ${j}) at step ${cp.step}`);
      }
      await (await replay.$('.ck-cell[data-i="1"][data-j="1"]'))!.hover();
      const rtip = await replay.$eval(".ck-tip", (e) => e.textContent ?? "");
      for (const part of [input.captions[1], Math.fround(cp.S[1][1]).toFixed(4), `step ${cp.step}`]) {
        nodeAssert.ok(rtip.includes(part), `the hover card "${rtip}" shows ${part}`);
      }
      await page.keyboard.press("End");
      if (shots) await replay.screenshot({ path: join(shots, "interactive_replay.png") });

      nodeAssert.deepEqual(errors, [], "the page logged errors");
      if (blocked.length) {
        console.log(`(blocked ${blocked.length} requests off the machine: ${blocked.join(", ")})`);
      }

      // 4. Outputs inserted the way JupyterLab renders a trusted text/html output (innerHTML, then each script
      // replaced by a fresh one so that it runs): the three, the first once more, and the replay inside a
      // shadow root. Every copy binds to its own elements and moves on its own.
      const executed: Notebook = JSON.parse(Deno.readTextFileSync(join(dir, "executed.ipynb")));
      const outputs = executed.cells.flatMap((c) =>
        (c.outputs ?? []) as { data?: Record<string, string[]> }[]
      )
        .map((o) => o.data?.["text/html"]?.join("") ?? "").filter((h) => h.includes("clipkit-interactive"));
      nodeAssert.equal(outputs.length, 3, "the notebook holds three interactive outputs");
      Deno.writeTextFileSync(join(dir, "blank.html"), "<!DOCTYPE html><html><body></body></html>");
      const blank = await openPage(browser, `file://${join(dir, "blank.html")}`);
      await blank.page.evaluate(`(${INSERT_LIKE_JUPYTERLAB})(${JSON.stringify(outputs)})`);
      const bound = await blank.page.$$eval(
        ".clipkit-interactive",
        (els) => els.map((e) => e.getAttribute("data-bound")),
      );
      nodeAssert.deepEqual(bound, ["1", "1", "1", "1"], "every copy in the page is bound");
      const copies = await blank.page.$$(".clipkit-interactive .ck-t");
      await copies[1].focus();
      await blank.page.keyboard.press("ArrowRight");
      const frames = await blank.page.$$eval(
        ".ck-readout",
        (els) => els.map((e) => Number(e.getAttribute("data-frame"))),
      );
      nodeAssert.equal(frames[3], frames[0] + 1, "the second copy moved, the first did not");
      const shadowBound = await blank.page.evaluate(
        `document.body.lastElementChild.shadowRoot.querySelector(".clipkit-interactive").getAttribute("data-bound")`,
      );
      nodeAssert.equal(shadowBound, "1", "a copy inside a shadow root is bound");
      const shadowStep = await blank.page.evaluate(
        `document.body.lastElementChild.shadowRoot.querySelector(".ck-readout").getAttribute("data-step")`,
      );
      nodeAssert.equal(Number(shadowStep), input.checkpoints.at(-1)!.step, "and shows its last checkpoint");
      nodeAssert.deepEqual(blank.errors, [], "the inserted outputs logged errors");
    } finally {
      await browser?.close();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
