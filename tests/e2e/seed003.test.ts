/**
 * Seed 003 (Semantik's job-progress and directory-scan sockets) against the
 * real stack: crawls of the fixture site and scans of a real directory tree
 * seen through `/ws/{job_id}` and `/ws/scan/{scan_id}` with `ws` clients —
 * every message type and key, their order, numbers checked against the
 * crawl truth and the file system — and the seed's own example clients
 * (TypeScript class, React hook, connection snippets, Python test) run as
 * child processes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CrawlTruth } from "../fixture/truth.js";
import { postJson } from "../support/http.js";
import { type CrawlPlan, startScrape, truthFor } from "../support/jobs.js";
import {
  createScanTree,
  describeRun,
  expectedScanFiles,
  expectFileJobStream,
  expectScanMessage,
  type FileJobStream,
  PAGE_ERROR_PREFIX,
  pongBarrier,
  runSeed003Client,
  type ScannedFile,
  startSeed003Client,
  waitForFileJobEnd,
} from "../support/seed003.js";
import { useStack } from "../support/suite.js";
import { type Frame, RecordingClient } from "../support/ws-client.js";

const scanRoot = mkdtempSync(join(tmpdir(), "trawl-seed003-"));
const tree = createScanTree(scanRoot);
const suite = useStack({ scraperEnv: { SCAN_ROOTS: scanRoot } });
afterAll(() => rmSync(scanRoot, { recursive: true, force: true }));

const CANCELLED_BY_CLIENT = "Scan cancelled: requested by the client";

async function fileJobClient(jobId: string): Promise<RecordingClient> {
  return suite.track(await RecordingClient.connect(`${suite.stack.gateway.wsUrl}/ws/${jobId}`));
}

async function scanSocket(): Promise<RecordingClient> {
  return suite.track(await RecordingClient.connect(`${suite.stack.gateway.wsUrl}/ws/scan/${crypto.randomUUID()}`));
}

/** Starts a crawl and subscribes a `/ws/{job_id}` client at once; resolves when its terminal message has arrived (and nothing is in flight). */
async function watchCrawl(plan: CrawlPlan): Promise<{ jobId: string; truth: CrawlTruth; client: RecordingClient; stream: FileJobStream }> {
  const { site, gateway } = suite.stack;
  const truth = truthFor(site, plan);
  const { job_id: jobId } = await startScrape(gateway, site, plan);
  const client = await fileJobClient(jobId);
  await waitForFileJobEnd(client);
  await pongBarrier(client);
  return { jobId, truth, client, stream: expectFileJobStream(client.frames) };
}

/** The URL a page-failure error names. */
function failedUrl(frame: Frame): string {
  const match = /^Failed to process (\S+): (.+)$/.exec(String(frame.message));
  expect(match, `"${String(frame.message)}" names a URL and a reason`).not.toBeNull();
  return match?.[1] ?? "";
}

/** Sends `message` on a scan socket and resolves with the scan messages it got up to and including the scan's result. */
async function scanResult(client: RecordingClient, message: object): Promise<Frame[]> {
  const from = client.frames.length;
  client.send(JSON.stringify(message));
  await client.waitUntil("the scan's completed or error", () => client.frames.slice(from).some((frame) => frame.type === "completed" || frame.type === "error"), { timeoutMs: 60_000 });
  return client.frames.slice(from);
}

/** Sends `text` on a scan socket and resolves with the error that answers it. */
async function errorFor(client: RecordingClient, text: string): Promise<Frame> {
  const before = client.ofType("error").length;
  client.send(text);
  await client.waitUntil(`an error answering ${text.slice(0, 80)}`, () => client.ofType("error").length > before);
  return client.ofType("error")[before] as Frame;
}

function expectScanRun(frames: readonly Frame[], files: readonly ScannedFile[], warnings: readonly string[]): void {
  frames.forEach((frame, index) => expectScanMessage(frame, `${frame.type}#${index}`));
  expect(frames.map((frame) => frame.type).slice(0, -1).every((type) => type === "progress"), "progress, then the result").toBe(true);
  expect(frames.filter((frame) => frame.type === "progress").length, "at least one progress").toBeGreaterThan(0);
  const completed = frames.at(-1) as Frame;
  expect(completed.type).toBe("completed");
  expect(completed.files).toEqual(files);
  expect(completed.count).toBe(files.length);
  expect(completed.total_size).toBe(files.reduce((sum, file) => sum + file.size, 0));
  expect([...(completed.warnings as string[])].sort()).toEqual([...warnings].sort());
}

