/**
 * The scraper's gRPC contract, driven directly: StartJob validation, GetJob,
 * ListJobs, GetStats, and WatchEvents resumed from an offset with no gap and
 * no duplicate. Every item and failure is checked against the truth model.
 */
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { status as grpcStatus } from "@grpc/grpc-js";
import { CrawlSpecSchema, type JobEvent, JobStatus, Platform, PageErrorKind, type PlatformName, platformFromName } from "@trawl/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CrawlTruth, ExpectedItem } from "../fixture/truth.js";
import { EventRecorder, expectGrpcError, isTerminalEvent, type ScraperClient, scraperClient } from "../support/grpc.js";
import { getJson } from "../support/http.js";
import { type CrawlPlan, truthFor } from "../support/jobs.js";
import type { PlatformStatsView } from "../support/seed000.js";
import { type GatewayProcess, startGateway, startScraper } from "../support/stack.js";
import { useStack } from "../support/suite.js";
import { waitFor } from "../support/wait.js";

const suite = useStack();
let grpc: ScraperClient;
beforeAll(() => {
  grpc = scraperClient(suite.stack.scraper.address);
});
afterAll(() => {
  grpc?.close();
});

const ERROR_KINDS: Record<string, PageErrorKind> = {
  HTTP: PageErrorKind.HTTP,
  TIMEOUT: PageErrorKind.TIMEOUT,
  NETWORK: PageErrorKind.NETWORK,
  NOT_HTML: PageErrorKind.NOT_HTML,
  TOO_LARGE: PageErrorKind.TOO_LARGE,
  TOO_MANY_REDIRECTS: PageErrorKind.TOO_MANY_REDIRECTS,
};

/** Jobs this file ran, for ListJobs/GetStats. */
const ran: { jobId: string; truth: CrawlTruth; platform: PlatformName }[] = [];

async function startJob(plan: CrawlPlan): Promise<{ jobId: string; truth: CrawlTruth }> {
  const { site } = suite.stack;
  const truth = truthFor(site, plan);
  const response = await grpc.startJob({ crawl: create(CrawlSpecSchema, { urls: [site.url(plan.path)], depth: plan.depth, platform: platformFromName(plan.platform) }) });
  const job = response.job;
  expect(job?.id).toBeTruthy();
  expect([JobStatus.PENDING, JobStatus.RUNNING]).toContain(job?.status);
  expect(job?.platform).toBe(platformFromName(plan.platform));
  expect(job?.spec?.urls).toEqual([site.url(plan.path)]);
  ran.push({ jobId: job?.id ?? "", truth, platform: plan.platform });
  return { jobId: job?.id ?? "", truth };
}

/** An item as the proto carries it, reduced to the fields the truth model knows. */
function itemProblems(event: JobEvent, truth: CrawlTruth, checkDepth: boolean): string[] {
  if (event.kind.case !== "itemScraped") return [];
  const item = event.kind.value.item;
  if (!item) return ["ItemScraped without item"];
  const expected: ExpectedItem | undefined = truth.itemsById.get(item.id);
  if (!expected) return [`item ${item.id} (${item.url}) matches no page of the crawl`];
  const problems: string[] = [];
  const check = (field: string, actual: unknown, wanted: unknown): void => {
    if (!Object.is(actual, wanted)) problems.push(`${expected.requestedUrl} ${field}: expected ${JSON.stringify(wanted)}, got ${JSON.stringify(actual)}`);
  };
  if (!expected.urls.includes(item.url)) problems.push(`${expected.requestedUrl} url: got ${item.url}`);
  if (!expected.texts.includes(item.text)) problems.push(`${expected.requestedUrl} text: expected ${JSON.stringify(expected.texts[0])}, got ${JSON.stringify(item.text)}`);
  check("title", item.title, expected.title ?? "");
  check("description", item.description, expected.description ?? "");
  check("word_count", item.wordCount, expected.wordCount);
  check("links_found", item.linksFound, expected.linksFound);
  check("canonical_url", item.canonicalUrl, expected.canonicalUrl ?? "");
  check("author", item.author, expected.author);
  check("channel", item.channel, expected.channel);
  check("subreddit", item.subreddit, expected.subreddit);
  check("likes", item.likes === undefined ? undefined : Number(item.likes), expected.likes);
  check("retweets", item.retweets === undefined ? undefined : Number(item.retweets), expected.retweets);
  check("views", item.views === undefined ? undefined : Number(item.views), expected.views);
  check("comments", item.comments === undefined ? undefined : Number(item.comments), expected.comments);
  check("duration_seconds", item.durationSeconds, expected.durationSeconds);
  check("published_at", item.publishedAt ? timestampDate(item.publishedAt).toISOString() : undefined, expected.publishedAt);
  if (checkDepth) check("depth", item.depth, expected.depth);
  return problems;
}

