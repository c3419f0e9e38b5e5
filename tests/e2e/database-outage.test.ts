/**
 * The database goes away under a running scraper (PostgreSQL behind a TCP
 * proxy that the test cuts: every connection dropped, new ones refused) and
 * comes back. The scraper must not exit: it reports itself not ready, its
 * crawls wait, its commits are retried, and when the database is back the
 * crawl carries on and ends with the site's true counts — every page stored
 * once. A scraper started while the database is away waits for it instead of
 * crashing into a restart loop.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type FixtureSite, startFixtureSite } from "../fixture/site.js";
import { startScrape, truthFor } from "../support/jobs.js";
import { TEST_DATABASE_URL, throwawaySchema } from "../support/postgres.js";
import { type GatewayProcess, type ScraperProcess, startGateway, startScraper } from "../support/stack.js";
import { waitFor } from "../support/wait.js";
import { RecordingClient } from "../support/ws-client.js";


const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TCP proxy in front of PostgreSQL that can be cut (drop everything, refuse new connections) and restored. */
async function databaseProxy(target: URL): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let up = true;
  const server: Server = createServer((client) => {
    if (!up) return client.destroy();
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      up = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore() {
      up = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A throwaway schema of the test database, reached through `proxyPort`. */
async function databaseEnv(proxyPort: number): Promise<Record<string, string>> {
  const { databaseUrl, drop } = await throwawaySchema("trawl_outage", `127.0.0.1:${proxyPort}`);
  cleanups.push(drop);
  return { DATABASE_URL: databaseUrl, METRICS_PORT: "0", CRAWL_CONCURRENCY: "4" };
}

async function readyz(scraper: ScraperProcess): Promise<{ status: number; body: { store?: string } }> {
  const response = await fetch(`${String(scraper.listening.metrics).replace(/\/metrics$/, "")}/readyz`);
  return { status: response.status, body: (await response.json()) as { store?: string } };
}

describe("database outage under the scraper (PostgreSQL)", () => {
  it("a crawl waits while the database is away, the scraper stays up and not ready, and the job ends with the true counts once it is back", async () => {
    const site: FixtureSite = await startFixtureSite({ pageLatencyMs: 30 });
    cleanups.push(() => site.close());
    const proxy = await databaseProxy(new URL(TEST_DATABASE_URL));
    cleanups.push(() => proxy.close());
    const scraper = await startScraper(await databaseEnv(proxy.port));
    cleanups.push(() => scraper.kill());
    const gateway: GatewayProcess = await startGateway([scraper.address]);
    cleanups.push(() => gateway.stop());
    const client = await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping`);
    cleanups.push(() => client.close());

    const plan = { path: "/", depth: 10, platform: "web" } as const;
    const truth = truthFor(site, plan);
    const { job_id: jobId } = await startScrape(gateway, site, plan);
    await client.waitForFrame("40 pages done", (frame) => frame.type === "progress" && (frame.data as { job_id: string }).job_id === jobId && (frame.data as { items_scraped: number }).items_scraped >= 40);

    proxy.cut();
    await waitFor(
      "the scraper to report the store unavailable",
      async () => {
        const ready = await readyz(scraper);
        return ready.status === 503 && ready.body.store === "unavailable";
      },
      { detail: () => scraper.logTail(15) },
    );
    // While it is away, no more pages are fetched beyond the ones in flight.
    const requestsAtCut = site.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(site.requests.length - requestsAtCut).toBeLessThanOrEqual(8);
    expect(scraper.isRunning()).toBe(true);

    proxy.restore();
    await waitFor("readiness after the database is back", async () => (await readyz(scraper)).status === 200, { timeoutMs: 20_000, detail: () => scraper.logTail(20) });
    const end = await client.waitForFrame("the job's end", (frame) => (frame.type === "job_complete" || frame.type === "job_error") && (frame.data as { job_id: string }).job_id === jobId, { timeoutMs: 60_000 });
    expect(end.type).toBe("job_complete");
    expect(end.data).toMatchObject({ total_items: truth.pagesDone, success_count: truth.successCount, error_count: truth.errorCount });
    expect(scraper.isRunning()).toBe(true);
    expect(scraper.logs.some((line) => /database is unreachable/.test(line.raw))).toBe(true);
  });

  it("a scraper started while the database is away waits for it instead of exiting", async () => {
    const proxy = await databaseProxy(new URL(TEST_DATABASE_URL));
    cleanups.push(() => proxy.close());
    const env = await databaseEnv(proxy.port);
    proxy.cut();
    const starting = startScraper(env);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    proxy.restore();
    const scraper = await starting;
    cleanups.push(() => scraper.kill());
    expect(scraper.isRunning()).toBe(true);
    expect(scraper.logs.some((line) => /unreachable at start-up; retrying/.test(line.raw))).toBe(true);
    expect((await readyz(scraper)).status).toBe(200);
  });
});
