/**
 * Interactive figures without a browser: each returns a Jupyter bundle with `text/html` (controls, the inline
 * SVG, a script, its data) and the static `image/svg+xml` fallback; the fallback is well-formed SVG that resvg
 * rasterises; the page references nothing but data: URIs; its script parses; the data shipped in the page
 * are the kit's numbers (decoded from the page and compared exactly); chapter-sized figures stay within
 * 300 kB; bad input is a PlotInputError. test/browser_test.ts drives the same figures in Chromium.
 */
import nodeAssert from "node:assert/strict";
import { Resvg } from "@resvg/resvg-js";
import { Image } from "imagescript";
import { matmulT, Matrix } from "../src/math/matrix.ts";
import { normalize, similarity } from "../src/math/similarity.ts";
import { softmaxAtTemperatures, temperatureSweep } from "../src/math/loss.ts";
import { classWeights, type PromptEmbeddings } from "../src/zeroshot/classifier.ts";
import { InteractiveFigure, pickerSample, pickerState, PlotInputError, plots } from "../src/plot/mod.ts";
import { contentId, float32Base64 } from "../src/plot/interactive.ts";
import { diagonalWins } from "../src/plot/training_replay.ts";

/** A deterministic pseudo-random generator (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const r = rng(seed);
  return Matrix.fromRows(Array.from({ length: rows }, () => Array.from({ length: cols }, () => r() * 2 - 1)));
}

/** Noisy RGBA pictures (the worst case for PNG size, like the shapes world's backgrounds). */
function noisyPictures(n: number, size: number, seed: number) {
  const r = rng(seed);
  return Array.from({ length: n }, () => ({
    width: size,
    height: size,
    mode: "RGBA" as const,
    data: Uint8Array.from({ length: size * size * 4 }, (_, i) => i % 4 === 3 ? 255 : Math.floor(r() * 256)),
  }));
}

/** Pairs that belong together: text i is image i plus noise. */
function pairs(n: number, d: number, seed: number): { img: Matrix; txt: Matrix } {
  const img = randomMatrix(n, d, seed), noise = randomMatrix(n, d, seed + 1);
  const txt = new Matrix(img.data.map((v, k) => v + 0.8 * noise.data[k]), n, d);
  return { img, txt };
}

/** The JSON data the page's script carries (`var D = …;`). */
function pageData(fig: InteractiveFigure): Record<string, unknown> {
  const m = fig.html.match(/\nvar D = (.*);\nfunction bind/);
  nodeAssert.ok(m, "the page script holds its data as `var D = …;`");
  return JSON.parse(m[1]);
}

