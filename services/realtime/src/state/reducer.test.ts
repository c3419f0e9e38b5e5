import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { JobSchema, JobStatus, Platform, SnapshotSchema, type JobEvent } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { counters, item, JobScript, offsetCounter, T0 } from "../test-support/events.js";
import { createLiveState, type JobCounts, type LiveState } from "./live-state.js";
import { applyEvent, applySnapshot, recordFromJob } from "./reducer.js";
import { activeJobsView, platformStatsView } from "./views.js";

const A = "127.0.0.1:5001";
const B = "127.0.0.1:5002";

function applyAll(state: LiveState, address: string, events: JobEvent[]): Array<string | undefined> {
  return events.map((event) => applyEvent(state, address, event)?.id);
}

function counts(pagesDone: number, pagesTotal: number, successCount: number, errorCount: number): JobCounts {
  return { pagesDone, pagesTotal, successCount, errorCount, items: successCount, processingMsTotal: 0 };
}

interface Row {
  name: string;
  events: (job: JobScript) => JobEvent[];
  status: JobStatus;
  counts: JobCounts;
  active: boolean;
  finishedAtMs?: number;
  error?: string;
  stats: { pages: number; successCount: number; errorCount: number; processingMsTotal: number };
}

const page = (done: number, total: number, ok: number, bad: number) =>
  counters({ pagesDone: done, pagesTotal: total, successCount: ok, errorCount: bad, items: ok });
const webItem = (n: number) => item({ id: `page_${n}`, url: `https://example.test/${n}`, title: `Page ${n}` });

const rows: Row[] = [
  {
    name: "JobStarted registers a running job with zero counts",
    events: (job) => [job.started()],
    status: JobStatus.RUNNING,
    counts: counts(0, 0, 0, 0),
    active: true,
    stats: { pages: 0, successCount: 0, errorCount: 0, processingMsTotal: 0 },
  },
  {
    name: "pages take the counters the event carries and feed the platform totals",
    events: (job) => [job.started(), job.itemScraped(100, webItem(1), page(1, 3, 1, 0), 120), job.pageFailed(200, page(2, 3, 1, 1), 30)],
    status: JobStatus.RUNNING,
    counts: counts(2, 3, 1, 1),
    active: true,
    stats: { pages: 2, successCount: 1, errorCount: 1, processingMsTotal: 150 },
  },
  {
    name: "a replayed event (same seq) is ignored",
    events: (job) => {
      const start = job.started();
      const first = job.itemScraped(100, webItem(1), page(1, 2, 1, 0));
      return [start, first, first, start, first];
    },
    status: JobStatus.RUNNING,
    counts: counts(1, 2, 1, 0),
    active: true,
    stats: { pages: 1, successCount: 1, errorCount: 0, processingMsTotal: 100 },
  },
  {
    name: "an older event arriving late is ignored",
    events: (job) => {
      const start = job.started();
      const older = job.itemScraped(100, webItem(1), page(1, 2, 1, 0));
      const newer = job.itemScraped(200, webItem(2), page(2, 2, 2, 0));
      return [start, newer, older];
    },
    status: JobStatus.RUNNING,
    counts: counts(2, 2, 2, 0),
    active: true,
    stats: { pages: 1, successCount: 1, errorCount: 0, processingMsTotal: 100 },
  },
  {
    name: "JobPaused and JobResumed switch the status",
    events: (job) => [job.started(), job.paused(100, page(0, 1, 0, 0))],
    status: JobStatus.PAUSED,
    counts: counts(0, 1, 0, 0),
    active: true,
    stats: { pages: 0, successCount: 0, errorCount: 0, processingMsTotal: 0 },
  },
  {
    name: "JobCompleted ends the job at the event's time",
    events: (job) => [job.started(), job.itemScraped(100, webItem(1), page(1, 1, 1, 0)), job.progress(150, page(1, 1, 1, 0)), job.completed(2_500, page(1, 1, 1, 0))],
    status: JobStatus.COMPLETED,
    counts: counts(1, 1, 1, 0),
    active: false,
    finishedAtMs: T0 + 2_500,
    error: "",
    stats: { pages: 1, successCount: 1, errorCount: 0, processingMsTotal: 100 },
  },
  {
    name: "JobFailed keeps the error message",
    events: (job) => [job.started(), job.pageFailed(100, page(1, 1, 0, 1)), job.failed(300, page(1, 1, 0, 1), "https://example.test/: HTTP 500")],
    status: JobStatus.FAILED,
    counts: counts(1, 1, 0, 1),
    active: false,
    finishedAtMs: T0 + 300,
    error: "https://example.test/: HTTP 500",
    stats: { pages: 1, successCount: 0, errorCount: 1, processingMsTotal: 50 },
  },
  {
    name: "JobCancelled keeps the reason; nothing after the terminal event changes the status",
    events: (job) => [job.started(), job.cancelled(400, page(0, 4, 0, 0), "user asked"), job.resumed(500, page(0, 4, 0, 0))],
    status: JobStatus.CANCELLED,
    counts: counts(0, 4, 0, 0),
    active: false,
    finishedAtMs: T0 + 400,
    error: "user asked",
    stats: { pages: 0, successCount: 0, errorCount: 0, processingMsTotal: 0 },
  },
  {
    name: "task events advance the seq without changing the view",
    events: (job) => [job.started(), job.taskStarted(10)],
    status: JobStatus.RUNNING,
    counts: counts(0, 0, 0, 0),
    active: true,
    stats: { pages: 0, successCount: 0, errorCount: 0, processingMsTotal: 0 },
  },
];

