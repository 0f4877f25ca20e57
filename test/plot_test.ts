/**
 * Figures: every plot is rendered from fixed data and checked structurally (well-formed SVG, the
 * expected number of cells / bars / thumbnails / points, legend and labels present), and rasterised
 * once to PNG (dimensions and non-blank pixels checked). Bad input gives a PlotInputError or a
 * visible, labelled fallback.
 */
import nodeAssert from "node:assert/strict";
import { Resvg } from "@resvg/resvg-js";
import { DOMParser } from "linkedom";
import { Image } from "imagescript";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Matrix } from "../src/math/matrix.ts";
import { Figure, PlotInputError, plots, RasterError } from "../src/plot/mod.ts";
import { encodePng } from "../src/image/mod.ts";
import { pca2 } from "../src/plot/pca.ts";
import { wrap } from "../src/plot/svg.ts";
import { shared, sharedTest } from "./_shared.ts";

// ---------------------------------------------------------------- helpers

const assert = (cond: boolean, msg?: string) => nodeAssert.ok(cond, msg ?? "assertion failed");
const assertEquals = (a: unknown, b: unknown, msg?: string) =>
  nodeAssert.deepStrictEqual(a, b, msg ?? "values differ");
const assertMatch = (s: string, re: RegExp) => nodeAssert.match(s, re);
/** `fn` throws an instance of `cls` whose message contains `includes`. */
function assertThrows(fn: () => unknown, cls: new (...args: never[]) => Error, includes = ""): void {
  nodeAssert.throws(fn, (e: unknown) => {
    assert(e instanceof cls, `expected ${cls.name}, got ${e}`);
    assert((e as Error).message.includes(includes), `message "${(e as Error).message}" lacks "${includes}"`);
    return true;
  });
}

type El = {
  getAttribute(n: string): string | null;
  querySelectorAll(s: string): ArrayLike<El>;
  textContent: string;
};

/** Parse SVG strictly (resvg's XML parser rejects malformed markup) and return a queryable DOM. */
function parse(fig: Figure): El {
  const svg = fig.toSvg();
  new Resvg(svg, { font: { loadSystemFonts: false } }); // throws on malformed XML
  assertMatch(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  return new DOMParser().parseFromString(svg, "image/svg+xml") as unknown as El;
}

/** Elements (rect, path, …) drawn by Plot marks whose aria-label is `mark`. */
function marks(doc: El, mark: string, el = "*"): El[] {
  return Array.from(doc.querySelectorAll(`g[aria-label="${mark}"]`)).flatMap((g) =>
    Array.from(g.querySelectorAll(el))
  );
}

function texts(doc: El): string[] {
  return Array.from(doc.querySelectorAll("text")).map((t) => t.textContent);
}

/** Render at scale 1 and check the PNG's size and that it is not a blank page. */
async function checkPng(fig: Figure): Promise<void> {
  const png = fig.toPng({ scale: 1 });
  const img = await Image.decode(png);
  assertEquals([img.width, img.height], [fig.width, fig.height]);
  let dark = 0, colour = 0;
  for (const [, , c] of img.iterateWithColors()) {
    const [r, g, b] = Image.colorToRGB(c);
    if (r + g + b < 200) dark++;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) colour++;
  }
  assert(dark > 500, `PNG has text/lines (${dark} dark pixels)`);
  assert(colour > 200, `PNG has coloured marks (${colour} coloured pixels)`);
}

/** A w×h RGBA gradient. */
function gradient(w: number, h: number): Uint8Array {
  const d = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) d.set([(i * 7) % 256, (i * 3) % 256, 200, 255], i * 4);
  return d;
}

const PNG_BYTES = encodePng(16, 12, gradient(16, 12));
const S4 = [
  [0.31, 0.12, 0.2, 0.15],
  [0.12, 0.28, 0.11, 0.1],
  [0.2, 0.1, 0.33, 0.05],
  [0.1, 0.14, 0.1, 0.26],
];
const TEXTS4 = [
  "a photo of a dog",
  "a close-up photo of a ginger cat sleeping on a sofa in the sun",
  "a rocket",
  "a bus",
];

