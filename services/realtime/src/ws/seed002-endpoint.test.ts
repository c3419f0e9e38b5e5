import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { JobStatus, Platform } from "@trawl/proto";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Gateway } from "../gateway.js";
import { startGatewayWithDouble } from "../test-support/gateway-with-double.js";
import type { ScriptedScraper } from "../test-support/scripted-scraper.js";
import { openClient, type Recorded } from "../test-support/ws-clients.js";
import { CloseCode } from "./close-codes.js";

type Json = Record<string, unknown>;

const FLAT_KEYS = ["job_id", "event_type", "status", "progress", "results_count", "message", "metadata", "timestamp"];
const URLS = ["https://example.test/", "https://example.test/missing", "https://example.test/blog/"];
const T0 = Date.parse("2025-11-18T19:30:00Z");

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Booted {
  double: ScriptedScraper;
  gateway: Gateway;
  ws(path: string): Promise<Recorded>;
}

async function boot(): Promise<Booted> {
  const { gateway, double, port } = await startGatewayWithDouble(cleanups);
  return {
    double,
    gateway,
    async ws(path) {
      const client = await openClient(`ws://127.0.0.1:${port}${path}`);
      cleanups.push(() => client.ws.terminate());
      return client;
    },
  };
}

const counters = (done: number, total: number, ok: number, bad: number) => ({ pagesDone: done, pagesTotal: total, successCount: ok, errorCount: bad, items: ok });
const types = (client: Recorded): unknown[] => client.messages.map((message) => message.event_type);
const metadata = (message: Json | undefined): Json => message?.metadata as Json;

/** Registers a batch job on the scripted scraper and logs its start: JobStarted and one TaskStarted per URL. */
function startBatch(double: ScriptedScraper, jobId: string): void {
  const job = double.register({ id: jobId, platform: Platform.WEB, status: JobStatus.RUNNING, spec: { urls: URLS, depth: 1 }, counters: {}, startedAt: timestampFromMs(T0) });
  double.append(jobId, { case: "started", value: { job } }, T0);
  URLS.forEach((url, i) => double.append(jobId, { case: "taskStarted", value: { taskId: `${jobId}-t${i + 1}`, url } }, T0 + 1));
}

async function applied(gateway: Gateway, jobId: string, seq: number): Promise<void> {
  await vi.waitFor(() => expect(gateway.state.jobs.get(jobId)?.lastSeq).toBe(BigInt(seq)), { timeout: 10_000 });
}

