import { describe, expect, it } from "vitest";
import { clockTime, eventDetail, eventLine } from "./event-line.js";
import { event } from "./test-support/jobs.js";

type Payload = Parameters<typeof event>[1];

describe("eventDetail", () => {
  it.each<[Payload, string]>([
    [{ started: { job: { spec: { urls: ["http://a/", "http://b/"] } } } }, "started crawl of http://a/ (+1 more)"],
    [{ started: { job: { scan: { path: "/data" } } } }, "started scan of /data"],
    [{ progress: { counters: { pagesDone: 3, pagesTotal: 9, successCount: 2, errorCount: 1 } } }, "progress 3/9 pages, 2 ok, 1 error"],
    [{ progress: {} }, "progress 0/0 pages, 0 ok, 0 errors"],
    [{ itemScraped: { url: "http://a/x", item: { title: "X marks" }, processingMs: 12 } }, 'item http://a/x "X marks" (12 ms)'],
    [{ itemScraped: { item: { url: "http://a/y" } } }, "item http://a/y (0 ms)"],
    [{ pageFailed: { url: "http://a/e", errorKind: "PAGE_ERROR_KIND_HTTP", httpStatus: 500, message: "HTTP 500" } }, "page failed http://a/e: http 500 (HTTP 500)"],
    [{ pageFailed: { url: "http://a/t", errorKind: "PAGE_ERROR_KIND_TOO_MANY_REDIRECTS" } }, "page failed http://a/t: too many redirects"],
    [{ pageSkipped: { url: "http://a/private", reason: "SKIP_REASON_ROBOTS" } }, "page skipped http://a/private (robots)"],
    [{ taskFinished: { url: "http://a/", pages: 5, items: 4, errors: 1 } }, "task finished http://a/: 5 pages, 4 items, 1 errors"],
    [{ taskFailed: { url: "http://a/", errorMessage: "DNS" } }, "task failed http://a/: DNS"],
    [{ paused: { counters: { pagesDone: 4, pagesTotal: 8, successCount: 4 } } }, "paused at 4/8 pages, 4 ok, 0 errors"],
    [{ resumed: { recovered: true } }, "resumed after a scraper restart at 0/0 pages, 0 ok, 0 errors"],
    [{ completed: { elapsedMs: 1500, counters: { pagesDone: 8, pagesTotal: 8, successCount: 7, errorCount: 1 } } }, "completed: 8/8 pages, 7 ok, 1 error in 1.5s"],
    [{ failed: { errorMessage: "every start URL failed", elapsedMs: 20 } }, "failed after 20ms: every start URL failed"],
    [{ cancelled: { reason: "enough", elapsedMs: 65_000 } }, "cancelled after 1m 05s (enough)"],
    [{ cancelled: {} }, "cancelled after 0ms"],
    [{ scanProgress: { scanned: 3, total: 10, currentPath: "/data/a" } }, "scanned 3/10 files (/data/a)"],
    [{ scanCompleted: { count: 10, totalSize: "2500" } }, "scan completed: 10 files, 2.5 kB"],
    [{}, "unknown event"],
  ])("%j reads %j", (payload, text) => {
    expect(eventDetail(event(1, payload))).toBe(text);
  });
});

describe("eventLine", () => {
  it("starts with the local time, the job id and the seq", () => {
    const line = eventLine(event(42, { paused: {} }));
    expect(line).toBe(`${clockTime("2025-11-22T07:00:05.000Z")} 7c9e6679-7425-40de-944b-e07fc1f90ae7 #42 paused at 0/0 pages, 0 ok, 0 errors`);
    expect(line).toMatch(/^\d\d:\d\d:\d\d /);
  });

  it("shows dashes for a missing or bad time", () => {
    expect(clockTime(undefined)).toBe("--:--:--");
    expect(clockTime("not a time")).toBe("--:--:--");
  });
});
