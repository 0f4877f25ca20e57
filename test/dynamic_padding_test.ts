/**
 * Dynamic-length text batching: on a text graph whose sequence axis is dynamic (the project's exporter
 * writes one), `ClipModel.encodeText` sorts prompts by length and cuts each batch to its longest prompt.
 * Its embeddings must equal those of the same graph fed every row padded to the full 77-token context
 * (a bare onnxruntime session), within 1e-5 max abs difference, on both backends, in the caller's order
 * (measured: 0 on onnxruntime-node, bit-identical; 1.2e-6 on onnxruntime-web, whose WASM kernels round
 * differently by length). A NaN in some rows is reported with those rows' numbers in the caller's order.
 */
import nodeAssert from "node:assert/strict";
import { join } from "node:path";
import { ClipModel } from "../src/model/clip_model.ts";
import { loadRuntime } from "../src/model/runtime.ts";
import { initWeights, loadArchitecture } from "../src/model/architecture.ts";
import { NonFiniteOutputError } from "../src/errors.ts";
import { exportClip } from "../src/onnx/export.ts";
import { shared, sharedTest } from "./_shared.ts";

/** Max abs difference allowed between cut-to-length batches and rows padded to 77. */
const TOLERANCE = 1e-5;

/** Prompts of very different lengths, in an order that is not sorted by length. */
const TEXTS = [
  "a photo of a tench.",
  "a",
  "a blurry photo of the large and very fluffy golden retriever lying on a red sofa in the sun.",
  "",
  "itap of a goldfish.",
  "a low resolution photo of a great white shark swimming near the surface of the ocean at noon.",
  "a sculpture of a tiger shark.",
  "art of the hammerhead.",
  "a photo of a cat.",
  "a photo of a cat.",
  "a drawing of " + "a very ".repeat(40) + "long prompt that the tokenizer truncates",
];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  nodeAssert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

sharedTest(
  "encodeText: batches cut to their longest prompt give the embeddings of padding to 77",
  async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "clipkit-dynamic-" });
    try {
      // A small CLIP with CLIP's real vocabulary and context, random weights, dynamic sequence axis.
      const config = { ...loadArchitecture("tiny"), vocab_size: 49408, context_length: 77 };
      await exportClip(config, dir, { random: 1, tokenizer: shared("clip", "bpe_simple_vocab_16e6.txt.gz") });
      for (const backend of ["node", "web"] as const) {
        await t.step(backend, async () => {
          const model = await ClipModel.load(dir, { backend, batchSize: 4 });
          try {
            nodeAssert.equal(model.contextLength, 77);
            const tokens = model.tokenizer.tokenize(TEXTS, { contextLength: 77, truncate: true }); // [11, 77]
            const ours = await model.encodeText(TEXTS, { truncate: true }); // [11, 64]

            // Reference: the same graph, every row padded to the full context, one batch.
            const runtime = await loadRuntime(backend);
            const session = await runtime.createSession(
              await Deno.readFile(join(dir, "onnx", "text_model.onnx")),
              "text_model.onnx",
            );
            const ids = new runtime.Tensor("int64", BigInt64Array.from(tokens.ids, BigInt), tokens.shape);
            const result = await session.run({ [session.inputNames[0]]: ids });
            const full = result[session.outputNames[0]].data as Float32Array; // [11, 64]
            await session.release();

            const diff = maxAbsDiff(ours.data, full);
            console.log(`${backend}: max abs diff vs padding to 77 = ${diff.toExponential(2)}`);
            nodeAssert.ok(diff <= TOLERANCE, `max abs diff ${diff} > ${TOLERANCE}`);
            // Equal prompts give equal rows wherever the sort put them; different prompts differ.
            nodeAssert.deepEqual(ours.row(8), ours.row(9));
            nodeAssert.ok(maxAbsDiff(ours.row(0), ours.row(1)) > 1e-3);
            // One prompt alone (its own length) is the same row as inside the mixed batches.
            const alone = await model.encodeText([TEXTS[2]]);
            nodeAssert.ok(maxAbsDiff(alone.data, ours.row(2)) <= TOLERANCE);
          } finally {
            await model.dispose();
          }
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

sharedTest("encodeText: a graph with a fixed 77-token axis still gets full rows", async () => {
  const model = await ClipModel.load(shared("fixtures", "clip-tiny-torch"), {
    tokenizer: shared("clip", "bpe_simple_vocab_16e6.txt.gz"),
    batchSize: 2,
  });
  try {
    const reference = JSON.parse(
      await Deno.readTextFile(shared("fixtures", "clip-tiny-torch", "reference.json")),
    );
    const texts: string[] = reference.captions;
    const embeds = await model.encodeText(texts, { truncate: true }); // [captions, 64]
    const expected = (reference.text_embeds as number[][]).flat();
    const diff = maxAbsDiff(embeds.data, expected);
    nodeAssert.ok(diff <= 1e-4, `max abs diff vs PyTorch ${diff} > 1e-4`);
  } finally {
    await model.dispose();
  }
});

sharedTest(
  "encodeText: NaN rows are named in the caller's order, not the length-sorted batch order",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "clipkit-dynamic-nan-" });
    try {
      const config = { ...loadArchitecture("tiny"), vocab_size: 49408, context_length: 77 };
      const weights = initWeights(config, 1);
      const dog = 1929; // "dog</w>" in CLIP's vocabulary: its embedding row becomes NaN
      weights["token_embedding.weight"].fill(
        NaN,
        dog * config.transformer_width,
        (dog + 1) * config.transformer_width,
      );
      await exportClip({ config, weights }, dir, {
        tokenizer: shared("clip", "bpe_simple_vocab_16e6.txt.gz"),
      });
      const model = await ClipModel.load(dir, { batchSize: 2 });
      try {
        // Sorted by length the batches are [#3, #1], [#0, #2]: the error must still say #1 and #2.
        const texts = ["a photo of a cat on a sofa.", "a dog", "a photo of a dog on a sofa.", "cat"];
        await nodeAssert.rejects(
          model.encodeText(texts),
          (e: unknown) =>
            e instanceof NonFiniteOutputError &&
            /text tower returned NaN in the embedding of text #1 \(and in 1 more: #2\)/.test(e.message),
        );
        const fine = await model.encodeText([texts[0], texts[3]]); // rows without "dog" are finite
        nodeAssert.ok(fine.data.every(Number.isFinite));
      } finally {
        await model.dispose();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
