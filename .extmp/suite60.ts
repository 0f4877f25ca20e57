import { evaluateSuite } from "../src/data/suite.ts";
import { ClipModel } from "../src/model/clip_model.ts";
const model = await ClipModel.load("models/tiny-clip");
const t = performance.now();
const table = await evaluateSuite(model, { examples: 60, unseenExamples: 20, greedySize: 3, progress: false });
console.log(((performance.now() - t) / 1000).toFixed(1), "s");
for (const r of table.rows) console.log(r.dataset.padEnd(16), ["bare","photo","engineered","ensemble","greedy"].map((k) => (r as any)[k].toFixed(3)).join(" "));
