import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { status as grpcStatus } from "@grpc/grpc-js";
import { ITEM_CSV_COLUMNS, JobStatus, Platform, PlatformStatsSchema, type StartJobRequest } from "@trawl/proto";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConfig, type GatewayConfig } from "./config.js";
import { createGateway, type Gateway } from "./gateway.js";
import { ScriptedScraper } from "./test-support/scripted-scraper.js";
import { openClient, rawUpgrade, type Recorded } from "./test-support/ws-clients.js";
import { CloseCode } from "./ws/close-codes.js";

type Json = Record<string, unknown>;

interface Booted {
  gateway: Gateway;
  base: string;
  port: number;
  ws(path: string): Promise<Recorded>;
  http(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json; contentType: string | null }>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function scraper(): Promise<ScriptedScraper> {
  const double = new ScriptedScraper();
  await double.start(0);
  cleanups.push(() => double.stop());
  return double;
}

async function boot(addresses: string[], overrides: Partial<GatewayConfig> = {}): Promise<Booted> {
  const config: GatewayConfig = { ...parseConfig({}), port: 0, scraperAddresses: addresses, logLevel: "silent", ...overrides };
  const gateway = createGateway(config, pino({ level: "silent" }), { backoff: { initialMs: 20, maxMs: 200 } });
  const { url, port } = await gateway.listen();
  cleanups.push(() => gateway.close());
  return {
    gateway,
    base: url,
    port,
    async ws(path) {
      const client = await openClient(`ws://127.0.0.1:${port}${path}`);
      cleanups.push(() => client.ws.terminate());
      return client;
    },
    async http(method, path, body) {
      const init: RequestInit = { method };
      if (body !== undefined) {
        init.headers = { "content-type": "application/json" };
        init.body = typeof body === "string" ? body : JSON.stringify(body);
      }
      const response = await fetch(`${url}${path}`, init);
      return { status: response.status, body: (await response.json()) as Json, contentType: response.headers.get("content-type") };
    },
  };
}

async function connected(gateway: Gateway): Promise<void> {
  await vi.waitFor(() => expect(gateway.health().every((link) => link.connected)).toBe(true), { timeout: 10_000 });
}

const byType = (client: Recorded, type: string) => client.messages.filter((message) => message.type === type);
const dataOf = (message: Json | undefined) => message?.data as Json;
const page = (done: number, total: number, ok: number, bad: number) => ({ pagesDone: done, pagesTotal: total, successCount: ok, errorCount: bad, items: ok });

describe("gateway end to end with a scripted scraper", () => {
  it("streams a job started over REST to global and job subscribers as seed 000 frames", async () => {
    const double = await scraper();
    const { gateway, http, ws } = await boot([double.address]);
    await connected(gateway);
    const global = await ws("/ws/scraping");
    expect(global.messages[0]).toMatchObject({ type: "initial_state", data: { active_jobs: {}, platform_stats: {} } });

    const started = await http("POST", "/api/scrape", { url: "https://example.test/", depth: 1, extract_embeddings: true });
    expect(started.status).toBe(200);
    const jobId = started.body.job_id as string;
    expect(started.body).toEqual({
      job_id: jobId,
      status: "started",
      url: "https://example.test/",
      estimated_time_seconds: 10,
      message: `Scraping job started. Connect to /ws/scraping/${jobId} for real-time updates.`,
    });
    const follower = await ws(`/ws/scraping/${jobId}`);
    const initial = await follower.next((message) => message.type === "initial_state");
    expect(Object.keys(dataOf(initial).active_jobs as Json)).toEqual([jobId]);

    double.append(jobId, { case: "itemScraped", value: { item: { id: "page_1", url: "https://example.test/", title: "Home", wordCount: 3, linksFound: 2 }, processingMs: 40, counters: page(1, 2, 1, 0) } });
    double.append(jobId, { case: "pageFailed", value: { url: "https://example.test/x", errorKind: 1, httpStatus: 404, processingMs: 10, counters: page(2, 2, 1, 1) } });
    double.append(jobId, { case: "progress", value: { counters: page(2, 2, 1, 1), currentItem: { id: "page_1", title: "Home", url: "https://example.test/" } } });
    double.append(jobId, { case: "completed", value: { counters: page(2, 2, 1, 1), elapsedMs: 100 } });

    for (const client of [global, follower]) {
      const complete = await client.next((message) => message.type === "job_complete");
      expect(dataOf(complete)).toMatchObject({ job_id: jobId, platform: "web", total_items: 2, success_count: 1, error_count: 1 });
      expect(byType(client, "item_preview").map((message) => dataOf(message).item)).toEqual([
        { id: "page_1", title: "Home", url: "https://example.test/", word_count: 3, links_found: 2 },
      ]);
      const progress = byType(client, "progress").map((message) => dataOf(message));
      expect(progress.at(-1)).toMatchObject({ items_scraped: 2, items_total: 2, current_item: { id: "page_1", title: "Home", url: "https://example.test/" } });
    }
    expect(global.messages.map((message) => message.type)).toEqual(["initial_state", "progress", "item_preview", "progress", "job_complete"]);

    const status = await http("GET", `/ws/scraping/${jobId}/status`);
    expect(status.body).toMatchObject({ job_id: jobId, status: "completed", progress: 100, items_scraped: 2, results_count: 1, success_count: 1, error_count: 1, items_total: 2, platform: "web", message: null });
    expect(typeof status.body.finished_at).toBe("string");
    const overview = await http("GET", "/ws/scraping/status");
    expect(overview.body).toEqual({
      active_connections: 2,
      active_jobs: 0,
      job_subscriptions: 1,
      platform_stats: { web: { platform: "web", total_items: 2, success_count: 1, error_count: 1, avg_processing_time: 0.025 } },
    });
  });

  it("asks the scrapers about a job it has not seen stream yet before answering /ws/scraping/{job_id}", async () => {
    const double = await scraper();
    const { gateway, ws } = await boot([double.address]);
    await connected(gateway);
    double.register({ id: "quiet", platform: Platform.REDDIT, status: JobStatus.RUNNING, counters: page(3, 9, 3, 0), startedAt: timestampFromMs(Date.now() - 2_000) });
    const client = await ws("/ws/scraping/quiet");
    const initial = await client.next((message) => message.type === "initial_state");
    expect((dataOf(initial).active_jobs as Json).quiet).toMatchObject({ job_id: "quiet", platform: "reddit", status: "processing", items_scraped: 3, items_total: 9 });
    double.append("quiet", { case: "progress", value: { counters: page(4, 9, 4, 0) } });
    expect(dataOf(await client.next((message) => message.type === "progress"))).toMatchObject({ items_scraped: 4 });
  });

  it("closes 1008 for an unknown job after a job_error naming it", async () => {
    const double = await scraper();
    const { gateway, ws } = await boot([double.address]);
    await connected(gateway);
    const client = await ws("/ws/scraping/nope-404");
    expect(await client.closed).toEqual({ code: CloseCode.POLICY_VIOLATION, reason: "unknown job" });
    expect(client.messages).toHaveLength(1);
    expect(client.messages[0]).toMatchObject({ type: "job_error", data: { job_id: "nope-404", error_message: "Unknown job: nope-404" } });
    expect(Object.keys(client.messages[0] as Json)).toEqual(["type", "data", "timestamp"]);
  });

  it("sends an ended job's terminal frames right after its initial_state", async () => {
    const double = await scraper();
    const { gateway, http, ws } = await boot([double.address]);
    await connected(gateway);
    const { body } = await http("POST", "/api/scrape", { url: "https://twitter.com/a/status/1" });
    const jobId = body.job_id as string;
    double.append(jobId, { case: "failed", value: { errorMessage: "https://twitter.com/a/status/1: HTTP 500", counters: page(1, 1, 0, 1) } });
    await vi.waitFor(() => expect(gateway.state.jobs.get(jobId)?.status).toBe(JobStatus.FAILED));
    const client = await ws(`/ws/scraping/${jobId}`);
    await client.next((message) => message.type === "job_error");
    expect(client.messages.map((message) => message.type)).toEqual(["initial_state", "progress", "job_error"]);
    expect(dataOf(client.messages[2])).toEqual({ job_id: jobId, platform: "web", error_message: "https://twitter.com/a/status/1: HTTP 500" });
  });

  it("streams stats at once and carries interval_seconds", async () => {
    const double = await scraper();
    const { ws } = await boot([double.address]);
    const client = await ws("/ws/stats?interval=1");
    const first = await client.next((message) => message.type === "stats");
    expect(Object.keys(first)).toEqual(["type", "data", "interval_seconds"]);
    expect(first.interval_seconds).toBe(1);
    expect(Object.keys(dataOf(first))).toEqual(["platform_stats", "active_jobs_count", "active_jobs"]);
    await vi.waitFor(() => expect(byType(client, "stats").length).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
  });

  it.each(["0", "61", "abc", ""])("closes 1008 for a bad stats interval %j", async (interval) => {
    const { ws } = await boot(["127.0.0.1:1"]);
    const client = await ws(`/ws/stats?interval=${interval}`);
    expect(await client.closed).toMatchObject({ code: CloseCode.POLICY_VIOLATION });
    expect(client.messages).toEqual([{ type: "error", message: "interval must be a number from 1 to 60" }]);
  });

  it.each(["/ws/scraping", "/ws/stats"])("answers a text frame on %s with pong", async (path) => {
    const { ws } = await boot(["127.0.0.1:1"]);
    const client = await ws(path);
    client.ws.send("anything at all");
    expect(await client.next((message) => message.type === "pong")).toEqual({ type: "pong", message: "Connection alive" });
  });

  it("does not crash when a binary frame arrives", async () => {
    const { ws, http } = await boot(["127.0.0.1:1"]);
    const client = await ws("/ws/scraping");
    client.ws.send(Buffer.from([0xde, 0xad]));
    expect(await client.closed).toEqual({ code: CloseCode.UNSUPPORTED_DATA, reason: "binary frames are not supported" });
    expect((await http("GET", "/ws/scraping/status")).status).toBe(200);
  });

  it("closes 1009 when a frame exceeds WS_MAX_PAYLOAD_BYTES", async () => {
    const { ws } = await boot(["127.0.0.1:1"], { wsMaxPayloadBytes: 1024 });
    const client = await ws("/ws/scraping");
    client.ws.send("x".repeat(4096));
    expect(await client.closed).toMatchObject({ code: CloseCode.MESSAGE_TOO_BIG });
  });

  it("answers an upgrade to an unknown path with 404 and drops the socket", async () => {
    const { port } = await boot(["127.0.0.1:1"]);
    const { head, closed } = await rawUpgrade(port, "/ws/scraping/a/b");
    expect(head).toMatch(/^HTTP\/1\.1 404/);
    await closed;
  });

  it("closes every WebSocket with 1001 on shutdown", async () => {
    const { gateway, ws } = await boot(["127.0.0.1:1"]);
    const first = await ws("/ws/scraping");
    const second = await ws("/ws/stats");
    await gateway.close();
    expect(await first.closed).toMatchObject({ code: CloseCode.GOING_AWAY });
    expect(await second.closed).toMatchObject({ code: CloseCode.GOING_AWAY });
  });
});

describe("REST", () => {
  it.each<[string, unknown, string]>([
    ["url is missing", {}, "url"],
    ["url is not http(s)", { url: "ftp://example.test/" }, "url"],
    ["url is not a URL", { url: "not a url" }, "url"],
    ["url is a number", { url: 5 }, "url"],
    ["depth is negative", { url: "https://example.test/", depth: -1 }, "depth"],
    ["depth is fractional", { url: "https://example.test/", depth: 1.5 }, "depth"],
    ["platform is unknown", { url: "https://example.test/", platform: "myspace" }, "platform"],
    ["extract_embeddings is not a boolean", { url: "https://example.test/", extract_embeddings: "yes" }, "extract_embeddings"],
    ["max_pages is zero", { url: "https://example.test/", max_pages: 0 }, "max_pages"],
    ["the body is an array", [], "body"],
  ])("answers 400 naming the field when %s", async (_case, body, field) => {
    const { http } = await boot(["127.0.0.1:1"]);
    const response = await http("POST", "/api/scrape", body);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: "invalid_request", field });
    expect(typeof response.body.message).toBe("string");
  });

  it.each<[string, unknown, string]>([
    ["both url and urls are given", { url: "https://example.test/", urls: ["https://example.test/a"] }, "urls"],
    ["urls is empty", { urls: [] }, "urls"],
    ["urls holds a non-http URL", { urls: ["https://example.test/", "file:///etc/passwd"] }, "urls"],
    ["per_host_concurrency is zero", { url: "https://example.test/", per_host_concurrency: 0 }, "per_host_concurrency"],
    ["per_host_delay_ms is over a minute", { url: "https://example.test/", per_host_delay_ms: 60_001 }, "per_host_delay_ms"],
    ["max_retries is over 10", { url: "https://example.test/", max_retries: 11 }, "max_retries"],
    ["ignore_robots is not a boolean", { url: "https://example.test/", ignore_robots: "please" }, "ignore_robots"],
  ])("answers 400 naming the field when %s", async (_case, body, field) => {
    const { http } = await boot(["127.0.0.1:1"]);
    const response = await http("POST", "/api/scrape", body);
    expect(response).toMatchObject({ status: 400, body: { error: "invalid_request", field } });
  });

  it.each<[string, unknown, string]>([
    ["path is missing", {}, "path"],
    ["path is empty", { path: "" }, "path"],
    ["recursive is not a boolean", { path: "/docs", recursive: "yes" }, "recursive"],
    ["max_files is zero", { path: "/docs", max_files: 0 }, "max_files"],
  ])("answers 400 naming the field when a scan's %s", async (_case, body, field) => {
    const { http } = await boot(["127.0.0.1:1"]);
    const response = await http("POST", "/api/scan", body);
    expect(response).toMatchObject({ status: 400, body: { error: "invalid_request", field } });
  });

  it("starts a batch with every URL as a task and passes the politeness settings on", async () => {
    const double = await scraper();
    const seen: StartJobRequest[] = [];
    const defaultStart = double.onStartJob;
    double.onStartJob = (request) => {
      seen.push(request);
      return defaultStart(request);
    };
    const { gateway, http } = await boot([double.address]);
    await connected(gateway);
    const urls = ["https://example.test/a", "https://example.test/b", "https://example.test/c"];
    const response = await http("POST", "/api/scrape", { urls, depth: 0, ignore_robots: true, per_host_delay_ms: 0, per_host_concurrency: 4, max_retries: 3 });
    expect(response).toMatchObject({ status: 200, body: { status: "started", url: urls[0], urls } });
    expect(seen[0]?.crawl).toMatchObject({ urls, depth: 0, ignoreRobots: true, perHostDelayMs: 0, perHostConcurrency: 4, maxRetries: 3 });
  });

  it("starts a directory scan and maps the scraper's refusal of its path to 400 field path", async () => {
    const double = await scraper();
    const seen: StartJobRequest[] = [];
    double.onStartJob = (request) => {
      seen.push(request);
      return { error: { code: grpcStatus.INVALID_ARGUMENT, details: "scan.path: is outside every scan root" } };
    };
    const { gateway, http } = await boot([double.address]);
    await connected(gateway);
    const response = await http("POST", "/api/scan", { path: "/etc", recursive: false, max_files: 10 });
    expect(response).toMatchObject({ status: 400, body: { error: "invalid_request", field: "path", message: "scan.path: is outside every scan root" } });
    expect(seen[0]?.scan).toMatchObject({ path: "/etc", recursive: false, maxFiles: 10 });
    expect(seen[0]?.crawl).toBeUndefined();
  });

  it("pauses and resumes a job, and answers 409 when the job is not in the state the action needs", async () => {
    const double = await scraper();
    const { gateway, http } = await boot([double.address]);
    await connected(gateway);
    const jobId = (await http("POST", "/api/scrape", { url: "https://example.test/" })).body.job_id as string;
    expect(await http("POST", `/api/jobs/${jobId}/resume`)).toMatchObject({ status: 409, body: { error: "conflict", field: "id" } });
    expect(await http("POST", `/api/jobs/${jobId}/pause`)).toMatchObject({ status: 200, body: { job_id: jobId, status: "paused" } });
    await vi.waitFor(() => expect(gateway.state.jobs.get(jobId)?.status).toBe(JobStatus.PAUSED));
    expect(await http("POST", `/api/jobs/${jobId}/pause`)).toMatchObject({ status: 409 });
    expect(await http("POST", `/api/jobs/${jobId}/resume`)).toMatchObject({ status: 200, body: { status: "running" } });
    await vi.waitFor(() => expect(gateway.state.jobs.get(jobId)?.status).toBe(JobStatus.RUNNING));
    expect(await http("POST", "/api/jobs/nope/pause")).toMatchObject({ status: 404, body: { error: "not_found", field: "id" } });
  });

  it("pages through a job's items and exports them as JSON, NDJSON and CSV", async () => {
    const double = await scraper();
    const { gateway, http, base } = await boot([double.address]);
    await connected(gateway);
    const jobId = (await http("POST", "/api/scrape", { url: "https://example.test/" })).body.job_id as string;
    for (let i = 1; i <= 5; i++) {
      double.append(jobId, {
        case: "itemScraped",
        value: { item: { id: `page_${i}`, url: `https://example.test/${i}`, title: i === 3 ? "Third, with a comma" : `Page ${i}`, wordCount: i }, counters: page(i, 5, i, 0) },
      });
    }
    const first = await http("GET", `/api/jobs/${jobId}/items?page_size=2`);
    expect(first).toMatchObject({ status: 200, body: { job_id: jobId, total: 5, next_page_token: "2" } });
    expect((first.body.items as Json[]).map((item) => item.id)).toEqual(["page_1", "page_2"]);
    const last = await http("GET", `/api/jobs/${jobId}/items?page_size=2&page_token=4`);
    expect(last.body).toMatchObject({ next_page_token: null, items: [{ id: "page_5", url: "https://example.test/5", title: "Page 5", word_count: 5 }] });
    expect((await http("GET", `/api/jobs/${jobId}/items?q=third`)).body).toMatchObject({ total: 1, items: [{ id: "page_3" }] });
    expect((await http("GET", `/api/jobs/${jobId}/items?page_size=5000`)).body).toMatchObject({ error: "invalid_request", field: "page_size" });
    expect((await http("GET", `/api/jobs/${jobId}/items?page_token=zz`)).body).toMatchObject({ error: "invalid_request", field: "page_token" });
    expect((await http("GET", "/api/jobs/nope/items")).status).toBe(404);

    const json = await fetch(`${base}/api/jobs/${jobId}/export?format=json`);
    expect(json.headers.get("content-type")).toMatch(/^application\/json/);
    expect(json.headers.get("content-disposition")).toContain(`trawl-${jobId}.json`);
    expect(((await json.json()) as Json[]).map((item) => item.id)).toEqual(["page_1", "page_2", "page_3", "page_4", "page_5"]);

    const ndjson = await fetch(`${base}/api/jobs/${jobId}/export?format=ndjson`);
    expect(ndjson.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    const lines = (await ndjson.text()).trimEnd().split("\n");
    expect(lines.map((line) => (JSON.parse(line) as Json).id)).toEqual(["page_1", "page_2", "page_3", "page_4", "page_5"]);

    const csv = await fetch(`${base}/api/jobs/${jobId}/export?format=csv`);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    const rows = (await csv.text()).split("\r\n");
    expect(rows[0]).toBe(ITEM_CSV_COLUMNS.join(","));
    expect(rows[3]).toContain('"Third, with a comma"');
    expect(rows).toHaveLength(7); // header, 5 rows, and the empty string after the last CRLF

    expect((await http("GET", `/api/jobs/${jobId}/export?format=xml`)).body).toMatchObject({ error: "invalid_request", field: "format" });
    const missing = await fetch(`${base}/api/jobs/nope/export`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: "not_found", field: "id" });
  });

  it("answers 400 with field body for malformed JSON", async () => {
    const { http } = await boot(["127.0.0.1:1"]);
    const response = await http("POST", "/api/scrape", '{"url": "https://exa');
    expect(response).toMatchObject({ status: 400, body: { error: "invalid_request", field: "body" } });
    expect(response.contentType).toMatch(/application\/json/);
  });

  it("maps the scraper's INVALID_ARGUMENT to 400 naming the field", async () => {
    const double = await scraper();
    double.onStartJob = () => ({ error: { code: grpcStatus.INVALID_ARGUMENT, details: "depth must be at most 10" } });
    const { http } = await boot([double.address]);
    const response = await http("POST", "/api/scrape", { url: "https://example.test/", depth: 50 });
    expect(response).toEqual({ status: 400, body: { error: "invalid_request", field: "depth", message: "depth must be at most 10" }, contentType: expect.any(String) });
  });

  it("answers 503 when no scraper is reachable", async () => {
    const { http } = await boot(["127.0.0.1:1"]);
    const response = await http("POST", "/api/scrape", { url: "https://example.test/" });
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ error: "unavailable" });
  });

  it("starts a job on the connected scraper with the fewest active jobs", async () => {
    const busy = await scraper();
    const idle = await scraper();
    const { gateway, http } = await boot([busy.address, idle.address]);
    await connected(gateway);
    busy.onStartJob = (request) => {
      throw new Error(`busy scraper should not be chosen for ${request.crawl?.urls[0]}`);
    };
    for (const id of ["b1", "b2"]) busy.append(id, { case: "started", value: { job: { id, status: JobStatus.RUNNING } } });
    await vi.waitFor(() => expect(gateway.state.active.size).toBe(2));
    const response = await http("POST", "/api/scrape", { url: "https://example.test/" });
    expect(response.status).toBe(200);
    expect(idle.jobs.has(response.body.job_id as string)).toBe(true);

    const list = await http("GET", "/api/jobs");
    expect((list.body.jobs as Json[]).map((job) => job.job_id)).toContain(response.body.job_id);
  });

  it("serves jobs, cancels them, and maps NOT_FOUND / FAILED_PRECONDITION to 404 / 409", async () => {
    const double = await scraper();
    const { gateway, http } = await boot([double.address]);
    await connected(gateway);
    const { body } = await http("POST", "/api/scrape", { url: "https://example.test/", platform: "web", max_pages: 5 });
    const jobId = body.job_id as string;

    const one = await http("GET", `/api/jobs/${jobId}`);
    expect(one).toMatchObject({ status: 200, body: { job_id: jobId, platform: "web", status: "running", urls: ["https://example.test/"], max_pages: 5 } });
    const list = await http("GET", "/api/jobs?status=running&limit=10");
    expect((list.body.jobs as Json[]).map((job) => job.job_id)).toEqual([jobId]);
    expect((await http("GET", "/api/jobs?status=sleeping")).body).toMatchObject({ error: "invalid_request", field: "status" });
    expect((await http("GET", "/api/jobs?limit=0")).body).toMatchObject({ error: "invalid_request", field: "limit" });

    const cancelled = await http("POST", `/api/jobs/${jobId}/cancel`, { reason: "enough" });
    expect(cancelled).toMatchObject({ status: 200, body: { job_id: jobId, status: "cancelled" } });
    const again = await http("POST", `/api/jobs/${jobId}/cancel`);
    expect(again).toMatchObject({ status: 409, body: { error: "conflict", field: "id" } });
    const missing = await http("POST", "/api/jobs/nope/cancel");
    expect(missing).toMatchObject({ status: 404, body: { error: "not_found", field: "id" } });
    expect((await http("GET", "/api/jobs/nope")).status).toBe(404);

    await vi.waitFor(() => expect(gateway.state.jobs.get(jobId)?.status).toBe(JobStatus.CANCELLED));
    const polled = await http("GET", `/ws/scraping/${jobId}/status`);
    expect(polled.body).toMatchObject({ status: "cancelled", message: "Job cancelled: enough" });
  });

  it("answers 404 JSON for an unknown job's status and for unknown routes", async () => {
    const double = await scraper();
    const { http } = await boot([double.address]);
    expect(await http("GET", "/ws/scraping/ghost/status")).toMatchObject({ status: 404, body: { error: "not_found", field: "job_id" } });
    const unknown = await http("GET", "/no/such/route");
    expect(unknown).toMatchObject({ status: 404, body: { error: "not_found" } });
    expect(unknown.contentType).toMatch(/application\/json/);
  });

  it("reports health ok while every scraper is connected and degraded otherwise", async () => {
    const double = await scraper();
    const healthy = await boot([double.address]);
    await connected(healthy.gateway);
    expect(await healthy.http("GET", "/health")).toMatchObject({ status: 200, body: { status: "ok", scrapers: [{ address: double.address, connected: true, last_offset: 0 }] } });

    const degraded = await boot([double.address, "127.0.0.1:1"]);
    await vi.waitFor(() => expect(degraded.gateway.health()[0]?.connected).toBe(true), { timeout: 10_000 });
    const response = await degraded.http("GET", "/health");
    expect(response.status).toBe(503);
    expect(response.body).toEqual({
      status: "degraded",
      scrapers: [
        { address: double.address, connected: true, last_offset: 0 },
        { address: "127.0.0.1:1", connected: false, last_offset: 0 },
      ],
    });
  });
});

