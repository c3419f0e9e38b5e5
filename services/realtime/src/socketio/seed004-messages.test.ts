import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { JobSchema, JobStatus, Platform, type JobEvent } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { createLiveState } from "../state/live-state.js";
import { applyEvent, recordFromJob } from "../state/reducer.js";
import { counters, JobScript, offsetCounter, T0 } from "../test-support/events.js";
import type { JobFacts } from "./job-facts.js";
import {
  changesBatch,
  encodeBatchMessage,
  encodeBatchState,
  encodeJobEvent,
  encodeJobState,
  encodeRequestError,
  isClientEvent,
  MAX_ID_LENGTH,
  parseIdRequest,
  percentOf,
  type JobOutgoing,
} from "./seed004-messages.js";

const SCRAPER = "127.0.0.1:5001";
const JOB = "550e8400-e29b-41d4-a716-446655440000";
const URL0 = "https://example.test/";
const iso = (ms: number): string => new Date(T0 + ms).toISOString();
const JOB_KEYS = ["job_id", "message", "progress", "status", "timestamp"];
const BATCH_KEYS = ["batch_id", "completed", "message", "progress", "status", "timestamp", "total"];

const page = (done: number, total: number, ok: number, bad: number, robots = 0) =>
  counters({ pagesDone: done, pagesTotal: total, successCount: ok, errorCount: bad, items: ok, ...(robots > 0 ? { skipped: { robots } } : {}) });

/** Applies every event and returns the job message of the last one. */
function lastMessage(events: (job: JobScript) => JobEvent[], facts?: JobFacts): JobOutgoing | undefined {
  const state = createLiveState();
  const script = new JobScript(JOB, Platform.WEB, offsetCounter(), URL0);
  let out: JobOutgoing | undefined;
  for (const event of events(script)) {
    const job = applyEvent(state, SCRAPER, event);
    out = job === undefined ? undefined : encodeJobEvent(event, job, facts);
  }
  return out;
}

describe("percentOf", () => {
  it.each([
    [0, 0, 0],
    [5, 0, 0],
    [0, 120, 0],
    [45, 120, 37],
    [119, 120, 99],
    [120, 120, 100],
    [130, 120, 100],
  ])("%i of %i is %i%%", (done, total, expected) => {
    expect(percentOf(done, total)).toBe(expected);
  });
});

