/**
 * The gateway's tRPC API (`/trpc`) against the real scraper and gateway
 * processes and the fixture site, driven by real @trpc/client instances over
 * both transports (one WebSocket; HTTP batching + SSE): every procedure,
 * every number checked against the fixture truth, every event stream checked
 * seq by seq — and resumption: a client dropped mid-crawl, or whose gateway
 * was killed, subscribes again with the last id it received and ends up with
 * every event of the job exactly once, in order.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ItemRecord, PlatformName } from "@trawl/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CrawlTruth, crawlTruth, type ExpectedItem } from "../fixture/truth.js";
import { EventRecorder as GrpcEventRecorder, scraperClient } from "../support/grpc.js";
import { type CrawlPlan, truthFor } from "../support/jobs.js";
import { ISO_TIMESTAMP } from "../support/seed000.js";
import { TEST_REQUEST_TIMEOUT_MS } from "../support/stack.js";
import { useStack } from "../support/suite.js";
import {
  type Client,
  type Connection,
  cursorNow,
  errorKindName,
  eventKind,
  expectEventsMatchTruth,
  expectWholeJobStream,
  type JobEventRecorder,
  kindsOf,
  ofKind,
  type StatsTick,
  type TrackedEvent,
  TRANSPORTS,
  TrpcClients,
  type TrpcError,
  trpcError,
  useTrpcClients,
} from "../support/trpc.js";
import { waitFor } from "../support/wait.js";

/** A directory tree for scans; its root is the scraper's only SCAN_ROOTS entry. */
function createScanRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "trawl-trpc-scan-"));
  mkdirSync(join(root, "docs", "nested"), { recursive: true });
  writeFileSync(join(root, "docs", "readme.txt"), "hello");
  writeFileSync(join(root, "docs", "data.csv"), "a,b\n1,2\n");
  writeFileSync(join(root, "docs", "nested", "report.pdf"), Buffer.alloc(1000));
  return root;
}

const scanRoot = createScanRoot();
const suite = useStack({ scraperEnv: { SCAN_ROOTS: scanRoot } });
const trpc = useTrpcClients(() => suite.stack.gateway.url);
afterAll(() => rmSync(scanRoot, { recursive: true, force: true }));

/**
 * Per-job politeness that makes a crawl of the fixture last seconds (at most
 * 100 requests a second), so a test can act while it runs. Pacing changes
 * when pages are fetched, never what the truth says about them.
 */
const PACED = { per_host_concurrency: 2, per_host_delay_ms: 10 } as const;

/** A crawl of ~280 pages: paced, it runs for seconds. */
const LONG_CRAWL: CrawlPlan = { path: "/", depth: 3, platform: "web" };

type StartInput = Parameters<Client["jobs"]["start"]["mutate"]>[0];
type JobJson = Awaited<ReturnType<Client["jobs"]["get"]["query"]>>;

/** jobs.start for a plan; asserts the answer's shape (the REST `/api/scrape` fields, without its message). */
async function startCrawl(client: Client, plan: CrawlPlan, extra: Partial<StartInput> = {}): Promise<string> {
  const url = suite.stack.site.url(plan.path);
  const started = await client.jobs.start.mutate({ url, depth: plan.depth, platform: plan.platform, ...(plan.maxPages === undefined ? {} : { max_pages: plan.maxPages }), ...extra });
  expect(Object.keys(started).sort(), "jobs.start answer keys").toEqual(["estimated_time_seconds", "job_id", "status", "url"]);
  expect(started).toMatchObject({ status: "started", url });
  expect(started.job_id.length).toBeGreaterThan(0);
  expect(started.estimated_time_seconds).toBeGreaterThanOrEqual(0);
  return started.job_id;
}

/** The truth for a crawl of several start URLs of the fixture site. */
function batchTruth(paths: readonly string[], depth: number, platform: PlatformName): CrawlTruth {
  const { site } = suite.stack;
  return crawlTruth(site.graph, {
    startUrls: paths.map((path) => site.url(path)),
    depth,
    platform,
    conditions: { requestTimeoutMs: TEST_REQUEST_TIMEOUT_MS, slowDelayMs: site.options.slowDelayMs, pageLatencyMs: site.options.pageLatencyMs },
  });
}

/** Waits until jobs.get reports `status`. */
async function waitForStatus(client: Client, id: string, status: JobJson["status"]): Promise<JobJson> {
  return waitFor(`job ${id} to be ${status}`, async () => {
    const job = await client.jobs.get.query({ id });
    return job.status === status ? job : undefined;
  });
}

/** A finished crawl's JobJson as the truth says it must read. */
function expectFinishedJob(job: JobJson, expected: { id: string; plan: CrawlPlan; truth: CrawlTruth; lastSeq: number; urls?: readonly string[] }): void {
  const urls = expected.urls ?? [suite.stack.site.url(expected.plan.path)];
  expect(job).toMatchObject({
    job_id: expected.id,
    kind: "crawl",
    platform: expected.plan.platform,
    status: "completed",
    urls,
    depth: expected.plan.depth,
    error: null,
    scan: null,
    last_seq: expected.lastSeq,
    scraper: suite.stack.scraper.address,
  });
  expect(job.counters).toMatchObject({
    pages_done: expected.truth.pagesDone,
    pages_total: expected.truth.pagesTotal,
    success_count: expected.truth.successCount,
    error_count: expected.truth.errorCount,
    items: expected.truth.successCount,
  });
  for (const key of ["created_at", "started_at", "finished_at"] as const) expect(job[key], key).toMatch(ISO_TIMESTAMP);
  expect(Date.parse(job.finished_at ?? "")).toBeGreaterThanOrEqual(Date.parse(job.started_at ?? ""));
}

/** Every item of a job, following next_page_token until it is null. */
async function allItems(client: Client, id: string, options: { pageSize: number; query?: string }): Promise<{ total: number; items: ItemRecord[]; pages: number }> {
  const items: ItemRecord[] = [];
  let total: number | undefined;
  let pageToken: string | null = null;
  let pages = 0;
  do {
    const page: Awaited<ReturnType<Client["jobs"]["items"]["query"]>> = await client.jobs.items.query({
      id,
      pageSize: options.pageSize,
      ...(pageToken === null ? {} : { pageToken }),
      ...(options.query === undefined ? {} : { query: options.query }),
    });
    pages++;
    expect(page.job_id).toBe(id);
    expect(page.items.length, "a page holds at most pageSize items").toBeLessThanOrEqual(options.pageSize);
    if (total !== undefined) expect(page.total, "total is the same on every page").toBe(total);
    total = page.total;
    items.push(...page.items);
    pageToken = page.next_page_token;
    expect(pages, "pages needed for the total").toBeLessThanOrEqual(Math.ceil(total / options.pageSize) + 1);
  } while (pageToken !== null);
  return { total: total ?? 0, items, pages };
}

