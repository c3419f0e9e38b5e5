/**
 * `events.watch` on a WebSocket goes direct after its first live event
 * (event-bus.ts): these tests speak tRPC's WebSocket protocol with a raw
 * `ws` client, so they see the exact bytes, and check that the direct
 * messages are the JSON the adapter itself sends, that filters and ids are
 * kept per subscription, and that a subscriber that stops reading is
 * bounded and then caught up from the scraper's log with nothing lost.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { startGatewayWithDouble } from "../test-support/gateway-with-double.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const boot = (env: Record<string, string> = {}) => startGatewayWithDouble(cleanups, { env });

/** A raw tRPC WebSocket client: every text message as received, and a way to subscribe. */
async function rawClient(port: number): Promise<{ socket: WebSocket; raw: string[]; subscribe(id: number | string, input: object, jsonrpc?: string): void }> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/trpc`);
  cleanups.push(() => socket.terminate());
  const raw: string[] = [];
  socket.on("message", (data) => raw.push(String(data)));
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  return {
    socket,
    raw,
    subscribe(id, input, jsonrpc) {
      socket.send(JSON.stringify({ id, ...(jsonrpc === undefined ? {} : { jsonrpc }), method: "subscription", params: { path: "events.watch", input } }));
    },
  };
}

interface DataMessage {
  id: number | string;
  jsonrpc?: string;
  result: { type: "data"; id: string; data: { id: string; data: { jobId: string; offset: string } } };
}

function dataOf(raw: readonly string[], id: number | string): DataMessage[] {
  return raw.map((text) => JSON.parse(text) as DataMessage).filter((message) => message.id === id && message.result?.type === "data");
}

const progress = { case: "progress", value: { counters: {} } } as const;

describe("events.watch direct fan-out", () => {
  it("sends, after the first live event, the very JSON the adapter sends, per subscription id and filter", async () => {
    const { gateway, double, port } = await boot();
    const client = await rawClient(port);
    client.subscribe("w-1", {}, "2.0");
    client.subscribe(9, { jobId: "job-a" });
    const other = await rawClient(port);
    other.subscribe(1, {});
    await vi.waitFor(() => expect(client.raw.filter((text) => text.includes('"started"'))).toHaveLength(2));
    await vi.waitFor(() => expect(other.raw.some((text) => text.includes('"started"'))).toBe(true));

    const offsets: Record<string, bigint[]> = { "job-a": [], "job-b": [] };
    for (let round = 0; round < 40; round++) {
      for (const job of ["job-a", "job-b"] as const) offsets[job]?.push(double.append(job, progress).offset);
      if (round % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 15));
    }
    const all = [...(offsets["job-a"] ?? []), ...(offsets["job-b"] ?? [])].sort((a, b) => Number(a - b));
    await vi.waitFor(() => {
      expect(dataOf(client.raw, "w-1")).toHaveLength(80);
      expect(dataOf(client.raw, 9)).toHaveLength(40);
      expect(dataOf(other.raw, 1)).toHaveLength(80);
    });
    // Every subscriber went direct after its handoff.
    expect(gateway.bus.directCount).toBe(3);
    // And /metrics counts every message, direct or through the adapter.
    const exposition = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const sent = exposition.split("\n").find((line) => line.startsWith("trawl_gateway_messages_sent_total{") && line.includes('edge="trpc"'));
    expect(sent?.split(" ").at(-1)).toBe("200");

    const everything = dataOf(client.raw, "w-1");
    expect(everything.map((message) => BigInt(message.result.data.data.offset))).toEqual(all);
    expect(dataOf(client.raw, 9).map((message) => BigInt(message.result.data.data.offset))).toEqual(offsets["job-a"]);
    expect(dataOf(other.raw, 1).map((message) => BigInt(message.result.data.data.offset))).toEqual(all);
    for (const message of [...everything, ...dataOf(client.raw, 9), ...dataOf(other.raw, 1)]) {
      expect(message.result.id).toBe(`${double.address}|${message.result.data.data.offset}`);
      expect(message.result.data.id).toBe(message.result.id);
    }
    expect(everything.every((message) => message.jsonrpc === "2.0")).toBe(true);
    expect(dataOf(client.raw, 9).every((message) => !("jsonrpc" in message))).toBe(true);
    // Byte for byte what JSON.stringify of the adapter's response gives (same keys, same order, no spacing).
    for (const text of [...client.raw, ...other.raw]) expect(JSON.stringify(JSON.parse(text))).toBe(text);
    const handoff = client.raw.find((text) => text.includes('"w-1"') && text.includes('"data"')) as string;
    const direct = client.raw.findLast((text) => text.includes('"w-1"')) as string;
    expect(Object.keys(JSON.parse(direct) as object)).toEqual(Object.keys(JSON.parse(handoff) as object));
    expect(Object.keys((JSON.parse(direct) as DataMessage).result)).toEqual(Object.keys((JSON.parse(handoff) as DataMessage).result));
  });

  it("stops a subscription with subscription.stop: nothing more is written for it", async () => {
    const { gateway, double, port } = await boot();
    const client = await rawClient(port);
    client.subscribe(3, {});
    await vi.waitFor(() => expect(client.raw.some((text) => text.includes('"started"'))).toBe(true));
    double.append("job-a", progress);
    double.append("job-a", progress);
    await vi.waitFor(() => expect(dataOf(client.raw, 3)).toHaveLength(2));
    expect(gateway.bus.directCount).toBe(1);
    client.socket.send(JSON.stringify({ id: 3, method: "subscription.stop" }));
    await vi.waitFor(() => expect(gateway.bus.size).toBe(0));
    double.append("job-a", progress);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(dataOf(client.raw, 3)).toHaveLength(2);
  });

  it("bounds a subscriber that stops reading, then catches it up from the scraper's log: every event once, in order", async () => {
    const { gateway, double, port } = await boot({ WS_MAX_BUFFERED_BYTES: "65536" });
    const slow = await rawClient(port);
    const healthy = await rawClient(port);
    slow.subscribe(1, {});
    healthy.subscribe(1, {});
    await vi.waitFor(() => expect([slow, healthy].every((client) => client.raw.some((text) => text.includes('"started"')))).toBe(true));
    double.append("job-a", progress);
    await vi.waitFor(() => expect(gateway.bus.directCount).toBe(2));

    // The slow client stops reading; the events are large enough to fill the kernel's buffers many times over.
    (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const failure = (index: number) => ({ case: "pageFailed", value: { url: `https://job-a.test/${index}`, message: "x".repeat(4_000) } }) as const;
    const offsets = [1n];
    for (let index = 0; index < 3_000; index++) {
      offsets.push(double.append("job-a", failure(index)).offset);
      if (index % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await vi.waitFor(() => expect(dataOf(healthy.raw, 1)).toHaveLength(offsets.length), { timeout: 15_000 });
    // It fell behind and left the bus; what the gateway holds for it stays near the bound, not 12 MB.
    await vi.waitFor(() => expect(gateway.bus.behindCount).toBeGreaterThan(0));
    expect(gateway.bus.directCount).toBe(1);

    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    await vi.waitFor(() => expect(dataOf(slow.raw, 1)).toHaveLength(offsets.length), { timeout: 20_000 });
    expect(dataOf(slow.raw, 1).map((message) => BigInt(message.result.data.data.offset))).toEqual(offsets);
    // Caught up, it went direct again.
    await vi.waitFor(() => expect(gateway.bus.directCount).toBe(2));
    const live = double.append("job-a", progress).offset;
    await vi.waitFor(() => expect(dataOf(slow.raw, 1).at(-1)?.result.data.data.offset).toBe(String(live)));
    expect(double.watchRequests.some((request) => request.afterOffset > 0n)).toBe(true);
  }, 45_000);
});
