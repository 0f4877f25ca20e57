/**
 * The golden training-step comparison of the training engine, run as its own process by
 * train_engine_test.ts: `deno run -A test/_engine_golden.ts <node|web>` prints one JSON line of errors.
 *
 * A process of its own because onnxruntime-web under Deno now and then never returns from the first run
 * of a training graph (more often inside `deno test`, and with WASM threads); the caller stops a run that
 * hangs and tries again, which a process allows.
 * @module
 */
import { shared } from "./_shared.ts";
import { adamwSteps, type EngineArchitecture, lossAndGradients } from "../src/train/mod.ts";

const DIR = shared("golden", "train_step");
const backend = Deno.args[0] as "node" | "web";
const m = JSON.parse(await Deno.readTextFile(`${DIR}/manifest.json`));
const f32 = async (name: string) => new Float32Array((await Deno.readFile(`${DIR}/${name}`)).buffer);
const split = (flat: Float32Array) =>
  Object.fromEntries(
    Object.entries(m.parameters as Record<string, { offset: number; shape: number[] }>).map(([name, p]) => [
      name,
      flat.slice(p.offset, p.offset + p.shape.reduce((a, b) => a * b, 1)),
    ]),
  );
const architecture: EngineArchitecture = { ...m.config, vision_heads: m.vision_heads };
const weights = split(await f32("weights.f32")), refGrads = split(await f32("grads.f32"));
const refAfter = split(await f32("after_adamw.f32"));
const batch = {
  pixels: await f32("inputs.f32"),
  ids: new Int32Array((await Deno.readFile(`${DIR}/ids.i32`)).buffer),
  size: m.batch as number,
};

const { loss, gradients } = await lossAndGradients(architecture, weights, batch, { backend });
/** Relative L2 error of each gradient (‖g − g_ref‖ / ‖g_ref‖). */
const gradientErrors: Record<string, number> = {};
for (const [name, ref] of Object.entries(refGrads)) {
  const g = gradients[name];
  let diff = 0, norm = 0;
  for (let i = 0; i < ref.length; i++) {
    diff += (g[i] - ref[i]) ** 2;
    norm += ref[i] ** 2;
  }
  gradientErrors[name] = g ? Math.sqrt(diff / norm) : Infinity;
}
const { lr, betas, eps, weight_decay: weightDecay, steps } = m.adamw;
const after = await adamwSteps(architecture, weights, batch, { steps, lr, betas, eps, weightDecay, backend });
/** Largest absolute error of each parameter after the AdamW steps. */
const weightErrors: Record<string, number> = {};
for (const [name, ref] of Object.entries(refAfter)) {
  const w = after.stateDict[name];
  weightErrors[name] = ref.reduce((worst, r, i) => Math.max(worst, Math.abs(w[i] - r)), 0);
}
console.log(JSON.stringify({
  lossRel: Math.abs(loss - m.loss) / Math.abs(m.loss),
  gradientErrors,
  stepLossRel: after.losses.map((l, i) => Math.abs(l - m.adamw.losses[i]) / m.adamw.losses[i]),
  weightErrors,
}));
