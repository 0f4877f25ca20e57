/**
 * AdamW (decoupled weight decay, Loshchilov & Hutter) over TensorFlow.js variables, as CLIP was trained:
 * the TF.js trainer's optimizer. Weight decay skips gains, biases, embeddings and the logit scale (the
 * engine's `isDecayed`); the warm-up + cosine schedule is src/train/schedule.ts's `cosineLr`.
 * @module
 */
import { tf } from "./tf.ts";
import { isDecayed } from "../../../src/train/engine/layout.ts";

export { cosineLr } from "../../../src/train/schedule.ts";

/** Hyper-parameters of {@link AdamW}. */
export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** CLIP's Adam settings (paper, section 2.5): β₁ 0.9, β₂ 0.98, ε 1e-6; decay 0.1 here. */
export const ADAMW_DEFAULTS: AdamWOptions = { beta1: 0.9, beta2: 0.98, eps: 1e-6, weightDecay: 0.1 };

/** AdamW over a fixed set of named variables; its state is a map of Float32 arrays (checkpointable). */
export class AdamW {
  readonly options: AdamWOptions;
  /** Number of updates applied. */
  step = 0;
  private m: Record<string, tf.Variable> = {};
  private v: Record<string, tf.Variable> = {};

  /**
   * @example
   * ```ts
   * import { AdamW } from "./optim.ts";
   * import { initTf, tf } from "./tf.ts";
   * await initTf();
   * const vars = { "proj.weight": tf.variable(tf.ones([2, 2])) };
   * const opt = new AdamW(vars, { weightDecay: 0.1 });
   * opt.apply({ "proj.weight": tf.ones([2, 2]) }, 1e-3);
   * [opt.step, vars["proj.weight"].dataSync()[0]]; // → [1, 0.9988999962806702]
   * ```
   */
  constructor(readonly vars: Record<string, tf.Variable>, options: Partial<AdamWOptions> = {}) {
    this.options = { ...ADAMW_DEFAULTS, ...options };
    for (const [name, p] of Object.entries(vars)) {
      this.m[name] = tf.variable(tf.zerosLike(p), false);
      this.v[name] = tf.variable(tf.zerosLike(p), false);
    }
  }

  /** One update with learning rate `lr`: p ← p − lr·(m̂ / (√v̂ + ε) + wd·p) (wd only where {@link isDecayed}). */
  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.options;
    this.step += 1;
    const c1 = 1 - beta1 ** this.step, c2 = 1 - beta2 ** this.step;
    tf.tidy(() => {
      for (const [name, p] of Object.entries(this.vars)) {
        const g = grads[name];
        if (!g) continue;
        const m = this.m[name].mul(beta1).add(g.mul(1 - beta1));
        const v = this.v[name].mul(beta2).add(g.square().mul(1 - beta2));
        this.m[name].assign(m);
        this.v[name].assign(v);
        const update = m.div(c1).div(v.div(c2).sqrt().add(eps));
        const decayed = isDecayed(name) ? p.mul(1 - lr * weightDecay) : p;
        p.assign(decayed.sub(update.mul(lr)));
      }
    });
  }

  /** Moments as arrays, for a checkpoint. */
  state(): { step: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> } {
    const read = (s: Record<string, tf.Variable>) =>
      Object.fromEntries(Object.entries(s).map(([k, t]) => [k, t.dataSync() as Float32Array]));
    return { step: this.step, m: read(this.m), v: read(this.v) };
  }

  /** Restore what {@link state} returned. */
  load(state: { step: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> }): void {
    this.step = state.step;
    for (const name of Object.keys(this.vars)) {
      this.m[name].assign(tf.tensor(state.m[name], this.m[name].shape));
      this.v[name].assign(tf.tensor(state.v[name], this.v[name].shape));
    }
  }

  /** Free the moment tensors. */
  dispose(): void {
    tf.dispose([...Object.values(this.m), ...Object.values(this.v)]);
  }
}
