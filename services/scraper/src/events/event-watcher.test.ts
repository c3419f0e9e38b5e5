import { once } from "node:events";
import { Writable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { JobProgressSchema, JobSchema, type WatchEventsResponse } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { EventWatcher, type StateSnapshot } from "./event-watcher.js";
import { MemoryEventLog } from "./memory-event-log.js";

const progress = () => ({ case: "progress" as const, value: create(JobProgressSchema, {}) });
const state: StateSnapshot = { jobs: [create(JobSchema, { id: "a" })], platforms: [] };

/**
 * A real object-mode Writable that records what it is given. With `held`, it
 * does not complete writes until `release()`, so its buffer fills and
 * write() returns false — a client that stopped reading.
 */
function recorder(highWaterMark = 4, held = false) {
  const received: WatchEventsResponse[] = [];
  let pending: (() => void)[] = [];
  let holding = held;
  const stream = new Writable({
    objectMode: true,
    highWaterMark,
    write(chunk: WatchEventsResponse, _enc, callback) {
      received.push(chunk);
      if (holding) pending.push(() => callback());
      else callback();
    },
  });
  const release = () => {
    holding = false;
    const calls = pending;
    pending = [];
    for (const call of calls) call();
  };
  return { stream, received, release };
}

const describeMessages = (messages: WatchEventsResponse[]) =>
  messages.map((m) => (m.message.case === "event" ? `${m.message.value.jobId}@${m.message.value.offset}` : `snapshot@${m.message.value?.offset}`));

/** Lets the watcher's promise chain run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("EventWatcher", () => {
  it("replays the retained log after the offset, then follows live events", async () => {
    const log = new MemoryEventLog(100);
    for (const job of ["a", "b", "a"]) log.append(job, progress());
    const { stream, received } = recorder();
    const watcher = new EventWatcher(stream, { log, snapshot: () => state, afterOffset: 1n });
    const running = watcher.run();
    await settle();
    log.append("b", progress());
    log.append("a", progress());
    await settle();
    watcher.close();
    await running;
    expect(describeMessages(received)).toEqual(["b@2", "a@3", "b@4", "a@5"]);
  });

  it("delivers only the requested job's events", async () => {
    const log = new MemoryEventLog(100);
    for (const job of ["a", "b", "a", "b"]) log.append(job, progress());
    const { stream, received } = recorder();
    const watcher = new EventWatcher(stream, { log, snapshot: () => state, afterOffset: 0n, jobId: "b", batchSize: 1 });
    const running = watcher.run();
    await settle();
    log.append("a", progress());
    log.append("b", progress());
    await settle();
    expect(watcher.offset).toBe(6n);
    watcher.close();
    await running;
    expect(describeMessages(received)).toEqual(["b@2", "b@4", "b@6"]);
  });

  it("starts with a snapshot of the current state when the offset was trimmed", async () => {
    const log = new MemoryEventLog(3);
    for (let i = 0; i < 5; i++) log.append("a", progress());
    const { stream, received } = recorder();
    const watcher = new EventWatcher(stream, { log, snapshot: () => state, afterOffset: 1n });
    const running = watcher.run();
    await settle();
    log.append("a", progress());
    await settle();
    watcher.close();
    await running;
    expect(describeMessages(received)).toEqual(["snapshot@5", "a@6"]);
    expect(received[0]?.message.case === "snapshot" && received[0].message.value.jobs.map((j) => j.id)).toEqual(["a"]);
  });

  it("does not snapshot when the next wanted offset is the oldest retained", async () => {
    const log = new MemoryEventLog(3);
    for (let i = 0; i < 5; i++) log.append("a", progress());
    const { stream, received } = recorder();
    const watcher = new EventWatcher(stream, { log, snapshot: () => state, afterOffset: 2n });
    const running = watcher.run();
    await settle();
    watcher.close();
    await running;
    expect(describeMessages(received)).toEqual(["a@3", "a@4", "a@5"]);
  });

  it("snapshots when the offset is ahead of the log (a log this process never had)", async () => {
    const log = new MemoryEventLog(10);
    log.append("a", progress());
    const { stream, received } = recorder();
    const watcher = new EventWatcher(stream, { log, snapshot: () => state, afterOffset: 500n });
    const running = watcher.run();
    await settle();
    log.append("a", progress());
    await settle();
    watcher.close();
    await running;
    expect(describeMessages(received)).toEqual(["snapshot@1", "a@2"]);
  });

  it("waits for 'drain' when the stream is full instead of queueing", async () => {
    const log = new MemoryEventLog(10_000);
    const { stream, received, release } = recorder(4, true);
    const watcher = new EventWatcher(stream, { log, snapshot: () => state, afterOffset: 0n });
    const running = watcher.run();
    for (let i = 0; i < 1_000; i++) log.append("a", progress());
    await settle();
    await settle();
    // The stream holds at most its high-water mark; the rest stays in the log.
    expect(received.length).toBe(1);
    expect(stream.writableLength).toBeLessThanOrEqual(4);
    expect(watcher.offset).toBeLessThanOrEqual(4n);
    release();
    while (received.length < 1_000) await settle();
    watcher.close();
    await running;
    expect(describeMessages(received)).toEqual(Array.from({ length: 1_000 }, (_, i) => `a@${i + 1}`));
  });

  it("snapshots again when a stalled watcher's position is trimmed meanwhile", async () => {
    const log = new MemoryEventLog(5);
    const { stream, received, release } = recorder(1, true);
    const watcher = new EventWatcher(stream, { log, snapshot: () => state, afterOffset: 0n, batchSize: 2 });
    const running = watcher.run();
    log.append("a", progress());
    log.append("a", progress());
    await settle();
    for (let i = 0; i < 20; i++) log.append("a", progress());
    release();
    while (received.length < 3) await settle();
    watcher.close();
    await running;
    expect(describeMessages(received)).toEqual(["a@1", "a@2", "snapshot@22"]);
  });

  it("on finish, delivers what the log holds and ends the stream", async () => {
    const log = new MemoryEventLog(100);
    for (let i = 0; i < 3; i++) log.append("a", progress());
    const { stream, received } = recorder();
    const watcher = new EventWatcher(stream, { log, snapshot: () => state, afterOffset: 0n });
    const finished = once(stream, "finish");
    const running = watcher.run();
    watcher.finish();
    await running;
    await finished;
    expect(describeMessages(received)).toEqual(["a@1", "a@2", "a@3"]);
  });
});
