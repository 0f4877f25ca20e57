/**
 * Image preprocessing speed and exactness: decode + CLIP preprocess to 224 on the golden inputs
 * (`../shared/golden/preprocess/inputs`, 25 PNG/JPEG/GIF files), for
 * - this kit (`decodeImage` + `preprocess`), with its default JPEG decoder (libjpeg-turbo through sharp when it
 *   loads) and with imagescript's WebAssembly JPEG decoder,
 * - transformers.js's `CLIPImageProcessor` (configured like CLIP, offline; `RawImage.fromBlob` decodes with sharp),
 * - PIL + torchvision (`clip._transform(224)`) in Python, when `python3` can import them (Debian's
 *   `python3-pil python3-torchvision`; torch limited to 1 thread like the JS code).
 * Each reads the same bytes from memory; one warm-up pass, then the best of the timed passes (the two JS ones take
 * turns within each pass). Exactness is the max / mean abs difference from the golden tensors over all images
 * (normalised units).
 *
 * Run: `deno run -A bench/preprocess.ts` (prints a table). `runPreprocessBench()` returns the rows.
 * @module
 */
import { CLIPImageProcessor, env, RawImage } from "@huggingface/transformers";
import { join } from "node:path";
import { CLIP_MEAN, CLIP_STD } from "../src/constants.ts";
import { decodeImage, preprocess } from "../src/image/mod.ts";
import { shared } from "./shared.ts";
import { VERSIONS } from "./versions.ts";

/** One measured implementation. */
export interface PreprocessBenchRow {
  implementation: string;
  images: number;
  /** Best time of one pass over all images. */
  seconds: number;
  imagesPerSecond: number;
  /** This kit's speed over this row's speed (1 for this kit). */
  speedup: number;
  /** Largest abs difference from the golden tensors, over all images (normalised units). */
  maxAbsDiff: number;
  /** Mean abs difference from the golden tensors, over all values of all images. */
  meanAbsDiff: number;
  /** Golden inputs this implementation could not load (left out of its timing and accuracy). */
  failed: string[];
}

/** Options of {@link runPreprocessBench}. */
export interface PreprocessBenchOptions {
  /** Timed passes after one warm-up pass; the best is kept. */
  passes?: number;
  /** Python interpreters to try for PIL + torchvision, first that imports both wins. */
  pythons?: string[];
}

interface GoldenImage {
  file: string;
  bytes: Uint8Array;
  tensor: Float32Array;
}

const GOLDEN = shared("golden", "preprocess");

async function goldenImages(): Promise<GoldenImage[]> {
  const manifest = JSON.parse(await Deno.readTextFile(join(GOLDEN, "manifest.json")));
  return await Promise.all(
    manifest.images.map(async (e: { file: string; tensor: string }) => {
      const t = await Deno.readFile(join(GOLDEN, e.tensor));
      return {
        file: e.file,
        bytes: await Deno.readFile(join(GOLDEN, e.file)),
        tensor: new Float32Array(t.buffer, t.byteOffset, t.byteLength / 4),
      };
    }),
  );
}

function accuracy(images: GoldenImage[], outputs: (Float32Array | null)[]): { max: number; mean: number } {
  let max = 0, sum = 0, n = 0;
  images.forEach((img, i) => {
    const out = outputs[i];
    if (!out) return;
    for (let j = 0; j < img.tensor.length; j++) {
      const d = Math.abs(out[j] - img.tensor[j]);
      if (d > max) max = d;
      sum += d;
    }
    n += img.tensor.length;
  });
  return { max, mean: sum / n };
}

/** One warm-up run of each, then `passes` rounds running each once in turn; the best time of each. */
async function bestInterleaved(passes: number, runs: (() => Promise<void>)[]): Promise<number[]> {
  for (const run of runs) await run(); // warm-up: JIT, coefficient caches, WASM instantiation
  const best = runs.map(() => Infinity);
  for (let p = 0; p < passes; p++) {
    for (let r = 0; r < runs.length; r++) {
      const t0 = performance.now();
      await runs[r]();
      best[r] = Math.min(best[r], (performance.now() - t0) / 1000);
    }
  }
  return best;
}

