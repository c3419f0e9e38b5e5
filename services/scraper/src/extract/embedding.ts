/**
 * Text embeddings computed locally, with no model: feature hashing of word
 * unigrams and bigrams into a fixed-size vector (the "hashing trick").
 * Each feature's 32-bit hash picks a dimension and a sign, so collisions
 * cancel out on average instead of piling up. A feature seen n times weighs
 * 1 + ln n (sublinear term frequency), so "the" and "and" do not make every
 * page look alike. The vector is L2-normalised: the dot product of two
 * embeddings is their cosine similarity.
 *
 * Words stream in as the page is parsed ({@link TextEmbedder}): memory stays
 * constant however long the page is, and no text is buffered.
 */

/** Dimensions of every embedding. A power of two: a hash's low bits pick the dimension. */
export const EMBEDDING_DIMENSIONS = 256;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const DIMENSION_MASK = EMBEDDING_DIMENSIONS - 1;

/** Slots of the per-text feature-count table (a power of two). */
const TABLE_BITS = 15;
const TABLE_SIZE = 1 << TABLE_BITS;
/** Distinct features counted before the table is full; later new ones weigh 1 each. */
const TABLE_LIMIT = (TABLE_SIZE * 3) / 4;

/**
 * 1 for the UTF-16 code units that belong to words: letters, marks and
 * digits of any script (and surrogates, so astral letters stay whole).
 */
const WORD = new Uint8Array(65_536);
for (let c = 0; c < 65_536; c++) {
  if (c >= 0xd800 && c <= 0xdfff) WORD[c] = 1;
  else if (/[\p{L}\p{M}\p{N}]/u.test(String.fromCharCode(c))) WORD[c] = 1;
}

/** MurmurHash3's 32-bit finaliser: spreads FNV-1a's bits so the low ones are as good as the high ones. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Adds a feature's weight to its dimension: low bits pick the dimension, the top bit the sign. */
function addWeight(sums: Float64Array, hash: number, weight: number): void {
  const d = hash & DIMENSION_MASK;
  sums[d] = (sums[d] as number) + (hash & 0x8000_0000 ? -weight : weight);
}

/**
 * Accumulates the features of a stream of text. `write` may split a word
 * anywhere (inline markup, chunk boundaries): a word ends only at a
 * non-word character or at {@link TextEmbedder.breakWord}.
 */
export class TextEmbedder {
  private readonly sums = new Float64Array(EMBEDDING_DIMENSIONS);
  /**
   * Open-addressing table of feature hashes (0 = empty) and their counts:
   * 256 KiB, allocated once per embedder and reused for every text.
   */
  private readonly keys = new Uint32Array(TABLE_SIZE);
  private readonly counts = new Uint32Array(TABLE_SIZE);
  /** The occupied slots, in insertion order: finishing and resetting touch only these. */
  private readonly occupied = new Uint32Array(TABLE_LIMIT);
  private distinct = 0;
  /** FNV-1a state of the word being read. */
  private hash = FNV_OFFSET;
  private wordLength = 0;
  /** Mixed hash of the previous word, for the bigram. */
  private previous = 0;
  private hasPrevious = false;
  private words = 0;

  /** Starts over for a new text. */
  reset(): void {
    this.sums.fill(0);
    for (let i = 0; i < this.distinct; i++) this.keys[this.occupied[i] as number] = 0;
    this.distinct = 0;
    this.hash = FNV_OFFSET;
    this.wordLength = 0;
    this.previous = 0;
    this.hasPrevious = false;
    this.words = 0;
  }

  /** Words fed so far. */
  get wordCount(): number {
    return this.words;
  }

  write(text: string): void {
    const lower = text.toLowerCase();
    let hash = this.hash;
    let length = this.wordLength;
    for (let i = 0; i < lower.length; i++) {
      const c = lower.charCodeAt(i);
      if (WORD[c] === 1) {
        hash = Math.imul(hash ^ c, FNV_PRIME);
        length++;
      } else if (length > 0) {
        this.addWord(hash);
        hash = FNV_OFFSET;
        length = 0;
      }
    }
    this.hash = hash;
    this.wordLength = length;
  }

  /** The text on either side is separate words (a block element starts or ends). */
  breakWord(): void {
    if (this.wordLength === 0) return;
    this.addWord(this.hash);
    this.hash = FNV_OFFSET;
    this.wordLength = 0;
  }

  /** The L2-normalised embedding of everything written, or undefined when no word was. */
  finish(): Float32Array | undefined {
    this.breakWord();
    // Weighted into a copy: finishing leaves the embedder as it was.
    const sums = Float64Array.from(this.sums);
    const { keys, counts, occupied } = this;
    for (let i = 0; i < this.distinct; i++) {
      const slot = occupied[i] as number;
      addWeight(sums, keys[slot] as number, 1 + Math.log(counts[slot] as number));
    }
    let norm = 0;
    for (const s of sums) norm += s * s;
    if (norm === 0) return undefined;
    norm = Math.sqrt(norm);
    const vector = new Float32Array(EMBEDDING_DIMENSIONS);
    for (let d = 0; d < EMBEDDING_DIMENSIONS; d++) vector[d] = (sums[d] as number) / norm;
    return vector;
  }

  private addWord(rawHash: number): void {
    const unigram = mix32(rawHash);
    this.addFeature(unigram);
    if (this.hasPrevious) this.addFeature(mix32((Math.imul(this.previous, FNV_PRIME) + unigram + 0x9e3779b9) | 0));
    this.previous = unigram;
    this.hasPrevious = true;
    this.words++;
  }

  /** Counts one occurrence of a feature. */
  private addFeature(hash: number): void {
    const key = hash === 0 ? 1 : hash;
    const { keys } = this;
    // Fibonacci hashing picks the first slot from the high bits; the dimension uses the low ones.
    for (let slot = Math.imul(key, 0x9e3779b1) >>> (32 - TABLE_BITS); ; slot = (slot + 1) & (TABLE_SIZE - 1)) {
      const present = keys[slot] as number;
      if (present === key) {
        this.counts[slot] = (this.counts[slot] as number) + 1;
        return;
      }
      if (present === 0) {
        if (this.distinct >= TABLE_LIMIT) break;
        keys[slot] = key;
        this.counts[slot] = 1;
        this.occupied[this.distinct++] = slot;
        return;
      }
    }
    // The table is full (a text with tens of thousands of distinct features): count this one as seen once.
    addWeight(this.sums, key, 1);
  }
}

/**
 * The embedding of `text`: {@link EMBEDDING_DIMENSIONS} floats, L2-normalised;
 * all zeros when the text has no words. Deterministic: the same text always
 * gives the same vector, on any machine.
 */
export function embedText(text: string): Float32Array {
  const embedder = new TextEmbedder();
  embedder.write(text);
  return embedder.finish() ?? new Float32Array(EMBEDDING_DIMENSIONS);
}

/** Cosine similarity of two vectors of the same length; 0 when either is all zeros. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`vectors differ in length: ${a.length} and ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
