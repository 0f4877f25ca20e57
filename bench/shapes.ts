/**
 * Speed of the synthetic shapes world and its BPE learner, on this machine, one thread.
 *
 * Run: `deno run -A bench/shapes.ts`. Prints a table: examples per second for batches at several
 * image sizes (pixels normalised into one Float32Array), captions alone, and the BPE learner.
 */
import { generateBatch, generateCaptions } from "../src/data/shapes.ts";
import { learnBpe } from "../src/train/bpe_learn.ts";

/** Examples per second of `run(n)`, best of `repeats` timed runs after one warm-up. */
function rate(n: number, repeats: number, run: (n: number) => unknown): number {
  run(Math.min(n, 256));
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    run(n);
    best = Math.min(best, performance.now() - start);
  }
  return n / (best / 1000);
}

const rows: [string, string][] = [];
for (const [size, n] of [[32, 20_000], [48, 10_000], [64, 5_000], [128, 1_000], [224, 400]] as const) {
  const perSecond = rate(n, 3, (k) => generateBatch(1, k, { size }));
  rows.push([
    `generateBatch, ${size}×${size}, nchw`,
    `${Math.round(perSecond).toLocaleString("en")} images/s`,
  ]);
}
rows.push([
  "generateBatch, 32×32, nhwc",
  `${
    Math.round(rate(20_000, 3, (k) => generateBatch(1, k, { layout: "nhwc" }))).toLocaleString("en")
  } images/s`,
]);
rows.push([
  "generateCaptions (no pixels)",
  `${Math.round(rate(200_000, 3, (k) => generateCaptions(1, k))).toLocaleString("en")} captions/s`,
]);
const corpus = generateCaptions(0, 50_000).map((s) => s.caption);
const start = performance.now();
const bpe = learnBpe(corpus);
rows.push([
  "learnBpe, 50,000 training captions",
  `${Math.round(performance.now() - start)} ms → ${bpe.vocabSize} ids (${bpe.merges.length} merges)`,
]);

const width = Math.max(...rows.map(([name]) => name.length));
console.log(`${"what".padEnd(width)}  speed`);
console.log(`${"-".repeat(width)}  ${"-".repeat(30)}`);
for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`);
