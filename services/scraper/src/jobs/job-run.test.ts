import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { CrawlSpecSchema, JobStatus, PageErrorKind, Platform, SkipReason, type JobEvent } from "@trawl/proto";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CrawlConfig } from "../config.js";
import { MemoryEventLog } from "../events/memory-event-log.js";
import { validateCrawlSpec } from "../grpc/validate-crawl-spec.js";
import { htmlPages, linkPage, startSite, type Site } from "../test-support/http-site.js";
import { JobService } from "./job-service.js";

/** Politeness as configured by default, minus the waiting: robots.txt, retries, the SSRF guard. */
const limits: CrawlConfig = {
  maxPages: 1000,
  maxPagesLimit: 100_000,
  maxDepth: 10,
  concurrency: 4,
  requestTimeoutMs: 5_000,
  maxDurationMs: 60_000,
  maxBodyBytes: 1_000_000,
  userAgent: "Trawl/0.1 (+https://github.com/trawl)",
  respectRobots: true,
  perHostConcurrency: 2,
  perHostDelayMs: 0,
  globalRatePerSec: 0,
  maxRetries: 1,
  retryBaseMs: 1,
  retryMaxMs: 50,
  allowAddresses: ["127.0.0.1"],
};

function setup(config: CrawlConfig = limits) {
  const log = new MemoryEventLog(100_000);
  const jobs = new JobService({ log, crawl: config, progressIntervalMs: 0, logger: pino({ level: "silent" }) });
  const run = async (init: MessageInitShape<typeof CrawlSpecSchema>) => {
    const validation = validateCrawlSpec(create(CrawlSpecSchema, init), config);
    if (!validation.ok) throw new Error(`${validation.field}: ${validation.message}`);
    const job = jobs.start(validation.crawl);
    await jobs.whenDone(job.id);
    const events: JobEvent[] = (await log.read(0n, 1_000_000, job.id)).events;
    return { job, events };
  };
  return { jobs, run };
}

describe("a crawl job's politeness and statistics", () => {
  let site: Site;

  beforeAll(async () => {
    const pages = htmlPages({
      "/": linkPage("home", ["/a", "/private", "/missing", "/broken", "/data.json", "http://elsewhere.invalid/x"]),
      "/a": linkPage("a", ["/deep", "/"]),
      "/private": linkPage("private", []),
      "/deep": linkPage("deep", []),
    });
    site = await startSite((req, res) => {
      if (req.url === "/robots.txt") return void res.writeHead(200, { "content-type": "text/plain" }).end("User-agent: *\nDisallow: /private\n");
      if (req.url === "/broken") return void res.writeHead(503, { "content-type": "text/html" }).end("<p>down</p>");
      if (req.url === "/data.json") return void res.writeHead(200, { "content-type": "application/json" }).end("{}");
      pages(req, res);
    });
  });
  afterAll(async () => {
    await site.close();
  });

  it("counts errors by kind, skips by reason, retries, bytes and p95, per job and per platform", async () => {
    const { jobs, run } = setup();
    const { job, events } = await run({ urls: [`${site.origin}/`], depth: 1 });
    expect(job.status).toBe(JobStatus.COMPLETED);
    const final = job.countersProto();
    expect(final).toMatchObject({
      pagesDone: 5,
      pagesTotal: 5,
      successCount: 2,
      errorCount: 3,
      retries: 1,
      errorsByKind: { http_4xx: 1, http_5xx: 1, not_html: 1 },
      skipped: { robots: 1, scope: 1, depth: 1 },
    });
    expect(final.bytes).toBeGreaterThan(0n);
    expect(final.p95PageMs).toBeGreaterThanOrEqual(0);
    expect(Object.keys(final.errorsByKind).sort()).toEqual(["http_4xx", "http_5xx", "not_html"]);

    const completed = events.at(-1);
    expect(completed?.kind.case === "completed" && completed.kind.value.counters).toEqual(final);
    const skipped = events.filter((e) => e.kind.case === "pageSkipped");
    expect(skipped).toHaveLength(1);
    expect(skipped[0]?.kind.case === "pageSkipped" && skipped[0].kind.value).toMatchObject({
      url: `${site.origin}/private`,
      reason: SkipReason.ROBOTS,
      counters: { skipped: { robots: 1 } },
    });
    expect(site.requests.filter((p) => p === "/private")).toEqual([]);
    expect(site.requests.filter((p) => p === "/broken")).toHaveLength(2);

    const [web] = jobs.stats().platforms;
    expect(web).toMatchObject({
      platform: Platform.WEB,
      pages: 5n,
      retries: 1n,
      bytes: final.bytes,
      errorsByKind: { http_4xx: 1n, http_5xx: 1n, not_html: 1n },
      skipped: { robots: 1n, scope: 1n, depth: 1n },
    });
  });

  it("adds every job to its platform's totals", async () => {
    const { jobs, run } = setup();
    await run({ urls: [`${site.origin}/`], depth: 1 });
    await run({ urls: [`${site.origin}/missing`] });
    expect(jobs.stats().platforms[0]).toMatchObject({ pages: 6n, retries: 1n, errorsByKind: { http_4xx: 2n, http_5xx: 1n, not_html: 1n } });
  });

  it("fetches what robots.txt disallows when the request says ignore_robots, without asking for robots.txt", async () => {
    const { run } = setup();
    const before = site.requests.length;
    const { job, events } = await run({ urls: [`${site.origin}/private`], ignoreRobots: true });
    expect(job.countersProto()).toMatchObject({ successCount: 1, skipped: {} });
    expect(events.some((e) => e.kind.case === "pageSkipped")).toBe(false);
    expect(site.requests.slice(before)).toEqual(["/private"]);
  });

  it("uses a request's own max_retries", async () => {
    const { run } = setup();
    const { job } = await run({ urls: [`${site.origin}/broken`], maxRetries: 3, ignoreRobots: true });
    expect(job.countersProto()).toMatchObject({ errorCount: 1, retries: 3, errorsByKind: { http_5xx: 1 } });
  });

  it("fails a job whose only start URL robots.txt disallows, saying so", async () => {
    const { run } = setup();
    const { job, events } = await run({ urls: [`${site.origin}/private`] });
    expect(job.status).toBe(JobStatus.FAILED);
    expect(job.error).toBe(`every start URL failed: ${site.origin}/private (disallowed by robots.txt)`);
    expect(job.countersProto()).toMatchObject({ pagesDone: 0, pagesTotal: 0, skipped: { robots: 1 } });
    const kinds = events.map((e) => e.kind.case);
    expect(kinds).toEqual(["started", "taskStarted", "pageSkipped", "taskFailed", "progress", "failed"]);
  });

  it("refuses a site on an address the allow-list does not name, without sending it anything", async () => {
    const { run } = setup({ ...limits, allowAddresses: [] });
    const before = site.requests.length;
    const { job, events } = await run({ urls: [`${site.origin}/`], depth: 1 });
    expect(job.status).toBe(JobStatus.FAILED);
    expect(job.error).toMatch(/blocked_address: address 127\.0\.0\.1 is private, loopback, link-local or reserved/);
    expect(job.countersProto()).toMatchObject({ errorCount: 1, errorsByKind: { blocked_address: 1 } });
    const failed = events.find((e) => e.kind.case === "pageFailed");
    expect(failed?.kind.case === "pageFailed" && failed.kind.value.errorKind).toBe(PageErrorKind.BLOCKED_ADDRESS);
    expect(site.requests.length).toBe(before);
  });
});
