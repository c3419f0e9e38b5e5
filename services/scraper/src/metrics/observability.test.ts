import { mkdtempSync } from "node:fs";
import { createServer as createTcpServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { status as grpcStatus } from "@grpc/grpc-js";
import { bearerInterceptor, createClient, JobProgressSchema, JobStatus, ScraperService, type WatchEventsResponse } from "@trawl/proto";
import SQLite from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigError, loadConfig } from "../config.js";
import { healthCheck, NOT_SERVING, SERVING } from "../test-support/health-check.js";
import { createScraperServer, type ScraperServer } from "../server.js";
import { SQLITE_FILE } from "../store/open-store.js";
import { closedPort, htmlPages, linkPage, startSite } from "../test-support/http-site.js";
import { GrpcState, readiness, StoreState } from "./readiness.js";
import { ScraperMetrics } from "./scraper-metrics.js";


const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const config = (env: Record<string, string> = {}) =>
  loadConfig({
    SCRAPER_PORT: "0",
    METRICS_PORT: "0",
    DATA_DIR: mkdtempSync(join(tmpdir(), "trawl-metrics-")),
    CRAWL_ALLOW_ADDRESSES: "127.0.0.1",
    CRAWL_RESPECT_ROBOTS: "false",
    CRAWL_PER_HOST_DELAY_MS: "0",
    PROGRESS_INTERVAL_MS: "0",
    ...env,
  });

async function started(env: Record<string, string> = {}): Promise<{ server: ScraperServer; address: string; metricsUrl: string; dataDir: string }> {
  const cfg = config(env);
  const server = createScraperServer(cfg);
  const { address, metricsUrl } = await server.listen();
  cleanups.push(() => server.close());
  if (metricsUrl === undefined) throw new Error("no metrics listener");
  return { server, address, metricsUrl, dataDir: cfg.store.dataDir };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return samples.find((sample) => sample.name === name && JSON.stringify(Object.entries(sample.labels).sort()) === wanted)?.value;
}