describe("job messages from events", () => {
  const blockedFacts: JobFacts = { tasks: 1, tasksEnded: 1, robotsSkips: 1 };
  it.each<[string, (job: JobScript) => JobEvent[], JobFacts | undefined, { event: string; status: string; progress: number; message: string; ms: number; droppable: boolean } | undefined]>([
    [
      "started: job:update PROCESSING, 0%, the start URL",
      (job) => [job.started(0)],
      undefined,
      { event: "job:update", status: "PROCESSING", progress: 0, message: `Job started: crawling ${URL0}`, ms: 0, droppable: true },
    ],
    [
      "progress: pages done over pages known, errors counted",
      (job) => [job.started(0), job.progress(500, page(45, 120, 42, 3))],
      undefined,
      { event: "job:update", status: "PROCESSING", progress: 37, message: "Crawling: 45/120 pages, 3 errors", ms: 500, droppable: true },
    ],
    [
      "progress with one error says error",
      (job) => [job.started(0), job.progress(500, page(2, 4, 1, 1))],
      undefined,
      { event: "job:update", status: "PROCESSING", progress: 50, message: "Crawling: 2/4 pages, 1 error", ms: 500, droppable: true },
    ],
    [
      "paused: still PROCESSING, the message says paused",
      (job) => [job.started(0), job.paused(700, page(10, 40, 10, 0))],
      undefined,
      { event: "job:update", status: "PROCESSING", progress: 25, message: "Paused: 10/40 pages, 0 errors", ms: 700, droppable: true },
    ],
    [
      "resumed",
      (job) => [job.started(0), job.paused(700, page(10, 40, 10, 0)), job.resumed(900, page(10, 40, 10, 0))],
      undefined,
      { event: "job:update", status: "PROCESSING", progress: 25, message: "Resumed: 10/40 pages, 0 errors", ms: 900, droppable: true },
    ],
    [
      "completed: job:completed DELIVERED 100%, items from pages",
      (job) => [job.started(0), job.completed(2_000, page(120, 120, 117, 3))],
      undefined,
      { event: "job:completed", status: "DELIVERED", progress: 100, message: "Delivered: 117 items from 120 pages, 3 errors", ms: 2_000, droppable: false },
    ],
    [
      "failed: job:error ABORTED with the failure",
      (job) => [job.started(0), job.failed(300, page(1, 1, 0, 1), `every start URL failed: ${URL0}missing (HTTP 404)`)],
      undefined,
      { event: "job:error", status: "ABORTED", progress: 100, message: `Error: every start URL failed: ${URL0}missing (HTTP 404)`, ms: 300, droppable: false },
    ],
    [
      "failed with nothing fetched and robots.txt refusals: BLOCKED",
      (job) => [job.started(0), job.failed(300, page(0, 0, 0, 0, 1), `every start URL failed: ${URL0} (disallowed by robots.txt)`)],
      blockedFacts,
      { event: "job:error", status: "BLOCKED", progress: 0, message: `Blocked by robots.txt: every start URL failed: ${URL0} (disallowed by robots.txt)`, ms: 300, droppable: false },
    ],
    [
      "cancelled: job:error ABORTED, cancelled: <reason>, the true percent",
      (job) => [job.started(0), job.cancelled(800, page(30, 120, 30, 0), "user asked")],
      undefined,
      { event: "job:error", status: "ABORTED", progress: 25, message: "cancelled: user asked", ms: 800, droppable: false },
    ],
    [
      "cancelled without a reason",
      (job) => [job.started(0), job.cancelled(800, page(0, 1, 0, 0))],
      undefined,
      { event: "job:error", status: "ABORTED", progress: 0, message: "cancelled: no reason given", ms: 800, droppable: false },
    ],
    ["item, page and task events add no job message", (job) => [job.started(0), job.pageFailed(10, page(1, 2, 0, 1)), job.taskStarted(11)], undefined, undefined],
    ["a progress event after the end adds nothing", (job) => [job.started(0), job.completed(5, page(1, 1, 1, 0)), job.progress(6, page(1, 1, 1, 0))], undefined, undefined],
  ])("%s", (_name, events, facts, expected) => {
    const out = lastMessage(events, facts);
    if (expected === undefined) {
      expect(out).toBeUndefined();
      return;
    }
    expect(out?.event).toBe(expected.event);
    expect(out?.droppable).toBe(expected.droppable);
    expect(Object.keys(out?.payload ?? {}).sort()).toEqual(JOB_KEYS);
    expect(out?.payload).toEqual({ job_id: JOB, status: expected.status, progress: expected.progress, message: expected.message, timestamp: iso(expected.ms) });
  });

  it("timestamps are ISO-8601 with milliseconds and Z", () => {
    const out = lastMessage((job) => [job.started(0), job.progress(1_234, page(1, 2, 1, 0))]);
    expect(out?.payload.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});

describe("state pictures", () => {
  it("a running job: job:update at its last event's time", () => {
    const state = createLiveState();
    const script = new JobScript(JOB, Platform.WEB, offsetCounter(), URL0);
    applyEvent(state, SCRAPER, script.started(0));
    const job = applyEvent(state, SCRAPER, script.progress(400, page(3, 12, 3, 0)));
    if (job === undefined) throw new Error("not applied");
    expect(encodeJobState(job, undefined)).toEqual({
      event: "job:update",
      droppable: true,
      payload: { job_id: JOB, status: "PROCESSING", progress: 25, message: "Crawling: 3/12 pages, 0 errors", timestamp: iso(400) },
    });
  });

  it("an ended job: its terminal message, stamped with its finish time (the same payload live subscribers got)", () => {
    const state = createLiveState();
    const script = new JobScript(JOB, Platform.WEB, offsetCounter(), URL0);
    applyEvent(state, SCRAPER, script.started(0));
    const terminal = script.completed(900, page(4, 4, 4, 0));
    const job = applyEvent(state, SCRAPER, terminal);
    if (job === undefined) throw new Error("not applied");
    expect(encodeJobState(job, undefined)).toEqual(encodeJobEvent(terminal, job, undefined));
  });

  it("a pending job from a scraper's Job: PENDING", () => {
    const job = recordFromJob(create(JobSchema, { id: JOB, status: JobStatus.PENDING, spec: { urls: [URL0] }, createdAt: timestampFromMs(T0) }), SCRAPER);
    expect(encodeJobState(job, undefined).payload).toEqual({ job_id: JOB, status: "PENDING", progress: 0, message: "Job created and queued for processing", timestamp: iso(0) });
  });

  it("a directory scan (no start URL) counts files", () => {
    const job = recordFromJob(
      create(JobSchema, { id: JOB, status: JobStatus.RUNNING, counters: { pagesDone: 5, pagesTotal: 20 }, createdAt: timestampFromMs(T0), startedAt: timestampFromMs(T0) }),
      SCRAPER,
    );
    expect(encodeJobState(job, undefined).payload.message).toBe("Scanning: 5/20 files, 0 errors");
  });
});

describe("batch:update", () => {
  const runningJob = () => {
    const state = createLiveState();
    const script = new JobScript(JOB, Platform.WEB, offsetCounter(), URL0);
    applyEvent(state, SCRAPER, script.started(0));
    const job = applyEvent(state, SCRAPER, script.progress(100, page(12, 30, 11, 1)));
    if (job === undefined) throw new Error("not applied");
    return { state, script, job };
  };

  it("counts ended tasks over the batch's tasks, with Trawl's status name", () => {
    const { job } = runningJob();
    const message = encodeBatchMessage(job, { tasks: 3, tasksEnded: 1, robotsSkips: undefined }, T0 + 150);
    expect(Object.keys(message).sort()).toEqual(BATCH_KEYS);
    expect(message).toEqual({
      batch_id: JOB,
      total: 3,
      completed: 1,
      progress: 33,
      status: "running",
      message: "Processing batch: 1/3 URLs done, 12/30 pages, 1 error",
      timestamp: iso(150),
    });
  });

  it.each([
    ["completed", (s: JobScript) => s.completed(500, page(30, 30, 29, 1)), "completed", "Batch completed: 3/3 URLs done, 30/30 pages, 1 error"],
    ["failed", (s: JobScript) => s.failed(500, page(3, 3, 0, 3), "every start URL failed"), "failed", "Batch failed: 3/3 URLs done, 3/3 pages, 3 errors (every start URL failed)"],
    ["cancelled", (s: JobScript) => s.cancelled(500, page(12, 30, 11, 1), "enough"), "cancelled", "Batch cancelled: 3/3 URLs done, 12/30 pages, 1 error (enough)"],
  ])("a %s batch: every task ended, 100%%", (_name, terminal, status, text) => {
    const { state, script } = runningJob();
    const job = applyEvent(state, SCRAPER, terminal(script));
    if (job === undefined) throw new Error("not applied");
    expect(encodeBatchState(job, { tasks: 3, tasksEnded: 0, robotsSkips: 0 })).toEqual({ batch_id: JOB, total: 3, completed: 3, progress: 100, status, message: text, timestamp: iso(500) });
  });

  it("paused batch", () => {
    const { state, script } = runningJob();
    const job = applyEvent(state, SCRAPER, script.paused(200, page(12, 30, 11, 1)));
    if (job === undefined) throw new Error("not applied");
    expect(encodeBatchState(job, { tasks: 2, tasksEnded: 0, robotsSkips: undefined })).toMatchObject({ status: "paused", completed: 0, progress: 0, message: "Batch paused: 0/2 URLs done, 12/30 pages, 1 error" });
  });

  it("is sent for status changes, task ends and the job's end only", () => {
    const script = new JobScript(JOB, Platform.WEB, offsetCounter(), URL0);
    const kinds = [
      [script.started(0), true],
      [script.taskStarted(1), false],
      [script.progress(2, page(1, 2, 1, 0)), false],
      [script.pageFailed(3, page(2, 2, 1, 1)), false],
      [script.event(4, { case: "taskFinished", value: { taskId: "t1", url: URL0 } }), true],
      [script.event(5, { case: "taskFailed", value: { taskId: "t2", url: URL0, errorMessage: "x" } }), true],
      [script.paused(6, page(2, 2, 1, 1)), true],
      [script.resumed(7, page(2, 2, 1, 1)), true],
      [script.completed(8, page(2, 2, 1, 1)), true],
    ] as const;
    for (const [event, expected] of kinds) expect(changesBatch(event), event.kind.case).toBe(expected);
  });
});

describe("client payloads", () => {
  it.each<[string, string, unknown, string | undefined]>([
    ["a valid job id", "subscribe:job", { job_id: JOB }, undefined],
    ["a valid batch id", "subscribe:batch", { batch_id: "batch-001" }, undefined],
    ["extra fields are ignored", "unsubscribe:job", { job_id: JOB, extra: 1 }, undefined],
    ["no payload", "subscribe:job", undefined, 'subscribe:job needs an object payload like {"job_id": "…"}'],
    ["null", "subscribe:job", null, 'subscribe:job needs an object payload like {"job_id": "…"}'],
    ["a bare string", "subscribe:job", JOB, 'subscribe:job needs an object payload like {"job_id": "…"}'],
    ["an array", "subscribe:batch", [JOB], 'subscribe:batch needs an object payload like {"batch_id": "…"}'],
    ["the wrong field", "subscribe:batch", { job_id: JOB }, 'subscribe:batch: batch_id is required, e.g. {"batch_id": "…"}'],
    ["a numeric id", "subscribe:job", { job_id: 42 }, "subscribe:job: job_id must be a string"],
    ["an empty id", "unsubscribe:batch", { batch_id: "" }, `unsubscribe:batch: batch_id must have 1 to ${MAX_ID_LENGTH} characters`],
    ["a huge id", "subscribe:job", { job_id: "x".repeat(MAX_ID_LENGTH + 1) }, `subscribe:job: job_id must have 1 to ${MAX_ID_LENGTH} characters`],
  ])("%s", (_name, event, payload, error) => {
    if (!isClientEvent(event)) throw new Error(`not a client event: ${event}`);
    const parsed = parseIdRequest(event, payload);
    if (error === undefined) expect(parsed.ok).toBe(true);
    else expect(parsed).toEqual({ ok: false, message: error });
  });

  it("knows exactly the seed's four client events", () => {
    expect(["subscribe:job", "unsubscribe:job", "subscribe:batch", "unsubscribe:batch"].every(isClientEvent)).toBe(true);
    expect(isClientEvent("subscribe")).toBe(false);
    expect(isClientEvent("toString")).toBe(false);
  });

  it("answers bad requests with an ABORTED job:error at progress 0", () => {
    expect(encodeRequestError(null, "nope", T0)).toEqual({ job_id: null, status: "ABORTED", progress: 0, message: "nope", timestamp: iso(0) });
  });
});
