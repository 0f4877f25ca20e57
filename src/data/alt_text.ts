/**
 * Web-like captions ("alt text") for the media world: varied wording, synonyms, word order, filler, the
 * medium now and then, the background sometimes, rare bare noun phrases, occasional typos and irrelevant
 * words. The language is data (`alt_text.json`); this module only composes it.
 *
 * scene + medium + background + caption stream → noun phrase (count, size, colour, shape; synonyms,
 * order) → a frame (plain, or naming the medium) → filler / irrelevant words → maybe one typo → text.
 *
 * A bare class name ("star", "red") is never a whole caption, and "red star" alone is rare: zero-shot
 * prompts without a template are out of distribution, as they are for CLIP.
 * @module
 */

import type { Position, Scale } from "./captions.ts";
import type { Colour } from "./classes.ts";
import type { Shape } from "./draw.ts";
import { type Background, BACKGROUNDS, type Medium } from "./media.ts";
import { pick, type Rng } from "./random.ts";
import language from "./alt_text.json" with { type: "json" };

/** How often each kind of variation happens (fractions of captions); see `alt_text.json`. */
export const ALT_TEXT_RATES: Readonly<Record<keyof typeof language.probabilities, number>> =
  language.probabilities;

/** What a caption describes. */
export interface AltTextScene {
  colour: Colour;
  shape: Shape;
  /** 1, 2 or 3. */
  count: number;
  scale: Scale;
  /** Position of a single shape; `null` for several. */
  position: Position | null;
}

type MediumWords = {
  lead: string[];
  tag: string[];
  hashtag: string[];
  filler: string[];
  adjective: string[];
};
const MEDIA_WORDS = language.media as Record<Medium, MediumWords>;
const SHAPE_WORDS = language.shapes as Record<Shape, [string, string][]>;
const GENERIC_SHAPE_WORDS = language.genericShapeWords as [string, string][];
const COLOUR_WORDS = language.colours as Record<Colour, string[]>;
const COUNT_WORDS = language.counts as Record<string, string[]>;
const P = language.probabilities;

/** The first entry most of the time, another one with probability `p`. */
const mainOr = <T>(rng: Rng, items: readonly T[], p: number): T =>
  items.length > 1 && rng() < p ? items[1 + Math.floor(rng() * (items.length - 1))] : items[0];

/** Fills `{key}` slots, fixes "a" before a vowel or digit 8, and tidies spaces and stray punctuation. */
function fill(pattern: string, words: Record<string, string>): string {
  return pattern.replace(/\{(\w+)\}/g, (_, key: string) => words[key] ?? "")
    .replace(/\ba (?=[aeiou8])/g, "an ")
    .replace(/\s+/g, " ")
    .replace(/\s+([,.:)])/g, "$1")
    .replace(/^[\s,.:]+/, "")
    .trim();
}

/** One typo in a word of four letters or more: two letters swapped, one dropped or one doubled. */
function typo(rng: Rng, text: string): string {
  const words = text.split(" ");
  const candidates = words.map((w, i) => (/^[a-z]{4,}$/.test(w) ? i : -1)).filter((i) => i >= 0);
  if (candidates.length === 0) return text;
  const i = pick(rng, candidates), w = words[i], at = 1 + Math.floor(rng() * (w.length - 2));
  const kind = Math.floor(rng() * 3);
  words[i] = kind === 0
    ? w.slice(0, at) + w[at + 1] + w[at] + w.slice(at + 2)
    : kind === 1
    ? w.slice(0, at) + w.slice(at + 1)
    : w.slice(0, at) + w[at] + w.slice(at);
  return words.join(" ");
}

/**
 * An alt-text caption for `scene` drawn in `medium` on `background`, its wording drawn from `rng`.
 *
 * @example
 * ```ts
 * import { altText } from "./alt_text.ts";
 * import { BACKGROUNDS } from "./media.ts";
 * import { mulberry32 } from "./random.ts";
 * const scene = { colour: "red", shape: "star", count: 2, scale: "small", position: null } as const;
 * const rng = mulberry32(4);
 * [0, 1, 2, 3].map(() => altText(scene, "sketch", BACKGROUNDS.sketch[0], rng));
 * // → ["hand drawn: red starfish x2", "two red-colored stars", "a quick sketch of two stars in red",
 * //    "new: two red-colored stars"]
 * ```
 */
