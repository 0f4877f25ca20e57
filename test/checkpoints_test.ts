/**
 * PyTorch checkpoints in: `ClipModel.load` on open_clip's hub layout and on Hugging Face `CLIPModel` folders
 * (`../shared/fixtures/clip-tiny-checkpoints`, one random-weight CLIP in both layouts, with openai/CLIP's
 * outputs), converted once by the exporter into a content-keyed cache; the safetensors reader's checks; the
 * hub's choice of files for such repositories.
 *
 * Tolerances:
 * - float32 checkpoints: 1e-4 absolute on embeddings and logits (the fixture README's; measured ≈ 2e-6).
 * - float16 / bfloat16 copies: the copy holds other weights (each rounded to 11 / 8 significant bits), so
 *   it is compared bit for bit with a float32 checkpoint holding the same rounded values (the reader widens
 *   halves exactly, so the exported graphs must be identical), and against openai/CLIP's float32 outputs at
 *   HALF_TOLERANCE / BFLOAT_TOLERANCE: a relative weight error of 2^-11 (2^-8) through two blocks per tower
 *   moves these embeddings (values ≈ 0.1–1) by about 10× that at most; the measured differences are logged.
 * - exact GELU (no PyTorch output in the fixture): against a float64 forward of the text tower written
 *   here, which is first checked against openai/CLIP's QuickGELU outputs; 1e-4 (erf approximated to 1.5e-7).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { shared, sharedTest } from "./_shared.ts";
import {
  CheckpointWeightsError,
  DownloadError,
  MissingModelFileError,
  SafetensorsError,
  UnsupportedCheckpointError,
} from "../src/errors.ts";
import { ClipModel } from "../src/model/clip_model.ts";
import { SafetensorsFile } from "../src/model/safetensors.ts";
import { findCheckpoint, MANIFEST, prepareCheckpoint } from "../src/model/checkpoint.ts";
import { fetchModel, type RepoFile, selectCheckpointFiles, selectModelFiles } from "../src/model/hub.ts";
import type { Matrix } from "../src/math/matrix.ts";
import type { Backend } from "../src/model/runtime.ts";

const FIXTURE = shared("fixtures", "clip-tiny-checkpoints");
const TOLERANCE = 1e-4;
const HALF_TOLERANCE = 5e-3;
const BFLOAT_TOLERANCE = 4e-2;

/** The two layouts: folder name in the fixture, weight file, config file. */
const LAYOUTS = {
  openclip: { weights: "open_clip_model.safetensors", config: "open_clip_config.json" },
  hf: { weights: "model.safetensors", config: "config.json" },
} as const;
type Layout = keyof typeof LAYOUTS;

interface Reference {
  captions: string[];
  input_ids: number[][];
  text_embeds: number[][];
  image_embeds: number[][];
  logits_per_image: number[][];
  logit_scale: number;
}

const reference = (): Reference => JSON.parse(Deno.readTextFileSync(join(FIXTURE, "reference.json")));

function pixelValues(): Float32Array {
  const bytes = Deno.readFileSync(join(FIXTURE, "pixel_values.f32"));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4); // [4, 3, 64, 64]
}

function maxAbsDiff(m: Matrix, expected: number[][]): number {
  assert.deepEqual([m.rows, m.cols], [expected.length, expected[0].length]);
  let max = 0;
  expected.forEach((row, i) => row.forEach((v, j) => max = Math.max(max, Math.abs(m.get(i, j) - v))));
  return max;
}

/** The model's text and image embeddings and logits against openai/CLIP's. */
async function diffs(model: ClipModel): Promise<{ text: number; image: number; logits: number }> {
  const ref = reference();
  const ids = model.tokenizer.tokenize(ref.captions, { truncate: true });
  assert.deepEqual(Array.from(ids.ids), ref.input_ids.flat(), "tokenizer ids");
  const text = await model.encodeText(ref.captions, { truncate: true });
  const image = await model.encodePixels(pixelValues());
  const { logitsPerImage } = await model.logits(image, text);
  return {
    text: maxAbsDiff(text, ref.text_embeds),
    image: maxAbsDiff(image, ref.image_embeds),
    logits: maxAbsDiff(logitsPerImage, ref.logits_per_image),
  };
}

/** Run `fn` with a fresh folder (removed afterwards). */
async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "clipkit-ckpt-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Copy a fixture layout into `dir` (the weights too unless `weights: false`). */
async function copyLayout(layout: Layout, dir: string, options: { weights?: boolean } = {}): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  for await (const entry of Deno.readDir(join(FIXTURE, layout))) {
    if (entry.name === LAYOUTS[layout].weights && options.weights === false) continue;
    await Deno.copyFile(join(FIXTURE, layout, entry.name), join(dir, entry.name));
    await Deno.chmod(join(dir, entry.name), 0o644);
  }
  return dir;
}

async function editJson(path: string, edit: (json: Record<string, unknown>) => void): Promise<void> {
  const json = JSON.parse(await Deno.readTextFile(path));
  edit(json);
  await Deno.writeTextFile(path, JSON.stringify(json, null, 1));
}

interface Tensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

