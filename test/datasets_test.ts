/**
 * Datasets from your own files: image folders (torchvision's ImageFolder convention), flat image folders and
 * caption files (CSV, TSV, JSONL), read lazily, with every bad input a typed error that names the file.
 * Also the formats of embedding folders: `.npy` (checked against NumPy, when Debian's python3-numpy is
 * installed) and Parquet (read back with DuckDB, a second, independent implementation).
 */
import { join } from "node:path";
import { assert, assertAllClose, assertEquals, assertRejects } from "./_assert.ts";
import { DatasetError, ImageError, NpyError } from "../src/errors.ts";
import { encodePng } from "../src/image/mod.ts";
import { loadImageFiles, loadImageFolder } from "../src/data/image_folder.ts";
import { loadCaptions, parseDelimited } from "../src/data/caption_file.ts";
import { decodeNpy, encodeNpy } from "../src/data/npy.ts";
import { decodeParquet, encodeParquet, parquetRowCount } from "../src/data/parquet.ts";
import { Matrix } from "../src/math/matrix.ts";
import { ExactSearch, searchTopK } from "../src/math/search.ts";
import { mulberry32 } from "../src/data/random.ts";
import { ImageEmbeddingCache } from "../src/zeroshot/image_cache.ts";
import { embedDataset } from "../src/model/embed_dataset.ts";
import type { DecodedImage } from "../src/image/mod.ts";

/** A `w × h` PNG of one colour. */
function png(w: number, h: number, rgb: [number, number, number] = [200, 30, 30]): Uint8Array {
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([...rgb, 255], 4 * i);
  return encodePng(w, h, rgba);
}

async function write(root: string, files: Record<string, Uint8Array | string>): Promise<string> {
  for (const [rel, data] of Object.entries(files)) {
    const path = join(root, rel);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    if (typeof data === "string") await Deno.writeTextFile(path, data);
    else await Deno.writeFile(path, data);
  }
  return root;
}

async function tmp(files: Record<string, Uint8Array | string> = {}): Promise<string> {
  return await write(await Deno.makeTempDir({ prefix: "clipkit-data-" }), files);
}