export function altText(scene: AltTextScene, medium: Medium, background: Background, rng: Rng): string {
  const many = scene.count > 1, media = MEDIA_WORDS[medium];
  const bare = rng() < P.bare;
  const noColour = !bare && rng() < P.noColour;
  const noShapeWord = !bare && !noColour && rng() < P.noShapeWord;
  const [singular, plural] = noShapeWord
    ? pick(rng, GENERIC_SHAPE_WORDS)
    : mainOr(rng, SHAPE_WORDS[scene.shape], P.shapeSynonym);
  const colour = noColour ? "" : mainOr(rng, COLOUR_WORDS[scene.colour], P.colourSynonym);
  if (bare) return many ? `${COUNT_WORDS[scene.count][0]} ${colour} ${plural}` : `${colour} ${singular}`;

  const mentionMedium = rng() < P.medium;
  const adjective = mentionMedium && rng() < P.mediumAdjective ? `${pick(rng, media.adjective)} ` : "";
  const sizeWord = rng() < P.size ? `${pick(rng, language.sizes[scene.scale])} ` : "";
  const countWords = COUNT_WORDS[scene.count];
  const words: Record<string, string> = {
    a: pick(rng, countWords),
    count: pick(rng, countWords),
    digit: String(scene.count),
    size: sizeWord + adjective,
    colour,
    shape: singular,
    shapes: plural,
    is: many ? "are" : "is",
    where: scene.position !== null && rng() < P.position
      ? ` ${pick(rng, language.positions[scene.position])}`
      : "",
    bg: rng() < background.mention ? ` ${pick(rng, background.phrases)}` : "",
  };
  const phrases = language.nounPhrases[many ? "many" : "one"];
  // without a colour word, only the phrasings that read well without one
  words.np = fill(
    noColour ? (many ? "{count} {size}{shapes}" : "{a} {size}{shape}") : pick(rng, phrases),
    words,
  );
  let text: string;
  if (mentionMedium && adjective === "") {
    text = fill(pick(rng, language.mediumFrames), {
      ...words,
      lead: pick(rng, media.lead),
      tag: pick(rng, media.tag),
      hashtag: pick(rng, media.hashtag),
    });
  } else {
    text = fill(pick(rng, language.plainFrames), words);
  }
  if (rng() < P.filler) {
    const filler = mentionMedium && rng() < 0.5 ? pick(rng, media.filler) : pick(rng, language.fillers);
    text = `${filler} ${text}`;
  }
  if (rng() < P.irrelevant) {
    const extra = pick(rng, language.irrelevant);
    text = rng() < 0.7 ? `${text} ${extra}` : `${extra} ${text}`;
  }
  if (rng() < P.typo) text = typo(rng, text);
  return text;
}

/**
 * The words of a caption, as {@link altTextWords} counts them: split at spaces, punctuation and hyphens.
 *
 * @example
 * ```ts
 * import { captionWords } from "./alt_text.ts";
 * captionWords("my drawing of two red-colored stars (8-bit)"); // → ["my", "drawing", "of", "two", "red", "colored", "stars", "8", "bit"]
 * ```
 */
export function captionWords(text: string): string[] {
  return text.split(/[\s,.:()!-]+/).filter(Boolean);
}

/**
 * Every word the caption language can use (vocabulary checks, BPE corpora), sorted: the phrasings, the
 * backgrounds' phrases, and the words the composer adds ("an", "is", "are", the digits).
 *
 * @example
 * ```ts
 * import { altTextWords } from "./alt_text.ts";
 * altTextWords().includes("stitch"); // → true ("cross stitch" names pixel art)
 * altTextWords().includes("blackboard"); // → true (a sketch background)
 * ```
 */
export function altTextWords(): string[] {
  const words = new Set<string>(["an", "is", "are", "1", "2", "3"]);
  const walk = (value: unknown): void => {
    if (typeof value === "string") captionWords(value.replace(/\{\w+\}/g, " ")).forEach((w) => words.add(w));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object") Object.values(value).forEach(walk);
  };
  const { description: _, probabilities: __, ...rest } = language;
  walk(rest);
  walk(Object.values(BACKGROUNDS).map((list) => list.map((b) => b.phrases)));
  return [...words].sort();
}
