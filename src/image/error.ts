/**
 * The one error type of image loading and preprocessing, a `ClipkitError` like the kit's other errors.
 *
 * Its message reads `problem: source. Fix: fix`, and `reason` says which kind of problem it was, so code
 * can branch on it without parsing the message.
 */
import { ClipkitError } from "../errors.ts";

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
 * A bad image file or a bad preprocessing argument.
 * @example
 * new ImageError("empty", "the file has 0 bytes", { source: "a.png", fix: "re-save the image" }).message
 * // "the file has 0 bytes: a.png. Fix: re-save the image"
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
