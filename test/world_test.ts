/**
 * The media world (src/data/world.ts, media.ts, alt_text.ts, render.ts): determinism per medium, pictures
 * that are non-blank and differ between media, one scene shared by every medium, captions that vary and
 * name the medium sometimes, held-out combinations kept out of training, and the geometry.
 */
import {
  COLOUR_VALUES,
  COLOURS,
  exampleSeed,
  generateBatch,
  generateCaptions,
  generateExample,
  SHAPES,
  WORLD_MEDIA,
} from "../src/data/shapes.ts";
import { MEDIA, mediumOf, WORLD_IMAGE_SIZE, worldCaption, worldScene } from "../src/data/world.ts";
import { BACKGROUNDS, chooseBackground } from "../src/data/media.ts";
import { ALT_TEXT_RATES, altTextWords, captionWords } from "../src/data/alt_text.ts";
import { colourDistance, placeShape, signedDistance } from "../src/data/render.ts";
import { mulberry32 } from "../src/data/random.ts";
import { writeShapesFolder } from "../src/data/shapes_folder.ts";
import { join } from "node:path";
import { ShapesWorldError } from "../src/errors.ts";
import language from "../src/data/alt_text.json" with { type: "json" };
import { assert, assertEquals, assertNotEquals, assertThrows } from "./_assert.ts";

/** Mean absolute difference between two RGBA pictures' RGB bytes. */
function meanDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0, n = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    sum += Math.abs(a[i] - b[i]);
    n++;
  }
  return sum / n;
}

Deno.test("every medium: same seed, split and index give the same bytes; batches are their examples", () => {
  for (const medium of MEDIA) {
    const a = generateExample(exampleSeed(3, "test", 17), { split: "test", medium });
    const b = generateExample(exampleSeed(3, "test", 17), { split: "test", medium });
    assertEquals(a, b);
    assertEquals(a.rgba.length, WORLD_IMAGE_SIZE * WORLD_IMAGE_SIZE * 4);
    const batch1 = generateBatch(3, 12, { split: "validation", offset: 5, medium });
    const batch2 = generateBatch(3, 12, { split: "validation", offset: 5, medium });
    assertEquals(batch1.pixels, batch2.pixels);
    assertEquals(batch1.captions, batch2.captions);
    const mean = [0, 0, 0], std = [1, 1, 1];
    const raw = generateBatch(3, 3, { split: "validation", offset: 5, medium, mean, std, size: 24 });
    for (let k = 0; k < 3; k++) {
      const ex = generateExample(exampleSeed(3, "validation", 5 + k), {
        split: "validation",
        medium,
        size: 24,
      });
      const { rgba: _, ...shown } = ex;
      assertEquals(raw.examples[k], shown);
      assertEquals(raw.captions[k], ex.caption);
      // channel 0 of pixel 10 of example k, as (byte / 255 − 0) / 1
      assertEquals(raw.pixels[k * 3 * 24 * 24 + 10], Math.fround(ex.rgba[40] / 255));
    }
    const other = generateExample(exampleSeed(3, "test", 18), { split: "test", medium });
    assertNotEquals(a.rgba, other.rgba);
  }
});

Deno.test("one scene, five media: the same content everywhere, different pictures", () => {
  for (let i = 0; i < 20; i++) {
    const seed = exampleSeed(9, "test", i);
    const pictures = MEDIA.map((medium) => generateExample(seed, { split: "test", medium }));
    for (const p of pictures) {
      assertEquals([p.colour, p.shape, p.count, p.scale, p.position], [
        pictures[0].colour,
        pictures[0].shape,
        pictures[0].count,
        pictures[0].scale,
        pictures[0].position,
      ]);
      assertEquals(p.placements, pictures[0].placements);
    }
    for (let a = 0; a < MEDIA.length; a++) {
      for (let b = a + 1; b < MEDIA.length; b++) {
        const d = meanDiff(pictures[a].rgba, pictures[b].rgba);
        assert(d > 2, `${MEDIA[a]} vs ${MEDIA[b]} of example ${i} differ by only ${d.toFixed(2)} per byte`);
      }
    }
  }
});

