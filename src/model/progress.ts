/**
 * A progress bar for long loops (embedding a dataset, downloading a model, training) that draws
 * itself in a terminal, in a Jupyter cell (Deno's kernel, one display updated in place), or as a
 * few plain lines when stderr is a file or a pipe.
 *
 * ```ts
 * import { Progress } from "./progress.ts";
 * const batches = [[1, 2, 3], [4, 5, 6], [7, 8, 9, 10]];
 * const bar = new Progress(10, { label: "embedding", unit: "images" });
 * for (const batch of batches) bar.tick(batch.length);
 * bar.finish();
 * ```
 */
import { InputError } from "../errors.ts";

/** A snapshot of progress, as callbacks receive it. */
export interface ProgressUpdate {
  /** Units done so far. */
  done: number;
  /** Units in all. */
  total: number;
  /** What is being done (`"text"`, `"images"`, a file name). */
  label: string;
  /** Milliseconds since the start. */
  elapsedMs: number;
}

/** Called as work advances. */
export type ProgressCallback = (update: ProgressUpdate) => void;

/** Where a bar draws itself: `"auto"` picks Jupyter, then a terminal, then plain lines. */
export type ProgressOutput = "auto" | "jupyter" | "terminal" | "lines" | "none";

/** Options for `Progress`. */
export interface ProgressOptions {
  /** Shown before the bar (default `""`). */
  label?: string;
  /** The unit counted, shown after the numbers (default `"items"`; `"bytes"` prints KB/MB/GB). */
  unit?: string;
  /** Where to draw (default `"auto"`). */
  output?: ProgressOutput;
  /** Also call this on every update. */
  onProgress?: ProgressCallback;
}

/** Width of the bar in characters. */
const BAR_WIDTH = 24;
/** Shortest time between two redraws in a terminal or a notebook. */
const REDRAW_MS = 100;
/** Shortest time between two plain lines when stderr is not a terminal. */
const LINE_MS = 5000;

/**
 * A progress bar; see the module documentation.
 * @example
 * ```ts
 * import { Progress } from "./progress.ts";
 * const bar = new Progress(4, { label: "embedding", unit: "images", output: "none" });
 * bar.tick(3);
 * bar.done; // → 3
 * bar.finish();
 * ```
 */
export class Progress {
  /** Units in all. */
  readonly total: number;
  /** What is being done. */
  readonly label: string;
  /** What a unit is (`"images"`, `"bytes"`). */
  readonly unit: string;
  /** Where the bar is drawn (`"auto"` resolved). */
  readonly output: Exclude<ProgressOutput, "auto">;
  /** Shown after the bar from the next redraw on (e.g. `"loss 2.31 · 420 ms/step"`); empty for nothing. */
  detail = "";
  #done = 0;
  #start = performance.now();
  #lastDraw = -Infinity;
  #finished = false;
  #displayId = `clipkit-progress-${crypto.randomUUID()}`;
  #displayed = false;
  #onProgress?: ProgressCallback;

  /** A bar for `total` units; nothing is drawn until the first update. */
  constructor(total: number, options: ProgressOptions = {}) {
    if (!Number.isFinite(total) || total < 0) {
      throw new InputError(`a progress total must be a finite number ≥ 0, got ${total}`, {
        fix: "pass the number of units the loop will do",
      });
    }
    this.total = total;
    this.label = options.label ?? "";
    this.unit = options.unit ?? "items";
    this.output = resolveOutput(options.output ?? "auto");
    this.#onProgress = options.onProgress;
  }

  /** Units done so far. */
  get done(): number {
    return this.#done;
  }