async function readTensors(path: string): Promise<Tensor[]> {
  using file = await SafetensorsFile.open(path);
  const out: Tensor[] = [];
  for (const t of file.tensors.values()) {
    out.push({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: await file.readBytes(t.name) });
  }
  return out;
}

/**
 * Write a safetensors file (written here, independently of the reader): header padded with spaces to a
 * multiple of 8 bytes, as the reference implementation does. `header` may rewrite the header before writing.
 */
async function writeSafetensors(
  path: string,
  tensors: Tensor[],
  header: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void = () => {},
): Promise<void> {
  const h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }> = {};
  let at = 0;
  for (const t of tensors) {
    h[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.bytes.length] };
    at += t.bytes.length;
  }
  header(h);
  let json = JSON.stringify({ __metadata__: { format: "pt" }, ...h });
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const jsonBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + jsonBytes.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  out.set(jsonBytes, 8);
  let offset = 8 + jsonBytes.length;
  for (const t of tensors) {
    out.set(t.bytes, offset);
    offset += t.bytes.length;
  }
  await Deno.writeFile(path, out);
}

const f32 = (t: Tensor) => new Float32Array(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength / 4);

/** float32 → float16 bytes (round to nearest even: the engine's Float16Array). */
function toHalfBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(new Float16Array(values).buffer);
}

/** float32 → bfloat16 bytes (round to nearest even on the top 16 bits; the fixture has no NaN). */
function toBfloatBytes(values: Float32Array): Uint8Array {
  const bits = new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const out = new Uint16Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = (bits[i] + 0x7fff + ((bits[i] >>> 16) & 1)) >>> 16;
  return new Uint8Array(out.buffer);
}

/** The float32 values a half tensor holds (float16 via the engine; bfloat16 by placing the bits). */
function halfValues(bytes: Uint8Array, dtype: "F16" | "BF16"): Float32Array {
  const halves = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (dtype === "F16") return Float32Array.from(new Float16Array(halves.buffer));
  return new Float32Array(Uint32Array.from(halves, (h) => h << 16).buffer);
}

const load = (
  dir: string,
  cacheDir: string,
  backend: Backend = "node",
  extra: Record<string, unknown> = {},
) => ClipModel.load(dir, { backend, conversion: { cacheDir, progress: false }, ...extra });

// ── parity ──────────────────────────────────────────────────────────────────────────────────────────────

for (const layout of Object.keys(LAYOUTS) as Layout[]) {
  sharedTest(`checkpoints: ${layout} safetensors match openai/CLIP on both backends (≤ 1e-4)`, async () => {
    await withTemp(async (cache) => {
      for (const backend of ["node", "web"] as Backend[]) {
        const model = await load(join(FIXTURE, layout), cache, backend);
        try {
          assert.equal(model.backend, backend);
          assert.equal(model.dim, 64);
          assert.ok(
            Math.abs(model.logitScale - reference().logit_scale) < 1e-5,
            `logit scale ${model.logitScale}`,
          );
          const d = await diffs(model);
          console.log(`  ${layout} ${backend} max |clipkit − openai/CLIP|: ${JSON.stringify(d)}`);
          assert.ok(d.text <= TOLERANCE && d.image <= TOLERANCE && d.logits <= TOLERANCE, JSON.stringify(d));
        } finally {
          await model.dispose();
        }
      }
    });
  });
}

sharedTest(
  "checkpoints: the two layouts convert to the same ONNX graphs; position_ids buffers are skipped",
  async () => {
    await withTemp(async (cache) => {
      const hash = async (dir: string, file: string) =>
        createHash("sha256").update(await Deno.readFile(join(dir, "onnx", file))).digest("hex");
      const a = await prepareCheckpoint(join(FIXTURE, "openclip"), { cacheDir: cache, progress: false });
      const b = await prepareCheckpoint(join(FIXTURE, "hf"), { cacheDir: cache, progress: false });
      assert.notEqual(a.key, b.key);
      for (const file of ["text_model.onnx", "vision_model.onnx"]) {
        assert.equal(await hash(a.dir, file), await hash(b.dir, file), file);
      }
      using hf = await SafetensorsFile.open(join(FIXTURE, "hf", "model.safetensors"));
      assert.equal(hf.tensors.get("text_model.embeddings.position_ids")?.dtype, "I64"); // present, and ignored
      const config = JSON.parse(await Deno.readTextFile(join(a.dir, "config.json")));
      assert.equal(config.text_config.hidden_act, "quick_gelu");
    });
  },
);

// ── float16 / bfloat16 ──────────────────────────────────────────────────────────────────────────────────

