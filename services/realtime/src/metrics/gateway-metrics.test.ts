import { connect } from "node:net";
import { Platform } from "@trawl/proto";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { parseConfig, type GatewayConfig } from "../config.js";
import { createGateway, type Gateway } from "../gateway.js";
import { counters, item } from "../test-support/events.js";
import { ScriptedScraper } from "../test-support/scripted-scraper.js";
import { openClient, rawUpgrade, type Recorded } from "../test-support/ws-clients.js";
import { GatewayMetrics } from "./gateway-metrics.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function scraper(port = 0): Promise<ScriptedScraper> {
  const double = new ScriptedScraper();
  await double.start(port);
  cleanups.push(() => double.stop());
  return double;
}

async function boot(addresses: string[]): Promise<{ gateway: Gateway; base: string; port: number }> {
  const config: GatewayConfig = { ...parseConfig({}), port: 0, scraperAddresses: addresses, logLevel: "silent" };
  const gateway = createGateway(config, pino({ level: "silent" }), { backoff: { initialMs: 20, maxMs: 100 } });
  const { url, port } = await gateway.listen();
  cleanups.push(() => gateway.close());
  return { gateway, base: url, port };
}

async function connected(gateway: Gateway): Promise<void> {
  await vi.waitFor(() => expect(gateway.health().every((link) => link.connected)).toBe(true), { timeout: 10_000 });
}

async function ws(port: number, path: string): Promise<Recorded> {
  const client = await openClient(`ws://127.0.0.1:${port}${path}`);
  cleanups.push(() => client.ws.terminate());
  return client;
}

/** One sample of the text exposition: `name{labels} value`. */
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

