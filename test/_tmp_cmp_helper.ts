const root = Deno.args[0];
const out: Record<string, unknown> = {};
for (const name of ["robustness", "zero_shot_vs_probe", "few_shot", "temperature"]) {
  const m = await import(`${root}/src/experiments/${name}.ts`);
  const r = await m.run({ preset: "quick", progress: "none" });
  delete r.wallSeconds; delete r.finished; delete r.machine; delete r.kit;
  for (const run of r.runs) delete run.wallSeconds;
  out[name] = r;
}
console.log(JSON.stringify(out, (k, v) => (k === "wallSeconds" ? undefined : v)));
