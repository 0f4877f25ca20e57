/**
 * The synthetic captioned-shapes world: determinism, held-out exclusion, splits, captions that
 * match the pixels, the batch layout and normalisation, and the template set.
 */
import {
  classNames,
  COLOUR_VALUES,
  COLOURS,
  exampleSeed,
  generateBatch,
  generateCaptions,
  generateExample,
  HELD_OUT,
  isHeldOut,
  SHAPES,
} from "../src/data/shapes.ts";
import { ShapesWorldError } from "../src/errors.ts";
import { drawShape, fillBackground, insideShape } from "../src/data/draw.ts";
import { allCaptions, plural } from "../src/data/captions.ts";
import { fillRandom, mixSeeds, mulberry32 } from "../src/data/random.ts";
import { SAMPLE_SCENES, type SampleLabels, sampleMedium, SAMPLES_DIR } from "../src/data/samples.ts";
import { MEDIA } from "../src/data/world.ts";
import { Image } from "imagescript";
import { fromRGBA, preprocess } from "../src/image/mod.ts";
import { ROOT } from "./_shared.ts";
import { join } from "node:path";
import { assert, assertEquals, assertNotEquals, assertThrows } from "./_assert.ts";

Deno.test("mulberry32 and mixSeeds are fixed sequences (same on every machine)", () => {
  const rng = mulberry32(42);
  assertEquals([rng(), rng()], [0.6011037519201636, 0.44829055899754167]);
  assertEquals(mixSeeds(7, 1, 0), 2053491691);
  assertNotEquals(mixSeeds(7, 1, 0), mixSeeds(7, 1, 1));
  const words = new Uint32Array(3);
  fillRandom(words, 42);
  const stream = mulberry32(42);
  assertEquals([...words], [stream(), stream(), stream()].map((x) => x * 2 ** 32));
});

Deno.test("same seed gives the same bytes; another seed or split gives others", () => {
  const a = generateExample(123, { size: 48, split: "test" });
  const b = generateExample(123, { size: 48, split: "test" });
  assertEquals(a, b);
  const c = generateExample(124, { size: 48, split: "test" });
  assertNotEquals(a.rgba, c.rgba);

  const batch1 = generateBatch(5, 64, { split: "train", offset: 64 });
  const batch2 = generateBatch(5, 64, { split: "train", offset: 64 });
  assertEquals(batch1.pixels, batch2.pixels);
  assertEquals(batch1.captions, batch2.captions);
  const validation = generateBatch(5, 64, { split: "validation", offset: 64 });
  assertNotEquals(validation.captions, batch1.captions);
  const test = generateBatch(5, 64, { split: "test", offset: 64 });
  assertNotEquals(test.captions, validation.captions);
});

Deno.test("example k of a batch is generateExample(exampleSeed(seed, split, offset + k))", () => {
  const mean = [0, 0, 0], std = [1, 1, 1];
  const batch = generateBatch(9, 6, { split: "validation", offset: 100, mean, std, size: 24 });
  for (let k = 0; k < 6; k++) {
    const ex = generateExample(exampleSeed(9, "validation", 100 + k), { split: "validation", size: 24 });
    assertEquals(batch.captions[k], ex.caption);
    assertEquals(batch.comboIndex[k], ex.comboIndex);
    const plane = 24 * 24;
    for (let p = 0; p < plane; p += 37) {
      for (let c = 0; c < 3; c++) {
        // byte / 255 exactly, in float32
        assertEquals(batch.pixels[k * 3 * plane + c * plane + p], Math.fround(ex.rgba[4 * p + c] / 255));
      }
    }
  }
});

Deno.test("captions alone (generateCaptions) equal the batch's, at every image size", () => {
  const scenes = generateCaptions(11, 40, { split: "test", offset: 7 });
  for (const size of [16, 32, 80]) {
    const batch = generateBatch(11, 40, { split: "test", offset: 7, size });
    assertEquals(batch.examples.map(({ size: _, ...scene }) => scene), scenes);
  }
});

Deno.test("the train split never shows a held-out colour–shape combination, in pixels or captions", () => {
  const batch = generateBatch(1, 4000, { split: "train" });
  assertEquals(batch.heldOut.reduce((s, x) => s + x, 0), 0);
  for (const [colour, shape] of HELD_OUT) {
    for (const text of batch.captions) {
      assert(!(text.includes(` ${colour} `) && new RegExp(`\\b${shape}`).test(text)), text);
    }
  }
  const seenCombos = new Set(batch.comboIndex);
  assertEquals(seenCombos.size, 70); // every seen combination does occur
  assertThrows(() => generateBatch(1, 4, { split: "train", combos: "all" }), ShapesWorldError, "validation");
  assertThrows(() => generateExample(1, { combos: "unseen" }), ShapesWorldError, "held-out");
});