/** The value of the sample named `name` whose labels are exactly `labels`; undefined when absent. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).sort();
  return samples.find((sample) => sample.name === name && JSON.stringify(Object.entries(sample.labels).sort()) === JSON.stringify(wanted))?.value;
}

async function scrape(base: string): Promise<Sample[]> {
  const response = await fetch(`${base}/metrics`);
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

const wsConnections = (samples: Sample[], dialect: string) => valueOf(samples, "trawl_gateway_connections", { edge: "websocket", dialect });

describe("gateway /metrics", () => {
  it("serves the text exposition with its content type, default process metrics included", async () => {
    const double = await scraper();
    const { base } = await boot([double.address]);
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    const samples = parseExposition(text);
    expect(valueOf(samples, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(text).toContain("# TYPE nodejs_eventloop_lag_seconds gauge");
    expect(text).toContain("# TYPE trawl_gateway_event_lag_seconds histogram");
    expect(text).toContain("# TYPE trawl_gateway_pages_total counter");
  });

  it("counts raw WebSocket connections per dialect while they are open", async () => {
    const double = await scraper();
    const { base, port } = await boot([double.address]);
    const scraping = await Promise.all([ws(port, "/ws/scraping"), ws(port, "/ws/scraping"), ws(port, "/ws/scraping")]);
    double.register({ id: "job-1", platform: Platform.WEB });
    const flat = await ws(port, "/ws/scraping/job-1?format=flat");

    let samples = await scrape(base);
    expect(wsConnections(samples, "seed000")).toBe(3);
    expect(wsConnections(samples, "seed002")).toBe(1);

    for (const client of scraping) client.ws.close();
    await Promise.all(scraping.map((client) => client.closed));
    await vi.waitFor(async () => expect(wsConnections(await scrape(base), "seed000")).toBe(0));
    samples = await scrape(base);
    expect(wsConnections(samples, "seed002")).toBe(1);
    flat.ws.close();
    await vi.waitFor(async () => expect(wsConnections(await scrape(base), "seed002")).toBe(0));
  });

  it("does not count an upgrade that was refused", async () => {
    const double = await scraper();
    const { base, port } = await boot([double.address]);
    await expect(openClient(`ws://127.0.0.1:${port}/ws/nowhere/at/all`)).rejects.toThrow(/404/);
    // A handshake `ws` refuses (unsupported version) on a real endpoint's path.
    const refused = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      let head = "";
      socket.on("data", (chunk: Buffer) => (head += chunk.toString("latin1")));
      socket.once("close", () => resolve(head));
      socket.once("error", reject);
      socket.write(`GET /ws/scraping HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n\r\n`);
    });
    expect(refused).toMatch(/^HTTP\/1\.1 400/);
    const samples = await scrape(base);
    expect(samples.filter((sample) => sample.name === "trawl_gateway_connections" && sample.labels.edge === "websocket")).toEqual([]);
  });

  it("counts tRPC and Socket.IO connections from their servers", async () => {
    const double = await scraper();
    const { base, port } = await boot([double.address]);
    const trpc = new WebSocket(`ws://127.0.0.1:${port}/trpc`);
    cleanups.push(() => trpc.terminate());
    await new Promise((resolve, reject) => trpc.once("open", resolve).once("error", reject));

    const io = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    cleanups.push(() => io.terminate());
    await new Promise<void>((resolve, reject) => {
      io.on("message", (data: Buffer) => {
        const text = data.toString();
        if (text.startsWith("0{")) io.send("40");
        if (text.startsWith("40")) resolve();
      });
      io.once("error", reject);
    });

    let samples = await scrape(base);
    expect(valueOf(samples, "trawl_gateway_connections", { edge: "trpc", dialect: "trpc" })).toBe(1);
    expect(valueOf(samples, "trawl_gateway_connections", { edge: "socketio", dialect: "seed004" })).toBe(1);

    trpc.close();
    io.close();
    await vi.waitFor(async () => {
      samples = await scrape(base);
      expect(valueOf(samples, "trawl_gateway_connections", { edge: "trpc", dialect: "trpc" })).toBe(0);
      expect(valueOf(samples, "trawl_gateway_connections", { edge: "socketio", dialect: "seed004" })).toBe(0);
    });
  });

  it("reports jobs by status, pages by platform and outcome, and the scraper→gateway event lag", async () => {
    const double = await scraper();
    const { gateway, base } = await boot([double.address]);
    await connected(gateway);
    const job = double.register({ id: "job-lag", platform: Platform.YOUTUBE, counters: {} });
    const fiveSecondsAgo = Date.now() - 5_000;
    double.append(job.id, { case: "started", value: { job } }, fiveSecondsAgo);
    const ok = counters({ pagesDone: 1, successCount: 1, items: 1 });
    double.append(job.id, { case: "itemScraped", value: { item: item({ id: "i1", url: "https://example.test/a" }), processingMs: 10, counters: ok } }, fiveSecondsAgo);
    const failed = counters({ pagesDone: 2, successCount: 1, errorCount: 1, items: 1 });
    double.append(job.id, { case: "pageFailed", value: { url: "https://example.test/b", errorKind: 1, httpStatus: 500, counters: failed } }, fiveSecondsAgo);
    await vi.waitFor(() => expect(gateway.state.jobs.get(job.id)?.counts.pagesDone).toBe(2));

    let samples = await scrape(base);
    expect(valueOf(samples, "trawl_gateway_jobs", { status: "running" })).toBe(1);
    expect(valueOf(samples, "trawl_gateway_jobs", { status: "completed" })).toBe(0);
    expect(valueOf(samples, "trawl_gateway_pages_total", { platform: "youtube", outcome: "ok" })).toBe(1);
    expect(valueOf(samples, "trawl_gateway_pages_total", { platform: "youtube", outcome: "error" })).toBe(1);
    const scraperLabel = { scraper: double.address };
    expect(valueOf(samples, "trawl_gateway_event_lag_seconds_count", scraperLabel)).toBe(3);
    expect(valueOf(samples, "trawl_gateway_event_lag_seconds_bucket", { ...scraperLabel, le: "1" })).toBe(0);
    expect(valueOf(samples, "trawl_gateway_event_lag_seconds_bucket", { ...scraperLabel, le: "+Inf" })).toBe(3);
    expect(valueOf(samples, "trawl_gateway_event_lag_seconds_sum", scraperLabel)).toBeGreaterThanOrEqual(15);
    expect(valueOf(samples, "trawl_gateway_scraper_up", scraperLabel)).toBe(1);
    expect(valueOf(samples, "trawl_gateway_scraper_last_offset", scraperLabel)).toBe(3);

    double.append(job.id, { case: "completed", value: { counters: failed, elapsedMs: 5 } });
    await vi.waitFor(() => expect(gateway.state.active.size).toBe(0));
    samples = await scrape(base);
    expect(valueOf(samples, "trawl_gateway_jobs", { status: "running" })).toBe(0);
    expect(valueOf(samples, "trawl_gateway_jobs", { status: "completed" })).toBe(1);
    expect(valueOf(samples, "trawl_gateway_event_lag_seconds_count", scraperLabel)).toBe(4);
  });

  it("counts scraper stream restarts and reports a scraper down", async () => {
    const double = await scraper();
    const { gateway, base } = await boot([double.address]);
    await connected(gateway);
    const scraperLabel = { scraper: double.address };
    expect(valueOf(await scrape(base), "trawl_gateway_scraper_stream_restarts_total", scraperLabel)).toBe(0);
    double.stop();
    await vi.waitFor(async () => expect(valueOf(await scrape(base), "trawl_gateway_scraper_up", scraperLabel)).toBe(0));
    await double.start();
    await connected(gateway);
    expect(valueOf(await scrape(base), "trawl_gateway_scraper_stream_restarts_total", scraperLabel)).toBeGreaterThanOrEqual(1);
  });

  it("counts error responses by kind, and an oversized body as a limit hit", async () => {
    const double = await scraper();
    const { base } = await boot([double.address]);
    expect((await fetch(`${base}/api/nothing-here`)).status).toBe(404);
    expect((await fetch(`${base}/api/jobs/unknown-job`)).status).toBe(404);
    const huge = await fetch(`${base}/api/scrape`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url: "x".repeat(100_000) }) });
    expect(huge.status).toBe(413);
    expect((await fetch(`${base}/trpc/no.such.procedure`)).status).toBe(404);

    const samples = await scrape(base);
    expect(valueOf(samples, "trawl_gateway_errors_total", { edge: "http", kind: "not_found" })).toBe(2);
    expect(valueOf(samples, "trawl_gateway_errors_total", { edge: "http", kind: "payload_too_large" })).toBe(1);
    expect(valueOf(samples, "trawl_gateway_limit_hits_total", { edge: "http", limit: "body_size" })).toBe(1);
    expect(valueOf(samples, "trawl_gateway_errors_total", { edge: "trpc", kind: "not_found" })).toBe(1);
  });
});

describe("gateway /livez and /readyz", () => {
  it("is live at once, and ready only once a scraper's event stream is connected", async () => {
    // A port with nothing on it yet: the scraper comes up there later.
    const reserved = await scraper();
    const port = reserved.port;
    reserved.stop();
    const { gateway, base } = await boot([`127.0.0.1:${port}`]);

    const live = await fetch(`${base}/livez`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: "ok" });

    const before = await fetch(`${base}/readyz`);
    expect(before.status).toBe(503);
    expect(await before.json()).toEqual({
      status: "not_ready",
      not_ready: ["scrapers"],
      server: "listening",
      scrapers: { connected: 0, total: 1, disconnected: [`127.0.0.1:${port}`] },
    });

    await scraper(port);
    await connected(gateway);
    const after = await fetch(`${base}/readyz`);
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual({ status: "ok", not_ready: [], server: "listening", scrapers: { connected: 1, total: 1, disconnected: [] } });
  });
});

describe("gateway /readyz while shutting down", () => {
  it("turns 503 as soon as close() starts, while clients are still being closed", async () => {
    const double = await scraper();
    const { gateway, base, port } = await boot([double.address]);
    await connected(gateway);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    // A client that never answers the close handshake keeps the shutdown in its grace period.
    const stuck = await rawUpgrade(port, "/ws/scraping");
    cleanups.push(() => void stuck.socket.destroy());
    const closed = gateway.close();
    const during = await fetch(`${base}/readyz`);
    expect(during.status).toBe(503);
    const body = (await during.json()) as { status: string; server: string; not_ready: string[] };
    expect(body).toMatchObject({ status: "not_ready", server: "shutting_down" });
    expect(body.not_ready).toContain("server");
    await closed;
  });
});

describe("GatewayMetrics", () => {
  it("keeps one registry per instance, so several gateways share a process", async () => {
    const a = new GatewayMetrics();
    const b = new GatewayMetrics({ defaultMetrics: false });
    a.error("http", "internal");
    const textA = (await a.exposition()).body;
    const textB = (await b.exposition()).body;
    expect(valueOf(parseExposition(textA), "trawl_gateway_errors_total", { edge: "http", kind: "internal" })).toBe(1);
    expect(valueOf(parseExposition(textB), "trawl_gateway_errors_total", { edge: "http", kind: "internal" })).toBeUndefined();
    expect(textB).not.toContain("process_cpu_user_seconds_total");
  });

  it("counts messages through the bound dialect counters the hub holds", async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const seed000 = metrics.dialect("websocket", "seed000");
    expect(metrics.dialect("websocket", "seed000")).toBe(seed000);
    seed000.sent(5);
    seed000.conflated();
    seed000.dropped(2);
    seed000.slowClientClosed();
    const samples = parseExposition((await metrics.exposition()).body);
    const labels = { edge: "websocket", dialect: "seed000" };
    expect(valueOf(samples, "trawl_gateway_messages_sent_total", labels)).toBe(5);
    expect(valueOf(samples, "trawl_gateway_messages_conflated_total", labels)).toBe(1);
    expect(valueOf(samples, "trawl_gateway_messages_dropped_total", labels)).toBe(2);
    expect(valueOf(samples, "trawl_gateway_slow_client_closes_total", labels)).toBe(1);
  });

  it("observes the lag against its clock, never below zero", async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false, clock: () => 10_000 });
    metrics.eventReceived("s:1", 7_500);
    metrics.eventReceived("s:1", 12_000);
    metrics.eventReceived("s:1", undefined);
    const samples = parseExposition((await metrics.exposition()).body);
    expect(valueOf(samples, "trawl_gateway_event_lag_seconds_count", { scraper: "s:1" })).toBe(2);
    expect(valueOf(samples, "trawl_gateway_event_lag_seconds_sum", { scraper: "s:1" })).toBe(2.5);
    expect(valueOf(samples, "trawl_gateway_event_lag_seconds_bucket", { scraper: "s:1", le: "0.001" })).toBe(1);
  });
});
