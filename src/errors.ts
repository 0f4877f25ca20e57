/**
 * clipkit's error types, all in one place: each names the problem, the file or input at fault, and the fix.
 *
 * Every error the kit throws is a `ClipkitError`, so `catch (e) { if (e instanceof ClipkitError) … }` catches
 * them all; catch a subclass for one kind of problem. Messages read `problem: path. Fix: fix`, built once, by
 * the `ClipkitError` constructor; the subclasses only add a name (and, for a few, fields code can branch on).
 *
 * Families: `ModelLoadError` (model folders and graphs), `DownloadError` (the hub), `TokenizerError` (text),
 * `ExportError` (writing ONNX), `TrainError` (training); the others stand alone.
 * @module
 */

/** Where an error happened and what to do about it. */
export interface ErrorDetails {
  /** The file, directory or URL at fault. */
  path?: string;
  /** What the user should do, written as an instruction. */
  fix?: string;
  /** The error that caused this one. */
  cause?: unknown;
}

/**
 * The base class of clipkit's errors. The message reads `problem: path. Fix: fix`.
 * @example
 * ```ts
 * import { ClipkitError } from "./errors.ts";
 * new ClipkitError("no config.json", { path: "models/x", fix: "run deno task fetch-model" }).message
 * // → "no config.json: models/x. Fix: run deno task fetch-model"
 * ```
 */
export class ClipkitError extends Error {
  override name = "ClipkitError";
  /** The file, directory or URL at fault (if any). */
  readonly path?: string;
  /** What to do about it (if known). */
  readonly fix?: string;

