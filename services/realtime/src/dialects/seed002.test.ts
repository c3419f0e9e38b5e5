import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { JobSchema, JobStatus, PageErrorKind, Platform, SkipReason, type JobCounters, type JobEvent } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { createLiveState } from "../state/live-state.js";
import { applyEvent, recordFromJob } from "../state/reducer.js";
import { counters, item, JobScript, offsetCounter, T0 } from "../test-support/events.js";
import { Delivery } from "../ws/connection.js";
import type { DialectFrame } from "./dialect.js";
import { encodeJobState, encodeUnknownJob, FlatDialect, progressPercent, resultsKey, SEED002_CHANNEL, SEED002_DIALECT, type FlatEvent } from "./seed002.js";

const SCRAPER = "127.0.0.1:5001";
const JOB = "abc-123";
const URL_A = "https://example.test/";
const BATCH = ["https://example.test/", "https://example.test/missing", "https://example.test/blog/"];
const FLAT_KEYS = ["job_id", "event_type", "status", "progress", "results_count", "message", "metadata", "timestamp"];

const page = (done: number, total: number, ok: number, bad: number): JobCounters => counters({ pagesDone: done, pagesTotal: total, successCount: ok, errorCount: bad, items: ok });
const at = (ms: number): string => new Date(T0 + ms).toISOString();
const parse = (frame: DialectFrame): FlatEvent => JSON.parse(frame.data.toString("utf8")) as FlatEvent;

/** A crawl job's JobStarted with `urls` as its start URLs (one task each). */
function startedWith(script: JobScript, urls: readonly string[], ms = 0): JobEvent {
  const job = create(JobSchema, {
    id: script.jobId,
    platform: script.platform,
    status: JobStatus.RUNNING,
    spec: { urls: [...urls], depth: 1 },
    counters: {},
    startedAt: timestampFromMs(T0 + ms),
  });
  return script.event(ms, { case: "started", value: { job } });
}

const taskStarted = (s: JobScript, ms: number, n: number): JobEvent => s.event(ms, { case: "taskStarted", value: { taskId: `${s.jobId}-t${n}`, url: BATCH[n - 1] } });
const taskFinished = (s: JobScript, ms: number, n: number, pages: number, items: number, errors: number): JobEvent =>
  s.event(ms, { case: "taskFinished", value: { taskId: `${s.jobId}-t${n}`, url: BATCH[n - 1], pages, items, errors } });
const taskFailed = (s: JobScript, ms: number, n: number): JobEvent =>
  s.event(ms, { case: "taskFailed", value: { taskId: `${s.jobId}-t${n}`, url: BATCH[n - 1], errorMessage: `${BATCH[n - 1]}: HTTP 404 Not Found` } });

/** Applies `events` in order through a fresh dialect; returns the frames of the last one. */
function framesOf(events: readonly JobEvent[], dialect = new FlatDialect()): DialectFrame[] {
  const state = createLiveState();
  let frames: DialectFrame[] = [];
  for (const event of events) {
    const job = applyEvent(state, SCRAPER, event);
    frames = job === undefined ? [] : dialect.encodeEvent(event, job);
  }
  return frames;
}

const counts = (done: number, total: number, ok: number, bad: number) => ({ platform: "web", pages_done: done, pages_total: total, success_count: ok, error_count: bad });

interface Row {
  name: string;
  events: (s: JobScript) => JobEvent[];
  expected: FlatEvent[];
  delivery: Delivery[];
  key?: string;
}

