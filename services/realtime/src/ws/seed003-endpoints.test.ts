/**
 * Seed 003's endpoints against a real gateway and a scripted scraper:
 * `/ws/{job_id}` openings and live messages, and the scan socket's whole
 * conversation — scans, cancels, refusals, bad messages, a scan that
 * finishes before its socket is subscribed, and a socket that leaves.
 */
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { status as grpcStatus } from "@grpc/grpc-js";
import { isTerminal, JobKind, JobStatus, Platform, type StartJobRequest } from "@trawl/proto";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { GatewayConfig } from "../config.js";
import { SEED003_JOB_CHANNEL, SEED003_SCAN_CHANNEL } from "../dialects/seed003.js";
import type { Gateway } from "../gateway.js";
import { startGatewayWithDouble } from "../test-support/gateway-with-double.js";
import type { ScriptedScraper } from "../test-support/scripted-scraper.js";
import { openClient, type Recorded } from "../test-support/ws-clients.js";
import { CloseCode } from "./close-codes.js";
import { ALREADY_RUNNING_MESSAGE, CLIENT_CANCEL_REASON, NOTHING_TO_CANCEL_MESSAGE, SOCKET_CLOSED_REASON } from "./seed003-scan-session.js";

type Json = Record<string, unknown>;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Booted {
  gateway: Gateway;
  double: ScriptedScraper;
  /** StartJob requests the scraper received. */
  starts: StartJobRequest[];
  ws(path: string): Promise<Recorded>;
}

/** A gateway watching a scripted scraper that registers a running scan job (and logs its JobStarted) for every scan request. */
async function boot(overrides: Partial<GatewayConfig> = {}): Promise<Booted> {
  const starts: StartJobRequest[] = [];
  let next = 1;
  const script = (double: ScriptedScraper): void => {
    double.onStartJob = (request) => {
      starts.push(request);
      const id = `scan-${next++}`;
      const now = timestampFromMs(Date.now());
      const job = double.register({ id, kind: JobKind.SCAN, status: JobStatus.RUNNING, scan: request.scan, counters: {}, createdAt: now, startedAt: now });
      double.append(id, { case: "started", value: { job } });
      return { job };
    };
  };
  const { gateway, double, port } = await startGatewayWithDouble(cleanups, { overrides, script });
  return {
    gateway,
    double,
    starts,
    async ws(path) {
      const client = await openClient(`ws://127.0.0.1:${port}${path}`);
      cleanups.push(() => client.ws.terminate());
      return client;
    },
  };
}

const page = (done: number, total: number, ok: number, bad: number) => ({ pagesDone: done, pagesTotal: total, successCount: ok, errorCount: bad, items: ok });
const types = (client: Recorded) => client.messages.map((message) => message.type);
const ofType = (client: Recorded, type: string) => client.messages.filter((message) => message.type === type);

/** Waits for the answer to a ping: every frame sent to `client` before it has arrived. */
async function barrier(client: Recorded): Promise<void> {
  const pongs = ofType(client, "pong").length;
  client.ws.send("ping");
  await vi.waitFor(() => expect(ofType(client, "pong").length).toBe(pongs + 1));
}

/** The scan socket's barrier: a message it refuses, answered after everything sent before. */
const BARRIER_ERROR = { type: "error", message: 'Invalid message: unknown action "barrier" (expected scan or cancel)' };
async function scanBarrier(client: Recorded): Promise<void> {
  expect(await answerTo(client, '{"action":"barrier"}')).toEqual(BARRIER_ERROR);
}
const scanMessages = (client: Recorded) => client.messages.filter((message) => message.message !== BARRIER_ERROR.message);

/** Sends a scan socket message and resolves with the next error it answers (from now on). */
async function answerTo(client: Recorded, text: string): Promise<Json> {
  const before = ofType(client, "error").length;
  client.ws.send(text);
  await vi.waitFor(() => expect(ofType(client, "error").length).toBeGreaterThan(before));
  return ofType(client, "error")[before] as Json;
}