function f32(b64: string): Float32Array {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

/** Checks every interactive figure must pass; returns the figure's bytes. */
async function checkFigure(fig: InteractiveFigure): Promise<number> {
  const bundle = (fig as unknown as Record<symbol, () => Record<string, string>>)
    [Symbol.for("Jupyter.display")]();
  nodeAssert.deepEqual(Object.keys(bundle).sort(), ["image/svg+xml", "text/html", "text/plain"]);
  nodeAssert.equal(bundle["image/svg+xml"], fig.toSvg());
  nodeAssert.equal(bundle["text/html"], fig.toHtml());
  nodeAssert.match(bundle["text/plain"], /^InteractiveFigure "/);
  // The fallback: well-formed SVG (resvg's parser is strict), rasterised with ink and colour.
  new Resvg(fig.toSvg(), { font: { loadSystemFonts: false } });
  const png = await Image.decode(fig.toPng({ scale: 1 }));
  nodeAssert.deepEqual([png.width, png.height], [fig.width, fig.height]);
  let colour = 0;
  for (const [, , c] of png.iterateWithColors()) {
    const [r, g, b] = Image.colorToRGB(c);
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) colour++;
  }
  nodeAssert.ok(colour > 500, `the fallback PNG has coloured marks (${colour} pixels)`);
  nodeAssert.match(
    fig.toSvg(),
    /class="note"[^>]*>[^<]*in Jupyter/,
    "the fallback says what the page offers",
  );
  // The page: the same drawing (minus the static note), one script, nothing fetched.
  const html = fig.toHtml();
  nodeAssert.ok(html.startsWith(`<div class="clipkit-interactive" data-clipkit="${fig.id}"`));
  nodeAssert.ok(html.includes(fig.toSvg().slice(80, 2000)), "the page shows the fallback's SVG");
  nodeAssert.ok(html.includes("ck-static-note"), "the page marks the static note for removal");
  nodeAssert.equal(html.match(/<script/g)?.length, 1, "one inline script");
  const script = html.slice(html.indexOf("<script>") + 8, html.lastIndexOf("</script>"));
  const markup = html.replace(script, "");
  nodeAssert.doesNotMatch(
    markup,
    /<script[^>]+src=|(src|href)="(?!data:)[^"#]/,
    "nothing but data: URIs is referenced",
  );
  nodeAssert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org\/)/, "no network address in the page");
  nodeAssert.doesNotMatch(script, /fetch\(|XMLHttpRequest|import\(/, "the script loads nothing");
  nodeAssert.doesNotThrow(() => new Function(script), "the page script parses");
  nodeAssert.doesNotMatch(script, /<\/script|<!--/i, "the script cannot end its own element early");
  nodeAssert.ok(fig.toPage().startsWith("<!DOCTYPE html>") && fig.toPage().includes(html));
  const bytes = fig.bytes();
  nodeAssert.equal(bytes.total, bytes.html + bytes.svg);
  nodeAssert.equal(bytes.total, new TextEncoder().encode(html + fig.toSvg()).length);
  return bytes.total;
}

const sizes: Record<string, number> = {};

Deno.test("temperatureSlider: the kit's frames in the page, the learned T among them, ≤ 300 kB for 8 pairs", async () => {
  const { img, txt } = pairs(8, 64, 1);
  const learned = 1 / 36.43;
  const fig = plots.temperatureSlider(img, txt, {
    texts: Array.from({ length: 8 }, (_, i) => `a caption number ${i + 1} of some length`),
    images: noisyPictures(8, 64, 2),
    learnedTemperature: learned,
  });
  sizes.temperatureSlider = await checkFigure(fig);
  const D = pageData(fig) as {
    T: number[];
    loss: number[];
    ptrue: number[];
    probs: string;
    K: number;
    n: number;
  };
  nodeAssert.ok(D.T.includes(learned) && D.T.includes(0.07) && D.T.includes(0.01), "the marked T are frames");
  nodeAssert.ok(D.T.every((t, k) => k === 0 || t > D.T[k - 1]), "frames in increasing T");
  const sweep = temperatureSweep(img, txt, D.T);
  nodeAssert.deepEqual(D.loss, sweep.map((s) => s.loss), "the loss of every frame is temperatureSweep's");
  nodeAssert.deepEqual(D.ptrue, sweep.map((s) => s.meanTrueProbability));
  const probs = f32(D.probs), cos = similarity(img, txt);
  for (const i of [0, 5]) {
    softmaxAtTemperatures(cos.row(i), D.T).forEach((f, k) =>
      nodeAssert.deepEqual(Array.from(probs.subarray((i * D.K + k) * D.n, (i * D.K + k + 1) * D.n)), f.probs)
    );
  }
  nodeAssert.ok(sizes.temperatureSlider <= 300_000, `${sizes.temperatureSlider} bytes`);
  // The static view starts at the learned T.
  nodeAssert.match(fig.toSvg(), new RegExp(`data-t="${learned}"`));
});

Deno.test("templatePicker: prompts and a class-balanced sample in the page; the static view is classWeights'", async () => {
  const C = 8, T = 12, d = 64, N = 4000;
  const r = rng(5);
  const embeddings = normalize(randomMatrix(C * T, d, 7));
  const prompts: PromptEmbeddings = {
    classNameLists: Array.from({ length: C }, (_, c) => [`class ${c}`]),
    templates: Array.from({ length: T }, (_, t) => `template ${t} of a {}.`),
    embeddings,
    rows: Array.from({ length: C }, (_, c) => [Array.from({ length: T }, (_, t) => c * T + t)]),
  };
  const labels = Array.from({ length: N }, () => Math.floor(r() * C));
  // Pictures near their class's first prompt, so the accuracy is well above chance.
  const noise = randomMatrix(N, d, 9);
  const images = new Matrix(
    noise.data.map((v, k) => v * 0.9 + embeddings.get(labels[Math.floor(k / d)] * T, k % d) * 3),
    N,
    d,
  );
  const fig = plots.templatePicker(prompts, images, labels, {
    thumbnails: noisyPictures(N, 32, 3),
    initial: [0, 3],
  });
  sizes.templatePicker = await checkFigure(fig);
  const D = pageData(fig) as { E: string; X: string; y: number[]; N: number };
  const sample = pickerSample(labels, C, 256);
  nodeAssert.equal(D.N, 256);
  nodeAssert.deepEqual(D.y, sample.map((i) => labels[i]), "the page's labels are the sample's");
  nodeAssert.deepEqual(Array.from(f32(D.E)), Array.from(embeddings.data), "the prompt embeddings, exact");
  const X = normalize(
    new Matrix(Float32Array.from(sample.flatMap((i) => Array.from(images.row(i)))), 256, d),
  );
  nodeAssert.deepEqual(Array.from(f32(D.X)), Array.from(X.data), "the sample's unit embeddings, exact");
  const state = pickerState(prompts, X, Int32Array.from(D.y), [0, 3]);
  nodeAssert.ok(state.accuracy > 0.3, `accuracy ${state.accuracy}`);
  nodeAssert.match(
    fig.toSvg(),
    new RegExp(`data-accuracy="${state.accuracy}"`),
    "the static view's accuracy",
  );
  // pickerState's heatmap: the mean cosine of a class's pictures with each class vector.
  const S = matmulT(X, classWeights(prompts, [0, 3]));
  const rows = sample.map((_, k) => k).filter((k) => D.y[k] === 2);
  const mean = rows.reduce((s, k) => s + S.get(k, 5), 0) / rows.length;
  nodeAssert.equal(state.heatmap[5][2], mean);
  nodeAssert.ok(sizes.templatePicker <= 300_000, `${sizes.templatePicker} bytes`);
});

Deno.test("trainingReplay: every checkpoint's matrix in the page, the loss at each, ≤ 300 kB", async () => {
  const history = Array.from(
    { length: 300 },
    (_, s) => ({ step: s + 1, loss: 4.8 * Math.exp(-s / 120) + 0.3 }),
  );
  const checkpoints = [0, 100, 200, 300].map((step, k) => ({ step, S: randomMatrix(8, 8, 20 + k) }));
  const fig = plots.trainingReplay(history, checkpoints, {
    texts: Array.from({ length: 8 }, (_, i) => `caption ${i + 1}`),
    images: noisyPictures(8, 32, 4),
  });
  sizes.trainingReplay = await checkFigure(fig);
  const D = pageData(fig) as { S: string; steps: number[]; loss: number[]; wins: number[] };
  nodeAssert.deepEqual(D.steps, [0, 100, 200, 300]);
  nodeAssert.deepEqual(Array.from(f32(D.S)), checkpoints.flatMap((c) => Array.from(c.S.data)));
  nodeAssert.deepEqual(D.loss, [history[0].loss, history[99].loss, history[199].loss, history[299].loss]);
  nodeAssert.deepEqual(D.wins, checkpoints.map((c) => diagonalWins(c.S.toRows())));
  nodeAssert.ok(sizes.trainingReplay <= 300_000, `${sizes.trainingReplay} bytes`);
  console.log(`bytes per figure (HTML + SVG fallback): ${JSON.stringify(sizes)}`);
});

Deno.test("interactive figures: ids come from the content; bad input is a PlotInputError", () => {
  nodeAssert.equal(contentId("abc"), contentId("abc"));
  nodeAssert.notEqual(contentId("abc"), contentId("abd"));
  nodeAssert.equal(float32Base64([1]), "AACAPw==");
  const { img, txt } = pairs(4, 8, 11);
  const a = plots.temperatureSlider(img, txt), b = plots.temperatureSlider(img, txt);
  nodeAssert.equal(a.toHtml(), b.toHtml(), "the same figure twice is the same output (stable notebooks)");
  nodeAssert.notEqual(a.id, plots.temperatureSlider(img, txt, { row: 1 }).id);
  const throws = (fn: () => unknown, part: string) =>
    nodeAssert.throws(
      fn,
      (e: unknown) => e instanceof PlotInputError && e.message.includes(part) && /Fix:/.test(e.message),
    );
  throws(() => plots.temperatureSlider(img, randomMatrix(3, 8, 1)), "matching pairs");
  throws(() => plots.temperatureSlider(img, txt, { learnedTemperature: -1 }), "learnedTemperature");
  throws(() => plots.temperatureSlider(img, txt, { range: [1, 0.1] }), "range");
  throws(() => plots.temperatureSlider(img, txt, { images: [null] }), "thumbnails");
  throws(() => plots.trainingReplay([], [{ step: 0, S: [[1]] }]), "history");
  throws(() => plots.trainingReplay([{ step: 1, loss: 1 }], []), "checkpoint");
  throws(
    () =>
      plots.trainingReplay([{ step: 1, loss: 1 }], [{ step: 0, S: [[1, 0], [0, 1]] }, { step: 1, S: [[1]] }]),
    "same batch",
  );
  const prompts: PromptEmbeddings = {
    classNameLists: [["a"], ["b"]],
    templates: ["{}"],
    embeddings: normalize(randomMatrix(2, 8, 3)),
    rows: [[[0]], [[1]]],
  };
  throws(() => plots.templatePicker(prompts, randomMatrix(3, 8, 4), [0, 1]), "one label per picture");
  throws(() => plots.templatePicker(prompts, randomMatrix(2, 8, 4), [0, 5]), "class index");
  throws(
    () => plots.templatePicker(prompts, randomMatrix(2, 8, 4), [0, 1], { initial: [] }),
    "tick at least one",
  );
});