/** Each listed item is a distinct expected item with the truth's fields, and none is missing. */
function expectItemsMatchTruth(items: readonly ItemRecord[], expected: readonly ExpectedItem[]): void {
  const byId = new Map(expected.flatMap((item) => item.ids.map((id) => [id, item] as const)));
  const seen = new Set<ExpectedItem>();
  const problems: string[] = [];
  for (const item of items) {
    const truth = byId.get(item.id);
    if (truth === undefined) {
      problems.push(`item ${item.id} (${item.url}) is not expected`);
      continue;
    }
    if (seen.has(truth)) problems.push(`${truth.requestedUrl} listed twice`);
    seen.add(truth);
    const actual = { url: truth.urls.includes(item.url), title: item.title, depth: item.depth, word_count: item.word_count, links_found: item.links_found };
    const wanted = { url: true, title: truth.title, depth: truth.depth, word_count: truth.wordCount, links_found: truth.linksFound };
    if (JSON.stringify(actual) !== JSON.stringify(wanted)) problems.push(`${truth.requestedUrl}: ${JSON.stringify(actual)} != ${JSON.stringify(wanted)}`);
  }
  const missing = expected.filter((item) => !seen.has(item)).map((item) => item.requestedUrl);
  if (missing.length > 0) problems.push(`not listed: ${missing.join(", ")}`);
  expect(problems, "items vs truth").toEqual([]);
}

/** The truth items a search for `query` finds: title, description, text or URL contain it, in any case. */
function truthMatches(truth: CrawlTruth, query: string): ExpectedItem[] {
  const needle = query.toLowerCase();
  const has = (value: string | undefined): boolean => value?.toLowerCase().includes(needle) === true;
  const may = truth.items.filter((item) => has(item.title) || has(item.description) || item.texts.some(has) || item.urls.some(has));
  const must = truth.items.filter((item) => has(item.title) || has(item.description) || item.texts.every(has) || item.urls.every(has));
  expect(must, `the truth is unambiguous about "${query}"`).toEqual(may);
  return must;
}

/** The same events, compared by what they are (seq, offset, kind, payload) and by their ids. */
function expectSameEvents(actual: readonly TrackedEvent[], expected: readonly TrackedEvent[], label: string): void {
  expect(
    actual.map((event) => `${event.data.seq}@${event.data.offset}:${eventKind(event.data)}`),
    `${label}: seq@offset:kind`,
  ).toEqual(expected.map((event) => `${event.data.seq}@${event.data.offset}:${eventKind(event.data)}`));
  expect(actual, `${label}: ids and payloads`).toEqual(expected);
}

describe("a crawl followed over tRPC", () => {
  const plan: CrawlPlan = { path: "/", depth: 2, platform: "web" };
  const clients = new TrpcClients(() => suite.stack.gateway.url);
  let truth: CrawlTruth;
  let jobId: string;
  let cursor: string;
  let allJobs: JobEventRecorder;
  let byJobWs: JobEventRecorder;
  let byJobSse: JobEventRecorder;
  let failuresLive: JobEventRecorder;

  beforeAll(async () => {
    truth = truthFor(suite.stack.site, plan);
    const ws = clients.ws();
    const http = clients.http();
    // Opened without lastEventId: live from the moment the server acknowledged it.
    allJobs = clients.watchEvents(ws, {});
    await allJobs.waitForStart();
    cursor = await cursorNow(http.client);
    jobId = await startCrawl(http.client, plan);
    byJobWs = clients.watchEvents(ws, { jobId, lastEventId: cursor });
    byJobSse = clients.watchEvents(http, { jobId, lastEventId: cursor });
    failuresLive = clients.watchEvents(ws, { jobId, types: ["pageFailed", "completed"], lastEventId: cursor });
    await Promise.all([allJobs, byJobWs, byJobSse, failuresLive].map((recorder) => recorder.waitForTerminal(jobId)));
  });
  afterAll(() => clients.closeAll());

  it("events.watch({ jobId }) delivers the whole job, seq 1..N ending in completed, as the truth says — over WebSocket and SSE alike", () => {
    expectWholeJobStream(byJobWs.events, jobId);
    expectEventsMatchTruth(byJobWs.events, truth);
    expect(ofKind(byJobWs.events, "progress").length, "progress events").toBeGreaterThan(0);
    expectSameEvents(byJobSse.events, byJobWs.events, "SSE vs WebSocket");
    expect([...byJobWs.errors, ...byJobSse.errors]).toEqual([]);
  });

  it("events.watch() opened before the job saw it from its first event", () => {
    const events = allJobs.of(jobId);
    expectWholeJobStream(events, jobId);
    expectSameEvents(events, byJobWs.events, "all-jobs watch vs job watch");
    expect(allJobs.errors).toEqual([]);
  });

  it("types: [\"pageFailed\"] delivers exactly the truth's failed pages, live and replayed", async () => {
    const failures = ofKind(byJobWs.events, "pageFailed");
    expect(failures).toHaveLength(truth.errorCount);
    expect(kindsOf(failuresLive.events)).toEqual([...failures.map(() => "pageFailed"), "completed"]);
    expectSameEvents(failuresLive.events.slice(0, -1), failures, "live pageFailed watch");

    // Replayed from the scraper's log, long after the job ended.
    const replayed = trpc.watchEvents(trpc.http(), { jobId, types: ["pageFailed"], lastEventId: cursor });
    await replayed.waitForCount(truth.errorCount);
    expectSameEvents(replayed.events, failures, "replayed pageFailed watch over SSE");
    const byUrl = new Map(truth.pages.map((page) => [page.url, page.outcome]));
    for (const { data } of replayed.events) {
      const outcome = byUrl.get(data.pageFailed?.url ?? "");
      expect(outcome?.ok, `${data.pageFailed?.url} fails in the truth`).toBe(false);
      if (outcome?.ok === false) {
        expect(data.pageFailed?.errorKind).toBe(errorKindName(outcome.kind));
        if (outcome.httpStatus !== undefined) expect(data.pageFailed?.httpStatus).toBe(outcome.httpStatus);
      }
    }
  });

  it.each(TRANSPORTS)("jobs.get over $name reports the truth's counters", async ({ transport }) => {
    const job = await trpc.connect(transport).client.jobs.get.query({ id: jobId });
    expectFinishedJob(job, { id: jobId, plan, truth, lastSeq: byJobWs.events.length });
    expect(job.counters.errors_by_kind).toBeTypeOf("object");
  });

  it.each(TRANSPORTS)("jobs.items over $name pages through every item exactly once", async ({ transport }) => {
    const { client } = trpc.connect(transport);
    const { total, items, pages } = await allItems(client, jobId, { pageSize: 7 });
    expect(total).toBe(truth.successCount);
    expect(pages).toBe(Math.ceil(truth.successCount / 7));
    expectItemsMatchTruth(items, truth.items);
    expect(items.map((item) => item.id)).toEqual(ofKind(byJobWs.events, "itemScraped").map((event) => event.data.itemScraped?.item?.id));
  });

  it.each(TRANSPORTS)("jobs.items over $name refuses a pageToken it did not issue with BAD_REQUEST naming pageToken", async ({ transport }) => {
    const error = await trpcError(trpc.connect(transport).client.jobs.items.query({ id: jobId, pageToken: "not-a-token" }));
    expect(error.data, error.message).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400, field: "pageToken" });
  });

  it.each([
    { query: "ENGINEERING", pageSize: 2 },
    { query: "Q&A", pageSize: 50 },
    { query: "_", pageSize: 50 },
    { query: "%", pageSize: 50 },
    { query: "no such text anywhere", pageSize: 50 },
  ])("jobs.items query $query finds exactly the truth's items containing it (case-insensitive substring)", async ({ query, pageSize }) => {
    const expected = truthMatches(truth, query);
    const found = await allItems(trpc.ws().client, jobId, { pageSize, query });
    expect(found.total).toBe(expected.length);
    expectItemsMatchTruth(found.items, expected);
  });
});