describe("slow WebSocket clients", () => {
  it("conflates progress and drops previews for a stalled /ws/scraping client while a fast one gets every frame", async () => {
    const double = await scraper();
    const { gateway, ws } = await boot([double.address], { wsMaxBufferedBytes: 64 * 1024, wsSlowClientTimeoutMs: 600_000 });
    await connected(gateway);
    const slow = await ws("/ws/scraping");
    const fast = await ws("/ws/scraping");
    await vi.waitFor(() => expect(gateway.hub.connectionCount).toBe(2));
    const [slowConnection, fastConnection] = [...gateway.hub.allConnections];
    slow.pause();

    const job = double.register({ id: "flood", platform: Platform.TWITTER, status: JobStatus.RUNNING });
    double.append("flood", { case: "started", value: { job } });
    const text = "t".repeat(4_000);
    let n = 0;
    const burst = (count: number) => {
      for (let i = 0; i < count; i++) {
        n++;
        double.append("flood", { case: "itemScraped", value: { item: { id: `${n}`, url: `https://twitter.com/u/status/${n}`, text, author: "@u" }, processingMs: 1, counters: page(n, n + 1, n, 0) } });
        double.append("flood", { case: "progress", value: { counters: page(n, n + 1, n, 0) } });
      }
    };
    while (slowConnection?.counters.droppedPreviews === 0 || slowConnection?.counters.conflated === 0) {
      burst(20);
      await vi.waitFor(() => expect(byType(fast, "item_preview")).toHaveLength(n));
      if (n > 50_000) throw new Error("the stalled client never went over its bound");
    }
    double.append("flood", { case: "completed", value: { counters: page(n, n, n, 0) } });

    await fast.next((message) => message.type === "job_complete");
    expect(byType(fast, "item_preview")).toHaveLength(n);
    expect(byType(fast, "progress")).toHaveLength(n + 1);
    expect(fastConnection?.counters).toMatchObject({ conflated: 0, droppedPreviews: 0 });

    slow.resume();
    const complete = await slow.next((message) => message.type === "job_complete");
    expect(dataOf(complete)).toMatchObject({ job_id: "flood", total_items: n });
    const slowPreviews = byType(slow, "item_preview").length;
    expect(slowPreviews + (slowConnection?.counters.droppedPreviews ?? 0)).toBe(n);
    expect(byType(slow, "progress").at(-1)).toMatchObject({ data: { items_scraped: n } });
    expect(slow.messages.at(-1)).toBe(complete);
  });
});

