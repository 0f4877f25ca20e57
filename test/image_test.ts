/**
 * Image loading and CLIP preprocessing against PIL 9.4 + torchvision 0.14 (the golden data in
 * ../shared/golden/preprocess), the decoders on every PNG variant, and the bad inputs.
 *
 * Tolerances: the 8-bit crop must be identical (0 levels), the tensor within 1e-6 (it comes out bit-identical).
 * JPEGs decoded by imagescript instead of libjpeg-turbo: mean abs diff ≤ 0.01 and max ≤ 0.15 (normalised units).
 */
import nodeAssert from "node:assert/strict";
import { join } from "node:path";
import { shared, sharedTest } from "./_shared.ts";
import { CLIP_MEAN, CLIP_STD } from "../src/constants.ts";
import {
  type DecodedImage,
  decodeImage,
  encodePng,
  fromRGBA,
  ImageError,
  loadImage,
  preprocess,
  preprocessBatch,
  preprocessInto,
  preprocessorOptions,
  preprocessWithCrop,
  Resample,
  resizeCropRGB,
  toRGBA,
} from "../src/image/mod.ts";
import { decodePng } from "../src/image/png.ts";
import { ClipkitError } from "../src/errors.ts";
import { badImages, BOMB_SIDE, buildPng, chunk, noisePng, randomBytes } from "./fixtures/images.ts";
import { type PilCase, pilCaseInput } from "./fixtures/pil_refs.ts";

const GOLDEN = shared("golden", "preprocess");

function assert(cond: unknown, msg?: string): asserts cond {
  if (msg === undefined) nodeAssert.ok(cond);
  else nodeAssert.ok(cond, msg);
}
/** Deep equality; without a message, node's diff of the two values is the error message. */
function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (msg === undefined) nodeAssert.deepStrictEqual(actual, expected);
  else {nodeAssert.deepStrictEqual(
      actual,
      expected,
      `${msg}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`,
    );}
}
function checkError<E extends Error>(
  e: unknown,
  cls: new (...a: never[]) => E,
  includes?: string,
  label = "",
): E {
  assert(e instanceof cls, `${label}: expected ${cls.name}, got ${e}`);
  if (includes) assert(e.message.includes(includes), `${label}: "${e.message}" should include "${includes}"`);
  return e;
}
function assertThrows<E extends Error>(
  fn: () => unknown,
  cls: new (...a: never[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (e) {
    return checkError(e, cls, includes);
  }
  throw new Error(`expected ${cls.name} to be thrown`);
}
async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  cls: new (...a: never[]) => E,
  includes?: string,
  label = "",
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    return checkError(e, cls, includes, label);
  }
  throw new Error(`${label}: expected ${cls.name} to be thrown`);
}
const TENSOR_TOLERANCE = 1e-6;
const JPEG_MEAN_TOLERANCE = 0.01;
const JPEG_MAX_TOLERANCE = 0.15;

interface ManifestImage {
  file: string;
  format: string;
  pil_mode: string;
  width: number;
  height: number;
  crop_box_ltrb: number[];
  cropped_rgb_png: string;
  decoded: string | null;
  tensor: string;
}

/** `n` opaque RGBA pixels of grey `v`. */
function opaque(n: number, v: number): Uint8Array {
  return new Uint8Array(n * 4).map((_, i) => (i % 4 === 3 ? 255 : v));
}

async function manifest(): Promise<ManifestImage[]> {
  return JSON.parse(await Deno.readTextFile(join(GOLDEN, "manifest.json"))).images;
}

async function readTensor(path: string): Promise<Float32Array> {
  const bytes = await Deno.readFile(join(GOLDEN, path));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

function diff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number; count: number } {
  assertEquals(a.length, b.length);
  let max = 0, sum = 0, count = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > max) max = d;
    if (d) count++;
    sum += d;
  }
  return { max, mean: sum / a.length, count };
}

/** PIL's decoded JPEG pixels (lossless PNG, or raw CMYK), as a DecodedImage. */
async function pilDecoded(e: ManifestImage): Promise<DecodedImage> {
  const bytes = await Deno.readFile(join(GOLDEN, e.decoded!));
  if (e.decoded!.endsWith(".u8")) {
    return { width: e.width, height: e.height, mode: "CMYK", data: bytes, format: "RAW" };
  }
  return decodePng(bytes, e.decoded!);
}