describe("batches and directory scans", () => {
  it("jobs.start with urls crawls every start URL as a task of one job", async () => {
    const { site } = suite.stack;
    const paths = ["/youtube/", "/r/", site.graph.paths.missing];
    const urls = paths.map((path) => site.url(path));
    const truth = batchTruth(paths, 0, "web");
    const ws = trpc.ws();
    const cursor = await cursorNow(ws.client);
    const started = await ws.client.jobs.start.mutate({ urls, depth: 0 });
    expect(Object.keys(started).sort()).toEqual(["estimated_time_seconds", "job_id", "status", "url", "urls"]);
    expect(started).toMatchObject({ status: "started", url: urls[0], urls });
    const events = trpc.watchEvents(ws, { jobId: started.job_id, lastEventId: cursor });
    await events.waitForTerminal(started.job_id);
    expectWholeJobStream(events.events, started.job_id);
    expectEventsMatchTruth(events.events, truth);
    expect(ofKind(events.events, "taskStarted").map((event) => event.data.taskStarted?.url)).toEqual(urls);
    expect(ofKind(events.events, "taskFinished").map((event) => event.data.taskFinished?.url)).toEqual(urls.slice(0, 2));
    expect(ofKind(events.events, "taskFailed").map((event) => event.data.taskFailed?.url)).toEqual(urls.slice(2));
    const job = await ws.client.jobs.get.query({ id: started.job_id });
    expectFinishedJob(job, { id: started.job_id, plan: { path: "/youtube/", depth: 0, platform: "web" }, truth, lastSeq: events.events.length, urls });
  });

  it.each([
    { recursive: true, files: ["/docs/data.csv", "/docs/nested/report.pdf", "/docs/readme.txt"], totalSize: 1013 },
    { recursive: false, files: ["/docs/data.csv", "/docs/readme.txt"], totalSize: 13 },
  ])("jobs.scan (recursive: $recursive) lists the files really in the directory", async ({ recursive, files, totalSize }) => {
    const ws = trpc.ws();
    const cursor = await cursorNow(ws.client);
    const started = await ws.client.jobs.scan.mutate({ path: "docs", recursive });
    expect(started).toMatchObject({ status: "started", path: "docs" });
    const events = trpc.watchEvents(trpc.http(), { jobId: started.job_id, lastEventId: cursor });
    await events.waitForTerminal(started.job_id);
    expectWholeJobStream(events.events, started.job_id);
    const [result] = ofKind(events.events, "scanCompleted").map((event) => event.data.scanCompleted);
    expect(result?.files?.map((file) => file.path).sort()).toEqual(files);
    expect(result?.count).toBe(files.length);
    expect(Number(result?.totalSize)).toBe(totalSize);
    const job = await trpc.http().client.jobs.get.query({ id: started.job_id });
    expect(job).toMatchObject({ job_id: started.job_id, kind: "scan", status: "completed", scan: { path: "docs", recursive }, last_seq: events.events.length });
    expect(job.counters).toMatchObject({ files: files.length, total_size: totalSize });
  });
});