  /**
   * Advance by `n` units.
   * @example
   * ```ts
   * import { Progress } from "./progress.ts";
   * const bar = new Progress(10, { output: "none" });
   * bar.tick(3);
   * bar.done; // → 3
   * ```
   */
  tick(n = 1): void {
    this.update(this.#done + n);
  }

  /**
   * Set the units done to `done` (clamped to `0…total`).
   * @example
   * ```ts
   * import { Progress } from "./progress.ts";
   * const bar = new Progress(10, { output: "none" });
   * bar.update(7);
   * bar.done; // → 7
   * bar.update(12);
   * bar.done; // → 10 (clamped to the total)
   * ```
   */
  update(done: number): void {
    this.#done = Math.min(this.total, Math.max(0, done));
    const elapsedMs = performance.now() - this.#start;
    this.#onProgress?.({ done: this.#done, total: this.total, label: this.label, elapsedMs });
    const gap = this.output === "lines" ? LINE_MS : REDRAW_MS;
    if (elapsedMs - this.#lastDraw >= gap) this.#draw(elapsedMs, false);
  }

  /**
   * Draw the final state and end the line. Calling it again does nothing.
   * @example
   * ```ts
   * import { Progress } from "./progress.ts";
   * const bar = new Progress(3, { label: "copying", unit: "files", output: "lines" });
   * bar.tick(3);
   * bar.finish(); // stderr: copying [████████████████████████] 100% 3/3 files · … files/s · 0s
   * ```
   */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#draw(performance.now() - this.#start, true);
  }

  /** The bar as one line of text, e.g. `"images [████░░░░] 50% 2/4 images · 1.9 images/s · 1s left"`. */
  toString(): string {
    return formatProgress(this.#done, this.total, performance.now() - this.#start, this.label, this.unit) +
      (this.detail ? ` · ${this.detail}` : "");
  }

  #draw(elapsedMs: number, final: boolean): void {
    this.#lastDraw = elapsedMs;
    const line = formatProgress(this.#done, this.total, elapsedMs, this.label, this.unit) +
      (this.detail ? ` · ${this.detail}` : "");
    if (this.output === "terminal") {
      writeErr(`\r${line}\x1b[K${final ? "\n" : ""}`);
    } else if (this.output === "lines") {
      writeErr(`${line}\n`);
    } else if (this.output === "jupyter") {
      const fraction = this.total > 0 ? this.#done / this.total : 1;
      const html = `<div style="font-family:monospace"><progress value="${fraction.toFixed(4)}" max="1" ` +
        `style="width:16em;vertical-align:middle"></progress> ${escapeHtml(line)}</div>`;
      const update = this.#displayed;
      this.#displayed = true;
      jupyter()?.display({ "text/html": html, "text/plain": line }, {
        raw: true,
        display_id: this.#displayId,
        update,
      }).catch(() => {});
    }
  }
}

/**
 * One line describing progress: label, bar, percent, counts, rate and time left.
 * @example
 * ```ts
 * import { formatProgress } from "./progress.ts";
 * formatProgress(50, 100, 10_000, "images", "images")
 * // → "images [████████████░░░░░░░░░░░░]  50% 50/100 images · 5.0 images/s · 10s left"
 * ```
 */
export function formatProgress(
  done: number,
  total: number,
  elapsedMs: number,
  label = "",
  unit = "items",
): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `[${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}]`;
  const percent = `${Math.floor(fraction * 100)}`.padStart(3) + "%";
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? done / seconds : 0;
  const counts = unit === "bytes" ? `${formatBytes(done)}/${formatBytes(total)}` : `${done}/${total} ${unit}`;
  const speed = unit === "bytes" ? `${formatBytes(rate)}/s` : `${rate.toFixed(1)} ${unit}/s`;
  const left = done >= total
    ? `${formatDuration(seconds)}`
    : rate > 0
    ? `${formatDuration((total - done) / rate)} left`
    : "";
  return [label, bar, percent, counts, "·", speed, ...(left ? ["·", left] : [])].filter((s) => s).join(" ");
}

function formatBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function resolveOutput(output: ProgressOutput): Exclude<ProgressOutput, "auto"> {
  if (output !== "auto") return output;
  if (jupyter()) return "jupyter";
  return Deno.stderr.isTerminal() ? "terminal" : "lines";
}

/** `Deno.jupyter` inside `deno jupyter`; undefined elsewhere (reading it outside the kernel throws). */
function jupyter(): typeof Deno.jupyter | undefined {
  try {
    return Deno.jupyter;
  } catch {
    return undefined;
  }
}

const encoder = new TextEncoder();
function writeErr(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}