/** Times PIL + torchvision in Python on the same files; null when no interpreter has them. */
async function pythonBench(
  pythons: string[],
  files: string[],
  passes: number,
): Promise<{ version: string; seconds: number; max: number; mean: number } | null> {
  const script = `
import io, json, sys, time
import numpy as np, torch
import PIL, torchvision
from PIL import Image
from torchvision.transforms import Compose, Resize, CenterCrop, ToTensor, Normalize, InterpolationMode
torch.set_num_threads(1)
files, passes, golden = json.loads(sys.stdin.read())
data = [open(f, "rb").read() for f in files]
t = Compose([Resize(224, interpolation=InterpolationMode.BICUBIC), CenterCrop(224),
             lambda im: im.convert("RGB"), ToTensor(),
             Normalize(${JSON.stringify(CLIP_MEAN)}, ${JSON.stringify(CLIP_STD)})])
def run():
    return [t(Image.open(io.BytesIO(b))) for b in data]
outs = run()
best = float("inf")
for _ in range(passes):
    t0 = time.perf_counter(); run(); best = min(best, time.perf_counter() - t0)
mx, s, n = 0.0, 0.0, 0
for o, g in zip(outs, golden):
    ref = np.fromfile(g, dtype="<f4")
    d = np.abs(o.numpy().ravel() - ref)
    mx = max(mx, float(d.max())); s += float(d.sum()); n += d.size
print(json.dumps({"version": f"PIL {PIL.__version__} + torchvision {torchvision.__version__}", "seconds": best, "max": mx, "mean": s / n}))
`;
  const manifest = JSON.parse(await Deno.readTextFile(join(GOLDEN, "manifest.json")));
  const tensors = manifest.images.map((e: { tensor: string }) => join(GOLDEN, e.tensor));
  for (const python of pythons) {
    try {
      const child = new Deno.Command(python, {
        args: ["-c", script],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      })
        .spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(JSON.stringify([files, passes, tensors])));
      await writer.close();
      const { code, stdout } = await child.output();
      if (code === 0) return JSON.parse(new TextDecoder().decode(stdout));
    } catch {
      // this interpreter is missing; try the next
    }
  }
  return null;
}

/**
 * Measures every available implementation and returns one row each, this kit first.
 * @example
 * const rows = await runPreprocessBench({ passes: 1 });
 * rows.map((r) => `${r.implementation}: ${r.imagesPerSecond.toFixed(0)} images/s, max |Δ| ${r.maxAbsDiff}`)
 */