describe("controlling a running crawl", () => {
  it("jobs.pause, jobs.resume and jobs.cancel steer it; events, jobs.get, jobs.list and stats.overview follow", async () => {
    const truth = truthFor(suite.stack.site, LONG_CRAWL);
    const ws = trpc.ws();
    const { client } = ws;
    const cursor = await cursorNow(client);
    const id = await startCrawl(client, LONG_CRAWL, PACED);
    const events = trpc.watchEvents(trpc.http(), { jobId: id, lastEventId: cursor });
    await events.waitUntil("5 items scraped", () => ofKind(events.events, "itemScraped").length >= 5);

    expect(await client.jobs.pause.mutate({ id })).toMatchObject({ job_id: id, status: "paused" });
    await events.waitUntil("the paused event", () => ofKind(events.events, "paused").length === 1);
    expect((await trpc.http().client.jobs.get.query({ id })).status).toBe("paused");
    const paused = await client.jobs.list.query({ statuses: ["paused"] });
    expect(paused.jobs.map((job) => job.job_id)).toContain(id);
    expect(paused.jobs.every((job) => job.status === "paused")).toBe(true);

    const overview = await client.stats.overview.query();
    expect(overview.at).toMatch(ISO_TIMESTAMP);
    const active = overview.active_jobs.find((job) => job.job_id === id);
    expect(active).toMatchObject({ job_id: id, platform: "web", status: "paused", url: suite.stack.site.url(LONG_CRAWL.path) });
    expect(active?.items_scraped).toBe((active?.success_count ?? 0) + (active?.error_count ?? 0));
    if (active?.current_item != null) expect(truth.itemsById.has(active.current_item.id), `current_item ${active.current_item.id} is a page of the crawl`).toBe(true);
    expect(overview.scrapers).toEqual([{ address: suite.stack.scraper.address, connected: true, last_offset: expect.any(Number) }]);
    const previews = overview.recent_previews.filter((preview) => preview.job_id === id);
    expect(previews.length, "previews of the paused job's items").toBeGreaterThan(0);
    for (const preview of previews) {
      expect(preview.platform).toBe("web");
      expect(preview.at).toMatch(ISO_TIMESTAMP);
      expect(truth.itemsById.has(preview.item.id), `preview ${preview.item.id} is a page of the crawl`).toBe(true);
    }

    expect(await client.jobs.resume.mutate({ id })).toMatchObject({ job_id: id, status: "running" });
    await events.waitUntil("the resumed event", () => ofKind(events.events, "resumed").length === 1);
    const cancelled = await client.jobs.cancel.mutate({ id, reason: "enough" });
    expect(cancelled).toMatchObject({ job_id: id, status: "cancelled" });
    const terminal = await events.waitForTerminal(id);
    expect(terminal.data.cancelled?.reason).toBe("enough");
    expectWholeJobStream(events.events, id, "cancelled");
    expect(kindsOf(events.events).filter((kind) => kind === "paused" || kind === "resumed")).toEqual(["paused", "resumed"]);
    const done = terminal.data.cancelled?.counters?.pagesDone ?? 0;
    expect(done, "cancelled mid-way").toBeLessThan(truth.pagesDone);
    expect(ofKind(events.events, "itemScraped").length + ofKind(events.events, "pageFailed").length).toBe(done);

    const job = await trpc.http().client.jobs.get.query({ id });
    expect(job).toMatchObject({ status: "cancelled", error: "enough", last_seq: events.events.length });
    expect(job.counters.pages_done).toBe(done);
    expect((await client.stats.overview.query()).active_jobs.map((entry) => entry.job_id)).not.toContain(id);
  });
});

describe("jobs.list", () => {
  /** One-page jobs, each created after the previous one finished; two of them web. */
  const made: Array<{ id: string; platform: PlatformName; createdMs: number }> = [];

  beforeAll(async () => {
    const { client } = trpc.http();
    for (const [path, platform] of [
      ["/", "web"],
      ["/youtube/", "youtube"],
      ["/r/", "reddit"],
      ["/team/", "web"],
    ] as const) {
      const previous = made.at(-1)?.createdMs ?? 0;
      await waitFor("the clock to move past the previous job's creation", () => Date.now() > previous + 2);
      const id = await startCrawl(client, { path, depth: 0, platform });
      const job = await waitForStatus(client, id, "completed");
      made.push({ id, platform, createdMs: Date.parse(job.created_at ?? "") });
    }
  });

  const ours = (jobs: readonly JobJson[]): string[] => jobs.map((job) => job.job_id).filter((id) => made.some((entry) => entry.id === id));
  /** Ids newest first, as listings order them. */
  const ids = (entries: typeof made): string[] => entries.map((entry) => entry.id).reverse();
  const idsOf = (platforms: readonly PlatformName[]): string[] => ids(made.filter((entry) => platforms.includes(entry.platform)));
  /** An instant strictly between the creation of made[i] and made[i + 1]. */
  const between = (i: number): string => {
    const [a, b] = [made[i]?.createdMs ?? 0, made[i + 1]?.createdMs ?? 0];
    expect(b - a, "creation times far enough apart to split").toBeGreaterThanOrEqual(2);
    return new Date(Math.floor((a + b) / 2)).toISOString();
  };

  it("lists newest first, with statuses filtering", async () => {
    const { client } = trpc.ws();
    const all = await client.jobs.list.query({ limit: 500 });
    expect(all.next_cursor).toBeNull();
    expect(ours(all.jobs)).toEqual(ids(made));
    const created = all.jobs.map((job) => Date.parse(job.created_at ?? ""));
    expect(created, "newest first").toEqual([...created].sort((a, b) => b - a));

    const completed = await client.jobs.list.query({ statuses: ["completed"], limit: 500 });
    expect(completed.jobs.every((job) => job.status === "completed")).toBe(true);
    expect(ours(completed.jobs)).toEqual(ids(made));
    const elsewhere = await client.jobs.list.query({ statuses: ["running", "paused", "failed"], limit: 500 });
    expect(ours(elsewhere.jobs)).toEqual([]);
  });

  it.each<{ platforms: PlatformName[] }>([{ platforms: ["youtube"] }, { platforms: ["youtube", "reddit"] }, { platforms: ["twitter"] }])(
    "filters by platforms $platforms",
    async ({ platforms }) => {
      const listed = await trpc.http().client.jobs.list.query({ platforms, limit: 500 });
      expect(listed.jobs.every((job) => platforms.includes(job.platform))).toBe(true);
      expect(ours(listed.jobs)).toEqual(idsOf(platforms));
    },
  );

  it("filters by creation time: createdAfter includes later jobs, createdBefore earlier ones", async () => {
    const { client } = trpc.ws();
    const afterFirst = between(0);
    const beforeLast = between(1);
    const after = await client.jobs.list.query({ createdAfter: afterFirst, limit: 500 });
    expect(ours(after.jobs)).toEqual(ids(made.slice(1)));
    expect(after.jobs.every((job) => Date.parse(job.created_at ?? "") >= Date.parse(afterFirst))).toBe(true);
    const before = await client.jobs.list.query({ createdBefore: beforeLast, limit: 500 });
    expect(ours(before.jobs)).toEqual(ids(made.slice(0, 2)));
    expect(before.jobs.every((job) => Date.parse(job.created_at ?? "") < Date.parse(beforeLast))).toBe(true);
    const window = await client.jobs.list.query({ createdAfter: afterFirst, createdBefore: beforeLast, limit: 500 });
    expect(window.jobs.map((job) => job.job_id)).toEqual([made[1]?.id]);
  });

  it("createdAfter includes a job created at that very instant, createdBefore excludes it", async () => {
    const middle = made[1];
    const created = new Date(middle?.createdMs ?? 0).toISOString();
    const { client } = trpc.http();
    expect(ours((await client.jobs.list.query({ createdAfter: created, limit: 500 })).jobs)).toEqual(ids(made.slice(1)));
    expect(ours((await client.jobs.list.query({ createdBefore: created, limit: 500 })).jobs)).toEqual(ids(made.slice(0, 1)));
  });

  it.each([
    { name: "every job", input: {} },
    { name: "web jobs", input: { platforms: ["web" as const] } },
    { name: "completed jobs", input: { statuses: ["completed" as const] } },
  ])("pages $name with cursor/next_cursor: each job exactly once, in the unpaged order", async ({ input }) => {
    const { client } = trpc.http();
    const whole = await client.jobs.list.query({ ...input, limit: 500 });
    expect(whole.jobs.length, "enough jobs for several pages").toBeGreaterThanOrEqual(2);
    const paged: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<Client["jobs"]["list"]["query"]>> = await client.jobs.list.query({ ...input, limit: 1, ...(cursor === null ? {} : { cursor }) });
      expect(page.jobs.length).toBeLessThanOrEqual(1);
      paged.push(...page.jobs.map((job) => job.job_id));
      cursor = page.next_cursor;
      pages++;
      expect(pages, "pages needed").toBeLessThanOrEqual(whole.jobs.length + 1);
    } while (cursor !== null);
    expect(paged).toEqual(whole.jobs.map((job) => job.job_id));
  });

  it("a job created while paging does not shift the pages: the rest of the listing is unchanged", async () => {
    const { client } = trpc.ws();
    const whole = await client.jobs.list.query({ limit: 500 });
    const first = await client.jobs.list.query({ limit: 2 });
    expect(first.next_cursor).not.toBeNull();
    const newcomer = await startCrawl(client, { path: "/team/", depth: 0, platform: "web" });
    await waitForStatus(client, newcomer, "completed");
    const paged = first.jobs.map((job) => job.job_id);
    for (let cursor = first.next_cursor; cursor !== null; ) {
      const page: Awaited<ReturnType<Client["jobs"]["list"]["query"]>> = await client.jobs.list.query({ limit: 2, cursor });
      paged.push(...page.jobs.map((job) => job.job_id));
      cursor = page.next_cursor;
      expect(paged.length, "pages needed").toBeLessThanOrEqual(whole.jobs.length + 2);
    }
    expect(paged).toEqual(whole.jobs.map((job) => job.job_id));
    expect((await client.jobs.list.query({ limit: 1 })).jobs[0]?.job_id, "the newcomer heads a fresh listing").toBe(newcomer);
  });
});

