import { describe, expect, it } from "vitest";
import { cosineSimilarity, EMBEDDING_DIMENSIONS, embedText, TextEmbedder } from "./embedding.js";

const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((sum, x) => sum + x * x, 0));

describe("embedText", () => {
  it("gives an L2-normalised vector of the fixed size", () => {
    const v = embedText("Crawlers fetch pages and follow their links.");
    expect(v).toBeInstanceOf(Float32Array);
    expect(v).toHaveLength(EMBEDDING_DIMENSIONS);
    expect(norm(v)).toBeCloseTo(1, 6);
  });

  it("is deterministic", () => {
    const text = "The same text always gives the same vector, on any machine.";
    expect(embedText(text)).toEqual(embedText(text));
    // Pinned: a change of tokeniser or hash changes every stored embedding and must be deliberate.
    const v = embedText("hello world");
    // Two unigrams and one bigram: three dimensions, each ±1/√3.
    const nonZero = Array.from(v).flatMap((x, d) => (x !== 0 ? [[d, Math.sign(x)]] : []));
    expect(nonZero).toEqual([
      [57, 1],
      [110, -1],
      [118, 1],
    ]);
    expect(v[57]).toBeCloseTo(1 / Math.sqrt(3), 6);
  });

  it.each([
    ["case", "Hello World", "hello world"],
    ["punctuation and spacing", "hello,   world!", "hello world"],
    ["accented capitals", "CAFÉ Über", "café über"],
  ])("ignores %s", (_name, a, b) => {
    expect(embedText(a)).toEqual(embedText(b));
  });

  it("tells word order apart through bigrams", () => {
    const similarity = cosineSimilarity(embedText("dog bites man"), embedText("man bites dog"));
    expect(similarity).toBeLessThan(0.99);
    expect(similarity).toBeGreaterThan(0.3);
  });

  it("gives zeros for text without words", () => {
    expect(Array.from(embedText(" … — !? "))).toEqual(new Array(EMBEDDING_DIMENSIONS).fill(0));
  });

  it("reads words of any script", () => {
    expect(norm(embedText("東京 Москва القاهرة"))).toBeCloseTo(1, 6);
    expect(cosineSimilarity(embedText("Москва"), embedText("москва"))).toBeCloseTo(1, 6);
  });
});

describe("TextEmbedder", () => {
  it("joins a word split across writes and splits at breakWord", () => {
    const joined = new TextEmbedder();
    joined.write("un");
    joined.write("believ");
    joined.write("able story");
    expect(joined.finish()).toEqual(embedText("unbelievable story"));
    const split = new TextEmbedder();
    split.write("one");
    split.breakWord();
    split.write("two");
    expect(split.finish()).toEqual(embedText("one two"));
  });

  it("counts words and resets", () => {
    const embedder = new TextEmbedder();
    embedder.write("three little words");
    embedder.breakWord();
    expect(embedder.wordCount).toBe(3);
    embedder.reset();
    expect(embedder.wordCount).toBe(0);
    expect(embedder.finish()).toBeUndefined();
  });
});

describe("cosineSimilarity", () => {
  it.each<[number[], number[], number]>([
    [[1, 0], [1, 0], 1],
    [[1, 0], [0, 1], 0],
    [[1, 0], [-1, 0], -1],
    [[3, 4], [6, 8], 1],
    [[0, 0], [1, 0], 0],
  ])("%j · %j = %d", (a, b, expected) => {
    expect(cosineSimilarity(a, b)).toBeCloseTo(expected, 10);
  });

  it("refuses vectors of different lengths", () => {
    expect(() => cosineSimilarity([1], [1, 2])).toThrow(RangeError);
  });
});