for (const [layout, dtype] of [["openclip", "F16"], ["hf", "BF16"]] as const) {
  sharedTest(
    `checkpoints: a ${dtype} copy (${layout}) is widened exactly and matches within its rounding`,
    async () => {
      await withTemp(async (tmp) => {
        const cache = join(tmp, "cache");
        const weights = LAYOUTS[layout].weights;
        const tensors = await readTensors(join(FIXTURE, layout, weights));
        const convert = dtype === "F16" ? toHalfBytes : toBfloatBytes;
        const half = tensors.map((t) => t.dtype === "F32" ? { ...t, dtype, bytes: convert(f32(t)) } : t);
        const rounded = half.map((t) =>
          t.dtype === dtype
            ? { ...t, dtype: "F32", bytes: new Uint8Array(halfValues(t.bytes, dtype).buffer) }
            : t
        );
        const halfDir = await copyLayout(layout, join(tmp, "half"), { weights: false });
        const roundedDir = await copyLayout(layout, join(tmp, "rounded"), { weights: false });
        await writeSafetensors(join(halfDir, weights), half);
        await writeSafetensors(join(roundedDir, weights), rounded);

        // The reader widens every half exactly.
        {
          using file = await SafetensorsFile.open(join(halfDir, weights));
          for (const t of rounded.filter((t) => t.dtype === "F32")) {
            assert.deepEqual(await file.readFloat32(t.name), f32(t), t.name);
          }
        }
        // So the half copy exports the same graphs as float32 weights holding the rounded values…
        const a = await prepareCheckpoint(halfDir, { cacheDir: cache, progress: false });
        const b = await prepareCheckpoint(roundedDir, { cacheDir: cache, progress: false });
        for (const file of ["onnx/text_model.onnx", "onnx/vision_model.onnx"]) {
          assert.deepEqual(
            await Deno.readFile(join(a.dir, file)),
            await Deno.readFile(join(b.dir, file)),
            file,
          );
        }
        // …and its outputs differ from openai/CLIP's float32 ones by the rounding only.
        const model = await load(halfDir, cache);
        try {
          const d = await diffs(model);
          console.log(
            `  ${dtype} copy (${layout}) max |clipkit − openai/CLIP float32|: ${JSON.stringify(d)}`,
          );
          const tolerance = dtype === "F16" ? HALF_TOLERANCE : BFLOAT_TOLERANCE;
          assert.ok(d.text <= tolerance && d.image <= tolerance, JSON.stringify(d));
          assert.ok(d.text > 1e-7, "the rounded weights should change the outputs a little");
        } finally {
          await model.dispose();
        }
      });
    },
  );
}

// ── exact GELU ──────────────────────────────────────────────────────────────────────────────────────────

/** erf, Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 -
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
      Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/**
 * openai/CLIP's `encode_text` in float64 from the openai-named tensors (PyTorch layouts), for one row of ids:
 * embeddings, pre-LN blocks with causal attention, ln_final, the EOT row, text_projection.
 */
function textForward(w: Map<string, Float32Array>, ids: number[], gelu: "quick_gelu" | "gelu"): number[] {
  const W = 64, H = 4, d = W / H, layers = 2, D = 64;
  const L = ids.indexOf(Math.max(...ids)) + 1; // causal: positions after EOT do not reach it
  let x = Array.from(
    { length: L },
    (_, i) =>
      Array.from(
        { length: W },
        (_, c) =>
          w.get("token_embedding.weight")![ids[i] * W + c] + w.get("positional_embedding")![i * W + c],
      ),
  );
  const ln = (rows: number[][], p: string) =>
    rows.map((r) => {
      const mean = r.reduce((a, b) => a + b, 0) / W;
      const variance = r.reduce((a, b) => a + (b - mean) ** 2, 0) / W;
      return r.map((v, c) =>
        (v - mean) / Math.sqrt(variance + 1e-5) * w.get(`${p}.weight`)![c] + w.get(`${p}.bias`)![c]
      );
    });
  const linear = (rows: number[][], weight: Float32Array, bias: Float32Array, nOut: number) =>
    rows.map((r) =>
      Array.from({ length: nOut }, (_, o) => r.reduce((s, v, i) => s + v * weight[o * r.length + i], bias[o]))
    );
  const act = (v: number) =>
    gelu === "gelu" ? 0.5 * v * (1 + erf(v / Math.SQRT2)) : v / (1 + Math.exp(-1.702 * v));
  for (let l = 0; l < layers; l++) {
    const p = `transformer.resblocks.${l}`;
    const qkv = linear(
      ln(x, `${p}.ln_1`),
      w.get(`${p}.attn.in_proj_weight`)!,
      w.get(`${p}.attn.in_proj_bias`)!,
      3 * W,
    );
    const ctx = Array.from({ length: L }, () => new Array(W).fill(0));
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < L; i++) {
        const scores = Array.from({ length: i + 1 }, (_, j) => {
          let s = 0;
          for (let c = 0; c < d; c++) s += qkv[i][h * d + c] * qkv[j][W + h * d + c];
          return s / Math.sqrt(d);
        });
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j <= i; j++) {
          for (let c = 0; c < d; c++) ctx[i][h * d + c] += e[j] / z * qkv[j][2 * W + h * d + c];
        }
      }
    }
    const attn = linear(ctx, w.get(`${p}.attn.out_proj.weight`)!, w.get(`${p}.attn.out_proj.bias`)!, W);
    x = x.map((r, i) => r.map((v, c) => v + attn[i][c]));
    const fc = linear(ln(x, `${p}.ln_2`), w.get(`${p}.mlp.c_fc.weight`)!, w.get(`${p}.mlp.c_fc.bias`)!, 4 * W)
      .map((r) => r.map(act));
    const out = linear(fc, w.get(`${p}.mlp.c_proj.weight`)!, w.get(`${p}.mlp.c_proj.bias`)!, W);
    x = x.map((r, i) => r.map((v, c) => v + out[i][c]));
  }
  const pooled = ln(x, "ln_final")[L - 1];
  const proj = w.get("text_projection")!; // [W, D]
  return Array.from({ length: D }, (_, o) => pooled.reduce((s, v, i) => s + v * proj[i * D + o], 0));
}