describe("stats", () => {
  it("stats.platform and stats.watch (both transports) follow a twitter crawl from active to its true totals", async () => {
    const plan: CrawlPlan = { path: "/twitter/", depth: 2, platform: "twitter" };
    const truth = truthFor(suite.stack.site, plan);
    const ws = trpc.ws();
    const { client } = ws;
    const before = (await client.stats.platform.query()).platform_stats.twitter;
    const base = { total_items: before?.total_items ?? 0, success_count: before?.success_count ?? 0, error_count: before?.error_count ?? 0 };
    const ticks = [trpc.watchStats(ws, { intervalSeconds: 1 }), trpc.watchStats(trpc.http(), { intervalSeconds: 1 })];
    await Promise.all(ticks.map((recorder) => recorder.waitUntil("a first tick", () => recorder.values.length > 0)));

    const cursor = await cursorNow(client);
    const id = await startCrawl(client, plan, { per_host_concurrency: 1, per_host_delay_ms: 30 });
    const events = trpc.watchEvents(ws, { jobId: id, lastEventId: cursor });
    await events.waitUntil("a first item", () => ofKind(events.events, "itemScraped").length > 0);
    // Paused, the job stays active until every stats stream has shown it.
    await client.jobs.pause.mutate({ id });
    const during = await client.stats.platform.query();
    expect(during.active_jobs_count).toBeGreaterThanOrEqual(1);
    expect(during.platform_stats.twitter?.total_items ?? 0).toBeLessThan(base.total_items + truth.pagesDone);
    await Promise.all(ticks.map((recorder) => recorder.waitUntil("a tick with the job active", () => recorder.values.some((tick) => tick.active_jobs_count >= 1))));
    await client.jobs.resume.mutate({ id });
    await events.waitForTerminal(id);
    expectWholeJobStream(events.events, id);
    expectEventsMatchTruth(events.events, truth);

    const settled = (tick: StatsTick): boolean => tick.active_jobs_count === 0 && tick.platform_stats.twitter?.total_items === base.total_items + truth.pagesDone;
    const expected = {
      platform: "twitter",
      total_items: base.total_items + truth.pagesDone,
      success_count: base.success_count + truth.successCount,
      error_count: base.error_count + truth.errorCount,
    };
    for (const recorder of ticks) {
      const last = await recorder.waitUntil("a tick with the crawl's totals", () => recorder.values.find(settled));
      expect(last.platform_stats.twitter).toMatchObject(expected);
      expect(recorder.errors).toEqual([]);
      for (const tick of recorder.values) expect(Object.keys(tick).sort()).toEqual(["active_jobs_count", "platform_stats"]);
    }
    const after = await trpc.http().client.stats.platform.query();
    expect(after.active_jobs_count).toBe(0);
    expect(after.platform_stats.twitter).toMatchObject(expected);
    expect(after.platform_stats.twitter?.avg_processing_time).toBeGreaterThan(0);
  });

  it("stats.overview after a crawl: no active jobs, its items as the newest previews, the connected scraper", async () => {
    const plan: CrawlPlan = { path: "/youtube/", depth: 1, platform: "youtube" };
    const truth = truthFor(suite.stack.site, plan);
    const ws = trpc.ws();
    const cursor = await cursorNow(ws.client);
    const id = await startCrawl(ws.client, plan);
    const events = trpc.watchEvents(ws, { jobId: id, lastEventId: cursor });
    await events.waitForTerminal(id);

    const overview = await trpc.http().client.stats.overview.query();
    expect(overview.at).toMatch(ISO_TIMESTAMP);
    expect(overview.active_jobs).toEqual([]);
    expect(overview.scrapers).toEqual([{ address: suite.stack.scraper.address, connected: true, last_offset: Number(events.events.at(-1)?.data.offset) }]);
    const newest = overview.recent_previews.slice(-truth.successCount);
    expect(newest.map((preview) => preview.job_id)).toEqual(newest.map(() => id));
    expect(newest.map((preview) => preview.item.id), "previews in scrape order").toEqual(ofKind(events.events, "itemScraped").map((event) => event.data.itemScraped?.item?.id));
    expectItemsMatchTruth(
      newest.map((preview) => preview.item),
      truth.items,
    );
    for (const preview of newest) expect(preview.platform).toBe("youtube");
    const ats = overview.recent_previews.map((preview) => Date.parse(preview.at));
    expect(ats, "previews oldest first").toEqual([...ats].sort((a, b) => a - b));
    expect(overview.platform_stats).toEqual((await ws.client.stats.platform.query()).platform_stats);
  });
});