const rows: Row[] = [
  {
    name: "JobStarted (one start URL) → job_started, progress null while no page is known",
    events: (s) => [startedWith(s, [URL_A])],
    expected: [
      {
        job_id: JOB,
        event_type: "job_started",
        status: "running",
        progress: null,
        results_count: 0,
        message: "Job started: web crawl of https://example.test/, depth 1",
        metadata: { platform: "web", url: URL_A, depth: 1, total_scrapers: 1 },
        timestamp: at(0),
      },
    ],
    delivery: [Delivery.ALWAYS],
  },
  {
    name: "JobStarted (a batch) → job_started naming how many start URLs",
    events: (s) => [startedWith(s, BATCH)],
    expected: [
      {
        job_id: JOB,
        event_type: "job_started",
        status: "running",
        progress: null,
        results_count: 0,
        message: "Job started: web crawl of 3 start URLs, depth 1",
        metadata: { platform: "web", url: URL_A, depth: 1, total_scrapers: 3 },
        timestamp: at(0),
      },
    ],
    delivery: [Delivery.ALWAYS],
  },
  {
    name: "TaskStarted → scraper_started naming the task and its URL",
    events: (s) => [startedWith(s, BATCH), taskStarted(s, 1, 2)],
    expected: [
      {
        job_id: JOB,
        event_type: "scraper_started",
        status: "running",
        progress: null,
        results_count: 0,
        message: "Scraper started: https://example.test/missing",
        metadata: { task_id: `${JOB}-t2`, url: BATCH[1] as string },
        timestamp: at(1),
      },
    ],
    delivery: [Delivery.ALWAYS],
  },
  {
    name: "JobProgress → job_progress with the percent of known pages done",
    events: (s) => [startedWith(s, [URL_A]), s.progress(4_200, page(8, 20, 7, 1))],
    expected: [
      {
        job_id: JOB,
        event_type: "job_progress",
        status: "running",
        progress: 40,
        results_count: 7,
        message: "Scraping in progress: 8 of 20 pages done, 7 succeeded, 1 failed",
        metadata: counts(8, 20, 7, 1),
        timestamp: at(4_200),
      },
    ],
    delivery: [Delivery.CONFLATE],
  },
  {
    name: "JobProgress rounds the percent to one decimal",
    events: (s) => [startedWith(s, [URL_A]), s.progress(10, page(1, 3, 1, 0))],
    expected: [
      {
        job_id: JOB,
        event_type: "job_progress",
        status: "running",
        progress: 33.3,
        results_count: 1,
        message: "Scraping in progress: 1 of 3 pages done, 1 succeeded, 0 failed",
        metadata: counts(1, 3, 1, 0),
        timestamp: at(10),
      },
    ],
    delivery: [Delivery.CONFLATE],
  },
  {
    name: "ItemScraped → results_updated with the job's items as results_count",
    events: (s) => [startedWith(s, [URL_A]), s.itemScraped(500, item({ id: "page_a", url: "https://example.test/a" }), page(2, 4, 2, 0), 120)],
    expected: [
      {
        job_id: JOB,
        event_type: "results_updated",
        status: "running",
        progress: 50,
        results_count: 2,
        message: "2 results so far, latest from https://example.test/a",
        metadata: { platform: "web", url: "https://example.test/a", item_id: "page_a", http_status: 200, processing_ms: 120 },
        timestamp: at(500),
      },
    ],
    delivery: [Delivery.DROP_COUNTED],
    key: resultsKey(JOB),
  },
  {
    name: "PageFailed → job_progress naming the page and its HTTP status",
    events: (s) => [startedWith(s, [URL_A]), s.pageFailed(30, page(1, 1, 0, 1))],
    expected: [
      {
        job_id: JOB,
        event_type: "job_progress",
        status: "running",
        progress: 100,
        results_count: 0,
        message: "Page failed: https://example.test/missing (HTTP 404); 1 of 1 page done, 0 succeeded, 1 failed",
        metadata: counts(1, 1, 0, 1),
        timestamp: at(30),
      },
    ],
    delivery: [Delivery.CONFLATE],
  },
  {
    name: "PageFailed without an HTTP status → job_progress with the failure message",
    events: (s) => [
      startedWith(s, [URL_A]),
      s.event(30, { case: "pageFailed", value: { url: "https://example.test/slow", errorKind: PageErrorKind.TIMEOUT, message: "no answer within 4000 ms", counters: page(1, 2, 0, 1) } }),
    ],
    expected: [
      {
        job_id: JOB,
        event_type: "job_progress",
        status: "running",
        progress: 50,
        results_count: 0,
        message: "Page failed: https://example.test/slow (no answer within 4000 ms); 1 of 2 pages done, 0 succeeded, 1 failed",
        metadata: counts(1, 2, 0, 1),
        timestamp: at(30),
      },
    ],
    delivery: [Delivery.CONFLATE],
  },
  {
    name: "PageSkipped → job_progress naming the page and why",
    events: (s) => [startedWith(s, [URL_A]), s.event(40, { case: "pageSkipped", value: { url: "https://example.test/private", reason: SkipReason.ROBOTS, counters: page(1, 1, 1, 0) } })],
    expected: [
      {
        job_id: JOB,
        event_type: "job_progress",
        status: "running",
        progress: 100,
        results_count: 1,
        message: "Page skipped: https://example.test/private (disallowed by robots.txt); 1 of 1 page done, 1 succeeded, 0 failed",
        metadata: counts(1, 1, 1, 0),
        timestamp: at(40),
      },
    ],
    delivery: [Delivery.CONFLATE],
  },
  {
    name: "JobPaused → job_progress (paused)",
    events: (s) => [startedWith(s, [URL_A]), s.paused(50, page(2, 8, 2, 0))],
    expected: [
      {
        job_id: JOB,
        event_type: "job_progress",
        status: "paused",
        progress: 25,
        results_count: 2,
        message: "Job paused: 2 of 8 pages done, 2 succeeded, 0 failed",
        metadata: counts(2, 8, 2, 0),
        timestamp: at(50),
      },
    ],
    delivery: [Delivery.CONFLATE],
  },
  {
    name: "JobResumed → job_progress (running)",
    events: (s) => [startedWith(s, [URL_A]), s.paused(50, page(2, 8, 2, 0)), s.resumed(60, page(2, 8, 2, 0))],
    expected: [
      {
        job_id: JOB,
        event_type: "job_progress",
        status: "running",
        progress: 25,
        results_count: 2,
        message: "Job resumed: 2 of 8 pages done, 2 succeeded, 0 failed",
        metadata: counts(2, 8, 2, 0),
        timestamp: at(60),
      },
    ],
    delivery: [Delivery.CONFLATE],
  },
  {
    name: "JobResumed{recovered} → job_progress saying the scraper restarted",
    events: (s) => [startedWith(s, [URL_A]), s.event(70, { case: "resumed", value: { counters: page(3, 8, 3, 0), recovered: true } })],
    expected: [
      {
        job_id: JOB,
        event_type: "job_progress",
        status: "running",
        progress: 37.5,
        results_count: 3,
        message: "Job resumed after a scraper restart: 3 of 8 pages done, 3 succeeded, 0 failed",
        metadata: counts(3, 8, 3, 0),
        timestamp: at(70),
      },
    ],
    delivery: [Delivery.CONFLATE],
  },
  {
    name: "TaskFinished → scraper_completed with the task's pages, items and errors",
    events: (s) => [startedWith(s, BATCH), s.progress(80, page(5, 6, 4, 1)), taskFinished(s, 90, 1, 4, 3, 1)],
    expected: [
      {
        job_id: JOB,
        event_type: "scraper_completed",
        status: "running",
        progress: 83.3,
        results_count: 4,
        message: "Scraper completed: https://example.test/ (4 pages, 3 results, 1 error)",
        metadata: { task_id: `${JOB}-t1`, url: URL_A, pages: 4, items: 3, errors: 1 },
        timestamp: at(90),
      },
    ],
    delivery: [Delivery.ALWAYS],
  },
  {
    name: "TaskFailed → scraper_failed with the task's error",
    events: (s) => [startedWith(s, BATCH), taskFailed(s, 95, 2)],
    expected: [
      {
        job_id: JOB,
        event_type: "scraper_failed",
        status: "running",
        progress: null,
        results_count: 0,
        message: "Scraper failed: https://example.test/missing: HTTP 404 Not Found",
        metadata: { task_id: `${JOB}-t2`, url: BATCH[1] as string },
        timestamp: at(95),
      },
    ],
    delivery: [Delivery.ALWAYS],
  },
  {
    name: "JobCompleted → job_completed at 100 %, with the elapsed time",
    events: (s) => [startedWith(s, [URL_A]), s.completed(10_500, page(20, 20, 18, 2))],
    expected: [
      {
        job_id: JOB,
        event_type: "job_completed",
        status: "completed",
        progress: 100,
        results_count: 18,
        message: "Job completed: 18 results from 20 pages (2 failed) in 10.5 s",
        metadata: { ...counts(20, 20, 18, 2), elapsed_seconds: 10.5 },
        timestamp: at(10_500),
      },
    ],
    delivery: [Delivery.ALWAYS],
  },
  {
    name: "JobFailed → job_failed (failed) with the error",
    events: (s) => [startedWith(s, [URL_A]), s.failed(1_250, page(1, 1, 0, 1), "every start URL failed: https://example.test/ (HTTP 404)")],
    expected: [
      {
        job_id: JOB,
        event_type: "job_failed",
        status: "failed",
        progress: 100,
        results_count: 0,
        message: "Job failed: every start URL failed: https://example.test/ (HTTP 404)",
        metadata: { ...counts(1, 1, 0, 1), elapsed_seconds: 1.25 },
        timestamp: at(1_250),
      },
    ],
    delivery: [Delivery.ALWAYS],
  },
  {
    name: "JobCancelled → job_failed (cancelled) with the reason",
    events: (s) => [startedWith(s, [URL_A]), s.cancelled(300, page(1, 5, 1, 0), "too slow")],
    expected: [
      {
        job_id: JOB,
        event_type: "job_failed",
        status: "cancelled",
        progress: 20,
        results_count: 1,
        message: "Job cancelled: too slow",
        metadata: { ...counts(1, 5, 1, 0), elapsed_seconds: 0.3 },
        timestamp: at(300),
      },
    ],
    delivery: [Delivery.ALWAYS],
  },
  {
    name: "JobCancelled without a reason → job_failed (cancelled) by request",
    events: (s) => [startedWith(s, [URL_A]), s.cancelled(300, page(0, 1, 0, 0))],
    expected: [
      {
        job_id: JOB,
        event_type: "job_failed",
        status: "cancelled",
        progress: 0,
        results_count: 0,
        message: "Job cancelled: by request",
        metadata: { ...counts(0, 1, 0, 0), elapsed_seconds: 0.3 },
        timestamp: at(300),
      },
    ],
    delivery: [Delivery.ALWAYS],
  },
  {
    name: "ScanProgress → nothing (the scan's JobProgress carries its counts)",
    events: (s) => [startedWith(s, [URL_A]), s.event(10, { case: "scanProgress", value: { scanned: 3, total: 9, currentPath: "a.txt" } })],
    expected: [],
    delivery: [],
  },
  {
    name: "ScanCompleted → nothing (JobCompleted follows it)",
    events: (s) => [startedWith(s, [URL_A]), s.event(10, { case: "scanCompleted", value: { count: 0 } })],
    expected: [],
    delivery: [],
  },
  {
    name: "anything after the terminal event → nothing",
    events: (s) => [startedWith(s, [URL_A]), s.completed(100, page(1, 1, 1, 0)), s.progress(200, page(1, 1, 1, 0))],
    expected: [],
    delivery: [],
  },
];