describe("seed 003: /ws/{job_id}", () => {
  it("streams a whole-site crawl as file processing: every message type, the seed's keys, true numbers, nothing after job_completed", async () => {
    const { gateway } = suite.stack;
    const seed000 = suite.track(await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping`));
    const { jobId, truth, stream } = await watchCrawl({ path: "/", depth: 10, platform: "web" });
    expect(truth.errorCount, "the fixture has failing pages").toBeGreaterThan(0);

    expect(new Set(stream.all.map((frame) => frame.type)), "every message type appears").toEqual(new Set(["job_started", "file_processing", "file_completed", "error", "job_completed"]));
    expect(stream.terminal).toEqual({ type: "job_completed", message: "Job completed successfully" });
    expect(stream.started.total_files as number, "job_started's total is a real count").toBeLessThanOrEqual(truth.pagesTotal);
    const last = stream.progress.at(-1);
    expect([last?.processed_files, last?.total_files], "the last progress carries the job's true counts").toEqual([truth.pagesDone, truth.pagesTotal]);

    const itemUrls = new Set(truth.items.flatMap((item) => item.urls));
    const processing = stream.progress.filter((frame) => frame.type === "file_processing");
    for (const frame of processing) expect(itemUrls, "file_processing.current_file is a page the crawl scraped").toContain(frame.current_file);
    const failed = stream.pageErrors.map(failedUrl);
    expect(failed.length, "page failures reported").toBeGreaterThan(0);
    expect(failed.length).toBeLessThanOrEqual(truth.errorCount);
    expect(new Set(failed).size, "each failed page once").toBe(failed.length);
    for (const url of failed) expect(truth.byUrl.get(url)?.outcome.ok, `${url} is a page the crawl failed`).toBe(false);

    // A seed 000 client on the same gateway saw the same job its own way.
    const complete = await seed000.waitForFrame("seed 000 job_complete", (frame) => frame.type === "job_complete" && (frame.data as { job_id?: string }).job_id === jobId);
    expect(complete.data).toMatchObject({ total_items: truth.pagesDone, success_count: truth.successCount, error_count: truth.errorCount });

    // A client of the finished job: job_started with the final total, the final counts, job_completed — and no more.
    const late = await fileJobClient(jobId);
    await late.waitForFrame("job_completed", (frame) => frame.type === "job_completed");
    await pongBarrier(late);
    expect(late.frames.filter((frame) => frame.type !== "pong")).toEqual([
      { type: "job_started", total_files: truth.pagesTotal },
      { type: "file_completed", processed_files: truth.pagesDone, total_files: truth.pagesTotal },
      { type: "job_completed", message: "Job completed successfully" },
    ]);
  });

  it("ends a failed crawl with an error naming its start URL, and nothing after it", async () => {
    const { site } = suite.stack;
    const { stream } = await watchCrawl({ path: site.graph.paths.missing, depth: 1, platform: "web" });
    expect(stream.terminal.type).toBe("error");
    const message = String(stream.terminal.message);
    expect(message.startsWith(PAGE_ERROR_PREFIX), "the job's own failure, not a page's").toBe(false);
    expect(message).toContain(site.url(site.graph.paths.missing));
    expect(message).toMatch(/404|not found/i);
    expect(stream.progress.at(-1)).toMatchObject({ processed_files: 1, total_files: 1 });
  });

  it("closes 1008 for an unknown job after an error naming it", async () => {
    const client = await fileJobClient("no-such-job");
    const closed = await client.waitForClose();
    expect(closed.code).toBe(1008);
    expect(client.frames).toEqual([{ type: "error", message: "Unknown job: no-such-job" }]);
  });

  it("streams a scan started over REST as file processing: entries while it runs, its files at the end", async () => {
    const { gateway } = suite.stack;
    const started = await postJson<{ job_id: string }>(`${gateway.url}/api/scan`, { path: "big", recursive: true });
    expect(started.status, started.text).toBe(200);
    const client = await fileJobClient(started.body.job_id);
    await waitForFileJobEnd(client, 60_000);
    await pongBarrier(client);
    const stream = expectFileJobStream(client.frames, "scan");
    expect(stream.terminal).toEqual({ type: "job_completed", message: "Job completed successfully" });
    // While it runs a scan counts the entries it examines (30 000 directories here); its final counts are its files.
    expect(stream.progress.at(-1)).toEqual({ type: "file_completed", processed_files: tree.bigFiles, total_files: tree.bigFiles });
    expect(Math.max(...stream.progress.map((frame) => frame.total_files as number)), "entries examined").toBeGreaterThan(tree.bigFiles);
    const processing = stream.progress.filter((frame) => frame.type === "file_processing");
    expect(processing.length, "file_processing while the scan ran").toBeGreaterThan(0);
    for (const frame of processing) expect(String(frame.current_file)).toMatch(/^\/big(\/|$)/);
    expect(stream.pageErrors).toEqual([]);
  });
});

describe("seed 003: /ws/scan/{scan_id}", () => {
  it("scans a directory: progress, then completed with exactly its files, count, total_size and warnings", async () => {
    const client = await scanSocket();
    expectScanRun(await scanResult(client, { action: "scan", path: "docs", recursive: true }), expectedScanFiles(scanRoot, "docs", true), tree.docsWarnings);
    // The same socket, again: without recursion, and by an absolute path inside the root.
    expectScanRun(await scanResult(client, { action: "scan", path: "docs", recursive: false }), expectedScanFiles(scanRoot, "docs", false), tree.docsWarnings);
    expectScanRun(await scanResult(client, { action: "scan", path: join(scanRoot, "docs", "nested") }), expectedScanFiles(scanRoot, "docs/nested", true), []);
    expect(expectedScanFiles(scanRoot, "docs", true).map((file) => file.path)).toEqual([
      "/docs/.hidden",
      "/docs/README",
      "/docs/nested/data.csv",
      "/docs/nested/deeper/image.JPEG",
      "/docs/notes.TXT",
      "/docs/report.pdf",
      "/docs/shortcut.txt",
    ]);
    expect(client.isOpen).toBe(true);
  });

  it("cancels a running scan on request, and the socket then runs another", async () => {
    const client = await scanSocket();
    client.send(JSON.stringify({ action: "scan", path: "big" }));
    await client.waitForFrame("the big scan's first progress", (frame) => frame.type === "progress");
    client.send(JSON.stringify({ action: "cancel" }));
    const answer = await client.waitForFrame("the cancelled scan's error", (frame) => frame.type === "error");
    expect(answer).toEqual({ type: "error", message: CANCELLED_BY_CLIENT });
    const frames = client.frames.slice(0, client.frames.indexOf(answer) + 1);
    frames.forEach((frame, index) => expectScanMessage(frame, `${frame.type}#${index}`));
    expect(frames.map((frame) => frame.type).slice(0, -1).every((type) => type === "progress")).toBe(true);
    expect(client.ofType("completed"), "a cancelled scan has no result").toEqual([]);
    expect(await errorFor(client, JSON.stringify({ action: "cancel" }))).toEqual({ type: "error", message: "No scan is running on this connection" });
    expectScanRun(await scanResult(client, { action: "scan", path: "docs" }), expectedScanFiles(scanRoot, "docs", true), tree.docsWarnings);
  });

  it("answers every invalid message with an error naming the problem, stays usable, and disturbs no other client", async () => {
    const { gateway } = suite.stack;
    const seed000 = suite.track(await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping`));
    const neighbour = await scanSocket();
    neighbour.send(JSON.stringify({ action: "scan", path: "big" }));
    const client = await scanSocket();

    const cases: Array<[string, string]> = [
      ["{not json", "Invalid message: message is not valid JSON"],
      ['"scan"', "Invalid message: a message must be a JSON object"],
      ["[1,2]", "Invalid message: a message must be a JSON object"],
      ["{}", "Invalid message: action is required (scan or cancel)"],
      ['{"action":"delete","path":"docs"}', 'Invalid message: unknown action "delete" (expected scan or cancel)'],
      ['{"action":"scan"}', "Invalid message: path is required"],
      ['{"action":"scan","path":""}', "Invalid message: path must not be empty"],
      ['{"action":"scan","path":7}', "Invalid message: path must be a string"],
      ['{"action":"scan","path":"docs","recursive":"yes"}', "Invalid message: recursive must be a boolean"],
      ['{"action":"scan","path":"/etc"}', "Failed to scan directory: path is outside the configured scan roots: /etc"],
      ['{"action":"scan","path":"docs/../../etc"}', "Failed to scan directory: path escapes the scan root: docs/../../etc"],
      ['{"action":"scan","path":"docs/escape"}', "Failed to scan directory: path leads outside the configured scan roots through a symbolic link: docs/escape"],
      ['{"action":"scan","path":"missing"}', "Failed to scan directory: Directory not found: missing"],
      ['{"action":"scan","path":"docs/report.pdf"}', "Failed to scan directory: Not a directory: docs/report.pdf"],
      ['{"action":"cancel"}', "No scan is running on this connection"],
    ];
    for (const [text, message] of cases) expect(await errorFor(client, text), text).toEqual({ type: "error", message });
    expect(client.frames.map((frame) => frame.type), "nothing but the answers").toEqual(cases.map(() => "error"));

    // One scan at a time: a second scan while the first runs is refused, and the first goes on.
    client.send(JSON.stringify({ action: "scan", path: "big" }));
    await client.waitForFrame("the big scan's progress", (frame) => frame.type === "progress");
    expect(await errorFor(client, JSON.stringify({ action: "scan", path: "docs" }))).toEqual({
      type: "error",
      message: 'A scan is already running on this connection; send {"action":"cancel"} or wait for its result',
    });
    client.send(JSON.stringify({ action: "cancel" }));
    await client.waitForFrame("the cancel", (frame) => frame.message === CANCELLED_BY_CLIENT);
    expectScanRun(await scanResult(client, { action: "scan", path: "docs", recursive: true }), expectedScanFiles(scanRoot, "docs", true), tree.docsWarnings);

    // The neighbour's scan ran through all of it, and got only its own messages.
    const result = await neighbour.waitForFrame("the neighbour's result", (frame) => frame.type === "completed", { timeoutMs: 60_000 });
    expect(neighbour.frames.map((frame) => frame.type).slice(0, -1).every((type) => type === "progress")).toBe(true);
    expect(result.count).toBe(tree.bigFiles);
    expect((result.files as ScannedFile[]).every((file) => file.path.startsWith("/big/"))).toBe(true);
    // A seed 000 client is still answered, and saw no seed 003 message.
    seed000.send("ping");
    await seed000.waitForFrame("pong", (frame) => frame.type === "pong");
    expect(seed000.frames.every((frame) => ["initial_state", "progress", "job_complete", "job_error", "pong"].includes(frame.type))).toBe(true);
  });
});

/**
 * Starts a whole-site crawl and pauses it at once, so a client example —
 * which takes a moment to start — connects while the job runs; the caller
 * resumes it once the client is in.
 */
async function startPausedCrawl(plan: CrawlPlan): Promise<{ jobId: string; truth: CrawlTruth }> {
  const { site, gateway } = suite.stack;
  const truth = truthFor(site, plan);
  const { job_id: jobId } = await startScrape(gateway, site, plan);
  const paused = await postJson(`${gateway.url}/api/jobs/${jobId}/pause`, {});
  expect(paused.status, `pausing ${jobId}: ${paused.text}`).toBe(200);
  return { jobId, truth };
}

async function resume(jobId: string): Promise<void> {
  const resumed = await postJson(`${suite.stack.gateway.url}/api/jobs/${jobId}/resume`, {});
  expect(resumed.status, `resuming ${jobId}: ${resumed.text}`).toBe(200);
}

describe("seed 003's example clients, run as written", () => {
  it("JobProgressClient (TypeScript) follows a crawl to 'Job completed!' and disconnects with 1000", async () => {
    const { gateway } = suite.stack;
    const { jobId, truth } = await startPausedCrawl({ path: "/", depth: 10, platform: "web" });
    const client = startSeed003Client("job-progress-client.mts", [gateway.wsUrl, jobId]);
    await client.waitForLine("job_started", (line) => line.startsWith("Job started: "));
    await resume(jobId);
    const run = await client.exited;
    expect(run.code, describeRun(run)).toBe(0);
    const { lines } = run;
    expect(lines[0], describeRun(run)).toBe("WebSocket connected");
    expect(lines[1]).toMatch(/^Job started: \d+ files to process$/);
    expect(lines.at(-2)).toBe("Job completed!");
    expect(lines.at(-1)).toBe("WebSocket closed: 1000 Client disconnect");
    const counts = lines.flatMap((line) => {
      const match = /^(?:Processing: \S+ \((\d+)\/(\d+)\)|Progress: (\d+)\/(\d+))$/.exec(line);
      return match === null ? [] : [[Number(match[1] ?? match[3]), Number(match[2] ?? match[4])]];
    });
    expect(counts.length + 4, "every other line is a progress line").toBe(lines.length);
    expect(lines.some((line) => line.startsWith("Processing: ")) && lines.some((line) => line.startsWith("Progress: "))).toBe(true);
    expect(counts.at(-1), "the last progress line has the job's true counts").toEqual([truth.pagesDone, truth.pagesTotal]);
    const errors = run.stderr.split("\n").filter((line) => line.startsWith("Job error: "));
    expect(errors.length).toBeGreaterThan(0);
    for (const line of errors) expect(line).toMatch(/^Job error: Failed to process \S+: .+$/);

    // The same client on the finished job: its whole story in four lines.
    const late = await runSeed003Client("job-progress-client.mts", [gateway.wsUrl, jobId]);
    expect(late.lines, describeRun(late)).toEqual([
      "WebSocket connected",
      `Job started: ${truth.pagesTotal} files to process`,
      `Progress: ${truth.pagesDone}/${truth.pagesTotal}`,
      "Job completed!",
      "WebSocket closed: 1000 Client disconnect",
    ]);
  });

  it("useJobProgress (React hook) goes connecting → processing → completed with the job's counts", async () => {
    const { gateway } = suite.stack;
    const { jobId, truth } = await startPausedCrawl({ path: "/", depth: 10, platform: "web" });
    const hook = startSeed003Client("use-job-progress.mts", [gateway.wsUrl, jobId]);
    await hook.waitForLine("the processing state", (line) => line.includes('"status":"processing"'));
    await resume(jobId);
    const run = await hook.exited;
    expect(run.code, describeRun(run)).toBe(0);
    const states = run.lines.map((line) => JSON.parse(line) as { status: string; processedFiles: number; totalFiles: number; currentFile?: string });
    expect(states[0]).toEqual({ processedFiles: 0, totalFiles: 0, status: "connecting" });
    expect(states[1]?.status).toBe("processing");
    const final = states.at(-1);
    expect(final?.status).toBe("completed");
    // The hook takes its counts from file_processing; a crawl's last one carries its final counts.
    expect([final?.processedFiles, final?.totalFiles]).toEqual([truth.pagesDone, truth.pagesTotal]);
    expect(states.filter((state) => state.status === "completed")).toHaveLength(1);
  });

  it("the job connection example prints every update of a job until job_completed", async () => {
    const { site, gateway } = suite.stack;
    const { job_id: jobId } = await startScrape(gateway, site, { path: "/team/", depth: 1, platform: "web" });
    const run = await runSeed003Client("job-connection-example.mjs", [gateway.wsUrl, jobId]);
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.lines[0]).toBe("Connected to job progress");
    expect(run.lines[1]).toMatch(/^Progress update: \{ type: 'job_started', total_files: \d+ \}$/);
    expect(run.lines.at(-1)).toBe("Progress update: { type: 'job_completed', message: 'Job completed successfully' }");
  });

  it("the scan connection example scans a directory, and the seed's own '/documents' is refused as outside the roots", async () => {
    const { gateway } = suite.stack;
    const run = await runSeed003Client("scan-connection-example.mjs", [gateway.wsUrl, "docs"]);
    expect(run.code, describeRun(run)).toBe(0);
    expectScanRun(run.lines.map((line) => JSON.parse(line) as Frame), expectedScanFiles(scanRoot, "docs", true), tree.docsWarnings);
    const refused = await runSeed003Client("scan-connection-example.mjs", [gateway.wsUrl]);
    expect(refused.code, describeRun(refused)).toBe(0);
    expect(refused.lines.map((line) => JSON.parse(line) as unknown)).toEqual([{ type: "error", message: "Failed to scan directory: path is outside the configured scan roots: /documents" }]);
  });

  it("the Python automated test passes on the seed's own 'test-job-id' (an error) and on a real job (job_started)", async () => {
    const { site, gateway } = suite.stack;
    const unknown = await runSeed003Client("test_job_progress.py", [gateway.wsUrl]);
    expect(unknown.code, describeRun(unknown)).toBe(0);
    expect(unknown.lines).toEqual(["Received: {'type': 'error', 'message': 'Unknown job: test-job-id'}"]);

    const plan: CrawlPlan = { path: "/team/", depth: 1, platform: "web" };
    const { job_id: jobId } = await startScrape(gateway, site, plan);
    const known = await runSeed003Client("test_job_progress.py", [gateway.wsUrl, jobId]);
    expect(known.code, describeRun(known)).toBe(0);
    expect(known.lines).toHaveLength(1);
    expect(known.lines[0]).toMatch(/^Received: \{'type': 'job_started', 'total_files': \d+\}$/);
  });
});
