import { describe, expect, it } from "vitest";
import { cosineSimilarity, EMBEDDING_DIMENSIONS, embedText } from "./embedding.js";
import { DEFAULT_DUPLICATE_THRESHOLD, NearDuplicateIndex } from "./near-duplicates.js";
import { PageExtractor } from "./page-extractor.js";

/** A seeded generator (mulberry32): the same pages on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SYLLABLES = ["ka", "lo", "mi", "ter", "shan", "po", "ru", "vel", "dis", "an", "gre", "tho", "un", "bal", "cor", "fen"];

/** A vocabulary of pseudo-words; low indexes are drawn far more often, as in real text. */
function vocabulary(size: number, next: () => number): string[] {
  const words = new Set<string>(["the", "of", "and", "to", "in", "a", "is", "that", "for", "it"]);
  while (words.size < size) {
    let word = "";
    for (let n = 1 + Math.floor(next() * 4); n > 0; n--) word += SYLLABLES[Math.floor(next() * SYLLABLES.length)];
    words.add(word);
  }
  return [...words];
}

function article(words: string[], next: () => number, length: number): string {
  const sentences: string[] = [];
  for (let n = 0; n < length; ) {
    const sentence: string[] = [];
    for (let k = 6 + Math.floor(next() * 12); k > 0; k--, n++) sentence.push(words[Math.floor(words.length * next() ** 3)] as string);
    sentences.push(`${sentence.join(" ")}.`);
  }
  return sentences.join(" ");
}

/** A blog page: the site's navigation and footer around one article. */
function page(body: string, dateLine: string): string {
  const nav = ["Home", "Blog", "Docs", "Pricing", "About", "Careers", "Contact", "Status", "Security", "Changelog"].map((name) => `<a href="/${name.toLowerCase()}">${name}</a>`).join("");
  return `<!DOCTYPE html><html><head><title>Blog | Example</title><script>var analytics = {};</script></head><body>
<header><nav>${nav}</nav><form><input name="q"><button>Search</button></form></header>
<main><article><p class="meta">${dateLine}</p>${body
    .split(". ")
    .map((sentence) => `<p>${sentence}.</p>`)
    .join("")}</article></main>
<footer><p>Example Ltd. All rights reserved. Made with care in a small office by the river. Subscribe to our newsletter for monthly updates.</p>
<a href="/privacy">Privacy</a><a href="/terms">Terms</a></footer></body></html>`;
}

function embedPage(html: string): Float32Array {
  const extractor = new PageExtractor({ embeddings: true });
  extractor.reset("https://example.com/blog/post");
  extractor.write(html);
  const vector = extractor.end().embedding;
  if (vector === undefined) throw new Error("page without text");
  return vector;
}

