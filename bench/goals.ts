/**
 * The benchmark's goals: the table of `goals.json` (section, goal, threshold, why) and the values each
 * measured section gives them.
 *
 *   BenchResults ──► goalValues (one value per goal and batch / configuration) ──► checkGoals ──► rows
 *
 * A goal's text may hold `{name}` placeholders that its measured value fills (`{batch}`, `{config}`, `{how}`:
 * e.g. ", head to head").
 * @module
 */
import { join } from "node:path";
import type { BenchResults, Section } from "./results.ts";
import { duration } from "./text.ts";
import { fmt } from "./table.ts";

/** How a measured value is compared with the threshold (`null`: reported only). */
export type GoalOp = "<=" | "<" | ">=" | null;

/** One row of `goals.json`. */
export interface Goal {
  id: string;
  section: Section;
  /** The goal as the report states it, with `{placeholders}`. */
  goal: string;
  op: GoalOp;
  threshold: number | null;
  /** Why the goal matters, for a reader of the report. */
  why: string;
}

/** The goals, in report order. */
export const GOALS: readonly Goal[] = JSON.parse(
  Deno.readTextFileSync(join(import.meta.dirname!, "goals.json")),
) as Goal[];

/** A measured value for one goal (one goal can be measured once per batch size or configuration). */
export interface GoalValue {
  id: string;
  /** The number compared with the threshold; `undefined` when it could not be measured. */
  value?: number;
  /** The measurement as the report shows it (e.g. `"1.16×"`, `"586 ms"`). */
  measured: string;
  /** Fill-ins of the goal's placeholders. */
  vars?: Record<string, string>;
}

/** A goal with what was measured and whether it was met (`undefined`: no threshold, or not measured). */
export interface GoalRow {
  goal: Goal;
  text: string;
  measured: string;
  met: boolean | undefined;
}

/**
 * Whether `value` meets a goal.
 * @example
 * ```ts
 * meets({ op: ">=", threshold: 1.3 }, 1.16); // false
 * ```
 */
export function meets(goal: Pick<Goal, "op" | "threshold">, value: number | undefined): boolean | undefined {
  if (value === undefined || goal.op === null || goal.threshold === null) return undefined;
  if (goal.op === "<=") return value <= goal.threshold;
  if (goal.op === "<") return value < goal.threshold;
  return value >= goal.threshold;
}

/**
 * Every goal value the measured sections give, in the order of `goals.json`, checked against the thresholds.
 * @example
 * ```ts
 * checkGoals(results).map((g) => g.met); // [true, true, false, …]
 * ```
 */
export function checkGoals(results: BenchResults): GoalRow[] {
  const values = goalValues(results);
  const rows: GoalRow[] = [];
  for (const section of new Set(GOALS.map((g) => g.section))) {
    const mine = values.filter((v) => byId(v.id).section === section);
    // Goals of one section appear grouped by their fill-ins (batch 1's goals, then batch 32's).
    const groups = [...new Set(mine.map((v) => groupKey(v)))];
    for (const group of groups) {
      for (const goal of GOALS.filter((g) => g.section === section)) {
        for (const v of mine.filter((x) => x.id === goal.id && groupKey(x) === group)) {
          rows.push({
            goal,
            text: fill(goal.goal, v.vars ?? {}),
            measured: v.measured,
            met: meets(goal, v.value),
          });
        }
      }
    }
  }
  return rows;
}

function byId(id: string): Goal {
  const goal = GOALS.find((g) => g.id === id);
  if (!goal) throw new Error(`no goal "${id}" in bench/goals.json: add it there`);
  return goal;
}

function groupKey(v: GoalValue): string {
  return v.vars?.batch ?? v.vars?.config ?? "";
}

function fill(text: string, vars: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? "");
}