sharedTest(
  "checkpoints: exact GELU (open_clip quick_gelu false, HF hidden_act gelu) matches a float64 forward",
  async () => {
    await withTemp(async (tmp) => {
      const cache = join(tmp, "cache");
      const ref = reference();
      const rows = [0, 2, 7]; // a short caption, a longer one, the truncated one
      const weights = new Map((await readTensors(join(FIXTURE, "openclip", "open_clip_model.safetensors")))
        .map((t) => [t.name, f32(t)]));
      // The float64 forward reproduces openai/CLIP with QuickGELU, so it can stand in for it with GELU.
      for (const r of rows) {
        const got = textForward(weights, ref.input_ids[r], "quick_gelu");
        const diff = Math.max(...got.map((v, c) => Math.abs(v - ref.text_embeds[r][c])));
        assert.ok(diff < 1e-5, `float64 forward vs openai/CLIP, row ${r}: ${diff}`);
      }
      const expected = rows.map((r) => textForward(weights, ref.input_ids[r], "gelu"));
      const openclip = await copyLayout("openclip", join(tmp, "openclip"));
      await editJson(
        join(openclip, "open_clip_config.json"),
        (j) => delete (j.model_cfg as Record<string, unknown>).quick_gelu,
      );
      const hf = await copyLayout("hf", join(tmp, "hf"));
      await editJson(join(hf, "config.json"), (j) => {
        (j.text_config as Record<string, unknown>).hidden_act = "gelu";
        (j.vision_config as Record<string, unknown>).hidden_act = "gelu";
      });
      const images: Matrix[] = [];
      for (const dir of [openclip, hf]) {
        const model = await load(dir, cache);
        try {
          assert.equal((model.config.raw.text_config as Record<string, unknown>).hidden_act, "gelu");
          const text = await model.encodeTokens({
            ids: Int32Array.from(rows.flatMap((r) => ref.input_ids[r])),
            shape: [rows.length, 77],
          });
          const diff = maxAbsDiff(text, expected);
          console.log(`  GELU ${basename(dir)}: max |clipkit − float64 forward| = ${diff}`);
          assert.ok(diff <= TOLERANCE, `${diff}`);
          images.push(await model.encodePixels(pixelValues()));
        } finally {
          await model.dispose();
        }
      }
      assert.ok(maxAbsDiff(images[0], images[1].toRows()) <= 1e-6, "both layouts, same GELU image tower");
      assert.ok(maxAbsDiff(images[0], ref.image_embeds) > 1e-3, "GELU and QuickGELU towers should differ");
    });
  },
);

// ── the cache ───────────────────────────────────────────────────────────────────────────────────────────

sharedTest("checkpoints: the cache is reused on the second load, and rebuilt when damaged", async () => {
  await withTemp(async (tmp) => {
    const cache = join(tmp, "cache");
    const source = await copyLayout("hf", join(tmp, "hf"));
    const events: string[] = [];
    const loadCounting = () =>
      ClipModel.load(source, {
        backend: "node",
        conversion: { cacheDir: cache, progress: false, onProgress: (p) => events.push(p.label) },
      });
    const converted = (since: number) => events.slice(since).some((l) => l.startsWith("converting"));

    const first = await loadCounting();
    const dir = first.dir;
    await first.dispose();
    assert.ok(converted(0), "the first load converts");
    assert.ok(dir.startsWith(cache), dir);
    const vision = join(dir, "onnx", "vision_model.onnx");
    const mtime = (await Deno.stat(vision)).mtime!.getTime();
    const manifest = await Deno.readTextFile(join(dir, MANIFEST));

    // Second load: same folder, nothing converted, nothing rewritten, not even re-hashed (the stamp matches).
    let mark = events.length;
    const second = await loadCounting();
    assert.equal(second.dir, dir);
    assert.ok(!converted(mark) && !events.slice(mark).some((l) => l.startsWith("hashing")), events.join());
    assert.equal((await Deno.stat(vision)).mtime!.getTime(), mtime);
    assert.equal(await Deno.readTextFile(join(dir, MANIFEST)), manifest);
    assert.ok((await diffs(second)).image <= TOLERANCE);
    await second.dispose();

    // A file cut short (an interrupted copy): the sizes disagree with the manifest, so it is rebuilt.
    const bytes = await Deno.readFile(vision);
    await Deno.writeFile(vision, bytes.subarray(0, bytes.length >> 1));
    mark = events.length;
    const third = await loadCounting();
    assert.ok(converted(mark), "a truncated cache file is rebuilt");
    assert.equal((await Deno.stat(vision)).size, bytes.length);
    assert.ok((await diffs(third)).image <= TOLERANCE);
    await third.dispose();

    // Damage the sizes do not show (a flipped first byte): the load fails, so it is rebuilt once and loaded.
    const damaged = await Deno.readFile(vision);
    damaged[0] ^= 0xff;
    await Deno.writeFile(vision, damaged);
    mark = events.length;
    const fourth = await loadCounting();
    assert.ok(converted(mark), "an unloadable cache folder is rebuilt");
    assert.ok((await diffs(fourth)).image <= TOLERANCE);
    await fourth.dispose();

    // A folder without its manifest (a conversion killed before the end) is not trusted.
    await Deno.remove(join(dir, MANIFEST));
    mark = events.length;
    await (await loadCounting()).dispose();
    assert.ok(converted(mark), "a folder without a manifest is rebuilt");

    // No temporary folders are left behind; a changed checkpoint gets a new key.
    const names = [...Deno.readDirSync(cache)].map((e) => e.name).sort();
    assert.deepEqual(names, [basename(dir), "sources"]);
    await editJson(join(source, "config.json"), (j) => j.logit_scale_init_value = 2.5);
    const changed = await prepareCheckpoint(source, { cacheDir: cache, progress: false });
    assert.ok(changed.converted && changed.dir !== dir);
  });
});

