/**
 * The fixes that `ftfy.fix_text` (ftfy 6.3, default settings) applies before openai/CLIP tokenizes.
 *
 * Rules, in ftfy's order, repeated until the text stops changing, one line at a time:
 * HTML entities ending in `;` (skipped once a line contains `<`), mojibake (UTF-8 read as Latin-1
 * or Windows-1252), C1 controls read as Windows-1252, Latin ligatures, fullwidth/halfwidth forms,
 * curly quotes, line breaks, terminal escapes, control characters, then NFC.
 *
 * Mojibake is where this differs from ftfy: ftfy first asks a heuristic ("badness") whether text
 * looks broken and tries nine single-byte code pages. Here the rule is: every run of characters that
 * spells one multi-byte UTF-8 character in Latin-1 or Windows-1252 (`Ã©`, `â€œ`) is decoded,
 * anywhere in the line, until none is left, provided one run is surely mojibake: it starts with `Â`,
 * `Ã`, `â` or `ð`, or goes on with a character other than the punctuation that follows letters in
 * real text (so `Brontë…”` and `JOSÉ’s` stay). That is ftfy's result on ordinary mojibake (`cafÃ©`,
 * `Ã¼ber`, `â€œquotedâ€`, `ÐŸÑ€Ð¸Ð²ÐµÑ‚`, double encodings, mojibake beside real non-Latin text);
 * text that was never UTF-8 is kept. Like ftfy, a line that decodes once the spaces that stood for
 * byte 0xA0 are put back is decoded so (`voilÃ le travail` → `voilà le travail`). Not covered:
 * UTF-8 read as Cyrillic, Greek, Central European or Mac code pages, CESU-8, lost bytes (`�`).
 * @module
 */
import ENTITIES from "./html_entities.json" with { type: "json" };
import { htmlUnescape } from "./clean.ts";

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
// Text of printable ASCII, tabs and newlines, without `&`, is left alone by every fix.
const NEEDS_FIXING = /[^\t\n\x20-\x25\x27-\x7e]/;

const HTML5: Record<string, string> = ENTITIES.html5;
const UPPER_ENTITIES: Record<string, string> = ENTITIES.upper;
const UTF8_STRICT = new TextDecoder("utf-8", { fatal: true });

/**
 * Characters that stand for a UTF-8 continuation byte (0x80–0xBF) once UTF-8 was decoded as Latin-1
 * or Windows-1252, with that byte: the C1 controls, Windows-1252's characters, and U+00A0–U+00BF.
 */
const CONTINUATION_BYTE = new Map<string, number>();
for (let b = 0x80; b < 0xc0; b++) {
  CONTINUATION_BYTE.set(String.fromCharCode(b), b);
  if (b < 0xa0) CONTINUATION_BYTE.set(WINDOWS_1252_HIGH[b - 0x80], b);
}
const CONT = `[${[...CONTINUATION_BYTE.keys()].join("")}]`;
// A lead byte (as its Latin-1 character) followed by the continuation bytes UTF-8 expects.
const UTF8_AS_LATIN1 = new RegExp(
  `[\u00c2-\u00df]${CONT}|[\u00e0-\u00ef]${CONT}{2}|[\u00f0-\u00f4]${CONT}{3}`,
  "g",
);

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

function redecode(sequence: string): string {
  const bytes = Uint8Array.from(sequence, (c, i) => i === 0 ? c.charCodeAt(0) : CONTINUATION_BYTE.get(c)!);
  try {
    return UTF8_STRICT.decode(bytes);
  } catch {
    return sequence; // overlong, surrogate or beyond U+10FFFF: not UTF-8 after all
  }
}

// Leads whose mojibake is by far the most common (U+0080–U+00FF, U+2000–U+2FFF, emoji) and
// that real text almost never follows by a continuation character.
const SURE_LEADS = new Set(["\u00c2", "\u00c3", "\u00e2", "\u00f0"]);
// Punctuation that real text puts right after a letter (`Brontë…”`, `JOSÉ’s`, `café\u00a0»`).
const TEXT_PUNCTUATION = new Set(
  "\u2026\u2019\u201d\u201c\u2018\u2013\u2014\u2022\u00ab\u00bb\u2039\u203a\u201e\u201a\u00a0\u2122",
);

