import { PageErrorKind } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { errorKey, PageTimeHistogram } from "./crawl-stats.js";

describe("errorKey", () => {
  it.each<[PageErrorKind, number, string]>([
    [PageErrorKind.HTTP, 404, "http_4xx"],
    [PageErrorKind.HTTP, 429, "http_4xx"],
    [PageErrorKind.HTTP, 301, "http_4xx"],
    [PageErrorKind.HTTP, 500, "http_5xx"],
    [PageErrorKind.HTTP, 503, "http_5xx"],
    [PageErrorKind.TIMEOUT, 0, "timeout"],
    [PageErrorKind.NETWORK, 0, "network"],
    [PageErrorKind.DNS, 0, "dns"],
    [PageErrorKind.NOT_HTML, 200, "not_html"],
    [PageErrorKind.TOO_LARGE, 200, "too_large"],
    [PageErrorKind.TOO_MANY_REDIRECTS, 302, "too_many_redirects"],
    [PageErrorKind.BLOCKED_ADDRESS, 0, "blocked_address"],
    [PageErrorKind.INVALID_URL, 0, "invalid_url"],
  ])("kind %i, status %i → %s", (kind, status, expected) => {
    expect(errorKey(kind, status)).toBe(expected);
  });
});

describe("PageTimeHistogram", () => {
  it("answers 0 before any page", () => {
    expect(new PageTimeHistogram().percentile(0.95)).toBe(0);
  });

  it("is exact below one second (nearest rank)", () => {
    const histogram = new PageTimeHistogram();
    for (let ms = 1; ms <= 100; ms++) histogram.add(ms);
    expect(histogram.count).toBe(100);
    expect(histogram.percentile(0.95)).toBe(95);
    expect(histogram.percentile(0.5)).toBe(50);
    expect(histogram.percentile(1)).toBe(100);
  });

  it("answers a single page's time", () => {
    const histogram = new PageTimeHistogram();
    histogram.add(12.4);
    expect(histogram.percentile(0.95)).toBe(12);
  });

  it("stays within a bucket's width for slow pages and never above the slowest", () => {
    const histogram = new PageTimeHistogram();
    for (let i = 0; i < 94; i++) histogram.add(10);
    for (let i = 0; i < 6; i++) histogram.add(2_345);
    expect(histogram.percentile(0.95)).toBe(2_345);
    const slow = new PageTimeHistogram();
    for (let i = 0; i < 20; i++) slow.add(45_678 + i);
    expect(slow.percentile(0.95)).toBeGreaterThanOrEqual(45_678);
    expect(slow.percentile(0.95)).toBeLessThanOrEqual(45_697);
    const huge = new PageTimeHistogram();
    huge.add(500_000);
    expect(huge.percentile(0.95)).toBe(500_000);
  });
});
