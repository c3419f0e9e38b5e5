/**
 * A scraper that dies mid-crawl — SIGKILL, no shutdown code at all — or is
 * stopped with SIGTERM, and is started again on the same data directory,
 * resumes its jobs from the stored frontier and finishes them: every page of
 * the site ends up in the items exactly once, none is lost, the final counts
 * are the site's truth, and a client watching through the gateway sees the
 * job continue to its job_complete with counts that never go backwards.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type FixtureSite, startFixtureSite } from "../fixture/site.js";
import { getJson } from "../support/http.js";
import { throwawaySchema } from "../support/postgres.js";
import { startScrape, truthFor } from "../support/jobs.js";
import type { JobView } from "../support/seed000.js";
import { type GatewayProcess, type ScraperProcess, startGateway, startScraper } from "../support/stack.js";
import { type Frame, RecordingClient } from "../support/ws-client.js";

interface ItemsPage {
  total: number;
  items: Array<{ id: string; url: string }>;
  next_page_token: string | null;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});


/** The storage of the scraper under test: where its data survives the restart. */
const backends = {
  /** SQLite in a fresh data directory (the default). */
  sqlite: async (): Promise<Record<string, string>> => {
    const dataDir = mkdtempSync(join(tmpdir(), "trawl-resume-"));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    return { DATA_DIR: dataDir };
  },
  /** PostgreSQL (DATABASE_URL) in a throwaway schema of the test database; the data dir stays empty. */
  postgres: async (): Promise<Record<string, string>> => {
    const { databaseUrl, drop } = await throwawaySchema("trawl_e2e");
    cleanups.push(drop);
    const dataDir = mkdtempSync(join(tmpdir(), "trawl-resume-pg-"));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    return { DATABASE_URL: databaseUrl, DATA_DIR: dataDir };
  },
};

async function boot(
  backend: keyof typeof backends,
): Promise<{ site: FixtureSite; env: Record<string, string>; scraper: ScraperProcess; gateway: GatewayProcess; client: RecordingClient }> {
  // 30 ms a page, four at a time: a crawl of the 404-page site lasts long enough to interrupt.
  const site = await startFixtureSite({ pageLatencyMs: 30 });
  cleanups.push(() => site.close());
  const env = { ...(await backends[backend]()), CRAWL_CONCURRENCY: "4" };
  const scraper = await startScraper(env);
  const gateway = await startGateway([scraper.address]);
  cleanups.push(() => gateway.stop());
  const client = await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping`);
  cleanups.push(() => client.close());
  return { site, env: { ...env, SCRAPER_PORT: scraper.address.split(":")[1] ?? "0" }, scraper, gateway, client };
}

function progressOf(frames: readonly Frame[]): JobView[] {
  return frames.filter((frame) => frame.type === "progress").map((frame) => frame.data as JobView);
}

/** Every stored item of the job, through the gateway's paged REST listing. */
async function allItems(gateway: GatewayProcess, jobId: string): Promise<ItemsPage["items"]> {
  const items: ItemsPage["items"] = [];
  let token: string | null = "";
  while (token !== null) {
    const page: { status: number; body: ItemsPage } = await getJson<ItemsPage>(`${gateway.url}/api/jobs/${jobId}/items?page_size=200&page_token=${token}`);
    expect(page.status).toBe(200);
    items.push(...page.body.items);
    token = page.body.next_page_token;
  }
  return items;
}

describe.each([
  { how: "SIGKILL", backend: "sqlite" as const, stop: (scraper: ScraperProcess) => scraper.kill() },
  { how: "SIGTERM", backend: "sqlite" as const, stop: (scraper: ScraperProcess) => scraper.stop() },
  { how: "SIGKILL", backend: "postgres" as const, stop: (scraper: ScraperProcess) => scraper.kill() },
])("a scraper on $backend stopped with $how mid-crawl", ({ backend, stop }) => {
  it("resumes the job from its stored frontier and finishes it with every page stored exactly once", async () => {
    const { site, env, scraper, gateway, client } = await boot(backend);
    const plan = { path: "/", depth: 10, platform: "web" as const };
    const truth = truthFor(site, plan);
    const { job_id: jobId } = await startScrape(gateway, site, plan);

    const third = Math.floor(truth.pagesDone / 3);
    await client.waitUntil("a third of the pages done", () => progressOf(client.forJob(jobId)).some((view) => view.items_scraped >= third));
    await stop(scraper);
    const restarted = await startScraper(env);
    cleanups.push(() => restarted.stop());

    const end = await client.waitForFrame("job_complete after the restart", (frame) => frame.type === "job_complete" && (frame.data as { job_id: string }).job_id === jobId, {
      timeoutMs: 120_000,
    });
    expect(end.data).toMatchObject({ total_items: truth.pagesDone, success_count: truth.successCount, error_count: truth.errorCount });

    const seen = progressOf(client.forJob(jobId)).map((view) => view.items_scraped);
    expect(seen.length).toBeGreaterThan(1);
    seen.forEach((count, i) => expect(count, `progress ${i} never goes backwards`).toBeGreaterThanOrEqual(seen[i - 1] ?? 0));

    const items = await allItems(gateway, jobId);
    expect(items).toHaveLength(truth.successCount);
    expect(new Set(items.map((item) => item.id)).size, "no page twice in the items").toBe(truth.successCount);
    const strangers = items.filter((item) => !truth.itemsById.has(item.id));
    expect(strangers, "every stored item is a page of the site").toEqual([]);

    const job = await getJson<{ status: string; counters: { pages_done: number } }>(`${gateway.url}/api/jobs/${jobId}`);
    expect(job.body).toMatchObject({ status: "completed", counters: { pages_done: truth.pagesDone } });
  });
});
