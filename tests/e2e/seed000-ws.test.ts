/**
 * The canonical WebSocket API (seed 000) against real crawls of the fixture
 * site: every message type, every key, every number checked against the
 * truth model.
 */
import { type PlatformName, platformName } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import type { CrawlTruth } from "../fixture/truth.js";
import { scraperClient } from "../support/grpc.js";
import { getJson } from "../support/http.js";
import { type CrawlPlan, expectCurrentItemsMatchTruth, expectFinalCounts, expectPreviewsMatchTruth, startScrape, truthFor } from "../support/jobs.js";
import { expectInitialState, expectJobStream, expectPong, expectStatsFrame, type JobView, type PlatformStatsView } from "../support/seed000.js";
import { useStack } from "../support/suite.js";
import { RecordingClient } from "../support/ws-client.js";

const suite = useStack();

/** Terminal counts of every job this file ran, for the platform_stats sums. */
const finished: { jobId: string; platform: PlatformName; success: number; error: number }[] = [];

async function globalClient(): Promise<RecordingClient> {
  const client = suite.track(await RecordingClient.connect(`${suite.stack.gateway.wsUrl}/ws/scraping`));
  await client.waitForFrame("initial_state", (frame) => frame.type === "initial_state");
  return client;
}

async function waitForTerminal(client: RecordingClient, jobId: string, timeoutMs = 120_000) {
  return client.waitForFrame(`terminal frame of ${jobId}`, (frame) => (frame.type === "job_complete" || frame.type === "job_error") && (frame.data as { job_id?: string }).job_id === jobId, { timeoutMs });
}

/** Runs a crawl seen by a global client connected before it started; checks the whole stream. */
async function runAndCheck(plan: CrawlPlan): Promise<{ jobId: string; truth: CrawlTruth; client: RecordingClient }> {
  const { site, gateway } = suite.stack;
  const truth = truthFor(site, plan);
  const client = await globalClient();
  const { job_id: jobId } = await startScrape(gateway, site, plan);
  await waitForTerminal(client, jobId);
  const frames = expectJobStream(client.forJob(jobId), jobId, plan.platform);
  expect(frames.terminal.type).toBe("job_complete");
  expect(frames.terminal.data).toMatchObject({ total_items: truth.pagesDone, success_count: truth.successCount, error_count: truth.errorCount });
  expectFinalCounts(frames, truth);
  expectPreviewsMatchTruth(frames.previews, truth, plan.platform, { complete: true });
  expectCurrentItemsMatchTruth(frames, truth, plan.platform);
  finished.push({ jobId, platform: plan.platform, success: truth.successCount, error: truth.errorCount });
  return { jobId, truth, client };
}