describe("events.watch filters across concurrent jobs", () => {
  it("jobId and platforms filters each deliver exactly their jobs' whole streams while two jobs run at once", async () => {
    const http = trpc.http();
    const ws = trpc.ws();
    const cursor = await cursorNow(http.client);
    const webPlan: CrawlPlan = { path: "/blog/", depth: 1, platform: "web" };
    const youtubePlan: CrawlPlan = { path: "/youtube/", depth: 2, platform: "youtube" };
    const [webId, youtubeId] = await Promise.all([startCrawl(http.client, webPlan, PACED), startCrawl(ws.client, youtubePlan, PACED)]);
    const everything = trpc.watchEvents(ws, { lastEventId: cursor });
    const youtubeOnly = trpc.watchEvents(http, { platforms: ["youtube"], lastEventId: cursor });
    const webByJob = trpc.watchEvents(ws, { jobId: webId, lastEventId: cursor });
    const bothPlatforms = trpc.watchEvents(http, { platforms: ["web", "youtube"], types: ["started", "completed"], lastEventId: cursor });
    await Promise.all([webId, youtubeId].map((id) => everything.waitForTerminal(id)));
    await Promise.all([youtubeOnly.waitForTerminal(youtubeId), webByJob.waitForTerminal(webId)]);
    await bothPlatforms.waitUntil("both jobs completed", () => ofKind(bothPlatforms.events, "completed").length === 2);

    const [webEvents, youtubeEvents] = [everything.of(webId), everything.of(youtubeId)];
    expect(
      Math.min(...[webEvents, youtubeEvents].map((events) => Number(events.at(-1)?.data.offset))),
      "the jobs' streams interleave in the scrapers' log",
    ).toBeGreaterThan(Math.max(...[webEvents, youtubeEvents].map((events) => Number(events[0]?.data.offset))));
    expectWholeJobStream(webEvents, webId);
    expectEventsMatchTruth(webEvents, truthFor(suite.stack.site, webPlan));
    expectWholeJobStream(youtubeEvents, youtubeId);
    expectEventsMatchTruth(youtubeEvents, truthFor(suite.stack.site, youtubePlan));

    expect(everything.events.filter((event) => event.data.jobId !== webId && event.data.jobId !== youtubeId), "no other job ran").toEqual([]);
    expectSameEvents(youtubeOnly.events, youtubeEvents, "platforms: [youtube]");
    expectSameEvents(webByJob.events, webEvents, "jobId filter");
    expect(bothPlatforms.events.map((event) => `${event.data.jobId}:${eventKind(event.data)}`).sort()).toEqual(
      [`${webId}:started`, `${webId}:completed`, `${youtubeId}:started`, `${youtubeId}:completed`].sort(),
    );
  });
});