describe("scraper stream resilience", () => {
  it("resumes after a scraper restart from the last applied offset without duplicate frames", async () => {
    const double = await scraper();
    const { gateway, ws } = await boot([double.address]);
    await connected(gateway);
    const client = await ws("/ws/scraping");

    const job = double.register({ id: "r1", platform: Platform.WEB, status: JobStatus.RUNNING });
    double.append("r1", { case: "started", value: { job } });
    for (let n = 1; n <= 4; n++) {
      double.append("r1", { case: "itemScraped", value: { item: { id: `page_${n}`, url: `https://example.test/${n}` }, processingMs: 5, counters: page(n, 10, n, 0) } });
    }
    await vi.waitFor(() => expect(byType(client, "item_preview")).toHaveLength(4));
    expect(gateway.health()[0]?.last_offset).toBe(5);

    const port = double.port;
    double.stop();
    await vi.waitFor(() => expect(gateway.health()[0]?.connected).toBe(false));
    const watchesBefore = double.watchRequests.length;

    // The scraper comes back on the same port with the same log plus new
    // events, and (over-generously) replays two events the gateway already has.
    double.overlapOnResume = 2;
    for (let n = 5; n <= 7; n++) {
      double.append("r1", { case: "itemScraped", value: { item: { id: `page_${n}`, url: `https://example.test/${n}` }, processingMs: 5, counters: page(n, 7, n, 0) } });
    }
    double.append("r1", { case: "completed", value: { counters: page(7, 7, 7, 0) } });
    await double.start(port);

    await client.next((message) => message.type === "job_complete");
    expect(double.watchRequests.slice(watchesBefore).map((request) => request.afterOffset)).toContain(5n);
    expect(double.watchRequests[watchesBefore]?.afterOffset).toBe(5n);
    const previews = byType(client, "item_preview").map((message) => (dataOf(message).item as Json).id);
    expect(previews).toEqual(["page_1", "page_2", "page_3", "page_4", "page_5", "page_6", "page_7"]);
    expect(byType(client, "job_complete")).toHaveLength(1);
    expect(gateway.state.scrapers.get(double.address)?.platforms.get(Platform.WEB)).toMatchObject({ pages: 7, successCount: 7 });
    expect(gateway.health()[0]?.last_offset).toBe(9);
  });

  it("applies a snapshot the scraper sends first", async () => {
    const double = await scraper();
    double.snapshot = {
      $typeName: "trawl.v1.Snapshot",
      offset: 120n,
      jobs: [double.register({ id: "snap", platform: Platform.YOUTUBE, status: JobStatus.RUNNING, counters: page(4, 8, 3, 1), lastSeq: 30n, startedAt: timestampFromMs(Date.now()) })],
      platforms: [create(PlatformStatsSchema, { platform: Platform.YOUTUBE, pages: 4n, successCount: 3n, errorCount: 1n, totalItems: 4n, processingMsTotal: 2_000n })],
    };
    const { gateway, ws } = await boot([double.address]);
    await vi.waitFor(() => expect(gateway.health()[0]?.last_offset).toBe(120));
    const client = await ws("/ws/scraping");
    expect(dataOf(client.messages[0])).toMatchObject({
      active_jobs: { snap: { job_id: "snap", platform: "youtube", items_scraped: 4, items_total: 8 } },
      platform_stats: { youtube: { platform: "youtube", total_items: 4, success_count: 3, error_count: 1, avg_processing_time: 0.5 } },
    });
  });
});