Deno.test("validation and test hold the unseen combinations at about 1 in 8", () => {
  for (const split of ["validation", "test"] as const) {
    const batch = generateBatch(2, 2000, { split });
    const share = batch.heldOut.reduce((s, x) => s + x, 0) / 2000;
    assert(Math.abs(share - HELD_OUT.length / 80) < 0.03, `${split}: held-out share ${share}`);
  }
  const unseen = generateBatch(2, 200, { split: "test", combos: "unseen" });
  assert(unseen.heldOut.every((x) => x === 1));
  assertEquals(new Set(unseen.comboIndex).size, HELD_OUT.length);
});

Deno.test("captions name the colour and the shape, and the count for several shapes", () => {
  const batch = generateBatch(3, 1000, { split: "test" });
  for (const ex of batch.examples) {
    const words = ex.caption.split(/[ ,]+/);
    assert(words.includes(ex.colour), ex.caption);
    assert(words.includes(ex.count === 1 ? ex.shape : plural(ex.shape)), ex.caption);
    if (ex.count > 1) assert(words.includes(["two", "three"][ex.count - 2]), ex.caption);
    assert(!/\ba [aeiou]/.test(ex.caption), `article: ${ex.caption}`);
  }
  assertEquals(new Set(batch.captions).size > 400, true); // varied phrasing
});

Deno.test("the pixel at a single large centred shape's middle has the named colour", () => {
  let checked = 0;
  for (let i = 0; checked < 60 && i < 5000; i++) {
    const ex = generateExample(exampleSeed(4, "test", i), { split: "test", size: 32 });
    if (ex.count !== 1 || ex.scale !== "large" || ex.position !== "centre") continue;
    const p = (16 * 32 + 16) * 4, want = COLOUR_VALUES[ex.colour];
    for (let c = 0; c < 3; c++) {
      // colour jitter ±18 plus noise ±22
      assert(Math.abs(ex.rgba[p + c] - want[c]) <= 40, `${ex.caption}: channel ${c} ${ex.rgba[p + c]}`);
    }
    checked++;
  }
  assertEquals(checked, 60);
});

Deno.test("the eight shapes differ by many pixels at 32×32", () => {
  const masks = SHAPES.map((shape) => {
    const rgba = new Uint8Array(32 * 32 * 4);
    fillBackground(rgba, [0, 0, 0]);
    drawShape(rgba, 32, shape, 16, 16, 8, [255, 255, 255]);
    return rgba;
  });
  for (let a = 0; a < SHAPES.length; a++) {
    for (let b = a + 1; b < SHAPES.length; b++) {
      let differing = 0;
      for (let i = 0; i < masks[a].length; i += 4) if (Math.abs(masks[a][i] - masks[b][i]) > 127) differing++;
      assert(differing >= 20, `${SHAPES[a]} vs ${SHAPES[b]}: only ${differing} pixels differ`);
    }
  }
  assert(insideShape("circle", 0.6, 0.6) && !insideShape("diamond", 0.6, 0.6));
});

Deno.test("nhwc and nchw batches hold the same values; default normalisation is CLIP's", () => {
  const nchw = generateBatch(8, 3, { size: 16 });
  const nhwc = generateBatch(8, 3, { size: 16, layout: "nhwc" });
  assertEquals(nchw.shape, [3, 3, 16, 16]);
  assertEquals(nhwc.shape, [3, 16, 16, 3]);
  const plane = 256;
  for (let k = 0; k < 3; k++) {
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) {
        assertEquals(nchw.pixels[k * 3 * plane + c * plane + p], nhwc.pixels[k * 3 * plane + p * 3 + c]);
      }
    }
  }
  const ex = generateExample(exampleSeed(8, "train", 0), { size: 16 });
  // (byte / 255 − mean) / std in float32, within 1e-6
  const want = (ex.rgba[0] / 255 - 0.48145466) / 0.26862954;
  assert(Math.abs(nchw.pixels[0] - want) < 1e-6);
});

Deno.test("class names line up with example indices", () => {
  assertEquals(classNames("colour").length, 10);
  assertEquals(classNames("shape").length, 8);
  assertEquals(classNames("combo").length, 80);
  assertEquals(classNames("seen").length + classNames("unseen").length, 80);
  assertEquals(classNames("unseen"), HELD_OUT.map(([c, s]) => `${c} ${s}`));
  for (const ex of generateBatch(6, 50, { split: "test" }).examples) {
    assertEquals(classNames("combo")[ex.comboIndex], `${ex.colour} ${ex.shape}`);
    assertEquals(classNames("colour")[ex.colourIndex], ex.colour);
    assertEquals(classNames("shape")[ex.shapeIndex], ex.shape);
    assertEquals(isHeldOut(ex.colour, ex.shape), ex.heldOut);
    assertEquals(classNames(ex.heldOut ? "unseen" : "seen").includes(`${ex.colour} ${ex.shape}`), true);
  }
  assertThrows(() => classNames("size" as never), ShapesWorldError, "use");
});