sharedTest("checkpoints: dtype fp16 and q8 build the variant into the cache folder", async () => {
  await withTemp(async (cache) => {
    const model = await load(join(FIXTURE, "openclip"), cache, "node", { dtype: "fp16" });
    try {
      assert.equal(model.dtype, "fp16");
      const d = await diffs(model);
      console.log(`  fp16 ONNX variant of a float32 checkpoint: ${JSON.stringify(d)}`);
      assert.ok(d.text <= HALF_TOLERANCE && d.image <= HALF_TOLERANCE, JSON.stringify(d));
      const manifest = JSON.parse(await Deno.readTextFile(join(model.dir, MANIFEST)));
      assert.ok(manifest.files["onnx/text_model_fp16.onnx"] > 0);
    } finally {
      await model.dispose();
    }
    const again = await prepareCheckpoint(join(FIXTURE, "openclip"), {
      cacheDir: cache,
      progress: false,
      dtype: "q8",
    });
    assert.ok(!again.converted);
    const manifest = JSON.parse(await Deno.readTextFile(join(again.dir, MANIFEST)));
    assert.ok(
      manifest.files["onnx/vision_model_quantized.onnx"] > 0 &&
        manifest.files["onnx/text_model_fp16.onnx"] > 0,
    );
  });
});

// ── bad input ───────────────────────────────────────────────────────────────────────────────────────────

const isSafetensors = (reason: string, pattern: RegExp) => (e: unknown) =>
  e instanceof SafetensorsError && e.reason === reason && pattern.test(e.message) &&
  e.message.includes("Fix:");

sharedTest(
  "safetensors: a file cut short, a lying header, bad offsets and unknown dtypes are typed errors",
  async () => {
    await withTemp(async (tmp) => {
      const original = join(FIXTURE, "openclip", "open_clip_model.safetensors");
      const bytes = await Deno.readFile(original);
      const tensors = await readTensors(original);
      const at = (name: string) => join(tmp, name);

      await Deno.writeFile(at("cut.safetensors"), bytes.subarray(0, bytes.length - 1000));
      await assert.rejects(
        SafetensorsFile.open(at("cut.safetensors")),
        isSafetensors("truncated", /cut short/),
      );
      await Deno.writeFile(at("stub.safetensors"), bytes.subarray(0, 5));
      await assert.rejects(
        SafetensorsFile.open(at("stub.safetensors")),
        isSafetensors("truncated", /fewer than the 8/),
      );
      await Deno.writeFile(at("head.safetensors"), bytes.subarray(0, 200));
      await assert.rejects(
        SafetensorsFile.open(at("head.safetensors")),
        isSafetensors("truncated", /header claims/),
      );

      await writeSafetensors(at("lies.safetensors"), tensors, (h) => h["visual.proj"].shape = [64, 65]);
      await assert.rejects(
        SafetensorsFile.open(at("lies.safetensors")),
        isSafetensors(
          "bad-header",
          /lies about visual\.proj: F32 \[64,65\] needs 16640 bytes, its offsets span 16384/,
        ),
      );
      await writeSafetensors(at("overlap.safetensors"), tensors, (h) => {
        const last = Object.values(h).reduce((a, b) => a.data_offsets[1] > b.data_offsets[1] ? a : b);
        last.data_offsets = [last.data_offsets[0] - 4, last.data_offsets[1] - 4];
      });
      await assert.rejects(
        SafetensorsFile.open(at("overlap.safetensors")),
        isSafetensors("bad-offsets", /overlaps/),
      );
      await writeSafetensors(at("outside.safetensors"), tensors, (h) => {
        const last = Object.values(h).reduce((a, b) => a.data_offsets[1] > b.data_offsets[1] ? a : b);
        last.data_offsets = [last.data_offsets[0] + 1024, last.data_offsets[1] + 1024];
      });
      await assert.rejects(
        SafetensorsFile.open(at("outside.safetensors")),
        (e: unknown) => e instanceof SafetensorsError && ["bad-offsets", "truncated"].includes(e.reason),
      );
      await writeSafetensors(at("dtype.safetensors"), tensors, (h) => h["logit_scale"].dtype = "F17");
      await assert.rejects(
        SafetensorsFile.open(at("dtype.safetensors")),
        isSafetensors("unknown-dtype", /"F17"/),
      );
      const garbage = new Uint8Array(64);
      new DataView(garbage.buffer).setBigUint64(0, 40n, true);
      garbage.set(new TextEncoder().encode("{not json"), 8);
      await Deno.writeFile(at("garbage.safetensors"), garbage);
      await assert.rejects(
        SafetensorsFile.open(at("garbage.safetensors")),
        isSafetensors("bad-header", /not valid UTF-8 JSON/),
      );

      using hf = await SafetensorsFile.open(join(FIXTURE, "hf", "model.safetensors"));
      await assert.rejects(
        hf.readFloat32("vision_model.embeddings.position_ids"),
        isSafetensors("unsupported-dtype", /is I64, not a floating-point weight/),
      );
    });
  },
);