describe("errors", () => {
  const url = "http://127.0.0.1:9/never-fetched";
  const hostile = <T>(value: unknown): T => value as T;

  describe.each(TRANSPORTS)("over $name", ({ transport }) => {
    it.each<{ name: string; call: (client: Client) => Promise<unknown>; field: string }>([
      { name: "jobs.start without a url", call: (client) => client.jobs.start.mutate({}), field: "url" },
      { name: "jobs.start with url \"not a url\"", call: (client) => client.jobs.start.mutate({ url: "not a url" }), field: "url" },
      { name: "jobs.start with an ftp url", call: (client) => client.jobs.start.mutate({ url: "ftp://example.invalid/" }), field: "url" },
      { name: "jobs.start with depth -1", call: (client) => client.jobs.start.mutate({ url, depth: -1 }), field: "depth" },
      { name: "jobs.start with depth 1.5", call: (client) => client.jobs.start.mutate({ url, depth: 1.5 }), field: "depth" },
      { name: "jobs.start with a depth above CRAWL_MAX_DEPTH (the scraper refuses it)", call: (client) => client.jobs.start.mutate({ url, depth: 11 }), field: "depth" },
      { name: "jobs.start with platform myspace", call: (client) => client.jobs.start.mutate(hostile<StartInput>({ url, platform: "myspace" })), field: "platform" },
      { name: "jobs.start with an empty urls batch", call: (client) => client.jobs.start.mutate({ urls: [] }), field: "urls" },
      { name: "jobs.start with max_pages 0", call: (client) => client.jobs.start.mutate({ url, max_pages: 0 }), field: "max_pages" },
      { name: "jobs.scan with a path out of the scan root", call: (client) => client.jobs.scan.mutate({ path: "../../etc" }), field: "path" },
      { name: "jobs.get with an empty id", call: (client) => client.jobs.get.query({ id: "" }), field: "id" },
      { name: "jobs.items with pageSize 0", call: (client) => client.jobs.items.query({ id: "any", pageSize: 0 }), field: "pageSize" },
      { name: "jobs.items with pageSize 1001", call: (client) => client.jobs.items.query({ id: "any", pageSize: 1001 }), field: "pageSize" },
      { name: "jobs.list with limit 0", call: (client) => client.jobs.list.query({ limit: 0 }), field: "limit" },
      { name: "jobs.list with status bogus", call: (client) => client.jobs.list.query(hostile({ statuses: ["bogus"] })), field: "statuses" },
      { name: "jobs.list with platform myspace", call: (client) => client.jobs.list.query(hostile({ platforms: ["myspace"] })), field: "platforms" },
      { name: "jobs.list with createdAfter \"yesterday\"", call: (client) => client.jobs.list.query({ createdAfter: "yesterday" }), field: "createdAfter" },
      { name: "jobs.list with createdBefore without a zone", call: (client) => client.jobs.list.query({ createdBefore: "2026-01-31T12:00:00" }), field: "createdBefore" },
      { name: "jobs.list with a cursor it did not issue", call: (client) => client.jobs.list.query({ cursor: "not-a-cursor" }), field: "cursor" },
    ])("$name → BAD_REQUEST naming $field", async ({ call, field }) => {
      const error = await trpcError(call(trpc.connect(transport).client));
      expect(error.data, error.message).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400, field });
    });

    it.each<{ name: string; input: Parameters<Client["events"]["watch"]["subscribe"]>[0]; field: string | null }>([
      { name: "events.watch with types [\"bogus\"]", input: { types: ["bogus"] }, field: "types" },
      { name: "events.watch with platforms [\"myspace\"]", input: hostile({ platforms: ["myspace"] }), field: "platforms" },
      { name: "events.watch with a malformed lastEventId", input: { lastEventId: "not a cursor" }, field: null },
    ])("$name → BAD_REQUEST", async ({ input, field }) => {
      const recorder = trpc.watchEvents(trpc.connect(transport), input);
      const error = await recorder.waitForError();
      expect(error.data, error.message).toMatchObject({ code: "BAD_REQUEST", field });
      expect(recorder.values).toEqual([]);
    });

    it("stats.watch with intervalSeconds 0 → BAD_REQUEST naming intervalSeconds", async () => {
      const recorder = trpc.watchStats(trpc.connect(transport), { intervalSeconds: 0 });
      expect((await recorder.waitForError()).data).toMatchObject({ code: "BAD_REQUEST", field: "intervalSeconds" });
    });

    it.each<{ name: string; call: (client: Client, id: string) => Promise<unknown> }>([
      { name: "jobs.get", call: (client, id) => client.jobs.get.query({ id }) },
      { name: "jobs.items", call: (client, id) => client.jobs.items.query({ id }) },
      { name: "jobs.pause", call: (client, id) => client.jobs.pause.mutate({ id }) },
      { name: "jobs.resume", call: (client, id) => client.jobs.resume.mutate({ id }) },
      { name: "jobs.cancel", call: (client, id) => client.jobs.cancel.mutate({ id }) },
    ])("$name of an unknown job → NOT_FOUND naming id", async ({ call }) => {
      const error = await trpcError(call(trpc.connect(transport).client, "no-such-job"));
      expect(error.data, error.message).toMatchObject({ code: "NOT_FOUND", httpStatus: 404, field: "id" });
    });

    it.each<{ name: string; call: (client: Client, id: string) => Promise<unknown> }>([
      { name: "jobs.pause", call: (client, id) => client.jobs.pause.mutate({ id }) },
      { name: "jobs.resume", call: (client, id) => client.jobs.resume.mutate({ id }) },
      { name: "jobs.cancel", call: (client, id) => client.jobs.cancel.mutate({ id }) },
    ])("$name of a job that has ended → CONFLICT (the scraper's FAILED_PRECONDITION)", async ({ call }) => {
      const { client } = trpc.connect(transport);
      const id = await startCrawl(client, { path: "/team/", depth: 0, platform: "web" });
      await waitForStatus(client, id, "completed");
      const error = await trpcError(call(client, id));
      expect(error.data, error.message).toMatchObject({ code: "CONFLICT", httpStatus: 409, field: "id" });
      expect((await client.jobs.get.query({ id })).status, "the refused call changed nothing").toBe("completed");
    });
  });

  it("an HTTP batch mixing good and bad calls answers each call on its own", async () => {
    const { client } = trpc.http();
    const [listed, unknown, badPage, stats] = await Promise.allSettled([
      client.jobs.list.query({ limit: 1 }),
      client.jobs.get.query({ id: "no-such-job" }),
      client.jobs.items.query({ id: "no-such-job", pageSize: 0 }),
      client.stats.platform.query(),
    ]);
    expect(listed.status === "fulfilled" && listed.value.jobs).toHaveLength(1);
    expect(unknown.status === "rejected" && (unknown.reason as TrpcError).data).toMatchObject({ code: "NOT_FOUND", field: "id" });
    expect(badPage.status === "rejected" && (badPage.reason as TrpcError).data).toMatchObject({ code: "BAD_REQUEST", field: "pageSize" });
    expect(stats.status === "fulfilled" && stats.value.active_jobs_count).toBe(0);
  });

  it("bad calls — on other clients and on the same WebSocket — leave a running subscription untouched", async () => {
    const plan: CrawlPlan = { path: "/twitter/", depth: 2, platform: "twitter" };
    const watcher = trpc.ws();
    const cursor = await cursorNow(watcher.client);
    const id = await startCrawl(watcher.client, plan, PACED);
    const events = trpc.watchEvents(watcher, { jobId: id, lastEventId: cursor });
    await events.waitUntil("a first item", () => ofKind(events.events, "itemScraped").length > 0);
    await watcher.client.jobs.pause.mutate({ id });

    for (const connection of [trpc.ws(), trpc.http(), watcher]) {
      const { client } = connection;
      expect((await trpcError(client.jobs.start.mutate({ url: "not a url" }))).data?.code).toBe("BAD_REQUEST");
      expect((await trpcError(client.jobs.items.query({ id, pageSize: 0 }))).data?.code).toBe("BAD_REQUEST");
      expect((await trpcError(client.jobs.get.query({ id: "no-such-job" }))).data?.code).toBe("NOT_FOUND");
      expect((await trpcError(client.jobs.pause.mutate({ id }))).data?.code).toBe("CONFLICT");
      const refused = trpc.watchEvents(connection, { jobId: id, lastEventId: "garbage" });
      expect((await refused.waitForError()).data?.code).toBe("BAD_REQUEST");
      expect((await client.jobs.get.query({ id })).status, `${connection.transport} still answers`).toBe("paused");
    }

    await watcher.client.jobs.resume.mutate({ id });
    await events.waitForTerminal(id);
    expect(events.errors).toEqual([]);
    expectWholeJobStream(events.events, id);
    expectEventsMatchTruth(events.events, truthFor(suite.stack.site, plan));
  });
});

/**
 * Drops a subscription mid-crawl, waits until the job has moved on, and
 * subscribes again with the last id received; returns both halves.
 */