describe("NearDuplicateIndex", () => {
  const next = random(42);
  const words = vocabulary(3000, next);
  const first = article(words, next, 350);
  const second = article(words, next, 350);

  it.each<[string, string, string, boolean]>([
    ["an identical page", page(first, "Published 3 March 2025"), page(first, "Published 3 March 2025"), true],
    ["the same article with a changed date line", page(first, "Published 3 March 2025 · Updated 4 March 2025"), page(first, "Published 3 March 2025 · Updated 19 November 2025"), true],
    ["the same article with one sentence added", page(first, "Published 3 March 2025"), page(`${first} An editor's note was added at the end of the article.`, "Published 3 March 2025"), true],
    ["another article in the same template", page(first, "Published 3 March 2025"), page(second, "Published 3 March 2025"), false],
  ])("%s → duplicate: %s", (_name, earlier, later, duplicate) => {
    const index = new NearDuplicateIndex();
    expect(index.check("first", embedPage(earlier))).toBeUndefined();
    expect(index.check("second", embedPage(later))).toBe(duplicate ? "first" : undefined);
  });

  it("flags exactly the pairs at or above the threshold, on a sweep of edit sizes", () => {
    const rng = random(11);
    const sentence = () => article(words, rng, 6 + Math.floor(rng() * 12));
    const base = Array.from({ length: 30 }, sentence);
    const outcomes: { similarity: number; flagged: boolean }[] = [];
    for (let edits = 0; edits <= 4; edits++) {
      for (let trial = 0; trial < 20; trial++) {
        const edited = [...base];
        for (let e = 0; e < edits; e++) edited[Math.floor(rng() * edited.length)] = sentence();
        const a = embedText(base.join(" "));
        const b = embedText(edited.join(" "));
        const index = new NearDuplicateIndex();
        index.check("a", a);
        outcomes.push({ similarity: cosineSimilarity(a, b), flagged: index.check("b", b) === "a" });
      }
    }
    const above = outcomes.filter((o) => o.similarity >= DEFAULT_DUPLICATE_THRESHOLD);
    expect(above.length, "the sweep has pairs on both sides of the threshold").toBeGreaterThan(10);
    expect(outcomes.length - above.length).toBeGreaterThan(10);
    expect(outcomes.filter((o) => o.flagged !== o.similarity >= DEFAULT_DUPLICATE_THRESHOLD)).toEqual([]);
  });

  it("honours a custom threshold", () => {
    const a = embedText(first);
    const sentences = first.split(". ");
    sentences[3] = "A replaced sentence with entirely new words in it";
    sentences[9] = "Another replacement that the original did not have";
    const b = embedText(sentences.join(". "));
    const similarity = cosineSimilarity(a, b);
    expect(similarity).toBeGreaterThan(0.9);
    expect(similarity).toBeLessThan(0.99);
    const strict = new NearDuplicateIndex({ threshold: 0.995 });
    strict.check("a", a);
    expect(strict.check("b", b)).toBeUndefined();
    const loose = new NearDuplicateIndex({ threshold: 0.9 });
    loose.check("a", a);
    expect(loose.check("b", b)).toBe("a");
  });

  it("is deterministic: the same pages give the same flags", () => {
    const run = () => {
      const index = new NearDuplicateIndex();
      return [first, second, first, `${second} more`].map((text, i) => index.check(`p${i}`, embedText(text)));
    };
    expect(run()).toEqual([undefined, undefined, "p0", "p1"]);
    expect(run()).toEqual(run());
  });

  it("names the earliest earlier item when several match", () => {
    const index = new NearDuplicateIndex();
    index.check("original", embedText(first));
    index.check("copy", embedText(first));
    expect(index.check("third", embedText(first))).toBe("original");
  });

  it("neither flags nor indexes a page without text", () => {
    const index = new NearDuplicateIndex();
    const zeros = new Float32Array(EMBEDDING_DIMENSIONS);
    expect(index.check("empty-1", zeros)).toBeUndefined();
    expect(index.check("empty-2", zeros)).toBeUndefined();
    expect(index.size).toBe(0);
  });

  it("indexes without checking when rebuilding a resumed job's index", () => {
    const index = new NearDuplicateIndex();
    index.add("stored", embedText(first));
    expect(index.size).toBe(1);
    expect(index.check("new", embedText(first))).toBe("stored");
  });

  it("takes proto embeddings (number[]) as well as Float32Array", () => {
    const index = new NearDuplicateIndex();
    index.check("a", Array.from(embedText(first)));
    expect(index.check("b", embedText(first))).toBe("a");
  });

  it.each([0, -0.5, 1.5, Number.NaN])("refuses a threshold of %d", (threshold) => {
    expect(() => new NearDuplicateIndex({ threshold })).toThrow(RangeError);
  });

  it("refuses an embedding of another size", () => {
    expect(() => new NearDuplicateIndex().check("a", new Float32Array(8))).toThrow(RangeError);
  });

  it("handles 5,000 pages: every planted near-duplicate found, no false flag, a small fraction of pairs compared", () => {
    const rng = random(7);
    const vocab = vocabulary(5000, rng);
    const template = "Home Blog Docs Pricing About Careers Contact Status Search Example Ltd. All rights reserved. Subscribe to our newsletter.";
    const articles: string[] = [];
    const index = new NearDuplicateIndex();
    const expected = new Map<string, string | undefined>();
    const actual = new Map<string, string | undefined>();
    for (let i = 0; i < 5000; i++) {
      const id = `page-${i}`;
      let text: string;
      if (i >= 100 && i % 20 === 0) {
        // A copy of an earlier page with its date line changed and one word swapped.
        const source = Math.floor(rng() * articles.length);
        text = (articles[source] as string).replace(/^Published \d+/, `Published ${i}`).replace(/\b(\w+)\.$/, "changed.");
        expected.set(id, `page-${source}`);
      } else {
        text = `Published ${i} ${article(vocab, rng, 200 + Math.floor(rng() * 300))}`;
        expected.set(id, undefined);
      }
      articles.push(text);
      actual.set(id, index.check(id, embedText(`${template} ${text}`)));
    }
    // A copy of a copy may name the first page of the chain: follow the expected chain to its root.
    const root = (id: string | undefined): string | undefined => {
      let current = id;
      while (current !== undefined && expected.get(current) !== undefined) current = expected.get(current);
      return current;
    };
    const mismatches = [...expected].filter(([id, original]) => root(actual.get(id)) !== root(original) || (original === undefined) !== (actual.get(id) === undefined));
    expect(mismatches).toEqual([]);
    const pairs = (5000 * 4999) / 2;
    // Measured: ~0.8% of the pairs (all-pairs would be 100%).
    expect(index.comparisons / pairs, "exact cosines computed, as a share of all pairs").toBeLessThan(0.02);
  });
});