sharedTest(
  "checkpoints: a cut-short checkpoint, missing or extra keys, other shapes are typed errors naming them",
  async () => {
    await withTemp(async (tmp) => {
      const cache = join(tmp, "cache");
      const tensors = await readTensors(join(FIXTURE, "openclip", "open_clip_model.safetensors"));
      const variant = async (name: string, edit: (t: Tensor[]) => Tensor[]) => {
        const dir = await copyLayout("openclip", join(tmp, name), { weights: false });
        await writeSafetensors(join(dir, "open_clip_model.safetensors"), edit(tensors));
        return dir;
      };

      const cut = await copyLayout("openclip", join(tmp, "cut"));
      const weights = join(cut, "open_clip_model.safetensors");
      await Deno.truncate(weights, (await Deno.stat(weights)).size - 4096);
      await assert.rejects(load(cut, cache), isSafetensors("truncated", /cut short/));

      const missing = await variant("missing", (t) => t.filter((x) => x.name !== "ln_final.bias"));
      await assert.rejects(
        load(missing, cache),
        (e: unknown) =>
          e instanceof CheckpointWeightsError && e.missing.join() === "ln_final.bias" &&
          e.unexpected.length === 0 &&
          /1 missing \(ln_final\.bias\)/.test(e.message),
      );

      const extra = await variant(
        "extra",
        (t) => [...t, { ...t.find((x) => x.name === "ln_final.bias")!, name: "visual.ls_1.gamma" }],
      );
      await assert.rejects(
        load(extra, cache),
        (e: unknown) =>
          e instanceof CheckpointWeightsError && e.unexpected.join() === "visual.ls_1.gamma" &&
          /left over \(visual\.ls_1\.gamma\)/.test(e.message) && /layer scale/.test(e.message),
      );

      const shapes = await copyLayout("openclip", join(tmp, "shapes"));
      await editJson(
        join(shapes, "open_clip_config.json"),
        (j) => (j.model_cfg as Record<string, unknown>).embed_dim = 32,
      );
      await assert.rejects(
        load(shapes, cache),
        (e: unknown) =>
          e instanceof CheckpointWeightsError && e.mismatched.length === 2 &&
          e.mismatched[0] === "visual.proj [64,64] ≠ [64,32]" &&
          e.message.includes("text_projection [64,64] ≠ [64,32]"),
      );
      // Nothing half-made was left in the cache by the failures.
      const left = [...Deno.readDirSync(cache)].map((e) => e.name).filter((n) => n !== "sources");
      assert.deepEqual(left, []);
    });
  },
);

