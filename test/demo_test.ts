/**
 * The README's first command, `deno task demo`, end to end on the shipped model: a zero-shot top-5 table for the
 * sample images (media-world pictures in all five media) over the 80 colour–shape classes, prompted with the
 * media world's templates, and a similarity heatmap written as SVG and PNG.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./_shared.ts";
import { suiteTemplates } from "../src/data/suite.ts";

async function demo(...args: string[]): Promise<{ code: number; out: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/cli/demo.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  return { code, out: text.decode(stdout) + text.decode(stderr) };
}

Deno.test("demo: shipped model, sample images → top-5 table and heatmap files", async () => {
  const out = mkdtempSync(join(tmpdir(), "clipkit-demo-"));
  const run = await demo("--out", out);
  assert.equal(run.code, 0, run.out);
  const samples = JSON.parse(readFileSync(join(ROOT, "models/samples/labels.json"), "utf8")).samples;
  for (const s of samples) assert(run.out.includes(s.file), `table row for ${s.file}\n${run.out}`);
  assert.match(run.out, /top-5 \(probability\)/);
  // the default classes and templates: the 80 colour–shape pairs, the five media's templates for them
  assert(
    run.out.includes(`${samples.length} images × 80 classes × ${suiteTemplates("seen").length} templates`),
    run.out,
  );
  // Every row lists five guesses with percentages.
  const rows = run.out.split("\n").filter((l) => /\.png\s/.test(l));
  assert.equal(rows.length, samples.length);
  for (const row of rows) assert.equal(row.match(/\d+\.\d%/g)?.length, 5, row);
  const top1 = Number(run.out.match(/top-1: (\d+)\/(\d+) correct/)![1]);
  assert(top1 >= samples.length * 0.75, `the shipped model gets ${top1}/${samples.length} samples right`);
  for (const file of ["similarity.svg", "similarity.png"]) {
    assert(existsSync(join(out, file)) && statSync(join(out, file)).size > 1000, `${file} written`);
    assert(run.out.includes(join(out, file)), "the demo says where it wrote the figure");
  }
  assert(readFileSync(join(out, "similarity.svg"), "utf8").includes("<image"), "thumbnails in the heatmap");
});

Deno.test("demo: the user's own images and labels", async () => {
  const out = mkdtempSync(join(tmpdir(), "clipkit-demo-"));
  const run = await demo(
    "--images",
    "models/samples/01_red_circle.png",
    "models/samples/06_blue_square.png",
    "--labels",
    "red circle",
    "blue square",
    "--out",
    out,
  );
  assert.equal(run.code, 0, run.out);
  assert.match(run.out, /01_red_circle\.png\s+red circle \d+\.\d%, blue square \d+\.\d%/);
  assert.match(run.out, /06_blue_square\.png\s+blue square \d+\.\d%, red circle \d+\.\d%/);
});

Deno.test("demo: --templates takes one medium's set, and lists the names when it is neither a set nor a file", async () => {
  const out = mkdtempSync(join(tmpdir(), "clipkit-demo-"));
  const run = await demo(
    "--images",
    "models/samples/05_cyan_hexagon.png",
    "--templates",
    "pixel",
    "--out",
    out,
  );
  assert.equal(run.code, 0, run.out);
  assert(
    run.out.includes(`1 images × 80 classes × ${suiteTemplates("seen", ["pixel"]).length} templates`),
    run.out,
  );
  const bad = await demo("--templates", "oil-paint");
  assert.equal(bad.code, 2, bad.out);
  assert.match(bad.out, /--templates oil-paint is neither a template set nor a file/);
  assert.match(bad.out, /world, icon, outline, sketch, photo, pixel, classic, generic/);
});

Deno.test("demo: a missing model directory says how to get one", async () => {
  const run = await demo("--model", "models/does-not-exist");
  assert.equal(run.code, 2);
  assert.match(run.out, /no model at models\/does-not-exist/);
  assert.match(run.out, /deno task fetch-model/);
});