/** The measured value of every goal whose section was measured. */
export function goalValues(results: BenchResults): GoalValue[] {
  const out: GoalValue[] = [];
  const { images, text, memory, gflops, train, search, probe } = results.sections;
  const x = (r: number, digits = 2) => `${r.toFixed(digits)}×`;

  if (images) {
    const { rows, headToHead } = images;
    for (const batch of new Set(rows.map((r) => r.batch))) {
      const vars = (how = "") => ({ batch: String(batch), how });
      const at = (c: string, input: string, pinned = false) =>
        rows.find((r) =>
          r.batch === batch && r.contender === c && r.input === input && r.pinnedThreads === pinned
        );
      const h2h = (c: string) => headToHead.find((r) => r.batch === batch && r.contender === c);
      const how = h2h("clipkit-node") ? ", head to head" : "";
      const ours = h2h("clipkit-node") ?? at("clipkit-node", "files");
      const bare = h2h("ort-node-prealloc") ?? at("ort-node-prealloc", "pixels") ?? at("ort-node", "pixels");
      const tjs = h2h("transformers.js") ?? at("transformers.js", "files");
      const oursFiles = at("clipkit-node", "files"), oursPixels = at("clipkit-node", "pixels");
      const web = at("clipkit-web", "files"), web1 = at("clipkit-web", "files", true);
      const tjsWasm = at("transformers.js-wasm", "files");
      if (oursFiles && oursPixels) {
        const share = oursPixels.perSecond / oursFiles.perSecond - 1; // decode + preprocess time / tower time
        out.push({
          id: "images.decode-share",
          value: share,
          measured: `${(share * 100).toFixed(0)}% of it`,
          vars: vars(),
        });
      }
      if (ours && bare) {
        const r = ours.perSecond / bare.perSecond;
        out.push({ id: "images.vs-bare-ort", value: r, measured: x(r), vars: vars(how) });
      }
      if (ours && tjs) {
        const r = ours.perSecond / tjs.perSecond;
        out.push({ id: "images.vs-transformers", value: r, measured: x(r), vars: vars(how) });
      }
      if (web && tjsWasm) {
        const r = web.perSecond / tjsWasm.perSecond;
        out.push({
          id: "images.wasm-vs-transformers",
          value: r,
          measured: `${x(r)} (${web.threads} vs ${tjsWasm.threads} threads)`,
          vars: vars(),
        });
      }
      const webTogether = h2h("clipkit-web"), tjsWasmTogether = h2h("transformers.js-wasm");
      if (webTogether && tjsWasmTogether) {
        const r = webTogether.perSecond / tjsWasmTogether.perSecond;
        out.push({ id: "images.wasm-one-thread", value: r, measured: x(r), vars: vars(", head to head") });
      } else if (web1 && tjsWasm) {
        const r = web1.perSecond / tjsWasm.perSecond;
        out.push({ id: "images.wasm-one-thread", value: r, measured: x(r), vars: vars() });
      }
    }
  }

  if (text) {
    const { rows, together, cached, total } = text;
    const prompts = total.toLocaleString("en");
    if (cached) {
      out.push({
        id: "text.cached-head",
        value: cached.timing.median,
        measured: duration(cached.timing.median),
        vars: { prompts },
      });
    }
    const ours = rows.find((r) => r.contender === "clipkit-node");
    const padded = rows.find((r) => r.contender === "ort-node" && r.padding === "77");
    if (together) {
      const [a, b] = [together.perSecond["clipkit-node"], together.perSecond["ort-node"]];
      out.push({
        id: "text.vs-padding",
        value: a / b,
        measured: `${x(a / b, 1)} (${duration(total / a)} vs ${duration(total / b)})`,
        vars: { how: " (head to head)" },
      });
    } else if (ours && padded) {
      const r = ours.perSecond / padded.perSecond;
      out.push({
        id: "text.vs-padding",
        value: r,
        measured: `${x(r, 1)} (${duration(ours.projectedSeconds)} vs ${duration(padded.projectedSeconds)})`,
      });
    }
  }

  if (memory) {
    for (const prepack of [undefined, false] as const) {
      const fp32 = memory.rows.find((r) =>
        r.contender === "clipkit-node" && r.variant === "fp32" && r.prepack === prepack
      );
      if (!fp32) continue;
      const whole = fp32.peakRss / fp32.weights, extra = (fp32.peakRss - fp32.baseline) / fp32.weights;
      out.push({
        id: "memory.weights",
        value: extra,
        measured: `${x(whole)} whole process, ${x(extra)} above the runtime alone`,
        vars: { how: prepack === false ? ", lowMemory" : "" },
      });
    }
  }

  if (gflops && !("skipped" in gflops.inTurns)) {
    const g = gflops.inTurns.gflops;
    const peak = g["matmul-prealloc"], tower = g["ort-node-prealloc"], ours = g["clipkit-node"];
    out.push({
      id: "gflops.tower",
      measured: `${fmt(tower)} / ${fmt(ours)} of ${fmt(peak)} GFLOP/s (${
        (100 * tower / peak).toFixed(0)
      }% / ${(100 * ours / peak).toFixed(0)}%)`,
    });
  }

  if (train) {
    for (const config of train.configs) {
      const vars = { config: config.name };
      const engine = config.rows.find((r) => r.contender === "engine-node");
      const pick = (c: string) => config.rows.find((r) => r.contender === c);
      const missing = (who: string) => `not measured: ${who}`;
      const engineMissing = config.skipped.find((s) => s.contender === "engine-node")?.reason ??
        "the clipkit training engine did not run";
      const compare = (id: string, other: string, name: string) => {
        const them = pick(other);
        if (!config.shipped) return;
        if (engine && them) {
          const r = engine.pairsPerSecond / them.pairsPerSecond;
          out.push({
            id,
            value: r,
            measured: `${x(r)} (${fmt(engine.pairsPerSecond)} vs ${fmt(them.pairsPerSecond)} pairs/s)`,
            vars,
          });
        } else {
          const why = engine
            ? config.skipped.find((s) => s.contender === other)?.reason ?? `${name} did not run`
            : engineMissing;
          out.push({ id, measured: missing(why), vars });
        }
      };
      compare("train.vs-pytorch", "pytorch", "PyTorch");
      compare("train.vs-tfjs", "tfjs", "TF.js");
      if (engine && config.peak) {
        const share = engine.gflops / config.peak.gflops;
        out.push({
          id: "train.peak-share",
          value: share,
          measured: `${(100 * share).toFixed(0)}% (${fmt(engine.gflops)} of ${
            fmt(config.peak.gflops)
          } GFLOP/s)`,
          vars,
        });
      } else {
        out.push({
          id: "train.peak-share",
          measured: missing(engine ? "no MatMul peak" : engineMissing),
          vars,
        });
      }
    }
  }
  if (search) {
    const one = search.rows[0];
    out.push({
      id: "search.query",
      measured: `${fmt(one.msPerUnit)} ms per query (${fmt(one.perSecond)} queries/s)`,
      vars: { rows: search.corpus.rows.toLocaleString("en"), dim: String(search.corpus.dim) },
    });
  }

  if (probe) {
    const { rows, dim, classes } = probe.data;
    const ours = probe.rows.filter((r) => r.fitter.startsWith("clipkit"));
    const theirs = probe.rows.filter((r) => r.fitter.startsWith("scikit-learn"));
    ours.forEach((r, i) => {
      const them = theirs[i];
      out.push({
        id: "probe.fit",
        measured: `${fmt(r.ms / 1000)} s` + (them ? ` (scikit-learn ${fmt(them.ms / 1000)} s)` : ""),
        vars: {
          rows: rows.toLocaleString("en"),
          dim: String(dim),
          classes: String(classes),
          threads: i === 0 ? "1 thread" : "all threads",
        },
      });
    });
  }
  return out;
}
