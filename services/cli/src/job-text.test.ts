import { describe, expect, it } from "vitest";
import { countsText, jobDetails, jobSummary, listRow, targetText } from "./job-text.js";
import { jobJson } from "./test-support/jobs.js";

const done = jobJson(
  { status: "completed", finished_at: "2025-11-22T07:00:10.100Z", elapsed_seconds: 10 },
  { pages_done: 40, pages_total: 40, success_count: 38, error_count: 2, items: 38, bytes: 1_234_000, pages_per_second: 4, errors_by_kind: { http_4xx: 1, timeout: 1 } },
);

describe("jobSummary", () => {
  it("leads with the outcome and lists the true counters", () => {
    expect(jobSummary(done)).toEqual([
      `Job ${done.job_id} completed in 10s`,
      "  pages  40 done of 40, 38 ok, 2 errors",
      "  items  38 (1.2 MB fetched)",
      "  rate   4.0 pages/s",
      "  errors http_4xx: 1, timeout: 1",
    ]);
  });

  it("gives a failure's message and a cancellation's reason", () => {
    expect(jobSummary(jobJson({ status: "failed", error: "every start URL failed: http://x/ (HTTP 404)", elapsed_seconds: 0.2 }))[0]).toBe(
      "Job 7c9e6679-7425-40de-944b-e07fc1f90ae7 failed after 200ms: every start URL failed: http://x/ (HTTP 404)",
    );
    expect(jobSummary(jobJson({ status: "cancelled", error: "enough" }))[0]).toMatch(/cancelled after 2\.0s \(enough\)$/);
    expect(jobSummary(jobJson({ status: "cancelled", error: null }))[0]).toMatch(/cancelled after 2\.0s$/);
  });

  it("counts files and their size for a scan", () => {
    const scan = jobJson({ kind: "scan", status: "completed", scan: { path: "/data", recursive: true, max_files: 0 } }, { pages_done: 3, pages_total: 3, success_count: 3, error_count: 0, files: 3, total_size: 2500, errors_by_kind: {} });
    expect(jobSummary(scan).slice(1)).toEqual(["  files  3 done of 3, 3 ok, 0 errors", "  size   2.5 kB", "  rate   5.0 files/s"]);
  });
});

describe("jobDetails", () => {
  it("aligns labelled values and leaves out what is empty", () => {
    const lines = jobDetails(done);
    expect(lines[0]).toBe(`id          ${done.job_id}`);
    expect(lines).toContain("status      completed");
    expect(lines).toContain("pages       40 done of 40, 38 ok, 2 errors");
    expect(lines).toContain("errors      http_4xx: 1, timeout: 1");
    expect(lines.some((line) => line.startsWith("skipped"))).toBe(false);
    expect(lines.some((line) => line.startsWith("error "))).toBe(false);
  });

  it("puts each URL of a batch on its own line", () => {
    const lines = jobDetails(jobJson({ urls: ["http://a/", "http://b/"] }));
    const at = lines.findIndex((line) => line.startsWith("urls"));
    expect(lines.slice(at, at + 2)).toEqual(["urls        http://a/", "            http://b/"]);
  });
});

describe("list rows", () => {
  it("hold id, status, platform, pages, errors, start time and URL", () => {
    expect(listRow(done)).toEqual([done.job_id, "completed", "web", "40/40", "2", "2025-11-22 07:00:00Z", "http://example.com/"]);
  });

  it("name the first URL of a batch and the path of a scan", () => {
    expect(targetText(jobJson({ urls: ["http://a/", "http://b/", "http://c/"] }))).toBe("http://a/ (+2 more)");
    expect(targetText(jobJson({ kind: "scan", scan: { path: "/data", recursive: false, max_files: 0 } }))).toBe("/data");
    expect(targetText(jobJson({ urls: [] }))).toBe("-");
  });

  it("say 1 error", () => {
    expect(countsText(jobJson({}, { error_count: 1 }))).toBe("10 done of 40, 9 ok, 1 error");
  });
});
