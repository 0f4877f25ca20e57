/**
 * The three commands for your own pictures, end to end on the shipped model (models/tiny-clip) and a small
 * folder of media-world pictures at its 40 px, prompted with the media world's shape templates in a JSON file:
 * `zeroshot` (and `zeroShotReport`, the same through the API), `embed`
 * (clip-retrieval's layout, read back with NumPy and DuckDB; continued after a kill) and `search`.
 * Every bad argument ends in one line on stderr and a non-zero exit, never a stack trace.
 */
import { join } from "node:path";
import { assert, assertAllClose, assertEquals } from "./_assert.ts";
import { ROOT } from "./_shared.ts";
import { writeShapesFolder } from "../src/data/shapes_folder.ts";
import { loadImageFolder } from "../src/data/image_folder.ts";
import { completeShards, openEmbeddingFolder, readShardEmbeddings } from "../src/data/embedding_shards.ts";
import { decodeNpy } from "../src/data/npy.ts";
import { ClipModel } from "../src/model/clip_model.ts";
import { normalize } from "../src/math/similarity.ts";
import { matmulT } from "../src/math/matrix.ts";
import { suiteTemplates } from "../src/data/suite.ts";
import { WORLD_IMAGE_SIZE } from "../src/data/world.ts";
import { zeroShotReport } from "../src/zeroshot/report.ts";

const MODEL = join(ROOT, "models", "tiny-clip");
const CLASSES = ["circle", "square", "star", "triangle"];
/** The five media's templates for the shape task: what the shipped model is prompted with on these pictures. */
const SHAPE_TEMPLATES = suiteTemplates("shape");

async function run(
  command: "zeroshot" | "embed" | "search",
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "src", "cli", `${command}.ts`), ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/**
 * 4 classes × 3 media-world pictures (each in a medium of its own, 40 px), an image folder with captions.csv and
 * templates.json (the shape templates); a private cache folder.
 */
async function shapes(): Promise<{ root: string; cache: string; templates: string }> {
  const root = await Deno.makeTempDir({ prefix: "clipkit-shapes-" });
  await writeShapesFolder(root, { classes: CLASSES, perClass: 3, size: WORLD_IMAGE_SIZE, medium: "mixed" });
  const templates = join(root, "..", `${root.split("/").pop()}-templates.json`);
  await Deno.writeTextFile(templates, JSON.stringify({ templates: SHAPE_TEMPLATES }));
  return { root, cache: await Deno.makeTempDir({ prefix: "clipkit-cache-" }), templates };
}