describe("encodeEvent", () => {
  it.each(rows)("$name", (row) => {
    const frames = framesOf(row.events(new JobScript(JOB, Platform.WEB, offsetCounter())));
    expect(frames.map(parse)).toEqual(row.expected);
    expect(frames.map((frame) => frame.delivery)).toEqual(row.delivery);
    for (const frame of frames) {
      expect(Object.keys(parse(frame))).toEqual(FLAT_KEYS);
      expect(frame.jobId).toBe(JOB);
      expect(frame.key).toBe(row.key ?? JOB);
    }
  });

  it("describes a directory scan's start by its path, without scrapers", () => {
    const script = new JobScript(JOB, Platform.WEB, offsetCounter());
    const job = create(JobSchema, { id: JOB, status: JobStatus.RUNNING, scan: { path: "docs/reports", recursive: true }, counters: {}, startedAt: timestampFromMs(T0) });
    const dialect = new FlatDialect();
    const [started] = framesOf([script.event(0, { case: "started", value: { job } })], dialect);
    expect(parse(started as DialectFrame)).toMatchObject({
      event_type: "job_started",
      message: "Job started: directory scan of docs/reports",
      metadata: { platform: "web", path: "docs/reports" },
    });
  });

  it("uses the dialect's own channel", () => {
    expect(SEED002_DIALECT.channel).toBe(SEED002_CHANNEL);
  });
});