sharedTest(
  "checkpoints: ResNet towers, non-CLIP configs and pickle-only folders are refused with what is supported",
  async () => {
    await withTemp(async (tmp) => {
      const cache = join(tmp, "cache");
      const resnet = await copyLayout("openclip", join(tmp, "resnet"), { weights: false });
      await Deno.copyFile(
        join(FIXTURE, "openclip", "open_clip_model.safetensors"),
        join(resnet, "open_clip_model.safetensors"),
      );
      await editJson(join(resnet, "open_clip_config.json"), (j) => {
        const v = (j.model_cfg as Record<string, Record<string, unknown>>).vision_cfg;
        v.layers = [3, 4, 6, 3];
        v.width = 64;
      });
      await assert.rejects(
        load(resnet, cache),
        (e: unknown) =>
          e instanceof UnsupportedCheckpointError && /ResNet image tower/.test(e.message) &&
          /ViT/.test(e.message),
      );

      const tensors = await readTensors(join(FIXTURE, "openclip", "open_clip_model.safetensors"));
      const resnetKeys = await copyLayout("openclip", join(tmp, "resnet-keys"), { weights: false });
      await writeSafetensors(join(resnetKeys, "open_clip_model.safetensors"), [
        ...tensors,
        { ...tensors.find((t) => t.name === "ln_final.bias")!, name: "visual.layer1.0.bn1.weight" },
      ]);
      await assert.rejects(
        load(resnetKeys, cache),
        (e: unknown) => e instanceof UnsupportedCheckpointError && /ResNet image tower/.test(e.message),
      );

      // ViT-H/14's image tower: 2.5 GB of float32 weights, more than one ONNX file holds.
      const huge = await copyLayout("openclip", join(tmp, "huge"));
      await editJson(join(huge, "open_clip_config.json"), (j) => {
        const model = j.model_cfg as Record<string, Record<string, unknown>>;
        Object.assign(model.vision_cfg, {
          image_size: 224,
          layers: 32,
          width: 1280,
          head_width: 80,
          patch_size: 14,
        });
      });
      await assert.rejects(
        load(huge, cache),
        (e: unknown) =>
          e instanceof UnsupportedCheckpointError && /vision tower holds 2\.3\d GiB/.test(e.message),
      );

      const siglip = await copyLayout("hf", join(tmp, "siglip"));
      await editJson(join(siglip, "config.json"), (j) => {
        j.model_type = "siglip";
        j.architectures = ["SiglipModel"];
      });
      await assert.rejects(
        load(siglip, cache),
        (e: unknown) =>
          e instanceof UnsupportedCheckpointError && /"siglip", not a CLIPModel/.test(e.message),
      );

      const tanh = await copyLayout("hf", join(tmp, "tanh"));
      await editJson(
        join(tanh, "config.json"),
        (j) => (j.text_config as Record<string, unknown>).hidden_act = "gelu_new",
      );
      await assert.rejects(
        load(tanh, cache),
        (e: unknown) =>
          e instanceof UnsupportedCheckpointError && /"gelu_new"/.test(e.message) &&
          /"quick_gelu" and "gelu"/.test(e.message),
      );

      const pickle = join(tmp, "pickle");
      await Deno.mkdir(pickle);
      await Deno.copyFile(
        join(FIXTURE, "openclip", "open_clip_config.json"),
        join(pickle, "open_clip_config.json"),
      );
      await Deno.writeFile(join(pickle, "open_clip_pytorch_model.bin"), new Uint8Array(16));
      await assert.rejects(
        load(pickle, cache),
        (e: unknown) =>
          e instanceof UnsupportedCheckpointError && /only in open_clip_pytorch_model\.bin/.test(e.message),
      );

      // An ONNX model folder is not a checkpoint; an empty folder is a missing config, as before.
      assert.equal(findCheckpoint(shared("fixtures", "clip-tiny-torch")), undefined);
      await Deno.mkdir(join(tmp, "empty"));
      await assert.rejects(load(join(tmp, "empty"), cache), MissingModelFileError);
    });
  },
);

sharedTest(
  "checkpoints: a sharded Hugging Face checkpoint (model.safetensors.index.json) loads",
  async () => {
    await withTemp(async (tmp) => {
      const dir = await copyLayout("hf", join(tmp, "sharded"), { weights: false });
      const tensors = await readTensors(join(FIXTURE, "hf", "model.safetensors"));
      const first = tensors.filter((t) => t.name.startsWith("vision_model."));
      const second = tensors.filter((t) => !t.name.startsWith("vision_model."));
      const shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
      await writeSafetensors(join(dir, shards[0]), first);
      await writeSafetensors(join(dir, shards[1]), second);
      const weight_map = Object.fromEntries([
        ...first.map((t) => [t.name, shards[0]]),
        ...second.map((t) => [t.name, shards[1]]),
      ]);
      await Deno.writeTextFile(
        join(dir, "model.safetensors.index.json"),
        JSON.stringify({ metadata: {}, weight_map }),
      );
      const model = await load(dir, join(tmp, "cache"));
      try {
        const d = await diffs(model);
        assert.ok(d.text <= TOLERANCE && d.image <= TOLERANCE && d.logits <= TOLERANCE, JSON.stringify(d));
      } finally {
        await model.dispose();
      }
      await Deno.remove(join(dir, shards[1]));
      await assert.rejects(
        load(dir, join(tmp, "cache")),
        (e: unknown) => e instanceof MissingModelFileError && e.message.includes(shards[1]),
      );
    });
  },
);

sharedTest(
  "checkpoints: without tokenizer files beside, the tokenizer option is used (and asked for)",
  async () => {
    await withTemp(async (tmp) => {
      const cache = join(tmp, "cache");
      const dir = join(tmp, "bare");
      await Deno.mkdir(dir);
      for (const file of ["open_clip_config.json", "open_clip_model.safetensors"]) {
        await Deno.copyFile(join(FIXTURE, "openclip", file), join(dir, file));
      }
      await assert.rejects(
        load(dir, cache),
        (e: unknown) => e instanceof MissingModelFileError && /has no tokenizer/.test(e.message),
      );
      assert.ok(!existsSync(cache), "nothing is converted before the missing tokenizer is reported");
      const model = await load(dir, cache, "node", {
        tokenizer: shared("clip", "bpe_simple_vocab_16e6.txt.gz"),
      });
      try {
        const d = await diffs(model);
        assert.ok(d.text <= TOLERANCE && d.image <= TOLERANCE, JSON.stringify(d));
        const config = JSON.parse(await Deno.readTextFile(join(model.dir, "config.json")));
        assert.deepEqual([config.text_config.bos_token_id, config.text_config.eos_token_id], [49406, 49407]);
      } finally {
        await model.dispose();
      }
    });
  },
);

// ── the hub ─────────────────────────────────────────────────────────────────────────────────────────────

const listing = (paths: string[]): RepoFile[] => paths.map((path) => ({ path, size: 1 }));
const TOKENIZER = [
  "tokenizer.json",
  "tokenizer_config.json",
  "vocab.json",
  "merges.txt",
  "special_tokens_map.json",
];

