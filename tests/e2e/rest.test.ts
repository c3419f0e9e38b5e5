/**
 * The gateway's REST surface: POST /api/scrape (and its 400s), the seed-000
 * status endpoint, the seed-002 polling endpoint, /api/jobs and /health —
 * including a gateway whose scraper is down.
 */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { scraperClient } from "../support/grpc.js";
import { getJson, postJson } from "../support/http.js";
import { startScrape, truthFor } from "../support/jobs.js";
import { expectIso, expectKeys, expectPlatformStats, hasDecimals, type PlatformStatsView } from "../support/seed000.js";
import { startGateway } from "../support/stack.js";
import { useStack } from "../support/suite.js";
import { waitFor } from "../support/wait.js";
import { RecordingClient } from "../support/ws-client.js";

const suite = useStack();

const POLL_KEYS = [
  "job_id",
  "status",
  "progress",
  "items_scraped",
  "results_count",
  "success_count",
  "error_count",
  "items_total",
  "platform",
  "started_at",
  "finished_at",
  "elapsed_seconds",
  "message",
];

interface PollStatus {
  job_id: string;
  status: string;
  progress: number;
  items_scraped: number;
  results_count: number;
  success_count: number;
  error_count: number;
  items_total: number;
  platform: string;
  started_at: string;
  finished_at: string | null;
  elapsed_seconds: number;
  message: string | null;
}

interface WsStatus {
  active_connections: number;
  active_jobs: number;
  job_subscriptions: number;
  platform_stats: Record<string, PlatformStatsView>;
}

function expectPollStatus(body: PollStatus, jobId: string): void {
  expectKeys(body, POLL_KEYS, `GET /ws/scraping/${jobId}/status`);
  expect(body.job_id).toBe(jobId);
  expect(["pending", "running", "paused", "completed", "failed", "cancelled"]).toContain(body.status);
  expect(body.progress >= 0 && body.progress <= 100 && hasDecimals(body.progress, 1), `progress ${body.progress} is 0–100 with 1 decimal`).toBe(true);
  const expectedProgress = body.items_total === 0 ? 0 : Math.round((body.items_scraped / body.items_total) * 1000) / 10;
  expect(body.progress, "progress = pages_done / pages_total").toBeCloseTo(expectedProgress, 1);
  expect(body.items_scraped).toBe(body.success_count + body.error_count);
  expect(body.results_count).toBe(body.success_count);
  expectIso(body.started_at, "started_at");
  if (body.finished_at !== null) expectIso(body.finished_at, "finished_at");
  expect(body.elapsed_seconds).toBeGreaterThanOrEqual(0);
  expect(body.message === null || typeof body.message === "string").toBe(true);
}

