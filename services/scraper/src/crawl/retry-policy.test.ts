import { PageErrorKind } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { isRetryable, parseRetryAfter, retryDelay } from "./retry-policy.js";

describe("isRetryable", () => {
  it.each<[string, PageErrorKind, number, boolean]>([
    ["429", PageErrorKind.HTTP, 429, true],
    ["500", PageErrorKind.HTTP, 500, true],
    ["503", PageErrorKind.HTTP, 503, true],
    ["599", PageErrorKind.HTTP, 599, true],
    ["404", PageErrorKind.HTTP, 404, false],
    ["403", PageErrorKind.HTTP, 403, false],
    ["a redirect without Location", PageErrorKind.HTTP, 301, false],
    ["a timeout", PageErrorKind.TIMEOUT, 0, true],
    ["a network error", PageErrorKind.NETWORK, 0, true],
    ["a DNS failure", PageErrorKind.DNS, 0, false],
    ["a blocked address", PageErrorKind.BLOCKED_ADDRESS, 0, false],
    ["an invalid URL", PageErrorKind.INVALID_URL, 0, false],
    ["a non-HTML page", PageErrorKind.NOT_HTML, 200, false],
    ["a body too large", PageErrorKind.TOO_LARGE, 200, false],
    ["a redirect loop", PageErrorKind.TOO_MANY_REDIRECTS, 302, false],
  ])("%s → %s", (_name, kind, status, expected) => {
    expect(isRetryable(kind, status)).toBe(expected);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  it.each<[string | undefined, number | undefined]>([
    ["120", 120_000],
    [" 0 ", 0],
    ["Wed, 01 Jan 2025 00:00:30 GMT", 30_000],
    ["Tue, 31 Dec 2024 23:00:00 GMT", 0],
    ["-5", undefined],
    ["1.5", undefined],
    ["soon", undefined],
    ["", undefined],
    [undefined, undefined],
  ])("%j → %j ms", (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe("retryDelay", () => {
  const policy = (random: number) => ({ maxRetries: 5, baseMs: 500, maxMs: 30_000, random: () => random });

  it.each([
    [0, 0.5, 250],
    [1, 0.5, 500],
    [2, 0.5, 1000],
    [3, 0.999, 3996],
    [10, 0.5, 15_000],
    [0, 0, 0],
  ])("attempt %i with random %d waits %i ms (full jitter, capped)", (attempt, random, expected) => {
    expect(retryDelay(attempt, policy(random))).toBe(expected);
  });

  it("honours Retry-After instead of the backoff, capped by the maximum", () => {
    expect(retryDelay(0, policy(0.5), 2_000)).toBe(2_000);
    expect(retryDelay(3, policy(0.5), 0)).toBe(0);
    expect(retryDelay(0, policy(0.5), 3_600_000)).toBe(30_000);
  });
});
