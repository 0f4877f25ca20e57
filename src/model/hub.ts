/**
 * Download a CLIP model directory from the Hugging Face hub (or any server speaking its API):
 * only the files one dtype needs, resumable (`.part` files continued with HTTP Range), verified
 * (LFS sha256, git blob sha1 for small files), and placed atomically (rename when complete).
 *
 * Endpoints, as the hub's own clients use them (`HF_ENDPOINT` overrides the host):
 * `GET {endpoint}/api/models/{repo}/tree/{revision}?recursive=true` lists files with sizes and hashes;
 * `GET {endpoint}/{repo}/resolve/{revision}/{path}` serves a file.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { ConnectionError, DownloadError } from "../errors.ts";
import { type Dtype, DTYPE_SUFFIX } from "./config.ts";
import { Progress, type ProgressCallback } from "./progress.ts";

/** The hub's address when `HF_ENDPOINT` is not set. */
export const DEFAULT_ENDPOINT = "https://huggingface.co";

/** One file of a repository, as the hub lists it. */
export interface RepoFile {
  /** Path inside the repository, e.g. `onnx/text_model.onnx`. */
  path: string;
  /** Size in bytes. */
  size: number;
  /** Hex sha256 of the content (LFS files). */
  sha256?: string;
  /** Hex git blob sha1 (files stored in git itself). */
  gitSha1?: string;
}

/** Options of `fetchModel`. */
export interface FetchModelOptions {
  /** Which ONNX variant to fetch (default `"fp32"`). */
  dtype?: Dtype;
  /** Target directory (default `models/<repo name>`). */
  dir?: string;
  /** Hub address (default `$HF_ENDPOINT`, else `https://huggingface.co`). */
  endpoint?: string;
  /** Branch, tag or commit (default `"main"`). */
  revision?: string;
  /** Access token for private repositories (default `$HF_TOKEN`). */
  token?: string;
  /** Draw a progress bar (default true). */
  progress?: boolean;
  /** Called with bytes done / total as the download advances. */
  onProgress?: ProgressCallback;
  /** Attempts per file (a cut connection resumes; a bad checksum restarts), default 5. */
  attempts?: number;
}

/** What happened to one file. */
export interface FetchedFile extends RepoFile {
  /** `"downloaded"` from scratch, `"resumed"` from a `.part` file, or `"present"` and verified. */
  status: "downloaded" | "resumed" | "present";
}

/** The result of `fetchModel`. */
export interface FetchModelResult {
  /** The model directory written. */
  dir: string;
  /** Each file, and whether it was downloaded or already there. */
  files: FetchedFile[];
}

/** Configuration files a CLIP directory needs. */
const REQUIRED_FILES = ["config.json", "preprocessor_config.json"];
/** Tokenizer files, fetched when the repository has them. */
const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "vocab.json",
  "merges.txt",
  "special_tokens_map.json",
];
/** Bytes hashed at a time when verifying a file. */
const HASH_CHUNK = 1 << 22;

/**
 * Download the files of a CLIP repository that `ClipModel.load` needs for one dtype.
 * @example
 * ```ts
 * import { fetchModel } from "./hub.ts";
 * const { dir, files } = await fetchModel("Xenova/clip-vit-base-patch32", { dtype: "q8" });
 * dir; // → "models/clip-vit-base-patch32"
 * files.map((f) => f.path); // → ["config.json", "preprocessor_config.json", "tokenizer.json", …,
 *                          //  "onnx/text_model_quantized.onnx", "onnx/vision_model_quantized.onnx"]
 * ```
 */
export async function fetchModel(repoId: string, options: FetchModelOptions = {}): Promise<FetchModelResult> {
  checkRepoId(repoId);
  const dtype = options.dtype ?? "fp32";
  const hub = hubOptions(options);
  const dir = options.dir ?? join("models", repoId.split("/").pop()!);
  const files = selectModelFiles(await listRepoFiles(repoId, options), dtype, repoId);
  const total = files.reduce((sum, f) => sum + f.size, 0);
  const progress = new Progress(total, {
    label: `fetching ${repoId}`,
    unit: "bytes",
    output: options.progress === false ? "none" : "auto",
    onProgress: options.onProgress,
  });
  const fetched: FetchedFile[] = [];
  let done = 0;
  for (const file of files) {
    const url = `${hub.endpoint}/${repoId}/resolve/${encodeURIComponent(hub.revision)}/${
      encodePath(file.path)
    }`;
    const status = await downloadFile(url, join(dir, file.path), file, {
      headers: hub.headers,
      attempts: options.attempts ?? 5,
      repoId,
      onBytes: (n) => progress.update(done + n),
    });
    done += file.size;
    progress.update(done);
    fetched.push({ ...file, status });
  }
  progress.finish();
  return { dir, files: fetched };
}