/** The scripted scraper's scan of `jobId` up to its result: two progress reports, ScanCompleted, the final JobProgress, JobCompleted. */
function finishScan(double: ScriptedScraper, jobId: string): void {
  double.append(jobId, { case: "scanProgress", value: { scanned: 1, total: 4, currentPath: "/docs" } });
  double.append(jobId, { case: "progress", value: { counters: page(1, 4, 1, 0) } });
  double.append(jobId, { case: "scanProgress", value: { scanned: 4, total: 4, currentPath: "/docs/b.txt" } });
  double.append(jobId, { case: "progress", value: { counters: page(4, 4, 4, 0) } });
  double.append(jobId, {
    case: "scanCompleted",
    value: {
      files: [
        { path: "/docs/a.pdf", size: 10n, modified: timestampFromMs(Date.parse("2024-01-15T10:00:00Z")), extension: ".pdf" },
        { path: "/docs/b.txt", size: 5n, modified: timestampFromMs(Date.parse("2024-01-16T10:00:00Z")), extension: ".txt" },
      ],
      count: 2,
      totalSize: 15n,
      warnings: ["Permission denied: /docs/private"],
    },
  });
  double.append(jobId, { case: "progress", value: { counters: page(2, 2, 2, 0) } });
  double.append(jobId, { case: "completed", value: { counters: page(2, 2, 2, 0) } });
}

const COMPLETED = {
  type: "completed",
  files: [
    { path: "/docs/a.pdf", size: 10, modified: "2024-01-15T10:00:00.000Z", extension: ".pdf" },
    { path: "/docs/b.txt", size: 5, modified: "2024-01-16T10:00:00.000Z", extension: ".txt" },
  ],
  count: 2,
  total_size: 15,
  warnings: ["Permission denied: /docs/private"],
};

