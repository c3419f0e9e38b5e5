/**
 * The gateway holds no state it cannot rebuild: kill it mid-crawl, start a
 * new one against the same scraper, and a reconnecting client still sees
 * true numbers — then a graceful stop closes every WebSocket with 1001.
 */
import { describe, expect, it } from "vitest";
import { getJson } from "../support/http.js";
import { expectFinalCounts, expectPreviewsMatchTruth, startScrape, truthFor } from "../support/jobs.js";
import { expectInitialState, expectJobStream, type JobView, type PlatformStatsView } from "../support/seed000.js";
import { useStack } from "../support/suite.js";
import { waitFor } from "../support/wait.js";
import { RecordingClient } from "../support/ws-client.js";

// 40 ms a page, two at a time: the crawl outlives a gateway restart.
const suite = useStack({ site: { pageLatencyMs: 40 } });

async function connectWithRetry(url: string): Promise<RecordingClient> {
  return waitFor(`a connection to ${url}`, async () => RecordingClient.connect(url).catch(() => undefined), { intervalMs: 200 });
}

describe("gateway restart", () => {
  let jobId = "";
  const plan = { path: "/", depth: 10, platform: "web" as const };

  it("a gateway killed mid-crawl is replaced; a reconnecting client sees true initial_state and job_complete numbers", async () => {
    const { site } = suite.stack;
    const truth = truthFor(site, plan);
    const first = suite.track(await RecordingClient.connect(`${suite.stack.gateway.wsUrl}/ws/scraping`));
    jobId = (await startScrape(suite.stack.gateway, site, plan, { concurrency: 2 })).job_id;
    await first.waitUntil("20 previews before the crash", () => first.forJob(jobId).filter((frame) => frame.type === "item_preview").length >= 20);
    const seenBeforeCrash = first.forJob(jobId).filter((frame) => frame.type === "item_preview").length;

    const replacement = await suite.stack.restartGateway();
    const lost = await first.waitForClose();
    expect(lost.code, "the killed gateway's client saw an abnormal close").toBe(1006);

    const job = suite.track(await connectWithRetry(`${replacement.wsUrl}/ws/scraping/${jobId}`));
    const global = suite.track(await connectWithRetry(`${replacement.wsUrl}/ws/scraping`));
    await job.waitForFrame("initial_state", (frame) => frame.type === "initial_state");
    const initial = expectInitialState(job.frames[0]);
    expect(Object.keys(initial.active_jobs)).toEqual([jobId]);
    const atConnect = initial.active_jobs[jobId] as JobView;
    expect(atConnect.platform).toBe("web");
    expect(atConnect.items_scraped).toBeLessThanOrEqual(truth.pagesDone);
    expect(atConnect.success_count).toBeLessThanOrEqual(truth.successCount);

    await job.waitForFrame("job_complete", (frame) => frame.type === "job_complete", { timeoutMs: 180_000 });
    const frames = expectJobStream(job.frames.slice(1), jobId, "web");
    expect(frames.terminal.data).toMatchObject({ job_id: jobId, platform: "web", total_items: truth.pagesDone, success_count: truth.successCount, error_count: truth.errorCount });
    if (frames.progress.length > 0) expectFinalCounts(frames, truth);
    expect(frames.previews.length, "previews after initial_state = successes after initial_state (no gap, no duplicate)").toBe(truth.successCount - atConnect.success_count);
    expectPreviewsMatchTruth(frames.previews, truth, "web", { complete: false });
    expect(seenBeforeCrash).toBeGreaterThanOrEqual(20);

    // The global client of the new gateway converges on the same numbers.
    await global.waitForFrame("job_complete on the new global client", (frame) => frame.type === "job_complete" && (frame.data as { job_id: string }).job_id === jobId);
    expectInitialState(global.frames[0]);
  });

  it("the replacement gateway rebuilt platform stats and job status from the scraper's log", async () => {
    const { site, gateway, scraper } = suite.stack;
    const truth = truthFor(site, plan);
    const status = await getJson<{ platform_stats: Record<string, PlatformStatsView>; active_jobs: number }>(`${gateway.url}/ws/scraping/status`);
    expect(status.body.active_jobs).toBe(0);
    expect(status.body.platform_stats.web).toMatchObject({ total_items: truth.pagesDone, success_count: truth.successCount, error_count: truth.errorCount });
    const polled = await getJson<Record<string, unknown>>(`${gateway.url}/ws/scraping/${jobId}/status`);
    expect(polled.body).toMatchObject({ status: "completed", items_scraped: truth.pagesDone, results_count: truth.successCount, error_count: truth.errorCount, progress: 100 });
    const health = await getJson<{ status: string; scrapers: { address: string; connected: boolean; last_offset: number }[] }>(`${gateway.url}/health`);
    expect(health.body.status).toBe("ok");
    expect(health.body.scrapers[0]).toMatchObject({ address: scraper.address, connected: true });
  });

  it("a graceful stop (SIGTERM) closes every WebSocket with 1001, and a fresh gateway rebuilds the same state", async () => {
    const { site, gateway } = suite.stack;
    const truth = truthFor(site, plan);
    const clients = await Promise.all(["/ws/scraping", `/ws/scraping/${jobId}`, "/ws/stats?interval=1"].map(async (path) => suite.track(await RecordingClient.connect(`${gateway.wsUrl}${path}`))));
    await Promise.all(clients.map((client) => client.waitUntil("first frame", () => client.frames.length > 0)));
    const exit = await gateway.stop();
    expect(exit.signal, "exited by itself after SIGTERM, not killed").toBeNull();
    for (const client of clients) expect((await client.waitForClose()).code, client.url).toBe(1001);

    const fresh = await suite.stack.restartGateway();
    const again = suite.track(await connectWithRetry(`${fresh.wsUrl}/ws/scraping`));
    await again.waitForFrame("initial_state", (frame) => frame.type === "initial_state");
    // Catching up on the log may take a moment; wait for the web stats to reach the truth.
    await waitFor("rebuilt platform stats", async () => {
      const status = await getJson<{ platform_stats: Record<string, PlatformStatsView> }>(`${fresh.url}/ws/scraping/status`);
      return status.body.platform_stats.web?.total_items === truth.pagesDone ? status : undefined;
    });
    const status = await getJson<{ platform_stats: Record<string, PlatformStatsView> }>(`${fresh.url}/ws/scraping/status`);
    expect(status.body.platform_stats.web).toMatchObject({ total_items: truth.pagesDone, success_count: truth.successCount, error_count: truth.errorCount });
  });
});