// ---------------------------------------------------------------- similarity heatmap

Deno.test("similarityHeatmap: 4×4 with thumbnails has 16 annotated cells, 4 thumbnails, legend, labels", async () => {
  const images = [PNG_BYTES, { width: 8, height: 6, data: gradient(8, 6) }, PNG_BYTES, null];
  const fig = plots.similarityHeatmap(Matrix.fromRows(S4), { texts: TEXTS4, images });
  const doc = parse(fig);
  assertEquals(marks(doc, "cell", "rect").length, 16 + 4 * 2); // 16 cells + 4 pair outlines (2 strokes)
  const t = texts(doc);
  for (const v of ["0.31", "0.28", "0.33", "0.26", "0.05"]) {
    assert(t.includes(v), `cell value ${v} annotated`);
  }
  assertEquals(doc.querySelectorAll("use.thumbnail").length, 3);
  assertEquals(doc.querySelectorAll("defs image").length, 2, "identical thumbnails are embedded once");
  assertEquals(doc.querySelectorAll("g.thumbnail-missing").length, 1);
  assert(t.includes("no image"));
  assertEquals(doc.querySelectorAll(".legend-ramp").length, 1);
  assert(t.includes("cosine similarity"));
  assert(t.some((s) => s.includes("a photo of a dog")));
  assert(
    t.some((s) => s.includes("ginger") && s.includes("sleeping on a sofa")),
    "long captions wrap, not vanish",
  );
  await checkPng(fig);
});

Deno.test("similarityHeatmap: 32×32 stays readable (cells ≥ 34 px, annotations ≥ 11 px, 1024 values)", () => {
  const n = 32;
  const S = Array.from(
    { length: n },
    (_, i) => Array.from({ length: n }, (_, j) => i === j ? 0.3 : ((i * 7 + j * 3) % 20) / 100),
  );
  const fig = plots.similarityHeatmap(S, {
    texts: S.map((_, i) => `caption ${i} that is long enough to need wrapping`),
  });
  const doc = parse(fig);
  const cells = marks(doc, "cell", "rect").slice(0, n * n);
  assertEquals(cells.length, n * n);
  assert(Number(cells[0].getAttribute("width")) >= 33, "cell width");
  const sizes = Array.from(doc.querySelectorAll('g[aria-label="text"]')).map((g) =>
    Number(g.getAttribute("font-size"))
  );
  assert(sizes.every((s) => s >= 11), `annotation font sizes ${sizes}`);
  const annotated = marks(doc, "text", "text").length;
  assertEquals(annotated, n * n);
});

Deno.test("similarityHeatmap: NaN is a labelled missing colour; 2×2 works", () => {
  const fig = plots.similarityHeatmap([[0.2, NaN], [0.1, 0.3]], { texts: ["a", "b"] });
  const doc = parse(fig);
  const t = texts(doc);
  assert(t.includes("n/a"));
  assert(t.includes("missing (NaN)"));
  assertEquals(Array.from(doc.querySelectorAll('g[aria-label="cell"][fill="#bdbdbd"] rect')).length, 1);
});

Deno.test("similarityHeatmap: bad input gives PlotInputError naming the fix", () => {
  assertThrows(
    () => plots.similarityHeatmap(S4, { texts: ["one", "two"] }),
    PlotInputError,
    "one label per row",
  );
  assertThrows(() => plots.similarityHeatmap([], {}), PlotInputError, "empty");
  assertThrows(() => plots.similarityHeatmap(Matrix.zeros(0, 3), {}), PlotInputError, "empty");
  assertThrows(() => plots.similarityHeatmap(S4, { images: [PNG_BYTES] }), PlotInputError, "one thumbnail");
  assertThrows(() => plots.similarityHeatmap([[1, 2], [3]]), PlotInputError, "equally long");
  assertThrows(() => plots.similarityHeatmap(S4, { pairs: [[0, 9]] }), PlotInputError, "outside");
  assertThrows(
    () => plots.similarityHeatmap([[1]], { images: [{ width: 2, height: 2, data: new Uint8Array(5) }] }),
    PlotInputError,
    "RGBA",
  );
});

