/**
 * The schemas of experiment results and the small validator that checks them: a subset of JSON Schema
 * (`type`, `enum`, `required`, `properties`, `additionalProperties`, `items`, `minItems`, `minLength`,
 * `minimum`, `maximum`), enough for required fields and their types.
 *
 * result ─► schemas/experiment.json (the envelope every result shares)
 *        ─► schemas/NAME.json: `config`, each run's `settings` and `checkpoints[i]`, and `summary`
 *        ─► every problem found, in one ExperimentResultError (or the result, typed)
 * @module
 */
import { ExperimentResultError } from "../errors.ts";
import type { ExperimentResult } from "./result.ts";
import envelope from "./schemas/experiment.json" with { type: "json" };
import temperature from "./schemas/temperature.json" with { type: "json" };
import zeroShotVsProbe from "./schemas/zero-shot-vs-probe.json" with { type: "json" };
import robustness from "./schemas/robustness.json" with { type: "json" };
import fewShot from "./schemas/few-shot.json" with { type: "json" };
import promptsVsCompute from "./schemas/prompts-vs-compute.json" with { type: "json" };
import objectives from "./schemas/objectives.json" with { type: "json" };

/** The JSON Schema subset {@link validateAgainst} understands. */
export interface Schema {
  description?: string;
  type?: JsonType | JsonType[];
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  /** `false`: no fields beyond `properties`; a schema: what every other field must match. */
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  minLength?: number;
  minimum?: number;
  maximum?: number;
}

/** JSON's value types, with `integer` for whole numbers. */
export type JsonType = "object" | "array" | "string" | "number" | "integer" | "boolean" | "null";

/** The parts of a result an experiment's own schema checks. */
export interface ExperimentSchema {
  description?: string;
  config: Schema;
  settings: Schema;
  checkpoint: Schema;
  summary: Schema;
}

/** The envelope schema every result matches. */
export const RESULT_SCHEMA: Schema = envelope as Schema;

/** Each experiment's schema, by experiment name (one file per experiment in `schemas/`). */
export const EXPERIMENT_SCHEMAS: Readonly<Record<string, ExperimentSchema>> = {
  temperature: temperature as ExperimentSchema,
  "zero-shot-vs-probe": zeroShotVsProbe as ExperimentSchema,
  robustness: robustness as ExperimentSchema,
  "few-shot": fewShot as ExperimentSchema,
  "prompts-vs-compute": promptsVsCompute as ExperimentSchema,
  objectives: objectives as ExperimentSchema,
};

/** The JSON type of a value (`integer` for whole finite numbers; NaN and ±Infinity are no JSON type). */
function typeOf(value: unknown): JsonType | "invalid" {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  switch (typeof value) {
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    case "number":
      return !Number.isFinite(value) ? "invalid" : Number.isInteger(value) ? "integer" : "number";
    case "object":
      return "object";
    default:
      return "invalid";
  }
}

function describe(value: unknown): string {
  const t = typeOf(value);
  if (t === "invalid") return typeof value === "number" ? String(value) : typeof value;
  if (t === "string") return `the string ${JSON.stringify(String(value).slice(0, 40))}`;
  if (t === "null") return "null";
  if (t === "object" || t === "array") return `an ${t}`;
  return `the ${t === "boolean" ? "boolean" : "number"} ${value}`;
}

/**
 * Every way `value` breaks `schema`, each as `path: problem` (empty when it matches).
 *
 * @example
 * ```ts
 * import { validateAgainst } from "./schema.ts";
 * const schema = { type: "object" as const, required: ["step"], properties: { step: { type: "integer" as const } } };
 * validateAgainst(schema, { step: 3 }); // → []
 * validateAgainst(schema, { step: "3" }, "checkpoint"); // → ["checkpoint.step is the string \"3\", not integer"]
 * validateAgainst(schema, {}, "checkpoint"); // → ["checkpoint lacks step"]
 * ```
 */
