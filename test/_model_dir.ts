/**
 * Checks every shipped model folder must pass: its files exist and stay small (the repository keeps models
 * small), and its vocabulary agrees with config.json (size, EOT id) and its logit scale is in CLIP's range.
 */
import nodeAssert from "node:assert/strict";
import { join } from "node:path";

/** The repository keeps its models small. */
export const MAX_MODEL_BYTES = 15 * 1024 * 1024;

/** The parts of a model's config.json the checks read. */
export interface ModelFolderConfig {
  logit_scale: number;
  text_config: { vocab_size: number; eos_token_id: number; bos_token_id?: number };
  [key: string]: unknown;
}

/** Asserts the folder holds `files`, under {@link MAX_MODEL_BYTES} in all; returns its config.json and vocab.json. */
export async function checkModelFolder(
  dir: string,
  files: readonly string[],
): Promise<{ config: ModelFolderConfig; vocab: Record<string, number> }> {
  let bytes = 0;
  for (const f of files) bytes += (await Deno.stat(join(dir, f))).size;
  nodeAssert.ok(bytes < MAX_MODEL_BYTES, `${bytes} bytes`);
  const config = JSON.parse(await Deno.readTextFile(join(dir, "config.json"))) as ModelFolderConfig;
  const vocab = JSON.parse(await Deno.readTextFile(join(dir, "vocab.json"))) as Record<string, number>;
  nodeAssert.equal(Object.keys(vocab).length, config.text_config.vocab_size);
  nodeAssert.equal(vocab["<|endoftext|>"], config.text_config.eos_token_id);
  nodeAssert.ok(config.logit_scale > 1 && config.logit_scale <= 100, `logit scale ${config.logit_scale}`);
  return { config, vocab };
}