  constructor(problem: string, details: ErrorDetails = {}) {
    const where = details.path ? `: ${details.path}` : "";
    const fix = details.fix ? `. Fix: ${details.fix}` : "";
    super(`${problem}${where}${fix}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.path = details.path;
    this.fix = details.fix;
  }
}

/**
 * A file that should be there and is not (read by `readJsonFile` in src/fs.ts, among others).
 * @example
 * ```ts
 * import { ClipkitError, MissingFileError } from "./errors.ts";
 * const e = new MissingFileError("no labels.json", { path: "models/samples/labels.json", fix: "check the path" });
 * [e.name, e instanceof ClipkitError]; // → ["MissingFileError", true]
 * e.message; // → "no labels.json: models/samples/labels.json. Fix: check the path"
 * ```
 */
export class MissingFileError extends ClipkitError {
  override name = "MissingFileError";
}

/**
 * A file that is there but cannot be parsed: malformed JSON, a damaged binary.
 * @example
 * ```ts
 * import { ClipkitError, MalformedFileError } from "./errors.ts";
 * const e = new MalformedFileError("not a readable Parquet file", { path: "metadata_0.parquet", fix: "write it again" });
 * [e.name, e instanceof ClipkitError]; // → ["MalformedFileError", true]
 * e.message; // → "not a readable Parquet file: metadata_0.parquet. Fix: write it again"
 * ```
 */
export class MalformedFileError extends ClipkitError {
  override name = "MalformedFileError";
}

/**
 * A CLIP architecture (openai/CLIP's constructor fields) that cannot build a model, or weights that do not fit it.
 * @example
 * ```ts
 * import { ArchitectureError, ClipkitError } from "./errors.ts";
 * const e = new ArchitectureError('no architecture preset "huge"', { fix: "use one of tiny, vit-b-32" });
 * [e.name, e instanceof ClipkitError]; // → ["ArchitectureError", true]
 * e.message; // → 'no architecture preset "huge". Fix: use one of tiny, vit-b-32'
 * ```
 */
export class ArchitectureError extends ClipkitError {
  override name = "ArchitectureError";
}

/**
 * A model directory, config file or ONNX graph that cannot be used as a CLIP model.
 * @example
 * ```ts
 * import { ClipkitError, ModelLoadError } from "./errors.ts";
 * const e = new ModelLoadError("the text tower failed on a batch of 2", { path: "models/x/onnx/text_model.onnx", fix: "check the graph" });
 * [e.name, e instanceof ClipkitError]; // → ["ModelLoadError", true]
 * e.message;
 * // → "the text tower failed on a batch of 2: models/x/onnx/text_model.onnx. Fix: check the graph"
 * ```
 */
export class ModelLoadError extends ClipkitError {
  override name = "ModelLoadError";
}

/**
 * A model file (config, ONNX graph, tokenizer) that is not where it should be.
 * @example
 * ```ts
 * import { MissingModelFileError, ModelLoadError } from "./errors.ts";
 * const e = new MissingModelFileError("the text tower (onnx/text_model_quantized.onnx, dtype q8) is missing", { path: "models/x", fix: "download it with deno task fetch-model" });
 * [e.name, e instanceof ModelLoadError]; // → ["MissingModelFileError", true]
 * e.message;
 * // → "the text tower (onnx/text_model_quantized.onnx, dtype q8) is missing: models/x. Fix: download it with deno task fetch-model"
 * ```
 */
export class MissingModelFileError extends ModelLoadError {
  override name = "MissingModelFileError";
}

/**
 * An ONNX graph whose inputs or outputs are not those of a CLIP text or vision tower.
 * @example
 * ```ts
 * import { GraphMismatchError, ModelLoadError } from "./errors.ts";
 * const e = new GraphMismatchError("the text tower returned text_embeds of shape [2, 32], expected [2, 64]", { fix: "use the towers of one model" });
 * [e.name, e instanceof ModelLoadError]; // → ["GraphMismatchError", true]
 * e.message;
 * // → "the text tower returned text_embeds of shape [2, 32], expected [2, 64]. Fix: use the towers of one model"
 * ```
 */
export class GraphMismatchError extends ModelLoadError {
  override name = "GraphMismatchError";
}

/** What is wrong with a safetensors file. */
export type SafetensorsErrorReason =
  | "truncated" // the file ends before its header or its tensor bytes do
  | "bad-header" // the header is not the JSON it should be, or lies about a tensor's size
  | "bad-offsets" // tensors overlap, leave holes, or point outside the data
  | "unknown-dtype" // a dtype the safetensors format does not define
  | "unsupported-dtype"; // a dtype that cannot hold weights (integers, booleans) where weights are read

/**
 * A safetensors file that cannot be read. `reason` says which kind of problem it was.
 * @example
 * ```ts
 * import { SafetensorsError } from "./errors.ts";
 * new SafetensorsError("truncated", "the file ends at byte 100", { path: "m.safetensors", fix: "re-download it" })
 *   .message // → "the file ends at byte 100: m.safetensors. Fix: re-download it"
 * ```
 */
export class SafetensorsError extends ModelLoadError {
  override name = "SafetensorsError";
  /** Which kind of problem this is. */
  readonly reason: SafetensorsErrorReason;
  constructor(reason: SafetensorsErrorReason, problem: string, details: ErrorDetails = {}) {
    super(problem, details);
    this.reason = reason;
  }
}

/**
 * Checkpoint weights that do not fit the architecture its config describes: keys missing or left over,
 * shapes that disagree. The lists name the checkpoint's tensors.
 */
export class CheckpointWeightsError extends ModelLoadError {
  override name = "CheckpointWeightsError";
  /** Tensors the architecture needs that the checkpoint lacks. */
  readonly missing: string[];
  /** Tensors the checkpoint holds that the architecture has no place for. */
  readonly unexpected: string[];
  /** Tensors whose shape disagrees, as `name [got] ≠ [expected]`. */
  readonly mismatched: string[];
  constructor(
    problem: string,
    lists: { missing?: string[]; unexpected?: string[]; mismatched?: string[] },
    details: ErrorDetails = {},
  ) {
    super(problem, details);
    this.missing = lists.missing ?? [];
    this.unexpected = lists.unexpected ?? [];
    this.mismatched = lists.mismatched ?? [];
  }
}

/**
 * A checkpoint of a model the kit's exporter does not build (a ResNet image tower, a non-CLIP model).
 * @example
 * ```ts
 * import { ModelLoadError, UnsupportedCheckpointError } from "./errors.ts";
 * const e = new UnsupportedCheckpointError("the checkpoint's weights are only in pytorch_model.bin (a Python pickle)", { fix: "pick a repository with *.safetensors files" });
 * [e.name, e instanceof ModelLoadError]; // → ["UnsupportedCheckpointError", true]
 * e.message;
 * // → "the checkpoint's weights are only in pytorch_model.bin (a Python pickle). Fix: pick a repository with *.safetensors files"
 * ```
 */
export class UnsupportedCheckpointError extends ModelLoadError {
  override name = "UnsupportedCheckpointError";
}

/**
 * An ONNX runtime backend that cannot be loaded on this machine.
 * @example
 * ```ts
 * import { BackendError, ClipkitError } from "./errors.ts";
 * const e = new BackendError('unknown backend "gpu"', { fix: 'use backend "auto", "node" or "web"' });
 * [e.name, e instanceof ClipkitError]; // → ["BackendError", true]
 * e.message; // → 'unknown backend "gpu". Fix: use backend "auto", "node" or "web"'
 * ```
 */
export class BackendError extends ClipkitError {
  override name = "BackendError";
}

/**
 * Bad arguments to a function that has no error type of its own: an empty list, an unusable item, an index
 * outside its range.
 * @example
 * ```ts
 * import { ClipkitError, InputError } from "./errors.ts";
 * const e = new InputError("shardSize must be a positive integer, got 0", { fix: "pass e.g. { shardSize: 10000 }" });
 * [e.name, e instanceof ClipkitError]; // → ["InputError", true]
 * e.message; // → "shardSize must be a positive integer, got 0. Fix: pass e.g. { shardSize: 10000 }"
 * ```
 */
export class InputError extends ClipkitError {
  override name = "InputError";
}

/**
 * An encoder output with NaN or infinite values.
 * @example
 * ```ts
 * import { ClipkitError, NonFiniteOutputError } from "./errors.ts";
 * const e = new NonFiniteOutputError("the text tower returned NaN in the embedding of text #0", { fix: "try the fp32 model" });
 * [e.name, e instanceof ClipkitError]; // → ["NonFiniteOutputError", true]
 * e.message; // → "the text tower returned NaN in the embedding of text #0. Fix: try the fp32 model"
 * ```
 */
export class NonFiniteOutputError extends ClipkitError {
  override name = "NonFiniteOutputError";
}

/**
 * A failed model download (HTTP error, missing file, checksum mismatch).
 * @example
 * ```ts
 * import { ClipkitError, DownloadError } from "./errors.ts";
 * const e = new DownloadError('no repository "x/y" at revision "main"', { fix: "check the repository id" });
 * [e.name, e instanceof ClipkitError]; // → ["DownloadError", true]
 * e.message; // → 'no repository "x/y" at revision "main". Fix: check the repository id'
 * ```
 */
export class DownloadError extends ClipkitError {
  override name = "DownloadError";
}

/**
 * A download cut short (a closed connection, a server hiccup): worth retrying, and resumed from the `.part` file.
 * @example
 * ```ts
 * import { ConnectionError, DownloadError } from "./errors.ts";
 * const e = new ConnectionError("the connection to huggingface.co failed", { fix: "check the network and run the command again" });
 * [e.name, e instanceof DownloadError]; // → ["ConnectionError", true]
 * e.message; // → "the connection to huggingface.co failed. Fix: check the network and run the command again"
 * ```
 */
export class ConnectionError extends DownloadError {
  override name = "ConnectionError";
}

// ── text ────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Bad input to the tokenizer (wrong type, lone surrogate, bad option, unknown id).
 * @example
 * ```ts
 * import { ClipkitError, TokenizerError } from "./errors.ts";
 * const e = new TokenizerError("text 0 must be a string, got number", { fix: "pass text (convert with String(x) if needed)" });
 * [e.name, e instanceof ClipkitError]; // → ["TokenizerError", true]
 * e.message; // → "text 0 must be a string, got number. Fix: pass text (convert with String(x) if needed)"
 * ```
 */
export class TokenizerError extends ClipkitError {
  override name = "TokenizerError";
}

/**
 * A text longer than the context length, with `truncate: false`.
 * @example
 * ```ts
 * import { ContextLengthError } from "./errors.ts";
 * new ContextLengthError(0, 80, 77).message
 * // → "text 0 has 80 tokens with SOT and EOT, more than the context length 77. Fix: shorten it, or pass
 * //    { truncate: true } to cut it (the last token stays EOT)"
 * ```
 */
export class ContextLengthError extends TokenizerError {
  override name = "ContextLengthError";
  /**
   * @param index position of the text in the batch
   * @param tokenCount its token count with SOT and EOT
   * @param contextLength the limit
   */
  constructor(readonly index: number, readonly tokenCount: number, readonly contextLength: number) {
    super(
      `text ${index} has ${tokenCount} tokens with SOT and EOT, more than the context length ${contextLength}`,
      { fix: "shorten it, or pass { truncate: true } to cut it (the last token stays EOT)" },
    );
  }
}

/**
 * A vocabulary file that is missing, unreadable or malformed, or a vocabulary that cannot be written.
 * @example
 * ```ts
 * import { TokenizerError, VocabularyFileError } from "./errors.ts";
 * const e = new VocabularyFileError("no vocabulary file", { path: "models/x/vocab.json", fix: "pass a model directory with vocab.json + merges.txt" });
 * [e.name, e instanceof TokenizerError]; // → ["VocabularyFileError", true]
 * e.message;
 * // → "no vocabulary file: models/x/vocab.json. Fix: pass a model directory with vocab.json + merges.txt"
 * ```
 */
export class VocabularyFileError extends TokenizerError {
  override name = "VocabularyFileError";
}

// ── images ──────────────────────────────────────────────────────────────────────────────────────────────

/** What went wrong with an image. */
export type ImageErrorReason =
  | "empty" // 0 bytes
  | "truncated" // the file ends before the image data does
  | "corrupt" // the bytes are not a valid image of the format they claim
  | "unsupported" // not PNG, JPEG or GIF, or a variant of them that is not handled
  | "too-large" // more pixels than the limit (a decompression bomb)
  | "unreadable" // the file or URL could not be read
  | "bad-argument"; // an option or an image object that cannot be used

/**
 * A bad image file or a bad preprocessing argument. `reason` says which kind of problem it was, so code
 * can branch on it without parsing the message.
 * @example
 * ```ts
 * import { ImageError } from "./errors.ts";
 * new ImageError("empty", "the file has 0 bytes", { source: "a.png", fix: "re-save the image" }).message
 * // → "the file has 0 bytes: a.png. Fix: re-save the image"
 * ```
 */
export class ImageError extends ClipkitError {
  /** Always `"ImageError"`. */
  override name = "ImageError";
  /** Which kind of problem this is. */
  readonly reason: ImageErrorReason;
  /** The file path or URL at fault, or `"<bytes>"` for in-memory data (also `path`). */
  readonly source?: string;

  /** `problem` says what is wrong; `details.source` names the file, `details.fix` what to do. */
  constructor(
    reason: ImageErrorReason,
    problem: string,
    details: { source?: string; fix?: string; cause?: unknown } = {},
  ) {
    super(problem, { path: details.source, fix: details.fix, cause: details.cause });
    this.reason = reason;
    this.source = details.source;
  }
}

// ── numbers ─────────────────────────────────────────────────────────────────────────────────────────────

/**
 * A matrix of the wrong shape: mismatched widths or row counts, an empty batch, ragged rows.
 * @example
 * ```ts
 * import { ClipkitError, MatrixShapeError } from "./errors.ts";
 * const e = new MatrixShapeError("the loss needs matching pairs, but there are 2 images and 3 texts", { fix: "pass one text per image" });
 * [e.name, e instanceof ClipkitError]; // → ["MatrixShapeError", true]
 * e.message;
 * // → "the loss needs matching pairs, but there are 2 images and 3 texts. Fix: pass one text per image"
 * ```
 */
export class MatrixShapeError extends ClipkitError {
  override name = "MatrixShapeError";
}

/**
 * A matrix holding NaN or ±Infinity where finite numbers are needed.
 * @example
 * ```ts
 * import { ClipkitError, NonFiniteError } from "./errors.ts";
 * const e = new NonFiniteError("image embeddings[0, 1] is NaN, but every value must be finite", { fix: "check the encoder input for that row" });
 * [e.name, e instanceof ClipkitError]; // → ["NonFiniteError", true]
 * e.message;
 * // → "image embeddings[0, 1] is NaN, but every value must be finite. Fix: check the encoder input for that row"
 * ```
 */
export class NonFiniteError extends ClipkitError {
  override name = "NonFiniteError";
}

/**
 * A temperature, logit scale or logit bias that is not a usable number.
 * @example
 * ```ts
 * import { ClipkitError, TemperatureError } from "./errors.ts";
 * const e = new TemperatureError("temperature must be a finite number above 0, got 0", { fix: "use e.g. 0.07 or 1" });
 * [e.name, e instanceof ClipkitError]; // → ["TemperatureError", true]
 * e.message; // → "temperature must be a finite number above 0, got 0. Fix: use e.g. 0.07 or 1"
 * ```
 */
export class TemperatureError extends ClipkitError {
  override name = "TemperatureError";
}

/**
 * More top entries asked for than a row has (or fewer than one).
 * @example
 * ```ts
 * import { ClipkitError, TopKError } from "./errors.ts";
 * const e = new TopKError("search: k = 0", { fix: "ask for a whole number of results ≥ 1" });
 * [e.name, e instanceof ClipkitError]; // → ["TopKError", true]
 * e.message; // → "search: k = 0. Fix: ask for a whole number of results ≥ 1"
 * ```
 */
export class TopKError extends ClipkitError {
  override name = "TopKError";
}

/**
 * A linear probe that cannot be fitted as asked: one class only, a class without examples, C ≤ 0, bad options.
 * @example
 * ```ts
 * import { ClipkitError, ProbeError } from "./errors.ts";
 * const e = new ProbeError("linearProbe: C is -1", { fix: "pass a finite number > 0" });
 * [e.name, e instanceof ClipkitError]; // → ["ProbeError", true]
 * e.message; // → "linearProbe: C is -1. Fix: pass a finite number > 0"
 * ```
 */
export class ProbeError extends ClipkitError {
  override name = "ProbeError";
}

// ── zero-shot ───────────────────────────────────────────────────────────────────────────────────────────

/**
 * An unusable template list, class list or prompt file: empty, not strings, a template without `{}`.
 * @example
 * ```ts
 * import { ClipkitError, TemplateError } from "./errors.ts";
 * const e = new TemplateError("no templates chosen", { fix: "pick at least one template index" });
 * [e.name, e instanceof ClipkitError]; // → ["TemplateError", true]
 * e.message; // → "no templates chosen. Fix: pick at least one template index"
 * ```
 */
export class TemplateError extends ClipkitError {
  override name = "TemplateError";
}

/**
 * A text-embedding cache file that is unreadable or belongs to something else.
 * @example
 * ```ts
 * import { CacheError, ClipkitError } from "./errors.ts";
 * const e = new CacheError("not a clipkit text-cache file", { path: ".cache/clipkit/text/x.bin", fix: "delete it (the cache rebuilds it)" });
 * [e.name, e instanceof ClipkitError]; // → ["CacheError", true]
 * e.message;
 * // → "not a clipkit text-cache file: .cache/clipkit/text/x.bin. Fix: delete it (the cache rebuilds it)"
 * ```
 */
export class CacheError extends ClipkitError {
  override name = "CacheError";
}

// ── figures ─────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Data a figure cannot draw (wrong shape, empty, mismatched labels).
 * @example
 * ```ts
 * import { ClipkitError, PlotInputError } from "./errors.ts";
 * const e = new PlotInputError("images has 3 thumbnails but the matrix has 2 columns", { fix: "pass one thumbnail (or null) per column" });
 * [e.name, e instanceof ClipkitError]; // → ["PlotInputError", true]
 * e.message;
 * // → "images has 3 thumbnails but the matrix has 2 columns. Fix: pass one thumbnail (or null) per column"
 * ```
 */
export class PlotInputError extends ClipkitError {
  override name = "PlotInputError";
}

/**
 * A PNG that cannot be made (bad scale, unreadable SVG).
 * @example
 * ```ts
 * import { ClipkitError, RasterError } from "./errors.ts";
 * const e = new RasterError("scale must be a number in (0, 16], got 0", { fix: "use 1 for screen size, 2 for slides" });
 * [e.name, e instanceof ClipkitError]; // → ["RasterError", true]
 * e.message; // → "scale must be a number in (0, 16], got 0. Fix: use 1 for screen size, 2 for slides"
 * ```
 */
export class RasterError extends ClipkitError {
  override name = "RasterError";
}

// ── data ────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Options the synthetic shapes world cannot honour (a split, task, size or scene it does not have).
 * @example
 * ```ts
 * import { ClipkitError, ShapesWorldError } from "./errors.ts";
 * const e = new ShapesWorldError('"cat" is no class of the shape task', { fix: "use circle, square, triangle, star, …" });
 * [e.name, e instanceof ClipkitError]; // → ["ShapesWorldError", true]
 * e.message; // → '"cat" is no class of the shape task. Fix: use circle, square, triangle, star, …'
 * ```
 */
export class ShapesWorldError extends ClipkitError {
  override name = "ShapesWorldError";
}

/**
 * An image folder or caption file that cannot be used as a dataset: no images, a class folder without
 * images, a caption file without an image or caption column, a row without a path.
 * @example
 * ```ts
 * import { ClipkitError, DatasetError } from "./errors.ts";
 * const e = new DatasetError("no such image folder", { path: "photos", fix: "pass a folder of images, or a CSV/JSONL caption file" });
 * [e.name, e instanceof ClipkitError]; // → ["DatasetError", true]
 * e.message; // → "no such image folder: photos. Fix: pass a folder of images, or a CSV/JSONL caption file"
 * ```
 */
export class DatasetError extends ClipkitError {
  override name = "DatasetError";
}

/**
 * An embeddings folder in clip-retrieval's layout (`img_emb/`, `text_emb/`, `metadata/`) that cannot be
 * read or continued: missing or damaged shards, settings that differ from the run being resumed.
 * @example
 * ```ts
 * import { ClipkitError, EmbeddingStoreError } from "./errors.ts";
 * const e = new EmbeddingStoreError("the folder holds embeddings made with other settings (dtype)", { path: "out", fix: "use another --out folder" });
 * [e.name, e instanceof ClipkitError]; // → ["EmbeddingStoreError", true]
 * e.message;
 * // → "the folder holds embeddings made with other settings (dtype): out. Fix: use another --out folder"
 * ```
 */
export class EmbeddingStoreError extends ClipkitError {
  override name = "EmbeddingStoreError";
}

/**
 * A `.npy` file the kit cannot read (not NumPy format, an unsupported dtype or layout, truncated).
 * @example
 * ```ts
 * import { ClipkitError, NpyError } from "./errors.ts";
 * const e = new NpyError('unsupported npy dtype "int8"', { fix: "use float32 or float16" });
 * [e.name, e instanceof ClipkitError]; // → ["NpyError", true]
 * e.message; // → 'unsupported npy dtype "int8". Fix: use float32 or float16'
 * ```
 */
export class NpyError extends ClipkitError {
  override name = "NpyError";
}

/**
 * A command-line argument that cannot be used: an unknown flag, a missing value, a value out of range.
 * @example
 * ```ts
 * import { ClipkitError, UsageError } from "./errors.ts";
 * const e = new UsageError("the query is empty", { fix: 'write what to look for: "a red car"' });
 * [e.name, e instanceof ClipkitError]; // → ["UsageError", true]
 * e.message; // → 'the query is empty. Fix: write what to look for: "a red car"'
 * ```
 */
export class UsageError extends ClipkitError {
  override name = "UsageError";
}

// ── ONNX export ─────────────────────────────────────────────────────────────────────────────────────────

/**
 * A model directory the exporter cannot write consistently (weights, config and tokenizer disagree).
 * @example
 * ```ts
 * import { ClipkitError, ExportError } from "./errors.ts";
 * const e = new ExportError("weight visual.proj should hold 4096 values [64, 64], so the weights do not match the config", { fix: "export the weights with the config they were trained with" });
 * [e.name, e instanceof ClipkitError]; // → ["ExportError", true]
 * e.message;
 * // → "weight visual.proj should hold 4096 values [64, 64], so the weights do not match the config. Fix: export the weights with the config they were trained with"
 * ```
 */
export class ExportError extends ClipkitError {
  override name = "ExportError";
}

/**
 * An ONNX graph built from inconsistent pieces.
 * @example
 * ```ts
 * import { ExportError, OnnxGraphError } from "./errors.ts";
 * const e = new OnnxGraphError("initializer ln.weight has 3 values but dims [2]", { fix: "pass as many values as the dims multiply to" });
 * [e.name, e instanceof ExportError]; // → ["OnnxGraphError", true]
 * e.message;
 * // → "initializer ln.weight has 3 values but dims [2]. Fix: pass as many values as the dims multiply to"
 * ```
 */
export class OnnxGraphError extends ExportError {
  override name = "OnnxGraphError";
}

/**
 * A graph that cannot be converted to a variant (fp16, int8).
 * @example
 * ```ts
 * import { ExportError, VariantError } from "./errors.ts";
 * const e = new VariantError("no MatMul with a constant 2-D float weight to quantise", { fix: "quantise a graph exported by this kit" });
 * [e.name, e instanceof ExportError]; // → ["VariantError", true]
 * e.message;
 * // → "no MatMul with a constant 2-D float weight to quantise. Fix: quantise a graph exported by this kit"
 * ```
 */
export class VariantError extends ExportError {
  override name = "VariantError";
}

// ── training ────────────────────────────────────────────────────────────────────────────────────────────

/**
 * The base of training's errors.
 * @example
 * ```ts
 * import { ClipkitError, TrainError } from "./errors.ts";
 * const e = new TrainError("optimizer state has step -1", { fix: "restore a state written by optimizerState()" });
 * [e.name, e instanceof ClipkitError]; // → ["TrainError", true]
 * e.message; // → "optimizer state has step -1. Fix: restore a state written by optimizerState()"
 * ```
 */
export class TrainError extends ClipkitError {
  override name = "TrainError";
}

/**
 * Weights or inputs that do not fit the model being trained.
 * @example
 * ```ts
 * import { ClipInputError, TrainError } from "./errors.ts";
 * const e = new ClipInputError("the weights lack visual.proj", { fix: "pass the weights written for this architecture" });
 * [e.name, e instanceof TrainError]; // → ["ClipInputError", true]
 * e.message; // → "the weights lack visual.proj. Fix: pass the weights written for this architecture"
 * ```
 */
export class ClipInputError extends TrainError {
  override name = "ClipInputError";
}

/**
 * A checkpoint that cannot be read or does not match the run.
 * @example
 * ```ts
 * import { CheckpointError, TrainError } from "./errors.ts";
 * const e = new CheckpointError("cannot read the checkpoint", { path: "run/checkpoint.bin", fix: "check the --out folder" });
 * [e.name, e instanceof TrainError]; // → ["CheckpointError", true]
 * e.message; // → "cannot read the checkpoint: run/checkpoint.bin. Fix: check the --out folder"
 * ```
 */
export class CheckpointError extends TrainError {
  override name = "CheckpointError";
}

/**
 * Bad options to the BPE vocabulary learner.
 * @example
 * ```ts
 * import { BpeLearnError, TrainError } from "./errors.ts";
 * const e = new BpeLearnError("vocabSize must be an integer ≥ 514, got 10", { fix: "pass e.g. 1024" });
 * [e.name, e instanceof TrainError]; // → ["BpeLearnError", true]
 * e.message; // → "vocabSize must be an integer ≥ 514, got 10. Fix: pass e.g. 1024"
 * ```
 */
export class BpeLearnError extends TrainError {
  override name = "BpeLearnError";
}

/**
 * A pretraining run that cannot start as asked.
 * @example
 * ```ts
 * import { PretrainError, TrainError } from "./errors.ts";
 * const e = new PretrainError("a caption or prompt needs 30 tokens but context_length is 24", { fix: "raise context_length" });
 * [e.name, e instanceof TrainError]; // → ["PretrainError", true]
 * e.message; // → "a caption or prompt needs 30 tokens but context_length is 24. Fix: raise context_length"
 * ```
 */
export class PretrainError extends TrainError {
  override name = "PretrainError";
}

/**
 * A TensorFlow.js backend that cannot start.
 * @example
 * ```ts
 * import { TfBackendError, TrainError } from "./errors.ts";
 * const e = new TfBackendError('TensorFlow.js backend "wasm" failed to start', { fix: "pass --backend cpu" });
 * [e.name, e instanceof TrainError]; // → ["TfBackendError", true]
 * e.message; // → 'TensorFlow.js backend "wasm" failed to start. Fix: pass --backend cpu'
 * ```
 */
export class TfBackendError extends TrainError {
  override name = "TfBackendError";
}

/**
 * A loss that stopped being a finite number.
 * @example
 * ```ts
 * import { TrainError, TrainingDivergedError } from "./errors.ts";
 * const e = new TrainingDivergedError("the loss became NaN at step 120 (learning rate 2.00e-3)", { fix: "lower the learning rate" });
 * [e.name, e instanceof TrainError]; // → ["TrainingDivergedError", true]
 * e.message; // → "the loss became NaN at step 120 (learning rate 2.00e-3). Fix: lower the learning rate"
 * ```
 */
export class TrainingDivergedError extends TrainError {
  override name = "TrainingDivergedError";
}

/**
 * An experiment that cannot run as asked (unknown name, bad options) — `src/experiments/`.
 * @example
 * ```ts
 * import { ClipkitError, ExperimentError } from "./errors.ts";
 * const e = new ExperimentError('no experiment "temprature"', { fix: "use one of temperature" });
 * [e.name, e instanceof ClipkitError]; // → ["ExperimentError", true]
 * e.message; // → 'no experiment "temprature". Fix: use one of temperature'
 * ```
 */
export class ExperimentError extends ClipkitError {
  override name = "ExperimentError";
}

/**
 * An experiment result that does not match its schema (a missing field, a wrong type) — `validateResult`.
 * @example
 * ```ts
 * import { ExperimentError, ExperimentResultError } from "./errors.ts";
 * const e = new ExperimentResultError("result.runs[0].checkpoints[2].step is a string, not an integer", { path: "experiments/results/temperature.json", fix: "re-run the experiment" });
 * [e.name, e instanceof ExperimentError]; // → ["ExperimentResultError", true]
 * ```
 */
export class ExperimentResultError extends ExperimentError {
  override name = "ExperimentResultError";
}
