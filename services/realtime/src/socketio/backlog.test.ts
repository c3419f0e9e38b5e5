import { EventEmitter } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BacklogState, SocketBacklog, type OwedMessage } from "./backlog.js";

/** Stands in for an engine.io Socket: the test emits its 'packetCreate' and 'drain' events. */
class FakeConnection extends EventEmitter {
  queue(packets: number): void {
    for (let i = 0; i < packets; i++) this.emit("packetCreate");
  }
  drain(): void {
    this.emit("drain");
  }
}

const POLICY = { maxQueuedPackets: 4, slowClientTimeoutMs: 1_000 };

function setup() {
  const connection = new FakeConnection();
  const calls = { behind: 0, caughtUp: [] as OwedMessage[][], tooSlow: 0 };
  const backlog = new SocketBacklog(connection, POLICY, {
    onBehind: () => calls.behind++,
    onCaughtUp: (owed) => calls.caughtUp.push(owed),
    onTooSlow: () => calls.tooSlow++,
  });
  return { connection, backlog, calls };
}

describe("SocketBacklog", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("stays current while the buffer drains as packets are written", () => {
    const { connection, backlog, calls } = setup();
    for (let i = 0; i < 20; i++) {
      connection.queue(1);
      connection.drain();
    }
    expect(backlog.state).toBe(BacklogState.CURRENT);
    expect(calls.behind).toBe(0);
  });

  it("is behind at the bound, owes only the latest message per key, and hands them over when the buffer drains", () => {
    const { connection, backlog, calls } = setup();
    connection.queue(3);
    expect(backlog.isBehind).toBe(false);
    backlog.owe("job:a", { event: "job:update", payload: 0 });
    expect(backlog.owedKeys, "nothing is owed to a current client").toEqual([]);
    connection.queue(1);
    expect(backlog.isBehind).toBe(true);
    expect(calls.behind).toBe(1);
    backlog.owe("job:a", { event: "job:update", payload: 1 });
    backlog.owe("batch:b", { event: "batch:update", payload: 1 });
    backlog.owe("job:a", { event: "job:update", payload: 2 });
    connection.drain();
    expect(backlog.state).toBe(BacklogState.CURRENT);
    expect(calls.caughtUp).toEqual([
      [
        { event: "job:update", payload: 2 },
        { event: "batch:update", payload: 1 },
      ],
    ]);
    expect(backlog.queuedPackets).toBe(0);
  });

  it("forgets what is owed for a key whose terminal message went out", () => {
    const { connection, backlog, calls } = setup();
    connection.queue(4);
    backlog.owe("job:a", { event: "job:update", payload: 1 });
    backlog.forget("job:a");
    connection.drain();
    expect(calls.caughtUp).toEqual([[]]);
  });

  it("reports a client that stays behind for the slow-client timeout, not one that catches up in time", () => {
    const fast = setup();
    fast.connection.queue(4);
    vi.advanceTimersByTime(999);
    fast.connection.drain();
    vi.advanceTimersByTime(5_000);
    expect(fast.calls.tooSlow).toBe(0);

    const slow = setup();
    slow.connection.queue(10);
    vi.advanceTimersByTime(1_000);
    expect(slow.calls.tooSlow).toBe(1);
  });

  it("stops listening when disposed", () => {
    const { connection, backlog, calls } = setup();
    connection.queue(4);
    backlog.dispose();
    vi.advanceTimersByTime(5_000);
    connection.drain();
    expect(backlog.state).toBe(BacklogState.CLOSED);
    expect(calls.tooSlow).toBe(0);
    expect(calls.caughtUp).toEqual([]);
    expect(connection.listenerCount("packetCreate") + connection.listenerCount("drain")).toBe(0);
  });
});
