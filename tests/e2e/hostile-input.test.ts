/**
 * Hostile and malformed input at the WebSocket edge: binary and oversized
 * frames, garbage text, bad intervals, unknown jobs and unknown paths —
 * each answered in the documented way, without disturbing anyone else.
 */
import { describe, expect, it } from "vitest";
import { getJson } from "../support/http.js";
import { expectFinalCounts, expectPreviewsMatchTruth, startScrape, truthFor } from "../support/jobs.js";
import { expectInitialState, expectIso, expectJobStream, expectKeys, expectPong, expectStatsFrame } from "../support/seed000.js";
import { useStack } from "../support/suite.js";
import { RecordingClient } from "../support/ws-client.js";

const MAX_PAYLOAD = 4096;
const suite = useStack({
  // A little latency per page so the crawl is still running while clients misbehave.
  site: { pageLatencyMs: 15 },
  gatewayEnv: { WS_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD) },
});

const INTERVAL_ERROR = { type: "error", message: "interval must be a number from 1 to 60" };

describe("hostile input", () => {
  it("a binary frame closes only that client (1003); an oversized frame closes only that client (1009); garbage text gets pong; everyone else receives everything", async () => {
    const { site, gateway } = suite.stack;
    const plan = { path: "/", depth: 10, platform: "web" as const };
    const truth = truthFor(site, plan);
    const connect = async (path: string) => {
      const client = suite.track(await RecordingClient.connect(`${gateway.wsUrl}${path}`));
      await client.waitUntil(`${path} initial frame`, () => client.frames.length > 0);
      return client;
    };
    const polite = await connect("/ws/scraping");
    const binary = await connect("/ws/scraping");
    const garbage = await connect("/ws/scraping");
    const { job_id: jobId } = await startScrape(gateway, site, plan);
    const oversized = await connect(`/ws/scraping/${jobId}`);
    await polite.waitForFrame("the first item_preview", (frame) => frame.type === "item_preview");

    binary.send(Buffer.from([0x00, 0xff, 0x10, 0x80]), { binary: true });
    oversized.send("x".repeat(MAX_PAYLOAD * 2));
    const garbageTexts = ["{not json", "\u0000\u0001\u0002", "null", '{"type":"subscribe","job_id":"other"}', "[1,2,3]", "🐟".repeat(100)];
    for (const text of garbageTexts) garbage.send(text);

    expect(await binary.waitForClose()).toEqual({ code: 1003, reason: "binary frames are not supported" });
    expect((await oversized.waitForClose()).code).toBe(1009);
    const pongs = await garbage.waitUntil("a pong per garbage frame", () => (garbage.ofType("pong").length >= garbageTexts.length ? garbage.ofType("pong") : undefined));
    pongs.forEach((pong) => expectPong(pong));

    for (const [name, client] of [
      ["polite", polite],
      ["garbage", garbage],
    ] as const) {
      await client.waitForFrame(`${name}: job_complete`, (frame) => frame.type === "job_complete" && (frame.data as { job_id: string }).job_id === jobId, { timeoutMs: 180_000 });
      const frames = expectJobStream(client.forJob(jobId), jobId, "web");
      expect(frames.terminal.data, `${name}: job_complete`).toMatchObject({ total_items: truth.pagesDone, success_count: truth.successCount, error_count: truth.errorCount });
      expect(frames.previews, `${name}: one preview per success`).toHaveLength(truth.successCount);
      expectPreviewsMatchTruth(frames.previews, truth, "web", { complete: true });
      expectFinalCounts(frames, truth);
      expect(client.isOpen, `${name} is still connected`).toBe(true);
    }
    expect(garbage.frames.filter((frame) => !["initial_state", "progress", "item_preview", "job_complete", "pong"].includes(frame.type))).toEqual([]);
  });

  it.each(["0", "61", "-1", "abc", "NaN", "Infinity", "0.5", "60.5", "1e9", "5s"])("/ws/stats?interval=%s sends an error message and closes 1008", async (interval) => {
    const client = suite.track(await RecordingClient.connect(`${suite.stack.gateway.wsUrl}/ws/stats?interval=${encodeURIComponent(interval)}`));
    const close = await client.waitForClose();
    expect(close.code).toBe(1008);
    expect(client.frames).toEqual([INTERVAL_ERROR]);
  });

  it.each([
    ["1", 1],
    ["60", 60],
    ["2.5", 2.5],
    [undefined, 5],
  ])("/ws/stats?interval=%s streams stats with interval_seconds %d", async (interval, seconds) => {
    const query = interval === undefined ? "" : `?interval=${interval}`;
    const client = suite.track(await RecordingClient.connect(`${suite.stack.gateway.wsUrl}/ws/stats${query}`));
    const frame = await client.waitForFrame("stats", (candidate) => candidate.type === "stats");
    expectStatsFrame(frame, seconds);
    expect(client.isOpen).toBe(true);
  });

  it.each(["does-not-exist", "00000000-0000-0000-0000-000000000000", "job_123"])("/ws/scraping/%s (unknown job) sends job_error then closes 1008", async (jobId) => {
    const client = suite.track(await RecordingClient.connect(`${suite.stack.gateway.wsUrl}/ws/scraping/${jobId}`));
    const close = await client.waitForClose();
    expect(close.code).toBe(1008);
    expect(client.frames).toHaveLength(1);
    const [frame] = client.frames;
    expectKeys(frame, ["type", "data", "timestamp"], "job_error");
    expect(frame?.type).toBe("job_error");
    expect(frame?.data).toEqual({ job_id: jobId, error_message: `Unknown job: ${jobId}` });
    expectIso(frame?.timestamp, "job_error.timestamp");
  });

  it.each(["/ws/nope/deeper", "/ws/scan", "/ws/statsx/1", "/socket", "/api/scrape", "/ws/scraping/a/b/c"])("refuses a WebSocket upgrade on %s", async (path) => {
    const refused = await RecordingClient.expectRefused(`${suite.stack.gateway.wsUrl}${path}`);
    expect(refused.opened).toBe(false);
    if (refused.statusCode !== undefined) expect(refused.statusCode).toBe(404);
  });

  it("keeps serving after all of that", async () => {
    const { gateway } = suite.stack;
    const health = await getJson(`${gateway.url}/health`);
    expect(health.status).toBe(200);
    const client = suite.track(await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping`));
    await client.waitForFrame("initial_state", (frame) => frame.type === "initial_state");
    expectInitialState(client.frames[0]);
    client.send("still there?");
    expectPong(await client.waitForFrame("pong", (frame) => frame.type === "pong"));
  });
});
