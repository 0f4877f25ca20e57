/**
 * The tokenizer's error types. Each message names the problem and what to do about it.
 * @module
 */

/** Bad input to the tokenizer (wrong type, lone surrogate, bad option, unknown id). */
export class TokenizerError extends Error {
  override name = "TokenizerError";
}

/** A text longer than the context length, with `truncate: false`. */
export class ContextLengthError extends TokenizerError {
  override name = "ContextLengthError";
  /**
   * @param index position of the text in the batch
   * @param tokenCount its token count with SOT and EOT
   * @param contextLength the limit
   */
  constructor(readonly index: number, readonly tokenCount: number, readonly contextLength: number) {
    super(
      `text ${index} has ${tokenCount} tokens with SOT and EOT, more than the context length ${contextLength}: ` +
        `shorten it, or pass { truncate: true } to cut it (the last token stays EOT)`,
    );
  }
}

/** A vocabulary file that is missing, unreadable or malformed, or a vocabulary that cannot be written. */
export class VocabularyFileError extends TokenizerError {
  override name = "VocabularyFileError";
}