sharedTest("golden: every PNG/GIF gives PIL's 8-bit crop exactly and its tensor within 1e-6", async () => {
  const images = (await manifest()).filter((e) => e.format !== "JPEG");
  assert(images.length >= 19);
  for (const e of images) {
    const img = await loadImage(join(GOLDEN, e.file));
    assertEquals([img.mode, img.width, img.height], [e.pil_mode, e.width, e.height], e.file);
    const { tensor, cropped } = preprocessWithCrop(img);
    assertEquals([cropped.mode, cropped.width, cropped.height], ["RGB", 224, 224]);
    assertEquals(toRGBA(cropped).data.length, 224 * 224 * 4);
    const ref = decodePng(await Deno.readFile(join(GOLDEN, e.cropped_rgb_png)), e.cropped_rgb_png);
    assertEquals(diff(cropped.data, ref.data).count, 0, `${e.file}: 8-bit crop differs from PIL`);
    const t = diff(tensor, await readTensor(e.tensor));
    assert(t.max <= TENSOR_TOLERANCE, `${e.file}: tensor max abs diff ${t.max}`);
  }
});

sharedTest(
  "golden: JPEGs from PIL's decoded pixels are exact; decoded by imagescript, within the decoder tolerance",
  async () => {
    const images = (await manifest()).filter((e) => e.format === "JPEG");
    assertEquals(images.length, 5);
    const rows: string[] = [];
    for (const e of images) {
      const ref = await readTensor(e.tensor);
      const exact = preprocessWithCrop(await pilDecoded(e));
      const crop = decodePng(await Deno.readFile(join(GOLDEN, e.cropped_rgb_png)), e.cropped_rgb_png);
      assertEquals(diff(exact.cropped.data, crop.data).count, 0, `${e.file}: 8-bit crop differs from PIL`);
      assert(diff(exact.tensor, ref).max <= TENSOR_TOLERANCE, `${e.file}: tensor differs from PIL`);

      const img = await loadImage(join(GOLDEN, e.file), { jpegDecoder: "imagescript" });
      assertEquals([img.mode, img.width, img.height, img.decoder], [
        e.pil_mode,
        e.width,
        e.height,
        "imagescript",
      ]);
      const d = diff(preprocess(img), ref);
      rows.push(`${e.file.padEnd(40)} max ${d.max.toFixed(4)}  mean ${d.mean.toFixed(5)}`);
      assert(d.mean <= JPEG_MEAN_TOLERANCE, `${e.file}: mean abs diff ${d.mean}`);
      assert(d.max <= JPEG_MAX_TOLERANCE, `${e.file}: max abs diff ${d.max}`);
    }
    console.log("JPEG decoded by imagescript vs libjpeg-turbo (normalised units):\n  " + rows.join("\n  "));
  },
);

sharedTest(
  "golden: JPEGs decoded by libjpeg-turbo (sharp) give PIL's crop exactly; CMYK falls back to imagescript",
  async (t) => {
    const images = (await manifest()).filter((e) => e.format === "JPEG");
    const probe = await loadImage(join(GOLDEN, images[0].file));
    if (probe.decoder !== "libjpeg-turbo") {
      console.warn("NOTICE: sharp does not load here; the libjpeg-turbo JPEG path is not tested");
      return;
    }
    for (const e of images) {
      await t.step(e.file, async () => {
        const img = await loadImage(join(GOLDEN, e.file));
        assertEquals([img.mode, img.width, img.height], [e.pil_mode, e.width, e.height]);
        if (e.pil_mode === "CMYK") {
          assertEquals(img.decoder, "imagescript");
          return;
        }
        assertEquals(img.decoder, "libjpeg-turbo");
        const pil = await pilDecoded(e);
        assertEquals(diff(img.data, pil.data).count, 0, `${e.file}: decoded pixels differ from PIL's`);
        const { tensor, cropped } = preprocessWithCrop(img);
        const crop = decodePng(await Deno.readFile(join(GOLDEN, e.cropped_rgb_png)), e.cropped_rgb_png);
        assertEquals(diff(cropped.data, crop.data).count, 0, `${e.file}: 8-bit crop differs from PIL`);
        assert(diff(tensor, await readTensor(e.tensor)).max <= TENSOR_TOLERANCE, `${e.file}: tensor differs`);
      });
    }
  },
);

