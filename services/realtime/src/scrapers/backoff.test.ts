import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";

describe("backoffDelay", () => {
  it.each([
    [0, 0, 50],
    [0, 0.999999, 100],
    [1, 0, 100],
    [3, 0.5, 600],
    [6, 0, 2_500],
    [6, 0.999999, 5_000],
    [50, 0, 2_500],
    [50, 0.999999, 5_000],
  ])("attempt %i with random %f waits %i ms", (attempt, random, expected) => {
    expect(backoffDelay(attempt, DEFAULT_BACKOFF, () => random)).toBe(expected);
  });
});
