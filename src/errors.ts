/**
 * clipkit's error types: each names the problem, the file or input at fault, and the fix.
 *
 * Catch `ClipkitError` for any of them, or a subclass for one kind of problem.
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
 * new ClipkitError("no config.json", { path: "models/x", fix: "run deno task fetch-model" }).message
 * // "no config.json: models/x. Fix: run deno task fetch-model"
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

/** An ONNX runtime backend that cannot be loaded on this machine. */
export class BackendError extends ClipkitError {
  override name = "BackendError";
}

/** Bad arguments to an encoder: an empty list, an unusable item. */
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