/** Whether Debian's NumPy is importable (CI installs python3-numpy; elsewhere that check is skipped). */
const HAS_NUMPY = (() => {
  try {
    return new Deno.Command("/usr/bin/python3", { args: ["-c", "import numpy"], stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
})();

Deno.test("zeroshot: accuracy tables, figures and report.json; equal to zeroShotReport; the second run reads the cache", async () => {
  const { root, cache, templates } = await shapes();
  const out = join(root, "..", `${root.split("/").pop()}-out`);
  const first = await run("zeroshot", [
    "--data",
    root,
    "--templates",
    templates,
    "--out",
    out,
    "--greedy",
    "3",
  ], {
    CLIPKIT_CACHE: cache,
  });
  assertEquals(first.code, 0, first.stderr);
  for (
    const heading of [
      "top-1 accuracy on all 12 images (4 classes)",
      "bare class name",
      `ensemble of all ${SHAPE_TEMPLATES.length}`,
      "greedy selection: picked on",
      "test split: selected",
      "per class",
    ]
  ) {
    assert(first.stdout.includes(heading), `"${heading}" in\n${first.stdout}`);
  }
  assert(first.stdout.includes("12 embedded (0 from the cache, 12 encoded)"), first.stdout);
  for (
    const file of [
      "template_gains.svg",
      "template_gains.png",
      "confusion.svg",
      "confusion.png",
      "report.json",
    ]
  ) {
    assert((await Deno.stat(join(out, file))).size > 200, `${file} written`);
  }
  const report = JSON.parse(await Deno.readTextFile(join(out, "report.json")));
  assertEquals(report.classes, CLASSES);
  assertEquals(report.perClass.map((c: { count: number }) => c.count), [3, 3, 3, 3]);
  assertEquals(report.greedy.selected.length, 3);
  assertEquals([report.greedy.validationImages, report.greedy.testImages], [8, 4]); // round(3 × 0.5) = 2 per class
  assertEquals(report.confusion.flat().reduce((a: number, b: number) => a + b, 0), 12);

  const model = await ClipModel.load(MODEL);
  try {
    const api = await zeroShotReport(model, await loadImageFolder(root), {
      templates: SHAPE_TEMPLATES,
      greedySize: 3,
      imageCache: false,
      cache: false,
      progress: false,
    });
    assertEquals([api.bare, api.ensemble, api.greedy.selected, api.confusion], [
      report.bare,
      report.ensemble,
      report.greedy.selected,
      report.confusion,
    ]);
    assertAllClose(
      api.perTemplate.map((t) => t.accuracy),
      report.perTemplate.map((t: { accuracy: number }) => t.accuracy),
      0,
    );
  } finally {
    await model.dispose();
  }
  const second = await run("zeroshot", [
    "--data",
    root,
    "--templates",
    templates,
    "--out",
    out,
    "--greedy",
    "3",
  ], {
    CLIPKIT_CACHE: cache,
  });
  assertEquals(second.code, 0, second.stderr);
  assert(second.stdout.includes("12 embedded (12 from the cache, 0 encoded)"), second.stdout);
  assertEquals(JSON.parse(await Deno.readTextFile(join(out, "report.json"))).bare, report.bare);
});

Deno.test("embed: a caption file → clip-retrieval's layout; NumPy and DuckDB read the same values the model gives", async () => {
  const { root } = await shapes();
  const out = join(root, "emb");
  const run1 = await run("embed", [
    join(root, "captions.csv"),
    "--out",
    out,
    "--shard-size",
    "5",
    "--dtype",
    "float32",
  ]);
  assertEquals(run1.code, 0, run1.stderr);
  assert(run1.stdout.includes("wrote 3 shards"), run1.stdout);
  const shards = await completeShards(out, { captions: true });
  assertEquals(shards.map((s) => s.rows), [5, 5, 2]);

  const csv = (await Deno.readTextFile(join(root, "captions.csv"))).trim().split("\n").slice(1);
  const paths = csv.map((l) => join(root, l.split(",")[0]));
  const captions = csv.map((l) => JSON.parse(l.slice(l.indexOf(",") + 1)));
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const db = await DuckDBInstance.create(":memory:");
  const connection = await db.connect();
  const rows = (await connection.runAndReadAll(
    `SELECT image_path, caption, width, height FROM read_parquet('${out}/metadata/metadata_*.parquet', filename = true) ORDER BY filename`,
  )).getRowObjectsJS();
  connection.closeSync();
  assertEquals(
    rows,
    paths.map((p, i) => ({
      image_path: p,
      caption: captions[i],
      width: WORLD_IMAGE_SIZE,
      height: WORLD_IMAGE_SIZE,
    })),
  );

  const model = await ClipModel.load(MODEL);
  try {
    const expected = normalize(await model.encodeImages(paths)); // [12, D] unit rows
    const expectedText = normalize(await model.encodeText(captions, { truncate: true }));
    const image = [], text = [];
    for (const s of shards) {
      image.push(...(await readShardEmbeddings(s)).data);
      text.push(...(await readShardEmbeddings(s, "text")).data);
    }
    assertAllClose(image, expected.data, 1e-6); // float32 files: the model's values
    assertAllClose(text, expectedText.data, 1e-6);
    if (HAS_NUMPY) {
      const numpy = new TextDecoder().decode(
        (await new Deno.Command("/usr/bin/python3", {
          args: [
            "-c",
            `import json, numpy as np\nprint(json.dumps([np.load(f"${out}/img_emb/img_emb_{n}.npy").tolist() for n in range(3)]))`,
          ],
        }).output()).stdout,
      );
      assertAllClose(JSON.parse(numpy).flat(2), expected.data, 1e-6);
    }
  } finally {
    await model.dispose();
  }
});

Deno.test("embed: a folder of images, float16 → unit rows, no caption column, no text_emb", async () => {
  const { root } = await shapes();
  const out = join(root, "..", `${root.split("/").pop()}-emb16`);
  const result = await run("embed", [root, "--out", out]);
  assertEquals(result.code, 0, result.stderr);
  const folder = await openEmbeddingFolder(out);
  assertEquals([folder.count, folder.shards.length, folder.shards[0].hasText], [12, 1, false]);
  const npy = decodeNpy(await Deno.readFile(folder.shards[0].files.image));
  assertEquals(npy.dtype, "float16");
  for (let i = 0; i < 12; i++) {
    const norm = Math.hypot(...npy.data.subarray(i * npy.shape[1], (i + 1) * npy.shape[1]));
    assert(Math.abs(norm - 1) < 2e-3, `row ${i} has norm ${norm} (float16 rounding: < 2e-3)`);
  }
  const manifest = folder.manifest!;
  assertEquals([manifest.items, manifest.captions, manifest.dtype, manifest.shards], [
    12,
    false,
    "float16",
    1,
  ]);
});

Deno.test("embed: killed after two shards, run again → continues from shard 2; every image once, in order", async () => {
  const { root } = await shapes();
  const out = join(root, "resume-emb");
  const lines = (await Deno.readTextFile(join(root, "captions.csv"))).trim().split("\n");
  // Row 9 (item 8, the first of shard 2) names a FIFO: reading it blocks until it is killed, deterministically.
  const blocked = "blocked.png";
  lines[9] = `${blocked},"a picture that is not there yet"`;
  await Deno.writeTextFile(join(root, "resume.csv"), lines.join("\n") + "\n");
  const fifo = await new Deno.Command("mkfifo", { args: [join(root, blocked)] }).output();
  assert(fifo.success, "mkfifo");

  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "src/cli/embed.ts",
      join(root, "resume.csv"),
      "--out",
      out,
      "--shard-size",
      "4",
      "--batch-size",
      "2",
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const second = join(out, "metadata", "metadata_1.parquet");
  const deadline = Date.now() + 60_000;
  while (!(await Deno.stat(second).then(() => true, () => false))) {
    assert(Date.now() < deadline, "shard 1 written within a minute");
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  const status = await child.status;
  await child.stdout.cancel();
  await child.stderr.cancel();
  assert(!status.success, "the first run was killed");
  assertEquals((await completeShards(out, { captions: true })).map((s) => s.index), [0, 1]);
  const shard0 = (await Deno.stat(join(out, "img_emb", "img_emb_0.npy"))).mtime!.getTime();

  await Deno.remove(join(root, blocked));
  await Deno.copyFile(join(root, "circle", "0.png"), join(root, blocked));
  const rerun = await run("embed", [
    join(root, "resume.csv"),
    "--out",
    out,
    "--shard-size",
    "4",
    "--batch-size",
    "2",
  ]);
  assertEquals(rerun.code, 0, rerun.stderr);
  assert(rerun.stdout.includes("continuing: shards 0…1 of 3 are complete"), rerun.stdout);
  assert(rerun.stdout.includes("wrote 1 shard "), rerun.stdout);
  assertEquals(
    (await Deno.stat(join(out, "img_emb", "img_emb_0.npy"))).mtime!.getTime(),
    shard0,
    "shard 0 kept",
  );

  const folder = await openEmbeddingFolder(out);
  assertEquals(folder.shards.map((s) => s.rows), [4, 4, 4]);
  const { decodeParquet } = await import("../src/data/parquet.ts");
  const paths: string[] = [];
  for (const s of folder.shards) {
    paths.push(
      ...(await decodeParquet(await Deno.readFile(s.files.metadata))).map((r) => String(r.image_path)),
    );
  }
  const expected = lines.slice(1).map((l) => join(root, l.split(",")[0]));
  assertEquals(paths, expected, "every image once, in the caption file's order");
  const again = await run("embed", [
    join(root, "resume.csv"),
    "--out",
    out,
    "--shard-size",
    "4",
    "--batch-size",
    "2",
  ]);
  assert(again.stdout.includes("nothing to do: all 3 shards"), again.stdout);
});

Deno.test("search: the top hits are the exact top of query · every row; a thumbnail grid is written", async () => {
  const { root } = await shapes();
  const emb = join(root, "emb");
  assertEquals((await run("embed", [join(root, "captions.csv"), "--out", emb, "--shard-size", "5"])).code, 0);
  const out = join(root, "search-out");
  const result = await run("search", [emb, "a red circle", "--k", "3", "--out", out]);
  assertEquals(result.code, 0, result.stderr);
  const listed = result.stdout.split("\n").filter((l) => /^\s+\d+\s+\d\.\d{4}\s/.test(l));
  assertEquals(listed.length, 3, result.stdout);

  const folder = await openEmbeddingFolder(emb);
  const model = await ClipModel.load(MODEL);
  try {
    const q = normalize(await model.encodeText(["a red circle"]));
    const scores: { score: number; index: number }[] = [];
    for (const s of folder.shards) {
      const at = scores.length;
      matmulT(q, await readShardEmbeddings(s)).data.forEach((score, j) =>
        scores.push({ score, index: at + j })
      );
    }
    scores.sort((a, b) => b.score - a.score || a.index - b.index);
    listed.forEach((line, i) => {
      const score = Number(line.trim().split(/\s+/)[1]);
      assertAllClose([score], [scores[i].score], 5e-5);
    });
  } finally {
    await model.dispose();
  }
  const svg = await Deno.readTextFile(join(out, "search.svg"));
  assertEquals(svg.match(/<image class="thumbnail"/g)?.length, 3);
  assert((await Deno.stat(join(out, "search.png"))).size > 1000);
});

Deno.test("the commands: --help lists every flag; bad arguments → one line (what, fix), exit ≠ 0, no stack trace", async () => {
  const { root } = await shapes();
  const { EMBED_COMMAND } = await import("../src/cli/embed.ts");
  const { SEARCH_COMMAND } = await import("../src/cli/search.ts");
  const { ZEROSHOT_COMMAND } = await import("../src/cli/zeroshot.ts");
  for (
    const [name, spec] of [["zeroshot", ZEROSHOT_COMMAND], ["embed", EMBED_COMMAND], [
      "search",
      SEARCH_COMMAND,
    ]] as const
  ) {
    const help = await run(name, ["--help"]);
    assertEquals(help.code, 0);
    for (const flag of spec.flags) {
      assert(help.stdout.includes(`--${flag.name}`), `${name} --help lists --${flag.name}`);
    }
  }
  const bad = await Deno.makeTempDir({ prefix: "clipkit-bad-" });
  await Deno.writeTextFile(join(bad, "nocols.csv"), "name,label\na.png,x\n");
  await Deno.mkdir(join(bad, "empty"));
  await Deno.mkdir(join(bad, "noimg", "cat"), { recursive: true });
  await Deno.writeTextFile(join(bad, "t.json"), '["no slot here"]');
  const cases: ["zeroshot" | "embed" | "search", string[], string][] = [
    ["zeroshot", [], "--data is required"],
    ["zeroshot", ["--data", join(bad, "nope")], "no such image folder"],
    ["zeroshot", ["--data", join(bad, "empty")], "no class folders"],
    ["zeroshot", ["--data", join(bad, "noimg")], "no images in any of the 1 class folders"],
    ["zeroshot", ["--data", root, "--seed", "x"], "--seed must be a whole number"],
    ["zeroshot", ["--data", root, "--validation", "1"], "--validation must be a number between 0 and 1"],
    ["zeroshot", ["--data", root, "--templates", "nope"], "neither a file nor a built-in set"],
    ["zeroshot", ["--data", root, "--templates", join(bad, "t.json")], "has no {} slot"],
    ["zeroshot", ["--data", root, "--model", join(bad, "nomodel")], "no such model directory"],
    ["zeroshot", ["--data", root, "--frobnicate"], "unknown option --frobnicate"],
    ["embed", [root], "--out is required"],
    ["embed", [join(bad, "nocols.csv"), "--out", join(bad, "o")], "no image column"],
    ["embed", [join(bad, "missing.csv"), "--out", join(bad, "o")], "no such caption file"],
    [
      "embed",
      [root, "--out", join(bad, "o"), "--shard-size", "0"],
      "--shard-size must be a whole number ≥ 1",
    ],
    [
      "embed",
      [root, "--out", join(bad, "o"), "--dtype", "int8"],
      "--dtype int8 is not one of float16, float32",
    ],
    ["embed", [join(bad, "empty"), "--out", join(bad, "o")], "no images in the folder"],
    ["embed", [root, "extra", "--out", join(bad, "o")], 'unexpected argument "extra"'],
    ["search", [join(bad, "empty"), "a cat"], "no complete shard"],
    ["search", [join(bad, "nowhere"), "a cat"], "no such embedding folder"],
    ["search", [root], "missing QUERY"],
    ["search", [root, "a cat", "--k", "-1"], "--k must be a whole number ≥ 1"],
    ["search", [root, "a cat", "--k"], "--k needs a value"],
  ];
  for (const [name, args, message] of cases) {
    const r = await run(name, args);
    const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("embedding ["));
    assert(r.code !== 0, `${name} ${args.join(" ")} exits non-zero`);
    assertEquals(lines.length, 1, `one line from ${name} ${args.join(" ")}:\n${r.stderr}`);
    assert(lines[0].startsWith(`${name}: `) && lines[0].includes(message), `"${message}" in: ${lines[0]}`);
    assert(lines[0].includes("Fix: ") && !/\n\s+at /.test(r.stderr), `a fix and no stack trace: ${r.stderr}`);
  }
});

Deno.test("embed --on-error skip and zeroshot --classes: unreadable images listed, classes renamed", async () => {
  const { root, cache } = await shapes();
  await Deno.writeTextFile(join(root, "star", "broken.png"), "not a PNG at all");
  const failing = await run("embed", [root, "--out", join(root, "..", `${root.split("/").pop()}-fail`)]);
  assert(failing.code !== 0 && failing.stderr.includes(join(root, "star", "broken.png")), failing.stderr);

  const out = join(root, "..", `${root.split("/").pop()}-skip`);
  const skipping = await run("embed", [root, "--out", out, "--on-error", "skip"]);
  assertEquals(skipping.code, 0, skipping.stderr);
  assert(skipping.stdout.includes(`skipped unreadable ${join(root, "star", "broken.png")}`), skipping.stdout);
  const folder = await openEmbeddingFolder(out);
  assertEquals(folder.count, 12);
  assertEquals(folder.manifest!.failed!.map((f) => f.path), [join(root, "star", "broken.png")]);

  await Deno.writeTextFile(join(root, "names.json"), JSON.stringify({ star: "starfish" }));
  const zs = await run("zeroshot", [
    "--data",
    root,
    "--classes",
    join(root, "names.json"),
    "--on-error",
    "skip",
    "--out",
    join(root, "..", `${root.split("/").pop()}-zs`),
  ], { CLIPKIT_CACHE: cache });
  assertEquals(zs.code, 0, zs.stderr);
  const report = JSON.parse(
    await Deno.readTextFile(join(root, "..", `${root.split("/").pop()}-zs`, "report.json")),
  );
  assertEquals(report.classes, ["circle", "square", "starfish", "triangle"]);
  assertEquals([report.images, report.failed.length], [12, 1]);
});
