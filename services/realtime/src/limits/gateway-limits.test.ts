/**
 * The gateway's limits against a real gateway and a scripted scraper: each
 * answered in its protocol's documented form and counted in /metrics.
 */
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { parseConfig, type GatewayConfig } from "../config.js";
import { createGateway, type Gateway } from "../gateway.js";
import type { AppRouter } from "../trpc/router.js";
import { ScriptedScraper } from "../test-support/scripted-scraper.js";
import { openClient } from "../test-support/ws-clients.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function boot(overrides: Partial<GatewayConfig>): Promise<{ gateway: Gateway; base: string; port: number }> {
  const double = new ScriptedScraper();
  await double.start(0);
  cleanups.push(() => double.stop());
  const config: GatewayConfig = { ...parseConfig({}), port: 0, scraperAddresses: [double.address], logLevel: "silent", ...overrides };
  const gateway = createGateway(config, pino({ level: "silent" }), { backoff: { initialMs: 20, maxMs: 100 } });
  const { url, port } = await gateway.listen();
  cleanups.push(() => gateway.close());
  await vi.waitFor(() => expect(gateway.health().every((link) => link.connected)).toBe(true), { timeout: 10_000 });
  return { gateway, base: url, port };
}

/** The upgrade's HTTP answer when it is refused, or "open". */
function upgradeStatus(url: string): Promise<number | "open"> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once("open", () => {
      cleanups.push(() => ws.terminate());
      resolve("open");
    });
    ws.once("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
    ws.once("error", () => undefined);
  });
}

const limitHits = async (base: string, limit: string): Promise<number> => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const lines = text.split("\n").filter((l) => l.startsWith("trawl_gateway_limit_hits_total{") && l.includes(`limit="${limit}"`));
  return lines.reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
};

describe("gateway limits", () => {
  it("refuses upgrades over the per-address bound with 429, on every edge", async () => {
    const { base, port } = await boot({ wsMaxConnectionsPerIp: 2 });
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/ws/scraping`)).toBe("open");
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/trpc`)).toBe("open");
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/ws/scraping`)).toBe(429);
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`)).toBe(429);
    expect(await limitHits(base, "connections_per_ip")).toBe(2);
    // Closing one frees its place.
    const first = cleanups.pop();
    await first?.();
    await vi.waitFor(async () => expect(await upgradeStatus(`ws://127.0.0.1:${port}/ws/scraping`)).toBe("open"));
  });

  it("refuses upgrades over the total with 503", async () => {
    const { base, port } = await boot({ wsMaxConnections: 2 });
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/ws/scraping`)).toBe("open");
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/ws/stats`)).toBe("open");
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/trpc`)).toBe(503);
    expect(await limitHits(base, "connections")).toBe(1);
  });

  it("closes a client that floods messages with 1008, leaving others connected", async () => {
    const { base, port } = await boot({ wsMaxMessagesPerSecond: 5 });
    const flooder = await openClient(`ws://127.0.0.1:${port}/ws/scraping`);
    const calm = await openClient(`ws://127.0.0.1:${port}/ws/scraping`);
    cleanups.push(() => calm.ws.terminate());
    for (let i = 0; i < 50; i++) flooder.ws.send("ping");
    expect(await flooder.closed).toEqual({ code: 1008, reason: "message rate limit exceeded (WS_MAX_MESSAGES_PER_SECOND)" });
    calm.ws.send("ping");
    expect(await calm.next((message) => message.type === "pong")).toMatchObject({ type: "pong" });
    expect(await limitHits(base, "message_rate")).toBe(1);
  });

  it("closes a client whose message exceeds WS_MAX_PAYLOAD_BYTES with 1009", async () => {
    const { base, port } = await boot({ wsMaxPayloadBytes: 1_024 });
    const client = await openClient(`ws://127.0.0.1:${port}/ws/scraping`);
    client.ws.send("x".repeat(4_096));
    expect((await client.closed).code).toBe(1009);
    await vi.waitFor(async () => expect(await limitHits(base, "payload_size")).toBe(1));
  });

  it("refuses a tenant's job over MAX_ACTIVE_JOBS_PER_TENANT with 429 naming tenant", async () => {
    const { base } = await boot({ maxActiveJobsPerTenant: 2 });
    const start = () => fetch(`${base}/api/scrape`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url: "https://example.test/" }) });
    expect((await start()).status).toBe(200);
    expect((await start()).status).toBe(200);
    // The gateway counts the jobs its state holds: wait for both to have streamed.
    await vi.waitFor(async () => {
      const refused = await start();
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({ error: "too_many_requests", field: "tenant" });
    });
  });

  it("refuses a tRPC subscription over WS_MAX_SUBSCRIPTIONS with TOO_MANY_REQUESTS and closes a flooding tRPC client 1008", async () => {
    const { base, port } = await boot({ wsMaxSubscriptions: 2, wsMaxMessagesPerSecond: 20 });
    const client = createWSClient({ url: `ws://127.0.0.1:${port}/trpc`, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
    cleanups.push(() => client.close());
    const api = createTRPCClient<AppRouter>({ links: [wsLink({ client })] });
    const errors: string[] = [];
    const subscriptions = [0, 1, 2].map(() =>
      api.stats.watch.subscribe({ intervalSeconds: 60 }, { onError: (error) => errors.push((error.data as { code?: string } | undefined)?.code ?? error.message) }),
    );
    await vi.waitFor(() => expect(errors).toEqual(["TOO_MANY_REQUESTS"]));
    for (const subscription of subscriptions) subscription.unsubscribe();
    expect(await limitHits(base, "subscriptions")).toBe(1);

    const flooder = new WebSocket(`ws://127.0.0.1:${port}/trpc`);
    const closed = new Promise<number>((resolve) => flooder.once("close", (code) => resolve(code)));
    await new Promise((resolve) => flooder.once("open", resolve));
    for (let i = 0; i < 100; i++) flooder.send(JSON.stringify({ id: i, method: "query", params: { path: "stats.platform", input: {} } }));
    expect(await closed).toBe(1008);
    expect(await limitHits(base, "message_rate")).toBe(1);
  });

  it("disconnects a Socket.IO client that floods events", async () => {
    const { base, port } = await boot({ wsMaxMessagesPerSecond: 10 });
    const engine = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    const frames: string[] = [];
    engine.on("message", (data) => frames.push(String(data)));
    const closed = new Promise<void>((resolve) => engine.once("close", () => resolve()));
    await new Promise((resolve) => engine.once("open", resolve));
    engine.send("40");
    await vi.waitFor(() => expect(frames.some((frame) => frame.startsWith("40"))).toBe(true));
    for (let i = 0; i < 100; i++) engine.send(`42["unsubscribe:job",{"job_id":"j${i}"}]`);
    await closed;
    expect(frames.some((frame) => frame.includes("message rate limit exceeded"))).toBe(true);
    expect(await limitHits(base, "message_rate")).toBe(1);
  });
});