describe("applyEvent", () => {
  it.each(rows)("$name", (row) => {
    const state = createLiveState({ scrapers: [A] });
    const script = new JobScript("job-1", Platform.WEB, offsetCounter());
    const events = row.events(script);
    applyAll(state, A, events);
    const job = state.jobs.get("job-1");
    expect(job).toBeDefined();
    expect(job?.status).toBe(row.status);
    expect({ ...job?.counts, processingMsTotal: 0 }).toEqual(row.counts);
    expect(state.active.has("job-1")).toBe(row.active);
    expect(state.finished.has("job-1")).toBe(!row.active);
    if (row.finishedAtMs !== undefined) expect(job?.finishedAtMs).toBe(row.finishedAtMs);
    if (row.error !== undefined) expect(job?.error).toBe(row.error);
    expect(state.scrapers.get(A)?.platforms.get(Platform.WEB)).toEqual(row.stats);
    expect(state.scrapers.get(A)?.lastOffset).toBe(events.reduce((max, event) => (event.offset > max ? event.offset : max), 0n));
  });

  it("returns the changed record, and undefined for a duplicate", () => {
    const state = createLiveState();
    const script = new JobScript("job-1", Platform.WEB, offsetCounter());
    const start = script.started();
    expect(applyEvent(state, A, start)?.id).toBe("job-1");
    const version = state.version;
    expect(applyEvent(state, A, start)).toBeUndefined();
    expect(state.version).toBe(version);
  });

  it("records the start URL, platform and start time of JobStarted", () => {
    const state = createLiveState();
    applyEvent(state, A, new JobScript("t-1", Platform.TWITTER, offsetCounter(), "https://x.com/a/status/1").started(250));
    expect(state.jobs.get("t-1")).toMatchObject({ platform: Platform.TWITTER, url: "https://x.com/a/status/1", startedAtMs: T0 + 250, scraper: A });
  });

  it("tracks a job whose start it never saw", () => {
    const state = createLiveState();
    const script = new JobScript("late", Platform.WEB, offsetCounter());
    script.started();
    const job = applyEvent(state, A, script.progress(900, page(3, 9, 3, 0)));
    expect(job).toMatchObject({ id: "late", status: JobStatus.RUNNING, startedAtMs: T0 + 900 });
    expect(state.active.has("late")).toBe(true);
  });

  it("keeps only the last 20 previews, oldest first", () => {
    const state = createLiveState();
    const script = new JobScript("job-1", Platform.WEB, offsetCounter());
    applyEvent(state, A, script.started());
    for (let n = 1; n <= 25; n++) applyEvent(state, A, script.itemScraped(n, webItem(n), page(n, 25, n, 0)));
    expect(state.previews.map((preview) => preview.item.id)).toEqual(Array.from({ length: 20 }, (_, i) => `page_${i + 6}`));
  });

  it("remembers the last 50 failures (page, start URL, job), oldest first", () => {
    const state = createLiveState();
    const script = new JobScript("job-1", Platform.WEB, offsetCounter());
    applyEvent(state, A, script.started());
    applyEvent(state, A, script.itemScraped(1, webItem(1), page(1, 60, 1, 0)));
    const failures = Array.from({ length: 55 }, (_, n) => script.pageFailed(n + 2, page(n + 2, 60, 1, n + 1)));
    for (const failure of failures) applyEvent(state, A, failure);
    const taskFailed = script.event(60, { case: "taskFailed", value: { taskId: "t1", url: "https://example.test/gone", errorMessage: "HTTP 404" } });
    applyEvent(state, A, taskFailed);
    const failed = script.failed(61, page(56, 60, 1, 55), "every start URL failed");
    applyEvent(state, A, failed);
    expect(state.errors).toHaveLength(50);
    expect(state.errors.at(-1)).toBe(failed);
    expect(state.errors.at(-2)).toBe(taskFailed);
    expect(state.errors[0]).toBe(failures[7]);
  });

  it("keeps a running job's start and task starts for late subscribers, and forgets them when it ends", () => {
    const state = createLiveState();
    const script = new JobScript("job-1", Platform.WEB, offsetCounter());
    const started = script.started();
    applyEvent(state, A, started);
    const task = script.taskStarted(10);
    applyEvent(state, A, task);
    applyEvent(state, A, script.progress(20, page(1, 5, 1, 0)));
    expect(state.jobs.get("job-1")?.opening).toEqual([started, task]);
    applyEvent(state, A, script.completed(30, page(5, 5, 5, 0)));
    expect(state.jobs.get("job-1")?.opening).toEqual([]);
  });

  it("evicts the oldest finished jobs beyond the limit", () => {
    const state = createLiveState({ maxFinishedJobs: 2 });
    const offsets = offsetCounter();
    for (const id of ["j1", "j2", "j3"]) {
      const script = new JobScript(id, Platform.WEB, offsets);
      applyAll(state, A, [script.started(), script.completed(10, page(0, 0, 0, 0))]);
    }
    expect([...state.jobs.keys()]).toEqual(["j2", "j3"]);
    expect([...state.finished]).toEqual(["j2", "j3"]);
  });

  it("keeps offsets per scraper", () => {
    const state = createLiveState({ scrapers: [A, B] });
    const a = new JobScript("a", Platform.WEB, offsetCounter());
    const b = new JobScript("b", Platform.WEB, { next: 40n });
    applyAll(state, A, [a.started(), a.taskStarted(1)]);
    applyAll(state, B, [b.started()]);
    expect(state.scrapers.get(A)?.lastOffset).toBe(2n);
    expect(state.scrapers.get(B)?.lastOffset).toBe(41n);
  });
});