async function scrape(metricsUrl: string): Promise<Sample[]> {
  const response = await fetch(`${metricsUrl}/metrics`);
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

describe("scraper observability listener", () => {
  it("is live and ready once the store is open, and gRPC health says SERVING", async () => {
    const { address, metricsUrl } = await started();
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const live = await fetch(`${metricsUrl}/livez`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: "ok" });
    const ready = await fetch(`${metricsUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ok", not_ready: [], store: "open", grpc: "listening" });
    expect(await healthCheck(address)).toBe(SERVING);
    expect(await healthCheck(address, "trawl.v1.ScraperService")).toBe(SERVING);
    expect(valueOf(await scrape(metricsUrl), "trawl_scraper_ready")).toBe(1);
  });

  it("serves the text exposition with its content type, default process metrics included", async () => {
    const { metricsUrl } = await started();
    const response = await fetch(`${metricsUrl}/metrics`);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    expect(valueOf(parseExposition(text), "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(text).toContain("# TYPE trawl_scraper_pages_total counter");
    expect(text).toContain("# TYPE trawl_scraper_jobs gauge");
  });

  it("answers 404 for other paths and 405 for other methods, in JSON", async () => {
    const { metricsUrl } = await started();
    const missing = await fetch(`${metricsUrl}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: "not_found" });
    const post = await fetch(`${metricsUrl}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("binds no listener without METRICS_PORT", async () => {
    const cfg = loadConfig({ SCRAPER_PORT: "0", DATA_DIR: mkdtempSync(join(tmpdir(), "trawl-metrics-")) });
    expect(cfg.metricsPort).toBeUndefined();
    const server = createScraperServer(cfg);
    cleanups.push(() => server.close());
    const listened = await server.listen();
    expect(listened.metricsUrl).toBeUndefined();
    expect(server.readiness().ready).toBe(true);
  });

  it("reports jobs by status, pages by outcome, page errors by kind, the event log and watch streams after a real crawl", async () => {
    const site = await startSite(htmlPages({ "/": linkPage("home", ["/a", "/b", "/missing"]), "/a": linkPage("a", []), "/b": linkPage("b", []) }));
    cleanups.push(() => site.close());
    const { server, address, metricsUrl } = await started();
    const client = createClient(ScraperService, address);
    cleanups.push(() => client.close());

    let samples = await scrape(metricsUrl);
    expect(valueOf(samples, "trawl_scraper_jobs", { status: "completed" })).toBe(0);
    expect(valueOf(samples, "trawl_scraper_watch_streams")).toBe(0);
    expect(valueOf(samples, "trawl_scraper_event_log_events")).toBe(0);

    const stream = client.watchEvents({ afterOffset: 0n });
    stream.on("error", () => undefined);
    stream.on("data", (_message: WatchEventsResponse) => undefined);
    const { job } = await client.startJob({ crawl: { urls: [`${site.origin}/`], depth: 1 } });
    await vi.waitFor(async () => expect((await client.getJob({ jobId: job?.id ?? "" })).job?.status).toBe(JobStatus.COMPLETED), { timeout: 10_000 });

    samples = await scrape(metricsUrl);
    expect(valueOf(samples, "trawl_scraper_jobs", { status: "completed" })).toBe(1);
    expect(valueOf(samples, "trawl_scraper_jobs", { status: "running" })).toBe(0);
    expect(valueOf(samples, "trawl_scraper_pages_total", { platform: "web", outcome: "ok" })).toBe(3);
    expect(valueOf(samples, "trawl_scraper_pages_total", { platform: "web", outcome: "error" })).toBe(1);
    expect(valueOf(samples, "trawl_scraper_page_errors_total", { platform: "web", kind: "http_4xx" })).toBe(1);
    expect(valueOf(samples, "trawl_scraper_page_bytes_total", { platform: "web" })).toBeGreaterThan(0);
    expect(valueOf(samples, "trawl_scraper_page_duration_seconds_count", { platform: "web", outcome: "ok" })).toBe(3);
    expect(valueOf(samples, "trawl_scraper_page_duration_seconds_count", { platform: "web", outcome: "error" })).toBe(1);
    expect(valueOf(samples, "trawl_scraper_watch_streams")).toBe(1);
    const head = Number(server.log.headOffset());
    expect(head).toBeGreaterThan(4);
    expect(valueOf(samples, "trawl_scraper_event_log_head_offset")).toBe(head);
    expect(valueOf(samples, "trawl_scraper_event_log_events")).toBe(head);

    stream.cancel();
    await vi.waitFor(async () => expect(valueOf(await scrape(metricsUrl), "trawl_scraper_watch_streams")).toBe(0));
  });

  it("counts failed jobs and start URLs as errors", async () => {
    const site = await startSite(htmlPages({}));
    cleanups.push(() => site.close());
    const { address, metricsUrl } = await started();
    const client = createClient(ScraperService, address);
    cleanups.push(() => client.close());
    const { job } = await client.startJob({ crawl: { urls: [`${site.origin}/gone`], depth: 0 } });
    await vi.waitFor(async () => expect((await client.getJob({ jobId: job?.id ?? "" })).job?.status).toBe(JobStatus.FAILED), { timeout: 10_000 });
    const samples = await scrape(metricsUrl);
    expect(valueOf(samples, "trawl_scraper_errors_total", { kind: "job_failed" })).toBe(1);
    expect(valueOf(samples, "trawl_scraper_errors_total", { kind: "task_failed" })).toBe(1);
    expect(valueOf(samples, "trawl_scraper_jobs", { status: "failed" })).toBe(1);
  });

  it("counts gRPC calls by method and status: successes, refusals by handlers and by the token check, cancelled streams", async () => {
    const READ = "reader-token-0123456789";
    const { address, metricsUrl } = await started({ AUTH_TOKENS: `t:read:${READ}` });
    const as = (token: string | undefined) => {
      const made = createClient(ScraperService, address, undefined, token === undefined ? {} : { interceptors: [bearerInterceptor(token)] });
      cleanups.push(() => made.close());
      return made;
    };
    const reader = as(READ);
    const codeOf = (call: Promise<unknown>) => call.then(() => grpcStatus.OK, (err: { code: grpcStatus }) => err.code);
    expect(await codeOf(reader.listJobs({}))).toBe(grpcStatus.OK);
    expect(await codeOf(reader.listJobs({}))).toBe(grpcStatus.OK);
    expect(await codeOf(reader.getJob({ jobId: "" }))).toBe(grpcStatus.INVALID_ARGUMENT);
    expect(await codeOf(reader.getJob({ jobId: "no-such-job" }))).toBe(grpcStatus.NOT_FOUND);
    expect(await codeOf(as(undefined).listJobs({}))).toBe(grpcStatus.UNAUTHENTICATED);
    expect(await codeOf(reader.startJob({ crawl: { urls: ["http://127.0.0.1/"] } }))).toBe(grpcStatus.PERMISSION_DENIED);
    const stream = reader.watchEvents({});
    stream.on("error", () => undefined);
    await vi.waitFor(async () => expect(valueOf(await scrape(metricsUrl), "trawl_scraper_watch_streams")).toBe(1));
    stream.cancel();

    await vi.waitFor(async () => expect(valueOf(await scrape(metricsUrl), "trawl_scraper_grpc_handled_total", { method: "WatchEvents", code: "CANCELLED" })).toBe(1));
    const samples = await scrape(metricsUrl);
    const handled = (method: string, code: string) => valueOf(samples, "trawl_scraper_grpc_handled_total", { method, code });
    expect(handled("ListJobs", "OK")).toBe(2);
    expect(handled("GetJob", "INVALID_ARGUMENT")).toBe(1);
    expect(handled("GetJob", "NOT_FOUND")).toBe(1);
    expect(handled("ListJobs", "UNAUTHENTICATED")).toBe(1);
    expect(handled("StartJob", "PERMISSION_DENIED")).toBe(1);
    expect(handled("StartJob", "OK")).toBeUndefined();
  });

  it("turns NOT_SERVING and not ready when the store fails to commit", async () => {
    const { server, address, metricsUrl, dataDir } = await started();
    expect(await healthCheck(address)).toBe(SERVING);
    const fatal = new Promise<unknown>((resolve) => server.onFatal(resolve));

    // Break the store underneath the server: the next commit of the log fails.
    const sabotage = new SQLite(join(dataDir, SQLITE_FILE));
    sabotage.exec("DROP TABLE events");
    sabotage.close();
    server.log.append("doomed", { case: "progress", value: create(JobProgressSchema, {}) });
    await fatal;

    expect(await healthCheck(address)).toBe(NOT_SERVING);
    expect(await healthCheck(address, "trawl.v1.ScraperService")).toBe(NOT_SERVING);
    const ready = await fetch(`${metricsUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: "not_ready", not_ready: ["store"], store: "failed", grpc: "listening" });
    const samples = await scrape(metricsUrl);
    expect(valueOf(samples, "trawl_scraper_errors_total", { kind: "store_commit" })).toBe(1);
    expect(valueOf(samples, "trawl_scraper_ready")).toBe(0);
    expect((await fetch(`${metricsUrl}/livez`)).status).toBe(200);
  });

  it("is live but not ready while the store is still opening, retries an unreachable database, and closes the listener when opening ends in failure", async () => {
    // A "database" that accepts connections and never answers: the store stays in its opening step.
    const held: Socket[] = [];
    const database = createTcpServer((socket) => held.push(socket.on("error", () => undefined)));
    await new Promise<void>((resolve) => database.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => database.close(() => resolve())));
    const { port: dbPort } = database.address() as AddressInfo;

    const metricsPort = await closedPort();
    const cfg = config({ DATABASE_URL: `postgresql://trawl@127.0.0.1:${dbPort}/trawl`, METRICS_PORT: String(metricsPort) });
    const server = createScraperServer(cfg);
    const outcome = server.listen().then(
      () => "listened",
      (err: unknown) => err,
    );
    await vi.waitFor(() => expect(held.length).toBeGreaterThan(0));
    expect(server.readiness().body).toEqual({ status: "not_ready", not_ready: ["store", "grpc"], store: "opening", grpc: "starting" });

    // The listener is bound before the store is opened.
    const live = await fetch(`http://127.0.0.1:${metricsPort}/livez`);
    expect(live.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: "not_ready", not_ready: ["store", "grpc"], store: "opening", grpc: "starting" });

    // A database that drops the connection is unreachable, not broken: the store keeps "opening" and tries again.
    const attempts = held.length;
    for (const socket of held) socket.destroy();
    await vi.waitFor(() => expect(held.length).toBeGreaterThan(attempts), { timeout: 5_000 });
    expect(server.readiness().body.store).toBe("opening");
    // Shutting down ends the waiting: the next failed attempt is final.
    const closed = server.close();
    for (const socket of held) socket.destroy();
    await closed;
    const error = await outcome;
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/PostgreSQL/);
    expect(server.readiness().body.store).toBe("failed");
    await expect(fetch(`http://127.0.0.1:${metricsPort}/livez`)).rejects.toThrow();
    expect(valueOf(parseExposition((await server.metrics.exposition()).body), "trawl_scraper_errors_total", { kind: "store_open" })).toBe(1);
  });
});

