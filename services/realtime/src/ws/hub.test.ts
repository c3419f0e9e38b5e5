import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WebSocketServer } from "ws";
import { openClient, rawUpgrade, type Recorded } from "../test-support/ws-clients.js";
import { CloseCode } from "./close-codes.js";
import { ConnectionState, Delivery, type Connection, type SendPolicy } from "./connection.js";
import { Hub } from "./hub.js";

const logger = pino({ level: "silent" });
const PONG = Buffer.from('{"type":"pong","message":"Connection alive"}');

interface Harness {
  hub: Hub;
  port: number;
  /** Server-side connections in accept order. */
  accepted: Connection[];
  close(): Promise<void>;
}

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((harness) => harness.close()));
});

async function startHub(policy: SendPolicy, heartbeatMs = 60_000, batchWindowMs = 0): Promise<Harness> {
  const hub = new Hub({ policy, heartbeatMs, batchWindowMs, pongFrame: PONG, logger });
  const wss = new WebSocketServer({ noServer: true, clientTracking: false });
  const server: Server = createServer();
  const accepted: Connection[] = [];
  server.on("upgrade", (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = hub.accept(ws, socket);
      const job = /^\/job\/(.+)$/.exec(request.url ?? "");
      if (job?.[1] === undefined) hub.subscribeAll(connection);
      else hub.subscribeJob(connection, job[1]);
      accepted.push(connection);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  hub.startHeartbeat();
  const { port } = server.address() as AddressInfo;
  const harness: Harness = {
    hub,
    port,
    accepted,
    async close() {
      hub.stopHeartbeat();
      await hub.closeAll(CloseCode.GOING_AWAY, "test over", 200);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  harnesses.push(harness);
  return harness;
}

async function connectClient(harness: Harness, path = "/"): Promise<{ client: Recorded; connection: Connection }> {
  const before = harness.accepted.length;
  const client = await openClient(`ws://127.0.0.1:${harness.port}${path}`);
  await vi.waitFor(() => expect(harness.accepted.length).toBe(before + 1));
  return { client, connection: harness.accepted[before] as Connection };
}

/** Counts the writes to `connection`'s TCP socket from now on. */
function countWrites(connection: Connection): { count: number } {
  const socket = (connection.ws as unknown as { _socket: { write: (...args: unknown[]) => boolean } })._socket;
  const write = socket.write.bind(socket);
  const counter = { count: 0 };
  socket.write = (...args: unknown[]) => {
    counter.count++;
    return write(...args);
  };
  return counter;
}

const yieldToClients = () => new Promise((resolve) => setTimeout(resolve, 1));
const frame = (value: Record<string, unknown>) => Buffer.from(JSON.stringify(value));
const PAD = "x".repeat(8 * 1024);

/** Publishes filler frames until `connection` is over its bound, yielding so other clients keep reading. */
async function fillUntilBacklogged(hub: Hub, connection: Connection): Promise<number> {
  let sent = 0;
  while (connection.state !== ConnectionState.BACKLOGGED) {
    for (let i = 0; i < 4; i++) hub.publish("filler", frame({ type: "filler", n: sent++, pad: PAD }), Delivery.ALWAYS);
    await yieldToClients();
    if (sent > 200_000) throw new Error("the paused client never went over its bound");
  }
  return sent;
}

describe("Hub and Connection send policy", () => {
  it("conflates progress and drops previews for a client that stops reading, delivers terminal frames once it resumes, and leaves a fast client undisturbed", async () => {
    const harness = await startHub({ maxBufferedBytes: 64 * 1024, slowClientTimeoutMs: 600_000 });
    const { client: slow, connection: slowConnection } = await connectClient(harness);
    const { client: fast, connection: fastConnection } = await connectClient(harness);
    slow.pause();

    const fillers = await fillUntilBacklogged(harness.hub, slowConnection);

    for (let n = 1; n <= 100; n++) {
      harness.hub.publish("job-a", frame({ type: "progress", job: "job-a", n }), Delivery.CONFLATE);
      if (n <= 50) harness.hub.publish("job-a", frame({ type: "item_preview", job: "job-a", n }), Delivery.DROP_COUNTED);
      if (n % 10 === 0) await yieldToClients();
    }
    harness.hub.publish("job-a", frame({ type: "job_complete", job: "job-a" }), Delivery.ALWAYS);

    expect(slowConnection.state).toBe(ConnectionState.BACKLOGGED);
    expect(slowConnection.counters.conflated).toBe(99);
    expect(slowConnection.counters.droppedPreviews).toBe(50);

    await fast.next((message) => message.type === "job_complete");
    const fastOf = (type: string) => fast.messages.filter((message) => message.type === type).map((message) => message.n);
    expect(fastOf("progress")).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(fastOf("item_preview")).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(fastOf("filler")).toHaveLength(fillers);
    expect(fastConnection.counters).toMatchObject({ conflated: 0, droppedPreviews: 0 });

    slow.resume();
    await slow.next((message) => message.type === "job_complete");
    const slowTail = slow.messages.filter((message) => message.type !== "filler");
    expect(slowTail).toEqual([
      { type: "progress", job: "job-a", n: 100 },
      { type: "job_complete", job: "job-a" },
    ]);
    expect(slow.messages.filter((message) => message.type === "filler")).toHaveLength(fillers);
    await vi.waitFor(() => expect(slowConnection.state).toBe(ConnectionState.OPEN));
  });

  it("closes 1013 a client that stays over its bound past the slow-client timeout", async () => {
    const harness = await startHub({ maxBufferedBytes: 32 * 1024, slowClientTimeoutMs: 100 });
    const { client, connection } = await connectClient(harness);
    client.pause();
    await fillUntilBacklogged(harness.hub, connection);
    await vi.waitFor(() => expect(connection.state).toBe(ConnectionState.CLOSING), { timeout: 10_000 });
    client.resume();
    expect(await client.closed).toMatchObject({ code: CloseCode.TRY_AGAIN_LATER });
  });

  it("answers a text frame with pong", async () => {
    const harness = await startHub({ maxBufferedBytes: 1 << 20, slowClientTimeoutMs: 10_000 });
    const { client } = await connectClient(harness);
    client.ws.send("ping?");
    expect(await client.next((message) => message.type === "pong")).toEqual({ type: "pong", message: "Connection alive" });
  });

  it("does not crash when a binary frame arrives: it closes 1003", async () => {
    const harness = await startHub({ maxBufferedBytes: 1 << 20, slowClientTimeoutMs: 10_000 });
    const { client } = await connectClient(harness);
    client.ws.send(Buffer.from([1, 2, 3]));
    expect(await client.closed).toEqual({ code: CloseCode.UNSUPPORTED_DATA, reason: "binary frames are not supported" });
    await vi.waitFor(() => expect(harness.hub.connectionCount).toBe(0));
  });

  it("terminates a client that never answers the heartbeat ping", async () => {
    const harness = await startHub({ maxBufferedBytes: 1 << 20, slowClientTimeoutMs: 10_000 }, 30);
    const { head, closed } = await rawUpgrade(harness.port, "/");
    expect(head).toMatch(/^HTTP\/1\.1 101/);
    await closed;
    await vi.waitFor(() => expect(harness.hub.connectionCount).toBe(0));
  });

  it("keeps a client that answers pings", async () => {
    const harness = await startHub({ maxBufferedBytes: 1 << 20, slowClientTimeoutMs: 10_000 }, 20);
    const { client } = await connectClient(harness);
    let pings = 0;
    client.ws.on("ping", () => pings++);
    await vi.waitFor(() => expect(pings).toBeGreaterThanOrEqual(3));
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });

  it("routes job frames to that job's subscribers only, besides the global ones", async () => {
    const harness = await startHub({ maxBufferedBytes: 1 << 20, slowClientTimeoutMs: 10_000 });
    const { client: globalClient } = await connectClient(harness);
    const { client: jobClient } = await connectClient(harness, "/job/j1");
    expect(harness.hub.jobSubscriptionCount).toBe(1);
    harness.hub.publish("j2", frame({ type: "progress", job: "j2" }), Delivery.CONFLATE);
    harness.hub.publish("j1", frame({ type: "progress", job: "j1" }), Delivery.CONFLATE);
    await jobClient.next((message) => message.job === "j1");
    await globalClient.next((message) => message.job === "j1");
    expect(jobClient.messages).toEqual([{ type: "progress", job: "j1" }]);
    expect(globalClient.messages.map((message) => message.job)).toEqual(["j2", "j1"]);
    jobClient.ws.close();
    await vi.waitFor(() => expect(harness.hub.jobSubscriptionCount).toBe(0));
  });

  it("frames payloads of every length class byte-exactly (7-bit, 16-bit and 64-bit lengths)", async () => {
    const harness = await startHub({ maxBufferedBytes: 1 << 22, slowClientTimeoutMs: 10_000 });
    const { client } = await connectClient(harness);
    const lengths = [0, 1, 124, 125, 126, 127, 65_535, 65_536, 70_000];
    for (const [n, length] of lengths.entries()) {
      const json = JSON.stringify({ n, pad: "y".repeat(length) });
      harness.hub.publish("j", Buffer.from(json), Delivery.ALWAYS);
      if (n % 3 === 2) await yieldToClients();
    }
    await client.next((message) => message.n === lengths.length - 1);
    expect(client.messages.map((message) => [message.n, (message.pad as string).length])).toEqual(lengths.map((length, n) => [n, length]));
  });

  it("delivers a tick's frames in publish order, interleaved with direct sends in the order they were made", async () => {
    const harness = await startHub({ maxBufferedBytes: 1 << 20, slowClientTimeoutMs: 10_000 });
    const { client, connection } = await connectClient(harness);
    harness.hub.publish("j", frame({ n: 1 }), Delivery.ALWAYS);
    harness.hub.publish("j", frame({ n: 2 }), Delivery.CONFLATE);
    connection.send(frame({ n: 3 }), Delivery.ALWAYS, "");
    harness.hub.publish("j", frame({ n: 4 }), Delivery.DROP_COUNTED);
    connection.send(frame({ n: 5 }), Delivery.ALWAYS, "");
    harness.hub.publish("j", frame({ n: 6 }), Delivery.ALWAYS);
    await client.next((message) => message.n === 6);
    expect(client.messages.map((message) => message.n)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("sends a frame to exactly the clients subscribed when it was published, even when subscriptions change within the tick", async () => {
    const harness = await startHub({ maxBufferedBytes: 1 << 20, slowClientTimeoutMs: 10_000 });
    const { client: early } = await connectClient(harness, "/job/j");
    const { client: late, connection: lateConnection } = await connectClient(harness, "/job/other");
    const { client: leaving, connection: leavingConnection } = await connectClient(harness, "/job/j");
    harness.hub.publish("j", frame({ n: 1 }), Delivery.ALWAYS);
    harness.hub.subscribeJob(lateConnection, "j");
    harness.hub.unsubscribeJob(leavingConnection, "j");
    harness.hub.publish("j", frame({ n: 2 }), Delivery.ALWAYS);
    harness.hub.publish("other", frame({ n: 3 }), Delivery.ALWAYS);
    await early.next((message) => message.n === 2);
    await late.next((message) => message.n === 3);
    await leaving.next((message) => message.n === 1);
    harness.hub.publish("j", frame({ n: 4 }), Delivery.ALWAYS);
    await early.next((message) => message.n === 4);
    await late.next((message) => message.n === 4);
    expect(early.messages.map((message) => message.n)).toEqual([1, 2, 4]);
    expect(late.messages.map((message) => message.n)).toEqual([2, 3, 4]);
    expect(leaving.messages.map((message) => message.n)).toEqual([1]);
  });

  it("writes one tick's frames to a healthy client as a single write", async () => {
    const harness = await startHub({ maxBufferedBytes: 1 << 20, slowClientTimeoutMs: 10_000 });
    const { client, connection } = await connectClient(harness);
    const writes = countWrites(connection);
    for (let n = 1; n <= 50; n++) harness.hub.publish(`job-${n % 5}`, frame({ n }), n % 2 === 0 ? Delivery.CONFLATE : Delivery.ALWAYS);
    await client.next((message) => message.n === 50);
    expect(writes.count).toBe(1);
    expect(client.messages.map((message) => message.n)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it("within the batch window, holds frames that follow a flush and sends them together when the window ends", async () => {
    const harness = await startHub({ maxBufferedBytes: 1 << 20, slowClientTimeoutMs: 10_000 }, 60_000, 1_000);
    const { client, connection } = await connectClient(harness);
    const writes = countWrites(connection);
    // After a quiet spell the first frame leaves at the end of its tick…
    harness.hub.publish("j", frame({ n: 1 }), Delivery.ALWAYS);
    await client.next((message) => message.n === 1);
    expect(writes.count).toBe(1);
    // …and frames published in later ticks of the same window wait for its end, then leave in one write.
    for (let n = 2; n <= 5; n++) {
      harness.hub.publish("j", frame({ n }), Delivery.ALWAYS);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(client.messages.map((message) => message.n)).toEqual([1]);
    await client.next((message) => message.n === 5);
    expect(writes.count).toBe(2);
    expect(client.messages.map((message) => message.n)).toEqual([1, 2, 3, 4, 5]);
  });
});