describe("applySnapshot", () => {
  const snapshotJob = (id: string, status: JobStatus, lastSeq: bigint, done: number) =>
    create(JobSchema, {
      id,
      platform: Platform.REDDIT,
      status,
      spec: { urls: ["https://reddit.com/r/x/"] },
      counters: { pagesDone: done, pagesTotal: 10, successCount: done, items: done },
      createdAt: timestampFromMs(T0),
      startedAt: timestampFromMs(T0 + 10),
      ...(status === JobStatus.COMPLETED ? { finishedAt: timestampFromMs(T0 + 5_000) } : {}),
      lastSeq,
    });

  it("replaces the scraper's jobs, stats and offset and leaves other scrapers alone", () => {
    const state = createLiveState({ scrapers: [A, B] });
    const offsets = offsetCounter();
    const gone = new JobScript("gone", Platform.WEB, offsets);
    const kept = new JobScript("kept", Platform.REDDIT, offsets);
    const other = new JobScript("other", Platform.WEB, { next: 0n });
    applyAll(state, A, [gone.started(), gone.itemScraped(5, webItem(1), page(1, 2, 1, 0)), kept.started()]);
    applyAll(state, B, [other.started(), other.itemScraped(5, webItem(2), page(1, 1, 1, 0), 400)]);

    const outcome = applySnapshot(
      state,
      A,
      create(SnapshotSchema, {
        offset: 900n,
        jobs: [snapshotJob("kept", JobStatus.RUNNING, 7n, 5), snapshotJob("done", JobStatus.COMPLETED, 12n, 10)],
        platforms: [{ platform: Platform.REDDIT, pages: 15n, successCount: 15n, totalItems: 15n, processingMsTotal: 3_000n }],
      }),
    );

    expect(outcome.changed.map((job) => job.id).sort()).toEqual(["done", "kept"]);
    expect(outcome.removed).toEqual(["gone"]);
    expect(state.scrapers.get(A)?.lastOffset).toBe(900n);
    expect([...state.active].sort()).toEqual(["kept", "other"]);
    expect(state.jobs.get("done")).toMatchObject({ status: JobStatus.COMPLETED, finishedAtMs: T0 + 5_000, lastSeq: 12n });
    expect(platformStatsView(state)).toEqual({
      web: { platform: "web", total_items: 1, success_count: 1, error_count: 0, avg_processing_time: 0.4 },
      reddit: { platform: "reddit", total_items: 15, success_count: 15, error_count: 0, avg_processing_time: 0.2 },
    });
  });

  it("makes later events at or below the snapshot's seq no-ops", () => {
    const state = createLiveState();
    applySnapshot(state, A, create(SnapshotSchema, { offset: 50n, jobs: [snapshotJob("kept", JobStatus.RUNNING, 7n, 5)] }));
    const script = new JobScript("kept", Platform.REDDIT, { next: 44n });
    const replayed: JobEvent[] = [];
    for (let n = 1; n <= 8; n++) replayed.push(script.progress(n, page(n, 10, n, 0)));
    const applied = applyAll(state, A, replayed).filter((id) => id !== undefined);
    expect(applied).toEqual(["kept"]);
    expect(state.jobs.get("kept")?.counts.pagesDone).toBe(8);
  });
});