describe("readiness", () => {
  it.each([
    { store: StoreState.OPEN, grpc: GrpcState.LISTENING, notReady: [] },
    { store: StoreState.OPENING, grpc: GrpcState.STARTING, notReady: ["store", "grpc"] },
    { store: StoreState.OPEN, grpc: GrpcState.STARTING, notReady: ["grpc"] },
    { store: StoreState.FAILED, grpc: GrpcState.LISTENING, notReady: ["store"] },
    { store: StoreState.CLOSED, grpc: GrpcState.STOPPING, notReady: ["store", "grpc"] },
  ])("store $store, gRPC $grpc → not ready: $notReady", ({ store, grpc: grpcState, notReady }) => {
    const report = readiness(store, grpcState);
    expect(report.ready).toBe(notReady.length === 0);
    expect(report.body).toEqual({ status: notReady.length === 0 ? "ok" : "not_ready", not_ready: notReady, store, grpc: grpcState });
  });
});

describe("METRICS_PORT", () => {
  it("is unset by default, takes a port (0 = ephemeral), and names itself when invalid", () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: "" }).metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: "9464" }).metricsPort).toBe(9464);
    expect(loadConfig({ METRICS_PORT: "0" }).metricsPort).toBe(0);
    expect(() => loadConfig({ METRICS_PORT: "70000" })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_PORT: "http" })).toThrow(/METRICS_PORT/);
  });
});

describe("ScraperMetrics", () => {
  it("keeps one registry per instance, and reports nothing from state before it observes any", async () => {
    const a = new ScraperMetrics({ defaultMetrics: false });
    const b = new ScraperMetrics({ defaultMetrics: false });
    a.error("store_commit");
    const samplesA = parseExposition((await a.exposition()).body);
    const samplesB = parseExposition((await b.exposition()).body);
    expect(valueOf(samplesA, "trawl_scraper_errors_total", { kind: "store_commit" })).toBe(1);
    expect(valueOf(samplesB, "trawl_scraper_errors_total", { kind: "store_commit" })).toBeUndefined();
    expect(valueOf(samplesB, "trawl_scraper_jobs", { status: "running" })).toBeUndefined();
    expect(valueOf(samplesB, "trawl_scraper_ready")).toBe(0);
  });
});
