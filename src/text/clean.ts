/**
 * Text cleaning exactly as openai/CLIP's `simple_tokenizer.py` does it in Python:
 * `html.unescape` (HTML5), `str.strip()`, the `regex` module's `\s`, and `str.lower()`.
 *
 * JavaScript's built-ins differ from Python's in small ways that change token ids (`trim()` strips
 * U+FEFF but not U+0085; `\s` is the other way round; there is no HTML5 entity decoder), so each
 * Python rule is written out here.
 * @module
 */
import ENTITIES from "./html_entities.json" with { type: "json" };
import { EOT_TOKEN, SOT_TOKEN } from "../constants.ts";

/** Characters that Python's `str.isspace()` accepts, hence what `str.strip()` removes. */
export const PYTHON_STRIP_CHARS =
  "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

/** The `regex` module's `\s` (Unicode White_Space), as a character-class body. */
export const REGEX_WHITESPACE_CLASS =
  "\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

const WHITESPACE_RUN = new RegExp(`[${REGEX_WHITESPACE_CLASS}]+`, "gu");

/**
 * openai/CLIP's pre-tokenizer pattern (the `regex` module, IGNORECASE): the two special tokens, English
 * contractions, letter runs, single digits, runs of other non-space characters. `whitespace` is the
 * character-class body standing for `\s`: `"\\s"` in `tokenizer.json` (Hugging Face's engine reads `\s`
 * as Unicode White_Space), {@link REGEX_WHITESPACE_CLASS} for JavaScript (whose `\s` differs).
 *
 * @example
 * ```ts
 * import { preTokenizerPattern } from "./clean.ts";
 * console.log(preTokenizerPattern("\\s").slice(0, 33)); // → "<\\|startoftext\\|>|<\\|endoftext\\|>"
 * ```
 */
export function preTokenizerPattern(whitespace: string): string {
  const escape = (token: string) => token.replaceAll("|", "\\|");
  return `${escape(SOT_TOKEN)}|${escape(EOT_TOKEN)}|` +
    String.raw`'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^${whitespace}\p{L}\p{N}]+`;
}

/** {@link preTokenizerPattern} as a JavaScript RegExp, matching what openai/CLIP's `re.findall` finds. */
export const PRE_TOKENIZER: RegExp = new RegExp(preTokenizerPattern(REGEX_WHITESPACE_CLASS), "giu");

const STRIP_SET = new Set(PYTHON_STRIP_CHARS);

// html.unescape's reference pattern: `&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)`
const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;
const HTML5: Record<string, string> = ENTITIES.html5;
const INVALID_CHARREFS: Record<string, string> = ENTITIES.invalidCharrefs;
const INVALID_CODEPOINTS = new Set<number>(ENTITIES.invalidCodepoints);
const MAX_CODEPOINT = 0x10ffff;

function replaceCharref(match: string, ref: string): string {
  if (ref[0] === "#") {
    const hex = ref[1] === "x" || ref[1] === "X";
    const digits = ref.slice(hex ? 2 : 1).replace(/;$/, "");
    const num = parseInt(digits, hex ? 16 : 10); // may be huge: only compared below
    if (Object.hasOwn(INVALID_CHARREFS, String(num))) return INVALID_CHARREFS[String(num)];
    if ((num >= 0xd800 && num <= 0xdfff) || num > MAX_CODEPOINT) return "\ufffd";
    if (INVALID_CODEPOINTS.has(num)) return "";
    return String.fromCodePoint(num);
  }
  if (Object.hasOwn(HTML5, ref)) return HTML5[ref];
  // The longest prefix that is an entity name wins (`&notit;` → `¬it;`); prefixes are in code points.
  const chars = [...ref];
  for (let x = chars.length - 1; x > 1; x--) {
    const name = chars.slice(0, x).join("");
    if (Object.hasOwn(HTML5, name)) return HTML5[name] + chars.slice(x).join("");
  }
  return match;
}

/**
 * Python's `html.unescape`: HTML5 named entities (also without `;`, longest prefix first), numeric
 * references, `&#0;` and invalid code points → U+FFFD, `&#128;`–`&#159;` → Windows-1252.
 * @example
 * ```ts
 * import { htmlUnescape } from "./clean.ts";
 * htmlUnescape("fish &amp; chips &notit; &#128;"); // → "fish & chips ¬it; €"
 * ```
 */
export function htmlUnescape(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(CHARREF, replaceCharref);
}

/**
 * Python's `str.strip()` with no argument (strips U+001C–U+001F and U+0085, keeps U+FEFF).
 * @example
 * ```ts
 * import { pyStrip } from "./clean.ts";
 * pyStrip("\x85 a b\u3000"); // → "a b"
 * ```
 */
export function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && STRIP_SET.has(text[start])) start++;
  while (end > start && STRIP_SET.has(text[end - 1])) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/**
 * CLIP's `whitespace_clean`: every run of `regex` `\s` becomes one space, then `str.strip()`.
 * @example
 * ```ts
 * import { whitespaceClean } from "./clean.ts";
 * whitespaceClean(" a \t\n b\x85"); // → "a b"
 * ```
 */
export function whitespaceClean(text: string): string {
  return pyStrip(text.replace(WHITESPACE_RUN, " "));
}

// Code points that V8's newer Unicode lower-cases but Python 3.11 (Unicode 14) leaves alone.
const NOT_LOWERED_BY_PYTHON = /[\u1c89\ua7cb\ua7cc\ua7da\ua7dc\u{10d50}-\u{10d65}]/u;
const LOWERABLE_RUN = /[^\u1c89\ua7cb\ua7cc\ua7da\ua7dc\u{10d50}-\u{10d65}]+/gu;

/**
 * Python 3.11's `str.lower()`: full case mapping (`İ` → `i̇`), final sigma, Unicode 14 tables.
 * @example
 * ```ts
 * import { pyLower } from "./clean.ts";
 * pyLower("İstanbul ΟΔΥΣΣΕΥΣ"); // → "i̇stanbul οδυσσευς"
 * ```
 */
export function pyLower(text: string): string {
  if (!NOT_LOWERED_BY_PYTHON.test(text)) return text.toLowerCase();
  return text.replace(LOWERABLE_RUN, (run) => run.toLowerCase());
}
