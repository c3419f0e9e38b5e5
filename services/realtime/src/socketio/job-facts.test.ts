import { create } from "@bufbuild/protobuf";
import { JobSchema, JobStatus, Platform, type JobEvent } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { counters, JobScript, offsetCounter } from "../test-support/events.js";
import { JobFactsBook } from "./job-facts.js";

function batchScript(jobId = "batch-1"): JobScript {
  return new JobScript(jobId, Platform.WEB, offsetCounter());
}

/** A JobStarted whose spec has `urls`. */
function startedWith(script: JobScript, urls: string[]): JobEvent {
  const job = create(JobSchema, { id: script.jobId, status: JobStatus.RUNNING, spec: { urls, depth: 1 }, counters: {} });
  return script.event(0, { case: "started", value: { job } });
}

const taskEnd = (script: JobScript, ms: number, failed: boolean): JobEvent =>
  failed
    ? script.event(ms, { case: "taskFailed", value: { taskId: "t", url: "u", errorMessage: "u: HTTP 404" } })
    : script.event(ms, { case: "taskFinished", value: { taskId: "t", url: "u", pages: 3, items: 3, errors: 0 } });

describe("JobFactsBook", () => {
  it("counts a batch's tasks from JobStarted and each task's end", () => {
    const book = new JobFactsBook();
    const script = batchScript();
    expect(book.observe(startedWith(script, ["https://a.test/", "https://b.test/", "https://c.test/"]))).toEqual({ tasks: 3, tasksEnded: 0, robotsSkips: undefined });
    expect(book.observe(taskEnd(script, 10, false)).tasksEnded).toBe(1);
    expect(book.observe(taskEnd(script, 11, true)).tasksEnded).toBe(2);
    expect(book.observe(taskEnd(script, 12, false)).tasksEnded).toBe(3);
    // More task ends than tasks (a replay) never count past the total.
    expect(book.observe(taskEnd(script, 13, false)).tasksEnded).toBe(3);
    expect(book.observe(script.completed(20, counters({ pagesDone: 9, pagesTotal: 9, successCount: 9 })))).toEqual({ tasks: 3, tasksEnded: 3, robotsSkips: 0 });
  });

  it.each([
    ["completed", (script: JobScript) => script.completed(5, counters({ pagesDone: 1, pagesTotal: 1, skipped: { robots: 2 } }))],
    ["failed", (script: JobScript) => script.failed(5, counters({ skipped: { robots: 1 } }), "every start URL failed")],
    ["cancelled", (script: JobScript) => script.cancelled(5, counters({ skipped: { robots: 4 } }), "stop")],
  ])("a %s job's end: every task has ended, robots.txt refusals from its final counters", (_kind, terminal) => {
    const book = new JobFactsBook();
    const script = batchScript();
    book.observe(startedWith(script, ["https://a.test/", "https://b.test/"]));
    const facts = book.observe(terminal(script));
    expect(facts.tasks).toBe(2);
    expect(facts.tasksEnded).toBe(2);
    expect(facts.robotsSkips).toBeGreaterThan(0);
  });

  it("leaves what it has not been told undefined (an event of a job whose start it did not see)", () => {
    const book = new JobFactsBook();
    const script = batchScript();
    expect(book.observe(script.progress(1, counters({ pagesDone: 1 })))).toEqual({ tasks: undefined, tasksEnded: 0, robotsSkips: undefined });
  });

  it("learns tasks and, for an ended job, robots.txt refusals from a scraper's Job", () => {
    const book = new JobFactsBook();
    const running = create(JobSchema, { id: "j1", status: JobStatus.RUNNING, spec: { urls: ["https://a.test/", "https://b.test/"] }, counters: { skipped: { robots: 1 } } });
    expect(book.learn(running)).toEqual({ tasks: 2, tasksEnded: 0, robotsSkips: undefined });
    const failed = create(JobSchema, { id: "j2", status: JobStatus.FAILED, spec: { urls: ["https://a.test/"] }, counters: { skipped: { robots: 1 } } });
    expect(book.learn(failed)).toEqual({ tasks: 1, tasksEnded: 1, robotsSkips: 1 });
    const scan = create(JobSchema, { id: "j3", status: JobStatus.COMPLETED, spec: { urls: [] }, counters: {} });
    expect(book.learn(scan)).toEqual({ tasks: 0, tasksEnded: 0, robotsSkips: 0 });
  });

  it("keeps a bounded number of ended jobs, evicting the oldest first", () => {
    const book = new JobFactsBook(2);
    for (const id of ["a", "b", "c"]) {
      const script = batchScript(id);
      book.observe(startedWith(script, ["https://a.test/"]));
      book.observe(script.completed(1, counters({ pagesDone: 1, pagesTotal: 1 })));
    }
    expect(book.get("a")).toBeUndefined();
    expect(book.get("b")?.tasks).toBe(1);
    expect(book.get("c")?.tasks).toBe(1);
    expect(book.size).toBe(2);
  });
});
