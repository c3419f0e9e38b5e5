/** Job and event values for unit tests, in the shapes the gateway sends. */
import type { JobEventJson } from "@trawl/proto";
import type { JobJson } from "../client.js";

export function jobJson(overrides: Partial<JobJson> = {}, counters: Partial<JobJson["counters"]> = {}): JobJson {
  return {
    job_id: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    kind: "crawl",
    platform: "web",
    status: "running",
    urls: ["http://example.com/"],
    depth: 2,
    max_pages: 100,
    created_at: "2025-11-22T07:00:00.000Z",
    started_at: "2025-11-22T07:00:00.100Z",
    finished_at: null,
    error: null,
    scan: null,
    counters: {
      pages_done: 10,
      pages_total: 40,
      success_count: 9,
      error_count: 1,
      items: 9,
      bytes: 90_000,
      processing_ms_total: 500,
      retries: 0,
      skipped: {},
      errors_by_kind: { http_4xx: 1 },
      p95_page_ms: 80,
      near_duplicates: 0,
      files: 0,
      total_size: 0,
      avg_page_ms: 50,
      pages_per_second: 5,
      ...counters,
    },
    elapsed_seconds: 2,
    last_seq: 20,
    scraper: "127.0.0.1:50051",
    ...overrides,
  };
}

export function event(seq: number, payload: Omit<JobEventJson, "jobId" | "seq" | "offset" | "time">): JobEventJson {
  return { jobId: "7c9e6679-7425-40de-944b-e07fc1f90ae7", seq: String(seq), offset: String(1000 + seq), time: "2025-11-22T07:00:05.000Z", ...payload };
}
