/**
 * Seed 004 (BACOWR): the Socket.IO server at /socket.io on the gateway's
 * port, driven by socket.io-client 4.8 and by the seed's own example clients
 * (the browser-console snippet in Node, the Python example with
 * python-socketio 5.7.2) against real crawls of the fixture site. Every
 * message type and field the seed documents, their order, and every number
 * against the truth model.
 */
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { crawlTruth, type CrawlTruth } from "../fixture/truth.js";
import { getJson, postJson } from "../support/http.js";
import { type CrawlPlan, type ScrapeResponse, startScrape, truthFor } from "../support/jobs.js";
import {
  closedPort,
  deliveredCounts,
  expectBatchMessage,
  expectJobMessage,
  expectJobStream,
  type JobMessage,
  type JobStream,
  loggedFields,
  pageCounts,
  runClient,
  SocketRecorder,
  startRobotsDenyingSite,
  SYSTEM_PYTHON,
  type Transport,
  useSocketClients,
} from "../support/seed004.js";
import { TEST_REQUEST_TIMEOUT_MS } from "../support/stack.js";
import { useStack } from "../support/suite.js";

// Every HTML page takes 100 ms: a whole-site crawl lasts seconds, long enough to subscribe, pause, unsubscribe or cancel mid-way.
const suite = useStack({ site: { pageLatencyMs: 100 } });
const track = useSocketClients();

const WHOLE_SITE: CrawlPlan = { path: "/", depth: 10, platform: "web" };

async function connect(transports?: readonly Transport[]): Promise<SocketRecorder> {
  return track(await SocketRecorder.connect(suite.stack.gateway.url, transports));
}

async function subscribeJob(client: SocketRecorder, jobId: string): Promise<void> {
  expect(await client.request("subscribe:job", { job_id: jobId }), "subscribe:job is acknowledged with the subscribed payload").toEqual({ job_id: jobId });
}

/** POST /api/scrape with several start URLs: one job whose tasks are the batch's items. */
async function startBatch(urls: readonly string[], depth: number): Promise<string> {
  const response = await postJson<ScrapeResponse>(`${suite.stack.gateway.url}/api/scrape`, { urls, depth, platform: "web" });
  expect(response.status, response.text).toBe(200);
  return response.body.job_id;
}

async function control(jobId: string, action: "pause" | "resume" | "cancel", body?: unknown): Promise<void> {
  const response = await postJson(`${suite.stack.gateway.url}/api/jobs/${jobId}/${action}`, body);
  expect(response.status, `${action}: ${response.text}`).toBe(200);
}

function batchTruth(urls: readonly string[], depth: number): CrawlTruth {
  const { site } = suite.stack;
  return crawlTruth(site.graph, {
    startUrls: [...urls],
    depth,
    platform: "web",
    conditions: { requestTimeoutMs: TEST_REQUEST_TIMEOUT_MS, slowDelayMs: site.options.slowDelayMs, pageLatencyMs: site.options.pageLatencyMs },
  });
}

/** The terminal job:completed of a crawl: DELIVERED, 100 %, and the true items / pages / errors in its message. */
function expectDelivered(terminal: { event: string; message: JobMessage }, truth: CrawlTruth): void {
  expect(terminal.event).toBe("job:completed");
  expect(terminal.message.status).toBe("DELIVERED");
  expect(terminal.message.progress).toBe(100);
  expect(deliveredCounts(terminal.message.message), `numbers in "${terminal.message.message}"`).toEqual({ items: truth.successCount, pages: truth.pagesDone, errors: truth.errorCount });
}

