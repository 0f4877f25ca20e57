/**
 * Exact nearest-neighbour search by inner product: the `k` best rows of a corpus for each query, over a
 * corpus held in shards (as `deno task embed` writes them), read one at a time.
 *
 * for each shard, for each block of {@link SEARCH_BLOCK} rows: scores = queries · blockᵀ (`matmulT`,
 * `[Q, B]`) → each query's running top-k (a min-heap of size k) takes the scores that beat its worst.
 * Memory: one block of scores, whatever the corpus size. With unit rows the score is the cosine.
 * @module
 */
import { assertSameWidth, matmulT, Matrix } from "./matrix.ts";
import { TopKError } from "../errors.ts";

/** Corpus rows scored at once: a `[Q, 4096]` block of scores is 16 KB per query. */
export const SEARCH_BLOCK = 4096;

/** One search result: a row of the corpus (numbered across shards) and its score. */
export interface SearchHit {
  /** Row number over all shards, in order. */
  index: number;
  /** Inner product of the query and the row (the cosine for unit rows). */
  score: number;
}

/**
 * The running top-k of one query: a min-heap on score (ties: the later row is "smaller", so the earlier
 * row wins), read out best first.
 */
class TopK {
  readonly #k: number;
  readonly #scores: Float64Array;
  readonly #indices: Float64Array;
  #size = 0;

  constructor(k: number) {
    this.#k = k;
    this.#scores = new Float64Array(k);
    this.#indices = new Float64Array(k);
  }

  /** The score a new row must beat (−∞ until k rows are in). */
  get threshold(): number {
    return this.#size < this.#k ? -Infinity : this.#scores[0];
  }

  /** a is worse than b: a lower score, or the same score at a later row. */
  #worse(i: number, j: number): boolean {
    const s = this.#scores, x = this.#indices;
    return s[i] < s[j] || (s[i] === s[j] && x[i] > x[j]);
  }

  #swap(i: number, j: number): void {
    const s = this.#scores, x = this.#indices;
    [s[i], s[j]] = [s[j], s[i]];
    [x[i], x[j]] = [x[j], x[i]];
  }

  push(score: number, index: number): void {
    if (this.#size < this.#k) {
      let i = this.#size++;
      this.#scores[i] = score;
      this.#indices[i] = index;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.#worse(i, parent)) break;
        this.#swap(i, parent);
        i = parent;
      }
      return;
    }
    // Rows arrive in order, so an equal score never displaces an earlier row.
    if (!(score > this.#scores[0])) return;
    this.#scores[0] = score;
    this.#indices[0] = index;
    for (let i = 0;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < this.#size && this.#worse(l, m)) m = l;
      if (r < this.#size && this.#worse(r, m)) m = r;
      if (m === i) break;
      this.#swap(i, m);
      i = m;
    }
  }

  best(): SearchHit[] {
    const hits: SearchHit[] = [];
    for (let i = 0; i < this.#size; i++) hits.push({ index: this.#indices[i], score: this.#scores[i] });
    return hits.sort((a, b) => b.score - a.score || a.index - b.index);
  }
}

/**
 * Exact top-k over a corpus fed in parts: `add` each shard in order, then `results()`.
 * @example
 * ```ts
 * import { ExactSearch } from "./search.ts";
 * import { Matrix } from "./matrix.ts";
 * const search = new ExactSearch(Matrix.fromRows([[1, 0]]), 2); // one query, top 2
 * search.add(Matrix.fromRows([[0.6, 0.8], [1, 0]])); // shard 0: rows 0 and 1
 * search.add(Matrix.fromRows([[0, 1]])); // shard 1: row 2
 * search.results(); // → [[{ index: 1, score: 1 }, { index: 0, score: 0.6000000238418579 }]]
 * ```
 */
export class ExactSearch {
  /** The `[Q, D]` query rows. */
  readonly queries: Matrix;
  /** Results kept per query. */
  readonly k: number;
  /** Rows added so far. */
  count = 0;
  readonly #heaps: TopK[];

  /**
   * A search for the `k` best-scoring rows of each query (scores: dot products).
   * @param queries `[Q, D]` query rows (unit rows for cosine scores)
   * @param k results per query
   */
  constructor(queries: Matrix, k: number) {
    if (!Number.isInteger(k) || k < 1) {
      throw new TopKError(`search: k = ${k}`, { fix: "ask for a whole number of results ≥ 1" });
    }
    this.queries = queries;
    this.k = k;
    this.#heaps = Array.from({ length: queries.rows }, () => new TopK(k));
  }

  /**
   * Score the next part of the corpus (`[rows, D]`), block by block.
   * @example
   * ```ts
   * import { ExactSearch } from "./search.ts";
   * import { Matrix } from "./matrix.ts";
   * const search = new ExactSearch(Matrix.fromRows([[1, 0]]), 1);
   * search.add(Matrix.fromRows([[0, 1], [0.8, 0.6]]));
   * search.results(); // → [[{ index: 1, score: 0.800000011920929 }]]
   * ```
   */
  add(part: Matrix, blockRows: number = SEARCH_BLOCK): void {
    assertSameWidth(this.queries, part, "queries", "corpus rows");
    const d = part.cols;
    for (let start = 0; start < part.rows; start += blockRows) {
      const rows = Math.min(blockRows, part.rows - start);
      const block = new Matrix(part.data.subarray(start * d, (start + rows) * d), rows, d); // [B, D] view
      const scores = matmulT(this.queries, block).data; // [Q, B]
      const base = this.count + start;
      this.#heaps.forEach((heap, q) => {
        let threshold = heap.threshold;
        const offset = q * rows;
        for (let j = 0; j < rows; j++) {
          const s = scores[offset + j];
          if (s > threshold) {
            heap.push(s, base + j);
            threshold = heap.threshold;
          }
        }
      });
    }
    this.count += part.rows;
  }

  /**
   * Each query's hits, best first (fewer than k when the corpus is smaller).
   * @example
   * ```ts
   * import { ExactSearch } from "./search.ts";
   * import { Matrix } from "./matrix.ts";
   * const search = new ExactSearch(Matrix.fromRows([[1, 0], [0, 1]]), 1); // two queries, top 1 each
   * search.add(Matrix.fromRows([[0.6, 0.8], [1, 0]]));
   * search.results(); // → [[{ index: 1, score: 1 }], [{ index: 0, score: 0.800000011920929 }]]
   * ```
   */
  results(): SearchHit[][] {
    return this.#heaps.map((heap) => heap.best());
  }
}

/**
 * Exact top-k by inner product of each query against a corpus given whole or in parts.
 * @example
 * ```ts
 * import { searchTopK } from "./search.ts";
 * import { Matrix } from "./matrix.ts";
 * searchTopK(Matrix.fromRows([[1, 0]]), [Matrix.fromRows([[0.6, 0.8]]), Matrix.fromRows([[1, 0]])], 2);
 * // → [[{ index: 1, score: 1 }, { index: 0, score: 0.6000000238418579 }]]
 * ```
 */
export function searchTopK(queries: Matrix, corpus: Matrix | Iterable<Matrix>, k: number): SearchHit[][] {
  const search = new ExactSearch(queries, k);
  for (const part of corpus instanceof Matrix ? [corpus] : corpus) search.add(part);
  return search.results();
}