Deno.test("every medium draws non-blank pictures whose shape pixels carry the shape colour", () => {
  for (const medium of MEDIA) {
    let nearColour = 0;
    const n = 60;
    for (let i = 0; i < n; i++) {
      const ex = generateExample(exampleSeed(4, "test", i), { split: "test", medium });
      // non-blank: the RGB bytes are not one flat value
      const values = new Set<number>();
      for (let p = 0; p < ex.rgba.length; p += 4) {
        values.add(ex.rgba[p] * 65536 + ex.rgba[p + 1] * 256 + ex.rgba[p + 2]);
      }
      assert(values.size > 3, `${medium} example ${i} has ${values.size} colours`);
      // the pixel nearest the named colour, among those on the shapes' outlines or inside them
      const base = COLOUR_VALUES[ex.colour];
      let best = Infinity;
      for (const pl of ex.placements!) {
        const shape = placeShape(ex.shape, pl.x * ex.size, pl.y * ex.size, pl.radius * ex.size, pl.angle);
        for (let y = 0; y < ex.size; y++) {
          for (let x = 0; x < ex.size; x++) {
            if (signedDistance(shape.poly, x + 0.5, y + 0.5) > 1.5) continue;
            const i4 = (y * ex.size + x) * 4;
            best = Math.min(best, colourDistance([ex.rgba[i4], ex.rgba[i4 + 1], ex.rgba[i4 + 2]], base));
          }
        }
      }
      if (best < 70) nearColour++;
    }
    // photo light and pixel-art palettes shift colours, but the shape colour is there in almost every picture
    assert(nearColour >= 0.9 * n, `${medium}: only ${nearColour}/${n} pictures show the shape colour`);
  }
});

Deno.test("mixed draws every medium about equally; each example's medium is mediumOf its seed", () => {
  const batch = generateBatch(1, 1000, { medium: "mixed" });
  const counts = Object.fromEntries(MEDIA.map((m) => [m, 0]));
  batch.examples.forEach((ex, k) => {
    counts[ex.medium!]++;
    assertEquals(ex.medium, mediumOf(exampleSeed(1, "train", k), "mixed"));
  });
  for (const m of MEDIA) assert(counts[m] > 150 && counts[m] < 250, `${m}: ${counts[m]} of 1000`);
  assertEquals(batch.shape, [1000, 3, 40, 40]);
});

Deno.test("the train split never shows a held-out combination in any medium", () => {
  for (const medium of WORLD_MEDIA) {
    const scenes = generateCaptions(2, 3000, { split: "train", medium });
    assert(scenes.every((s) => !s.heldOut), medium);
    assertThrows(
      () => generateBatch(2, 4, { split: "train", combos: "unseen", medium }),
      ShapesWorldError,
      "held-out",
    );
  }
  const unseen = generateCaptions(2, 200, { split: "test", combos: "unseen", medium: "sketch" });
  assert(unseen.every((s) => s.heldOut));
  const test = generateCaptions(2, 4000, { split: "test", medium: "mixed" });
  const share = test.filter((s) => s.heldOut).length / test.length;
  assert(share > 0.09 && share < 0.16, `held-out share of test ${share}`);
});

Deno.test("captions: varied, sometimes naming the medium, never a bare class name", () => {
  for (const medium of MEDIA) {
    const captions = generateCaptions(5, 2000, { medium }).map((s) => s.caption);
    const distinct = new Set(captions).size;
    assert(distinct > 0.8 * captions.length, `${medium}: ${distinct} distinct of ${captions.length}`);
    const words = language.media[medium];
    const phrases = [...words.lead, ...words.tag, ...words.hashtag, ...words.adjective, ...words.filler];
    const naming = captions.filter((c) => phrases.some((p) => c.includes(p))).length / captions.length;
    assert(naming > 0.25 && naming < 0.6, `${medium}: ${naming} of captions name the medium`);
    const bareClass = new Set<string>([...COLOURS, ...SHAPES]);
    assert(captions.every((c) => !bareClass.has(c) && c.includes(" ")), `${medium}: a one-word caption`);
  }
  const scenes = generateCaptions(6, 4000, { medium: "mixed" });
  // a bare noun phrase ("red star", "two blue hearts") is rare
  const barePhrase =
    scenes.filter((s) =>
      s.caption === `${s.colour} ${s.shape}` || /^(two|three) [a-z]+ [a-z]+$/.test(s.caption)
    ).length / scenes.length;
  assert(barePhrase > 0 && barePhrase < 0.08, `bare noun phrases: ${barePhrase}`);
  // most captions name the colour (synonyms allowed) and the kind of shape (synonyms allowed)
  const named = scenes.filter((s) => {
    const colourWords = language.colours[s.colour], shapeWords = language.shapes[s.shape].flat();
    return colourWords.some((w) => s.caption.includes(w)) && shapeWords.some((w) => s.caption.includes(w));
  }).length / scenes.length;
  assert(named > 0.75 && named < 0.98, `captions naming colour and shape: ${named}`);
  // typos happen, at about the configured rate (a typo leaves a word outside the language)
  const vocabulary = new Set(altTextWords());
  const typos =
    scenes.filter((s) => captionWords(s.caption).some((w) => !vocabulary.has(w) && !/^x\d$/.test(w))).length /
    scenes.length;
  assert(typos > ALT_TEXT_RATES.typo / 3 && typos < ALT_TEXT_RATES.typo * 2, `typo rate ${typos}`);
});

