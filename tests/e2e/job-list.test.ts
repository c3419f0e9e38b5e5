/**
 * Listing jobs across two real scrapers behind one gateway: REST
 * `GET /api/jobs` filters by status, platform and creation time, and its
 * cursor pages through both scrapers' jobs newest first, each exactly once.
 */
import { Platform } from "@trawl/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFixtureSite, type FixtureSite } from "../fixture/site.js";
import { type ScraperClient, scraperClient } from "../support/grpc.js";
import { getJson } from "../support/http.js";
import { type GatewayProcess, type ScraperProcess, startGateway, startScraper } from "../support/stack.js";
import { waitFor } from "../support/wait.js";

interface ListedJob {
  job_id: string;
  platform: string;
  status: string;
  created_at: string;
}
interface ListPage {
  jobs: ListedJob[];
  next_cursor: string | null;
}

let site: FixtureSite;
const scrapers: ScraperProcess[] = [];
const clients: ScraperClient[] = [];
let gateway: GatewayProcess;
/** Every job started, as [id, platform]. */
const started: Array<{ id: string; platform: Platform }> = [];
let midpoint = "";

/** Starts a one-page crawl on scraper `i` directly over gRPC and waits for it to end. */
async function crawlOn(i: number, platform: Platform): Promise<void> {
  const client = clients[i] as ScraperClient;
  const { job } = await client.startJob({ crawl: { urls: [site.url("/")], depth: 0, platform } });
  const id = job?.id ?? "";
  started.push({ id, platform });
  await waitFor(`job ${id} to end`, async () => {
    const { job: now } = await client.getJob({ jobId: id });
    return now !== undefined && now.finishedAt !== undefined;
  });
}

async function list(query: string): Promise<ListPage> {
  const response = await getJson<ListPage>(`${gateway.url}/api/jobs${query}`);
  expect(response.status, response.text).toBe(200);
  return response.body;
}

beforeAll(async () => {
  site = await startFixtureSite();
  for (let i = 0; i < 2; i++) {
    const scraper = await startScraper();
    scrapers.push(scraper);
    clients.push(scraperClient(scraper.address));
  }
  gateway = await startGateway(scrapers.map((scraper) => scraper.address));
  // Alternate scrapers and platforms; creation times increase.
  const plan: Array<[number, Platform]> = [
    [0, Platform.WEB],
    [1, Platform.REDDIT],
    [1, Platform.WEB],
    [0, Platform.TWITTER],
  ];
  for (const [index, [scraper, platform]] of plan.entries()) {
    if (index === 2) midpoint = new Date().toISOString();
    await crawlOn(scraper, platform);
  }
  for (const [scraper, platform] of [
    [0, Platform.REDDIT],
    [1, Platform.YOUTUBE],
  ] as const) {
    await crawlOn(scraper, platform);
  }
});

afterAll(async () => {
  for (const client of clients) client.close();
  await gateway?.stop();
  for (const scraper of scrapers) await scraper.stop();
  await site?.close();
});

describe("GET /api/jobs over two scrapers", () => {
  it("lists every job of both scrapers newest first", async () => {
    const page = await list("?limit=500");
    expect(page.jobs.map((job) => job.job_id)).toEqual(started.map((job) => job.id).reverse());
    expect(page.next_cursor).toBeNull();
  });

  it.each([1, 2, 4])("pages with limit %i through every job exactly once, in order", async (limit) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=${limit}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
      const page = await list(query);
      expect(page.jobs.length).toBeLessThanOrEqual(limit);
      seen.push(...page.jobs.map((job) => job.job_id));
      cursor = page.next_cursor;
      pages++;
      expect(pages).toBeLessThan(50);
    } while (cursor !== null);
    expect(seen).toEqual(started.map((job) => job.id).reverse());
  });

  it("filters by platform, combined with paging", async () => {
    const reddit = await list("?platform=reddit");
    expect(reddit.jobs.map((job) => job.job_id)).toEqual(started.filter((job) => job.platform === Platform.REDDIT).map((job) => job.id).reverse());
    expect(reddit.jobs.every((job) => job.platform === "reddit")).toBe(true);
    const two = await list("?platform=web,twitter&limit=1");
    const rest = await list(`?platform=web,twitter&limit=10&cursor=${encodeURIComponent(two.next_cursor ?? "")}`);
    expect([...two.jobs, ...rest.jobs].map((job) => job.job_id)).toEqual(
      started.filter((job) => job.platform === Platform.WEB || job.platform === Platform.TWITTER).map((job) => job.id).reverse(),
    );
  });

  it("filters by creation time: created_after inclusive, created_before exclusive", async () => {
    const after = await list(`?created_after=${encodeURIComponent(midpoint)}`);
    expect(after.jobs.map((job) => job.job_id)).toEqual(started.slice(2).map((job) => job.id).reverse());
    const before = await list(`?created_before=${encodeURIComponent(midpoint)}`);
    expect(before.jobs.map((job) => job.job_id)).toEqual(started.slice(0, 2).map((job) => job.id).reverse());
    for (const job of after.jobs) expect(Date.parse(job.created_at)).toBeGreaterThanOrEqual(Date.parse(midpoint));
  });

  it("filters by status", async () => {
    expect((await list("?status=completed")).jobs).toHaveLength(started.length);
    expect((await list("?status=running,paused")).jobs).toEqual([]);
  });

  it.each([
    ["platform=myspace", "platform"],
    ["status=done", "status"],
    ["created_after=yesterday", "created_after"],
    ["created_before=2026-01-01", "created_before"],
    ["limit=0", "limit"],
    ["cursor=not-a-cursor", "cursor"],
  ])("answers ?%s with 400 naming %s", async (query, field) => {
    const response = await getJson<{ error: string; field: string; message: string }>(`${gateway.url}/api/jobs?${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: "invalid_request", field });
    expect(response.body.message).not.toBe("");
  });
});
