import { describe, expect, it } from "vitest";
import { applyJobEvent, EVENT_KINDS, eventCounters, eventKind, isTerminalStatus, terminalKind } from "./job-events.js";
import { event, jobJson } from "./test-support/jobs.js";

describe("event kinds", () => {
  it("come from the generated schema, as the gateway's types filter takes them", () => {
    expect(EVENT_KINDS).toEqual(expect.arrayContaining(["started", "progress", "itemScraped", "pageFailed", "paused", "resumed", "completed", "failed", "cancelled", "scanProgress"]));
  });

  it("are read from the payload field", () => {
    expect(eventKind(event(1, { pageFailed: { url: "http://x/" } }))).toBe("pageFailed");
    expect(eventKind(event(1, {}))).toBeUndefined();
    expect(terminalKind(event(1, { cancelled: {} }))).toBe("cancelled");
    expect(terminalKind(event(1, { progress: {} }))).toBeUndefined();
  });

  it("know which statuses are final", () => {
    expect(["completed", "failed", "cancelled"].every(isTerminalStatus)).toBe(true);
    expect(["pending", "running", "paused"].some(isTerminalStatus)).toBe(false);
  });
});

describe("applyJobEvent", () => {
  const job = jobJson();

  it("takes the counters an event carries, reading omitted zero values as 0", () => {
    const next = applyJobEvent(job, event(21, { itemScraped: { url: "http://x/", counters: { pagesDone: 11, pagesTotal: 41, successCount: 10, errorCount: 1, items: 10, bytes: "100000" } } }));
    expect(next.counters).toMatchObject({ pages_done: 11, pages_total: 41, success_count: 10, error_count: 1, items: 10, bytes: 100_000, retries: 0, errors_by_kind: {} });
    expect(next.last_seq).toBe(21);
    expect(next.status).toBe("running");
    expect(job.counters.pages_done, "the job it was given is left alone").toBe(10);
  });

  it("ignores an event the job already reflects", () => {
    expect(applyJobEvent(job, event(20, { progress: { counters: { pagesDone: 99 } } }))).toBe(job);
    expect(applyJobEvent(job, event(3, { completed: {} }))).toBe(job);
  });

  it.each([
    [{ paused: {} }, "paused"],
    [{ resumed: {} }, "running"],
    [{ completed: { elapsedMs: 4000 } }, "completed"],
    [{ failed: { errorMessage: "boom", elapsedMs: 4000 } }, "failed"],
    [{ cancelled: { reason: "enough", elapsedMs: 4000 } }, "cancelled"],
  ])("%j makes the job %s", (payload, status) => {
    expect(applyJobEvent(jobJson({ status: "paused" }), event(21, payload)).status).toBe(status);
  });

  it("records a failure's message and a cancellation's reason as the job's error", () => {
    expect(applyJobEvent(job, event(21, { failed: { errorMessage: "every start URL failed" } })).error).toBe("every start URL failed");
    expect(applyJobEvent(job, event(21, { cancelled: { reason: "enough" } })).error).toBe("enough");
    expect(applyJobEvent(job, event(21, { cancelled: {} })).error).toBeNull();
  });

  it("takes the final elapsed time and rate from the end event", () => {
    const next = applyJobEvent(job, event(21, { completed: { elapsedMs: 4000, counters: { pagesDone: 40, pagesTotal: 40, successCount: 38, errorCount: 2 } } }));
    expect(next.elapsed_seconds).toBe(4);
    expect(next.counters.pages_per_second).toBe(10);
    expect(job.counters.pages_per_second).toBe(5);
  });

  it("finds counters in every kind that carries them", () => {
    for (const kind of ["progress", "itemScraped", "pageFailed", "pageSkipped", "paused", "resumed", "completed", "failed", "cancelled"]) {
      expect(eventCounters(event(1, { [kind]: { counters: { pagesDone: 3 } } }))?.pagesDone, kind).toBe(3);
    }
    expect(eventCounters(event(1, { taskStarted: { url: "http://x/" } }))).toBeUndefined();
  });
});
