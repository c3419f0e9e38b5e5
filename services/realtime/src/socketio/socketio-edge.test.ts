/**
 * The Socket.IO edge in-process, on a real HTTP server, spoken to in
 * engine.io's own wire protocol (long-polling over fetch, WebSocket over ws)
 * so each packet the server queues is visible: how it shares the server, the
 * bounded backlog (conflation, slow-client disconnect), the catch-up of a
 * subscriber whose picture came from a scraper, snapshots, and shutdown.
 * The end-to-end suite (tests/e2e/seed004.test.ts) drives it with
 * socket.io-client and the seed's own examples.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { JobStatus, Platform, type JobEvent } from "@trawl/proto";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { LiveState } from "../state/live-state.js";
import { counters, JobScript, offsetCounter } from "../test-support/events.js";
import { ScriptedScraper } from "../test-support/scripted-scraper.js";
import { startSocketIoEdgeServer } from "../test-support/socketio-edge-server.js";
import type { SocketIoEdge, SocketIoEdgeOptions } from "./socketio-edge.js";

const RS = "\u001e";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Booted {
  state: LiveState;
  edge: SocketIoEdge;
  base: string;
  /** Applies an event to the state and hands it to the edge, as the gateway does. */
  apply(event: JobEvent): void;
}

async function boot(overrides: Partial<SocketIoEdgeOptions> = {}, scraperAddresses: string[] = []): Promise<Booted> {
  return startSocketIoEdgeServer(cleanups, {
    overrides,
    scraperAddresses,
    requestListener: (_request: IncomingMessage, response: ServerResponse) => {
      response.writeHead(404, { "content-type": "text/plain" });
      response.end("the server's own listener");
    },
  });
}

interface Message {
  event: string;
  payload: Record<string, unknown>;
}

/** A Socket.IO client over raw engine.io long-polling: every GET returns exactly what the server had queued. */
class PollingClient {
  sid = "";
  readonly received: Message[] = [];

  constructor(private readonly base: string) {}

  private get url(): string {
    return `${this.base}/socket.io/?EIO=4&transport=polling&sid=${this.sid}`;
  }

  /** engine.io handshake, then the Socket.IO CONNECT of the main namespace. */
  async open(): Promise<void> {
    const text = await (await fetch(`${this.base}/socket.io/?EIO=4&transport=polling`)).text();
    expect(text.startsWith("0{")).toBe(true);
    this.sid = (JSON.parse(text.slice(1)) as { sid: string }).sid;
    await this.send("40");
    await this.pollUntil(() => this.received.some((message) => message.event === "connection"));
  }

  async send(...packets: string[]): Promise<void> {
    const response = await fetch(this.url, { method: "POST", body: packets.join(RS) });
    expect(await response.text()).toBe("ok");
  }

  emit(event: string, payload: unknown): Promise<void> {
    return this.send(`42${JSON.stringify([event, payload])}`);
  }

  /** One GET: the packets the server had queued (it waits when there are none). Returns the Socket.IO events among them. */
  async poll(): Promise<Message[]> {
    const response = await fetch(this.url);
    const body = await response.text();
    if (response.status !== 200) throw new Error(`poll answered ${response.status}: ${body}`);
    const events = body
      .split(RS)
      .filter((packet) => packet.startsWith("42"))
      .map((packet) => {
        const [event, payload] = JSON.parse(packet.slice(2)) as [string, Record<string, unknown>];
        return { event, payload };
      });
    this.received.push(...events);
    return events;
  }

  async pollUntil(done: () => boolean): Promise<void> {
    while (!done()) await this.poll();
  }

  /** The job messages received for `jobId`, as "event status message". */
  story(jobId: string): string[] {
    return this.received.filter((message) => message.payload.job_id === jobId).map((message) => `${message.event} ${String(message.payload.status ?? "")} ${String(message.payload.message ?? "")}`.trim());
  }
}

const page = (done: number, total: number) => counters({ pagesDone: done, pagesTotal: total, successCount: done, items: done });