describe("REST", () => {
  it("POST /api/scrape answers with the seed-000 shape, and the polling endpoint follows the job to completion", async () => {
    const { site, gateway } = suite.stack;
    const plan = { path: "/", depth: 1, platform: "web" as const };
    const truth = truthFor(site, plan);
    const global = suite.track(await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping`));
    const response = await startScrape(gateway, site, plan, { extract_embeddings: false });
    const jobId = response.job_id;

    // While it runs (the slow page holds it open for the request timeout).
    const running = await getJson<PollStatus>(`${gateway.url}/ws/scraping/${jobId}/status`);
    expect(running.status).toBe(200);
    expectPollStatus(running.body, jobId);
    expect(["pending", "running", "completed"]).toContain(running.body.status);
    expect(running.body.platform).toBe("web");

    const complete = await global.waitForFrame("job_complete", (frame) => frame.type === "job_complete" && (frame.data as { job_id: string }).job_id === jobId, { timeoutMs: 120_000 });
    const done = await waitFor("polling status completed", async () => {
      const polled = await getJson<PollStatus>(`${gateway.url}/ws/scraping/${jobId}/status`);
      return polled.body.status === "completed" ? polled : undefined;
    });
    expectPollStatus(done.body, jobId);
    expect(done.body).toMatchObject({
      status: "completed",
      progress: 100,
      items_scraped: truth.pagesDone,
      items_total: truth.pagesTotal,
      results_count: truth.successCount,
      success_count: truth.successCount,
      error_count: truth.errorCount,
      platform: "web",
    });
    expect(done.body.finished_at).not.toBeNull();
    expect(Date.parse(String(done.body.finished_at))).toBeGreaterThanOrEqual(Date.parse(done.body.started_at));
    expect(done.body.elapsed_seconds, "elapsed_seconds of a finished job = job_complete.elapsed_seconds").toBeCloseTo((complete.data as { elapsed_seconds: number }).elapsed_seconds, 1);
  });

  it("answers 404 not_found for the polling status of an unknown job", async () => {
    const response = await getJson(`${suite.stack.gateway.url}/ws/scraping/no-such-job/status`);
    expect(response.status).toBe(404);
    expectKeys(response.body, ["error", "field", "message"], "404 body");
    expect(response.body).toMatchObject({ error: "not_found", field: "job_id" });
    expect(String(response.body.message).length).toBeGreaterThan(0);
  });

  const url = "http://127.0.0.1:9/never-fetched";
  it.each([
    ["a missing url", {}, "url"],
    ["an empty url", { url: "" }, "url"],
    ["a url that is not a URL", { url: "not a url" }, "url"],
    ["a url that is a number", { url: 42 }, "url"],
    ["an ftp url", { url: "ftp://example.invalid/file" }, "url"],
    ["a javascript: url", { url: "javascript:alert(1)" }, "url"],
    ["a file: url", { url: "file:///etc/passwd" }, "url"],
    ["a negative depth", { url, depth: -1 }, "depth"],
    ["a fractional depth", { url, depth: 1.5 }, "depth"],
    ["a string depth", { url, depth: "2" }, "depth"],
    ["a depth far above the maximum", { url, depth: 1000 }, "depth"],
    ["an unknown platform", { url, platform: "myspace" }, "platform"],
    ["a numeric platform", { url, platform: 2 }, "platform"],
    ["a non-boolean extract_embeddings", { url, extract_embeddings: "yes" }, "extract_embeddings"],
    ["a negative max_pages", { url, max_pages: -5 }, "max_pages"],
    ["a string request_timeout_ms", { url, request_timeout_ms: "fast" }, "request_timeout_ms"],
  ])("POST /api/scrape with %s → 400 naming the field", async (_name, body, field) => {
    const response = await postJson(`${suite.stack.gateway.url}/api/scrape`, body);
    expect(response.status, response.text).toBe(400);
    expect(response.contentType).toMatch(/^application\/json/);
    expectKeys(response.body, ["error", "field", "message"], "400 body");
    expect(response.body).toMatchObject({ error: "invalid_request", field });
    expect(String(response.body.message).length).toBeGreaterThan(0);
  });

  it.each([
    ["truncated JSON", '{"url": '],
    ["not JSON at all", "url=http://example.invalid/"],
  ])("POST /api/scrape with %s → 400 field body", async (_name, raw) => {
    const response = await postJson(`${suite.stack.gateway.url}/api/scrape`, undefined, { raw });
    expect(response.status, response.text).toBe(400);
    expectKeys(response.body, ["error", "field", "message"], "400 body");
    expect(response.body).toMatchObject({ error: "invalid_request", field: "body" });
  });

  it("starts no job for any rejected request", async () => {
    const client = scraperClient(suite.stack.scraper.address);
    try {
      const { jobs } = await client.listJobs({ pageSize: 500 });
      expect(jobs.map((job) => job.spec?.urls[0])).not.toContain(url);
      expect(jobs).toHaveLength(1);
    } finally {
      client.close();
    }
  });

  it("GET /ws/scraping/status counts connections, active jobs and job subscriptions", async () => {
    const { site, gateway } = suite.stack;
    const statusUrl = `${gateway.url}/ws/scraping/status`;
    const idle = await waitFor("no connections left from earlier tests", async () => {
      const polled = await getJson<WsStatus>(statusUrl);
      return polled.body?.active_connections === 0 ? polled : undefined;
    });
    expect(idle.status).toBe(200);
    expectKeys(idle.body, ["active_connections", "active_jobs", "job_subscriptions", "platform_stats"], "status");
    expectPlatformStats(idle.body.platform_stats, "status.platform_stats");
    expect(idle.body).toMatchObject({ active_connections: 0, active_jobs: 0, job_subscriptions: 0 });

    const a = suite.track(await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping`));
    const b = suite.track(await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping`));
    // A long request timeout: the slow page keeps this job running while the counts are read.
    const { job_id: jobId } = await startScrape(gateway, site, { path: "/", depth: 1, platform: "web", requestTimeoutMs: 10_000 });
    const c = suite.track(await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping/${jobId}`));
    await c.waitForFrame("initial_state", (frame) => frame.type === "initial_state");
    const busy = await getJson<WsStatus>(statusUrl);
    expect(busy.body).toMatchObject({ active_connections: 3, active_jobs: 1, job_subscriptions: 1 });

    await a.waitForFrame("job_complete", (frame) => frame.type === "job_complete", { timeoutMs: 120_000 });
    await Promise.all([a.close(), b.close(), c.close()]);
    await waitFor("connections and jobs back to zero", async () => {
      const after = await getJson<WsStatus>(statusUrl);
      return after.body.active_connections === 0 && after.body.active_jobs === 0 && after.body.job_subscriptions === 0 ? after : undefined;
    });
  });

  it("GET /api/jobs and GET /api/jobs/{id} list the jobs the scraper ran", async () => {
    const { gateway, scraper } = suite.stack;
    const client = scraperClient(scraper.address);
    try {
      const { jobs } = await client.listJobs({});
      expect(jobs.length).toBeGreaterThanOrEqual(2);
      const listed = await getJson(`${gateway.url}/api/jobs`);
      expect(listed.status).toBe(200);
      expect(listed.contentType).toMatch(/^application\/json/);
      for (const job of jobs) {
        expect(listed.text, `GET /api/jobs mentions ${job.id}`).toContain(job.id);
        const one = await getJson(`${gateway.url}/api/jobs/${encodeURIComponent(job.id)}`);
        expect(one.status).toBe(200);
        expect(one.text).toContain(job.id);
      }
    } finally {
      client.close();
    }
  });

  it("GET /health reports the connected scraper", async () => {
    const { gateway, scraper } = suite.stack;
    const health = await getJson<{ status: string; scrapers: Record<string, unknown>[] }>(`${gateway.url}/health`);
    expect(health.status).toBe(200);
    expectKeys(health.body, ["status", "scrapers"], "health");
    expect(health.body.status).toBe("ok");
    expect(health.body.scrapers).toHaveLength(1);
    const [entry] = health.body.scrapers;
    expectKeys(entry, ["address", "connected", "last_offset"], "health.scrapers[0]");
    expect(entry).toMatchObject({ address: scraper.address, connected: true });
    expect(Number(entry?.last_offset)).toBeGreaterThan(0);
  });
});

