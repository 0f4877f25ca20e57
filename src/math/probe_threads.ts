/**
 * The linear probe's data term (src/math/softmax_loss.ts) spread over worker threads, behind the same
 * synchronous `loss(params, grad)` call, so L-BFGS does not know it is there.
 *
 *   features → shared memory once; worker w takes rows [r_w, r_w+1) and keeps its own `SoftmaxData`
 *   each call: params → shared memory ─► generation += 1 (Atomics.notify) ─► every worker: loss and gradient
 *     of its rows into its own slot, done += 1 ─► the caller (Atomics.wait: blocked, not spinning) adds the
 *     slots in worker order, so the same thread count gives the same bits every time
 *
 * Sums in another order differ in the last bits only (about 1e-15 relative), so a fit with a different
 * thread count can take a slightly different path to the same optimum.
 * @module
 */

/** Slots of the control block (an `Int32Array` on shared memory). */
export const CONTROL = { generation: 0, done: 1, ready: 2, failed: 3, stop: 4 } as const;

/** How long to wait for the workers to start before working without them. */
const START_TIMEOUT_MS = 20_000;

/** What a worker gets in its one message. */
export interface ProbeWorkerInit {
  x: SharedArrayBuffer; // [N, D] float64
  y: SharedArrayBuffer; // [N] int32
  params: SharedArrayBuffer; // [K·D + K] float64
  out: SharedArrayBuffer; // [workers, K·D + K + 1] float64: gradient, then loss
  control: SharedArrayBuffer; // Int32Array, see CONTROL
  slot: number;
  r0: number;
  r1: number;
  d: number;
  k: number;
  fitIntercept: boolean;
}

/** The summed cross-entropy of all rows, computed by `threads` workers. */
export class ThreadedSoftmaxData {
  readonly threads: number;
  private readonly size: number;
  private readonly params: Float64Array;
  private readonly out: Float64Array;
  private readonly control: Int32Array;
  private readonly workers: Worker[];

  private constructor(
    threads: number,
    size: number,
    params: Float64Array,
    out: Float64Array,
    control: Int32Array,
    workers: Worker[],
  ) {
    this.threads = threads;
    this.size = size;
    this.params = params;
    this.out = out;
    this.control = control;
    this.workers = workers;
  }

  /**
   * Start `threads` workers over the rows of `x` (`[n, d]`), or return `undefined` when workers cannot run
   * here (no `Worker`, or they did not start): the caller then works on one thread.
   * @example
   * ```ts
   * import { ThreadedSoftmaxData } from "./probe_threads.ts";
   * const x = Float64Array.of(1, 0, 0, 1, 1, 1, 0, 0), y = Int32Array.of(0, 1, 0, 1);
   * const data = ThreadedSoftmaxData.start(x, y, 4, 2, 2, true, 2)!;
   * data.loss(new Float64Array(6), new Float64Array(6)); // → 2.772588722239781 (4 · log 2)
   * data.close();
   * ```
   */
  static start(
    x: Float64Array,
    y: Int32Array,
    n: number,
    d: number,
    k: number,
    fitIntercept: boolean,
    threads: number,
  ): ThreadedSoftmaxData | undefined {
    if (typeof Worker !== "function" || typeof SharedArrayBuffer !== "function") return undefined;
    const workers = Math.max(1, Math.min(threads, n));
    const size = k * d + k;
    const share = (bytes: number) => new SharedArrayBuffer(bytes);
    const xs = share(n * d * 8), ys = share(n * 4);
    new Float64Array(xs).set(x.subarray(0, n * d));
    new Int32Array(ys).set(y.subarray(0, n));
    const params = share(size * 8), out = share(workers * (size + 1) * 8), control = share(20);
    const ctrl = new Int32Array(control);
    const started: Worker[] = [];
    try {
      for (let w = 0; w < workers; w++) {
        const worker = new Worker(new URL("./probe_worker.ts", import.meta.url).href, { type: "module" });
        started.push(worker);
        const init: ProbeWorkerInit = {
          x: xs,
          y: ys,
          params,
          out,
          control,
          slot: w,
          r0: Math.floor((w * n) / workers),
          r1: Math.floor(((w + 1) * n) / workers),
          d,
          k,
          fitIntercept,
        };
        worker.postMessage(init);
      }
    } catch {
      started.forEach((w) => w.terminate());
      return undefined;
    }
    const deadline = performance.now() + START_TIMEOUT_MS;
    for (;;) {
      const ready = Atomics.load(ctrl, CONTROL.ready);
      if (ready >= workers) break;
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.load(ctrl, CONTROL.failed)) {
        Atomics.store(ctrl, CONTROL.stop, 1);
        Atomics.add(ctrl, CONTROL.generation, 1);
        Atomics.notify(ctrl, CONTROL.generation);
        started.forEach((w) => w.terminate());
        return undefined;
      }
      Atomics.wait(ctrl, CONTROL.ready, ready, left);
    }
    return new ThreadedSoftmaxData(
      workers,
      size,
      new Float64Array(params),
      new Float64Array(out),
      ctrl,
      started,
    );
  }

  /** As `SoftmaxData.loss`: the summed cross-entropy at `params`, its gradient into `grad`. */
  loss(params: Float64Array, grad: Float64Array): number {
    const { size, out, control } = this;
    this.params.set(params.subarray(0, Math.min(params.length, size)));
    if (params.length < size) this.params.fill(0, params.length); // no bias parameters: b = 0
    Atomics.store(control, CONTROL.done, 0);
    Atomics.add(control, CONTROL.generation, 1);
    Atomics.notify(control, CONTROL.generation);
    for (;;) {
      const done = Atomics.load(control, CONTROL.done);
      if (done >= this.threads) break;
      Atomics.wait(control, CONTROL.done, done);
    }
    let loss = 0;
    const g = grad.subarray(0, Math.min(grad.length, size));
    g.fill(0);
    for (let w = 0; w < this.threads; w++) {
      const base = w * (size + 1);
      for (let j = 0; j < g.length; j++) g[j] += out[base + j];
      loss += out[base + size];
    }
    return loss;
  }

  /** Stop the workers: they leave their wait and return, then are terminated. */
  close(): void {
    Atomics.store(this.control, CONTROL.stop, 1);
    Atomics.add(this.control, CONTROL.generation, 1);
    Atomics.notify(this.control, CONTROL.generation);
    this.workers.forEach((w) => w.terminate());
  }
}