export async function runPreprocessBench(
  options: PreprocessBenchOptions = {},
): Promise<PreprocessBenchRow[]> {
  const passes = options.passes ?? 5;
  const images = await goldenImages();
  const rows: Omit<PreprocessBenchRow, "speedup">[] = [];

  let ours: Float32Array[] = [];
  const runOurs = async () => {
    ours = [];
    for (const img of images) ours.push(preprocess(await decodeImage(img.bytes, { name: img.file })));
  };
  let oursWasm: Float32Array[] = [];
  const runOursWasm = async () => {
    oursWasm = [];
    for (const img of images) {
      oursWasm.push(preprocess(await decodeImage(img.bytes, { name: img.file, jpegDecoder: "imagescript" })));
    }
  };

  env.allowRemoteModels = false;
  const processor = new CLIPImageProcessor(
    ({
      do_resize: true,
      size: { shortest_edge: 224 },
      resample: 3,
      do_center_crop: true,
      crop_size: 224,
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [...CLIP_MEAN],
      image_std: [...CLIP_STD],
      do_convert_rgb: true,
    }) as unknown as ConstructorParameters<typeof CLIPImageProcessor>[0],
  );
  // transformers.js cannot load some inputs (e.g. 2-channel grey+alpha PNGs): those are left out.
  const usable: boolean[] = [];
  for (const img of images) {
    try {
      await processor(await RawImage.fromBlob(new Blob([img.bytes as Uint8Array<ArrayBuffer>])));
      usable.push(true);
    } catch {
      usable.push(false);
    }
  }
  let theirs: (Float32Array | null)[] = [];
  const runTheirs = async () => {
    theirs = [];
    for (let i = 0; i < images.length; i++) {
      if (!usable[i]) {
        theirs.push(null);
        continue;
      }
      const raw = await RawImage.fromBlob(new Blob([images[i].bytes as Uint8Array<ArrayBuffer>]));
      const { pixel_values } = await processor(raw);
      theirs.push(pixel_values.data as Float32Array);
    }
  };

  // Both JS implementations take turns within each pass, so a busy machine slows both alike.
  const [oursSeconds, wasmSeconds, theirSeconds] = await bestInterleaved(passes, [
    runOurs,
    runOursWasm,
    runTheirs,
  ]);
  const probe = await decodeImage(images.find((i) => i.file.endsWith(".jpg"))!.bytes);
  for (
    const [label, seconds, outputs] of [
      [
        `JPEG by ${
          probe.decoder === "libjpeg-turbo" ? "libjpeg-turbo (sharp)" : "imagescript: sharp did not load"
        }`,
        oursSeconds,
        ours,
      ],
      ["JPEG by imagescript (WebAssembly)", wasmSeconds, oursWasm],
    ] as const
  ) {
    const a = accuracy(images, outputs);
    rows.push({
      implementation: `clipkit decodeImage + preprocess, ${label}`,
      images: images.length,
      seconds,
      imagesPerSecond: images.length / seconds,
      maxAbsDiff: a.max,
      meanAbsDiff: a.mean,
      failed: [],
    });
  }
  const theirAccuracy = accuracy(images, theirs);
  const handled = usable.filter(Boolean).length;
  rows.push({
    implementation: `transformers.js ${VERSIONS.transformers} CLIPImageProcessor`,
    images: handled,
    seconds: theirSeconds,
    imagesPerSecond: handled / theirSeconds,
    maxAbsDiff: theirAccuracy.max,
    meanAbsDiff: theirAccuracy.mean,
    failed: images.filter((_, i) => !usable[i]).map((i) => i.file),
  });

  const py = await pythonBench(
    options.pythons ?? ["/usr/bin/python3", "python3"],
    images.map((i) => join(GOLDEN, i.file)),
    passes,
  );
  if (py) {
    rows.push({
      implementation: `${py.version} (python3, 1 thread)`,
      images: images.length,
      seconds: py.seconds,
      imagesPerSecond: images.length / py.seconds,
      maxAbsDiff: py.max,
      meanAbsDiff: py.mean,
      failed: [],
    });
  }
  return rows.map((r) => ({
    ...r,
    speedup: r.imagesPerSecond === 0 ? 0 : rows[0].imagesPerSecond / r.imagesPerSecond,
  }));
}

if (import.meta.main) {
  const rows = await runPreprocessBench();
  console.log(
    `decode + CLIP preprocess to 224, ${rows[0].images} golden images (PNG, JPEG, GIF), best of 5 passes\n`,
  );
  console.log(
    "| implementation | images/s | ms/image | clipkit speedup | max abs diff | mean abs diff |\n|---|---:|---:|---:|---:|---:|",
  );
  for (const r of rows) {
    console.log(
      `| ${r.implementation} | ${r.imagesPerSecond.toFixed(1)} | ${
        (1000 * r.seconds / r.images).toFixed(2)
      } | ${r.speedup.toFixed(2)}× | ${r.maxAbsDiff.toExponential(2)} | ${r.meanAbsDiff.toExponential(2)} |`,
    );
  }
  for (const r of rows) {
    if (r.failed.length) {
      console.log(`\n${r.implementation} could not load (left out): ${r.failed.join(", ")}`);
    }
  }
  if (rows.length < 3) {
    console.log("\n(PIL + torchvision not measured: `apt-get install python3-pil python3-torchvision`)");
  }
}
