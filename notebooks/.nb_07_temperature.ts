console.log("\n######## cell 0");
import { experiment, readResult, runTemperature, temperatureConfig, temperatureFigure, type TemperatureResult,
  validateResult } from "../src/experiments/mod.ts";
import assert from "node:assert/strict";

const temperature = experiment("temperature");
console.log(`why: ${temperature.why}`);
console.log(`paper: ${temperature.paper}`);

console.log("\n######## cell 1");
const shipped = await readResult("temperature") as unknown as TemperatureResult;
const c = shipped.config;
console.log(`${shipped.runs.length} runs × ${c.steps} steps × ${c.batch_size} pairs (lr ${c.lr}, warm-up ` +
  `${100 * c.warmup_fraction} %, then cosine), seed ${shipped.seeds.join(", ")}; zero-shot on ${c.validation_size} validation pictures`);
console.log(`${shipped.wallSeconds.toFixed(0)} s on ${shipped.machine.cpu} × ${shipped.machine.cores} (${shipped.machine.backend}), ` +
  `Deno ${shipped.machine.deno}, commit ${shipped.kit.commit?.slice(0, 10) ?? "unknown"}`);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const label = (name: string) => shipped.runs.find((r) => r.name === name)!.label;
console.table(shipped.summary.final.map((f) => ({
  run: label(f.run), "logit scale": f.logitScale.toFixed(1), "val loss": f.valLoss.toFixed(3),
  colour: pct(f.colour), shape: pct(f.shape), "colour+shape": pct(f.combo), "unseen combos": pct(f.unseen),
})));

console.log("\n######## cell 2");
temperatureFigure(shipped)

console.log("\n######## cell 3");
const learned = shipped.summary.learned!;
console.log(`the learned scale: ${learned.start.toFixed(2)} at step 0 → ${learned.end.toFixed(2)} at step ${c.steps} ` +
  `(highest ${learned.max.toFixed(2)}; clamp ${shipped.summary.clamp}: ${learned.reachedClamp ? `reached at step ${learned.firstStepAtClamp}` : "not reached"})`);
const tinyClip = JSON.parse(await Deno.readTextFile("../models/tiny-clip-classic/config.json")).logit_scale;
console.log(`for comparison: the classic tiny CLIP (chapter 5, 4,500 steps) ended at ${tinyClip.toFixed(1)}`);
const final = Object.fromEntries(shipped.summary.final.map((f) => [f.run, f]));
const atStep100 = (name: string) => shipped.runs.find((r) => r.name === name)!.checkpoints.find((k) => k.step === 100)!;
console.log(`at step 100: validation loss ${(atStep100("frozen-100").valLoss as number).toFixed(2)} (frozen at 100) vs ` +
  `${(atStep100("learned").valLoss as number).toFixed(2)} (learned)`);
assert.ok(learned.end > learned.start, "the learned scale should grow");
assert.ok(final["frozen-100"].combo < final["learned"].combo, "frozen at 100 should do worse than learned");
console.log("✔ the shipped result matches its schema and the learned scale grew");

console.log("\n######## cell 4");
const variants = [
  { name: "learned", label: "learned (starts at 1/0.07)", logit_scale: 1 / 0.07, learned: true },
  { name: "frozen-14", label: "frozen at 1/0.07 ≈ 14.3", logit_scale: 1 / 0.07, learned: false },
  { name: "frozen-100", label: "frozen at 100", logit_scale: 100, learned: false },
];
const live = await runTemperature({ preset: "quick", seed: 0, overrides: { lr: 0.002, steps: 60, variants } });
validateResult(live);
console.table(live.summary.final.map((f) => ({
  run: f.run, "logit scale": f.logitScale.toFixed(2), "val loss": f.valLoss.toFixed(3), colour: pct(f.colour), shape: pct(f.shape),
})));
console.log(`${live.wallSeconds.toFixed(1)} s`);
temperatureFigure(live)

console.log("\n######## cell 5");
for (const run of live.runs.filter((r) => r.settings.learned === false)) {
  const scales = run.checkpoints.map((k) => k.logitScale as number);
  assert.ok(scales.every((s) => Math.abs(s / (run.settings.logit_scale as number) - 1) < 1e-6), `${run.name} moved`);
}
console.log("✔ the frozen scales stayed frozen");