Deno.test("thumbnails: missing files and unreadable bytes become labelled placeholders", () => {
  const fig = plots.similarityHeatmap([[0.1, 0.2]], {
    texts: ["x"],
    images: ["/no/such/dog.png", new Uint8Array([1, 2, 3, 4])],
  });
  const doc = parse(fig);
  assertEquals(doc.querySelectorAll("g.thumbnail-missing").length, 2);
  const t = texts(doc).join(" ");
  assertMatch(t, /missing: dog\.png/);
  assertMatch(t, /unreadable/);
});

Deno.test("loadThumbnails: decodes files into pixels that figures embed downscaled; unreadable ones pass through", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const big = join(dir, "big.png");
    await Deno.writeFile(big, encodePng(480, 320, gradient(480, 320)));
    const [pixels, missing] = await plots.loadThumbnails([big, join(dir, "gone.png")]);
    assertEquals([(pixels as { width: number }).width, (pixels as { height: number }).height], [480, 320]);
    assertEquals(missing, join(dir, "gone.png"));
    const small = plots.similarityHeatmap([[0.1, 0.2]], { images: [pixels, missing] }).toSvg();
    const whole = plots.similarityHeatmap([[0.1, 0.2]], { images: [big, missing] }).toSvg();
    const embedded = /data:image\/png;base64,([A-Za-z0-9+/=]+)/.exec(small)![1];
    const png = await Image.decode(Uint8Array.from(atob(embedded), (c) => c.charCodeAt(0)));
    assertEquals([png.width, png.height], [160, 107], "downscaled by 3, longest side 160");
    assert(small.length < whole.length, "the thumbnail is smaller than the file");
    assert(small.includes("gone.png"), "the unreadable file is named in its placeholder");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------- temperature

const EMB_IMG = Matrix.fromRows([[1, 0.2, 0, 0.1], [0.1, 1, 0.3, 0], [0, 0.2, 1, 0.2], [0.3, 0, 0.1, 1]]);
const EMB_TXT = Matrix.fromRows([[0.9, 0.3, 0.1, 0], [0.2, 0.8, 0.2, 0.1], [0.1, 0.1, 0.9, 0.4], [
  0.1,
  0.4,
  0,
  0.7,
]]);

Deno.test("temperatureEffects: one row of bars per T, loss and accuracy curves, CLIP's T marked", async () => {
  const fig = plots.temperatureEffects(EMB_IMG, EMB_TXT, {
    texts: ["dog", "cat", "rocket", "bus"],
    temperatures: [1, 0.1, 0.01],
  });
  const doc = parse(fig);
  assertEquals(marks(doc, "bar", "rect").length, 3 * 4);
  assertEquals(marks(doc, "line", "path").length, 3); // loss, mean p(true), accuracy
  const t = texts(doc);
  for (
    const s of [
      "T = 1",
      "T = 0.1",
      "T = 0.01",
      "initial T = 0.07",
      "learned T = 0.01",
      "contrastive loss (nats)",
    ]
  ) {
    assert(t.includes(s), `label ${s}`);
  }
  // The true caption's bar grows as T falls: heights of bar 0 at T = 1, 0.1, 0.01.
  const greens = marks(doc, "bar", "rect").filter((r) => r.getAttribute("fill") === "#009E73");
  assertEquals(greens.length, 3);
  const heights = greens.map((r) => Number(r.getAttribute("height")));
  assert(heights[0] < heights[1] && heights[1] < heights[2], `sharpening: ${heights}`);
  await checkPng(fig);
});

Deno.test("temperatureEffects: unmatched pairs and bad rows are PlotInputErrors", () => {
  assertThrows(
    () => plots.temperatureEffects(EMB_IMG, Matrix.fromRows([[1, 0, 0, 0]])),
    PlotInputError,
    "matching pairs",
  );
  assertThrows(() => plots.temperatureEffects(EMB_IMG, EMB_TXT, { row: 7 }), PlotInputError, "outside");
  assertThrows(
    () => plots.temperatureEffects(EMB_IMG, EMB_TXT, { texts: ["a"] }),
    PlotInputError,
    "one label per row",
  );
});

// ---------------------------------------------------------------- template gains

const PER_TEMPLATE = [
  { template: "{}", accuracy: 0.52 },
  { template: "a photo of a {}.", accuracy: 0.58 },
  { template: "a bad photo of a {}.", accuracy: 0.55 },
  { template: "itap of a {}.", accuracy: 0.49 },
];

Deno.test("templateGains: sorted gain bars, bare and ensemble reference lines, per-class panel", async () => {
  const fig = plots.templateGains({
    perTemplate: PER_TEMPLATE,
    ensemble: 0.61,
    perClass: {
      template: "a photo of a {}.",
      classes: [{ label: "cat", bare: 0.5, accuracy: 0.7 }, { label: "dog", bare: 0.6, accuracy: 0.5 }],
    },
  });
  const doc = parse(fig);
  assertEquals(marks(doc, "bar", "rect").length, 3 + 2);
  const t = texts(doc);
  assert(t.includes("bare name 52.0%"));
  assert(t.includes("ensemble 61.0%"));
  assert(t.includes("58.0%") && t.includes("49.0%"));
  // Sorted: the first y tick is the best template.
  const ticks = marks(doc, "y-axis tick label", "text").map((e) => e.textContent);
  assertEquals(ticks.slice(0, 3), ["a photo of a {}.", "a bad photo of a {}.", "itap of a {}."]);
  await checkPng(fig);
});

Deno.test("templateGains: an analyzePrompts-shaped result passes straight in; classes without images are noted", () => {
  const analysis = {
    bare: 0.5,
    ensemble: 0.6,
    ensembleGain: 0.1,
    perTemplate: [{ template: "a photo of a {}.", accuracy: 0.58, gain: 0.08 }, {
      template: "a {}.",
      accuracy: 0.45,
      gain: -0.05,
    }],
    perClassGains: [
      { label: "cat", index: 0, count: 3, bare: 0.33, ensemble: 0.67, gain: 0.33 },
      { label: "dog", index: 1, count: 0, bare: NaN, ensemble: NaN, gain: NaN },
    ],
    greedy: [],
    selected: [],
  };
  const doc = parse(plots.templateGains(analysis));
  assertEquals(marks(doc, "bar", "rect").length, 2 + 1);
  const t = texts(doc);
  assert(t.includes("per-class gain of the ensemble (percentage points)"));
  assert(t.some((s) => s.startsWith("1 class without images")));
});

Deno.test("templateGains: without the bare accuracy it says how to pass it", () => {
  assertThrows(() => plots.templateGains({ perTemplate: PER_TEMPLATE.slice(1) }), PlotInputError, "bare");
  assertThrows(() => plots.templateGains({ perTemplate: [] }), PlotInputError, "non-empty");
  assertThrows(
    () => plots.templateGains({ perTemplate: [{ template: "{}", accuracy: NaN }] }),
    PlotInputError,
    "finite",
  );
});

// ---------------------------------------------------------------- zero-shot bars

const CLASSES = ["cat", "dog", "rocket", "bus", "horse", "diagram"];
const PREDS = [0, 1, 2].map((i) =>
  CLASSES.map((label, j) => ({ label, score: j === i ? 0.55 : 0.09 })).sort((a, b) => b.score - a.score)
);

Deno.test("zeroShotBars: a thumbnail and top-5 bars per image, true class highlighted", async () => {
  const fig = plots.zeroShotBars(PREDS, {
    images: [PNG_BYTES, "/no/such.png", PNG_BYTES],
    truth: ["cat", "dog", "bus"],
  });
  const doc = parse(fig);
  assertEquals(marks(doc, "bar", "rect").length, 3 * 5);
  assertEquals(doc.querySelectorAll("image.thumbnail").length, 2);
  assertEquals(doc.querySelectorAll("g.thumbnail-missing").length, 1);
  assertEquals(marks(doc, "bar", "rect").filter((r) => r.getAttribute("fill") === "#009E73").length, 3);
  const t = texts(doc);
  assert(t.includes("true: cat") && t.includes("55.0%") && t.includes("true class"));
  await checkPng(fig);
});

Deno.test("zeroShotBars: bad input", () => {
  assertThrows(() => plots.zeroShotBars([]), PlotInputError, "at least one image");
  assertThrows(
    () => plots.zeroShotBars(PREDS, { images: [PNG_BYTES] }),
    PlotInputError,
    "one (or null) per image",
  );
  assertThrows(() => plots.zeroShotBars([[]]), PlotInputError, "empty");
  assertThrows(() => plots.zeroShotBars(PREDS, { truth: ["cat"] }), PlotInputError, "one label per image");
});

// ---------------------------------------------------------------- confusion matrix

Deno.test("confusionMatrix: k×k annotated cells, accuracy in the title, legend", async () => {
  const C = [[8, 2, 0], [1, 9, 0], [0, 3, 7]];
  const fig = plots.confusionMatrix(C, { labels: ["circle", "square", "triangle"] });
  const doc = parse(fig);
  assertEquals(marks(doc, "cell", "rect").length, 9 + 3); // cells + diagonal outlines
  const t = texts(doc);
  assert(t.includes("Confusion matrix (accuracy 80.0%)"));
  assert(t.includes("predicted class") && t.includes("true class"));
  assert(t.includes("share of the true class (%)"));
  assertEquals(marks(doc, "text", "text").length, 9); // counts, zeros included
  await checkPng(fig);
});

Deno.test("confusionMatrix: non-square, empty and mislabelled input; empty class row is 'missing'", () => {
  assertThrows(() => plots.confusionMatrix([[1, 2]]), PlotInputError, "square");
  assertThrows(
    () => plots.confusionMatrix([[1, 2], [3, 4]], { labels: ["a"] }),
    PlotInputError,
    "one label per class",
  );
  const doc = parse(plots.confusionMatrix([[3, 1], [0, 0]]));
  assert(texts(doc).includes("missing (NaN)"));
});

// ---------------------------------------------------------------- training curves

const HISTORY = Array.from({ length: 50 }, (_, s) => ({
  step: s * 10,
  loss: 4 * Math.exp(-s / 15) + 0.3,
  accuracy: Math.min(1, s / 40),
  logitScale: 14.3 + s,
}));

Deno.test("trainingCurves: loss, accuracy and logit scale charts; validation split gets its own line", async () => {
  const val = [0, 1, 2].map((k) => ({ step: k * 200, loss: 3 - k, split: "val" }));
  const fig = plots.trainingCurves([...HISTORY, ...val], { smooth: 5 });
  const doc = parse(fig);
  const t = texts(doc);
  for (
    const s of [
      "contrastive loss (nats)",
      "top-1 accuracy (%)",
      "logit scale 1/T",
      "training step",
      "train",
      "val",
    ]
  ) {
    assert(t.includes(s), `label ${s}`);
  }
  // loss: train raw + smooth, val raw (3 points: not smoothed, dotted); accuracy and logit scale: train raw + smooth.
  assertEquals(marks(doc, "line", "path").length, 3 + 2 + 2);
  assertEquals(marks(doc, "dot", "circle").length + marks(doc, "dot", "path").length, 3);
  await checkPng(fig);
});

Deno.test("trainingCurves: a history without steps or values is refused", () => {
  assertThrows(() => plots.trainingCurves([]), PlotInputError, "non-empty");
  assertThrows(() => plots.trainingCurves([{ loss: 1 } as never]), PlotInputError, "step");
  assertThrows(() => plots.trainingCurves([{ step: 1 }]), PlotInputError, "nothing to draw");
  const only = parse(plots.trainingCurves([{ step: 0, loss: 2 }, { step: 1, loss: 1 }]));
  assert(!texts(only).includes("logit scale 1/T"), "absent metrics are not drawn");
});

// ---------------------------------------------------------------- embedding map

Deno.test("embeddingMap: a dot per embedding, a line per pair, variance in the axis labels", async () => {
  const fig = plots.embeddingMap(EMB_IMG, EMB_TXT, {
    imageLabels: ["dog.jpg", "cat.jpg", "rocket.jpg", "bus.jpg"],
    textLabels: ["dog", "cat", "rocket", "bus"],
  });
  const doc = parse(fig);
  assertEquals(marks(doc, "dot", "path").length + marks(doc, "dot", "circle").length, 8);
  assertEquals(marks(doc, "link", "path").length, 4);
  const t = texts(doc);
  assert(t.some((s) => /^PC1 \(\d+% of variance\)$/.test(s)));
  assert(t.includes("rocket.jpg") && t.includes("image embedding") && t.includes("text embedding"));
  await checkPng(fig);
});

Deno.test("embeddingMap: mismatched widths, zero rows and label counts are refused", () => {
  assertThrows(() => plots.embeddingMap(EMB_IMG, [[1, 2]]), PlotInputError, "same model");
  assertThrows(() => plots.embeddingMap([[0, 0, 0, 0]], EMB_TXT), PlotInputError, "all zeros");
  assertThrows(
    () => plots.embeddingMap(EMB_IMG, EMB_TXT, { textLabels: ["a"] }),
    PlotInputError,
    "one label",
  );
  assertThrows(() => plots.embeddingMap([[NaN, 0, 0, 1]], EMB_TXT), PlotInputError, "NaN");
});

Deno.test("pca2: finds the dominant axis and the variance split (tolerance 1e-9)", () => {
  const { points, explained } = pca2([[2, 0, 0], [-2, 0, 0], [0, 1, 0], [0, -1, 0]]);
  assert(Math.abs(explained[0] - 0.8) < 1e-9 && Math.abs(explained[1] - 0.2) < 1e-9, `${explained}`);
  assert(Math.abs(Math.abs(points[0][0]) - 2) < 1e-9);
});

// ---------------------------------------------------------------- Figure: display and files

Deno.test("Figure: Jupyter bundle, savePng/saveSvg write atomically, bad scale is a RasterError", async () => {
  const fig = plots.confusionMatrix([[1, 0], [0, 1]]);
  const bundle = (fig as unknown as Record<symbol, () => Record<string, string>>)
    [Symbol.for("Jupyter.display")]();
  assertEquals(bundle["image/svg+xml"], fig.toSvg());
  assertMatch(bundle["text/plain"], /^Figure "Confusion matrix/);
  const dir = await Deno.makeTempDir();
  try {
    await fig.savePng(join(dir, "c.png"), { scale: 1.5 });
    await fig.saveSvg(join(dir, "c.svg"));
    assertEquals(readdirSync(dir).sort(), ["c.png", "c.svg"], "no temporary files left behind");
    const png = await Image.decode(await Deno.readFile(join(dir, "c.png")));
    assertEquals([png.width, png.height], [Math.round(fig.width * 1.5), Math.round(fig.height * 1.5)]);
    assertEquals(await Deno.readTextFile(join(dir, "c.svg")), fig.toSvg());
    assertThrows(() => fig.toPng({ scale: 0 }), RasterError, "scale");
    let failed = false;
    await fig.savePng(join(dir, "missing-dir", "x.png")).catch(() => failed = true);
    assert(failed && !existsSync(join(dir, "missing-dir")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wrap: word wrap with an ellipsis when cut", () => {
  assertEquals(wrap("a photo of a ginger cat", 12, 2), ["a photo of a", "ginger cat"]);
  assertEquals(wrap("one two three four five six", 9, 2), ["one two", "three…"]);
});

// ---------------------------------------------------------------- real images and the PyTorch fixture

sharedTest(
  "similarityHeatmap from the PyTorch fixture's logits with the golden images as thumbnails",
  async () => {
    const ref = JSON.parse(await Deno.readTextFile(shared("fixtures", "clip-tiny-torch", "reference.json")));
    const logitsPerText = Matrix.fromRows(ref.logits_per_text); // [8, 4]
    const cos = logitsPerText.toRows().map((r) => r.map((v) => v / ref.logit_scale));
    const images = (ref.image_names as string[]).map((n) => shared("golden", "preprocess", "inputs", n));
    const fig = plots.similarityHeatmap(cos, { texts: ref.captions, images, pairs: [] });
    const doc = parse(fig);
    assertEquals(marks(doc, "cell", "rect").length, 8 * 4);
    assertEquals(doc.querySelectorAll("use.thumbnail").length, 4);
    await checkPng(fig);
  },
);
