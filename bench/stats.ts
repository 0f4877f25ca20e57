/**
 * Timing and memory helpers of the benchmarks: warm-up then timed repetitions (median and spread), peak
 * resident memory from `/proc/self/status`, and a description of the machine.
 * @module
 */
import type { JobResult, Runner } from "./jobs.ts";

/** Timed repetitions of one measurement, in seconds. */
export interface Timing {
  /** Seconds of each timed repetition, in run order. */
  samples: number[];
  median: number;
  min: number;
  max: number;
}

/** Options of {@link measure}. */
export interface MeasureOptions {
  /** Untimed runs first (default 1). */
  warmup?: number;
  /** Timed runs (default 5). */
  reps?: number;
}

/**
 * The median of numbers (the mean of the middle two for an even count).
 * @example
 * median([3, 1, 2, 10]) // 2.5
 */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Summarise repetition times.
 * @example
 * timing([0.3, 0.1, 0.2]) // { samples: [0.3, 0.1, 0.2], median: 0.2, min: 0.1, max: 0.3 }
 */
export function timing(samples: number[]): Timing {
  return { samples, median: median(samples), min: Math.min(...samples), max: Math.max(...samples) };
}

/**
 * Run `fn` `warmup` times untimed, then `reps` times timed.
 * @example
 * const t = await measure(() => model.encodeImages(files), { warmup: 1, reps: 5 });
 * t.median // 1.21 (seconds)
 */
export async function measure(
  fn: () => Promise<unknown> | unknown,
  options: MeasureOptions = {},
): Promise<Timing> {
  for (let i = 0; i < (options.warmup ?? 1); i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < (options.reps ?? 5); i++) {
    const start = performance.now();
    await fn();
    samples.push((performance.now() - start) / 1000);
  }
  return timing(samples);
}

/**
 * Time a prepared contender: `runner.run()` `warmup` times untimed, then `reps` times, then dispose of it;
 * the result as a child reports it (with the process's peak RSS).
 * @example
 * await timeRunner(await prepareOrtText(job), job.prompts.length, { warmup: 0, reps: 3 })
 * // { label: "bare onnxruntime-node 1.30.0", threads: 2, items: 250, timing: { median: 2.1, … }, … }
 */
export async function timeRunner(runner: Runner, items: number, options: MeasureOptions): Promise<JobResult> {
  const timing = await measure(runner.run, options);
  await runner.dispose();
  return {
    label: runner.label,
    threads: runner.threads,
    items,
    timing,
    loadSeconds: runner.loadSeconds,
    peakRss: residentMemory().peak,
  };
}

/**
 * Seconds one call of `fn` takes.
 * @example
 * await seconds(() => model.encodeImages(files)) // 3.52
 */
export async function seconds(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

/**
 * This process's peak and current resident memory in bytes (`VmHWM`, `VmRSS` of `/proc/self/status`;
 * 0 where /proc is absent).
 * @example
 * residentMemory() // { peak: 1489346560, current: 1203453952 }
 */
export function residentMemory(): { peak: number; current: number } {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const kib = (key: string) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))?.[1] ?? 0);
    return { peak: kib("VmHWM") * 1024, current: kib("VmRSS") * 1024 };
  } catch {
    return { peak: 0, current: 0 };
  }
}

/**
 * One line describing the machine: CPU model, cores, memory, OS, Deno, load average.
 * @example
 * machineDescription() // "AMD EPYC, 2 logical CPUs, 23.4 GiB RAM, Linux 6.1 x86_64, Deno 2.9.6; load average 3.1 …"
 */
export function machineDescription(): string {
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return "";
    }
  };
  const cpu = read("/proc/cpuinfo").match(/^model name\s*:\s*(.+)$/m)?.[1] ?? Deno.build.arch;
  const flags = read("/proc/cpuinfo").match(/^flags\s*:\s*(.+)$/m)?.[1].split(" ") ?? [];
  const simd = ["avx2", "avx512f", "avx512_vnni", "avx_vnni"].filter((f) => flags.includes(f)).join(", ");
  const mem = Deno.systemMemoryInfo().total / 2 ** 30;
  const [l1, l5, l15] = Deno.loadavg();
  return `${cpu} (${simd || "no AVX2"}), ${navigator.hardwareConcurrency} logical CPUs, ${
    mem.toFixed(1)
  } GiB RAM, ` +
    `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}, Deno ${Deno.version.deno} (V8 ${Deno.version.v8}); ` +
    `load average ${l1.toFixed(1)} / ${l5.toFixed(1)} / ${l15.toFixed(1)} (1 / 5 / 15 min)`;
}

/**
 * Whether other work is competing for the CPUs: the 1-minute load average above half the core count.
 * @example
 * machineIsLoaded() // true
 */
export function machineIsLoaded(): boolean {
  return Deno.loadavg()[0] > navigator.hardwareConcurrency / 2;
}