describe("/ws/{job_id}", () => {
  it("closes 1008 for an unknown job after an error naming it", async () => {
    const { ws } = await boot();
    const client = await ws("/ws/nope-404");
    expect(await client.closed).toEqual({ code: CloseCode.POLICY_VIOLATION, reason: "unknown job" });
    expect(client.messages).toEqual([{ type: "error", message: "Unknown job: nope-404" }]);
  });

  it("opens a running crawl with job_started and file_processing, streams it live, and sends nothing after job_completed", async () => {
    const { gateway, double, ws } = await boot();
    const job = double.register({ id: "crawl", platform: Platform.WEB, status: JobStatus.RUNNING, spec: { urls: ["https://example.test/"] } });
    double.append("crawl", { case: "started", value: { job } });
    const home = { id: "page_1", url: "https://example.test/", title: "Home" };
    double.append("crawl", { case: "itemScraped", value: { item: home, url: home.url, counters: page(1, 3, 1, 0) } });
    double.append("crawl", { case: "progress", value: { counters: page(1, 3, 1, 0), currentItem: home } });
    await vi.waitFor(() => expect(gateway.state.jobs.get("crawl")?.counts.pagesDone).toBe(1));

    const client = await ws("/ws/crawl");
    await vi.waitFor(() => expect(client.messages).toHaveLength(2));
    expect(client.messages).toEqual([
      { type: "job_started", total_files: 3 },
      { type: "file_processing", current_file: "https://example.test/", processed_files: 1, total_files: 3, status: "Processing" },
    ]);

    double.append("crawl", { case: "pageFailed", value: { url: "https://example.test/gone", message: "HTTP 404", counters: page(2, 3, 1, 1) } });
    double.append("crawl", { case: "itemScraped", value: { item: { id: "page_3", url: "https://example.test/a" }, counters: page(3, 3, 2, 1) } });
    double.append("crawl", { case: "progress", value: { counters: page(3, 3, 2, 1), currentItem: { id: "page_3", url: "https://example.test/a" } } });
    double.append("crawl", { case: "completed", value: { counters: page(3, 3, 2, 1) } });
    await client.next((message) => message.type === "job_completed");
    double.append("crawl", { case: "progress", value: { counters: page(3, 3, 2, 1) } });
    await barrier(client);
    expect(client.messages.filter((message) => message.type !== "pong")).toEqual([
      { type: "job_started", total_files: 3 },
      { type: "file_processing", current_file: "https://example.test/", processed_files: 1, total_files: 3, status: "Processing" },
      { type: "file_completed", processed_files: 2, total_files: 3 },
      { type: "error", message: "Failed to process https://example.test/gone: HTTP 404" },
      { type: "file_completed", processed_files: 3, total_files: 3 },
      { type: "file_processing", current_file: "https://example.test/a", processed_files: 3, total_files: 3, status: "Processing" },
      { type: "job_completed", message: "Job completed successfully" },
    ]);
  });

  it("gives a client of an ended job job_started, its final counts and the terminal message, and no subscription", async () => {
    const { gateway, double, ws } = await boot();
    const job = double.register({ id: "done", platform: Platform.WEB, status: JobStatus.RUNNING });
    double.append("done", { case: "started", value: { job } });
    double.append("done", { case: "cancelled", value: { reason: "enough", counters: page(5, 8, 5, 0) } });
    await vi.waitFor(() => expect(gateway.state.jobs.get("done")?.status).toBe(JobStatus.CANCELLED));
    const client = await ws("/ws/done");
    await vi.waitFor(() => expect(client.messages).toHaveLength(3));
    expect(client.messages).toEqual([
      { type: "job_started", total_files: 8 },
      { type: "file_completed", processed_files: 5, total_files: 8 },
      { type: "error", message: "Job cancelled: enough" },
    ]);
    expect(gateway.hub.hasSubscribers("done", SEED003_JOB_CHANNEL)).toBe(false);
  });

  it("opens a job the state has not seen stream yet with job_started alone, and its JobStarted adds no second one", async () => {
    const { double, ws } = await boot();
    // The scraper is ahead of the gateway: the job's events, from JobStarted on, are still to come.
    const job = double.register({ id: "quiet", kind: JobKind.SCAN, status: JobStatus.RUNNING, counters: page(3, 9, 3, 0) });
    const client = await ws("/ws/quiet");
    await client.next((message) => message.type === "job_started");
    double.append("quiet", { case: "started", value: { job } });
    double.append("quiet", { case: "scanProgress", value: { scanned: 2, total: 3, currentPath: "/x/y.txt" } });
    double.append("quiet", { case: "progress", value: { counters: page(2, 3, 2, 0) } });
    await client.next((message) => message.type === "file_completed");
    expect(client.messages).toEqual([
      { type: "job_started", total_files: 9 },
      { type: "file_processing", current_file: "/x/y.txt", processed_files: 2, total_files: 3, status: "Processing" },
      { type: "file_completed", processed_files: 2, total_files: 3 },
    ]);
  });
});

describe("a stalled /ws/{job_id} client", () => {
  it("gets the latest counts and the terminal message last, its page errors dropped and counted, while a fast client gets everything", async () => {
    const { gateway, double, ws } = await boot({ wsMaxBufferedBytes: 16 * 1024, wsSlowClientTimeoutMs: 600_000 });
    const job = double.register({ id: "flood", platform: Platform.WEB, status: JobStatus.RUNNING });
    double.append("flood", { case: "started", value: { job } });
    await vi.waitFor(() => expect(gateway.state.jobs.has("flood")).toBe(true));
    const slow = await ws("/ws/flood");
    const fast = await ws("/ws/flood");
    await vi.waitFor(() => expect(slow.messages.length + fast.messages.length).toBe(2));
    const slowConnection = [...gateway.hub.allConnections][0];
    slow.pause();

    const reason = "HTTP 500 ".padEnd(8_000, "x");
    let n = 0;
    const burst = (count: number) => {
      for (let i = 0; i < count; i++) {
        n++;
        double.append("flood", { case: "pageFailed", value: { url: `https://example.test/p${n}`, message: reason, counters: page(n, n + 1, 0, n) } });
        double.append("flood", { case: "progress", value: { counters: page(n, n + 1, 0, n) } });
      }
    };
    while (slowConnection?.counters.droppedPreviews === 0 || slowConnection?.counters.conflated === 0) {
      burst(50);
      await vi.waitFor(() => expect(ofType(fast, "error")).toHaveLength(n), { timeout: 10_000, interval: 5 });
      if (n > 20_000) throw new Error("the stalled client never went over its bound");
    }
    double.append("flood", { case: "failed", value: { errorMessage: "every start URL failed", counters: page(n, n, 0, n) } });
    await fast.next((message) => message.message === "every start URL failed");
    expect(ofType(fast, "file_completed")).toHaveLength(2 * n);

    slow.resume();
    await slow.next((message) => message.message === "every start URL failed");
    await barrier(slow);
    const received = slow.messages.filter((message) => message.type !== "pong");
    expect(received.at(-1), "the terminal message comes last").toEqual({ type: "error", message: "every start URL failed" });
    expect(received.at(-2), "right after the latest counts").toEqual({ type: "file_completed", processed_files: n, total_files: n + 1 });
    const pageErrors = received.filter((message) => String(message.message).startsWith("Failed to process "));
    expect(pageErrors.length + (slowConnection?.counters.droppedPreviews ?? 0), "page errors delivered or counted as dropped").toBe(n);
  }, 60_000);
});