export function validateAgainst(schema: Schema, value: unknown, path = "result"): string[] {
  const problems: string[] = [];
  const t = typeOf(value);
  if (schema.type !== undefined) {
    const allowed = Array.isArray(schema.type) ? schema.type : [schema.type];
    const ok = allowed.some((a) => a === t || (a === "number" && t === "integer"));
    if (!ok) return [`${path} is ${describe(value)}, not ${allowed.join(" or ")}`];
  } else if (t === "invalid") {
    return [`${path} is ${describe(value)}, not a JSON value`];
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    problems.push(
      `${path} is ${describe(value)}, not one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`,
    );
  }
  if ((t === "number" || t === "integer") && typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) {
      problems.push(`${path} is ${value}, below ${schema.minimum}`);
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      problems.push(`${path} is ${value}, above ${schema.maximum}`);
    }
  }
  if (t === "string" && schema.minLength !== undefined && (value as string).length < schema.minLength) {
    problems.push(`${path} is shorter than ${schema.minLength} characters`);
  }
  if (t === "array") {
    const items = value as unknown[];
    if (schema.minItems !== undefined && items.length < schema.minItems) {
      problems.push(`${path} has ${items.length} items, fewer than ${schema.minItems}`);
    }
    if (schema.items) {
      items.forEach((item, i) => problems.push(...validateAgainst(schema.items!, item, `${path}[${i}]`)));
    }
  }
  if (t === "object") {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in obj)) problems.push(`${path} lacks ${key}`);
    for (const [key, v] of Object.entries(obj)) {
      const sub = schema.properties?.[key];
      if (sub) problems.push(...validateAgainst(sub, v, `${path}.${key}`));
      else if (schema.additionalProperties === false) {
        problems.push(`${path}.${key} is not a field of this schema`);
      } else if (typeof schema.additionalProperties === "object") {
        problems.push(...validateAgainst(schema.additionalProperties, v, `${path}.${key}`));
      }
    }
  }
  return problems;
}

/** Problems listed in one error message before the rest are counted. */
const LISTED = 8;

/**
 * Check a result against the envelope and its experiment's schema; returns it typed, or throws one
 * {@link ExperimentResultError} listing the problems.
 *
 * @example
 * ```ts
 * import { validateResult } from "./schema.ts";
 * import { readJsonFile } from "../fs.ts";
 * const result = validateResult(await readJsonFile("experiments/results/temperature.json", "result"));
 * result.name; // → "temperature"
 * try {
 *   validateResult({ ...result, runs: [] });
 * } catch (e) {
 *   console.log(String(e)); // → "ExperimentResultError: the temperature result does not match its schema: result.runs has 0 items, fewer than 1. Fix: …"
 * }
 * ```
 */
export function validateResult(value: unknown, options: { path?: string } = {}): ExperimentResult {
  const problems = validateAgainst(RESULT_SCHEMA, value);
  const name = (value as { name?: unknown } | null)?.name;
  const own = typeof name === "string" ? EXPERIMENT_SCHEMAS[name] : undefined;
  if (typeof name === "string" && !own && problems.length === 0) {
    problems.push(
      `result.name ${JSON.stringify(name)} is no experiment (known: ${
        Object.keys(EXPERIMENT_SCHEMAS).join(", ")
      })`,
    );
  }
  if (own && problems.length === 0) {
    const r = value as ExperimentResult;
    problems.push(...validateAgainst(own.config, r.config, "result.config"));
    r.runs.forEach((run, i) => {
      problems.push(...validateAgainst(own.settings, run.settings, `result.runs[${i}].settings`));
      run.checkpoints.forEach((c, k) =>
        problems.push(...validateAgainst(own.checkpoint, c, `result.runs[${i}].checkpoints[${k}]`))
      );
      const steps = run.checkpoints.map((c) => c.step);
      if (steps.some((s, k) => k > 0 && !(s > steps[k - 1]))) {
        problems.push(`result.runs[${i}].checkpoints are not in increasing step order`);
      }
    });
    problems.push(...validateAgainst(own.summary, r.summary, "result.summary"));
    const seeds = new Set(r.seeds);
    r.runs.forEach((run, i) => {
      if (!seeds.has(run.seed)) problems.push(`result.runs[${i}].seed ${run.seed} is not among result.seeds`);
    });
  }
  if (problems.length) {
    const listed = problems.slice(0, LISTED).join("; ");
    const more = problems.length > LISTED ? ` (and ${problems.length - LISTED} more)` : "";
    throw new ExperimentResultError(
      `the ${
        typeof name === "string" ? name : "experiment"
      } result does not match its schema: ${listed}${more}`,
      {
        path: options.path,
        fix: "re-run the experiment with this version of clipkit (deno task experiment NAME)",
      },
    );
  }
  return value as ExperimentResult;
}