/** Everything one job's event sequence must satisfy, against the truth. */
function expectJobEvents(events: readonly JobEvent[], jobId: string, truth: CrawlTruth, options: { checkDepth: boolean }): void {
  expect(events.map((event) => Number(event.seq)), "seq is 1, 2, 3… with no gap or duplicate").toEqual(events.map((_, i) => i + 1));
  for (let i = 1; i < events.length; i++) expect(events[i]?.offset, "offsets strictly increase").toBeGreaterThan(events[i - 1]?.offset ?? 0n);
  expect(events.every((event) => event.jobId === jobId)).toBe(true);
  expect(events.every((event) => event.time !== undefined)).toBe(true);
  expect(events[0]?.kind.case, "JobStarted first").toBe("started");
  expect(events[1]?.kind.case, "then TaskStarted").toBe("taskStarted");
  const terminal = events.at(-1);
  expect(terminal && isTerminalEvent(terminal), "ends with exactly one terminal event").toBe(true);
  expect(events.filter(isTerminalEvent)).toHaveLength(1);
  expect(events.at(-2)?.kind.case, "a final JobProgress right before the terminal event").toBe("progress");
  expect(events.filter((event) => event.kind.case === "taskFinished" || event.kind.case === "taskFailed")).toHaveLength(1);
  expect(terminal?.kind.case).toBe("completed");
  if (terminal?.kind.case === "completed") {
    expect(terminal.kind.value.counters).toMatchObject({ pagesDone: truth.pagesDone, pagesTotal: truth.pagesTotal, successCount: truth.successCount, errorCount: truth.errorCount, items: truth.successCount });
  }
  const finalProgress = events.at(-2);
  if (finalProgress?.kind.case === "progress") {
    expect(finalProgress.kind.value.counters).toMatchObject({ pagesDone: truth.pagesDone, successCount: truth.successCount, errorCount: truth.errorCount });
  }

  const scraped = events.filter((event) => event.kind.case === "itemScraped");
  expect(scraped, "one ItemScraped per successful page").toHaveLength(truth.successCount);
  expect(scraped.flatMap((event) => itemProblems(event, truth, options.checkDepth))).toEqual([]);
  const scrapedUrls = scraped.map((event) => (event.kind.case === "itemScraped" ? event.kind.value.url : ""));
  expect(new Set(scrapedUrls).size, "no page scraped twice").toBe(scrapedUrls.length);

  const failures = events.flatMap((event) => (event.kind.case === "pageFailed" ? [event.kind.value] : []));
  const expectedFailures = truth.pages
    .filter((page) => !page.outcome.ok)
    .map((page) => ({ url: page.url, kind: page.outcome.ok ? 0 : ERROR_KINDS[page.outcome.kind], status: page.outcome.ok ? 0 : (page.outcome.httpStatus ?? 0), ...(options.checkDepth ? { depth: page.depth } : {}) }))
    .sort((a, b) => a.url.localeCompare(b.url));
  const actualFailures = failures
    .map((failure) => ({ url: failure.url, kind: failure.errorKind, status: failure.httpStatus, ...(options.checkDepth ? { depth: failure.depth } : {}) }))
    .sort((a, b) => a.url.localeCompare(b.url));
  expect(actualFailures, "PageFailed per error page, with kind and HTTP status").toEqual(expectedFailures);

  // Counters carried by per-page events only grow, one page at a time.
  const perPage = events.flatMap((event) => (event.kind.case === "itemScraped" || event.kind.case === "pageFailed" ? [event.kind.value.counters?.pagesDone ?? 0] : []));
  expect(perPage, "pages_done after each page event is 1, 2, 3…").toEqual(perPage.map((_, i) => i + 1));
}