describe("/ws/scan/{scan_id}", () => {
  it("runs a scan: progress, then completed with the files; the scan request carries path and recursive", async () => {
    const { gateway, double, starts, ws } = await boot();
    const client = await ws(`/ws/scan/${crypto.randomUUID()}`);
    client.ws.send(JSON.stringify({ action: "scan", path: "/documents", recursive: false }));
    await vi.waitFor(() => expect(gateway.hub.hasSubscribers("scan-1", SEED003_SCAN_CHANNEL)).toBe(true));
    expect(starts[0]?.scan).toMatchObject({ path: "/documents", recursive: false, maxFiles: 0 });
    finishScan(double, "scan-1");
    await client.next((message) => message.type === "completed");
    expect(client.messages).toEqual([
      { type: "progress", scanned: 1, total: 4, current_path: "/docs" },
      { type: "progress", scanned: 4, total: 4, current_path: "/docs/b.txt" },
      COMPLETED,
    ]);
  });

  it("refuses a second scan while one runs, cancels on request, then runs another scan on the same socket", async () => {
    const { gateway, double, ws } = await boot();
    const client = await ws("/ws/scan/s1");
    expect(await answerTo(client, '{"action":"cancel"}')).toEqual({ type: "error", message: NOTHING_TO_CANCEL_MESSAGE });
    client.ws.send('{"action":"scan","path":"docs"}');
    await vi.waitFor(() => expect(gateway.hub.hasSubscribers("scan-1", SEED003_SCAN_CHANNEL)).toBe(true));
    expect(await answerTo(client, '{"action":"scan","path":"other"}')).toEqual({ type: "error", message: ALREADY_RUNNING_MESSAGE });
    double.append("scan-1", { case: "scanProgress", value: { scanned: 3, total: 9, currentPath: "/docs/c" } });
    await client.next((message) => message.type === "progress");

    expect(await answerTo(client, '{"action":"cancel"}')).toEqual({ type: "error", message: `Scan cancelled: ${CLIENT_CANCEL_REASON}` });
    expect(double.jobs.get("scan-1")?.status).toBe(JobStatus.CANCELLED);
    await vi.waitFor(() => expect(gateway.state.jobs.get("scan-1")?.status).toBe(JobStatus.CANCELLED));

    client.ws.send('{"action":"scan","path":"docs"}');
    await vi.waitFor(() => expect(gateway.hub.hasSubscribers("scan-2", SEED003_SCAN_CHANNEL)).toBe(true));
    expect(gateway.hub.hasSubscribers("scan-1", SEED003_SCAN_CHANNEL), "the ended scan's subscription is gone").toBe(false);
    finishScan(double, "scan-2");
    await client.next((message) => message.type === "completed");
    expect(types(client)).toEqual(["error", "error", "progress", "error", "progress", "progress", "completed"]);
    expect(client.messages.at(-1)).toEqual(COMPLETED);
  });

  it("answers every bad message with an error naming the problem and stays usable", async () => {
    const { double, gateway, ws } = await boot();
    const client = await ws("/ws/scan/bad");
    const cases: Array<[string, string]> = [
      ["{not json", "Invalid message: message is not valid JSON"],
      ["[]", "Invalid message: a message must be a JSON object"],
      ['{"path":"/x"}', "Invalid message: action is required (scan or cancel)"],
      ['{"action":"rescan"}', 'Invalid message: unknown action "rescan" (expected scan or cancel)'],
      ['{"action":"scan"}', "Invalid message: path is required"],
      ['{"action":"scan","path":""}', "Invalid message: path must not be empty"],
    ];
    for (const [text, message] of cases) expect(await answerTo(client, text)).toEqual({ type: "error", message });
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    client.ws.send('{"action":"scan","path":"docs"}');
    await vi.waitFor(() => expect(gateway.hub.hasSubscribers("scan-1", SEED003_SCAN_CHANNEL)).toBe(true));
    finishScan(double, "scan-1");
    expect(await client.next((message) => message.type === "completed")).toEqual(COMPLETED);
  });

  it.each([
    ["outside the roots", grpcStatus.INVALID_ARGUMENT, "scan.path: path is outside the configured scan roots: /etc", "Failed to scan directory: path is outside the configured scan roots: /etc"],
    ["missing", grpcStatus.NOT_FOUND, "scan.path: Directory not found: nope", "Failed to scan directory: Directory not found: nope"],
    ["unreadable", grpcStatus.PERMISSION_DENIED, "scan.path: Permission denied: /private", "Failed to scan directory: Permission denied: /private"],
    ["over the file limit", grpcStatus.INVALID_ARGUMENT, "scan.max_files: must be at most 10", "Failed to scan directory: max_files must be at most 10"],
    ["refused for want of roots", grpcStatus.FAILED_PRECONDITION, "scan.path: no scan roots configured (SCAN_ROOTS)", "Failed to scan directory: no scan roots configured (SCAN_ROOTS)"],
    ["failing inside the scraper", grpcStatus.INTERNAL, "boom", "Failed to scan directory: internal error"],
  ])("answers a scan the scraper refuses as %s with an error, and the socket stays usable", async (_name, code, details, message) => {
    const { double, ws } = await boot();
    const accept = double.onStartJob;
    double.onStartJob = () => ({ error: { code, details } });
    const client = await ws("/ws/scan/refused");
    expect(await answerTo(client, '{"action":"scan","path":"/etc"}')).toEqual({ type: "error", message });
    double.onStartJob = accept;
    client.ws.send('{"action":"scan","path":"docs"}');
    await vi.waitFor(() => expect(double.jobs.has("scan-1")).toBe(true));
    finishScan(double, "scan-1");
    expect(await client.next((m) => m.type === "completed")).toEqual(COMPLETED);
  });

  it("answers a scan when no scraper is reachable with an error saying so", async () => {
    const { double, ws } = await boot();
    const client = await ws("/ws/scan/alone");
    double.stop();
    expect(await answerTo(client, '{"action":"scan","path":"docs"}')).toEqual({ type: "error", message: "Failed to scan directory: no scraper is reachable; try again shortly" });
  });

  it("delivers the result of a scan that finished before its socket was subscribed, once", async () => {
    const { gateway, double, ws } = await boot();
    const start = double.onStartJob;
    double.onStartJob = (request) => {
      const answer = start(request);
      if ("job" in answer) finishScan(double, answer.job.id);
      return answer;
    };
    // Hold StartJob's answer until the gateway has applied the whole scan.
    const startJob = gateway.pool.startJob.bind(gateway.pool);
    gateway.pool.startJob = async (request) => {
      const started = await startJob(request);
      const id = started.response.job?.id ?? "";
      await vi.waitFor(() => expect(isTerminal(gateway.state.jobs.get(id)?.status ?? JobStatus.RUNNING)).toBe(true));
      return started;
    };
    const client = await ws("/ws/scan/quick");
    client.ws.send('{"action":"scan","path":"docs"}');
    await client.next((message) => message.type === "completed");
    await scanBarrier(client);
    expect(scanMessages(client)).toEqual([{ type: "progress", scanned: 4, total: 4, current_path: "/docs/b.txt" }, COMPLETED]);
    // The socket is free for the next scan.
    client.ws.send('{"action":"scan","path":"docs"}');
    await vi.waitFor(() => expect(ofType(client, "completed")).toHaveLength(2));
  });

  it("sends a cancel that arrives while the scan is starting once the scan has its id", async () => {
    const { gateway, double, ws } = await boot();
    const startJob = gateway.pool.startJob.bind(gateway.pool);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    gateway.pool.startJob = async (request) => {
      const started = await startJob(request);
      await held;
      return started;
    };
    const client = await ws("/ws/scan/early");
    client.ws.send('{"action":"scan","path":"docs"}');
    await vi.waitFor(() => expect(double.jobs.has("scan-1")).toBe(true));
    client.ws.send('{"action":"cancel"}');
    await scanBarrier(client);
    release();
    const cancelled = await client.next((message) => String(message.message).startsWith("Scan cancelled"));
    expect(cancelled).toEqual({ type: "error", message: `Scan cancelled: ${CLIENT_CANCEL_REASON}` });
  });

  it("cancels the scan of a socket that closes while it runs", async () => {
    const { gateway, double, ws } = await boot();
    const client = await ws("/ws/scan/leaving");
    client.ws.send('{"action":"scan","path":"docs"}');
    await vi.waitFor(() => expect(gateway.hub.hasSubscribers("scan-1", SEED003_SCAN_CHANNEL)).toBe(true));
    client.ws.close(1000);
    await vi.waitFor(() => expect(double.jobs.get("scan-1")?.status).toBe(JobStatus.CANCELLED));
    expect(double.jobs.get("scan-1")?.error).toBe(SOCKET_CLOSED_REASON);
  });

  it("keeps each socket to its own scan, and a job client of that scan sees it as file processing", async () => {
    const { gateway, double, ws } = await boot();
    const first = await ws("/ws/scan/a");
    const second = await ws("/ws/scan/b");
    first.ws.send('{"action":"scan","path":"a"}');
    await vi.waitFor(() => expect(gateway.hub.hasSubscribers("scan-1", SEED003_SCAN_CHANNEL)).toBe(true));
    second.ws.send('{"action":"scan","path":"b"}');
    await vi.waitFor(() => expect(gateway.hub.hasSubscribers("scan-2", SEED003_SCAN_CHANNEL)).toBe(true));
    const watcher = await ws("/ws/scan-1");
    await watcher.next((message) => message.type === "job_started");
    finishScan(double, "scan-1");
    await first.next((message) => message.type === "completed");
    double.append("scan-2", { case: "failed", value: { errorMessage: "Failed to scan directory: Permission denied: /b", counters: page(0, 0, 0, 0) } });
    expect(await second.next((message) => message.type === "error")).toEqual({ type: "error", message: "Failed to scan directory: Permission denied: /b" });
    await scanBarrier(first);
    expect(scanMessages(first).map((message) => message.type)).toEqual(["progress", "progress", "completed"]);
    expect(types(second)).toEqual(["error"]);
    await watcher.next((message) => message.type === "job_completed");
    expect(watcher.messages).toEqual([
      { type: "job_started", total_files: 0 },
      { type: "file_processing", current_file: "/docs", processed_files: 1, total_files: 4, status: "Processing" },
      { type: "file_completed", processed_files: 1, total_files: 4 },
      { type: "file_processing", current_file: "/docs/b.txt", processed_files: 4, total_files: 4, status: "Processing" },
      { type: "file_completed", processed_files: 4, total_files: 4 },
      { type: "file_completed", processed_files: 2, total_files: 2 },
      { type: "job_completed", message: "Job completed successfully" },
    ]);
  });

  it("closes 1003 on a binary frame", async () => {
    const { ws } = await boot();
    const client = await ws("/ws/scan/bin");
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await client.closed).code).toBe(CloseCode.UNSUPPORTED_DATA);
  });
});