describe("/ws/scraping/{job_id}?format=flat", () => {
  it("answers an unknown job with the seed's error event, then closes 1008", async () => {
    const { ws } = await boot();
    const client = await ws("/ws/scraping/no-such-job?format=flat");
    const closed = await client.closed;
    expect(closed.code).toBe(CloseCode.POLICY_VIOLATION);
    expect(client.messages).toHaveLength(1);
    const [error] = client.messages;
    expect(Object.keys(error as Json)).toEqual(FLAT_KEYS);
    expect(error).toMatchObject({ job_id: "no-such-job", event_type: "error", status: "failed", progress: null, results_count: 0, message: "Unknown job: no-such-job", metadata: {} });
  });

  it("gives a client that joins a running job its start as the gateway applied it, the current numbers, then the live events", async () => {
    const { double, gateway, ws } = await boot();
    startBatch(double, "job-1");
    double.append("job-1", { case: "itemScraped", value: { item: { id: "p1", url: URLS[0] }, url: URLS[0], httpStatus: 200, processingMs: 30, counters: counters(1, 5, 1, 0) } }, T0 + 100);
    await applied(gateway, "job-1", 5);

    const flat = await ws("/ws/scraping/job-1?format=flat");
    const seed000 = await ws("/ws/scraping/job-1");
    await flat.next((message) => message.event_type === "job_progress");
    expect(types(flat)).toEqual(["job_started", "scraper_started", "scraper_started", "scraper_started", "job_progress"]);
    expect(flat.messages[0]).toMatchObject({ status: "running", progress: null, results_count: 0, timestamp: new Date(T0).toISOString() });
    expect(flat.messages.slice(1, 4).map((message) => metadata(message))).toEqual(URLS.map((url, i) => ({ task_id: `job-1-t${i + 1}`, url })));
    expect(flat.messages[4]).toMatchObject({ status: "running", progress: 20, results_count: 1, timestamp: new Date(T0 + 100).toISOString() });

    double.append("job-1", { case: "pageFailed", value: { url: URLS[1], errorKind: 1, httpStatus: 404, counters: counters(2, 2, 1, 1) } }, T0 + 200);
    double.append("job-1", { case: "taskFinished", value: { taskId: "job-1-t1", url: URLS[0], pages: 1, items: 1, errors: 0 } }, T0 + 300);
    double.append("job-1", { case: "taskFailed", value: { taskId: "job-1-t2", url: URLS[1], errorMessage: `${URLS[1]}: HTTP 404` } }, T0 + 300);
    double.append("job-1", { case: "taskFinished", value: { taskId: "job-1-t3", url: URLS[2], pages: 0, items: 0, errors: 0 } }, T0 + 300);
    double.append("job-1", { case: "completed", value: { counters: counters(2, 2, 1, 1), elapsedMs: 400 } }, T0 + 400);
    const completed = await flat.next((message) => message.event_type === "job_completed");
    expect(types(flat).slice(5)).toEqual(["job_progress", "scraper_completed", "scraper_failed", "scraper_completed", "job_completed"]);
    expect(completed).toMatchObject({ status: "completed", progress: 100, results_count: 1 });
    expect(metadata(completed)).toEqual({ platform: "web", pages_done: 2, pages_total: 2, success_count: 1, error_count: 1, successful_scrapers: 2, failed_scrapers: 1, elapsed_seconds: 0.4 });
    for (const message of flat.messages) expect(Object.keys(message)).toEqual(FLAT_KEYS);

    // The seed 000 subscriber of the same job still gets seed 000 frames.
    await seed000.next((message) => message.type === "job_complete");
    expect(seed000.messages.map((message) => message.type)).toEqual(["initial_state", "job_complete"]);
  });

  it("sends only the numbers at connect when the gateway never saw the job start", async () => {
    const { double, gateway, ws } = await boot();
    // A job the gateway knows from events after its start: it has no JobStarted to replay.
    double.register({ id: "job-2", platform: Platform.WEB, status: JobStatus.RUNNING, spec: { urls: [URLS[0] as string] }, counters: {} });
    double.append("job-2", { case: "progress", value: { counters: counters(1, 4, 1, 0) } }, T0 + 50);
    await applied(gateway, "job-2", 1);
    const flat = await ws("/ws/scraping/job-2?format=flat");
    const opening = await flat.next(() => true);
    expect(opening).toMatchObject({ event_type: "job_progress", progress: 25, results_count: 1 });
    double.append("job-2", { case: "completed", value: { counters: counters(4, 4, 4, 0) } }, T0 + 60);
    const completed = await flat.next((message) => message.event_type === "job_completed");
    expect(metadata(completed)).not.toHaveProperty("successful_scrapers");
    expect(types(flat)).toEqual(["job_progress", "job_completed"]);
  });

  it("gives a client of an ended job its terminal event only", async () => {
    const { double, gateway, ws } = await boot();
    startBatch(double, "job-3");
    double.append("job-3", { case: "cancelled", value: { reason: "operator stop", counters: counters(0, 3, 0, 0) } }, T0 + 900);
    await applied(gateway, "job-3", 5);
    const flat = await ws("/ws/scraping/job-3?format=flat");
    const terminal = await flat.next(() => true);
    expect(terminal).toMatchObject({ job_id: "job-3", event_type: "job_failed", status: "cancelled", progress: 0, results_count: 0, message: "Job cancelled: operator stop" });
    expect(terminal.timestamp).toBe(new Date(T0 + 900).toISOString());

    // Nothing follows: another job's events reach a seed 000 client, and still only the terminal event here.
    const global = await ws("/ws/scraping");
    startBatch(double, "job-4");
    await global.next((message) => (message.data as Json | undefined)?.job_id === "job-4");
    expect(flat.messages).toHaveLength(1);
    expect(flat.ws.readyState).toBe(flat.ws.OPEN);
  });

  it("answers a client's text with the gateway's pong and keeps streaming; closes 1003 on a binary frame", async () => {
    const { double, gateway, ws } = await boot();
    startBatch(double, "job-6");
    await applied(gateway, "job-6", 4);
    const flat = await ws("/ws/scraping/job-6?format=flat");
    await flat.next((message) => message.event_type === "scraper_started" && metadata(message).task_id === "job-6-t3");
    flat.ws.send("ping");
    expect(await flat.next((message) => message.type === "pong")).toEqual({ type: "pong", message: "Connection alive" });
    double.append("job-6", { case: "progress", value: { counters: counters(1, 3, 1, 0) } }, T0 + 5);
    expect(await flat.next((message) => message.event_type === "job_progress")).toMatchObject({ progress: 33.3, results_count: 1 });
    flat.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await flat.closed).code).toBe(CloseCode.UNSUPPORTED_DATA);
  });

  it("streams a job the gateway has not seen yet from its job_started", async () => {
    const { double, gateway, ws } = await boot();
    // Known to the scraper (GetJob) but not one event logged yet.
    const job = double.register({ id: "job-5", platform: Platform.REDDIT, status: JobStatus.RUNNING, spec: { urls: [URLS[0] as string], depth: 0 }, counters: {}, startedAt: timestampFromMs(T0) });
    const flat = await ws("/ws/scraping/job-5?format=flat");
    await vi.waitFor(() => expect(gateway.hub.jobSubscriptionCount).toBe(1), { timeout: 10_000 });
    expect(flat.messages).toEqual([]);
    double.append("job-5", { case: "started", value: { job } }, T0);
    double.append("job-5", { case: "taskStarted", value: { taskId: "job-5-t1", url: URLS[0] } }, T0);
    double.append("job-5", { case: "completed", value: { counters: counters(1, 1, 1, 0) } }, T0 + 10);
    await flat.next((message) => message.event_type === "job_completed");
    expect(types(flat)).toEqual(["job_started", "scraper_started", "job_completed"]);
    expect(metadata(flat.messages[0])).toEqual({ platform: "reddit", url: URLS[0], depth: 0, total_scrapers: 1 });
  });
});
