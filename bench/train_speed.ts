/**
 * Training speed of the tiny CLIP (reference config, batch 128) on the TensorFlow.js backends:
 * WASM (XNNPACK + SIMD), WASM with 2 threads requested, and the pure-JS CPU backend.
 * Each backend runs in its own process (TensorFlow.js picks one backend per process).
 * CPU time per step is the robust figure on a shared machine; wall time is printed beside it.
 * (`deno task bench --only train` compares the WASM backend with clipkit's engine and PyTorch.)
 *
 * `deno run -A bench/train_speed.ts [--steps 8]` prints a table.
 */
import process from "node:process";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: { steps: { type: "string", default: "8" }, child: { type: "string" } },
});
const steps = Number(values.steps);

if (values.child) {
  const [backend, threads] = values.child.split(":");
  const { initTf, Trainer } = await import("./contenders/tfjs_trainer.ts");
  const { loadArchitecture } = await import("../src/model/architecture.ts");
  const { pretrainConfig } = await import("../src/train/pretrain.ts");
  const { ClipTokenizer } = await import("../src/text/tokenizer.ts");
  const info = await initTf({ backend: backend as "wasm" | "cpu", threads: Number(threads) });
  const tokenizer = await ClipTokenizer.load(new URL("../models/tiny-clip", import.meta.url).pathname);
  const config = { ...loadArchitecture("tiny"), vocab_size: tokenizer.vocabSize };
  const trainer = new Trainer(config, pretrainConfig("full"), tokenizer, ["a {}."]);
  trainer.trainStep(); // warm-up: kernels, allocations
  const cpu0 = process.cpuUsage(), wall0 = performance.now();
  for (let i = 0; i < steps; i++) trainer.trainStep();
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({
    ...info,
    cpuMs: (cpu.user + cpu.system) / 1000 / steps,
    wallMs: (performance.now() - wall0) / steps,
  }));
  Deno.exit(0);
}

const rows: string[] = [];
for (const variant of ["wasm:1", "wasm:2", "cpu:1"]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--child", variant, "--steps", String(steps)],
    stderr: "null",
  }).output();
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!;
  const r = JSON.parse(line);
  rows.push(
    `| ${variant.split(":")[0]} | ${r.simd} | ${variant.split(":")[1]} → ${r.threads} | ${
      r.cpuMs.toFixed(0)
    } | ` +
      `${r.wallMs.toFixed(0)} | ${(128 / (r.cpuMs / 1000)).toFixed(0)} |`,
  );
}
console.log(`tiny CLIP training step, batch 128, ${steps} steps after one warm-up step\n`);
console.log("| backend | SIMD | threads asked → used | CPU ms/step | wall ms/step | pairs per CPU-second |");
console.log("|---|---|---|---:|---:|---:|");
console.log(rows.join("\n"));