describe("REST with the scraper down", () => {
  it("reports degraded health (503) and answers POST /api/scrape with 503", async () => {
    const deadAddress = await new Promise<string>((resolve, reject) => {
      const probe = createServer();
      probe.once("error", reject);
      probe.listen(0, "127.0.0.1", () => {
        const address = probe.address();
        const port = typeof address === "object" && address ? address.port : 0;
        probe.close(() => resolve(`127.0.0.1:${port}`));
      });
    });
    const gateway = await startGateway([deadAddress]);
    try {
      const health = await getJson<{ status: string; scrapers: Record<string, unknown>[] }>(`${gateway.url}/health`);
      expect(health.status).toBe(503);
      expect(health.body.status).toBe("degraded");
      expect(health.body.scrapers).toHaveLength(1);
      expect(health.body.scrapers[0]).toMatchObject({ address: deadAddress, connected: false });
      const response = await postJson(`${gateway.url}/api/scrape`, { url: "http://127.0.0.1:9/", depth: 0 });
      expect(response.status, response.text).toBe(503);
      const invalid = await postJson(`${gateway.url}/api/scrape`, { url: "ftp://example.invalid/" });
      expect(invalid.status, "validation still answers 400 when no scraper is up").toBe(400);
    } finally {
      await gateway.stop();
    }
  });
});