sharedTest("golden: EXIF orientation is ignored by default and applied with autoOrient", async () => {
  const path = join(GOLDEN, "inputs", "synth_exif_orient6_240x160.jpg");
  const plain = await loadImage(path);
  assertEquals([plain.width, plain.height, plain.orientation], [240, 160, 6]);
  const upright = await loadImage(path, { autoOrient: true });
  assertEquals([upright.width, upright.height, upright.orientation], [160, 240, 1]);
  // Orientation 6 = rotate 90° clockwise: the upright top-left pixel is the stored bottom-left one.
  for (const [x, y] of [[0, 0], [159, 0], [0, 239], [37, 101]]) {
    const sx = y, sy = 160 - 1 - x;
    assertEquals(
      Array.from(upright.data.subarray((y * 160 + x) * 3, (y * 160 + x) * 3 + 3)),
      Array.from(plain.data.subarray((sy * 240 + sx) * 3, (sy * 240 + sx) * 3 + 3)),
    );
  }
});

sharedTest("golden: batch, in-place and single-image forms give the same tensors", async () => {
  const files = ["astronaut_256.png", "synth_palette_90x60.gif", "synth_rgba_160x120.png"];
  const images = await Promise.all(files.map((f) => loadImage(join(GOLDEN, "inputs", f))));
  const per = 3 * 224 * 224;
  const out = new Float32Array(4 * per).fill(7);
  const batch = preprocessBatch(images, {}, out);
  assert(batch === out, "the given buffer is filled, not copied");
  for (let i = 0; i < images.length; i++) {
    assertEquals(diff(batch.subarray(i * per, (i + 1) * per), preprocess(images[i])).count, 0);
  }
  assertEquals(out[3 * per], 7, "slots after the batch are untouched");
  const one = new Float32Array(2 * per);
  preprocessInto(images[1], one, per);
  assertEquals(diff(one.subarray(per), preprocess(images[1])).count, 0);
  assertThrows(() => preprocessInto(images[0], one, per + 1), ImageError, "no room");
});

Deno.test("preprocess: defaults are CLIP's; size, crop and normalisation options apply", () => {
  const img = fromRGBA(3, 2, randomBytes(24, 3).map((v, i) => (i % 4 === 3 ? 255 : v)));
  assertEquals(preprocess(img).length, 3 * 224 * 224);
  assertEquals(preprocess(img, { size: 32 }).length, 3 * 32 * 32);
  assertEquals(preprocess(img, { size: 32, cropSize: 16 }).length, 3 * 16 * 16);
  // A uniform grey image: every value is (v/255 - mean)/std per channel, in float32.
  const grey = fromRGBA(5, 4, opaque(20, 128));
  const t = preprocess(grey, { size: 8 });
  for (let c = 0; c < 3; c++) {
    const want = Math.fround(
      Math.fround(Math.fround(128 / 255) - Math.fround(CLIP_MEAN[c])) / Math.fround(CLIP_STD[c]),
    );
    assertEquals(t[c * 64 + 10], want);
  }
  const plain = preprocess(grey, { size: 8, mean: [0, 0, 0], std: [1, 1, 1] });
  assertEquals(plain[0], Math.fround(128 / 255));
  assertThrows(() => preprocess(grey, { size: 0 }), ImageError, "size");
  assertThrows(() => preprocess(grey, { std: [1, 0, 1] }), ImageError, "std");
  assertThrows(
    () => preprocess({ width: 2, height: 2, mode: "RGB", data: new Uint8Array(3), format: "RAW" }),
    ImageError,
  );
});

Deno.test("preprocess: centre crop offsets use Python's round-half-to-even, crops larger than the image pad with 0", () => {
  // 41×40 → 229×224: left = round(2.5) = 2. Mark columns by value to read the offset back (NEAREST keeps values).
  const w = 229, h = 224;
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgba.set([x % 256, 0, 0, 255], (y * w + x) * 4);
  const crop = resizeCropRGB(fromRGBA(w, h, rgba));
  assertEquals(crop.data[0], 2);
  const padded = resizeCropRGB(fromRGBA(2, 2, opaque(4, 255)), { size: 2, cropSize: 4 });
  assertEquals(Array.from(padded.data.subarray(0, 3)), [0, 0, 0]); // corner: padding
  assertEquals(Array.from(padded.data.subarray((1 * 4 + 1) * 3, (1 * 4 + 1) * 3 + 3)), [255, 255, 255]);
});

