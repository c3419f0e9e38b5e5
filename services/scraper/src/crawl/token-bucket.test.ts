import { describe, expect, it } from "vitest";
import { TokenBucket } from "./token-bucket.js";

describe("TokenBucket", () => {
  it("hands out one token per 1000 / rate ms and says how long to wait for the next", () => {
    let now = 0;
    const bucket = new TokenBucket(4, 1, () => now);
    expect(bucket.tryTake()).toBe(0);
    expect(bucket.tryTake()).toBe(250);
    now = 100;
    expect(bucket.tryTake()).toBe(150);
    now = 250;
    expect(bucket.tryTake()).toBe(0);
    expect(bucket.tryTake()).toBe(250);
  });

  it("saves up to its capacity while idle, no more", () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    now = 60_000;
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([0, 0, 0]);
    expect(bucket.tryTake()).toBe(100);
  });

  it("handles fractional rates", () => {
    let now = 0;
    const bucket = new TokenBucket(0.5, 1, () => now);
    expect(bucket.tryTake()).toBe(0);
    expect(bucket.tryTake()).toBe(2000);
    now = 2000;
    expect(bucket.tryTake()).toBe(0);
  });

  it.each([[0], [-1], [Number.NaN]])("refuses a rate of %d", (rate) => {
    expect(() => new TokenBucket(rate)).toThrow(RangeError);
  });
});
