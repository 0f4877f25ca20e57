/**
 * Head-to-head jobs: contenders loaded in one process and timed in turns, the order rotating each
 * repetition. On a shared machine whose load drifts, their ratios are then measured under the same
 * conditions (separate processes, back to back, can each meet a different load). The sets are described at
 * `HeadToHeadJob` in bench/jobs.ts.
 * @module
 */
import type { HeadToHeadJob, ImageJob, JobResult, Runner, TextJob } from "../jobs.ts";
import { residentMemory, seconds, timing } from "../stats.ts";
import { prepareClipkitImages, prepareClipkitText } from "./clipkit.ts";
import { prepareOrtImages, prepareOrtMatMul, prepareOrtText } from "./ort.ts";
import { prepareTransformersImages } from "./transformers.ts";

/** The runners of a set, by key (the keys of the result's `timings`). */
async function prepare(job: HeadToHeadJob): Promise<[string, Runner][]> {
  const images = (
    contender: ImageJob["contender"],
    input: ImageJob["input"],
    threads?: number,
  ): ImageJob => ({
    task: "images",
    contender,
    model: job.model,
    input,
    batch: job.batch,
    files: job.files,
    ...(threads ? { threads } : {}),
    warmup: 0,
    reps: 0,
  });
  const text = (contender: TextJob["contender"], padding: TextJob["padding"]): TextJob => ({
    task: "text",
    contender,
    model: job.model,
    prompts: job.prompts ?? [],
    batch: job.batch,
    padding,
    reps: 0,
  });
  switch (job.set) {
    case "native":
      return [
        ["clipkit-node", await prepareClipkitImages(images("clipkit-node", "files"))],
        ["ort-node-prealloc", await prepareOrtImages(images("ort-node-prealloc", "pixels"))],
        ["transformers.js", await prepareTransformersImages(images("transformers.js", "files"))],
      ];
    case "web":
      return [
        ["clipkit-web", await prepareClipkitImages(images("clipkit-web", "files", 1))],
        ["transformers.js-wasm", await prepareTransformersImages(images("transformers.js-wasm", "files"))],
      ];
    case "text":
      return [
        ["clipkit-node", await prepareClipkitText(text("clipkit-node", "dynamic"))],
        ["ort-node", await prepareOrtText(text("ort-node-prealloc", "77"))],
      ];
    case "gflops": {
      const clipkit = await prepareClipkitImages(images("clipkit-node", "pixels"));
      return [
        ["matmul-fresh", await prepareOrtMatMul(job.matmul!, false)],
        ["matmul-prealloc", await prepareOrtMatMul(job.matmul!, true)],
        ["ort-node-prealloc", await prepareOrtImages(images("ort-node-prealloc", "pixels"))],
        ["clipkit-node", { ...clipkit, label: `${clipkit.label}, ready tensors`, run: clipkit.runPixels }],
      ];
    }
  }
}

/**
 * Run a head-to-head job: `timings` holds each contender's repetitions, by key; `label` names them all.
 * @example
 * (await headToHead({ task: "head-to-head", contender: "clipkit-node", set: "native", model: dir, batch: 32, files, warmup: 1, reps: 3 })).timings
 * // { "clipkit-node": { median: 3.6, … }, "ort-node-prealloc": { median: 3.4, … }, "transformers.js": { median: 4.1, … } }
 */
export async function headToHead(job: HeadToHeadJob): Promise<JobResult> {
  const runners = await prepare(job);
  try {
    for (let w = 0; w < job.warmup; w++) for (const [, r] of runners) await r.run();
    const samples: number[][] = runners.map(() => []);
    for (let rep = 0; rep < job.reps; rep++) {
      for (let k = 0; k < runners.length; k++) {
        const i = (rep + k) % runners.length; // rotate who goes first
        samples[i].push(await seconds(runners[i][1].run));
      }
    }
    return {
      label: runners.map(([, r]) => `${r.label} (${r.threads} thread${r.threads === 1 ? "" : "s"})`).join(
        " | ",
      ),
      threads: runners[0][1].threads,
      items: job.set === "text" ? job.prompts!.length : job.files.length,
      timings: Object.fromEntries(runners.map(([key], i) => [key, timing(samples[i])])),
      labels: Object.fromEntries(runners.map(([key, r]) => [key, r.label])),
      loadSeconds: runners.reduce((s, [, r]) => s + r.loadSeconds, 0),
      peakRss: residentMemory().peak,
    };
  } finally {
    for (const [, r] of runners) await r.dispose();
  }
}
