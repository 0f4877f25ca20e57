/**
 * ONNX export parity: the exported text and vision graphs, run by onnxruntime-node and
 * onnxruntime-web, agree with the training engine's forward graph (src/train/engine/, which matches
 * openai/CLIP's golden step) on the same weights to ≤ 1e-4
 * (max abs difference of the embeddings), for full-length and shorter (dynamic) text sequences.
 */
import nodeAssert from "node:assert/strict";
import { type ClipArchitecture, initWeights, loadArchitecture } from "../src/model/architecture.ts";
import { fromKitWeights, TrainingSession } from "../src/train/mod.ts";
import { SeededRng } from "../src/data/random.ts";
import { exportClip } from "../src/onnx/export.ts";
import { loadRuntime } from "../src/model/runtime.ts";

/** Max abs difference allowed between the engine's and the exported graphs' embeddings. */
const TOLERANCE = 1e-4;

const assert = (ok: boolean, msg = "assertion failed") => nodeAssert.ok(ok, msg);
const assertEquals = (a: unknown, b: unknown) => nodeAssert.deepStrictEqual(a, b);

const config: ClipArchitecture = { ...loadArchitecture("tiny"), vocab_size: 600, context_length: 16 };

/** Initial weights plus noise, so that biases, gains and the logit scale are all non-trivial. */
function testWeights(): Record<string, Float32Array> {
  const w = initWeights(config, 3);
  const rng = new SeededRng(11);
  for (const a of Object.values(w)) for (let i = 0; i < a.length; i++) a[i] += rng.normal() * 0.05;
  return w;
}

/** `[batch, length]` ids: SOT, random tokens, EOT (the largest id) at varying places, zero padding. */
function testIds(batch: number, length: number): Int32Array {
  const rng = new SeededRng(5);
  const ids = new Int32Array(batch * length);
  for (let b = 0; b < batch; b++) {
    const eotAt = 1 + (b * 3) % (length - 1);
    ids[b * length] = config.vocab_size - 2;
    for (let j = 1; j < eotAt; j++) ids[b * length + j] = 1 + Math.floor(rng.uniform() * 500);
    ids[b * length + eotAt] = config.vocab_size - 1;
  }
  return ids;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertEquals(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

Deno.test("export: text and vision graphs match the training engine ≤ 1e-4 on onnxruntime-node and -web", async () => {
  const weights = testWeights();
  const dir = await Deno.makeTempDir({ prefix: "clipkit-export-" });
  try {
    const result = await exportClip({ config, weights }, dir);
    assert(result.files.includes("onnx/text_model.onnx"));
    const cfg = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assertEquals(cfg.text_config.max_position_embeddings, 16);
    assert(Math.abs(cfg.logit_scale - Math.exp(weights["logit_scale"][0])) < 1e-6);

    const engine = await TrainingSession.create(config, fromKitWeights(config, weights), {
      backend: "node",
      batchSize: 5,
      threads: 1,
    });
    const B = 5;
    const pixels = new SeededRng(9).normals(B * 3 * 32 * 32, 1); // [B, 3, 32, 32]
    const lengths = [16, 7]; // full context and a shorter, dynamic sequence
    const forward = [];
    for (const L of lengths) forward.push(await engine.evaluate({ pixels, ids: testIds(B, L), size: B }));
    await engine.dispose();
    const expectImage = forward[0].image; // [B, D]
    const expectText = forward.map((f) => f.text!); // [B, D] per length

    for (const backend of ["node", "web"] as const) {
      const rt = await loadRuntime(backend, { threads: 1 });
      const vision = await rt.createSession(await Deno.readFile(`${dir}/onnx/vision_model.onnx`), "vision");
      const text = await rt.createSession(await Deno.readFile(`${dir}/onnx/text_model.onnx`), "text");
      const img = await vision.run({ pixel_values: new rt.Tensor("float32", pixels, [B, 3, 32, 32]) });
      const dImg = maxAbsDiff(img.image_embeds.data as Float32Array, expectImage);
      console.log(`${backend}: image_embeds max |Δ| = ${dImg.toExponential(2)}`);
      assert(dImg <= TOLERANCE, `${backend} image embeddings differ by ${dImg}`);
      for (const [k, L] of lengths.entries()) {
        const ids = BigInt64Array.from(testIds(B, L), (v) => BigInt(v));
        const out = await text.run({ input_ids: new rt.Tensor("int64", ids, [B, L]) });
        assertEquals(out.text_embeds.dims, [B, config.embed_dim]);
        const d = maxAbsDiff(out.text_embeds.data as Float32Array, expectText[k]);
        console.log(`${backend}: text_embeds (sequence ${L}) max |Δ| = ${d.toExponential(2)}`);
        assert(d <= TOLERANCE, `${backend} text embeddings (length ${L}) differ by ${d}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
