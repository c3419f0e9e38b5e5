/**
 * The reducer on a Svelte `$state` proxy, as the app runs it (this file is
 * compiled with runes), and on a plain object.
 */
import { describe, expect, it } from "vitest";
import type { JobEventJson, JobJson, Overview } from "./api-types.js";
import { applyEvent, applyJob, applyOverview, emptyLiveData, MAX_PREVIEWS, type LiveData } from "./live-reducer.js";

const JOB = "job-1";
let seq = 0;

function event(kind: Omit<JobEventJson, "jobId" | "seq" | "offset" | "time">, jobId = JOB): JobEventJson {
  seq += 1;
  return { jobId, seq: String(seq), offset: String(seq), time: new Date(1_700_000_000_000 + seq * 1000).toISOString(), ...kind };
}

function started(jobId = JOB): JobEventJson {
  return event({ started: { job: { id: jobId, kind: "JOB_KIND_CRAWL", platform: "PLATFORM_TWITTER", status: "JOB_STATUS_RUNNING", spec: { urls: ["https://x.test/a"] }, startedAt: "2023-11-14T22:13:20.123456789Z" } } }, jobId);
}

/** jobs.get's answer for the running test job, with `overrides`. */
function snapshotJob(overrides: { last_seq: number; counters: Partial<JobJson["counters"]> }): JobJson {
  const counters = { pages_done: 0, pages_total: 0, success_count: 0, error_count: 0, items: 0, bytes: 0, processing_ms_total: 0, retries: 0, skipped: {}, errors_by_kind: {}, p95_page_ms: 0, near_duplicates: 0, files: 0, total_size: 0, avg_page_ms: 0, pages_per_second: 0 };
  return {
    job_id: JOB,
    kind: "crawl",
    platform: "twitter",
    status: "running",
    urls: ["https://x.test/a"],
    depth: 1,
    max_pages: 100,
    created_at: null,
    started_at: "2023-11-14T22:13:20.123Z",
    finished_at: null,
    error: null,
    scan: null,
    counters: { ...counters, ...overrides.counters },
    elapsed_seconds: 1,
    last_seq: overrides.last_seq,
    scraper: "127.0.0.1:50051",
  };
}

function reactive(): LiveData {
  const data = $state(emptyLiveData());
  return data;
}

const makers: Array<[string, () => LiveData]> = [
  ["a $state proxy", reactive],
  ["a plain object", emptyLiveData],
];

describe.each(makers)("applyEvent on %s", (_name, make) => {
  it("keeps every page failure of a job, the first one included", () => {
    const data = make();
    applyEvent(data, started(), 0);
    for (const url of ["https://x.test/404", "https://x.test/slow"]) {
      applyEvent(data, event({ pageFailed: { url, errorKind: "PAGE_ERROR_KIND_HTTP", httpStatus: 404, message: "HTTP 404", counters: { pagesDone: 1, errorCount: 1 } } }), 0);
    }
    expect(data.jobErrors[JOB]?.map((entry) => entry.url)).toEqual(["https://x.test/slow", "https://x.test/404"]);
    expect(data.errors.map((entry) => entry.kind)).toEqual(["http", "http"]);
  });

  it("shows items newest first, up to the limit, with the job's platform and numbers from 64-bit strings", () => {
    const data = make();
    applyEvent(data, started(), 0);
    for (let i = 0; i < MAX_PREVIEWS + 5; i++) {
      applyEvent(data, event({ itemScraped: { item: { id: `i${i}`, url: `https://x.test/${i}`, title: `Post ${i}`, likes: "1200", author: "@ann" }, counters: { pagesDone: i + 1, successCount: i + 1 } } }), 0);
    }
    expect(data.previews).toHaveLength(MAX_PREVIEWS);
    expect(data.jobPreviews[JOB]).toHaveLength(MAX_PREVIEWS);
    expect(data.previews[0]).toMatchObject({ platform: "twitter", item: { title: `Post ${MAX_PREVIEWS + 4}`, likes: 1200, author: "@ann" } });
    expect(data.previews[0]?.item).not.toHaveProperty("views");
    expect(data.jobs[JOB]?.currentItem?.title).toBe(`Post ${MAX_PREVIEWS + 4}`);
  });

  it("still shows the previews and errors of events that arrive after a newer snapshot of their job", () => {
    const data = make();
    applyEvent(data, started(), 0);
    const failure = event({ pageFailed: { url: "https://x.test/gone", errorKind: "PAGE_ERROR_KIND_HTTP", httpStatus: 404, message: "HTTP 404", counters: { pagesDone: 1, pagesTotal: 5, errorCount: 1 } } });
    const scraped = event({ itemScraped: { item: { id: "i1", url: "https://x.test/1", title: "One" }, counters: { pagesDone: 2, pagesTotal: 5, successCount: 1, errorCount: 1 } } });
    // The job page fetched jobs.get while those two events were still on their way.
    applyJob(data, snapshotJob({ last_seq: Number(scraped.seq) + 3, counters: { pages_done: 6, pages_total: 9, success_count: 4, error_count: 2, items: 4 } }), false);
    applyEvent(data, failure, 0);
    applyEvent(data, scraped, 0);
    expect(data.jobErrors[JOB]?.map((entry) => entry.url)).toEqual(["https://x.test/gone"]);
    expect(data.jobPreviews[JOB]?.map((preview) => preview.item.id)).toEqual(["i1"]);
    // The snapshot's newer numbers stand.
    expect(data.jobs[JOB]).toMatchObject({ pagesDone: 6, pagesTotal: 9, successCount: 4 });
    // A repeat of an applied event still changes nothing.
    applyEvent(data, scraped, 0);
    expect(data.jobPreviews[JOB]).toHaveLength(1);
  });

  it("follows a job through pause, resume and completion, ignoring a repeated event", () => {
    const data = make();
    applyEvent(data, started(), 0);
    applyEvent(data, event({ progress: { counters: { pagesDone: 3, pagesTotal: 9, successCount: 3 } } }), 0);
    applyEvent(data, event({ paused: { counters: { pagesDone: 4, pagesTotal: 9, successCount: 4 } } }), 0);
    expect(data.jobs[JOB]).toMatchObject({ status: "paused", pagesDone: 4, pagesTotal: 9 });
    const resumed = event({ resumed: {} });
    applyEvent(data, resumed, 0);
    applyEvent(data, event({ completed: { counters: { pagesDone: 8, pagesTotal: 8, successCount: 7, errorCount: 1 }, elapsedMs: 4000 } }), 0);
    applyEvent(data, resumed, 0);
    expect(data.jobs[JOB]).toMatchObject({ status: "completed", pagesDone: 8, pagesTotal: 8, successCount: 7, errorCount: 1 });
    expect(data.jobs[JOB]?.finishedAtMs).not.toBeNull();
    expect(data.pinned).toEqual([JOB]);
  });

  it("asks for the job when an event names one it has no card for", () => {
    const data = make();
    expect(applyEvent(data, event({ progress: { counters: { pagesDone: 1 } } }, "other"), 0)).toBe("unknown-job");
    expect(data.jobs).toEqual({});
  });
});

