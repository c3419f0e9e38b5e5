import { create } from "@bufbuild/protobuf";
import { CrawlSpecSchema, Platform } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import type { ResolvedCrawl } from "../jobs/job-service.js";
import { estimateSeconds } from "./validate-crawl-spec.js";

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