Deno.test("selectModelFiles: open_clip and Hugging Face safetensors repositories get only the checkpoint's files", () => {
  // laion/CLIP-ViT-B-32-laion2B-s34B-b79K carries open_clip's files and a transformers copy.
  const laion = listing([
    ".gitattributes",
    "README.md",
    "config.json",
    "merges.txt",
    "model.safetensors",
    "open_clip_config.json",
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.bin",
    "preprocessor_config.json",
    "pytorch_model.bin",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
  ]);
  assert.deepEqual(
    selectModelFiles(laion, "fp32").map((f) => f.path).sort(),
    [
      "merges.txt",
      "open_clip_config.json",
      "open_clip_model.safetensors",
      ...TOKENIZER.filter((t) => t !== "merges.txt"),
    ]
      .sort(),
  );
  // openai/clip-vit-base-patch32: transformers' files in three frameworks.
  const openai = listing([
    "config.json",
    "flax_model.msgpack",
    "merges.txt",
    "model.safetensors",
    "preprocessor_config.json",
    "pytorch_model.bin",
    "special_tokens_map.json",
    "tf_model.h5",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
    "onnx/model.onnx",
  ]);
  assert.deepEqual(
    selectModelFiles(openai, "fp32").map((f) => f.path).sort(),
    ["config.json", "model.safetensors", "preprocessor_config.json", ...TOKENIZER].sort(),
  );
  // A sharded checkpoint: the index and its safetensors shards, not the pickle shards.
  const sharded = listing([
    "config.json",
    "preprocessor_config.json",
    "model.safetensors.index.json",
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
    "pytorch_model.bin.index.json",
    "pytorch_model-00001-of-00002.bin",
    "pytorch_model-00002-of-00002.bin",
    "vocab.json",
    "merges.txt",
  ]);
  assert.deepEqual(selectCheckpointFiles(sharded)!.map((f) => f.path), [
    "config.json",
    "preprocessor_config.json",
    "model.safetensors.index.json",
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
    "vocab.json",
    "merges.txt",
  ]);
  // ONNX towers win when the repository has them for the dtype (transformers.js repositories).
  const xenova = listing([
    "config.json",
    "preprocessor_config.json",
    "model.safetensors",
    "onnx/text_model.onnx",
    "onnx/vision_model.onnx",
    "vocab.json",
    "merges.txt",
  ]);
  assert.ok(selectModelFiles(xenova, "fp32").some((f) => f.path === "onnx/text_model.onnx"));
  assert.ok(!selectModelFiles(xenova, "fp32").some((f) => f.path === "model.safetensors"));
  // …and the checkpoint is fetched for a dtype it lacks (the conversion builds the variant).
  assert.ok(selectModelFiles(xenova, "q8").some((f) => f.path === "model.safetensors"));
  // Pickle weights only: nothing clipkit reads.
  assert.throws(
    () => selectModelFiles(listing(["config.json", "preprocessor_config.json", "pytorch_model.bin"]), "fp32"),
    (e: unknown) =>
      e instanceof DownloadError && /only as a Python pickle \(pytorch_model\.bin\)/.test(e.message),
  );
});

sharedTest(
  "fetchModel: an open_clip repository on a local hub downloads only its checkpoint files, which load",
  async () => {
    const repo = "tester/open-clip-tiny";
    const files = new Map<string, Uint8Array<ArrayBuffer>>();
    for await (const entry of Deno.readDir(join(FIXTURE, "openclip"))) {
      files.set(entry.name, await Deno.readFile(join(FIXTURE, "openclip", entry.name)));
    }
    files.set("open_clip_pytorch_model.bin", new Uint8Array(1000)); // the pickle copy: not fetched
    files.set("README.md", new TextEncoder().encode("# tiny\n"));
    const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    const requested: string[] = [];
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const url = new URL(req.url);
      if (url.pathname === `/api/models/${repo}/tree/main`) {
        return Response.json([...files].map(([path, bytes]) => ({
          type: "file",
          path,
          size: bytes.length,
          lfs: { oid: sha256(bytes), size: bytes.length },
        })));
      }
      const path = decodeURIComponent(url.pathname.slice(`/${repo}/resolve/main/`.length));
      requested.push(path);
      const bytes = files.get(path);
      return bytes ? new Response(bytes) : new Response("Entry not found", { status: 404 });
    });
    await withTemp(async (tmp) => {
      try {
        const endpoint = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
        const result = await fetchModel(repo, { endpoint, dir: join(tmp, "model"), progress: false });
        assert.deepEqual(
          result.files.map((f) => f.path).sort(),
          ["merges.txt", "open_clip_config.json", "open_clip_model.safetensors", "vocab.json"],
        );
        assert.deepEqual(requested.sort(), result.files.map((f) => f.path).sort());
        const model = await load(result.dir, join(tmp, "cache"));
        try {
          const d = await diffs(model);
          assert.ok(d.text <= TOLERANCE && d.image <= TOLERANCE, JSON.stringify(d));
        } finally {
          await model.dispose();
        }
      } finally {
        await server.shutdown();
      }
    });
  },
);
