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

/** A file that should be there and is not (read by `readJsonFile` in src/fs.ts, among others). */
export class MissingFileError extends ClipkitError {
  override name = "MissingFileError";
}

/** A file that is there but cannot be parsed: malformed JSON, a damaged binary. */
export class MalformedFileError extends ClipkitError {
  override name = "MalformedFileError";
}

/** A CLIP architecture (openai/CLIP's constructor fields) that cannot build a model, or weights that do not fit it. */
export class ArchitectureError extends ClipkitError {
  override name = "ArchitectureError";
}

/** A model directory, config file or ONNX graph that cannot be used as a CLIP model. */
export class ModelLoadError extends ClipkitError {
  override name = "ModelLoadError";
}

/** A model file (config, ONNX graph, tokenizer) that is not where it should be. */
export class MissingModelFileError extends ModelLoadError {
  override name = "MissingModelFileError";
}

/** An ONNX graph whose inputs or outputs are not those of a CLIP text or vision tower. */
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

/** A checkpoint of a model the kit's exporter does not build (a ResNet image tower, a non-CLIP model). */
export class UnsupportedCheckpointError extends ModelLoadError {
  override name = "UnsupportedCheckpointError";
}

/** An ONNX runtime backend that cannot be loaded on this machine. */
export class BackendError extends ClipkitError {
  override name = "BackendError";
}

/**
 * Bad arguments to a function that has no error type of its own: an empty list, an unusable item, an index
 * outside its range.
 */
export class InputError extends ClipkitError {
  override name = "InputError";
}

/** An encoder output with NaN or infinite values. */
export class NonFiniteOutputError extends ClipkitError {
  override name = "NonFiniteOutputError";
}

/** A failed model download (HTTP error, missing file, checksum mismatch). */
export class DownloadError extends ClipkitError {
  override name = "DownloadError";
}

/** A download cut short (a closed connection, a server hiccup): worth retrying, and resumed from the `.part` file. */
export class ConnectionError extends DownloadError {
  override name = "ConnectionError";
}

// ── text ────────────────────────────────────────────────────────────────────────────────────────────────

/** Bad input to the tokenizer (wrong type, lone surrogate, bad option, unknown id). */
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

/** A vocabulary file that is missing, unreadable or malformed, or a vocabulary that cannot be written. */
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

/** A matrix of the wrong shape: mismatched widths or row counts, an empty batch, ragged rows. */
export class MatrixShapeError extends ClipkitError {
  override name = "MatrixShapeError";
}

/** A matrix holding NaN or ±Infinity where finite numbers are needed. */
export class NonFiniteError extends ClipkitError {
  override name = "NonFiniteError";
}

/** A temperature, logit scale or logit bias that is not a usable number. */
export class TemperatureError extends ClipkitError {
  override name = "TemperatureError";
}

/** More top entries asked for than a row has (or fewer than one). */
export class TopKError extends ClipkitError {
  override name = "TopKError";
}

/** A linear probe that cannot be fitted as asked: one class only, a class without examples, C ≤ 0, bad options. */
export class ProbeError extends ClipkitError {
  override name = "ProbeError";
}

// ── zero-shot ───────────────────────────────────────────────────────────────────────────────────────────

/** An unusable template list, class list or prompt file: empty, not strings, a template without `{}`. */
export class TemplateError extends ClipkitError {
  override name = "TemplateError";
}

/** A text-embedding cache file that is unreadable or belongs to something else. */
export class CacheError extends ClipkitError {
  override name = "CacheError";
}

// ── figures ─────────────────────────────────────────────────────────────────────────────────────────────

/** Data a figure cannot draw (wrong shape, empty, mismatched labels). */
export class PlotInputError extends ClipkitError {
  override name = "PlotInputError";
}

/** A PNG that cannot be made (bad scale, unreadable SVG). */
export class RasterError extends ClipkitError {
  override name = "RasterError";
}

// ── data ────────────────────────────────────────────────────────────────────────────────────────────────

/** Options the synthetic shapes world cannot honour (a split, task, size or scene it does not have). */
export class ShapesWorldError extends ClipkitError {
  override name = "ShapesWorldError";
}

/**
 * An image folder or caption file that cannot be used as a dataset: no images, a class folder without
 * images, a caption file without an image or caption column, a row without a path.
 */
export class DatasetError extends ClipkitError {
  override name = "DatasetError";
}

/**
 * An embeddings folder in clip-retrieval's layout (`img_emb/`, `text_emb/`, `metadata/`) that cannot be
 * read or continued: missing or damaged shards, settings that differ from the run being resumed.
 */
export class EmbeddingStoreError extends ClipkitError {
  override name = "EmbeddingStoreError";
}

/** A `.npy` file the kit cannot read (not NumPy format, an unsupported dtype or layout, truncated). */
export class NpyError extends ClipkitError {
  override name = "NpyError";
}

/** A command-line argument that cannot be used: an unknown flag, a missing value, a value out of range. */
export class UsageError extends ClipkitError {
  override name = "UsageError";
}

// ── ONNX export ─────────────────────────────────────────────────────────────────────────────────────────

/** A model directory the exporter cannot write consistently (weights, config and tokenizer disagree). */
export class ExportError extends ClipkitError {
  override name = "ExportError";
}

/** An ONNX graph built from inconsistent pieces. */
export class OnnxGraphError extends ExportError {
  override name = "OnnxGraphError";
}

/** A graph that cannot be converted to a variant (fp16, int8). */
export class VariantError extends ExportError {
  override name = "VariantError";
}

// ── training ────────────────────────────────────────────────────────────────────────────────────────────

/** The base of training's errors. */
export class TrainError extends ClipkitError {
  override name = "TrainError";
}

/** Weights or inputs that do not fit the model being trained. */
export class ClipInputError extends TrainError {
  override name = "ClipInputError";
}

/** A checkpoint that cannot be read or does not match the run. */
export class CheckpointError extends TrainError {
  override name = "CheckpointError";
}

/** Bad options to the BPE vocabulary learner. */
export class BpeLearnError extends TrainError {
  override name = "BpeLearnError";
}

/** A pretraining run that cannot start as asked. */
export class PretrainError extends TrainError {
  override name = "PretrainError";
}

/** A TensorFlow.js backend that cannot start. */
export class TfBackendError extends TrainError {
  override name = "TfBackendError";
}

/** A loss that stopped being a finite number. */
export class TrainingDivergedError extends TrainError {
  override name = "TrainingDivergedError";
}
