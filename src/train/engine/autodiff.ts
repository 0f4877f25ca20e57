/**
 * Reverse-mode differentiation of a {@link Graph}'s tape, emitted into the same ONNX graph.
 *
 * tape (forward order) ──► which tensors depend on the wanted leaves (forward sweep)
 *                      ──► gradients from the loss backwards, one `rules.ts` rule per entry (reverse sweep)
 *
 * A tensor used by several ops gets the sum of their contributions (one ONNX `Sum`). Entries whose
 * outputs the loss does not reach, or whose inputs do not depend on a wanted leaf, emit nothing.
 * @module
 */
import type { Graph, T } from "./ir.ts";
import { RULES, zeros } from "./rules.ts";
import { TrainError } from "../../errors.ts";

/**
 * ∂loss/∂leaf for each of `leaves` (a zero tensor for a leaf the loss does not depend on).
 *
 * @example
 * ```ts
 * import { Graph } from "./ir.ts";
 * import { gradients } from "./autodiff.ts";
 * const g = new Graph("square");
 * const x = g.input("x", [3]);
 * const loss = g.reduceSum(g.mul(x, x), [0]);
 * const [dx] = gradients(g, loss, [x]); // 2x, as ONNX nodes of g
 * g.output(dx, "dx");
 * ```
 */
export function gradients(g: Graph, loss: T, leaves: T[]): T[] {
  if (loss.shape.length !== 0) {
    throw new TrainError(`the loss has shape [${loss.shape}], not a scalar`, {
      fix: "reduce it to a scalar first",
    });
  }
  const depends = new Set(leaves.map((t) => t.name));
  for (const e of g.tape) {
    if (e.inputs.some((t) => depends.has(t.name))) { for (const t of e.outputs) depends.add(t.name); }
  }
  const parts = new Map<string, T[]>();
  const add = (t: T, d: T) => {
    const list = parts.get(t.name);
    if (list) list.push(d);
    else parts.set(t.name, [d]);
  };
  const total = (t: T): T | null => {
    const list = parts.get(t.name);
    if (!list) return null;
    if (list.length === 1) return list[0];
    const sum = g.emit1("Sum", list, {}, t.shape, t.dtype);
    parts.set(t.name, [sum]);
    return sum;
  };
  return g.unrecorded(() => {
    add(loss, g.scalar(1));
    for (let i = g.tape.length - 1; i >= 0; i--) {
      const e = g.tape[i];
      const needs = e.inputs.map((t) => depends.has(t.name));
      if (!needs.some(Boolean)) continue;
      const dy = e.outputs.map(total);
      if (dy.every((d) => d === null)) continue;
      const rule = RULES[e.op];
      if (!rule) {
        throw new TrainError(`no backward rule for op "${e.op}"`, {
          fix: "add one to src/train/engine/rules.ts",
        });
      }
      const dx = rule(g, e, dy, needs);
      e.inputs.forEach((t, j) => {
        if (needs[j] && dx[j]) add(t, dx[j]!);
      });
    }
    return leaves.map((t) => total(t) ?? zeros(g, t.shape));
  });
}
