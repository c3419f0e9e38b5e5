import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { JobStatus, Platform } from "@trawl/proto";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConfig, type GatewayConfig } from "../config.js";
import { createGateway } from "../gateway.js";
import { createLiveState } from "../state/live-state.js";
import { ScriptedScraper } from "../test-support/scripted-scraper.js";
import { openClient } from "../test-support/ws-clients.js";
import { wsStatsJson } from "./ws-stats.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("wsStatsJson", () => {
  it("counts the hub's connections and the jobs that have not ended; Trawl has no Redis", () => {
    const state = createLiveState();
    state.active.add("a").add("b");
    state.finished.add("c");
    expect(wsStatsJson({ state, connections: () => ({ active: 5 }) })).toEqual({ total_connections: 5, active_jobs: 2, redis_connected: false });
  });

  it("counts a tenant's own active jobs only", () => {
    const state = createLiveState();
    for (const [id, tenant] of [["a1", "acme"], ["a2", "acme"], ["b1", "beta"]] as const) {
      state.jobs.set(id, { tenant } as never);
      state.active.add(id);
    }
    expect(wsStatsJson({ state, connections: () => ({ active: 3 }) }, "beta").active_jobs).toBe(1);
    expect(wsStatsJson({ state, connections: () => ({ active: 3 }) }, "acme").active_jobs).toBe(2);
    expect(wsStatsJson({ state, connections: () => ({ active: 3 }) }).active_jobs).toBe(3);
  });
});

describe("GET /ws/stats", () => {
  it("answers the seed's connection statistics over HTTP while the WebSocket upgrade on the same path streams seed 000 stats", async () => {
    const double = new ScriptedScraper();
    await double.start(0);
    cleanups.push(() => double.stop());
    const config: GatewayConfig = { ...parseConfig({}), port: 0, scraperAddresses: [double.address], logLevel: "silent" };
    const gateway = createGateway(config, pino({ level: "silent" }), { backoff: { initialMs: 20, maxMs: 200 } });
    const { url, port } = await gateway.listen();
    cleanups.push(() => gateway.close());

    const get = async () => {
      const response = await fetch(`${url}/ws/stats`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      return (await response.json()) as Record<string, unknown>;
    };
    expect(await get()).toEqual({ total_connections: 0, active_jobs: 0, redis_connected: false });

    const job = double.register({ id: "running", platform: Platform.WEB, status: JobStatus.RUNNING, spec: { urls: ["https://example.test/"] }, counters: {}, startedAt: timestampFromMs(0) });
    double.append("running", { case: "started", value: { job } });
    await vi.waitFor(() => expect(gateway.state.active.has("running")).toBe(true), { timeout: 10_000 });

    const clients = await Promise.all(["/ws/scraping", "/ws/scraping/running?format=flat", `/ws/stats?interval=60`].map((path) => openClient(`ws://127.0.0.1:${port}${path}`)));
    for (const client of clients) cleanups.push(() => client.ws.terminate());
    const stats = await (clients[2] as (typeof clients)[number]).next((message) => message.type === "stats");
    expect(stats).toMatchObject({ type: "stats", interval_seconds: 60, data: { active_jobs_count: 1 } });

    const body = await get();
    expect(Object.keys(body)).toEqual(["total_connections", "active_jobs", "redis_connected"]);
    expect(body).toEqual({ total_connections: 3, active_jobs: 1, redis_connected: false });
  });
});
