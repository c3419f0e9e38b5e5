import { describe, expect, it } from "vitest";
import { embedText } from "./embedding.js";
import { hammingDistance, simhash } from "./simhash.js";

describe("simhash", () => {
  it("is deterministic and pinned", () => {
    const v = embedText("a fixed sentence for a fixed signature");
    expect(simhash(v)).toEqual(simhash(Float32Array.from(v)));
    // Pinned: stored signatures stay comparable only while this does not change.
    expect(simhash(v)).toEqual({ hi: 0xf6f7da0d, lo: 0x7526610e });
  });

  it("ignores the vector's length, only its direction counts", () => {
    const v = embedText("scale does not matter");
    expect(simhash(v.map((x) => x * 7))).toEqual(simhash(v));
  });

  it("puts similar vectors a few bits apart and unrelated ones about half", () => {
    const base = "the crawler fetched every page of the site and extracted the items it found there ".repeat(4);
    const near = hammingDistance(simhash(embedText(base)), simhash(embedText(`${base} one more line`)));
    const far = hammingDistance(simhash(embedText(base)), simhash(embedText("completely different words about cooking pasta with tomatoes and basil")));
    expect(near).toBeLessThan(12);
    expect(far).toBeGreaterThan(16);
  });
});

describe("hammingDistance", () => {
  it.each([
    [{ hi: 0, lo: 0 }, { hi: 0, lo: 0 }, 0],
    [{ hi: 0xffffffff, lo: 0xffffffff }, { hi: 0, lo: 0 }, 64],
    [{ hi: 1, lo: 0x80000000 }, { hi: 0, lo: 0 }, 2],
  ])("%j vs %j → %d", (a, b, expected) => {
    expect(hammingDistance(a, b)).toBe(expected);
  });
});
