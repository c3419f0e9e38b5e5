import { create } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { CrawlSpecSchema, JobStatus, Platform, type JobEvent, type JobCounters } from "@trawl/proto";
import type { ServerResponse } from "node:http";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CrawlConfig } from "../config.js";
import { MemoryEventLog } from "../events/memory-event-log.js";
import { validateCrawlSpec } from "../grpc/validate-crawl-spec.js";
import { closedPort, htmlPages, linkPage, startSite, type Site } from "../test-support/http-site.js";
import { JobService } from "./job-service.js";

const limits: CrawlConfig = {
  maxPages: 1000,
  maxPagesLimit: 100_000,
  maxDepth: 10,
  concurrency: 4,
  requestTimeoutMs: 5_000,
  maxDurationMs: 60_000,
  maxBodyBytes: 1_000_000,
  userAgent: "trawl-test",
  // No politeness: these tests are about job events, not about robots.txt or pacing.
  respectRobots: false,
  perHostConcurrency: 8,
  perHostDelayMs: 0,
  globalRatePerSec: 0,
  maxRetries: 0,
  retryBaseMs: 0,
  retryMaxMs: 0,
  allowAddresses: ["127.0.0.1"],
};

function setup(progressIntervalMs = 0) {
  const log = new MemoryEventLog(100_000);
  const jobs = new JobService({ log, crawl: limits, progressIntervalMs, logger: pino({ level: "silent" }) });
  const start = (init: MessageInitShape<typeof CrawlSpecSchema>) => {
    const validation = validateCrawlSpec(create(CrawlSpecSchema, init), limits);
    if (!validation.ok) throw new Error(`${validation.field}: ${validation.message}`);
    return jobs.start(validation.crawl);
  };
  const events = async (jobId: string): Promise<JobEvent[]> => (await log.read(0n, 1_000_000, jobId)).events;
  return { log, jobs, start, events };
}

const kinds = (events: JobEvent[]) => events.map((e) => e.kind.case);
const pageKinds = new Set(["itemScraped", "pageFailed", "progress"]);
const counters = (c: JobCounters | undefined) =>
  c && { pagesDone: c.pagesDone, pagesTotal: c.pagesTotal, successCount: c.successCount, errorCount: c.errorCount, items: c.items };

/** Asserts the contract's order; returns the page-phase events. */
function expectContractOrder(events: JobEvent[], tasks: number, terminal: "completed" | "failed" | "cancelled"): JobEvent[] {
  const k = kinds(events);
  expect(k[0]).toBe("started");
  expect(k.slice(1, 1 + tasks)).toEqual(Array(tasks).fill("taskStarted"));
  const terminalAt = k.length - 1;
  expect(k[terminalAt]).toBe(terminal);
  expect(k[terminalAt - 1]).toBe("progress");
  const taskEnds = k.slice(terminalAt - 1 - tasks, terminalAt - 1);
  expect(taskEnds.every((kind) => kind === "taskFinished" || kind === "taskFailed")).toBe(true);
  const middle = events.slice(1 + tasks, terminalAt - 1 - tasks);
  expect(middle.every((e) => pageKinds.has(e.kind.case ?? ""))).toBe(true);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => BigInt(i + 1)));
  for (let i = 1; i < events.length; i++) expect((events[i] as JobEvent).offset > (events[i - 1] as JobEvent).offset).toBe(true);
  return middle;
}

