/**
 * fetchModel against a real HTTP server on 127.0.0.1 that speaks the hub's API (tree listing,
 * resolve with Range) over a fixture repository made in a temporary directory, with faults on demand.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DownloadError } from "../src/errors.ts";
import { fetchModel, selectModelFiles } from "../src/model/hub.ts";
import { main } from "../src/cli/fetch_model.ts";

const REPO = "tester/clip-fixture";

/** The fixture repository: small configs in git, "ONNX" files in LFS (random bytes: the hub does not parse them). */
function fixtureFiles(): Map<string, Uint8Array> {
  const text = (s: string) => new TextEncoder().encode(s);
  const random = (n: number, seed: number) => {
    const bytes = new Uint8Array(n);
    let x = seed;
    for (let i = 0; i < n; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    return bytes;
  };
  return new Map([
    ["config.json", text('{"projection_dim": 64, "logit_scale": 100}')],
    ["preprocessor_config.json", text('{"crop_size": 64}')],
    ["vocab.json", text('{"a": 0}')],
    ["merges.txt", text("#version: 0.2\n")],
    ["README.md", text("# not needed\n")],
    ["onnx/text_model.onnx", random(300_000, 1)],
    ["onnx/vision_model.onnx", random(200_000, 2)],
    ["onnx/text_model_quantized.onnx", random(80_000, 3)],
    ["onnx/vision_model_quantized.onnx", random(60_000, 4)],
    ["onnx/model.onnx", random(90_000, 5)],
  ]);
}

const LFS = (path: string) => path.endsWith(".onnx");

interface Faults {
  /** Cut the connection after this many bytes, the first time each of these files is served. */
  cutAfter?: Map<string, number>;
  /** Serve flipped bytes the first `n` times a file is served. */
  corrupt?: Map<string, number>;
  /** Listed but answered with 404. */
  missing?: Set<string>;
}

/** Start the fake hub; returns its endpoint, the log of requests (`path range`), and a close function. */
function serveHub(files: Map<string, Uint8Array>, faults: Faults = {}) {
  const log: string[] = [];
  const served = new Map<string, number>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    const range = req.headers.get("range");
    log.push(`${url.pathname}${range ? ` ${range}` : ""}`);
    if (url.pathname === `/api/models/${REPO}/tree/main` && url.searchParams.get("recursive") === "true") {
      const entries = [...files].map(([path, bytes]) => ({
        type: "file",
        path,
        size: bytes.length,
        oid: createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex"),
        ...(LFS(path)
          ? { lfs: { oid: createHash("sha256").update(bytes).digest("hex"), size: bytes.length } }
          : {}),
      }));
      return Response.json([{ type: "directory", path: "onnx", size: 0, oid: "0" }, ...entries]);
    }
    const prefix = `/${REPO}/resolve/main/`;
    if (!url.pathname.startsWith(prefix)) return new Response("not found", { status: 404 });
    const path = decodeURIComponent(url.pathname.slice(prefix.length));
    const bytes = files.get(path);
    if (!bytes || faults.missing?.has(path)) return new Response("Entry not found", { status: 404 });
    const count = (served.get(path) ?? 0) + 1;
    served.set(path, count);
    let body = bytes;
    if (count <= (faults.corrupt?.get(path) ?? 0)) body = bytes.map((b) => b ^ 0xff);
    const start = range ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    body = body.subarray(start);
    const headers: Record<string, string> = {
      "content-length": String(body.length),
      "accept-ranges": "bytes",
    };
    if (range) headers["content-range"] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    const cut = count === 1 ? faults.cutAfter?.get(path) : undefined;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (cut === undefined) {
          controller.enqueue(body);
          controller.close();
        } else {
          controller.enqueue(body.subarray(0, cut));
          controller.close(); // shorter than content-length: the server drops the connection
        }
      },
    });
    return new Response(stream, { status: range ? 206 : 200, headers });
  });
  const endpoint = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  return { endpoint, log, close: () => server.shutdown() };
}