describe("scraper counts", () => {
  const batch = (s: JobScript): JobEvent[] => [startedWith(s, BATCH), taskStarted(s, 1, 1), taskStarted(s, 1, 2), taskStarted(s, 1, 3), s.progress(50, page(6, 6, 5, 1))];

  it("are reported on job_progress and the terminal event once every task has ended", () => {
    const s = new JobScript(JOB, Platform.WEB, offsetCounter());
    const events = [...batch(s), taskFinished(s, 60, 1, 3, 3, 0), taskFailed(s, 61, 2), taskFinished(s, 62, 3, 2, 2, 0), s.progress(63, page(6, 6, 5, 1)), s.completed(64, page(6, 6, 5, 1))];
    const dialect = new FlatDialect();
    const state = createLiveState();
    const received = events.flatMap((event) => dialect.encodeEvent(event, applyEvent(state, SCRAPER, event)!)).map(parse);
    const jobEvents = received.filter((event) => event.event_type === "job_progress" || event.event_type === "job_completed");
    expect(jobEvents.map((event) => [event.event_type, event.metadata.successful_scrapers, event.metadata.failed_scrapers])).toEqual([
      ["job_progress", undefined, undefined],
      ["job_progress", 2, 1],
      ["job_completed", 2, 1],
    ]);
    expect(Object.keys(jobEvents.at(-1)?.metadata ?? {})).toEqual([
      "platform",
      "pages_done",
      "pages_total",
      "success_count",
      "error_count",
      "successful_scrapers",
      "failed_scrapers",
      "elapsed_seconds",
    ]);
  });

  it("are left out when a task's end was not seen (no subscriber then)", () => {
    const s = new JobScript(JOB, Platform.WEB, offsetCounter());
    const events = [...batch(s), taskFinished(s, 60, 1, 3, 3, 0), taskFailed(s, 61, 2), taskFinished(s, 62, 3, 2, 2, 0), s.completed(64, page(6, 6, 5, 1))];
    const dialect = new FlatDialect();
    const state = createLiveState();
    let last: DialectFrame[] = [];
    for (const event of events) {
      const job = applyEvent(state, SCRAPER, event)!;
      // The gateway encodes only while the job has subscribers: none when task 2 failed.
      if (event.kind.case !== "taskFailed") last = dialect.encodeEvent(event, job);
    }
    expect(parse(last[0] as DialectFrame).metadata).not.toHaveProperty("successful_scrapers");
  });

  it("are left out when the job's start was not seen (the number of tasks is unknown)", () => {
    const s = new JobScript(JOB, Platform.WEB, offsetCounter());
    const events = [...batch(s), taskFinished(s, 60, 1, 3, 3, 0), taskFailed(s, 61, 2), taskFinished(s, 62, 3, 2, 2, 0), s.completed(64, page(6, 6, 5, 1))];
    const dialect = new FlatDialect();
    const state = createLiveState();
    let last: DialectFrame[] = [];
    for (const event of events) {
      const job = applyEvent(state, SCRAPER, event)!;
      if (event.kind.case !== "started") last = dialect.encodeEvent(event, job);
    }
    expect(parse(last[0] as DialectFrame).metadata).not.toHaveProperty("failed_scrapers");
  });
});

