/**
 * The fixes that `ftfy.fix_text` (ftfy 6.3, default settings) applies before openai/CLIP tokenizes.
 *
 * Rules, in ftfy's order, repeated until the text stops changing, one line at a time:
 * HTML entities ending in `;` (skipped once a line contains `<`), mojibake (UTF-8 read as Latin-1
 * or Windows-1252), C1 controls read as Windows-1252, Latin ligatures, fullwidth/halfwidth forms,
 * curly quotes, line breaks, terminal escapes, control characters, then NFC.
 *
 * Mojibake differs from ftfy in one respect: ftfy first asks a heuristic ("badness") whether the
 * text looks broken, and also tries seven rarer code pages; here a line is re-decoded when it is
 * entirely Latin-1 (or Windows-1252) and its bytes are valid UTF-8 with at least one multi-byte
 * character — the same outcome on ordinary mojibake such as `cafÃ©` or `â€œquotedâ€`.
 * @module
 */
import ENTITIES from "./data/html_entities.json" with { type: "json" };
import { htmlUnescape } from "./text_clean.ts";

/** Windows-1252's characters for bytes 0x80–0x9F; bytes it leaves undefined keep the C1 control (ftfy's "sloppy" codec). */
export const WINDOWS_1252_HIGH =
  "\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f" +
  "\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178";

/** Latin ligatures and legacy digraphs that ftfy splits (it keeps `æ`, `œ`). */
export const LATIN_LIGATURES: Readonly<Record<string, string>> = {
  "\u0132": "IJ",
  "\u0133": "ij",
  "\u0149": "\u02bcn",
  "\u01f1": "DZ",
  "\u01f2": "Dz",
  "\u01f3": "dz",
  "\u01c4": "D\u017d",
  "\u01c5": "D\u017e",
  "\u01c6": "d\u017e",
  "\u01c7": "LJ",
  "\u01c8": "Lj",
  "\u01c9": "lj",
  "\u01ca": "NJ",
  "\u01cb": "Nj",
  "\u01cc": "nj",
  "\ufb00": "ff",
  "\ufb01": "fi",
  "\ufb02": "fl",
  "\ufb03": "ffi",
  "\ufb04": "ffl",
  "\ufb05": "\u017ft",
  "\ufb06": "st",
};

const LIGATURE_RE = new RegExp(`[${Object.keys(LATIN_LIGATURES).join("")}]`, "g");
const WIDTH_RE = /[\u3000\uff01-\uffef]/g;
const SINGLE_QUOTE_RE = /[\u02bc\u2018-\u201b]/g;
const DOUBLE_QUOTE_RE = /[\u201c-\u201f]/g;
const LINE_BREAK_RE = /\r\n|[\r\u2028\u2029\x85]/g;
// deno-lint-ignore no-control-regex -- ESC starts the ANSI sequences being removed
const TERMINAL_ESCAPE_RE = /\x1b\[(?:\p{Nd}|;)*[a-zA-Z]/gu;
// ASCII controls except \t \n \f \r, deprecated Arabic format controls, interlinear annotation, U+FFFC, BOM.
// deno-lint-ignore no-control-regex
const CONTROL_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
const C1_RE = /[\x80-\x9f]/g;
const ENTITY_RE = /&#?[0-9A-Za-z]{1,24};/g;
const NON_ASCII = /[\u0080-\uffff]/;

const HTML5: Record<string, string> = ENTITIES.html5;
const UPPER_ENTITIES: Record<string, string> = ENTITIES.upper;
const UTF8_STRICT = new TextDecoder("utf-8", { fatal: true });

/** Byte of each character in ftfy's sloppy Windows-1252: Latin-1 plus the 1252 characters at 0x80–0x9F. */
const SLOPPY_1252_BYTE = new Map<string, number>();
for (let b = 0; b < 256; b++) {
  SLOPPY_1252_BYTE.set(b >= 0x80 && b < 0xa0 ? WINDOWS_1252_HIGH[b - 0x80] : String.fromCharCode(b), b);
}

function unescapeEntity(entity: string): string {
  const name = entity.slice(1);
  if (Object.hasOwn(HTML5, name)) return HTML5[name];
  if (Object.hasOwn(UPPER_ENTITIES, entity)) return UPPER_ENTITIES[entity];
  if (entity.startsWith("&#")) {
    const decoded = htmlUnescape(entity);
    return decoded.includes(";") ? entity : decoded;
  }
  return entity;
}

/** Encodes `text` in Latin-1 (`sloppy` false) or sloppy Windows-1252; null when a character does not fit. */
function encodeSingleByte(text: string, sloppy1252: boolean): Uint8Array | null {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const b = sloppy1252 ? SLOPPY_1252_BYTE.get(text[i]) : code < 256 ? code : undefined;
    if (b === undefined) return null;
    bytes[i] = b;
  }
  return bytes;
}

/**
 * Repairs UTF-8 that was decoded as Latin-1 or Windows-1252 (repeatedly, for double encodings).
 * @example
 * fixMojibake("cafÃ©") // "café"
 */
export function fixMojibake(text: string): string {
  for (;;) {
    if (!NON_ASCII.test(text)) return text;
    let fixed: string | null = null;
    for (const sloppy of [false, true]) {
      const bytes = encodeSingleByte(text, sloppy);
      if (bytes === null) continue;
      try {
        fixed = UTF8_STRICT.decode(bytes);
      } catch {
        continue;
      }
      break;
    }
    if (fixed === null || fixed === text) return text;
    text = fixed;
  }
}

function fixSegment(segment: string, unescapeHtml: boolean): string {
  let text = segment;
  for (;;) {
    const before = text;
    if (unescapeHtml) text = text.replace(ENTITY_RE, unescapeEntity);
    if (NON_ASCII.test(text)) {
      text = fixMojibake(text)
        .replace(C1_RE, (c) => WINDOWS_1252_HIGH[c.charCodeAt(0) - 0x80])
        .replace(LIGATURE_RE, (c) => LATIN_LIGATURES[c])
        .replace(WIDTH_RE, (c) => c === "\u3000" ? " " : c.normalize("NFKC"))
        .replace(SINGLE_QUOTE_RE, "'")
        .replace(DOUBLE_QUOTE_RE, '"');
    }
    text = text.replace(LINE_BREAK_RE, "\n").replace(TERMINAL_ESCAPE_RE, "").replace(CONTROL_RE, "")
      .normalize("NFC");
    if (text === before) return text;
  }
}

/**
 * `ftfy.fix_text` with its default configuration, as openai/CLIP calls it before tokenizing.
 * The input must be well-formed UTF-16 (the tokenizer checks this first).
 * @example
 * fixText("don’t ＡＢＣ ﬁne &amp;amp; cafÃ©") // "don't ABC fine &amp; café"
 */
export function fixText(text: string): string {
  let unescapeHtml = true;
  let out = "";
  let pos = 0;
  while (pos < text.length) {
    const newline = text.indexOf("\n", pos);
    const end = newline === -1 ? text.length : newline + 1;
    const segment = text.slice(pos, end);
    if (unescapeHtml && segment.includes("<")) unescapeHtml = false;
    out += fixSegment(segment, unescapeHtml);
    pos = end;
  }
  return out;
}