Deno.test("bad options get a ShapesWorldError that names the fix", () => {
  assertThrows(() => generateExample(1, { size: 4 }), ShapesWorldError, "≥ 8");
  assertThrows(() => generateBatch(1, 2, { split: "dev" as never }), ShapesWorldError, "validation");
  assertThrows(() => generateBatch(1, 2, { layout: "chw" as never }), ShapesWorldError, "nhwc");
  assertThrows(() => generateBatch(1, 2, { std: [1, 0, 1] }), ShapesWorldError, "std > 0");
  assertThrows(() => generateBatch(1, -1), ShapesWorldError, "≥ 0");
});

Deno.test("the caption language covers every generated caption", () => {
  const language = new Set(allCaptions(COLOURS, SHAPES));
  for (const text of generateBatch(7, 500, { split: "test" }).captions) assert(language.has(text), text);
});

Deno.test("src/zeroshot/templates/shapes.json: 8–16 templates, each with one {}", async () => {
  const set = JSON.parse(await Deno.readTextFile(join(ROOT, "src", "zeroshot", "templates", "shapes.json")));
  assertEquals(set.name, "shapes");
  assert(set.templates.length >= 8 && set.templates.length <= 16);
  for (const t of set.templates) assertEquals(t.split("{}").length, 2, t);
  assertEquals(new Set(set.templates).size, set.templates.length);
});

Deno.test("models/samples: media-world PNGs that regenerate byte for byte, labels that match, unseen ones and every medium twice", async () => {
  const dir = join(ROOT, SAMPLES_DIR);
  const labels: SampleLabels = JSON.parse(await Deno.readTextFile(join(dir, "labels.json")));
  assertEquals(labels.samples.length, SAMPLE_SCENES.length);
  assert(labels.samples.filter((s) => s.heldOut).length >= 3);
  assertEquals(new Set(labels.samples.map((s) => s.shape)).size, SHAPES.length);
  for (const medium of MEDIA) {
    assert(labels.samples.filter((s) => s.medium === medium).length >= 2, `${medium} appears at least twice`);
  }
  for (const [i, sample] of labels.samples.entries()) {
    assertEquals(sample.label, `${sample.colour} ${sample.shape}`);
    assertEquals(sample.heldOut, isHeldOut(sample.colour, sample.shape));
    assertEquals(sample.medium, sampleMedium(i));
    assertEquals([sample.colour, sample.shape, sample.count], [
      SAMPLE_SCENES[i].colour,
      SAMPLE_SCENES[i].shape,
      SAMPLE_SCENES[i].count,
    ]);
    if (i % 4 !== 1) continue; // decode three of them (each PNG decode takes a moment)
    const png = await Image.decode(await Deno.readFile(join(dir, sample.file)));
    const ex = generateExample(sample.seed, { size: labels.size, split: "test", medium: sample.medium });
    assertEquals([ex.caption, ex.background], [sample.caption, sample.background]);
    assertEquals(new Uint8Array(png.bitmap), ex.rgba, sample.file);
  }
});

Deno.test("a batch's pixels are preprocess() of its examples' RGBA images, bit for bit (one normalisation)", () => {
  // Training (generateBatch) and inference (preprocess) share normalizePixels, so the floats are identical:
  // tolerance 0. At the drawn size, preprocess's resize and crop are the identity.
  for (const [size, layout] of [[32, "nchw"], [24, "nhwc"]] as const) {
    const batch = generateBatch(3, 4, { split: "validation", offset: 11, size, layout });
    const plane = size * size;
    for (let k = 0; k < 4; k++) {
      const ex = generateExample(exampleSeed(3, "validation", 11 + k), { split: "validation", size });
      const want = preprocess(fromRGBA(size, size, ex.rgba), { size }); // [3, size, size]
      const got = new Float32Array(3 * plane); // [3, size, size]
      for (let p = 0; p < plane; p++) {
        for (let c = 0; c < 3; c++) {
          got[c * plane + p] = layout === "nchw"
            ? batch.pixels[k * 3 * plane + c * plane + p]
            : batch.pixels[k * 3 * plane + p * 3 + c];
        }
      }
      assertEquals(new Uint32Array(got.buffer), new Uint32Array(want.buffer), `${layout} example ${k}`);
    }
  }
});
