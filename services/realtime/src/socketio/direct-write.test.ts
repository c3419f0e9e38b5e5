/**
 * The Socket.IO edge's direct path with real socket.io-client connections:
 * a window's room broadcasts framed once and written to each healthy
 * WebSocket member in one write, byte for byte what socket.io itself sends;
 * per-socket emits, acks and membership changes never overtaking a pending
 * broadcast; heartbeats, disconnects mid-window, upgrades from long-polling,
 * truthful counters, and a member over its byte bound handed back to
 * engine.io (and its backlog) instead of being written to.
 */
import type { Server } from "node:http";
import type { Socket as TcpSocket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Platform, type JobEvent } from "@trawl/proto";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { counters, JobScript, offsetCounter } from "../test-support/events.js";
import { startSocketIoEdgeServer } from "../test-support/socketio-edge-server.js";
import type { MessageCounters } from "../ws/connection.js";
import type { SocketIoEdge, SocketIoEdgeOptions } from "./socketio-edge.js";

const RS = "\u001e";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One server-side TCP socket and every write made to it. */
interface Tcp {
  readonly socket: TcpSocket;
  /** Each write's bytes, with the socket's state when it was made. */
  readonly writes: Array<{ bytes: Buffer; destroyed: boolean; writableLength: number }>;
}

interface Booted {
  edge: SocketIoEdge;
  base: string;
  tally: { sent: number; conflated: number };
  /** Server-side TCP sockets in the order clients connected. */
  tcps: Tcp[];
  apply(event: JobEvent): void;
}

async function boot(overrides: Partial<SocketIoEdgeOptions> = {}): Promise<Booted> {
  const tally = { sent: 0, conflated: 0 };
  const messageCounters: MessageCounters = {
    sent: (count = 1) => void (tally.sent += count),
    conflated: (count = 1) => void (tally.conflated += count),
    dropped: () => undefined,
    slowClientClosed: () => undefined,
  };
  const tcps: Tcp[] = [];
  const watchWrites = (server: Server): void => {
    server.on("connection", (socket: TcpSocket) => {
      const tcp: Tcp = { socket, writes: [] };
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      socket.write = ((chunk: unknown, ...rest: unknown[]) => {
        tcp.writes.push({ bytes: Buffer.from(chunk as Buffer), destroyed: socket.destroyed, writableLength: socket.writableLength });
        return write(chunk, ...rest);
      }) as TcpSocket["write"];
      tcps.push(tcp);
    });
  };
  const { edge, base, apply } = await startSocketIoEdgeServer(cleanups, { overrides: { counters: messageCounters, ...overrides }, beforeListen: watchWrites });
  return { edge, base, tally, tcps, apply };
}

/** A socket.io-client and every event it received, as "event message" (or "event job_id"). */
interface Client {
  socket: ClientSocket;
  log: string[];
  payloads: Array<[string, unknown]>;
}

async function open(base: string, transports: Array<"websocket" | "polling"> = ["websocket"]): Promise<Client> {
  const socket = connect(base, { transports, forceNew: true, reconnection: false });
  cleanups.push(() => void socket.disconnect());
  const client: Client = { socket, log: [], payloads: [] };
  socket.onAny((event: string, payload: { message?: string; job_id?: string }) => {
    client.payloads.push([event, payload]);
    client.log.push(`${event} ${payload.message ?? payload.job_id ?? ""}`.trim());
  });
  await until(() => client.log.some((line) => line.startsWith("connection")));
  return client;
}

async function subscribe(client: Client, jobId: string): Promise<void> {
  await client.socket.emitWithAck("subscribe:job", { job_id: jobId });
}

async function until(done: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(5);
  }
}

/** The texts of a run of unmasked WebSocket text frames; undefined unless `bytes` is exactly whole frames. */
function frameTexts(bytes: Buffer): string[] | undefined {
  const texts: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes[at] !== 0x81 || at + 2 > bytes.length) return undefined;
    let length = (bytes[at + 1] as number) & 0x7f;
    let start = at + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      start = at + 4;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at + 2));
      start = at + 10;
    }
    if (start + length > bytes.length) return undefined;
    texts.push(bytes.toString("utf8", start, start + length));
    at = start + length;
  }
  return texts;
}

/** The server-side TCP sockets of WebSocket connections (ws answered their upgrade on them), in the order they connected. */
const wsTcps = (booted: Booted): Tcp[] => booted.tcps.filter((tcp) => tcp.writes[0]?.bytes.toString("latin1").startsWith("HTTP/1.1 101") === true);

