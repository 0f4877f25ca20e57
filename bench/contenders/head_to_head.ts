/**
 * The head-to-head image job: clipkit (native, from files), a bare onnxruntime-node session fed tensors
 * (pre-allocated outputs) and transformers.js (default, from files) loaded in one process and timed in turns,
 * the order rotating each repetition. On a shared machine whose load drifts, their ratios are then measured
 * under the same conditions (separate processes, back to back, can each meet a different load).
 * @module
 */
import type { Contender, HeadToHeadJob, ImageJob, ImageRunner, JobResult } from "../jobs.ts";
import { residentMemory, seconds, timing } from "../stats.ts";
import { prepareClipkitImages } from "./clipkit.ts";
import { prepareOrtImages } from "./ort.ts";
import { prepareTransformersImages } from "./transformers.ts";

/** Who takes part, and how each is prepared. */
const PARTS: {
  contender: Contender;
  input: "files" | "pixels";
  prepare: (job: ImageJob) => Promise<ImageRunner>;
}[] = [
  { contender: "clipkit-node", input: "files", prepare: prepareClipkitImages },
  { contender: "ort-node-prealloc", input: "pixels", prepare: prepareOrtImages },
  { contender: "transformers.js", input: "files", prepare: prepareTransformersImages },
];

/**
 * Run the head-to-head job: `timings` holds each contender's repetitions, by contender name.
 * @example
 * (await headToHead({ task: "head-to-head", contender: "clipkit-node", model: dir, batch: 32, files, warmup: 1, reps: 3 })).timings
 * // { "clipkit-node": { median: 3.6, … }, "ort-node-prealloc": { median: 3.4, … }, "transformers.js": { median: 4.1, … } }
 */
export async function headToHead(job: HeadToHeadJob): Promise<JobResult> {
  const runners: ImageRunner[] = [];
  for (const part of PARTS) {
    runners.push(
      await part.prepare({ ...job, task: "images", contender: part.contender, input: part.input }),
    );
  }
  try {
    for (let w = 0; w < job.warmup; w++) for (const r of runners) await r.run();
    const samples: number[][] = runners.map(() => []);
    for (let rep = 0; rep < job.reps; rep++) {
      for (let k = 0; k < runners.length; k++) {
        const i = (rep + k) % runners.length; // rotate who goes first
        samples[i].push(await seconds(runners[i].run));
      }
    }
    return {
      label: runners.map((r) => `${r.label} (${r.threads} thread${r.threads === 1 ? "" : "s"})`).join(" | "),
      threads: runners[0].threads,
      items: job.files.length,
      timings: Object.fromEntries(PARTS.map((p, i) => [p.contender, timing(samples[i])])),
      loadSeconds: runners.reduce((s, r) => s + r.loadSeconds, 0),
      peakRss: residentMemory().peak,
    };
  } finally {
    for (const r of runners) await r.dispose();
  }
}