async function dropAndResume(options: {
  open: (lastEventId: string) => { connection: Connection; recorder: JobEventRecorder };
  reference: JobEventRecorder;
  cursor: string;
  jobId: string;
  drop: (first: { connection: Connection; recorder: JobEventRecorder }) => Promise<void>;
}): Promise<{ before: TrackedEvent[]; after: JobEventRecorder; lastId: string }> {
  const first = options.open(options.cursor);
  await first.recorder.waitForCount(10);
  await options.drop(first);
  const before = [...first.recorder.events];
  const lastId = before.at(-1)?.id ?? "";
  expect(kindsOf(before).some((kind) => kind === "completed"), "dropped before the job ended").toBe(false);

  // While the client is away, the crawl goes on.
  await options.reference.waitForCount(options.reference.events.length + 30);
  const second = options.open(lastId);
  await second.recorder.waitForTerminal(options.jobId);
  expect(first.recorder.events, "nothing reached the dropped subscription").toHaveLength(before.length);
  return { before, after: second.recorder, lastId };
}

/** The two halves of a resumed subscription add up to the whole job: every seq exactly once, in order, as the reference saw it. */
function expectResumedWhole(before: readonly TrackedEvent[], after: readonly TrackedEvent[], reference: readonly TrackedEvent[], jobId: string, truth: CrawlTruth): void {
  expect(Number(after[0]?.data.seq), "the resumed subscription starts right after the last event received").toBe(Number(before.at(-1)?.data.seq) + 1);
  const union = [...before, ...after];
  expectWholeJobStream(union, jobId);
  expectEventsMatchTruth(union, truth);
  expectSameEvents(union, reference, "dropped + resumed vs uninterrupted");
}

describe("resuming events.watch", () => {
  it.each(TRANSPORTS)("over $name: a client dropped mid-crawl resumes from its last id and misses and repeats nothing", async ({ transport }) => {
    const truth = truthFor(suite.stack.site, LONG_CRAWL);
    const control = trpc.http();
    const cursor = await cursorNow(control.client);
    const jobId = await startCrawl(control.client, LONG_CRAWL, PACED);
    const reference = trpc.watchEvents(trpc.ws(), { jobId, lastEventId: cursor }, "uninterrupted reference");

    const { before, after } = await dropAndResume({
      cursor,
      jobId,
      reference,
      open: (lastEventId) => {
        const connection = trpc.connect(transport);
        return { connection, recorder: trpc.watchEvents(connection, { jobId, lastEventId }) };
      },
      // WebSocket: the socket closes. HTTP: unsubscribing aborts the EventSource.
      drop: ({ connection }) => connection.close(),
    });
    await reference.waitForTerminal(jobId);
    expectWholeJobStream(reference.events, jobId);
    expectResumedWhole(before, after.events, reference.events, jobId, truth);
    expect(after.errors).toEqual([]);
  });

  it("a filtered subscription resumes on the same WebSocket after unsubscribing: every item exactly once", async () => {
    const truth = truthFor(suite.stack.site, LONG_CRAWL);
    const ws = trpc.ws();
    const cursor = await cursorNow(ws.client);
    const jobId = await startCrawl(ws.client, LONG_CRAWL, PACED);
    const reference = trpc.watchEvents(trpc.http(), { jobId, lastEventId: cursor }, "uninterrupted reference over SSE");
    const types = ["itemScraped", "completed"];
    const { before, after } = await dropAndResume({
      cursor,
      jobId,
      reference,
      open: (lastEventId) => ({ connection: ws, recorder: trpc.watchEvents(ws, { jobId, types, lastEventId }) }),
      drop: async ({ recorder }) => recorder.stop(),
    });
    await reference.waitForTerminal(jobId);
    const union = [...before, ...after.events];
    expectSameEvents(
      union,
      reference.events.filter((event) => types.includes(eventKind(event.data))),
      "dropped + resumed vs the uninterrupted stream's items",
    );
    expect(ofKind(union, "itemScraped")).toHaveLength(truth.successCount);
    expect(new Set(union.map((event) => event.data.seq)).size, "no event twice").toBe(union.length);
  });
});

describe("resuming events.watch across a gateway restart", () => {
  it("clients whose gateway was killed mid-crawl resume on the replacement with their last ids, over WebSocket and SSE, with every event exactly once", async () => {
    const truth = truthFor(suite.stack.site, LONG_CRAWL);
    const grpc = scraperClient(suite.stack.scraper.address);
    try {
      const control = trpc.http();
      const cursor = await cursorNow(control.client);
      const jobId = await startCrawl(control.client, LONG_CRAWL, { per_host_concurrency: 2, per_host_delay_ms: 25 });
      // The scraper's own log is the reference: no gateway stands between it and the test.
      const log = GrpcEventRecorder.watch(grpc, { jobId });
      const olds = TRANSPORTS.map(({ transport }) => {
        const connection = trpc.connect(transport);
        return { connection, recorder: trpc.watchEvents(connection, { jobId, lastEventId: cursor }, `events.watch over ${transport} on the first gateway`) };
      });
      await Promise.all(olds.map(({ recorder }) => recorder.waitForCount(10)));

      const replacement = await suite.stack.restartGateway();
      const befores = olds.map(({ recorder }) => [...recorder.events]);
      await Promise.all(olds.map(({ connection }) => connection.close()));
      for (const before of befores) expect(kindsOf(before), "cut before the job ended").not.toContain("completed");
      const seen = Math.max(...befores.map((before) => before.length));
      await waitFor("the crawl to go on while no gateway was watching", () => log.events.length >= seen + 30);

      const resumed = TRANSPORTS.map(({ transport }, index) =>
        trpc.watchEvents(trpc.connect(transport, replacement.url), { jobId, lastEventId: befores[index]?.at(-1)?.id ?? "" }, `events.watch over ${transport} resumed on the replacement`),
      );
      await Promise.all(resumed.map((recorder) => recorder.waitForTerminal(jobId)));
      await log.waitForTerminal(jobId);
      const scraperSaw = log.events.map((event) => `${event.seq}@${event.offset}:${event.kind.case}`);
      resumed.forEach((after, index) => {
        const before = befores[index] ?? [];
        expect(after.errors, after.what).toEqual([]);
        expect(Number(after.events[0]?.data.seq), `${after.what} starts right after the last event received`).toBe(Number(before.at(-1)?.data.seq) + 1);
        const union = [...before, ...after.events];
        expectWholeJobStream(union, jobId);
        expectEventsMatchTruth(union, truth);
        expect(
          union.map((event) => `${event.data.seq}@${event.data.offset}:${eventKind(event.data)}`),
          `${after.what}: before + after = the scraper's log of the job`,
        ).toEqual(scraperSaw);
      });
      await log.cancel();
    } finally {
      grpc.close();
    }
  });
});