describe("seed 000: /ws/scraping", () => {
  it("sends initial_state on connect: no jobs and no platform activity yet", async () => {
    const client = await globalClient();
    const state = expectInitialState(client.frames[0]);
    expect(state.active_jobs).toEqual({});
    for (const stats of Object.values(state.platform_stats)) expect(stats.total_items).toBe(0);
  });

  it("streams a whole-site web crawl with every number true: progress, item_preview per success, job_complete, stats", async () => {
    const { site, gateway } = suite.stack;
    const plan: CrawlPlan = { path: "/", depth: 10, platform: "web" };
    const truth = truthFor(site, plan);
    expect(truth.pagesDone).toBeGreaterThan(300);

    const global = await globalClient();
    const stats = suite.track(await RecordingClient.connect(`${gateway.wsUrl}/ws/stats?interval=1`));
    await stats.waitForFrame("first stats frame", (frame) => frame.type === "stats");
    const mark = site.mark();

    const { job_id: jobId } = await startScrape(gateway, site, plan);
    const jobClient = suite.track(await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping/${jobId}`));
    await waitForTerminal(global, jobId);
    await waitForTerminal(jobClient, jobId);

    // The global client saw the job from its very first event.
    const frames = expectJobStream(global.forJob(jobId), jobId, "web");
    const first = frames.all[0];
    expect(first?.type, "first frame of a job is its JobStarted progress").toBe("progress");
    expect(first?.data).toMatchObject({ status: "processing", items_scraped: 0, items_total: 0, success_count: 0, error_count: 0 });
    expect(frames.progress.slice(0, -1).every((view) => view.status === "processing")).toBe(true);
    expect(frames.terminal.type).toBe("job_complete");
    expect(frames.terminal.data).toMatchObject({ job_id: jobId, platform: "web", total_items: truth.pagesDone, success_count: truth.successCount, error_count: truth.errorCount });
    expectFinalCounts(frames, truth);
    expect(frames.previews, "one item_preview per successful page").toHaveLength(truth.successCount);
    expectPreviewsMatchTruth(frames.previews, truth, "web", { complete: true });
    expectCurrentItemsMatchTruth(frames, truth, "web");
    expect(frames.progress.some((view) => view.current_item !== undefined), "progress frames carry current_item").toBe(true);
    finished.push({ jobId, platform: "web", success: truth.successCount, error: truth.errorCount });

    // The job client: initial_state with just this job, then exactly the job's later frames.
    const initial = expectInitialState(jobClient.frames[0]);
    expect(Object.keys(initial.active_jobs)).toEqual([jobId]);
    const atConnect = initial.active_jobs[jobId] as JobView;
    expect(atConnect.items_scraped).toBeLessThanOrEqual(truth.pagesDone);
    const jobFrames = expectJobStream(jobClient.frames.slice(1), jobId, "web");
    expect(jobFrames.previews.length, "previews after initial_state = successes after initial_state").toBe(truth.successCount - atConnect.success_count);
    expectPreviewsMatchTruth(jobFrames.previews, truth, "web", { complete: false });
    expect(jobFrames.terminal, "both clients got the same job_complete").toEqual(frames.terminal);

    // The crawler fetched every accepted URL exactly once (plus the redirect hop), and nothing else.
    // The self-redirect loop is requested once per hop; how many hops "limit 5" makes is not counted here.
    const loop = site.graph.paths.redirectLoop;
    const requested = site
      .requestsSince(mark)
      .filter((request) => request.method === "GET" && request.path !== "/robots.txt")
      .map((request) => request.path);
    expect(requested, "the redirect loop was requested").toContain(loop);
    const fetched = requested.filter((path) => path !== loop);
    const expected = [...truth.pages.map((page) => page.url), ...truth.redirectTargets].map((url) => url.slice(site.origin.length)).filter((path) => path !== loop);
    expect([...fetched].sort(), "requests the fixture received").toEqual([...expected].sort());

    // /ws/stats: the job was active while it ran; afterwards the web stats hold its pages.
    const statsFrames = stats.ofType("stats").map((frame) => expectStatsFrame(frame, 1));
    expect(statsFrames.some((frame) => frame.active_jobs[jobId]?.status === "processing"), "a stats frame listed the running job").toBe(true);
    const settled = await stats.waitUntil("a stats frame after the job finished", () =>
      stats
        .ofType("stats")
        .map((frame) => expectStatsFrame(frame, 1))
        .find((frame) => frame.active_jobs_count === 0 && frame.platform_stats.web?.total_items === truth.pagesDone),
    );
    expect(settled.platform_stats.web).toMatchObject({ platform: "web", total_items: truth.pagesDone, success_count: truth.successCount, error_count: truth.errorCount });
    expect(stats.frames.every((frame) => frame.type === "stats")).toBe(true);
    expect(global.forJob(jobId), "nothing arrived for the job after its terminal frame").toHaveLength(frames.all.length);
    expect(jobClient.forJob(jobId), "nothing arrived on the job client after its terminal frame").toHaveLength(jobFrames.all.length);
  });

  it.each([
    [0, [1]],
    [1, [1, 11]],
    [2, [1, 11, 46]],
  ])("a depth-%i crawl fetches exactly the pages up to that depth", async (depth, depthCounts) => {
    const { truth } = await runAndCheck({ path: "/", depth, platform: "web" });
    expect(truth.depthCounts).toEqual(depthCounts);
  });

  it("stops at max_pages (set on a depth boundary, so the page set is exact)", async () => {
    const { truth } = await runAndCheck({ path: "/", depth: 3, platform: "web", maxPages: 12 });
    expect(truth.pagesDone).toBe(12);
  });

  it("twitter crawl of the twitter subtree: previews with id/author/text/likes/retweets/timestamp/url", async () => {
    const { jobId, client, truth } = await runAndCheck({ path: "/twitter/", depth: 2, platform: "twitter" });
    const previews = client
      .forJob(jobId)
      .filter((frame) => frame.type === "item_preview")
      .map((frame) => (frame.data as { item: Record<string, unknown> }).item);
    const statuses = previews.filter((item) => /\/status\/\d+$/.test(String(item.url)));
    expect(statuses).toHaveLength(30);
    for (const item of statuses) expect(Object.keys(item).sort()).toEqual(["author", "id", "likes", "retweets", "text", "timestamp", "url"]);
    expect(truth.errorCount).toBe(6);
  });

  it("youtube crawl: previews with id/title/channel/views/duration", async () => {
    const { jobId, client } = await runAndCheck({ path: "/youtube/", depth: 2, platform: "youtube" });
    const videos = client
      .forJob(jobId)
      .filter((frame) => frame.type === "item_preview")
      .map((frame) => (frame.data as { item: Record<string, unknown> }).item)
      .filter((item) => String(item.id).length === 11);
    expect(videos).toHaveLength(20);
    for (const item of videos) expect(Object.keys(item).sort()).toEqual(["channel", "duration", "id", "title", "views"]);
  });

  it("reddit crawl: previews with id/title/subreddit/comments", async () => {
    const { jobId, client } = await runAndCheck({ path: "/r/", depth: 2, platform: "reddit" });
    const threads = client
      .forJob(jobId)
      .filter((frame) => frame.type === "item_preview")
      .map((frame) => (frame.data as { item: Record<string, unknown> }).item)
      .filter((item) => /^1g[a-z0-9]{5}$/.test(String(item.id)));
    expect(threads).toHaveLength(24);
    for (const item of threads) expect(Object.keys(item).filter((key) => key !== "score").sort()).toEqual(["comments", "id", "subreddit", "title"]);
  });

  it("a job whose only start URL fails ends with progress(status failed) then job_error naming the URL", async () => {
    const { site, gateway } = suite.stack;
    const client = await globalClient();
    const url = site.url(site.graph.paths.missing);
    const { job_id: jobId } = await startScrape(gateway, site, { path: site.graph.paths.missing, depth: 1, platform: "web" });
    await waitForTerminal(client, jobId);
    const frames = expectJobStream(client.forJob(jobId), jobId, "web");
    expect(frames.terminal.type).toBe("job_error");
    expect(frames.previews).toEqual([]);
    const beforeTerminal = frames.all.at(-2);
    expect(beforeTerminal?.type).toBe("progress");
    expect(beforeTerminal?.data).toMatchObject({ status: "failed", items_scraped: 1, items_total: 1, success_count: 0, error_count: 1 });
    const message = String((frames.terminal.data as { error_message: string }).error_message);
    expect(message, "error_message names the URL").toContain(url);
    expect(message, "error_message names the reason").toMatch(/404|not found/i);
    finished.push({ jobId, platform: "web", success: 0, error: 1 });
  });

  it("a job client of a finished job gets initial_state with that job, then its terminal frame", async () => {
    const { gateway } = suite.stack;
    const plan: CrawlPlan = { path: "/team/", depth: 1, platform: "web" };
    const { jobId, truth, client: global } = await runAndCheck(plan);
    const late = suite.track(await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping/${jobId}`));
    await waitForTerminal(late, jobId);
    const initial = expectInitialState(late.frames[0]);
    expect(Object.keys(initial.active_jobs)).toEqual([jobId]);
    expect(initial.active_jobs[jobId]).toMatchObject({ status: "completed", items_scraped: truth.pagesDone, items_total: truth.pagesTotal, success_count: truth.successCount, error_count: truth.errorCount });
    const after = late.frames.slice(1);
    expect(after.map((frame) => frame.type)).toEqual(["job_complete"]);
    expect(after[0]).toEqual(global.forJob(jobId).at(-1));
  });

  it("answers any text frame with pong on every endpoint", async () => {
    const { gateway } = suite.stack;
    const jobId = finished.at(-1)?.jobId;
    expect(jobId, "an earlier test ran a job").toBeDefined();
    const endpoints = ["/ws/scraping", `/ws/scraping/${jobId}`, "/ws/stats?interval=60"];
    for (const endpoint of endpoints) {
      const client = suite.track(await RecordingClient.connect(`${gateway.wsUrl}${endpoint}`));
      await client.waitUntil(`${endpoint} first frame`, () => client.frames.length > 0);
      const texts = ["ping", '{"type":"ping"}', "", "{not json", "x".repeat(1000)];
      for (const text of texts) client.send(text);
      const pongs = await client.waitUntil(`${texts.length} pongs on ${endpoint}`, () => {
        const found = client.ofType("pong");
        return found.length >= texts.length ? found : undefined;
      });
      pongs.forEach((pong) => expectPong(pong));
      expect(client.isOpen, `${endpoint} stays open`).toBe(true);
    }
  });

  it("platform_stats add up over every job this stack ran (initial_state, /ws/stats, REST, gRPC GetStats)", async () => {
    const { gateway, scraper } = suite.stack;
    const expected = new Map<PlatformName, { total_items: number; success_count: number; error_count: number }>();
    for (const job of finished) {
      const entry = expected.get(job.platform) ?? { total_items: 0, success_count: 0, error_count: 0 };
      entry.total_items += job.success + job.error;
      entry.success_count += job.success;
      entry.error_count += job.error;
      expected.set(job.platform, entry);
    }
    expect(finished.length).toBeGreaterThanOrEqual(9);
    const client = scraperClient(scraper.address);
    try {
      const grpcStats = await client.getStats({});
      const check = (stats: Record<string, PlatformStatsView>, label: string): void => {
        for (const [platform, sums] of expected) {
          expect(stats[platform], `${label}.${platform}`).toMatchObject({ platform, ...sums });
          const fromGrpc = grpcStats.platforms.find((entry) => platformName(entry.platform) === platform);
          expect(fromGrpc, `GetStats has ${platform}`).toBeDefined();
          if (!fromGrpc) continue;
          expect([Number(fromGrpc.pages), Number(fromGrpc.successCount), Number(fromGrpc.errorCount)], `GetStats ${platform}`).toEqual([sums.total_items, sums.success_count, sums.error_count]);
          const average = Number(fromGrpc.pages) === 0 ? 0 : Math.round(Number(fromGrpc.processingMsTotal) / Number(fromGrpc.pages)) / 1000;
          expect(stats[platform]?.avg_processing_time, `${label}.${platform}.avg_processing_time = processing_ms_total / pages, in s`).toBeCloseTo(average, 3);
        }
        for (const [platform, entry] of Object.entries(stats)) if (!expected.has(platform as PlatformName)) expect(entry.total_items, `${label}.${platform}`).toBe(0);
      };
      const fresh = await globalClient();
      check(expectInitialState(fresh.frames[0]).platform_stats, "initial_state.platform_stats");
      const stats = suite.track(await RecordingClient.connect(`${gateway.wsUrl}/ws/stats`));
      const frame = await stats.waitForFrame("stats", (candidate) => candidate.type === "stats");
      check(expectStatsFrame(frame, 5).platform_stats, "stats.platform_stats");
      const status = await getJson<{ platform_stats: Record<string, PlatformStatsView> }>(`${gateway.url}/ws/scraping/status`);
      check(status.body.platform_stats, "GET /ws/scraping/status platform_stats");
    } finally {
      client.close();
    }
  });
});
