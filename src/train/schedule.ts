/**
 * The learning-rate schedule CLIP was trained with: linear warm-up to the peak, then cosine decay to 0
 * (the paper, section 2.5). A pure function of the step, so a resumed run continues on the same curve.
 * @module
 */

/**
 * Learning rate at `step` (0-based) of `total`: linear warm-up over `warmup` steps to `peak`,
 * then cosine decay to 0.
 *
 * @example
 * ```ts
 * import { cosineLr } from "./schedule.ts";
 * cosineLr(0, 100, 10, 1e-3); // → 0.0001
 * cosineLr(55, 100, 10, 1e-3); // → 0.0005
 * ```
 */
export function cosineLr(step: number, total: number, warmup: number, peak: number): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = (step - warmup) / Math.max(1, total - warmup);
  return 0.5 * peak * (1 + Math.cos(Math.PI * Math.min(1, progress)));
}
