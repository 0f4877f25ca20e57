/**
 * The TensorFlow.js trainer, the kit's first training path, as a benchmark contender imports it: every
 * import of its files goes through this module, so that moving them (e.g. into `bench/contenders/tfjs/`)
 * changes these lines only.
 * @module
 */
export { initTf, tf, type TfBackend, type TfInfo } from "../../src/train/tf.ts";
export { encodeImage, encodeText, toVariables } from "../../src/train/clip_tf.ts";
export { clipLossTf } from "../../src/train/loss_tf.ts";
export { AdamW } from "../../src/train/optim.ts";
export { Trainer } from "../../src/train/trainer.ts";