/**
 * All files of a repository at a revision, with sizes and hashes (follows the listing's pages).
 * @example
 * ```ts
 * import { listRepoFiles } from "./hub.ts";
 * (await listRepoFiles("Xenova/clip-vit-base-patch32")).find((f) => f.path === "onnx/text_model.onnx")
 * // → { path: "onnx/text_model.onnx", size: <bytes>, sha256: "<64 hex digits from the LFS pointer>" }
 * ```
 */
export async function listRepoFiles(
  repoId: string,
  options: Pick<FetchModelOptions, "endpoint" | "revision" | "token"> = {},
): Promise<RepoFile[]> {
  checkRepoId(repoId);
  const hub = hubOptions(options);
  const files: RepoFile[] = [];
  let url: string | undefined =
    `${hub.endpoint}/api/models/${repoId}/tree/${encodeURIComponent(hub.revision)}` +
    "?recursive=true";
  while (url) {
    const response = await request(url, { headers: hub.headers }, repoId);
    if (response.status === 404) {
      await response.body?.cancel();
      throw new DownloadError(`no repository "${repoId}" at revision "${hub.revision}" on ${hub.endpoint}`, {
        path: url,
        fix:
          "check the repository id (owner/name, e.g. Xenova/clip-vit-base-patch32), the revision, and HF_ENDPOINT",
      });
    }
    if (!response.ok) throw await httpError(response, url, "list the repository");
    const entries = await response.json() as TreeEntry[];
    for (const entry of entries) {
      if (entry.type !== "file") continue;
      files.push({
        path: entry.path,
        size: entry.lfs?.size ?? entry.size,
        ...(entry.lfs ? { sha256: entry.lfs.oid } : entry.oid ? { gitSha1: entry.oid } : {}),
      });
    }
    url = nextPage(response.headers.get("link"));
  }
  return files;
}

/**
 * The files a CLIP directory needs for a dtype: configs, tokenizer files, both towers (and their
 * external-data files, if any). A repository without ONNX towers for the dtype but with a PyTorch checkpoint
 * in safetensors gets that instead (see {@link selectCheckpointFiles}); `ClipModel.load` converts it.
 * @example
 * ```ts
 * import { type RepoFile, selectModelFiles } from "./hub.ts";
 * const files: RepoFile[] = ["config.json", "preprocessor_config.json", "tokenizer.json", "README.md"]
 *   .concat(["text", "vision"].flatMap((t) => [`onnx/${t}_model.onnx`, `onnx/${t}_model_fp16.onnx`]))
 *   .map((path) => ({ path, size: 1 }));
 * selectModelFiles(files, "fp16").map((f) => f.path)
 * // → ["config.json", "preprocessor_config.json", "tokenizer.json", "onnx/text_model_fp16.onnx", "onnx/vision_model_fp16.onnx"]
 * ```
 */
export function selectModelFiles(files: RepoFile[], dtype: Dtype, repoId = "the repository"): RepoFile[] {
  const suffix = DTYPE_SUFFIX[dtype];
  if (suffix === undefined) {
    throw new DownloadError(`unknown dtype "${dtype}"`, { fix: "use --dtype fp32, fp16 or q8" });
  }
  const byPath = new Map(files.map((f) => [f.path, f]));
  const towers = ["text", "vision"].map((tower) => `onnx/${tower}_model${suffix}.onnx`);
  if (!towers.every((t) => byPath.has(t))) {
    const checkpoint = selectCheckpointFiles(files);
    if (checkpoint) return checkpoint;
    const pickle = files.find((f) => /(^|\/)(open_clip_)?pytorch_model[^/]*\.bin$/.test(f.path));
    if (pickle && !byPath.has(towers[0])) {
      throw new DownloadError(`${repoId} has its weights only as a Python pickle (${pickle.path})`, {
        fix:
          "clipkit reads ONNX towers or safetensors: pick a repository with onnx/ or *.safetensors files " +
          "(e.g. Xenova/clip-vit-base-patch32, openai/clip-vit-base-patch32)",
      });
    }
  }
  for (const path of [...REQUIRED_FILES, ...towers]) {
    if (!byPath.has(path)) {
      const dtypes = (Object.keys(DTYPE_SUFFIX) as Dtype[])
        .filter((d) => byPath.has(`onnx/text_model${DTYPE_SUFFIX[d]}.onnx`));
      throw new DownloadError(`${repoId} has no ${path}`, {
        fix: path.startsWith("onnx/")
          ? `choose a dtype it has (${
            dtypes.join(", ") || "none: it is not an ONNX CLIP export"
          }) with --dtype`
          : "use a transformers.js CLIP repository (e.g. Xenova/clip-vit-base-patch32), or one with a PyTorch " +
            "checkpoint in safetensors (open_clip_model.safetensors, or config.json + model.safetensors)",
      });
    }
  }
  const wanted = new Set([...REQUIRED_FILES, ...TOKENIZER_FILES, ...towers]);
  const external = towers.flatMap((t) => [`${t}_data`, `${t}.data`]); // ONNX external data next to the graph
  return files.filter((f) => wanted.has(f.path) || external.includes(f.path));
}