Deno.test("preprocessorOptions reads a Hugging Face preprocessor_config.json", () => {
  const o = preprocessorOptions({
    crop_size: { height: 336, width: 336 },
    do_center_crop: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.25, 0.25, 0.25],
    resample: 2,
    size: { shortest_edge: 336 },
  });
  assertEquals(o, { size: 336, cropSize: 336, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], resample: 2 });
  const clip = preprocessorOptions('{"size": 224, "crop_size": 224}');
  assertEquals([clip.size, clip.cropSize, clip.resample, clip.mean, clip.std], [
    224,
    224,
    3,
    CLIP_MEAN,
    CLIP_STD,
  ]);
  assertThrows(
    () => preprocessorOptions({ crop_size: { height: 224, width: 200 } }),
    ImageError,
    "non-square",
  );
  assertThrows(() => preprocessorOptions({ resample: 9 }), ImageError, "resample");
  assertThrows(() => preprocessorOptions("{size: 224"), ImageError, "not valid JSON");
});

Deno.test("fromRGBA, toRGBA and encodePng round-trip; premultiplied resize blackens transparent pixels", () => {
  const rgba = Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 0, 0, 0, 255, 128, 9, 9, 9, 255]);
  const img = fromRGBA(2, 2, rgba);
  assertEquals(toRGBA(img).data, rgba);
  const png = decodePng(encodePng(2, 2, rgba), "encoded.png");
  assertEquals([png.mode, png.width, png.height, Array.from(png.data)], ["RGBA", 2, 2, Array.from(rgba)]);
  // Fully transparent green next to opaque pixels: PIL premultiplies, so green does not bleed into the result.
  const crop = resizeCropRGB(fromRGBA(2, 1, Uint8Array.from([0, 255, 0, 0, 200, 0, 0, 255])), { size: 3 });
  assert(crop.data.every((v, i) => i % 3 !== 1 || v === 0), "no green from the transparent pixel");
  assertThrows(() => fromRGBA(2, 2, new Uint8Array(15)), ImageError, "needs 16 bytes");
  // Opaque RGBA resizes exactly like the same pixels as RGB (PIL's premultiply round trip is the identity).
  const rgbaNoise = randomBytes(31 * 17 * 4, 11).map((v, i) => (i % 4 === 3 ? 255 : v));
  const rgbNoise = rgbaNoise.filter((_, i) => i % 4 !== 3);
  const asRgb: DecodedImage = { width: 31, height: 17, mode: "RGB", data: rgbNoise, format: "RAW" };
  assertEquals(
    resizeCropRGB(fromRGBA(31, 17, rgbaNoise), { size: 12 }).data,
    resizeCropRGB(asRgb, { size: 12 }).data,
  );
});

