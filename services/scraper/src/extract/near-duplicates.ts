/**
 * Flags near-duplicate pages within one job: an item whose embedding has a
 * cosine similarity of at least the threshold with an earlier item's.
 *
 * Comparing every new item with every earlier one is quadratic; instead each
 * embedding gets a 64-bit SimHash, cut into 8 bands of 8 bits, and only
 * items that share a band with the new one (locality-sensitive hashing) are
 * candidates. At cosine 0.95 two signatures differ in ~10% of their bits, so
 * at least one band matches with probability ≈ 0.99 (≈ 0.999 at 0.98);
 * unrelated pages share a band with probability ≈ 8/256. A Hamming-distance
 * cut-off drops most remaining candidates before the exact cosine confirms.
 */
import { EMBEDDING_DIMENSIONS } from "./embedding.js";
import { hammingDistance, SIMHASH_BITS, simhash, type Signature } from "./simhash.js";

/** Cosine similarity at or above which an item is a near-duplicate (EMBEDDING_DUPLICATE_THRESHOLD). */
export const DEFAULT_DUPLICATE_THRESHOLD = 0.95;

const BANDS = 8;
const BAND_BITS = 8;
const BUCKETS_PER_BAND = 1 << BAND_BITS;
/** Slack for float rounding: a threshold of 1 still matches identical vectors. */
const EPSILON = 1e-6;

export interface NearDuplicateOptions {
  /** Cosine similarity threshold, in (0, 1]. */
  threshold?: number;
  /** Length of every embedding. */
  dimensions?: number;
}

/**
 * The most signature bits two vectors at the threshold similarity differ
 * in, with a margin of six standard deviations: a true near-duplicate is
 * beyond it with probability below 1e-8.
 */
function hammingCutoff(threshold: number): number {
  const p = Math.acos(Math.min(1, threshold)) / Math.PI;
  const mean = SIMHASH_BITS * p;
  const sd = Math.sqrt(SIMHASH_BITS * p * (1 - p));
  return Math.min(SIMHASH_BITS, Math.ceil(mean + 6 * sd));
}

function bandKey(signature: Signature, band: number): number {
  const half = band < BANDS / 2 ? signature.lo : signature.hi;
  const shift = (band % (BANDS / 2)) * BAND_BITS;
  return band * BUCKETS_PER_BAND + ((half >>> shift) & (BUCKETS_PER_BAND - 1));
}

/**
 * A per-job index of item embeddings. Memory: one Float32 vector, a
 * signature and eight bucket entries per item (≈ 1.1 KiB at 256 dimensions).
 */
export class NearDuplicateIndex {
  readonly threshold: number;
  readonly dimensions: number;
  private readonly cutoff: number;
  private readonly ids: string[] = [];
  private readonly vectors: Float32Array[] = [];
  private readonly norms: number[] = [];
  private readonly signatures: Signature[] = [];
  private readonly buckets: (number[] | undefined)[] = new Array<number[] | undefined>(BANDS * BUCKETS_PER_BAND);
  /** Per-item mark of the last check that looked at it, so a candidate found in two bands is compared once. */
  private marks = new Uint32Array(64);
  private generation = 0;
  private cosines = 0;

  constructor(options: NearDuplicateOptions = {}) {
    const threshold = options.threshold ?? DEFAULT_DUPLICATE_THRESHOLD;
    if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`threshold must be in (0, 1], got ${threshold}`);
    this.threshold = threshold;
    this.dimensions = options.dimensions ?? EMBEDDING_DIMENSIONS;
    this.cutoff = hammingCutoff(threshold);
  }

  /** Items indexed so far. */
  get size(): number {
    return this.ids.length;
  }

  /** Exact cosine similarities computed so far: how much work the LSH left to do. */
  get comparisons(): number {
    return this.cosines;
  }

  /**
   * Indexes the item and returns the id of the earliest earlier item it is a
   * near-duplicate of, or undefined. An all-zero embedding (a page without
   * text) is never a duplicate and is not indexed.
   */
  check(itemId: string, embedding: ArrayLike<number>): string | undefined {
    const entry = this.prepare(embedding);
    if (entry === undefined) return undefined;
    const match = this.earliestMatch(entry.vector, entry.norm, entry.signature);
    this.insert(itemId, entry.vector, entry.norm, entry.signature);
    return match === undefined ? undefined : this.ids[match];
  }

  /** Indexes the item without looking for its duplicates (rebuilding the index of a resumed job). */
  add(itemId: string, embedding: ArrayLike<number>): void {
    const entry = this.prepare(embedding);
    if (entry !== undefined) this.insert(itemId, entry.vector, entry.norm, entry.signature);
  }

  private prepare(embedding: ArrayLike<number>): { vector: Float32Array; norm: number; signature: Signature } | undefined {
    if (embedding.length !== this.dimensions) {
      throw new RangeError(`embedding has ${embedding.length} dimensions, the index ${this.dimensions}`);
    }
    const vector = Float32Array.from(embedding);
    let norm = 0;
    for (const x of vector) norm += x * x;
    if (!(norm > 0) || !Number.isFinite(norm)) return undefined;
    return { vector, norm: Math.sqrt(norm), signature: simhash(vector) };
  }

  private earliestMatch(vector: Float32Array, norm: number, signature: Signature): number | undefined {
    const generation = ++this.generation;
    let best: number | undefined;
    for (let band = 0; band < BANDS; band++) {
      const bucket = this.buckets[bandKey(signature, band)];
      if (bucket === undefined) continue;
      // Buckets list items in insertion order: stop at the first match, or once past the best so far.
      for (const candidate of bucket) {
        if (best !== undefined && candidate >= best) break;
        if (this.marks[candidate] === generation) continue;
        this.marks[candidate] = generation;
        if (hammingDistance(signature, this.signatures[candidate] as Signature) > this.cutoff) continue;
        if (this.cosine(vector, norm, candidate) >= this.threshold - EPSILON) {
          best = candidate;
          break;
        }
      }
    }
    return best;
  }

  private cosine(vector: Float32Array, norm: number, candidate: number): number {
    this.cosines++;
    const other = this.vectors[candidate] as Float32Array;
    let dot = 0;
    for (let d = 0; d < vector.length; d++) dot += (vector[d] as number) * (other[d] as number);
    return dot / (norm * (this.norms[candidate] as number));
  }

  private insert(itemId: string, vector: Float32Array, norm: number, signature: Signature): void {
    const index = this.ids.length;
    this.ids.push(itemId);
    this.vectors.push(vector);
    this.norms.push(norm);
    this.signatures.push(signature);
    if (index >= this.marks.length) {
      const grown = new Uint32Array(this.marks.length * 2);
      grown.set(this.marks);
      this.marks = grown;
    }
    for (let band = 0; band < BANDS; band++) {
      const key = bandKey(signature, band);
      const bucket = this.buckets[key];
      if (bucket === undefined) this.buckets[key] = [index];
      else bucket.push(index);
    }
  }
}
