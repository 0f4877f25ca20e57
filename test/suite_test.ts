/**
 * The shapes-world zero-shot suite (src/data/suite.ts): its structure (30 datasets, class names, template
 * sets with the engineered template, validation and test pictures that regenerate), evaluateSuite on the
 * shipped models/tiny-clip with small splits (sane numbers: chance < accuracy ≤ 1 where the model should
 * know the task, greedy chosen on validation only), the table text, the figure and the command line.
 */
import { join } from "node:path";
import {
  evaluateSuite,
  PHOTO_TEMPLATE,
  SUITE_MEDIA,
  SUITE_TASKS,
  suiteDatasets,
  suiteImages,
  suiteTableText,
} from "../src/data/suite.ts";
import { classNames } from "../src/data/classes.ts";
import { ClipModel } from "../src/model/clip_model.ts";
import { suiteBars } from "../src/plot/suite_bars.ts";
import { main as suiteCommand } from "../src/cli/suite.ts";
import { ShapesWorldError, UsageError } from "../src/errors.ts";
import { ROOT } from "./_shared.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./_assert.ts";

Deno.test("suite structure: 6 media × 5 tasks, class names, template sets with their engineered template", () => {
  const datasets = suiteDatasets();
  assertEquals(datasets.length, SUITE_MEDIA.length * SUITE_TASKS.length);
  assertEquals(new Set(datasets.map((d) => d.name)).size, datasets.length);
  const classCount = { colour: 10, shape: 8, seen: 80, unseen: 80, count: 3 };
  for (const d of datasets) {
    assertEquals(d.name, `${d.medium}-${d.task}`);
    assertEquals(d.classes.length, classCount[d.task]);
    if (d.task === "colour" || d.task === "shape") assertEquals(d.classes, classNames(d.task));
    if (d.task === "seen" || d.task === "unseen") assertEquals(d.classes, classNames("combo"));
    assert(d.templates.every((t) => t.split("{}").length === 2), `${d.name}: a template without one {}`);
    assert(d.templates.includes(d.engineered), d.name);
    // count classes are noun phrases ("two shapes"): their set says "a photo of {}.", and the suite still
    // reports CLIP's "a photo of a {}." for them as the common baseline
    assert(d.task === "count" || d.templates.includes(PHOTO_TEMPLATE), d.name);
    assertEquals(d.size, d.medium === "classic" ? 32 : 40);
    assert(d.templates.length >= 15, `${d.name}: ${d.templates.length} templates`);
  }
  // the engineered template names the dataset's medium
  const medium = {
    icon: "icon",
    outline: "outline",
    sketch: "sketch",
    photo: "photo",
    pixel: "pixel",
    classic: "",
  };
  for (const d of datasets) assert(d.engineered.includes(medium[d.medium]), `${d.name}: ${d.engineered}`);
});

Deno.test("suite pictures: validation and test differ, regenerate byte for byte, unseen ones are held out", () => {
  const a = suiteImages("sketch", "validation", 5);
  const b = suiteImages("sketch", "validation", 5);
  assertEquals(a, b);
  const t = suiteImages("sketch", "test", 5);
  assert(a.images.some((im, i) => im.data.some((v, k) => v !== t.images[i].data[k])));
  const u = suiteImages("pixel", "test", 30, { combos: "unseen" });
  assert(u.heldOut.every((h) => h === 1));
  assertEquals(suiteImages("classic", "test", 1).images[0].width, 32);
});

Deno.test("evaluateSuite on models/tiny-clip (small splits): one sane row per dataset", async () => {
  const model = await ClipModel.load(join(ROOT, "models", "tiny-clip"));
  try {
    const table = await evaluateSuite(model, {
      examples: 60,
      unseenExamples: 20,
      greedySize: 3,
      progress: false,
    });
    assertEquals(table.rows.map((r) => r.dataset), suiteDatasets().map((d) => d.name));
    for (const r of table.rows) {
      for (const key of ["bare", "photo", "engineered", "ensemble", "greedy", "greedyValidation"] as const) {
        assert(r[key] >= 0 && r[key] <= 1, `${r.dataset} ${key} = ${r[key]}`);
      }
      assertEquals(r.test, r.task === "unseen" ? 20 : r.task === "seen" ? r.test : 60);
      assertEquals(r.selected.length, 3);
      assertEquals(r.perClass.length, r.classes);
    }
    const row = (name: string) => table.rows.find((r) => r.dataset === name)!;
    // the world the shipped model was trained on, all five media: far above chance on every task (chance: colour
    // 10%, shape 12.5%, seen and unseen 1.25%, count 33%); held-out combinations too
    const least: Record<string, number> = { colour: 0.9, shape: 0.4, seen: 0.4, unseen: 0.25, count: 0.8 };
    for (const r of table.rows.filter((r) => r.medium !== "classic")) {
      assert(r.ensemble > least[r.task], `${r.dataset} ${r.ensemble} (at least ${least[r.task]})`);
    }
    // the classic world it never saw: colour still transfers
    assert(row("classic-colour").ensemble > 0.9, `classic-colour ${row("classic-colour").ensemble}`);
    const mean = table.rows.reduce((a, r) => a + r.greedy, 0) / table.rows.length;
    assert(Math.abs(mean - table.mean.greedy) < 1e-12);
    const text = suiteTableText(table).split("\n");
    assertEquals(text.length, table.rows.length + 4);
    assert(text[2].startsWith("icon-colour"));
    assert(String(suiteBars(table)).startsWith('Figure "Zero-shot suite'));
  } finally {
    await model.dispose();
  }
});

Deno.test("evaluateSuite and the command refuse unknown media, tasks and sizes", async () => {
  const fake = {
    id: "fake",
    logitScale: 1,
    imageSize: 8,
    preprocessOptions: { size: 8, mean: [0, 0, 0], std: [1, 1, 1] },
    encodeText: () => Promise.reject(new Error("not reached")),
    encodePixels: () => Promise.reject(new Error("not reached")),
  };
  await assertRejects(
    () => evaluateSuite(fake as never, { media: ["oil" as never] }),
    ShapesWorldError,
    "classic",
  );
  await assertRejects(
    () => evaluateSuite(fake as never, { tasks: ["size" as never] }),
    ShapesWorldError,
    "count",
  );
  await assertRejects(() => evaluateSuite(fake as never, { examples: 0 }), ShapesWorldError, "≥ 1");
  await assertRejects(() => suiteCommand(["--media", "oil"]), UsageError, "sketch");
  assertThrows(() => suiteBars({ rows: [] }), Error, "rows");
});