/** Whether a UTF-8-shaped run is surely mojibake, not a letter followed by punctuation. */
function isSureMojibake(sequence: string): boolean {
  if (SURE_LEADS.has(sequence[0])) return true;
  for (let i = 1; i < sequence.length; i++) if (!TEXT_PUNCTUATION.has(sequence[i])) return true;
  return false;
}

/** Byte of each character in Latin-1 or Windows-1252 (so C1 controls and Windows-1252's characters both count). */
const SINGLE_BYTE = new Map<string, number>();
for (let b = 0; b < 256; b++) SINGLE_BYTE.set(String.fromCharCode(b), b);
for (let b = 0x80; b < 0xa0; b++) SINGLE_BYTE.set(WINDOWS_1252_HIGH[b - 0x80], b);
// In bytes: "Ã" + space, where the space was the 0xA0 of "à", unless a Portuguese contraction (às, àquele…) follows.
const A_GRAVE_WORD = /\xc3 (?! |quele|quela|quilo|s )/g;
// In bytes: UTF-8 sequences (leads that make likely characters) whose 0xA0 byte became a space.
const SPACED_UTF8 =
  /[\xc2\xc3\xc5\xce\xd0\xd9] |[\xe2\xe3] [\x80-\x84\x86-\x9f\xa1-\xbf]|[\xe0-\xe3][\x80-\x84\x86-\x9f\xa1-\xbf] |\xf0 [\x80-\xbf]{2}|\xf0[\x80-\xbf] [\x80-\xbf]|\xf0[\x80-\xbf]{2} /g;

/**
 * Whole-line mojibake whose U+00A0 bytes were turned into spaces (`voilÃ le travail`): put 0xA0 back
 * and decode, when the whole line then is valid UTF-8 and the evidence is sure (an `Â`/`Ã` lead, or
 * a surely-mojibake run elsewhere). Null when this does not apply.
 */
function restoreSpaces(text: string): string | null {
  let bytes = "";
  for (const c of text) {
    const b = SINGLE_BYTE.get(c);
    if (b === undefined) return null;
    bytes += String.fromCharCode(b);
  }
  const spaced = bytes.match(SPACED_UTF8);
  if (spaced === null) return null;
  const sure = spaced.some((m) => m[0] === "\xc2" || m[0] === "\xc3") ||
    (text.match(UTF8_AS_LATIN1) ?? []).some(isSureMojibake);
  if (!sure) return null;
  const restored = bytes.replace(A_GRAVE_WORD, "\xc3\xa0 ").replace(
    SPACED_UTF8,
    (m) => m.replaceAll(" ", "\xa0"),
  );
  try {
    return UTF8_STRICT.decode(Uint8Array.from(restored, (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}

/**
 * Repairs UTF-8 that was decoded as Latin-1 or Windows-1252. Each run of characters that spells one
 * multi-byte UTF-8 character is decoded, provided the line holds at least one run that is surely
 * mojibake (see `isSureMojibake`); a whole line whose U+00A0 bytes became spaces is decoded with
 * them put back; repeated for double encodings.
 * @example
 * ```ts
 * import { fixMojibake } from "./ftfy.ts";
 * fixMojibake("cafÃ© â€œquotedâ€\x9d 日本"); // → "café “quoted” 日本"
 * fixMojibake("voilÃ le travail"); // → "voilà le travail"
 * fixMojibake("Charlotte Brontë…”"); // unchanged
 * ```
 */
export function fixMojibake(text: string): string {
  for (;;) {
    let fixed = restoreSpaces(text);
    if (fixed === null) {
      const runs = text.match(UTF8_AS_LATIN1);
      if (runs === null || !runs.some(isSureMojibake)) return text;
      fixed = text.replace(UTF8_AS_LATIN1, redecode);
    }
    if (fixed === text) return text;
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
 * ```ts
 * import { fixText } from "./ftfy.ts";
 * fixText("don’t ＡＢＣ ﬁne &amp;amp; cafÃ©"); // → "don't ABC fine & café"
 * ```
 */
export function fixText(text: string): string {
  if (!NEEDS_FIXING.test(text)) return text;
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