describe("applyOverview", () => {
  const overview = (pagesDone: number, status: "processing" | "paused", at: string): Overview => ({
    at,
    active_jobs: [
      { job_id: JOB, platform: "web", status, items_scraped: pagesDone, items_total: 20, success_count: pagesDone, error_count: 0, started_at: "2023-11-14T22:13:00.000Z", elapsed_seconds: 5, url: "https://x.test/", current_item: null },
    ],
    platform_stats: {},
    recent_previews: [
      { job_id: JOB, platform: "web", item: { id: "old", url: "https://x.test/old", word_count: 1, links_found: 0, depth: 0 }, at },
      { job_id: JOB, platform: "web", item: { id: "new", url: "https://x.test/new", word_count: 1, links_found: 0, depth: 0 }, at },
    ],
    recent_errors: [
      { jobId: JOB, seq: "3", offset: "3", time: at, pageFailed: { url: "https://x.test/gone", errorKind: "PAGE_ERROR_KIND_HTTP", httpStatus: 404, message: "HTTP 404" } },
      { jobId: "job-0", seq: "9", offset: "1", time: at, failed: { errorMessage: "every start URL failed" } },
    ],
    scrapers: [],
    cursor: "",
  });

  it("adds active jobs and the recent previews newest first", () => {
    const data = reactive();
    applyOverview(data, overview(5, "processing", "2023-11-14T22:14:00.000Z"));
    expect(data.jobs[JOB]).toMatchObject({ status: "running", pagesDone: 5, target: "https://x.test/" });
    expect(data.previews.map((preview) => preview.item.id)).toEqual(["new", "old"]);
    applyOverview(data, overview(5, "processing", "2023-11-14T22:14:01.000Z"));
    expect(data.previews).toHaveLength(2);
  });

  it("fills the errors feed with the failures from before the page subscribed, newest first, once", () => {
    const data = reactive();
    applyOverview(data, overview(5, "processing", "2023-11-14T22:14:00.000Z"));
    expect(data.errors.map((entry) => [entry.scope, entry.url ?? entry.message])).toEqual([
      ["job", "every start URL failed"],
      ["page", "https://x.test/gone"],
    ]);
    expect(data.jobErrors[JOB]?.map((entry) => entry.httpStatus)).toEqual([404]);
    applyOverview(data, overview(5, "processing", "2023-11-14T22:14:01.000Z"));
    expect(data.errors).toHaveLength(2);
  });

  it("shows a failure or an item once when the overview and the resumed stream both bring it", () => {
    const data = reactive();
    applyOverview(data, overview(5, "processing", "2023-11-14T22:14:00.000Z"));
    // The stream replays the failure the overview already listed (job-1, seq 3), and an item it listed.
    applyEvent(data, { jobId: JOB, seq: "3", offset: "3", time: "2023-11-14T22:14:00.000Z", pageFailed: { url: "https://x.test/gone", errorKind: "PAGE_ERROR_KIND_HTTP", httpStatus: 404, message: "HTTP 404" } }, 0);
    applyEvent(data, { jobId: JOB, seq: "4", offset: "4", time: "2023-11-14T22:14:00.000Z", itemScraped: { item: { id: "new", url: "https://x.test/new" } } }, 0);
    expect(data.errors.filter((entry) => entry.url === "https://x.test/gone")).toHaveLength(1);
    expect(data.jobErrors[JOB]?.filter((entry) => entry.url === "https://x.test/gone")).toHaveLength(1);
    expect(data.previews.filter((preview) => preview.item.id === "new")).toHaveLength(1);
    expect(new Set(data.errors.map((entry) => entry.key)).size).toBe(data.errors.length);
  });

  it("never moves a card's counts back, nor an ended job back to running", () => {
    const data = reactive();
    applyEvent(data, started(), 0);
    applyEvent(data, event({ cancelled: { reason: "stop", counters: { pagesDone: 9, successCount: 9 } } }), 0);
    applyOverview(data, overview(5, "processing", "2099-01-01T00:00:00.000Z"));
    expect(data.jobs[JOB]).toMatchObject({ status: "cancelled", pagesDone: 9, error: "stop" });
  });
});
