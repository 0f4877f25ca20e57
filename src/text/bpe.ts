/**
 * Byte-level BPE as in openai/CLIP: the byte ↔ character alphabet and the merge loop.
 *
 * `bpeMerge` is the fast form (a min-heap over pair ranks and a linked list of symbols, O(n log n));
 * `bpeStepsNaive` is CLIP's own loop written out step by step, kept for teaching and for testing the
 * fast form against it.
 * @module
 */

/** Suffix that marks the last symbol of a word. */
export const END_OF_WORD = "</w>";

/**
 * GPT-2/CLIP's reversible byte → printable character table (`bytes_to_unicode`): index = byte.
 * Printable Latin-1 bytes map to themselves; the other 68 bytes to U+0100 onwards.
 * @example
 * ```ts
 * import { bytesToUnicode } from "./bpe.ts";
 * bytesToUnicode()[0x20]; // → "Ġ"
 * bytesToUnicode()[0x41]; // → "A"
 * ```
 */
export function bytesToUnicode(): string[] {
  const table = new Array<string>(256);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCodePoint(printable ? b : 256 + next++);
  }
  return table;
}

/**
 * The 256 byte characters in CLIP's vocabulary order (the insertion order of `bytes_to_unicode`'s
 * dict): printable bytes first (`!`…`~`, `¡`…`¬`, `®`…`ÿ`), then the others by byte value.
 * @example
 * ```ts
 * import { byteAlphabet } from "./bpe.ts";
 * byteAlphabet().slice(0, 3); // → ["!", "\"", "#"]
 * ```
 */
export function byteAlphabet(): string[] {
  const table = bytesToUnicode();
  const printable = table.filter((c) => c.codePointAt(0)! < 256);
  const others = table.filter((c) => c.codePointAt(0)! >= 256);
  return [...printable, ...others];
}

/** Merge ranks keyed by pair of symbol ids, and the id each merge produces. */
export interface MergeTable {
  /** `left * stride + right` → rank. */
  rank: Map<number, number>;
  /** Id of the merged symbol, by rank. */
  merged: Int32Array;
  /** Multiplier for the pair key (greater than every symbol id). */
  stride: number;
}

/** Binary min-heap of numbers (pair keys `rank * n + position`). */
class MinHeap {
  private items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): number {
    return this.items[0];
  }
  push(v: number): void {
    const a = this.items;
    let i = a.push(v) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= v) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1] < a[l] ? l + 1 : l;
        if (a[c] >= last) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * Applies the merges to a word given as symbol ids, exactly like CLIP's `bpe()`: repeatedly merge
 * every occurrence (left to right) of the lowest-ranked adjacent pair. Returns the final ids.
 * @example
 * ```ts
 * // with CLIP's merges, the byte ids of "lighthouse" (last one with </w>) become [13717] ("lighthouse</w>")
 * ```
 */
export function bpeMerge(symbols: number[], table: MergeTable): number[] {
  const n = symbols.length;
  if (n < 2) return symbols.slice();
  const { rank, merged, stride } = table;
  const sym = Int32Array.from(symbols);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const heap = new MinHeap();
  const rankAt = (i: number): number | undefined => {
    const j = next[i];
    return j < 0 ? undefined : rank.get(sym[i] * stride + sym[j]);
  };
  for (let i = 0; i + 1 < n; i++) {
    const r = rankAt(i);
    if (r !== undefined) heap.push(r * n + i);
  }
  // Pairs created while one rank is being applied wait until that rank is done (CLIP's order).
  const pending: number[] = [];
  while (heap.size > 0) {
    const currentRank = Math.floor(heap.peek() / n);
    while (heap.size > 0 && Math.floor(heap.peek() / n) === currentRank) {
      const i = heap.pop() % n;
      if (sym[i] < 0 || rankAt(i) !== currentRank) continue; // stale entry
      const j = next[i];
      sym[i] = merged[currentRank];
      sym[j] = -1;
      next[i] = next[j];
      if (next[j] >= 0) prev[next[j]] = i;
      if (prev[i] >= 0) {
        const r = rankAt(prev[i]);
        if (r !== undefined) pending.push(r * n + prev[i]);
      }
      const r = rankAt(i);
      if (r !== undefined) pending.push(r * n + i);
    }
    for (const key of pending) heap.push(key);
    pending.length = 0;
  }
  const out: number[] = [];
  for (let i = 0; i >= 0; i = next[i]) out.push(sym[i]);
  return out;
}

/**
 * CLIP's `bpe()` loop on symbol strings, returning every intermediate symbol list (first: the
 * characters, the last one carrying `</w>`; last: the final tokens).
 * @example
 * ```ts
 * import { bpeStepsNaive } from "./bpe.ts";
 * bpeStepsNaive(["c", "a", "t</w>"], new Map([["a t</w>", 0], ["c at</w>", 1]]))
 * // → [["c", "a", "t</w>"], ["c", "at</w>"], ["cat</w>"]]
 * ```
 */
export function bpeStepsNaive(word: string[], ranks: Map<string, number>): string[][] {
  const steps = [word.slice()];
  let current = word.slice();
  while (current.length > 1) {
    let best: string | undefined;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < current.length; i++) {
      const r = ranks.get(current[i] + " " + current[i + 1]);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = current[i] + " " + current[i + 1];
      }
    }
    if (best === undefined) break;
    const [first, second] = best.split(" ");
    const nextWord: string[] = [];
    for (let i = 0; i < current.length;) {
      if (current[i] === first && i + 1 < current.length && current[i + 1] === second) {
        nextWord.push(first + second);
        i += 2;
      } else {
        nextWord.push(current[i]);
        i += 1;
      }
    }
    current = nextWord;
    steps.push(current);
  }
  return steps;
}
