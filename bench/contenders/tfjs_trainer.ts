/**
 * The TensorFlow.js trainer, the kit's first training path (its files live in `bench/contenders/tfjs/`),
 * as a benchmark contender imports it: every import of its files goes through this module.
 * @module
 */
export { initTf, tf, type TfBackend, type TfInfo } from "./tfjs/tf.ts";
export { encodeImage, encodeText, toVariables } from "./tfjs/clip_tf.ts";
export { clipLossTf } from "./tfjs/loss_tf.ts";
export { AdamW } from "./tfjs/optim.ts";
export { Trainer } from "./tfjs/trainer.ts";