describe("the dashboard at /", () => {
  async function dashboardDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "trawl-dashboard-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, "assets"));
    await writeFile(join(dir, "index.html"), "<!doctype html><title>Trawl</title>");
    await writeFile(join(dir, "assets", "index-abc123.js"), "console.log('trawl')");
    return dir;
  }

  it("serves index.html revalidated and hashed assets cached for good", async () => {
    const double = await scraper();
    const { base } = await boot([double.address], { dashboardDir: await dashboardDir() });
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(await page.text()).toContain("<title>Trawl</title>");
    const asset = await fetch(`${base}/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  it("leaves the API's JSON 404 for paths that are neither API nor dashboard", async () => {
    const double = await scraper();
    const { http } = await boot([double.address], { dashboardDir: await dashboardDir() });
    expect(await http("GET", "/assets/missing.js")).toMatchObject({ status: 404, body: { error: "not_found", field: "path" } });
    expect(await http("GET", "/api/nope")).toMatchObject({ status: 404, body: { error: "not_found" } });
  });

  it("answers / with a 503 JSON explaining how to build the dashboard when it is not built", async () => {
    const double = await scraper();
    const { http } = await boot([double.address], { dashboardDir: join(tmpdir(), "trawl-no-such-dashboard") });
    const response = await http("GET", "/");
    expect(response).toMatchObject({ status: 503, body: { error: "unavailable" } });
    expect(String(response.body.message)).toMatch(/npm run build/);
  });
});