describe("socket.io edge", () => {
  it("answers /socket.io/ polling through engine.io and leaves every other request to the server's own listener", async () => {
    const { base } = await boot();
    const handshake = await fetch(`${base}/socket.io/?EIO=4&transport=polling`);
    expect(handshake.status).toBe(200);
    expect((await handshake.text()).startsWith("0{")).toBe(true);
    for (const path of ["/", "/api/jobs", "/socket.iox", "/ws/socket.io/"]) {
      const response = await fetch(`${base}${path}`);
      expect(`${path} → ${response.status} ${await response.text()}`).toBe(`${path} → 404 the server's own listener`);
    }
  });

  it("takes WebSocket upgrades only through handleUpgrade and greets with connection", async () => {
    const { base } = await boot();
    const ws = new WebSocket(`${base.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
    cleanups.push(() => ws.terminate());
    const frames: string[] = [];
    ws.on("message", (data: Buffer) => {
      const text = data.toString();
      frames.push(text);
      if (text.startsWith("0{")) ws.send("40");
    });
    await new Promise<void>((resolve, reject) => {
      ws.on("message", () => frames.some((frame) => frame.startsWith("42")) && resolve());
      ws.once("error", reject);
    });
    const greeting = frames.find((frame) => frame.startsWith("42"));
    const sid = JSON.parse(frames.find((frame) => frame.startsWith("40"))?.slice(2) ?? "{}") as { sid: string };
    expect(JSON.parse(greeting?.slice(2) ?? "[]")).toEqual(["connection", { connected: true, session_id: sid.sid }]);
  });

  it("a client that falls behind skips intermediate job:update, gets the latest once it drains, and never misses the terminal message", async () => {
    const booted = await boot({ backlog: { maxQueuedPackets: 8, slowClientTimeoutMs: 60_000 } });
    const job = new JobScript("job-slow", Platform.WEB, offsetCounter());
    booted.apply(job.started(0));
    const client = new PollingClient(booted.base);
    await client.open();
    await client.emit("subscribe:job", { job_id: "job-slow" });
    await client.pollUntil(() => client.received.some((message) => message.event === "job:update"));

    // The client does not poll: everything queues in its engine.io write buffer.
    for (let done = 1; done <= 100; done++) booted.apply(job.progress(done, page(done, 100)));
    const first = await client.poll();
    expect(first.map((message) => message.payload.message), "the bound's worth of updates, in order").toEqual(
      Array.from({ length: 8 }, (_, index) => `Crawling: ${index + 1}/100 pages, 0 errors`),
    );
    const caughtUp = await client.poll();
    expect(caughtUp.map((message) => message.payload.message), "then only the latest, owed while it was behind").toEqual(["Crawling: 100/100 pages, 0 errors"]);

    // Behind again, then the job ends: the owed progress is dropped, the terminal message is not.
    for (let done = 1; done <= 20; done++) booted.apply(job.progress(100 + done, page(100, 100)));
    booted.apply(job.completed(200, page(100, 100)));
    await client.pollUntil(() => client.received.some((message) => message.event === "job:completed"));
    const story = client.story("job-slow");
    expect(story.at(-1)).toBe("job:completed DELIVERED Delivered: 100 items from 100 pages, 0 errors");
    expect(story.filter((line) => line.startsWith("job:update")).length, "1 picture + 8 + 1 latest + 8").toBe(18);
  });

  it("disconnects a client that stays behind for the slow-client timeout, and only that one", async () => {
    const booted = await boot({ backlog: { maxQueuedPackets: 4, slowClientTimeoutMs: 200 } });
    const job = new JobScript("job-busy", Platform.WEB, offsetCounter());
    booted.apply(job.started(0));
    const stalled = new PollingClient(booted.base);
    const healthy = new PollingClient(booted.base);
    for (const client of [stalled, healthy]) {
      await client.open();
      await client.emit("subscribe:job", { job_id: "job-busy" });
      await client.pollUntil(() => client.received.some((message) => message.event === "job:update"));
    }
    expect(booted.edge.clientCount).toBe(2);
    // The healthy client keeps a poll pending (as real clients do); the stalled one never polls again.
    let polling = true;
    const keepPolling = healthy
      .pollUntil(() => healthy.received.some((message) => message.event === "job:completed"))
      .catch((error: unknown) => {
        if (polling) throw error;
      });
    cleanups.push(() => {
      polling = false;
    });
    for (let done = 1; done <= 10; done++) booted.apply(job.progress(done, page(done, 10)));
    const deadline = Date.now() + 10_000;
    while (booted.edge.clientCount > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(booted.edge.clientCount, "the stalled client was disconnected").toBe(1);
    const gone = await fetch(`${booted.base}/socket.io/?EIO=4&transport=polling&sid=${stalled.sid}`);
    expect(gone.status).toBe(400);
    booted.apply(job.completed(50, page(10, 10)));
    await keepPolling;
    expect(healthy.story("job-busy").at(-1)).toBe("job:completed DELIVERED Delivered: 10 items from 10 pages, 0 errors");
  });

  it("a subscriber whose picture came from the scraper (GetJob) is not sent the events that picture already reflects", async () => {
    const scraper = new ScriptedScraper();
    await scraper.start(0);
    cleanups.push(() => scraper.stop());
    scraper.register({ id: "job-remote", status: JobStatus.RUNNING, platform: Platform.WEB, spec: { urls: ["https://example.test/"] }, counters: { pagesDone: 3, pagesTotal: 10 }, lastSeq: 3n });
    const booted = await boot({}, [scraper.address]);
    const client = new PollingClient(booted.base);
    await client.open();
    await client.emit("subscribe:job", { job_id: "job-remote" });
    await client.emit("subscribe:batch", { batch_id: "job-remote" });
    await client.pollUntil(() => client.received.filter((message) => message.event === "subscribed").length === 2 && client.received.some((message) => message.event === "batch:update"));
    expect(client.received.find((message) => message.event === "batch:update")?.payload).toMatchObject({ total: 1, completed: 0, status: "running" });

    // The gateway's stream now delivers the job's events from the start.
    const job = new JobScript("job-remote", Platform.WEB, offsetCounter());
    booted.apply(job.started(0));
    booted.apply(job.progress(1, page(1, 10)));
    booted.apply(job.progress(2, page(3, 10)));
    booted.apply(job.progress(3, page(5, 10)));
    booted.apply(job.completed(4, page(10, 10)));
    await client.pollUntil(() => client.received.some((message) => message.event === "job:completed"));
    expect(client.story("job-remote")).toEqual([
      "subscribed",
      "job:update PROCESSING Crawling: 3/10 pages, 0 errors",
      "job:update PROCESSING Crawling: 5/10 pages, 0 errors",
      "job:completed DELIVERED Delivered: 10 items from 10 pages, 0 errors",
    ]);
  });

  it("an unsubscribe that arrives while its subscription is being looked up wins", async () => {
    const scraper = new ScriptedScraper();
    await scraper.start(0);
    cleanups.push(() => scraper.stop());
    scraper.register({ id: "job-remote", status: JobStatus.RUNNING, platform: Platform.WEB, spec: { urls: ["https://example.test/"] }, counters: {}, lastSeq: 1n });
    const booted = await boot({}, [scraper.address]);
    const client = new PollingClient(booted.base);
    await client.open();
    // One POST, two packets: the unsubscribe is handled before the scraper answers the subscription's GetJob.
    await client.send(`42${JSON.stringify(["subscribe:job", { job_id: "job-remote" }])}`, `42${JSON.stringify(["unsubscribe:job", { job_id: "job-remote" }])}`);
    await client.emit("subscribe:job", { job_id: "no-such-job" });
    await client.pollUntil(() => client.received.some((message) => message.payload.job_id === "no-such-job"));
    const job = new JobScript("job-remote", Platform.WEB, offsetCounter());
    booted.apply(job.started(0));
    booted.apply(job.progress(1, page(1, 2)));
    await client.emit("subscribe:job", { job_id: "no-such-job-2" });
    await client.pollUntil(() => client.received.some((message) => message.payload.job_id === "no-such-job-2"));
    expect(client.story("job-remote")).toEqual([]);
    expect(client.story("no-such-job")).toEqual(["job:error ABORTED Unknown job: no-such-job"]);
  });

  it("after a scraper snapshot it sends the job's state to its rooms, and empties them once the job has ended", async () => {
    const booted = await boot();
    const job = new JobScript("job-snap", Platform.WEB, offsetCounter());
    booted.apply(job.started(0));
    const client = new PollingClient(booted.base);
    await client.open();
    await client.emit("subscribe:job", { job_id: "job-snap" });
    await client.pollUntil(() => client.received.some((message) => message.event === "job:update"));

    // The gateway applied a snapshot in which the job had ended (its events were trimmed from the log).
    const record = booted.state.jobs.get("job-snap");
    if (record === undefined) throw new Error("no record");
    Object.assign(record, { status: JobStatus.COMPLETED, finishedAtMs: record.startedAtMs + 1_000, counts: { ...record.counts, pagesDone: 4, pagesTotal: 4, successCount: 4, items: 4 } });
    booted.edge.onJobState(record);
    await client.pollUntil(() => client.received.some((message) => message.event === "job:completed"));
    booted.apply(job.progress(5, page(4, 4)));
    // A round trip: the answer to a subscription of an unknown job comes after anything queued before it.
    await client.emit("subscribe:job", { job_id: "no-such-job" });
    await client.pollUntil(() => client.received.some((message) => message.payload.job_id === "no-such-job"));
    expect(client.story("job-snap")).toEqual(["subscribed", "job:update PROCESSING Crawling: 0/0 pages, 0 errors", "job:completed DELIVERED Delivered: 4 items from 4 pages, 0 errors"]);
  });

  it("on close drops its clients and answers further polling with 503", async () => {
    const booted = await boot();
    const client = new PollingClient(booted.base);
    await client.open();
    expect(booted.edge.clientCount).toBe(1);
    await booted.edge.close();
    expect(booted.edge.clientCount).toBe(0);
    const refused = await fetch(`${booted.base}/socket.io/?EIO=4&transport=polling`);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ error: "shutting_down", message: "server shutting down" });
  });
});