describe("JobService", () => {
  let site: Site;
  /** Responses held open by /hang/*, released by the tests. */
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    const pages = htmlPages({
      "/": linkPage("home", ["/a", "/b", "/missing"]),
      "/a": linkPage("a", ["/"]),
      "/b": linkPage("b", []),
      "/ada/status/1790000000000000001": linkPage("tweet", []),
      "/slow": linkPage("slow", ["/hang/1", "/hang/2", "/hang/3", "/hang/4", "/hang/5"]),
    });
    site = await startSite((req, res) => {
      if (req.url?.startsWith("/hang/")) return void held.push(res);
      pages(req, res);
    });
  });
  afterAll(async () => {
    for (const res of held) res.destroy();
    await site.close();
  });

  it("emits JobStarted, TaskStarted, pages, task ends, final progress and Completed, with exact counters", async () => {
    const { jobs, start, events } = setup();
    const job = start({ urls: [`${site.origin}/`], depth: 1 });
    expect(job.status).toBe(JobStatus.RUNNING);
    await jobs.whenDone(job.id);
    const all = await events(job.id);
    const middle = expectContractOrder(all, 1, "completed");

    const pages = middle.filter((e) => e.kind.case !== "progress");
    expect(pages).toHaveLength(4);
    expect(pages.map((e) => counters(e.kind.case === "itemScraped" || e.kind.case === "pageFailed" ? e.kind.value.counters : undefined)?.pagesDone)).toEqual([1, 2, 3, 4]);
    const failed = pages.find((e) => e.kind.case === "pageFailed");
    expect(failed?.kind.case === "pageFailed" && failed.kind.value).toMatchObject({ url: `${site.origin}/missing`, httpStatus: 404, depth: 1 });
    const home = pages.find((e) => e.kind.case === "itemScraped" && e.kind.value.url === `${site.origin}/`);
    expect(home?.kind.case === "itemScraped" && home.kind.value.item).toMatchObject({ title: "home", linksFound: 3, depth: 0, url: `${site.origin}/` });

    const final = { pagesDone: 4, pagesTotal: 4, successCount: 3, errorCount: 1, items: 3 };
    const last = all.at(-1);
    expect(last?.kind.case === "completed" && counters(last.kind.value.counters)).toEqual(final);
    const finalProgress = all.at(-2);
    expect(finalProgress?.kind.case === "progress" && counters(finalProgress.kind.value.counters)).toEqual(final);
    const taskEnd = all.at(-3);
    expect(taskEnd?.kind.case === "taskFinished" && taskEnd.kind.value).toMatchObject({ url: `${site.origin}/`, pages: 4, items: 3, errors: 1 });

    expect(job.status).toBe(JobStatus.COMPLETED);
    expect(job.lastSeq).toBe(BigInt(all.length));
    expect(counters(job.countersProto())).toEqual(final);
    expect(jobs.stats()).toMatchObject({ activeJobs: 0, totalJobs: 1 });
    expect(jobs.stats().platforms).toMatchObject([{ platform: Platform.WEB, pages: 4n, successCount: 3n, errorCount: 1n, totalItems: 3n }]);
  });

  it("throttles progress: one for the first page and the final one within a long interval", async () => {
    const { jobs, start, events } = setup(3_600_000);
    const job = start({ urls: [`${site.origin}/`], depth: 1 });
    await jobs.whenDone(job.id);
    expect(kinds(await events(job.id)).filter((k) => k === "progress")).toHaveLength(2);
  });

  it("fails the job when every start URL fails, naming each URL and why", async () => {
    const { jobs, start, events } = setup();
    const refused = `http://127.0.0.1:${await closedPort()}/`;
    const job = start({ urls: [`${site.origin}/missing`, refused] });
    await jobs.whenDone(job.id);
    const all = await events(job.id);
    expectContractOrder(all, 2, "failed");
    expect(kinds(all).filter((k) => k === "taskFailed")).toHaveLength(2);
    expect(job.status).toBe(JobStatus.FAILED);
    expect(job.error).toContain(`${site.origin}/missing (HTTP 404)`);
    expect(job.error).toContain(`${refused} (network:`);
    const last = all.at(-1);
    expect(last?.kind.case === "failed" && last.kind.value.errorMessage).toBe(job.error);
  });

  it("completes when only some start URLs fail, with a TaskFailed for those", async () => {
    const { jobs, start, events } = setup();
    const job = start({ urls: [`${site.origin}/missing`, `${site.origin}/b`] });
    await jobs.whenDone(job.id);
    const all = await events(job.id);
    expectContractOrder(all, 2, "completed");
    expect(all.filter((e) => e.kind.case === "taskFailed" || e.kind.case === "taskFinished").map((e) => e.kind.case)).toEqual(["taskFailed", "taskFinished"]);
  });

  it("uses the requested platform for item ids", async () => {
    const { jobs, start, events } = setup();
    const job = start({ urls: [`${site.origin}/ada/status/1790000000000000001`], platform: Platform.TWITTER });
    await jobs.whenDone(job.id);
    expect(job.platform).toBe(Platform.TWITTER);
    const item = (await events(job.id)).find((e) => e.kind.case === "itemScraped");
    expect(item?.kind.case === "itemScraped" && item.kind.value.item?.id).toBe("1790000000000000001");
  });

  it("cancels mid-crawl: fetches in flight are not counted, Cancelled is last and nothing follows", async () => {
    const { jobs, log, start, events } = setup();
    const job = start({ urls: [`${site.origin}/slow`], depth: 1, concurrency: 8 });
    await new Promise<void>((resolve) => {
      const off = log.onAppend(() => {
        if (job.counters.pagesDone === 1) {
          off();
          resolve();
        }
      });
    });
    while (held.length < 5) await new Promise((resolve) => setTimeout(resolve, 5));
    const ended = await jobs.cancel(job.id, "enough");
    expect(ended?.status).toBe(JobStatus.CANCELLED);
    const all = await events(job.id);
    expectContractOrder(all, 1, "cancelled");
    const last = all.at(-1);
    expect(last?.kind.case === "cancelled" && last.kind.value.reason).toBe("enough");
    expect(last?.kind.case === "cancelled" && counters(last.kind.value.counters)).toEqual({ pagesDone: 1, pagesTotal: 6, successCount: 1, errorCount: 0, items: 1 });
    expect(job.error).toBe("enough");

    for (const res of held.splice(0)) res.writeHead(200, { "content-type": "text/html" }).end("<p>late</p>");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await events(job.id)).toHaveLength(all.length);
  });

  it("fails the job when its duration limit runs out, ending the unfetched task as failed", async () => {
    const { jobs, start, events } = setup();
    const job = start({ urls: [`${site.origin}/hang/limit`], maxDurationMs: 200 });
    await jobs.whenDone(job.id);
    const all = await events(job.id);
    expectContractOrder(all, 1, "failed");
    expect(job.status).toBe(JobStatus.FAILED);
    expect(job.error).toBe("duration limit of 200 ms reached");
    expect(counters(job.countersProto())).toEqual({ pagesDone: 0, pagesTotal: 1, successCount: 0, errorCount: 0, items: 0 });
    const taskEnd = all.at(-3);
    expect(taskEnd?.kind.case === "taskFailed" && taskEnd.kind.value.errorMessage).toBe(`${site.origin}/hang/limit: job stopped before it was fetched`);
    for (const res of held.splice(0)) res.destroy();
  });
});
