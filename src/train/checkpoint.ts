/**
 * Training checkpoints: one file, written atomically (temp file + rename), holding a JSON header
 * (configs, step, history, tensor index) and the float32 data of weights and AdamW moments.
 *
 * Layout: `"CLIPCKPT"` · u32 header length (little endian) · header JSON (UTF-8) · padding to a
 * multiple of 4 · float32 arrays in header order.
 *
 * A training engine session is saved as the arrays `param/NAME`, `m/NAME` and `v/NAME` (openai/CLIP names,
 * PyTorch layouts): {@link sessionArrays} writes them, {@link sessionFromArrays} checks and restores them.
 * Every trainer of the kit (the classic `Trainer`, the media-world recipe) saves its session this way.
 * @module
 */
import { writeAtomic } from "../fs.ts";
import { CheckpointError } from "../errors.ts";
import type { OptimizerState, TrainingSession } from "./engine/session.ts";
import { type EngineArchitecture, parameterShapes } from "./engine/layout.ts";

const MAGIC = "CLIPCKPT";

/** What a checkpoint holds: JSON-able metadata and named float arrays. */
export interface CheckpointData<M> {
  meta: M;
  arrays: Record<string, Float32Array>;
}

/**
 * Write `data` to `path` atomically: a crash leaves the previous checkpoint intact.
 *
 * @example
 * ```ts
 * import { writeCheckpoint } from "./checkpoint.ts";
 * const path = `${await Deno.makeTempDir()}/checkpoint.bin`;
 * await writeCheckpoint(path, { meta: { step: 10 }, arrays: { w: new Float32Array(4) } });
 * ```
 */
export async function writeCheckpoint<M>(path: string, data: CheckpointData<M>): Promise<void> {
  const names = Object.keys(data.arrays);
  const header = new TextEncoder().encode(JSON.stringify({
    meta: data.meta,
    tensors: names.map((n) => [n, data.arrays[n].length]),
  }));
  const start = Math.ceil((MAGIC.length + 4 + header.length) / 4) * 4;
  const floats = names.reduce((s, n) => s + data.arrays[n].length, 0);
  const bytes = new Uint8Array(start + 4 * floats);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(bytes.buffer).setUint32(MAGIC.length, header.length, true);
  bytes.set(header, MAGIC.length + 4);
  const body = new Float32Array(bytes.buffer, start, floats);
  let at = 0;
  for (const n of names) {
    body.set(data.arrays[n], at);
    at += data.arrays[n].length;
  }
  await writeAtomic(path, bytes, { mkdir: true });
}

/**
 * Read a checkpoint written by {@link writeCheckpoint}.
 *
 * @example
 * ```ts
 * import { readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
 * const path = `${await Deno.makeTempDir()}/checkpoint.bin`;
 * await writeCheckpoint(path, { meta: { step: 10 }, arrays: { w: new Float32Array(4) } });
 * const { meta, arrays } = await readCheckpoint<{ step: number }>(path);
 * meta.step; // → 10
 * arrays.w.length; // → 4
 * ```
 */
export async function readCheckpoint<M>(path: string): Promise<CheckpointData<M>> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new CheckpointError(
      `cannot read the checkpoint (${(e as Error).message})`,
      { path, fix: "check the --out folder", cause: e },
    );
  }
  if (new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) {
    throw new CheckpointError("not a clipkit checkpoint", {
      path,
      fix: "delete it or pass another --out folder",
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(MAGIC.length, true);
  const header = JSON.parse(
    new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + headerLength)),
  ) as { meta: M; tensors: [string, number][] };
  let at = Math.ceil((MAGIC.length + 4 + headerLength) / 4) * 4;
  const arrays: Record<string, Float32Array> = {};
  for (const [name, n] of header.tensors) {
    if (at + 4 * n > bytes.length) {
      throw new CheckpointError(`the checkpoint is truncated (tensor ${name})`, {
        path,
        fix: "delete it and start again",
      });
    }
    arrays[name] = new Float32Array(bytes.slice(at, at + 4 * n).buffer);
    at += 4 * n;
  }
  return { meta: header.meta, arrays };
}

/**
 * A training session's weights and AdamW moments as checkpoint arrays: `param/NAME`, `m/NAME`, `v/NAME`.
 *
 * @example
 * ```ts
 * import { sessionArrays } from "./checkpoint.ts";
 * import { TrainingSession } from "./engine/session.ts";
 * import { initStateDict } from "./engine/layout.ts";
 * import { loadArchitecture } from "../model/architecture.ts";
 * const a = loadArchitecture("tiny");
 * const s = await TrainingSession.create(a, initStateDict(a, 0), { backend: "node", batchSize: 2 });
 * Object.keys(sessionArrays(s))[0]; // → "param/positional_embedding"
 * await s.dispose();
 * ```
 */
export function sessionArrays(session: TrainingSession): Record<string, Float32Array> {
  const opt = session.optimizerState();
  const arrays: Record<string, Float32Array> = {};
  for (const [n, a] of Object.entries(session.stateDict())) arrays[`param/${n}`] = a;
  for (const [n, a] of Object.entries(opt.m)) arrays[`m/${n}`] = a;
  for (const [n, a] of Object.entries(opt.v)) arrays[`v/${n}`] = a;
  return arrays;
}

/**
 * The weights and AdamW state stored by {@link sessionArrays}, checked against `architecture` (every parameter
 * present with its size, else a {@link CheckpointError} naming it): pass `stateDict` to
 * `TrainingSession.create`, then `state` to its `loadState`. `adamStep` is the update count the checkpoint
 * recorded.
 *
 * @example
 * ```ts
 * import { sessionArrays, sessionFromArrays } from "./checkpoint.ts";
 * import { TrainingSession } from "./engine/session.ts";
 * import { initStateDict } from "./engine/layout.ts";
 * import { loadArchitecture } from "../model/architecture.ts";
 * const a = loadArchitecture("tiny");
 * const s = await TrainingSession.create(a, initStateDict(a, 0), { backend: "node", batchSize: 2 });
 * const { state } = sessionFromArrays(sessionArrays(s), a, 7, "run/checkpoint.bin");
 * state.step; // → 7
 * await s.dispose();
 * ```
 */
export function sessionFromArrays(
  arrays: Record<string, Float32Array>,
  architecture: EngineArchitecture,
  adamStep: number,
  path: string,
): { stateDict: Record<string, Float32Array>; state: OptimizerState } {
  const pick = (prefix: string) =>
    Object.fromEntries(
      Object.entries(arrays).filter(([k]) => k.startsWith(prefix)).map((
        [k, a],
      ) => [k.slice(prefix.length), a]),
    );
  const params = pick("param/"), m = pick("m/"), v = pick("v/");
  for (const [name, shape] of parameterShapes(architecture)) {
    const want = shape.reduce((a, b) => a * b, 1);
    if (params[name]?.length !== want || m[name]?.length !== want || v[name]?.length !== want) {
      throw new CheckpointError(
        `the checkpoint lacks ${name} [${shape}], so it was written by another model`,
        { path, fix: "resume with the architecture it was written for, or pass another --out folder" },
      );
    }
  }
  return { stateDict: params, state: { step: adamStep, m, v } };
}