describe("connection-time and snapshot frames", () => {
  const jobIn = (status: JobStatus, error = "") =>
    recordFromJob(
      create(JobSchema, {
        id: "s",
        platform: Platform.REDDIT,
        status,
        counters: { pagesDone: 3, pagesTotal: 4, successCount: 2, errorCount: 1, items: 2 },
        startedAt: timestampFromMs(T0),
        finishedAt: timestampFromMs(T0 + 2_000),
        error,
      }),
      SCRAPER,
    );

  it.each([
    [JobStatus.RUNNING, "", "job_progress", "running", 75, "Scraping in progress: 3 of 4 pages done, 2 succeeded, 1 failed", at(5_000)],
    [JobStatus.PAUSED, "", "job_progress", "paused", 75, "Job paused: 3 of 4 pages done, 2 succeeded, 1 failed", at(5_000)],
    [JobStatus.PENDING, "", "job_progress", "pending", 75, "Job pending: 3 of 4 pages done, 2 succeeded, 1 failed", at(5_000)],
    [JobStatus.COMPLETED, "", "job_completed", "completed", 100, "Job completed: 2 results from 3 pages (1 failed) in 2 s", at(2_000)],
    [JobStatus.FAILED, "boom", "job_failed", "failed", 75, "Job failed: boom", at(2_000)],
    [JobStatus.CANCELLED, "", "job_failed", "cancelled", 75, "Job cancelled: by request", at(2_000)],
  ])("a job in status %i gets one %s (%s)", (status, error, type, word, progress, message, timestamp) => {
    const frame = encodeJobState(jobIn(status, error), T0 + 5_000);
    const event = JSON.parse(frame.json) as FlatEvent;
    expect(Object.keys(event)).toEqual(FLAT_KEYS);
    expect(event).toMatchObject({ job_id: "s", event_type: type, status: word, progress, results_count: 2, message, timestamp });
    expect(event.metadata).toMatchObject({ platform: "reddit", pages_done: 3, pages_total: 4, success_count: 2, error_count: 1 });
    expect(SEED002_DIALECT.encodeJobState(jobIn(status, error), T0 + 5_000).map((f) => f.delivery)).toEqual([type === "job_progress" ? Delivery.CONFLATE : Delivery.ALWAYS]);
  });

  it("answers an unknown job with the seed's error event", () => {
    expect(JSON.parse(encodeUnknownJob("nope", T0))).toEqual({
      job_id: "nope",
      event_type: "error",
      status: "failed",
      progress: null,
      results_count: 0,
      message: "Unknown job: nope",
      metadata: {},
      timestamp: "2025-11-18T19:30:00.000Z",
    });
    expect(Object.keys(JSON.parse(encodeUnknownJob("nope", T0)) as object)).toEqual(FLAT_KEYS);
  });

  it.each([
    [0, 0, JobStatus.RUNNING, null],
    [0, 7, JobStatus.RUNNING, 0],
    [2, 3, JobStatus.RUNNING, 66.7],
    [5, 5, JobStatus.FAILED, 100],
    [0, 0, JobStatus.COMPLETED, 100],
  ])("progress of %i/%i pages (status %i) is %s", (done, total, status, expected) => {
    const job = jobIn(status);
    job.counts.pagesDone = done;
    job.counts.pagesTotal = total;
    expect(progressPercent(job)).toBe(expected);
  });
});