/** The shards a sharded transformers checkpoint lists, `model-00001-of-00002.safetensors`. */
const SAFETENSORS_SHARD = /^model-\d+-of-\d+\.safetensors$/;

/**
 * The files of a PyTorch CLIP checkpoint in safetensors, or undefined when the repository has none:
 * open_clip's `open_clip_config.json` + `open_clip_model.safetensors` (preferred: LAION's repositories carry
 * both layouts), else Hugging Face's `config.json` + `model.safetensors` (or its index and shards) with
 * `preprocessor_config.json`; tokenizer files with either. Pickle (`*.bin`), TensorFlow, Flax and ONNX copies
 * of the same weights are left out.
 * @example
 * ```ts
 * import { selectCheckpointFiles } from "./hub.ts";
 * const laion = await listRepoFiles("laion/CLIP-ViT-B-32-laion2B-s34B-b79K");
 * selectCheckpointFiles(laion)!.map((f) => f.path)
 * // ["merges.txt", "open_clip_config.json", "open_clip_model.safetensors", "special_tokens_map.json", …]
 * ```
 */
export function selectCheckpointFiles(files: RepoFile[]): RepoFile[] | undefined {
  const paths = new Set(files.map((f) => f.path));
  let wanted: (path: string) => boolean;
  if (paths.has("open_clip_config.json") && paths.has("open_clip_model.safetensors")) {
    wanted = (p) => p === "open_clip_config.json" || p === "open_clip_model.safetensors";
  } else if (paths.has("config.json") && paths.has("model.safetensors")) {
    wanted = (p) => REQUIRED_FILES.includes(p) || p === "model.safetensors";
  } else if (paths.has("config.json") && paths.has("model.safetensors.index.json")) {
    wanted = (p) =>
      REQUIRED_FILES.includes(p) || p === "model.safetensors.index.json" || SAFETENSORS_SHARD.test(p);
  } else {
    return undefined;
  }
  return files.filter((f) => wanted(f.path) || TOKENIZER_FILES.includes(f.path));
}

interface TreeEntry {
  type: string;
  path: string;
  size: number;
  oid?: string;
  lfs?: { oid: string; size: number };
}

interface DownloadContext {
  headers: Headers;
  attempts: number;
  repoId: string;
  onBytes: (bytesOfThisFile: number) => void;
}

