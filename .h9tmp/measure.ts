import { trainSupervised } from "../src/experiments/supervised_baseline.ts";
import { run as zsp, zeroShotVsProbeConfig } from "../src/experiments/zero_shot_vs_probe.ts";
import { run as rob } from "../src/experiments/robustness.ts";
import { run as few } from "../src/experiments/few_shot.ts";
const what = Deno.args[0];
const t0 = performance.now();
const sched = { ...zeroShotVsProbeConfig("full").supervised, steps: 30, eval_every: 15 };
if (what === "train") {
  const r = await trainSupervised(sched, 0, { cache: false });
  console.log("train 30 steps", r.wallSeconds, "s; per step", r.wallSeconds / 30);
} else if (what === "zsp") {
  const r = await zsp({ preset: "full", overrides: { media: ["icon", "classic"], supervised: sched }, progress: "none" });
  console.log("zsp 2 media (incl. 30-step training)", r.wallSeconds, "train", r.runs[0].wallSeconds);
} else if (what === "rob") {
  const r = await rob({ preset: "full", overrides: { shifts: ["classic"], supervised: sched }, progress: "none" });
  console.log("rob source + 1 shift", r.wallSeconds, "train", r.runs[0].wallSeconds);
} else if (what === "few") {
  const r = await few({ preset: "full", overrides: { media: [Deno.args[1] as never] }, progress: "none" });
  console.log("few 1 medium", r.wallSeconds);
}
console.log("total", (performance.now() - t0) / 1000);