Deno.test("PNG decoder: every colour type, bit depth, filter and interlacing gives PIL's mode and values", () => {
  const w = 13, h = 11;
  const cases: { spec: Parameters<typeof buildPng>[0]; mode: string; expect: (i: number) => number[] }[] = [];
  const noise = randomBytes(w * h * 8, 5);
  for (const interlace of [false, true]) {
    const s8 = (n: number) => Array.from(noise.subarray(0, w * h * n));
    cases.push({
      spec: { width: w, height: h, colorType: 2, bitDepth: 8, samples: s8(3), interlace },
      mode: "RGB",
      expect: (i) => s8(3).slice(i * 3, i * 3 + 3),
    });
    cases.push({
      spec: { width: w, height: h, colorType: 6, bitDepth: 8, samples: s8(4), interlace },
      mode: "RGBA",
      expect: (i) => s8(4).slice(i * 4, i * 4 + 4),
    });
    const s16 = Array.from({ length: w * h * 4 }, (_, i) => (noise[i] << 8) | noise[i + 1]);
    cases.push({
      spec: { width: w, height: h, colorType: 2, bitDepth: 16, samples: s16, interlace },
      mode: "RGB",
      expect: (i) => s16.slice(i * 3, i * 3 + 3).map((v) => v >> 8),
    });
    cases.push({
      spec: { width: w, height: h, colorType: 6, bitDepth: 16, samples: s16, interlace },
      mode: "RGBA",
      expect: (i) => s16.slice(i * 4, i * 4 + 4).map((v) => v >> 8),
    });
    cases.push({
      spec: { width: w, height: h, colorType: 4, bitDepth: 16, samples: s16, interlace },
      mode: "RGBA",
      expect: (i) => [s16[i * 2] >> 8, s16[i * 2] >> 8, s16[i * 2] >> 8, s16[i * 2 + 1] >> 8],
    });
    cases.push({
      spec: { width: w, height: h, colorType: 0, bitDepth: 16, samples: s16, interlace },
      mode: "I",
      expect: (i) => [s16[i] >> 8, s16[i] & 255],
    });
    for (const [depth, scale] of [[2, 85], [4, 17]]) {
      const s = Array.from(noise.subarray(0, w * h), (v) => v & ((1 << depth) - 1));
      cases.push({
        spec: { width: w, height: h, colorType: 0, bitDepth: depth as 2 | 4, samples: s, interlace },
        mode: "L",
        expect: (i) => [s[i] * scale],
      });
    }
    const bits = Array.from(noise.subarray(0, w * h), (v) => v & 1);
    cases.push({
      spec: { width: w, height: h, colorType: 0, bitDepth: 1, samples: bits, interlace },
      mode: "1",
      expect: (i) => [bits[i] * 255],
    });
    const idx = Array.from(noise.subarray(0, w * h), (v) => v & 3);
    cases.push({
      spec: {
        width: w,
        height: h,
        colorType: 3,
        bitDepth: 2,
        samples: idx,
        interlace,
        palette: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
        trns: [0, 128],
      },
      mode: "P",
      expect: (i) => [idx[i]],
    });
  }
  for (const { spec, mode, expect } of cases) {
    const img = decodePng(buildPng(spec), "case.png");
    const label = `colour type ${spec.colorType}, ${spec.bitDepth}-bit, interlace ${spec.interlace}`;
    assertEquals(img.mode, mode, label);
    const ch = img.data.length / (w * h);
    for (let i = 0; i < w * h; i++) {
      assertEquals(Array.from(img.data.subarray(i * ch, i * ch + ch)), expect(i), label);
    }
    if (mode === "P") {
      assertEquals(Array.from(img.palette!.subarray(0, 12)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      assertEquals(Array.from(img.paletteAlpha!.subarray(0, 3)), [0, 128, 255]);
    }
  }
});

Deno.test("loadImage reads paths, file: and http: URLs, and bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "noise.png");
    await Deno.writeFile(path, noisePng(9, 4));
    for (const src of [path, new URL(`file://${path}`), `file://${path}`, await Deno.readFile(path)]) {
      const img = await loadImage(src);
      assertEquals([img.width, img.height, img.mode, img.format], [9, 4, "RGB", "PNG"]);
    }
    const e = await assertRejects(() => loadImage(join(dir, "missing.png")), ImageError);
    assertEquals(e.reason, "unreadable");
    assert(e.message.includes("missing.png"));
    // http: a local server gives the file, or a 404.
    const png = await Deno.readFile(path);
    const server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {} },
      (req) =>
        new URL(req.url).pathname === "/noise.png" ? new Response(png) : new Response("no", { status: 404 }),
    );
    try {
      const base = `http://127.0.0.1:${server.addr.port}`;
      assertEquals((await loadImage(`${base}/noise.png`)).width, 9);
      const missing = await assertRejects(
        () => loadImage(new URL(`${base}/gone.png`)),
        ImageError,
        "HTTP 404",
      );
      assertEquals(missing.reason, "unreadable");
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad input: each fixture is refused with a typed error naming the file, the reason and a fix", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, { bytes, reason }] of Object.entries(await badImages())) {
      const path = join(dir, name);
      await Deno.writeFile(path, bytes);
      const e = await assertRejects(() => loadImage(path), ImageError, undefined, name);
      if (name.endsWith(".jpg")) {
        const viaImagescript = await assertRejects(
          () => loadImage(path, { jpegDecoder: "imagescript" }),
          ImageError,
          undefined,
          name,
        );
        assertEquals(viaImagescript.reason, reason, `${name} (imagescript): ${viaImagescript.message}`);
      }
      assertEquals(e.reason, reason, `${name}: ${e.message}`);
      assert(e instanceof ClipkitError, "an ImageError is a ClipkitError");
      assertEquals(e.path, path);
      assert(e.message.includes(path), `${name}: the message names the file: ${e.message}`);
      assert(e.message.includes("Fix: "), `${name}: the message says what to do: ${e.message}`);
    }
    const unsupported = await assertRejects(() => loadImage(join(dir, "image.bmp")), ImageError);
    assert(unsupported.message.includes("BMP") && unsupported.message.includes("PNG, JPEG, GIF"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad input: the pixel limit is read from the header and configurable", async () => {
  const bomb = (await badImages())["bomb.png"].bytes;
  const e = await assertRejects(
    () => decodeImage(bomb, { name: "bomb.png" }),
    ImageError,
    `${BOMB_SIDE}×${BOMB_SIDE}`,
  );
  assertEquals(e.reason, "too-large");
  const png = noisePng(20, 10);
  await assertRejects(() => decodeImage(png, { maxPixels: 199 }), ImageError, "limit of 199");
  assertEquals((await decodeImage(png, { maxPixels: 200 })).width, 20);
});

Deno.test("resample filters: upscaling a constant image keeps it constant for every PIL filter", () => {
  const img = fromRGBA(3, 5, opaque(15, 77));
  for (const resample of Object.values(Resample)) {
    const crop = resizeCropRGB(img, { size: 17, resample });
    assert(crop.data.every((v) => v === 77), `filter ${resample}`);
  }
});

Deno.test("PIL references: 16-bit PNGs, CMYK, every filter, odd sizes and padded crops give PIL's 8-bit crop exactly", async () => {
  const refs = JSON.parse(await Deno.readTextFile(new URL("./fixtures/pil_refs.json", import.meta.url))) as {
    cases: (PilCase & { pil_mode: string; rgb: string })[];
  };
  assert(refs.cases.length >= 60);
  const modes = new Set<string>();
  for (const c of refs.cases) {
    const input = pilCaseInput(c);
    const img: DecodedImage = c.kind === "cmyk"
      ? { width: c.width, height: c.height, mode: "CMYK", data: input, format: "RAW" }
      : decodePng(input, c.name);
    assertEquals(img.mode, c.pil_mode, c.name);
    modes.add(img.mode);
    const got = resizeCropRGB(img, { size: c.size, cropSize: c.crop, resample: c.resample as 0 });
    const want = Uint8Array.from(atob(c.rgb), (ch) => ch.charCodeAt(0));
    assertEquals(diff(got.data, want).count, 0, `${c.name}: ${JSON.stringify({ ...c, rgb: undefined })}`);
  }
  assertEquals([...modes].sort(), ["1", "CMYK", "I", "L", "LA", "P", "RGB", "RGBA"]);
});

Deno.test("EXIF orientation 1..8 from a PNG eXIf chunk: ignored by default, applied like PIL's exif_transpose", async () => {
  // 5×3 RGB, stored top-left red, top-right green, the rest grey.
  const w = 5, h = 3;
  const samples = new Array(w * h * 3).fill(128);
  samples.splice(0, 3, 255, 0, 0);
  samples.splice((w - 1) * 3, 3, 0, 255, 0);
  const png = buildPng({ width: w, height: h, colorType: 2, bitDepth: 8, samples });
  // Where the stored top-left and top-right pixels land (corner of the upright image), per the EXIF spec.
  const corners: Record<number, [string, string]> = {
    1: ["TL", "TR"],
    2: ["TR", "TL"],
    3: ["BR", "BL"],
    4: ["BL", "BR"],
    5: ["TL", "BL"],
    6: ["TR", "BR"],
    7: ["BR", "TR"],
    8: ["BL", "TL"],
  };
  for (let o = 1; o <= 8; o++) {
    // Big-endian TIFF: IFD0 at 8 with one entry, Orientation (0x0112), SHORT, count 1, value o.
    const tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, o, 0, 0, 0, 0, 0, 0];
    const withExif = new Uint8Array([...png.subarray(0, 33), ...chunk("eXIf", tiff), ...png.subarray(33)]);
    const plain = await loadImage(withExif);
    assertEquals([plain.width, plain.height, plain.orientation, plain.data[0]], [w, h, o, 255]);
    const up = await loadImage(withExif, { autoOrient: true });
    const [W, H] = o >= 5 ? [h, w] : [w, h];
    assertEquals([up.width, up.height, up.orientation], [W, H, 1]);
    const at = (corner: string) => {
      const x = corner[1] === "L" ? 0 : W - 1, y = corner[0] === "T" ? 0 : H - 1;
      return Array.from(up.data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));
    };
    assertEquals(at(corners[o][0]), [255, 0, 0], `orientation ${o}: stored top-left`);
    assertEquals(at(corners[o][1]), [0, 255, 0], `orientation ${o}: stored top-right`);
  }
});
