/**
 * Text: CLIP's tokenizer. encode = ftfy → html unescape → whitespace clean → lower → pre-tokenize → byte-level BPE;
 * vocabulary files in CLIP's .gz, vocab.json + merges.txt and tokenizer.json forms.
 * @module
 */
export * from "./bpe.ts";
export * from "./clean.ts";
export * from "./ftfy.ts";
export * from "./tokenizer.ts";
export * from "./vocabulary.ts";
