import { create } from "@bufbuild/protobuf";
import { CrawlSpecSchema, Platform } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import type { CrawlConfig } from "../config.js";
import type { ResolvedCrawl } from "../jobs/job-service.js";
import { estimateSeconds, validateCrawlSpec } from "./validate-crawl-spec.js";

function crawl(depth: number, maxPages: number, concurrency: number, urls = 1): ResolvedCrawl {
  const startUrls = Array.from({ length: urls }, (_, i) => `http://127.0.0.1/${i}`);
  return { spec: create(CrawlSpecSchema, { urls: startUrls, depth, maxPages, concurrency }), startUrls, platform: Platform.WEB };
}

describe("estimateSeconds", () => {
  it.each([
    { name: "depth 0 counts only the start URLs", c: crawl(0, 1000, 8, 4), measured: undefined, expected: 1 },
    { name: "assumes half a second a page before anything was measured", c: crawl(2, 160, 8), measured: undefined, expected: 10 },
    { name: "uses the measured mean page time", c: crawl(2, 1000, 10), measured: { pages: 100n, processingMsTotal: 5_000n }, expected: 5 },
    { name: "ignores a measurement of zero pages", c: crawl(1, 16, 8), measured: { pages: 0n, processingMsTotal: 0n }, expected: 1 },
    { name: "never answers less than one second", c: crawl(1, 10, 8), measured: { pages: 1_000n, processingMsTotal: 1_000n }, expected: 1 },
  ])("$name", ({ c, measured, expected }) => {
    expect(estimateSeconds(c, measured)).toBe(expected);
  });
});

describe("validateCrawlSpec: politeness overrides", () => {
  const limits: CrawlConfig = {
    maxPages: 1000,
    maxPagesLimit: 100_000,
    maxDepth: 10,
    concurrency: 8,
    requestTimeoutMs: 10_000,
    maxDurationMs: 600_000,
    maxBodyBytes: 5_242_880,
    userAgent: "trawl-test",
    respectRobots: true,
    perHostConcurrency: 2,
    perHostDelayMs: 250,
    globalRatePerSec: 0,
    maxRetries: 2,
    retryBaseMs: 500,
    retryMaxMs: 30_000,
    allowAddresses: [],
  };
  const validate = (init: Record<string, unknown>, config = limits) => validateCrawlSpec(create(CrawlSpecSchema, { urls: ["http://example.com/"], ...init }), config);

  it.each([
    [{ perHostConcurrency: 0 }, "crawl.per_host_concurrency", "must be from 1 to 64"],
    [{ perHostConcurrency: 65 }, "crawl.per_host_concurrency", "must be from 1 to 64"],
    [{ perHostDelayMs: 60_001 }, "crawl.per_host_delay_ms", "must be at most 60000"],
    [{ maxRetries: 11 }, "crawl.max_retries", "must be at most 10"],
  ])("refuses %j, naming %s", (init, field, message) => {
    expect(validate(init)).toEqual({ ok: false, field, message });
  });

  it("resolves unset overrides to the configured defaults", () => {
    const result = validate({});
    expect(result.ok && result.crawl.spec).toMatchObject({ ignoreRobots: false, perHostConcurrency: 2, perHostDelayMs: 250, maxRetries: 2 });
  });

  it("keeps the request's own values, 0 delay and 0 retries included", () => {
    const result = validate({ perHostConcurrency: 64, perHostDelayMs: 0, maxRetries: 0, ignoreRobots: true });
    expect(result.ok && result.crawl.spec).toMatchObject({ ignoreRobots: true, perHostConcurrency: 64, perHostDelayMs: 0, maxRetries: 0 });
    const edge = validate({ perHostConcurrency: 1, perHostDelayMs: 60_000, maxRetries: 10 });
    expect(edge.ok).toBe(true);
  });

  it("refuses a duration over CRAWL_MAX_DURATION_LIMIT_MS, or over 24 hours when it is unset", () => {
    expect(validate({ maxDurationMs: 60_001 }, { ...limits, maxDurationLimitMs: 60_000 })).toEqual({ ok: false, field: "crawl.max_duration_ms", message: "must be at most 60000" });
    expect(validate({ maxDurationMs: 60_000 }, { ...limits, maxDurationLimitMs: 60_000 }).ok).toBe(true);
    expect(validate({ maxDurationMs: 86_400_001 })).toEqual({ ok: false, field: "crawl.max_duration_ms", message: "must be at most 86400000" });
  });

  it.each([
    ["a URL with credentials", "http://user:pass@example.com/", "must not carry credentials (user:password@)"],
    ["a URL with a user name", "https://user@example.com/", "must not carry credentials (user:password@)"],
    ["a 10 KB URL", `http://example.com/${"a".repeat(10_240)}`, "must be at most 8192 characters"],
    ["a file: URL", "file:///etc/passwd", "must be an http or https URL"],
  ])("refuses %s as a start URL, naming it", (_name, url, message) => {
    expect(validate({ urls: ["http://example.com/", url] })).toEqual({ ok: false, field: "crawl.urls[1]", message });
  });

  it("ignores robots.txt for every job when the scraper is configured not to respect it", () => {
    const result = validate({}, { ...limits, respectRobots: false });
    expect(result.ok && result.crawl.spec.ignoreRobots).toBe(true);
  });
});
