/**
 * One benchmark job in its own process: `deno run -A bench/child.ts '<job json>'` runs it and prints
 * `BENCH_RESULT {json}` (see `bench/jobs.ts`). Not meant to be run by hand.
 * @module
 */
import { type Job, type JobResult, RESULT_MARK } from "./jobs.ts";
import { clipkitHeadFromCache, clipkitImages, clipkitMemory, clipkitText } from "./contenders/clipkit.ts";
import { ortImages, ortMemory, ortText } from "./contenders/ort.ts";
import { transformersImages, transformersMemory, transformersText } from "./contenders/transformers.ts";
import { headToHead } from "./contenders/head_to_head.ts";

/** Which library a contender name belongs to. */
function family(contender: string): "clipkit" | "ort" | "transformers" {
  if (contender.startsWith("clipkit")) return "clipkit";
  if (contender.startsWith("ort")) return "ort";
  if (contender.startsWith("transformers")) return "transformers";
  throw new Error(
    `unknown contender "${contender}": use clipkit-node, clipkit-web, ort-node(-prealloc), transformers.js(-threads, -wasm)`,
  );
}

/**
 * Run one job in this process.
 * @example
 * await runHere({ task: "memory", contender: "ort-node", model: "", variant: "fp32" })
 * // { label: "deno + onnxruntime-node 1.30.0, no model", threads: 2, items: 0, loadSeconds: 0, peakRss: 98304000 }
 */
export function runHere(job: Job): Promise<JobResult> {
  const who = family(job.contender);
  switch (job.task) {
    case "images":
      return who === "clipkit"
        ? clipkitImages(job)
        : who === "ort"
        ? ortImages(job)
        : transformersImages(job);
    case "text":
      return who === "clipkit" ? clipkitText(job) : who === "ort" ? ortText(job) : transformersText(job);
    case "head-cache":
      return clipkitHeadFromCache(job);
    case "memory":
      return who === "clipkit"
        ? clipkitMemory(job)
        : who === "ort"
        ? ortMemory(job)
        : transformersMemory(job);
    case "head-to-head":
      return headToHead(job);
  }
}

if (import.meta.main) {
  const result = await runHere(JSON.parse(Deno.args[0]) as Job);
  console.log(RESULT_MARK + JSON.stringify(result));
  Deno.exit(0); // worker threads of the runtimes must not keep the process alive
}