describe("recordFromJob", () => {
  it("reads an unspecified status as pending and falls back to created_at for the start", () => {
    const record = recordFromJob(create(JobSchema, { id: "p", createdAt: timestampFromMs(T0 + 7) }), A);
    expect(record).toMatchObject({ status: JobStatus.PENDING, startedAtMs: T0 + 7, finishedAtMs: undefined, url: "" });
  });
});

describe("views", () => {
  it("lists only jobs that have not ended, with elapsed time as of the given instant", () => {
    const state = createLiveState();
    const offsets = offsetCounter();
    const running = new JobScript("running", Platform.YOUTUBE, offsets);
    const done = new JobScript("done", Platform.WEB, offsets);
    applyAll(state, A, [running.started(1_000), done.started(), done.completed(3_000, page(0, 0, 0, 0))]);
    expect(activeJobsView(state, T0 + 5_255)).toEqual({
      running: {
        job_id: "running",
        platform: "youtube",
        status: "processing",
        items_scraped: 0,
        items_total: 0,
        success_count: 0,
        error_count: 0,
        started_at: "2025-11-18T19:30:01.000Z",
        elapsed_seconds: 4.26,
      },
    });
  });

  it("reports avg_processing_time 0 for a platform without pages", () => {
    const state = createLiveState();
    applyEvent(state, A, new JobScript("j", Platform.TWITTER, offsetCounter()).started());
    expect(platformStatsView(state)).toEqual({
      twitter: { platform: "twitter", total_items: 0, success_count: 0, error_count: 0, avg_processing_time: 0 },
    });
  });
});
