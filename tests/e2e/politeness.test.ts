/**
 * The crawler's manners, end to end through the real processes: robots.txt
 * Disallow and Crawl-delay, 429 with Retry-After retried, a redirect hop to an
 * address outside the allow-list refused before any connection, oversized
 * and non-HTML responses, tracking-parameter and trailing-slash twins fetched
 * once — each checked both in the job's statistics and in what the site
 * actually received. Then a batch: one request, several start URLs, one task
 * each with its own events.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PoliteSite, startPoliteSite } from "../fixture/polite-site.js";
import { EventRecorder, scraperClient } from "../support/grpc.js";
import { getJson, postJson } from "../support/http.js";
import { type GatewayProcess, type ScraperProcess, startGateway, startScraper } from "../support/stack.js";
import { RecordingClient } from "../support/ws-client.js";

const CRAWL_DELAY_S = 0.3;
const RETRY_AFTER_S = 1;

interface JobJson {
  status: string;
  counters: {
    pages_done: number;
    success_count: number;
    error_count: number;
    retries: number;
    skipped: Record<string, number>;
    errors_by_kind: Record<string, number>;
    p95_page_ms: number;
  };
}

let site: PoliteSite;
let scraper: ScraperProcess;
let gateway: GatewayProcess;

beforeAll(async () => {
  site = await startPoliteSite({ crawlDelaySeconds: CRAWL_DELAY_S, busyRefusals: 1, retryAfterSeconds: RETRY_AFTER_S, hugeBytes: 300_000 });
  scraper = await startScraper({ CRAWL_MAX_BODY_BYTES: "100000", CRAWL_MAX_RETRIES: "2", CRAWL_RETRY_BASE_MS: "50", CRAWL_PER_HOST_DELAY_MS: "0" });
  gateway = await startGateway([scraper.address]);
});

afterAll(async () => {
  await gateway?.stop();
  await scraper?.stop();
  await site?.close();
});

async function crawlToEnd(body: Record<string, unknown>): Promise<{ jobId: string; job: JobJson }> {
  const client = await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping`);
  try {
    const started = await postJson<{ job_id: string }>(`${gateway.url}/api/scrape`, body);
    expect(started.status, started.text).toBe(200);
    const jobId = started.body.job_id;
    await client.waitForFrame("the job's terminal frame", (frame) => ["job_complete", "job_error"].includes(frame.type) && (frame.data as { job_id: string }).job_id === jobId, {
      timeoutMs: 60_000,
    });
    const job = await getJson<JobJson>(`${gateway.url}/api/jobs/${jobId}`);
    expect(job.status).toBe(200);
    return { jobId, job: job.body };
  } finally {
    await client.close();
  }
}

describe("a crawl of a site with robots.txt, a 429, a private redirect and oversized pages", () => {
  let job: JobJson;
  const mark = { index: 0 };

  beforeAll(async () => {
    mark.index = site.requests.length;
    ({ job } = await crawlToEnd({ url: site.url("/"), depth: 1 }));
  });

  const received = () => site.requests.slice(mark.index);
  const hits = (path: string) => received().filter((request) => request.path.split("?")[0] === path);

  it("ends completed with the site's true counts", () => {
    // Successes: /, /a, /b/, /busy. Errors: the blocked redirect, /huge, the PDF.
    expect(job.status).toBe("completed");
    expect(job.counters).toMatchObject({ pages_done: 7, success_count: 4, error_count: 3 });
    expect(job.counters.errors_by_kind).toEqual({ blocked_address: 1, too_large: 1, not_html: 1 });
    expect(job.counters.p95_page_ms).toBeGreaterThanOrEqual(0);
  });

  it("never requests what robots.txt disallows, and counts the skip", () => {
    expect(hits("/robots.txt")).toHaveLength(1);
    expect(hits("/private/secret")).toHaveLength(0);
    expect(job.counters.skipped.robots).toBe(1);
  });

  it("waits at least the Crawl-delay between two requests to the host", () => {
    const pages = received().filter((request) => request.path !== "/robots.txt");
    for (let i = 1; i < pages.length; i++) {
      const gap = (pages[i]?.at ?? 0) - (pages[i - 1]?.at ?? 0);
      expect(gap, `gap before ${pages[i]?.path}`).toBeGreaterThanOrEqual(CRAWL_DELAY_S * 1000 - 50);
    }
  });

  it("retries a 429 no sooner than its Retry-After and counts the retry", () => {
    const busy = hits("/busy");
    expect(busy).toHaveLength(2);
    expect((busy[1]?.at ?? 0) - (busy[0]?.at ?? 0)).toBeGreaterThanOrEqual(RETRY_AFTER_S * 1000 - 50);
    expect(job.counters.retries).toBe(1);
  });

  it("fetches a page once whatever tracking parameters or trailing slash its links carry", () => {
    expect(hits("/a")).toHaveLength(1);
    expect(hits("/b").length + hits("/b/").length).toBe(1);
  });

  it("refuses the redirect hop to a loopback address outside the allow-list before connecting", () => {
    expect(hits("/to-loopback")).toHaveLength(1);
    // The hop's target path is /a on 127.0.0.2: had it been fetched, the site would have logged a second /a.
    expect(hits("/a")).toHaveLength(1);
    expect(job.counters.errors_by_kind.blocked_address).toBe(1);
  });
});

describe("a batch of start URLs", () => {
  it("runs every URL as a task with its own events and ends with the batch's true counts", async () => {
    const grpc = scraperClient(scraper.address);
    const log = EventRecorder.watch(grpc, {});
    try {
      const urls = [site.url("/a"), site.url("/b/"), site.url("/report.pdf")];
      const started = await postJson<{ job_id: string; urls: string[] }>(`${gateway.url}/api/scrape`, { urls, depth: 0, ignore_robots: true });
      expect(started.status, started.text).toBe(200);
      expect(started.body.urls).toEqual(urls);
      const jobId = started.body.job_id;
      await log.waitForTerminal(jobId, { timeoutMs: 60_000 });
      const events = log.events.filter((event) => event.jobId === jobId);
      const taskStarts = events.filter((event) => event.kind.case === "taskStarted").map((event) => (event.kind.value as { url: string }).url);
      expect(taskStarts).toEqual(urls);
      const finished = events.flatMap((event) => (event.kind.case === "taskFinished" ? [event.kind.value] : []));
      const failed = events.flatMap((event) => (event.kind.case === "taskFailed" ? [event.kind.value] : []));
      expect(finished.map((task) => task.url).sort()).toEqual([urls[0], urls[1]].sort());
      finished.forEach((task) => expect(task).toMatchObject({ pages: 1, items: 1, errors: 0 }));
      expect(failed.map((task) => task.url)).toEqual([urls[2]]);
      expect(failed[0]?.errorMessage).toMatch(/html|pdf|content/i);
      expect(events.at(-1)?.kind.case).toBe("completed");
      const job = await getJson<JobJson>(`${gateway.url}/api/jobs/${jobId}`);
      expect(job.body.counters).toMatchObject({ pages_done: 3, success_count: 2, error_count: 1 });
    } finally {
      await log.cancel();
      grpc.close();
    }
  });
});