describe("seed 004: Socket.IO at /socket.io", () => {
  it.each<[string, Transport[]]>([
    ["websocket", ["websocket"]],
    ["polling", ["polling"]],
  ])("greets a %s connection with connection {connected, session_id}", async (_name, transports) => {
    const client = await connect(transports);
    const first = await client.waitFor("the connection event", () => client.received[0]);
    expect(first).toEqual({ event: "connection", payload: { connected: true, session_id: client.id } });
    expect(client.transport).toBe(transports[0]);
  });

  it("answers engine.io polling requests at /socket.io/ ahead of express; other paths still reach the REST API", async () => {
    const { url } = suite.stack.gateway;
    const handshake = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
    expect(handshake.status).toBe(200);
    const body = await handshake.text();
    expect(body.startsWith("0{"), `engine.io open packet, got ${body}`).toBe(true);
    const open = JSON.parse(body.slice(1)) as { sid: string; upgrades: string[]; maxPayload: number };
    expect(open.upgrades).toEqual(["websocket"]);
    expect(open.maxPayload, "maxHttpBufferSize is 64 KB").toBe(65_536);

    const unknownTransport = await getJson(`${url}/socket.io/?EIO=4&transport=carrier-pigeon`);
    expect(unknownTransport.status, "engine.io's own error, not express's 404").toBe(400);
    expect(unknownTransport.body).toEqual({ code: 0, message: "Transport unknown" });

    expect((await getJson(`${url}/health`)).status).toBe(200);
    expect((await getJson(`${url}/api/no-such-route`)).status).toBe(404);
    expect((await fetch(`${url}/socket.io/socket.io.js`)).status, "the client bundle is not served (serveClient: false)").toBe(400);
  });

  it("allows cross-origin polling from loopback pages only", async () => {
    const { url } = suite.stack.gateway;
    const local = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: "http://localhost:3000" } });
    expect(local.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    await local.text();
    const foreign = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: "https://app.example.com" } });
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    await foreign.text();
  });

  it("streams a whole-site crawl to websocket, polling and upgraded subscribers: subscribed, job:update PROCESSING, job:completed DELIVERED with the true counts", async () => {
    const { site, gateway } = suite.stack;
    const truth = truthFor(site, WHOLE_SITE);
    expect(truth.pagesDone).toBeGreaterThan(300);
    const clients = { websocket: await connect(["websocket"]), polling: await connect(["polling"]), upgraded: await connect(["polling", "websocket"]) };

    const { job_id: jobId } = await startScrape(gateway, site, WHOLE_SITE);
    for (const client of Object.values(clients)) await subscribeJob(client, jobId);
    const terminals: JobStream["terminal"][] = [];
    for (const [name, client] of Object.entries(clients)) {
      await client.waitForTerminal(jobId);
      const stream = expectJobStream(client.forJob(jobId), jobId);
      expectDelivered(stream.terminal, truth);
      expect(stream.updates.length, `${name}: job:update messages before the end`).toBeGreaterThan(0);
      expect(stream.updates.every((update) => update.status === "PROCESSING"), `${name}: every update is PROCESSING`).toBe(true);
      expect(stream.updates.some((update) => update.progress > 0 && update.progress < 100), `${name}: progress between 0 and 100 along the way`).toBe(true);
      const progressValues = new Set(stream.updates.map((update) => update.progress));
      expect(progressValues.size, `${name}: progress moves`).toBeGreaterThan(1);
      const last = stream.updates.at(-1) as JobMessage;
      expect(pageCounts(last.message), `${name}: the last update carries the final counts ("${last.message}")`).toEqual({ done: truth.pagesDone, total: truth.pagesTotal, errors: truth.errorCount });
      terminals.push(stream.terminal);
    }
    expect(terminals[1], "every subscriber of the room got the same job:completed").toEqual(terminals[0]);
    expect(terminals[2]).toEqual(terminals[0]);
    expect(clients.polling.transport).toBe("polling");
    expect(clients.upgraded.transport, "the default client upgraded from polling to websocket").toBe("websocket");

    // Nothing after the terminal message: a round trip through the server brings nothing more for the job.
    for (const client of Object.values(clients)) {
      const seen = client.forJob(jobId).length;
      await client.barrier();
      expect(client.forJob(jobId), "nothing after job:completed").toHaveLength(seen);
    }

    // A subscriber that comes after the end gets subscribed, then the same job:completed at once.
    const late = await connect();
    await subscribeJob(late, jobId);
    await late.barrier();
    expect(late.forJob(jobId)).toEqual([
      { event: "subscribed", payload: { job_id: jobId } },
      { event: "job:completed", payload: terminals[0]?.message },
    ]);
  });

  it("pause and resume are PROCESSING updates that say so; cancel ends with job:error ABORTED 'cancelled: <reason>' and the true percent", async () => {
    const { site, gateway } = suite.stack;
    const client = await connect();
    const { job_id: jobId } = await startScrape(gateway, site, WHOLE_SITE);
    await subscribeJob(client, jobId);
    const updates = (): JobMessage[] => client.forJob(jobId).filter((entry) => entry.event === "job:update").map((entry) => entry.payload as JobMessage);
    await client.waitFor("a job:update with pages done", () => updates().some((update) => (pageCounts(update.message)?.done ?? 0) > 0));

    await control(jobId, "pause");
    const paused = await client.waitFor("the paused update", () => updates().find((update) => update.message.startsWith("Paused: ")));
    expect(paused.status).toBe("PROCESSING");
    await control(jobId, "resume");
    const resumed = await client.waitFor("the resumed update", () => updates().find((update) => update.message.startsWith("Resumed: ")));
    expect(resumed.status).toBe("PROCESSING");
    expect(pageCounts(resumed.message)?.done).toBeGreaterThanOrEqual(pageCounts(paused.message)?.done ?? 0);

    await control(jobId, "cancel", { reason: "seed004 cancel test" });
    await client.waitForTerminal(jobId);
    const stream = expectJobStream(client.forJob(jobId), jobId);
    expect(stream.terminal.event).toBe("job:error");
    expect(stream.terminal.message.status).toBe("ABORTED");
    expect(stream.terminal.message.message).toBe("cancelled: seed004 cancel test");
    const status = await getJson<{ status: string; items_scraped: number; items_total: number }>(`${gateway.url}/ws/scraping/${jobId}/status`);
    expect(status.body.status).toBe("cancelled");
    expect(status.body.items_scraped, "cancelled mid-way").toBeLessThan(truthFor(site, WHOLE_SITE).pagesDone);
    expect(stream.terminal.message.progress, "progress = pages done over pages known when it stopped").toBe(Math.floor((status.body.items_scraped * 100) / status.body.items_total));
    await client.barrier();
    expect(client.forJob(jobId), "nothing after job:error").toHaveLength(stream.updates.length + 2);
  });

  it("a job whose every start URL fails ends with job:error ABORTED carrying the failure", async () => {
    const { site } = suite.stack;
    const missing = site.url(site.graph.paths.missing);
    const unreachable = `http://127.0.0.1:${await closedPort()}/`;
    const client = await connect();
    const jobId = await startBatch([missing, unreachable], 0);
    await subscribeJob(client, jobId);
    await client.waitForTerminal(jobId);
    const { terminal } = expectJobStream(client.forJob(jobId), jobId);
    expect(terminal.event).toBe("job:error");
    expect(terminal.message.status).toBe("ABORTED");
    expect(terminal.message.message).toMatch(/^Error: every start URL failed: /);
    expect(terminal.message.message).toContain(missing);
    expect(terminal.message.message).toContain(unreachable);
    expect(terminal.message.progress, "both start URLs were processed (and failed): 2 of 2 pages").toBe(100);
  });

  it("a job robots.txt blocks entirely ends with job:error BLOCKED, for live and late subscribers alike", async () => {
    const private_ = await startRobotsDenyingSite();
    try {
      const client = await connect();
      const jobId = await startBatch([private_.url], 1);
      await subscribeJob(client, jobId);
      await client.waitForTerminal(jobId);
      const { terminal } = expectJobStream(client.forJob(jobId), jobId);
      expect(terminal.event).toBe("job:error");
      expect(terminal.message).toMatchObject({ job_id: jobId, status: "BLOCKED", progress: 0 });
      expect(terminal.message.message).toMatch(/^Blocked by robots\.txt: every start URL failed: /);
      expect(terminal.message.message).toContain(private_.url);
      expect(private_.requests, "only robots.txt was fetched").toEqual(["/robots.txt"]);

      const late = await connect();
      await subscribeJob(late, jobId);
      await late.barrier();
      expect(late.forJob(jobId).map((entry) => entry.event)).toEqual(["subscribed", "job:error"]);
      expect(late.forJob(jobId)[1]?.payload).toEqual(terminal.message);
    } finally {
      await private_.close();
    }
  });

  it("subscribe:batch follows a batch (one 404 among its URLs): batch:update totals and completed tasks match the tasks; the job ends DELIVERED", async () => {
    const { site } = suite.stack;
    const urls = [site.url("/team/"), site.url(site.graph.paths.missing), site.url("/about/")];
    const truth = batchTruth(urls, 1);
    expect(truth.errorCount).toBeGreaterThan(0);
    const batchClient = await connect();
    const jobClient = await connect(["polling"]);
    const jobId = await startBatch(urls, 1);
    expect(await batchClient.request("subscribe:batch", { batch_id: jobId })).toEqual({ batch_id: jobId });
    await subscribeJob(jobClient, jobId);

    const isFinal = (entry: { event: string; payload: unknown }): boolean => entry.event === "batch:update" && (entry.payload as { status: string }).status !== "running";
    await batchClient.waitFor("the final batch:update", () => batchClient.forBatch(jobId).find(isFinal));
    const received = batchClient.forBatch(jobId);
    expect(received[0]).toEqual({ event: "subscribed", payload: { batch_id: jobId } });
    const updates = received.slice(1).map((entry, index) => {
      expect(entry.event).toBe("batch:update");
      const message = expectBatchMessage(entry.payload, `batch:update#${index}`);
      expect(message.batch_id).toBe(jobId);
      expect(message.total, "total = the batch's URLs").toBe(urls.length);
      return message;
    });
    const completed = updates.map((update) => update.completed);
    expect(completed, "completed tasks never decrease").toEqual([...completed].sort((a, b) => a - b));
    const final = updates.at(-1);
    expect(updates.findIndex((update) => update.status !== "running"), "the final batch:update is the last").toBe(updates.length - 1);
    expect(final).toMatchObject({ total: 3, completed: 3, progress: 100, status: "completed" });
    expect(final?.message).toBe(`Batch completed: 3/3 URLs done, ${truth.pagesDone}/${truth.pagesTotal} pages, ${truth.errorCount} error${truth.errorCount === 1 ? "" : "s"}`);
    if (updates[0]?.status === "running") {
      // Subscribed while it ran (the usual case): every task's end was reported, in order.
      expect(completed.filter((value, index) => completed.indexOf(value) === index), "completed went 0 → 1 → 2 → 3").toEqual([0, 1, 2, 3]);
    }
    await batchClient.barrier();
    expect(batchClient.forBatch(jobId), "nothing after the final batch:update").toHaveLength(received.length);

    await jobClient.waitForTerminal(jobId);
    expectDelivered(expectJobStream(jobClient.forJob(jobId), jobId).terminal, truth);
  });

  it("unsubscribe:job and unsubscribe:batch stop the updates for that socket only", async () => {
    const { site, gateway } = suite.stack;
    const leaver = await connect();
    const stayer = await connect();
    const { job_id: jobId } = await startScrape(gateway, site, WHOLE_SITE);
    await subscribeJob(leaver, jobId);
    expect(await leaver.request("subscribe:batch", { batch_id: jobId })).toEqual({ batch_id: jobId });
    await subscribeJob(stayer, jobId);
    await leaver.waitFor("a job:update", () => leaver.forJob(jobId).find((entry) => entry.event === "job:update"));

    expect(await leaver.request("unsubscribe:job", { job_id: jobId })).toEqual({ job_id: jobId });
    expect(await leaver.request("unsubscribe:batch", { batch_id: jobId })).toEqual({ batch_id: jobId });
    const jobSeen = leaver.forJob(jobId).length;
    const batchSeen = leaver.forBatch(jobId).length;

    await stayer.waitForTerminal(jobId);
    expectDelivered(expectJobStream(stayer.forJob(jobId), jobId).terminal, truthFor(site, WHOLE_SITE));
    await leaver.barrier();
    expect(leaver.forJob(jobId), "no job message after unsubscribe:job").toHaveLength(jobSeen);
    expect(leaver.forBatch(jobId), "no batch:update after unsubscribe:batch").toHaveLength(batchSeen);
    expect(leaver.socket.connected).toBe(true);
  });

  it("answers unknown jobs, malformed payloads and unknown events with job:error on that socket only; other subscribers are undisturbed", async () => {
    const { site, gateway } = suite.stack;
    const bystander = await connect();
    const { job_id: jobId } = await startScrape(gateway, site, WHOLE_SITE);
    await subscribeJob(bystander, jobId);

    const bad = await connect(["polling", "websocket"]);
    const cases: Array<[string, unknown[], string | null, string]> = [
      ["subscribe:job", [{ job_id: "no-such-job" }], "no-such-job", "Unknown job: no-such-job"],
      ["subscribe:batch", [{ batch_id: "no-such-batch" }], "no-such-batch", "Unknown batch: no-such-batch"],
      ["subscribe:job", [], null, 'subscribe:job needs an object payload like {"job_id": "…"}'],
      ["subscribe:job", ["just-a-string"], null, 'subscribe:job needs an object payload like {"job_id": "…"}'],
      ["subscribe:job", [{ job_id: 42 }], null, "subscribe:job: job_id must be a string"],
      ["subscribe:job", [{ jobId }], null, 'subscribe:job: job_id is required, e.g. {"job_id": "…"}'],
      ["subscribe:batch", [{ job_id: jobId }], null, 'subscribe:batch: batch_id is required, e.g. {"batch_id": "…"}'],
      ["unsubscribe:job", [{ job_id: "" }], null, "unsubscribe:job: job_id must have 1 to 256 characters"],
      ["unsubscribe:batch", [null], null, 'unsubscribe:batch needs an object payload like {"batch_id": "…"}'],
      ["subscribe", [{ job_id: jobId }], null, 'unknown event "subscribe": use subscribe:job, unsubscribe:job, subscribe:batch, unsubscribe:batch'],
    ];
    for (const [event, args, expectedId, expectedMessage] of cases) {
      const answer = await bad.request(event, args[0]).catch((error: unknown) => error);
      if (args.length === 0) {
        // emitWithAck always sends a payload; send the bare event too.
        bad.emit(event);
      }
      const error = expectJobMessage(answer, `ack of ${event} ${JSON.stringify(args)}`);
      expect(error, `${event} ${JSON.stringify(args)}`).toEqual({ job_id: expectedId, status: "ABORTED", progress: 0, message: expectedMessage, timestamp: error.timestamp });
    }
    await bad.barrier();
    const errors = bad.ofEvent("job:error").map((payload, index) => expectJobMessage(payload, `job:error#${index}`));
    expect(errors.map((error) => error.message), "one job:error per bad request, in order (plus the bare subscribe:job)").toEqual([
      ...cases.slice(0, 3).map((entry) => entry[3]),
      cases[2]?.[3],
      ...cases.slice(3).map((entry) => entry[3]),
    ]);
    expect(bad.received.some((entry) => entry.event === "subscribed"), "nothing was subscribed").toBe(false);
    expect(bad.socket.connected, "the bad client stays connected").toBe(true);

    // The same socket can still subscribe properly.
    await subscribeJob(bad, jobId);

    // A message over 64 KB closes that client's connection, and only that one.
    const oversized = await connect();
    const gone = new Promise<string>((resolve) => oversized.socket.once("disconnect", (reason) => resolve(reason)));
    oversized.emit("subscribe:job", { job_id: "x".repeat(100_000) });
    expect(await gone).toMatch(/transport (close|error)/);

    // Garbage at the Socket.IO protocol level closes that raw connection, and only that one.
    const raw = new WebSocket(`${gateway.wsUrl}/socket.io/?EIO=4&transport=websocket`);
    const rawClosed = new Promise<number>((resolve) => raw.once("close", (code) => resolve(code)));
    raw.on("error", () => undefined);
    raw.once("message", () => {
      raw.send("40");
      raw.send("42[not json");
    });
    expect(await rawClosed).toBeGreaterThan(0);

    await bystander.waitForTerminal(jobId);
    const stream = expectJobStream(bystander.forJob(jobId), jobId);
    expectDelivered(stream.terminal, truthFor(site, WHOLE_SITE));
    expect(bystander.ofEvent("job:error"), "the bystander got no error").toEqual([]);
    expect(bystander.socket.connected).toBe(true);
    await bad.waitForTerminal(jobId);
    expect((await getJson(`${gateway.url}/health`)).status).toBe(200);
  });

  it("runs the seed's browser-console snippet (Node) and Python example (python-socketio) unchanged against a crawl: updates, then the completion", async () => {
    const { site, gateway } = suite.stack;
    const truth = truthFor(site, WHOLE_SITE);
    const { job_id: jobId } = await startScrape(gateway, site, WHOLE_SITE);
    // Paused until both clients have connected and printed the job's state, so both see it live.
    await control(jobId, "pause");
    const port = new URL(gateway.url).port;
    const js = runClient(process.execPath, ["browser-console.cjs"], { SEED004_URL: `ws://127.0.0.1:${port}`, SEED004_JOB_ID: jobId });
    const py = runClient(SYSTEM_PYTHON, ["python-client.py"], { SEED004_URL: `http://127.0.0.1:${port}`, SEED004_JOB_ID: jobId, PYTHONUNBUFFERED: "1" });
    try {
      await js.waitForLine("the snippet's Connected!", (line) => line.startsWith("Connected! "));
      await py.waitForLine("the Python client's Connected!", (line) => line === "Connected!");
      await js.waitForLine("the snippet's first Update", (line) => line.startsWith("Update: "));
      await py.waitForLine("the Python client's first Job update", (line) => line.startsWith("Job update: "));
      await control(jobId, "resume");
      const jsDone = await js.waitForLine("the snippet's Completed", (line) => line.startsWith("Completed: "));
      const pyDone = await py.waitForLine("the Python client's Job completed", (line) => line.startsWith("Job completed: "));

      const check = (lines: readonly string[], updatePrefix: string, done: string, label: string): Record<string, string | number> => {
        // The Python example prints from one thread per message, and print() writes its text and its newline
        // separately: two updates that arrive together can share a line ("Job update: {…}Job update: {…}"). So
        // the output is cut at every print's prefix, not at line ends.
        const donePrefix = done.slice(0, done.indexOf(": ") + 2);
        const printed = lines.join("\n").split(new RegExp(`(?=${updatePrefix}|${donePrefix})`)).map((part) => part.trim());
        const updates = printed.filter((part) => part.startsWith(updatePrefix)).map((part) => loggedFields(part.split("\n")[0] as string));
        expect(updates.length, `${label}: updates printed`).toBeGreaterThan(1);
        for (const update of updates) {
          expect(Object.keys(update).sort(), `${label}: update fields`).toEqual(["job_id", "message", "progress", "status", "timestamp"]);
          expect(update).toMatchObject({ job_id: jobId, status: "PROCESSING" });
        }
        expect(String(updates[0]?.message), `${label}: the first update is the paused job's state`).toMatch(/^Paused: /);
        expect(updates.some((update) => String(update.message).startsWith("Resumed: ")), `${label}: the resume was printed`).toBe(true);
        const completed = loggedFields(done);
        expect(completed).toMatchObject({ job_id: jobId, status: "DELIVERED", progress: 100 });
        expect(deliveredCounts(String(completed.message))).toEqual({ items: truth.successCount, pages: truth.pagesDone, errors: truth.errorCount });
        expect(lines.indexOf(done), `${label}: nothing printed after the completion`).toBe(lines.length - 1);
        return completed;
      };
      const jsCompleted = check(js.lines, "Update: ", jsDone, "browser-console snippet");
      const pyCompleted = check(py.lines, "Job update: ", pyDone, "Python example");
      expect(js.lines[0]).toMatch(/^Connected! \S+$/);
      expect(py.lines[0]).toBe("Connected!");
      expect(pyCompleted, "both clients printed the same job:completed").toEqual(jsCompleted);
      expect(js.stderr.filter((line) => line.startsWith("Error:")), "the snippet logged no job:error").toEqual([]);
    } finally {
      // Both examples wait forever by design (the Python one in sio.wait()): stop them once they have printed the end.
      await Promise.all([js.stop(), py.stop()]);
    }
  });
});
