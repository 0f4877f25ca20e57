/**
 * TensorFlow.js as a training contender: the kit's first trainer (`tfjs_trainer.ts`) on the WASM backend
 * (XNNPACK, SIMD; one thread, as TensorFlow.js runs under Deno), taking the same steps as the trainer's
 * `stepOn`: image and text towers, CLIP's symmetric InfoNCE, gradients by `tf.variableGrads`, AdamW, the
 * logit scale clamped to [0, ln 100].
 *
 *   weights (initWeights, [in, out] layout) ──► tf.Variables ──► step(): loss, grads, AdamW ──► loss
 * @module
 */
import { initWeights, parameterCount } from "../../src/model/architecture.ts";
import { MAX_LOGIT_SCALE } from "../../src/constants.ts";
import { VERSIONS } from "../versions.ts";
import type { TrainJob, TrainRunner } from "../train_child.ts";
import { AdamW, clipLossTf, encodeImage, encodeText, initTf, tf, toVariables } from "./tfjs_trainer.ts";

/**
 * A TF.js trainer ready to step on the job's batch.
 * @example
 * ```ts
 * const runner = await prepareTfjsTraining(job, batch);
 * await runner.step(); // 4.85 (the loss before the update)
 * ```
 */
export async function prepareTfjsTraining(
  job: TrainJob,
  batch: { pixels: Float32Array; ids: Int32Array },
): Promise<TrainRunner> {
  const info = await initTf({ backend: "wasm" });
  const a = job.architecture, B = job.batch;
  const vars = toVariables(a, initWeights(a, job.seed));
  const optimizer = new AdamW(vars, {
    beta1: job.betas[0],
    beta2: job.betas[1],
    eps: job.eps,
    weightDecay: job.weightDecay,
  });
  const params = Object.values(vars);
  const scale = vars["logit_scale"];
  return {
    label: `TensorFlow.js ${VERSIONS.tfjs} (${info.backend}${
      info.simd ? " SIMD" : ""
    }), the kit's first trainer`,
    threads: info.threads,
    parameters: parameterCount(a),
    step: () => {
      const { value, grads: byId } = tf.variableGrads(() => {
        const img = encodeImage(a, vars, batch.pixels, B); // [B, D]
        const txt = encodeText(a, vars, batch.ids, B); // [B, D]
        return clipLossTf(img, txt, scale);
      }, params);
      const grads = Object.fromEntries(Object.entries(vars).map(([name, v]) => [name, byId[v.name]]));
      const loss = value.dataSync()[0];
      optimizer.apply(grads, job.lr);
      tf.dispose([value, ...Object.values(grads)]);
      tf.tidy(() => scale.assign(tf.clipByValue(scale, 0, Math.log(MAX_LOGIT_SCALE))));
      return Promise.resolve(loss);
    },
    dispose: () => {
      optimizer.dispose();
      tf.dispose(params);
    },
  };
}