describe("gRPC", () => {
  it.each([
    ["no start URL", { urls: [] }, /url/i],
    ["an unparsable URL", { urls: ["not a url"] }, /url/i],
    ["an ftp URL", { urls: ["ftp://example.invalid/"] }, /url/i],
    ["a depth above CRAWL_MAX_DEPTH", { urls: ["http://127.0.0.1:9/"], depth: 11 }, /depth/i],
    ["max_pages above CRAWL_MAX_PAGES_LIMIT", { urls: ["http://127.0.0.1:9/"], maxPages: 5001 }, /max_?pages/i],
  ])("StartJob with %s is INVALID_ARGUMENT naming the field", async (_name, spec, field) => {
    const error = await expectGrpcError(grpc.startJob({ crawl: create(CrawlSpecSchema, spec) }));
    expect(error.code).toBe(grpcStatus.INVALID_ARGUMENT);
    expect(error.details).toMatch(field);
  });

  it("StartJob without a crawl spec is INVALID_ARGUMENT", async () => {
    const error = await expectGrpcError(grpc.startJob({}));
    expect(error.code).toBe(grpcStatus.INVALID_ARGUMENT);
  });

  it("WatchEvents resumed from an offset noted mid-way continues with no gap and no duplicate", async () => {
    const { jobId, truth } = await startJob({ path: "/", depth: 10, platform: "web" });
    const first = EventRecorder.watch(grpc, { jobId });
    await first.waitForEvent("40 events", () => first.events.length >= 40);
    await first.cancel();
    const seen = first.events.filter((event) => event.jobId === jobId);
    const noted = seen.at(-1);
    expect(noted).toBeDefined();
    if (!noted) return;

    const resumed = EventRecorder.watch(grpc, { jobId, afterOffset: noted.offset });
    await resumed.waitForTerminal(jobId, { timeoutMs: 120_000 });
    await resumed.cancel();
    expect(resumed.snapshots, "no snapshot when the offset is still retained").toEqual([]);
    const rest = resumed.events;
    expect(rest[0]?.offset, "first resumed event is after the noted offset").toBeGreaterThan(noted.offset);
    expect(Number(rest[0]?.seq), "and continues the job's sequence").toBe(Number(noted.seq) + 1);
    expectJobEvents([...seen, ...rest], jobId, truth, { checkDepth: false });
  });

  it("a depth-2 crawl's items and failures carry their exact depth", async () => {
    const { jobId, truth } = await startJob({ path: "/", depth: 2, platform: "web" });
    const watcher = EventRecorder.watch(grpc, { jobId });
    await watcher.waitForTerminal(jobId, { timeoutMs: 120_000 });
    await watcher.cancel();
    expectJobEvents(watcher.events, jobId, truth, { checkDepth: true });
  });

  it.each([
    ["/twitter/", "twitter"],
    ["/youtube/", "youtube"],
    ["/r/", "reddit"],
  ] as const)("a %s crawl as platform %s extracts every platform field", async (path, platform) => {
    const { jobId, truth } = await startJob({ path, depth: 2, platform });
    const watcher = EventRecorder.watch(grpc, { jobId });
    await watcher.waitForTerminal(jobId, { timeoutMs: 120_000 });
    await watcher.cancel();
    expectJobEvents(watcher.events, jobId, truth, { checkDepth: true });
  });

  it("the whole log has offsets 1, 2, 3… across jobs", async () => {
    const all = EventRecorder.watch(grpc, {});
    const lastJob = ran.at(-1)?.jobId ?? "";
    await all.waitForTerminal(lastJob);
    await all.cancel();
    expect(all.events[0]?.offset).toBe(1n);
    expect(all.events.map((event) => Number(event.offset))).toEqual(all.events.map((_, i) => i + 1));
    const perJob = new Map<string, number[]>();
    for (const event of all.events) perJob.set(event.jobId, [...(perJob.get(event.jobId) ?? []), Number(event.seq)]);
    expect([...perJob.keys()].sort()).toEqual(ran.map((job) => job.jobId).sort());
    for (const [, seqs] of perJob) expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it("GetJob returns each finished job with its true counters; NOT_FOUND for an unknown id", async () => {
    for (const { jobId, truth, platform } of ran) {
      const { job } = await grpc.getJob({ jobId });
      expect(job?.id).toBe(jobId);
      expect(job?.status).toBe(JobStatus.COMPLETED);
      expect(job?.platform).toBe(platformFromName(platform));
      expect(job?.counters).toMatchObject({ pagesDone: truth.pagesDone, pagesTotal: truth.pagesTotal, successCount: truth.successCount, errorCount: truth.errorCount, items: truth.successCount });
      expect(job?.startedAt && job.finishedAt).toBeTruthy();
      if (job?.startedAt && job.finishedAt) expect(timestampDate(job.finishedAt).getTime()).toBeGreaterThanOrEqual(timestampDate(job.startedAt).getTime());
      expect(Number(job?.lastSeq)).toBeGreaterThan(0);
    }
    const missing = await expectGrpcError(grpc.getJob({ jobId: "no-such-job" }));
    expect(missing.code).toBe(grpcStatus.NOT_FOUND);
  });

  it("ListJobs pages through every job, newest first, and filters by status", async () => {
    const ids: string[] = [];
    let pageToken = "";
    for (let page = 0; page < 20; page++) {
      const response = await grpc.listJobs({ pageSize: 2, pageToken });
      expect(response.jobs.length).toBeLessThanOrEqual(2);
      ids.push(...response.jobs.map((job) => job.id));
      pageToken = response.nextPageToken;
      if (pageToken === "") break;
    }
    expect(ids, "newest first, each once").toEqual(ran.map((job) => job.jobId).reverse());
    const completed = await grpc.listJobs({ statuses: [JobStatus.COMPLETED] });
    expect(completed.jobs).toHaveLength(ran.length);
    const running = await grpc.listJobs({ statuses: [JobStatus.RUNNING, JobStatus.PENDING] });
    expect(running.jobs).toEqual([]);
  });

  it("GetStats sums every job per platform", async () => {
    const stats = await grpc.getStats({});
    expect(stats.totalJobs).toBe(ran.length);
    expect(stats.activeJobs).toBe(0);
    for (const platform of ["web", "twitter", "youtube", "reddit"] as const) {
      const jobs = ran.filter((job) => job.platform === platform);
      const entry = stats.platforms.find((candidate) => candidate.platform === platformFromName(platform));
      const success = jobs.reduce((sum, job) => sum + job.truth.successCount, 0);
      const errors = jobs.reduce((sum, job) => sum + job.truth.errorCount, 0);
      expect(entry, `GetStats ${platform}`).toBeDefined();
      expect([Number(entry?.pages), Number(entry?.successCount), Number(entry?.errorCount), Number(entry?.totalItems)], platform).toEqual([success + errors, success, errors, success]);
    }
    expect(stats.platforms.every((entry) => entry.platform !== Platform.UNSPECIFIED)).toBe(true);
  });

  it("CancelJob on a finished job is FAILED_PRECONDITION, on an unknown job NOT_FOUND", async () => {
    const finished = ran[0]?.jobId ?? "";
    expect((await expectGrpcError(grpc.cancelJob({ jobId: finished }))).code).toBe(grpcStatus.FAILED_PRECONDITION);
    expect((await expectGrpcError(grpc.cancelJob({ jobId: "no-such-job" }))).code).toBe(grpcStatus.NOT_FOUND);
  });
});

describe("gRPC with a trimmed event log", () => {
  it("WatchEvents from a trimmed offset starts with a Snapshot of the current state, then continues live; a new gateway rebuilds from it", async () => {
    const { site } = suite.stack;
    const scraper = await startScraper({ EVENT_LOG_MAX_EVENTS: "20" });
    const client = scraperClient(scraper.address);
    let gateway: GatewayProcess | undefined;
    try {
      const plan: CrawlPlan = { path: "/", depth: 2, platform: "web" };
      const truth = truthFor(site, plan);
      const started = await client.startJob({ crawl: create(CrawlSpecSchema, { urls: [site.url(plan.path)], depth: plan.depth }) });
      const jobId = started.job?.id ?? "";
      await waitFor("the job to finish", async () => (await client.getJob({ jobId })).job?.status === JobStatus.COMPLETED, { timeoutMs: 120_000, intervalMs: 100 });

      const watcher = EventRecorder.watch(client, { afterOffset: 0n });
      const [snapshot] = await waitFor("a snapshot", () => (watcher.snapshots.length > 0 ? watcher.snapshots : undefined));
      expect(watcher.events, "nothing before the snapshot").toEqual([]);
      expect(snapshot?.offset, "snapshot.offset is the head offset").toBeGreaterThan(20n);
      expect(snapshot?.jobs.map((job) => job.id)).toEqual([jobId]);
      expect(snapshot?.jobs[0]?.status).toBe(JobStatus.COMPLETED);
      expect(snapshot?.jobs[0]?.counters).toMatchObject({ pagesDone: truth.pagesDone, successCount: truth.successCount, errorCount: truth.errorCount });
      const web = snapshot?.platforms.find((entry) => entry.platform === Platform.WEB);
      expect([Number(web?.pages), Number(web?.successCount), Number(web?.errorCount)]).toEqual([truth.pagesDone, truth.successCount, truth.errorCount]);

      // Live events continue right after the snapshot's offset.
      const next = await client.startJob({ crawl: create(CrawlSpecSchema, { urls: [site.url("/team/")], depth: 0 }) });
      const nextId = next.job?.id ?? "";
      await watcher.waitForTerminal(nextId);
      await watcher.cancel();
      expect(watcher.snapshots).toHaveLength(1);
      expect(watcher.events[0]?.offset).toBe((snapshot?.offset ?? 0n) + 1n);
      expect(watcher.events.map((event) => Number(event.seq))).toEqual(watcher.events.map((_, i) => i + 1));

      // A gateway that starts now can only learn the first job from the snapshot.
      gateway = await startGateway([scraper.address]);
      const rebuilt = await waitFor("the new gateway to rebuild web stats", async () => {
        const status = await getJson<{ platform_stats: Record<string, PlatformStatsView> }>(`${gateway?.url}/ws/scraping/status`);
        return status.body.platform_stats.web?.total_items === truth.pagesDone + 1 ? status.body : undefined;
      });
      expect(rebuilt.platform_stats.web).toMatchObject({ total_items: truth.pagesDone + 1, success_count: truth.successCount + 1, error_count: truth.errorCount });
      const polled = await getJson<Record<string, unknown>>(`${gateway.url}/ws/scraping/${jobId}/status`);
      expect(polled.body).toMatchObject({ status: "completed", items_scraped: truth.pagesDone, success_count: truth.successCount, error_count: truth.errorCount });
    } finally {
      client.close();
      await gateway?.stop();
      await scraper.stop();
    }
  });
});