/** Writes to `tcp` that were the direct path's: whole frames in one buffer (engine.io's path writes ws's header and payload apart). */
const directWrites = (tcp: Tcp) => tcp.writes.filter((write) => frameTexts(write.bytes) !== undefined);

const page = (done: number, total: number) => counters({ pagesDone: done, pagesTotal: total, successCount: done, items: done });
const crawling = (done: number, total: number) => `job:update Crawling: ${done}/${total} pages, 0 errors`;

/** An edge with a 2 s window, one job and one subscribed client that has just received the job's first update. */
async function windowAfterOneUpdate(jobId: string): Promise<{ booted: Booted; job: JobScript; client: Client }> {
  const booted = await boot({ batchWindowMs: 2_000 });
  const job = new JobScript(jobId, Platform.WEB, offsetCounter());
  booted.apply(job.started(0));
  const client = await open(booted.base);
  await subscribe(client, jobId);
  booted.apply(job.progress(1, page(1, 10)));
  await until(() => client.log.includes(crawling(1, 10)));
  return { booted, job, client };
}

describe("socket.io edge, direct path", () => {
  it("writes a window's broadcasts to a WebSocket member in one write, exactly the packets socket.io sends a long-polling member", async () => {
    const booted = await boot();
    const job = new JobScript("job-frames", Platform.WEB, offsetCounter());
    booted.apply(job.started(0));
    const viaWs = await open(booted.base);
    await subscribe(viaWs, "job-frames");
    // A long-polling member, spoken to in engine.io's own protocol so its packets are seen as socket.io encoded them.
    const handshake = await (await fetch(`${booted.base}/socket.io/?EIO=4&transport=polling`)).text();
    const polling = `${booted.base}/socket.io/?EIO=4&transport=polling&sid=${(JSON.parse(handshake.slice(1)) as { sid: string }).sid}`;
    const polled: string[] = [];
    const pollUntil = async (done: () => boolean): Promise<void> => {
      while (!done()) polled.push(...(await (await fetch(polling)).text()).split(RS));
    };
    await fetch(polling, { method: "POST", body: "40" });
    await pollUntil(() => polled.some((packet) => packet.startsWith('42["connection"')));
    await fetch(polling, { method: "POST", body: `42${JSON.stringify(["subscribe:job", { job_id: "job-frames" }])}` });
    await pollUntil(() => polled.some((packet) => packet.startsWith('42["subscribed"')));
    const [tcp] = wsTcps(booted) as [Tcp];
    const before = { sent: booted.tally.sent, direct: directWrites(tcp).length };

    for (let done = 1; done <= 5; done++) booted.apply(job.progress(done, page(done, 5)));
    await until(() => viaWs.log.filter((line) => line.includes("/5 pages")).length === 5);
    await pollUntil(() => polled.filter((packet) => packet.includes("/5 pages")).length === 5);

    const written = directWrites(tcp).slice(before.direct);
    expect(written.length, "one write for the window").toBe(1);
    const frames = frameTexts((written[0] as { bytes: Buffer }).bytes);
    expect(frames, "byte for byte what socket.io put in the long-polling member's packets").toEqual(polled.filter((packet) => packet.includes("/5 pages")));
    expect(viaWs.log.slice(-5)).toEqual([1, 2, 3, 4, 5].map((done) => crawling(done, 5)));
    expect(booted.tally.sent - before.sent, "5 packets to each of 2 members").toBe(10);
    expect(booted.tally.conflated).toBe(0);
  });

  it("sends a client in several rooms a window's broadcasts of all of them in one socket write", async () => {
    const booted = await boot();
    const jobs = ["job-one", "job-two", "job-three"].map((id) => new JobScript(id, Platform.WEB, offsetCounter()));
    for (const job of jobs) booted.apply(job.started(0));
    const client = await open(booted.base);
    for (const job of jobs) await subscribe(client, job.jobId);
    const [tcp] = wsTcps(booted) as [Tcp];
    // What the socket hands to the kernel: one call per write unless writes were corked together into one writev.
    const handed: number[] = [];
    const internals = tcp.socket as unknown as { _write: (...args: unknown[]) => void; _writev: (chunks: unknown[], ...rest: unknown[]) => void };
    const [write, writev] = [internals._write.bind(tcp.socket), internals._writev.bind(tcp.socket)];
    internals._write = (...args) => void (handed.push(1), write(...args));
    internals._writev = (chunks, ...rest) => void (handed.push(chunks.length), writev(chunks, ...rest));

    for (const job of jobs) booted.apply(job.progress(1, page(1, 2)));
    await until(() => client.log.filter((line) => line.includes("1/2 pages")).length === 3);
    expect(handed, "three rooms' frames, one write").toEqual([3]);
    expect(client.log.slice(-3)).toEqual([crawling(1, 2), crawling(1, 2), crawling(1, 2)]);
  });

  it.each([
    ["a per-socket emit (job:error)", (client: Client) => client.socket.emitWithAck("subscribe:job", { job_id: "no-such-job" }), "job:error Unknown job: no-such-job"],
    ["an unsubscribe (leaving the room) and its ack", (client: Client) => client.socket.emitWithAck("unsubscribe:job", { job_id: "job-order" }).then(() => client.log.push("ack")), "ack"],
  ])("flushes the pending window before %s, so the broadcast is neither overtaken nor lost", async (_name, request, answer) => {
    const { booted, job, client } = await windowAfterOneUpdate("job-order");
    // Within the window of the last flush: this one waits for up to two seconds.
    booted.apply(job.progress(2, page(2, 10)));
    await sleep(20);
    expect(client.log).not.toContain(crawling(2, 10));
    await request(client);
    await until(() => client.log.includes(answer), 1_000);
    expect(client.log.slice(-2)).toEqual([crawling(2, 10), answer]);
  });

  it("a client that subscribes mid-window gets its picture and not the broadcasts published before it joined", async () => {
    const { booted, job, client: early } = await windowAfterOneUpdate("job-join");
    booted.apply(job.progress(2, page(2, 10)));
    const late = await open(booted.base);
    await subscribe(late, "job-join");
    booted.apply(job.progress(3, page(3, 10)));
    await until(() => late.log.includes(crawling(3, 10)), 3_000);
    expect(late.log).toEqual(["connection", "subscribed job-join", crawling(2, 10), crawling(3, 10)]);
    expect(early.log.slice(-3)).toEqual([crawling(1, 10), crawling(2, 10), crawling(3, 10)]);
  });

  it("writes nothing to a client whose TCP socket was destroyed mid-window, and still delivers to the others", async () => {
    const booted = await boot({ batchWindowMs: 2_000 });
    const job = new JobScript("job-gone", Platform.WEB, offsetCounter());
    booted.apply(job.started(0));
    const leaving = await open(booted.base);
    await subscribe(leaving, "job-gone");
    const staying = await open(booted.base);
    await subscribe(staying, "job-gone");
    booted.apply(job.progress(1, page(1, 2)));
    await until(() => staying.log.includes(crawling(1, 2)) && leaving.log.includes(crawling(1, 2)));
    booted.apply(job.progress(2, page(2, 2)));
    const sentBefore = booted.tally.sent;
    // Destroyed, and in the same tick the terminal message empties the room (which flushes the window): engine.io has not heard of the close yet.
    const [gone] = wsTcps(booted);
    gone?.socket.destroy();
    booted.apply(job.completed(3, page(2, 2)));
    await until(() => staying.log.some((line) => line.startsWith("job:completed")));
    expect(gone?.writes.filter((write) => write.destroyed)).toEqual([]);
    expect(staying.log.slice(-2)).toEqual([crawling(2, 2), "job:completed Delivered: 2 items from 2 pages, 0 errors"]);
    expect(booted.tally.sent - sentBefore, "only the client still there is counted").toBe(2);
  });

  it("sends a room's terminal message in a write of its own, after the room's pending packets, and then empties the room", async () => {
    const booted = await boot({ batchWindowMs: 50 });
    const job = new JobScript("job-end", Platform.WEB, offsetCounter());
    booted.apply(job.started(0));
    const client = await open(booted.base);
    await subscribe(client, "job-end");
    const [tcp] = wsTcps(booted) as [Tcp];
    booted.apply(job.progress(1, page(1, 2)));
    await until(() => client.log.includes(crawling(1, 2)));
    const before = directWrites(tcp).length;
    booted.apply(job.progress(2, page(2, 2)));
    booted.apply(job.completed(3, page(2, 2)));
    // Nothing follows a terminal message, even in the same window.
    booted.apply(job.progress(4, page(2, 2)));
    await until(() => client.log.some((line) => line.startsWith("job:completed")));
    await sleep(100);
    const texts = directWrites(tcp)
      .slice(before)
      .map((write) => (frameTexts(write.bytes) ?? []).map((text) => (JSON.parse(text.slice(2)) as [string, { message: string }])[1].message));
    expect(texts).toEqual([["Crawling: 2/2 pages, 0 errors"], ["Delivered: 2 items from 2 pages, 0 errors"]]);
    expect(client.log.at(-1)).toBe("job:completed Delivered: 2 items from 2 pages, 0 errors");
  });

  it("keeps engine.io's heartbeat going while broadcasts are written directly", async () => {
    const booted = await boot({ batchWindowMs: 10, heartbeat: { intervalMs: 40, timeoutMs: 100 } });
    const job = new JobScript("job-beat", Platform.WEB, offsetCounter());
    booted.apply(job.started(0));
    const client = await open(booted.base);
    let pings = 0;
    client.socket.io.engine.on("ping", () => pings++);
    await subscribe(client, "job-beat");
    for (let done = 1; done <= 40; done++) {
      booted.apply(job.progress(done, page(done, 40)));
      await sleep(10);
    }
    await until(() => client.log.includes(crawling(40, 40)));
    expect(pings).toBeGreaterThanOrEqual(4);
    expect(client.socket.connected).toBe(true);
    expect(client.log.filter((line) => line.includes("/40 pages"))).toEqual(Array.from({ length: 40 }, (_, index) => crawling(index + 1, 40)));
    expect(directWrites(wsTcps(booted)[0] as Tcp).length).toBeGreaterThan(0);
  });

  it("a client upgrading from long-polling to WebSocket mid-stream gets every broadcast once, in order", async () => {
    const booted = await boot();
    const job = new JobScript("job-upgrade", Platform.WEB, offsetCounter());
    booted.apply(job.started(0));
    const client = await open(booted.base, ["polling", "websocket"]);
    await subscribe(client, "job-upgrade");
    let upgraded = false;
    client.socket.io.engine.on("upgrade", () => {
      upgraded = true;
    });
    for (let done = 1; done <= 60; done++) {
      booted.apply(job.progress(done, page(done, 60)));
      await sleep(5);
    }
    await until(() => client.log.includes(crawling(60, 60)));
    expect(upgraded || client.socket.io.engine.transport.name === "websocket").toBe(true);
    expect(client.log.filter((line) => line.includes("/60 pages"))).toEqual(Array.from({ length: 60 }, (_, index) => crawling(index + 1, 60)));
  });

  it("stops writing directly to a member over its byte bound: engine.io queues for it, it falls behind, and gets the latest and the terminal message in order", async () => {
    const booted = await boot({ maxBufferedBytes: 4_096, backlog: { maxQueuedPackets: 8, slowClientTimeoutMs: 60_000 } });
    const job = new JobScript("job-bound", Platform.WEB, offsetCounter());
    booted.apply(job.started(0));
    const client = await open(booted.base);
    await subscribe(client, "job-bound");
    const [tcp] = wsTcps(booted) as [Tcp];
    // The client stops reading, as far as the server can tell: nothing written leaves its TCP socket.
    tcp.socket.cork();
    for (let done = 1; done <= 200; done++) {
      booted.apply(job.progress(done, page(done, 200)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    booted.apply(job.completed(300, page(200, 200)));
    await new Promise((resolve) => setImmediate(resolve));
    const written = directWrites(tcp);
    expect(written.length).toBeGreaterThan(0);
    expect(written.filter((write) => write.writableLength > 4_096), "no direct write past the bound").toEqual([]);
    expect(booted.tally.conflated, "behind: progress was owed, not queued").toBeGreaterThan(0);

    tcp.socket.uncork();
    await until(() => client.log.some((line) => line.startsWith("job:completed")));
    const progress = client.log.filter((line) => line.includes("/200 pages")).map((line) => Number(/(\d+)\/200/.exec(line)?.[1]));
    expect(progress.length).toBeLessThan(200);
    expect(progress, "in order, without repeats").toEqual([...progress].sort((a, b) => a - b).filter((value, index, all) => all.indexOf(value) === index));
    expect(client.log.at(-1)).toBe("job:completed Delivered: 200 items from 200 pages, 0 errors");
    expect(booted.tally.sent + booted.tally.conflated, "every packet published for the client is counted once, sent or conflated").toBe(201);
  });
});