async function withHub(faults: Faults, fn: (hub: ReturnType<typeof serveHub>, dir: string) => Promise<void>) {
  const hub = serveHub(fixtureFiles(), faults);
  const dir = await Deno.makeTempDir({ prefix: "clipkit-hub-" });
  try {
    await fn(hub, dir);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function assertSameAsFixture(dir: string, paths: string[]) {
  const files = fixtureFiles();
  for (const path of paths) assert.deepEqual(await Deno.readFile(join(dir, path)), files.get(path), path);
}

async function leftovers(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(join(dir, "onnx"))) {
    if (entry.name.endsWith(".part")) found.push(entry.name);
  }
  return found;
}

const FP32 = [
  "config.json",
  "preprocessor_config.json",
  "vocab.json",
  "merges.txt",
  "onnx/text_model.onnx",
  "onnx/vision_model.onnx",
];

Deno.test("fetchModel: a clean download fetches only the dtype's files, verified, with no .part left", async () => {
  await withHub({}, async (hub, dir) => {
    const progress: number[] = [];
    const result = await fetchModel(REPO, {
      endpoint: hub.endpoint,
      dir,
      progress: false,
      onProgress: (p) => progress.push(p.done),
    });
    assert.deepEqual(result.files.map((f) => f.path).sort(), [...FP32].sort());
    assert.ok(result.files.every((f) => f.status === "downloaded"));
    await assertSameAsFixture(dir, FP32);
    assert.ok(!existsSync(join(dir, "README.md")) && !existsSync(join(dir, "onnx/model.onnx")));
    assert.deepEqual(await leftovers(dir), []);
    assert.equal(
      progress.at(-1),
      300_000 + 200_000 + [...fixtureFiles()].filter(([p]) => !LFS(p) && FP32.includes(p))
        .reduce((s, [, b]) => s + b.length, 0),
    );
    // A second run finds every file present and verified, and downloads nothing.
    const again = await fetchModel(REPO, { endpoint: hub.endpoint, dir, progress: false });
    assert.ok(again.files.every((f) => f.status === "present"));
    assert.equal(hub.log.filter((l) => l.includes("/resolve/")).length, FP32.length);
  });
});

Deno.test("fetchModel: q8 picks the _quantized towers", async () => {
  await withHub({}, async (hub, dir) => {
    const result = await fetchModel(REPO, { endpoint: hub.endpoint, dir, dtype: "q8", progress: false });
    const onnx = result.files.map((f) => f.path).filter((p) => p.endsWith(".onnx")).sort();
    assert.deepEqual(onnx, ["onnx/text_model_quantized.onnx", "onnx/vision_model_quantized.onnx"]);
  });
});

Deno.test("fetchModel: a connection cut mid-file is resumed with a Range request", async () => {
  const cutAfter = new Map([["onnx/text_model.onnx", 120_000]]);
  await withHub({ cutAfter }, async (hub, dir) => {
    const result = await fetchModel(REPO, { endpoint: hub.endpoint, dir, progress: false });
    const text = hub.log.filter((l) =>
      l.endsWith("/onnx/text_model.onnx") || l.includes("/onnx/text_model.onnx ")
    );
    assert.equal(text.length, 2);
    const resumedAt = Number(/bytes=(\d+)-/.exec(text[1])![1]);
    assert.ok(resumedAt >= 60_000 && resumedAt <= 120_000, `resumed at byte ${resumedAt}`);
    assert.equal(result.files.find((f) => f.path === "onnx/text_model.onnx")!.status, "resumed");
    await assertSameAsFixture(dir, FP32);
    assert.deepEqual(await leftovers(dir), []);
  });
});

Deno.test("fetchModel: a .part file left by an earlier run is continued, not restarted", async () => {
  await withHub({}, async (hub, dir) => {
    await Deno.mkdir(join(dir, "onnx"), { recursive: true });
    const full = fixtureFiles().get("onnx/vision_model.onnx")!;
    await Deno.writeFile(join(dir, "onnx/vision_model.onnx.part"), full.subarray(0, 150_000));
    const result = await fetchModel(REPO, { endpoint: hub.endpoint, dir, progress: false });
    assert.ok(hub.log.includes(`/${REPO}/resolve/main/onnx/vision_model.onnx bytes=150000-`));
    assert.equal(result.files.find((f) => f.path === "onnx/vision_model.onnx")!.status, "resumed");
    await assertSameAsFixture(dir, FP32);
  });
});

Deno.test("fetchModel: corrupted bytes fail the sha256 check and are fetched again", async () => {
  const corrupt = new Map([["onnx/vision_model.onnx", 1], ["config.json", 1]]);
  await withHub({ corrupt }, async (hub, dir) => {
    await fetchModel(REPO, { endpoint: hub.endpoint, dir, progress: false });
    assert.equal(hub.log.filter((l) => l.endsWith("/onnx/vision_model.onnx")).length, 2);
    assert.equal(hub.log.filter((l) => l.endsWith("/config.json")).length, 2); // git blob sha1 for small files
    await assertSameAsFixture(dir, FP32);
  });
});

Deno.test("fetchModel: a damaged file already in place is detected and replaced", async () => {
  await withHub({}, async (hub, dir) => {
    await fetchModel(REPO, { endpoint: hub.endpoint, dir, progress: false });
    const path = join(dir, "onnx/text_model.onnx");
    const bytes = await Deno.readFile(path);
    bytes[1000] ^= 1;
    await Deno.writeFile(path, bytes);
    const again = await fetchModel(REPO, { endpoint: hub.endpoint, dir, progress: false });
    assert.equal(again.files.find((f) => f.path === "onnx/text_model.onnx")!.status, "downloaded");
    await assertSameAsFixture(dir, FP32);
  });
});

Deno.test("fetchModel: a file that keeps failing its checksum is an error and leaves nothing behind", async () => {
  const corrupt = new Map([["onnx/vision_model.onnx", 99]]);
  await withHub({ corrupt }, async (hub, dir) => {
    await assert.rejects(
      fetchModel(REPO, { endpoint: hub.endpoint, dir, progress: false, attempts: 2 }),
      (e: unknown) =>
        e instanceof DownloadError && /vision_model\.onnx failed its checksum 2 times/.test(e.message),
    );
    assert.ok(!existsSync(join(dir, "onnx/vision_model.onnx")));
    assert.deepEqual(await leftovers(dir), []);
  });
});

Deno.test("fetchModel: a 404 names the missing file", async () => {
  await withHub({ missing: new Set(["onnx/vision_model.onnx"]) }, async (hub, dir) => {
    await assert.rejects(
      fetchModel(REPO, { endpoint: hub.endpoint, dir, progress: false }),
      (e: unknown) =>
        e instanceof DownloadError && e.message.includes("has no file onnx/vision_model.onnx (HTTP 404)") &&
        e.message.includes("Fix:"),
    );
    assert.ok(!existsSync(join(dir, "onnx/vision_model.onnx")));
  });
});

Deno.test("fetchModel: an unknown repository and a dtype the repository lacks are typed errors", async () => {
  await withHub({}, async (hub, dir) => {
    await assert.rejects(
      fetchModel("tester/nothing-here", { endpoint: hub.endpoint, dir, progress: false }),
      (e: unknown) => e instanceof DownloadError && e.message.includes('no repository "tester/nothing-here"'),
    );
    await assert.rejects(
      fetchModel(REPO, { endpoint: hub.endpoint, dir, dtype: "fp16", progress: false }),
      (e: unknown) =>
        e instanceof DownloadError && e.message.includes("has no onnx/text_model_fp16.onnx") &&
        e.message.includes("fp32, q8"),
    );
    await assert.rejects(fetchModel("not a repo id"), DownloadError);
  });
});

Deno.test("selectModelFiles: keeps ONNX external data next to the chosen towers", () => {
  const files = [...FP32, "onnx/text_model.onnx_data", "onnx/vision_model_fp16.onnx_data"].map((path) => ({
    path,
    size: 1,
  }));
  assert.deepEqual(selectModelFiles(files, "fp32").map((f) => f.path), [
    ...FP32,
    "onnx/text_model.onnx_data",
  ]);
});

Deno.test("deno task fetch-model: downloads, prints each file and how to load it; bad arguments exit 2", async () => {
  await withHub({}, async (hub, dir) => {
    const logged: string[] = [];
    const log = console.log;
    const error = console.error;
    console.log = (...args: unknown[]) => logged.push(args.join(" "));
    console.error = (...args: unknown[]) => logged.push(args.join(" "));
    Deno.env.set("HF_ENDPOINT", hub.endpoint);
    try {
      assert.equal(await main([REPO, "--dtype", "q8", "--dir", dir]), 0);
      assert.ok(logged.some((l) => /^downloaded +onnx\/text_model_quantized\.onnx \(80000 bytes\)$/.test(l)));
      assert.ok(logged.some((l) => l.includes(`ClipModel.load(${JSON.stringify(dir)}, { dtype: "q8" })`)));
      assert.equal(await main([REPO, "--dtype", "int3"]), 2);
      assert.equal(await main([]), 2);
      assert.equal(await main(["tester/nothing-here", "--dir", dir]), 1);
      assert.ok(logged.some((l) => l.startsWith('DownloadError: no repository "tester/nothing-here"')));
    } finally {
      console.log = log;
      console.error = error;
      Deno.env.delete("HF_ENDPOINT");
    }
  });
});