/** Fetch one file to `dest` through `dest.part`; see the module documentation. */
async function downloadFile(url: string, dest: string, file: RepoFile, ctx: DownloadContext) {
  if (existsSync(dest)) {
    if ((await Deno.stat(dest)).size === file.size && await verifies(dest, file)) {
      ctx.onBytes(file.size);
      return "present" as const;
    }
    await Deno.remove(dest); // a wrong file where the model should be: fetch it again
  }
  await Deno.mkdir(dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  let resumed = false;
  let lastError: unknown;
  for (let attempt = 1; attempt <= ctx.attempts; attempt++) {
    let offset = existsSync(part) ? (await Deno.stat(part)).size : 0;
    if (offset > file.size) {
      await Deno.remove(part);
      offset = 0;
    }
    if (offset < file.size || file.size === 0) {
      try {
        const got = await fetchInto(url, part, offset, file, ctx);
        resumed ||= got.resumed;
      } catch (error) {
        // 404, 401…: retrying will not help; a ConnectionError (or a network error) is worth another attempt
        if (error instanceof DownloadError && !(error instanceof ConnectionError)) throw error;
        lastError = error; // a cut connection: the next attempt resumes from the .part file
        continue;
      }
    }
    if (await verifies(part, file)) {
      await Deno.rename(part, dest);
      return resumed ? "resumed" as const : "downloaded" as const;
    }
    await Deno.remove(part); // corrupted: start this file again
    lastError = new DownloadError(`${file.path} failed its checksum`, { path: url });
  }
  if (lastError instanceof DownloadError) {
    throw new DownloadError(`${file.path} failed its checksum ${ctx.attempts} times`, {
      path: url,
      fix:
        "the server keeps sending different bytes: check HF_ENDPOINT (a proxy may alter files) and retry later",
    });
  }
  throw new DownloadError(`could not download ${file.path} after ${ctx.attempts} attempts`, {
    path: url,
    fix: `run the same command again: the partial file ${part} is kept and the download resumes`,
    cause: lastError,
  });
}

/** Append the bytes from `offset` on (or all bytes, if the server ignores Range) to `part`. */
async function fetchInto(url: string, part: string, offset: number, file: RepoFile, ctx: DownloadContext) {
  const headers = new Headers(ctx.headers);
  if (offset > 0) headers.set("range", `bytes=${offset}-`);
  const response = await request(url, { headers }, ctx.repoId);
  if (response.status === 404) {
    await response.body?.cancel();
    throw new DownloadError(`${ctx.repoId} has no file ${file.path} (HTTP 404)`, {
      path: url,
      fix: "the repository changed since it was listed, or the revision lacks it: check the repository page",
    });
  }
  if (response.status === 416) {
    await response.body?.cancel();
    await Deno.remove(part); // the .part does not match the server's file: start again
    throw new ConnectionError(`the server cannot send bytes ${offset}- of ${file.path} (HTTP 416)`, {
      path: url,
      fix: "run the command again if the retries run out (the stale partial file was removed)",
    });
  }
  if (response.status >= 500) {
    await response.body?.cancel();
    throw new ConnectionError(`HTTP ${response.status} for ${file.path}`, { // a server hiccup: retried
      path: url,
      fix: "retry later if it keeps happening (the download is retried and resumes)",
    });
  }
  if (!response.ok) throw await httpError(response, url, `download ${file.path}`);
  const resumed = response.status === 206 && offset > 0;
  if (
    response.status === 206 && !(response.headers.get("content-range") ?? "").startsWith(`bytes ${offset}-`)
  ) {
    await response.body?.cancel();
    throw new ConnectionError(
      `the server answered range ${offset}- with ${response.headers.get("content-range")}`,
      { path: url, fix: "retry later if it keeps happening (the download is retried and resumes)" },
    );
  }
  using out = await Deno.open(part, { write: true, create: true, truncate: !resumed, append: resumed });
  let written = resumed ? offset : 0;
  ctx.onBytes(written);
  for await (const chunk of response.body ?? new ReadableStream<Uint8Array>()) {
    for (let n = 0; n < chunk.length;) n += await out.write(chunk.subarray(n));
    written += chunk.length;
    ctx.onBytes(written);
  }
  if (written < file.size) {
    throw new ConnectionError(`the connection closed after ${written} of ${file.size} bytes`, {
      path: url,
      fix: "run the command again: the download resumes from the partial file",
    });
  }
  return { resumed };
}

/** Whether a file has the listed size and hash (sha256 for LFS files, git blob sha1 otherwise). */
async function verifies(path: string, file: RepoFile): Promise<boolean> {
  const size = (await Deno.stat(path)).size;
  if (size !== file.size) return false;
  if (!file.sha256 && !file.gitSha1) return true;
  const hash = createHash(file.sha256 ? "sha256" : "sha1");
  if (!file.sha256) hash.update(`blob ${size}\0`);
  using f = await Deno.open(path);
  const chunk = new Uint8Array(HASH_CHUNK);
  for (let n = await f.read(chunk); n !== null; n = await f.read(chunk)) hash.update(chunk.subarray(0, n));
  return hash.digest("hex") === (file.sha256 ?? file.gitSha1);
}

async function request(url: string, init: RequestInit, repoId: string): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    if (url.includes("/api/models/")) {
      throw new DownloadError(`cannot reach the hub to list ${repoId}`, {
        path: url,
        fix: "check the network, or set HF_ENDPOINT to a reachable mirror",
        cause: error,
      });
    }
    throw error; // a download: the caller retries and resumes
  }
}

async function httpError(response: Response, url: string, what: string): Promise<DownloadError> {
  const body = (await response.text().catch(() => "")).slice(0, 200);
  const auth = response.status === 401 || response.status === 403;
  return new DownloadError(
    `could not ${what}: HTTP ${response.status} ${response.statusText} ${body}`.trim(),
    {
      path: url,
      fix: auth ? "the repository is gated or private: set HF_TOKEN to an access token" : "retry later",
    },
  );
}

function hubOptions(options: Pick<FetchModelOptions, "endpoint" | "revision" | "token">) {
  const endpoint = (options.endpoint ?? Deno.env.get("HF_ENDPOINT") ?? DEFAULT_ENDPOINT).replace(/\/+$/, "");
  const token = options.token ?? Deno.env.get("HF_TOKEN");
  const headers = new Headers(token ? { authorization: `Bearer ${token}` } : {});
  return { endpoint, revision: options.revision ?? "main", headers };
}

function checkRepoId(repoId: string): void {
  if (!/^[\w.-]+\/[\w.-]+$/.test(repoId)) {
    throw new DownloadError(`"${repoId}" is not a repository id`, {
      fix: "write it as owner/name, e.g. Xenova/clip-vit-base-patch32",
    });
  }
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/** The `rel="next"` URL of a `Link` header (the hub pages long listings). */
function nextPage(link: string | null): string | undefined {
  return link?.match(/<([^>]+)>\s*;\s*rel="next"/)?.[1];
}