Deno.test("the ambiguous words are in the language: background colours and medium names with shape words", () => {
  const captions = generateCaptions(8, 4000, { medium: "mixed" });
  const background = captions.filter((s) =>
    /\b(white|black) (background|paper|table)\b|on (white|black)\b/.test(s.caption)
  );
  assert(
    background.some((s) => s.colour !== "white" && s.caption.includes("white")),
    "white names a background",
  );
  assert(
    background.some((s) => s.colour !== "black" && s.caption.includes("black")),
    "black names a background",
  );
  const stitch = captions.filter((s) =>
    /cross stitch|crossstitch|diamond painting|diamondpainting/.test(s.caption)
  );
  assert(stitch.length > 0 && stitch.every((s) => s.medium === "pixel"));
  assert(stitch.some((s) => s.shape !== "cross" && s.caption.includes("cross")));
  assert(stitch.some((s) => s.shape !== "diamond" && s.caption.includes("diamond")));
});

Deno.test("geometry: shapes at least 12 px across at 40 px, inside the picture, several kept apart", () => {
  for (let i = 0; i < 3000; i++) {
    const s = worldScene(exampleSeed(11, "validation", i), "all");
    assertEquals(s.placements.length, s.count);
    for (const p of s.placements) {
      assert(2 * p.radius * WORLD_IMAGE_SIZE >= 12 - 1e-9, `radius ${p.radius}`);
      assert(p.x - p.radius >= 0 && p.x + p.radius <= 1 && p.y - p.radius >= 0 && p.y + p.radius <= 1);
    }
    for (let a = 0; a < s.count; a++) {
      for (let b = a + 1; b < s.count; b++) {
        const d = Math.hypot(s.placements[a].x - s.placements[b].x, s.placements[a].y - s.placements[b].y);
        assert(d >= 2 * s.placements[a].radius, `example ${i}: shapes ${a}, ${b} overlap`);
      }
    }
  }
  // the polygon distance is exact for a square
  const { poly } = placeShape("square", 10, 10, 5, 0);
  assertEquals(signedDistance(poly, 10, 10), -4);
  assertEquals(signedDistance(poly, 17, 10), 3);
});

Deno.test("backgrounds contrast with the shape colour, and captions name the background drawn", () => {
  for (const medium of MEDIA) {
    for (const colour of COLOURS) {
      const rng = mulberry32(COLOURS.indexOf(colour));
      for (let i = 0; i < 20; i++) {
        const b = chooseBackground(medium, colour, rng);
        assert(colourDistance(b.rgb, COLOUR_VALUES[colour]) >= 120, `${medium} ${colour} on ${b.name}`);
      }
    }
  }
  for (let i = 0; i < 500; i++) {
    const c = worldCaption(exampleSeed(12, "test", i), "all", "mixed");
    const drawn = BACKGROUNDS[c.medium].find((b) => b.name === c.background)!;
    for (const other of BACKGROUNDS[c.medium].filter((b) => b !== drawn)) {
      const onlyOther = other.phrases.filter((p) => !drawn.phrases.includes(p));
      assert(
        !onlyOther.some((p) => c.caption.endsWith(p)),
        `"${c.caption}" names ${other.name}, drawn ${drawn.name}`,
      );
    }
  }
});

Deno.test("bad media options get a ShapesWorldError that names the fix", () => {
  assertThrows(() => generateBatch(1, 2, { medium: "oil" as never }), ShapesWorldError, "sketch");
  assertThrows(() => generateExample(1, { medium: "watercolour" as never }), ShapesWorldError, "pixel");
  assertThrows(() => generateCaptions(1, 2, { medium: "x" as never }), ShapesWorldError, "classic");
});

Deno.test("the classic world is unchanged by the media: default medium, 32 px, same captions", () => {
  assertEquals(generateBatch(1, 1).captions, ["a big yellow hexagon"]);
  assertEquals(generateBatch(1, 1).shape, [1, 3, 32, 32]);
  assertEquals(generateExample(7, { medium: "classic" }), generateExample(7));
  assertEquals(generateExample(7).medium, undefined);
});

Deno.test("writeShapesFolder draws any medium (an image folder of sketches to try zero-shot on)", async () => {
  const root = await Deno.makeTempDir();
  try {
    const folder = await writeShapesFolder(root, {
      perClass: 2,
      classes: ["star"],
      medium: "sketch",
      size: 40,
    });
    assertEquals(folder.images.map((im) => im.path), ["star/0.png", "star/1.png"]);
    await writeShapesFolder(join(root, "classic"), {
      perClass: 1,
      classes: ["star"],
      size: 40,
    });
    assertNotEquals(
      await Deno.readFile(join(root, "star/0.png")),
      await Deno.readFile(join(root, "classic", "star/0.png")),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