/** Whether Debian's NumPy is importable (CI installs python3-numpy; elsewhere the check is skipped). */
const HAS_NUMPY = (() => {
  try {
    return new Deno.Command("/usr/bin/python3", { args: ["-c", "import numpy"], stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
})();
if (!HAS_NUMPY) {
  console.warn("NOTICE: /usr/bin/python3 cannot import numpy: the .npy checks against NumPy are skipped");
}

async function python(code: string): Promise<string> {
  const out = await new Deno.Command("/usr/bin/python3", { args: ["-c", code] }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

// ── image folders ───────────────────────────────────────────────────────────────────────────────────

Deno.test("loadImageFolder: classes sorted from folder names, _ as a space, sub-folders, hidden and other files skipped", async () => {
  const root = await tmp({
    "tabby_cat/1.png": png(8, 6),
    "tabby_cat/deeper/2.PNG": png(4, 4),
    "tabby_cat/.DS_Store": "x",
    "tabby_cat/notes.txt": "not an image",
    "golden_retriever/a.png": png(5, 7),
    ".hidden_class/x.png": png(2, 2),
    "README.md": "# my photos",
  });
  const data = await loadImageFolder(root);
  assertEquals(data.folders, ["golden_retriever", "tabby_cat"]);
  assertEquals(data.classes, ["golden retriever", "tabby cat"]);
  assertEquals(data.items.map((i) => [i.path.slice(root.length + 1), i.label, i.className]), [
    ["golden_retriever/a.png", 0, "golden retriever"],
    ["tabby_cat/1.png", 1, "tabby cat"],
    ["tabby_cat/deeper/2.PNG", 1, "tabby cat"],
  ]);
  assertEquals(data.labels, [0, 1, 1]);
  assertEquals(data.counts, [1, 2]);
  assertEquals(
    data.skipped.map((s) => [s.path.slice(root.length + 1), s.reason.split(" (")[0]]).sort(),
    [[".hidden_class", "hidden"], ["README.md", "not in a class folder"], ["tabby_cat/.DS_Store", "hidden"], [
      "tabby_cat/notes.txt",
      "not an image",
    ]],
  );
  const sizes: number[][] = [];
  for await (const { image, item } of data) sizes.push([item.label, image.width, image.height]);
  assertEquals(sizes, [[0, 5, 7], [1, 8, 6], [1, 4, 4]]);
});

Deno.test("loadImageFolder: classes.json renames classes; options.classes overrides it", async () => {
  const root = await tmp({
    "cat/1.png": png(4, 4),
    "dog/1.png": png(4, 4),
    "classes.json": JSON.stringify({ dog: "a happy dog" }),
  });
  assertEquals((await loadImageFolder(root)).classes, ["cat", "a happy dog"]);
  assertEquals((await loadImageFolder(root, { classes: ["kitten", "puppy"] })).classes, ["kitten", "puppy"]);
  assertEquals((await loadImageFolder(root)).skipped, [], "classes.json is not reported as skipped");
});

Deno.test("loadImageFolder: batches are decoded one at a time; a bad image throws with its path when reached", async () => {
  const files: Record<string, Uint8Array | string> = {};
  for (let i = 0; i < 5; i++) files[`a/${i}.png`] = png(3, 3);
  files["b/0.png"] = png(3, 3);
  files["b/1.png"] = new TextEncoder().encode("this is no PNG");
  files["b/2.png"] = new Uint8Array(0);
  const root = await tmp(files);
  const data = await loadImageFolder(root);
  const batches = data.batches({ batchSize: 3 });
  const first = await batches.next();
  assert(
    !first.done && first.value.images.length === 3,
    "the first batch decodes though a later file is bad",
  );
  await batches.next(); // a/3, a/4, b/0
  await assertRejects(() => batches.next(), ImageError, join(root, "b", "1.png"));

  const skipping = await loadImageFolder(root, { onError: "skip" });
  const seen: string[] = [];
  for await (const batch of skipping.batches({ batchSize: 3 })) seen.push(...batch.items.map((i) => i.path));
  assertEquals(seen.length, 6);
  assertEquals(skipping.failed.map((f) => [f.index, f.path, f.error.reason]), [
    [6, join(root, "b", "1.png"), "unsupported"],
    [7, join(root, "b", "2.png"), "empty"],
  ]);
});

Deno.test("loadImageFolder: empty folders, loose images, empty classes, bad classes.json → DatasetError with a fix", async () => {
  await assertRejects(
    () => loadImageFolder(join(Deno.cwd(), "no-such-folder")),
    DatasetError,
    "no such image folder",
  );
  await assertRejects(async () => loadImageFolder(await tmp()), DatasetError, "no class folders");
  await assertRejects(
    async () => loadImageFolder(await tmp({ "a.png": png(2, 2) })),
    DatasetError,
    "1 images lie directly in the folder",
  );
  const emptyClass = await tmp({ "cat/1.png": png(2, 2), "dog/readme.txt": "x" });
  await assertRejects(() => loadImageFolder(emptyClass), DatasetError, `class folder "dog" hold no images`);
  assertEquals((await loadImageFolder(emptyClass, { allowEmptyClasses: true })).counts, [1, 0]);
  await assertRejects(
    async () => loadImageFolder(await tmp({ "cat/1.txt": "x" })),
    DatasetError,
    "no images in any of the 1 class folders",
  );
  await assertRejects(
    async () => loadImageFolder(await tmp({ "cat/1.png": png(2, 2), "classes.json": '{"cow": "moo"}' })),
    DatasetError,
    `renames "cow", which is no class folder`,
  );
  await assertRejects(
    async () => loadImageFolder(await tmp({ "cat/1.png": png(2, 2), "classes.json": "{not json" })),
    DatasetError,
    "classes.json is not valid JSON",
  );
  await assertRejects(
    async () => loadImageFolder(await tmp({ "cat/1.png": png(2, 2) }), { classes: ["a", "b"] }),
    DatasetError,
    "2 class names for 1 class folders",
  );
  const file = join(await tmp({ "x.png": png(2, 2) }), "x.png");
  await assertRejects(() => loadImageFolder(file), DatasetError, "not a folder");
  await loadImageFolder(await tmp()).catch((e) => assert(/Fix: /.test(e.message), `a fix in "${e.message}"`));
});

Deno.test("loadImageFiles: every image at any depth, sorted, no classes", async () => {
  const root = await tmp({
    "b.png": png(2, 2),
    "trip/a.jpg.txt": "x",
    "trip/a.png": png(2, 2),
    ".x.png": png(2, 2),
  });
  const data = await loadImageFiles(root);
  assertEquals(data.paths.map((p) => p.slice(root.length + 1)), ["b.png", "trip/a.png"]);
  assertEquals(data.skipped.length, 2);
  await assertRejects(
    async () => loadImageFiles(await tmp({ "a.txt": "x" })),
    DatasetError,
    "no images in the folder",
  );
});

// ── caption files ───────────────────────────────────────────────────────────────────────────────────

Deno.test("parseDelimited: RFC 4180 quotes, doubled quotes, line breaks in fields, CRLF, a BOM", () => {
  assertEquals(parseDelimited('\ufeffa,b\r\n"x, y","say ""hi"""\r\n"two\nlines",z\n\n', ","), [
    { line: 1, fields: ["a", "b"] },
    { line: 2, fields: ["x, y", 'say "hi"'] },
    { line: 3, fields: ["two\nlines", "z"] },
  ]);
});

Deno.test("loadCaptions: CSV with image_path/caption, paths relative to the file, other extensions skipped", async () => {
  const root = await tmp({
    "imgs/1.png": png(6, 4),
    "imgs/2.png": png(4, 6),
    "data/captions.csv":
      'image_path,caption\n../imgs/1.png,"a red car, parked"\n../imgs/2.png,two dogs\nnotes.pdf,x\n',
  });
  const data = await loadCaptions(join(root, "data", "captions.csv"));
  assertEquals([data.imageColumn, data.captionColumn], ["image_path", "caption"]);
  assertEquals(data.items, [
    { path: join(root, "data", "../imgs/1.png"), caption: "a red car, parked", line: 2 },
    { path: join(root, "data", "../imgs/2.png"), caption: "two dogs", line: 3 },
  ]);
  assertEquals(data.skipped.map((s) => s.reason.split(" (")[0]), ["not an image"]);
  const sizes = [];
  for await (const { image } of data) sizes.push([image.width, image.height]);
  assertEquals(sizes, [[6, 4], [4, 6]]);
});

Deno.test("loadCaptions: column names as clip-retrieval and img2dataset write them, JSONL and TSV, named columns", async () => {
  const root = await tmp({ "1.png": png(2, 2) });
  const cases: [string, string, string, string][] = [
    ["a.csv", "filepath,text\n1.png,hello\n", "filepath", "text"],
    ["b.csv", "URL,TEXT,width\n1.png,hello,2\n", "URL", "TEXT"],
    ["c.tsv", "image\tcaption\n1.png\thello, world\n", "image", "caption"],
    [
      "d.jsonl",
      '{"url": "1.png", "caption": "hello", "key": 7}\n\n{"url": "1.png", "caption": null}\n',
      "url",
      "caption",
    ],
  ];
  for (const [name, text, image, caption] of cases) {
    await Deno.writeTextFile(join(root, name), text);
    const data = await loadCaptions(join(root, name));
    assertEquals([data.imageColumn, data.captionColumn, data.items[0].path], [
      image,
      caption,
      join(root, "1.png"),
    ], name);
  }
  assertEquals((await loadCaptions(join(root, "d.jsonl"))).captions, ["hello", ""]);
  await Deno.writeTextFile(join(root, "e.csv"), "pic,words,caption\n1.png,the real one,decoy\n");
  const named = await loadCaptions(join(root, "e.csv"), { imageColumn: "pic", captionColumn: "words" });
  assertEquals(named.items[0].caption, "the real one");
});

Deno.test("loadCaptions: missing columns, empty files, bad rows → DatasetError naming the file and the fix", async () => {
  const root = await tmp();
  const bad: [string, string, string][] = [
    ["nocols.csv", "name,label\na.png,cat\n", "no image column: none of image_path, filepath"],
    ["nocaption.csv", "image_path,label\na.png,cat\n", "no caption column"],
    ["empty.csv", "", "the caption file is empty"],
    ["header.csv", "image_path,caption\n", "a header but no rows"],
    ["nopath.csv", "image_path,caption\n,a cat\n", "line 2 has no image path"],
    ["ragged.csv", "image_path,caption\na.png,a cat,extra\n", "line 2 has 3 fields but the header has 2"],
    ["quote.csv", 'image_path,caption\na.png,"a cat\n', "never closed"],
    ["bad.jsonl", '{"image": "a.png", "caption": "x"}\n{oops\n', "line 2 is not valid JSON"],
    ["list.jsonl", '["a.png", "x"]\n', "line 1 is not a JSON object"],
    ["onlytxt.csv", "image_path,caption\na.txt,x\n", "none of the 1 rows names an image file"],
    ["notes.txt", "image_path,caption\n", "a caption file ends in .csv"],
  ];
  for (const [name, text, message] of bad) {
    await Deno.writeTextFile(join(root, name), text);
    await assertRejects(() => loadCaptions(join(root, name)), DatasetError, message);
    await loadCaptions(join(root, name)).catch((e) => {
      assert(e.message.includes(join(root, name)) && e.message.includes("Fix: "), e.message);
    });
  }
  await Deno.writeTextFile(join(root, "ok.csv"), "image_path,caption\na.png,x\n");
  await assertRejects(
    () => loadCaptions(join(root, "ok.csv"), { imageColumn: "path" }),
    DatasetError,
    'no column "path"',
  );
  await assertRejects(() => loadCaptions(join(root, "missing.csv")), DatasetError, "no such caption file");
  // A row whose image is missing is found when read (lazily), with its path.
  const data = await loadCaptions(join(root, "ok.csv"));
  await assertRejects(() => data.load(0), ImageError, join(root, "a.png"));
});

// ── .npy and Parquet ────────────────────────────────────────────────────────────────────────────────

Deno.test({
  name: ".npy: NumPy reads our float32 and float16 files with the same values, and we read NumPy's",
  ignore: !HAS_NUMPY,
  fn: async () => {
    const dir = await tmp();
    const rng = mulberry32(3);
    const values = Float32Array.from({ length: 7 * 5 }, () => (rng() - 0.5) * 4); // [7, 5]
    values[0] = 1e-6; // subnormal in float16
    values[1] = 70000; // beyond float16's range: inf
    await Deno.writeFile(join(dir, "f32.npy"), encodeNpy(values, [7, 5], "float32"));
    await Deno.writeFile(join(dir, "f16.npy"), encodeNpy(values, [7, 5], "float16"));
    await Deno.writeFile(join(dir, "raw.bin"), new Uint8Array(values.buffer));
    const report = JSON.parse(
      await python(`
import json, numpy as np
raw = np.fromfile("${dir}/raw.bin", dtype="<f4").reshape(7, 5)
a = np.load("${dir}/f32.npy"); b = np.load("${dir}/f16.npy")
np.save("${dir}/numpy16.npy", raw.astype(np.float16)); np.save("${dir}/numpy32.npy", raw)
print(json.dumps({"f32": [str(a.dtype), list(a.shape), bool((a == raw).all())],
  "f16": [str(b.dtype), list(b.shape), bool((b.view(np.uint16) == raw.astype(np.float16).view(np.uint16)).all())]}))
`),
    );
    assertEquals(report, { f32: ["float32", [7, 5], true], f16: ["float16", [7, 5], true] });
    const theirs16 = decodeNpy(await Deno.readFile(join(dir, "numpy16.npy")));
    const ours16 = decodeNpy(await Deno.readFile(join(dir, "f16.npy")));
    assertEquals([theirs16.dtype, theirs16.shape], ["float16", [7, 5]]);
    assertEquals(Array.from(theirs16.data), Array.from(ours16.data)); // bit-equal after widening
    assertEquals(
      Array.from(decodeNpy(await Deno.readFile(join(dir, "numpy32.npy"))).data),
      Array.from(values),
    );
  },
});

Deno.test(".npy: bad files → NpyError", () => {
  const ok = encodeNpy(new Float32Array(6), [2, 3]);
  for (
    const [bytes, message] of [
      [new Uint8Array(3), "not a .npy file"],
      [ok.subarray(0, ok.length - 1), "its header says"],
      [
        encodeNpy(new Float32Array(6), [2, 3]).map((b, i) => (i === 22 ? "8".charCodeAt(0) : b)),
        "is not float32",
      ],
    ] as const
  ) {
    let caught: unknown;
    try {
      decodeNpy(bytes);
    } catch (e) {
      caught = e;
    }
    assert(caught instanceof NpyError && caught.message.includes(message), `${caught}`);
  }
});

Deno.test("Parquet: DuckDB (an independent reader) reads our metadata files with the same values", async () => {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const dir = await tmp();
  const paths = ["a/1.png", "b/ünïcode 2.png", 'c/"quoted",3.png'];
  const captions = ["a red car", "", "two dogs, asleep"];
  const bytes = encodeParquet([
    { name: "image_path", type: "STRING", data: paths },
    { name: "caption", type: "STRING", data: captions },
    { name: "width", type: "INT32", data: [32, 640, 1] },
    { name: "height", type: "INT32", data: [32, 480, 70000] },
  ]);
  await Deno.writeFile(join(dir, "m.parquet"), bytes);
  assertEquals(parquetRowCount(bytes), 3);
  const db = await DuckDBInstance.create(":memory:");
  const connection = await db.connect();
  const reader = await connection.runAndReadAll(`SELECT * FROM read_parquet('${join(dir, "m.parquet")}')`);
  const rows = reader.getRowObjectsJS();
  assertEquals(
    rows,
    paths.map((p, i) => ({
      image_path: p,
      caption: captions[i],
      width: [32, 640, 1][i],
      height: [32, 480, 70000][i],
    })),
  );
  const types = await connection.runAndReadAll(
    `DESCRIBE SELECT * FROM read_parquet('${join(dir, "m.parquet")}')`,
  );
  assertEquals(types.getRowObjectsJS().map((r) => [r.column_name, r.column_type]), [
    ["image_path", "VARCHAR"],
    ["caption", "VARCHAR"],
    ["width", "INTEGER"],
    ["height", "INTEGER"],
  ]);
  connection.closeSync();
  assertEquals(await decodeParquet(bytes), rows);
});

// ── exact search ────────────────────────────────────────────────────────────────────────────────────

Deno.test("ExactSearch: equals a full sort over all rows, across shards and blocks, ties to the earlier row", () => {
  const rng = mulberry32(11);
  const d = 8;
  const unit = (n: number) => {
    const m = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      let ss = 0;
      for (let k = 0; k < d; k++) ss += (m[i * d + k] = rng() - 0.5) ** 2;
      for (let k = 0; k < d; k++) m[i * d + k] /= Math.sqrt(ss);
    }
    return new Matrix(m, n, d);
  };
  const shards = [unit(37), unit(5), unit(90)];
  // Duplicate rows make exact ties: row 3 appears again at row 40 (shard 1, row 3).
  shards[1].data.set(shards[0].data.subarray(3 * d, 4 * d), 3 * d);
  const queries = new Matrix(new Float32Array([...shards[0].row(3), ...unit(2).data]), 3, d);
  const search = new ExactSearch(queries, 10);
  for (const s of shards) search.add(s, 16); // blocks of 16 rows inside each shard
  const all = new Matrix(new Float32Array([...shards[0].data, ...shards[1].data, ...shards[2].data]), 132, d);
  const got = search.results();
  for (let q = 0; q < 3; q++) {
    const scores = Array.from({ length: 132 }, (_, j) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += queries.data[q * d + k] * all.data[j * d + k];
      return { index: j, score: Math.fround(s) };
    }).sort((a, b) => b.score - a.score || a.index - b.index).slice(0, 10);
    assertEquals(got[q].map((h) => h.index), scores.map((h) => h.index), `query ${q}`);
    assertAllClose(got[q].map((h) => h.score), scores.map((h) => h.score), 1e-6);
  }
  assertEquals(got[0].slice(0, 2).map((h) => h.index), [3, 40], "equal scores: the earlier row first");
  assertEquals(searchTopK(queries, all, 200)[0].length, 132, "k beyond the corpus gives every row");
});

// ── image-embedding cache ───────────────────────────────────────────────────────────────────────────

Deno.test("embedDataset + ImageEmbeddingCache: a second run reads every row from the cache, same values", async () => {
  const root = await tmp({
    "a/1.png": png(3, 3, [255, 0, 0]),
    "a/2.png": png(3, 3, [0, 255, 0]),
    "b/1.png": png(3, 3, [0, 0, 255]),
    "b/copy.png": png(3, 3, [255, 0, 0]), // same bytes as a/1.png: one cache entry
  });
  let encoded = 0;
  const fake = {
    id: "fake-model",
    dim: 3,
    encodeImages(images: DecodedImage[]): Promise<Matrix> {
      encoded += images.length;
      return Promise.resolve(
        new Matrix(
          Float32Array.from(images.flatMap((im) => [im.data[0], im.data[1], im.data[2]])),
          images.length,
          3,
        ),
      );
    },
  };
  const cacheDir = await tmp();
  const data = await loadImageFolder(root);
  const first = await embedDataset(fake, data, { cache: cacheDir, batchSize: 3, progress: false });
  // b/copy.png is in the second batch: its twin a/1.png was stored after the first.
  assertEquals([first.cached, first.encoded, encoded], [1, 3, 3]);
  assertEquals(first.embeddings.toRows(), [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 0, 0]]);
  const second = await embedDataset(fake, data, {
    cache: new ImageEmbeddingCache(cacheDir),
    progress: false,
  });
  assertEquals([second.cached, second.encoded, encoded], [4, 0, 3]);
  assertEquals(second.embeddings.toRows(), first.embeddings.toRows());
  const other = await embedDataset({ ...fake, id: "another-model" }, data, {
    cache: cacheDir,
    progress: false,
  });
  assertEquals(other.cached, 0, "the cache is keyed by the model id too");
});
