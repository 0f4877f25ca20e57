/**
 * A worker thread of src/math/probe_threads.ts: one message with shared memory and its rows, then, for
 * every generation the caller announces, the loss and gradient of those rows into its slot.
 * @module
 */
/// <reference lib="deno.worker" />
import { SoftmaxData } from "./softmax_loss.ts";
import { CONTROL, type ProbeWorkerInit } from "./probe_threads.ts";

self.onmessage = (event: MessageEvent<ProbeWorkerInit>) => {
  const { x, y, params, out, control, slot, r0, r1, d, k, fitIntercept } = event.data;
  const ctrl = new Int32Array(control);
  const n = r1 - r0, size = k * d + k;
  const data = new SoftmaxData(
    new Float64Array(x, r0 * d * 8, n * d), // [n, D]: this worker's rows
    new Int32Array(y, r0 * 4, n),
    n,
    d,
    k,
    fitIntercept,
  );
  const p = new Float64Array(params);
  const mine = new Float64Array(out, slot * (size + 1) * 8, size + 1); // [gradient, loss]
  Atomics.add(ctrl, CONTROL.ready, 1);
  Atomics.notify(ctrl, CONTROL.ready);
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, CONTROL.generation, seen);
    seen = Atomics.load(ctrl, CONTROL.generation);
    if (Atomics.load(ctrl, CONTROL.stop)) {
      self.close();
      return;
    }
    try {
      mine[size] = n > 0 ? data.loss(p, mine) : (mine.fill(0), 0);
    } catch {
      mine[size] = NaN; // the caller's L-BFGS treats a NaN loss as a failed step
      Atomics.store(ctrl, CONTROL.failed, 1);
    }
    Atomics.add(ctrl, CONTROL.done, 1);
    Atomics.notify(ctrl, CONTROL.done);
  }
};
