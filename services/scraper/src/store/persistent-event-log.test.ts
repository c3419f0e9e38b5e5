import { Writable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ItemScrapedSchema, ItemSchema, JobProgressSchema, JobSchema, JobStatus, Platform, type JobEvent, type WatchEventsResponse } from "@trawl/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EventWatcher } from "../events/event-watcher.js";
import { testBackends, type TestDatabase } from "../test-support/databases.js";
import { openStore } from "./open-store.js";
import { PersistentEventLog, type PersistentEventLogOptions } from "./persistent-event-log.js";
import type { Store, StoredJob } from "./store.js";

const progress = (pagesDone = 0) => ({ case: "progress" as const, value: create(JobProgressSchema, { counters: { pagesDone } }) });

function storedJob(ordinal: number, id: string, status = JobStatus.RUNNING, lastSeq = 0n): StoredJob {
  return { ordinal, job: create(JobSchema, { id, platform: Platform.WEB, status, lastSeq, createdAt: timestampFromMs(1_700_000_000_000) }) };
}

const offsets = (events: readonly JobEvent[]) => events.map((e) => `${e.jobId}@${e.offset}`);

/** A Writable that records what a watcher sends and can wait for the n-th message. */
function recorder(onWrite: (message: WatchEventsResponse) => void = () => undefined) {
  const received: WatchEventsResponse[] = [];
  let waiting: { count: number; resolve: () => void } | undefined;
  const stream = new Writable({
    objectMode: true,
    write(chunk: WatchEventsResponse, _encoding, callback) {
      received.push(chunk);
      onWrite(chunk);
      if (waiting !== undefined && received.length >= waiting.count) waiting.resolve();
      callback();
    },
  });
  const until = (count: number) =>
    received.length >= count ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { count, resolve }));
  return { stream, received, until };
}

describe.each(testBackends)("PersistentEventLog on $name", (backend) => {
  let database: TestDatabase | undefined;
  const opened: Store[] = [];

  const openBoth = async (options: Partial<PersistentEventLogOptions> = {}) => {
    if (database === undefined) throw new Error("no test database");
    const store = await openStore(database.config("log-test"));
    opened.push(store);
    const log = await PersistentEventLog.open(store, { maxEvents: 1000, ...options });
    return { store, log };
  };

  beforeEach(async () => {
    database = await backend.create();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await database?.drop();
    database = undefined;
  });

  it("assigns offsets and seqs at once but publishes events only once they are committed", async () => {
    const { store, log } = await openBoth();
    // What the database holds at each notification, read on a connection of its own
    // (for SQLite synchronously, inside the listener).
    const storedAtNotification: Promise<Record<string, unknown>[]>[] = [];
    const notifiedHeads: bigint[] = [];
    log.onAppend(() => {
      notifiedHeads.push(log.headOffset());
      storedAtNotification.push(database?.query("select max(event_offset) as head from events") ?? Promise.resolve([]));
    });

    const appended = ["a", "b", "a"].map((job) => log.append(job, progress()));
    expect(appended.map((e) => [e.jobId, e.offset, e.seq])).toEqual([
      ["a", 1n, 1n],
      ["b", 2n, 1n],
      ["a", 3n, 2n],
    ]);
    expect(log.lastSeq("a")).toBe(2n);
    expect(log.headOffset()).toBe(0n);
    expect(log.uncommitted).toBe(3);
    expect(await log.read(0n, 10)).toEqual({ events: [], through: 0n });
    expect(notifiedHeads).toEqual([]);

    await log.flush();
    expect(log.headOffset()).toBe(3n);
    expect(log.uncommitted).toBe(0);
    expect(notifiedHeads.at(-1)).toBe(3n);
    // Whenever a listener ran, the database already held everything published.
    const stored = await Promise.all(storedAtNotification);
    for (const [i, head] of notifiedHeads.entries()) expect(BigInt(String(stored[i]?.[0]?.head ?? 0))).toBeGreaterThanOrEqual(head);
    expect(await log.read(0n, 10)).toEqual({ events: appended, through: 3n });
    expect(await store.readEvents(0n, 10)).toEqual(appended);
  });

  it("commits staged jobs and pages in the same transaction as the events", async () => {
    const { store, log } = await openBoth();
    const job = storedJob(0, "j");
    log.stageJob(job.job.id, () => job);
    log.append("j", progress());
    log.stagePage({ jobId: "j", discovered: [{ url: "https://a.test/", depth: 0, task: 0 }] });
    const item = create(ItemSchema, { id: "a", url: "https://a.test/", title: "A" });
    const scraped = log.append("j", { case: "itemScraped", value: create(ItemScrapedSchema, { item, url: "https://a.test/" }) });
    log.stagePage({ jobId: "j", doneUrl: "https://a.test/", discovered: [{ url: "https://a.test/next", depth: 1, task: 0 }], item });
    const updated = storedJob(0, "j", JobStatus.RUNNING, scraped.seq);
    log.stageJob(updated.job.id, () => updated);
    await log.flush();

    expect(await store.getJob("j")).toEqual(updated);
    expect((await store.listItems("j", { pageSize: 10 })).items.map((i) => i.item)).toEqual([item]);
    expect(await store.loadFrontier("j")).toEqual({ queued: [{ url: "https://a.test/next", depth: 1, task: 0 }], accepted: 2, done: 1 });
    expect(await store.headOffset()).toBe(2n);
  });

  it("publishes nothing from a batch that fails, reports the failure once and commits nothing after it", async () => {
    const { store, log } = await openBoth();
    const errors: unknown[] = [];
    const failing = await PersistentEventLog.open(store, { maxEvents: 1000, onError: (err) => errors.push(err) });
    let notified = 0;
    failing.onAppend(() => notified++);
    failing.append("ghost", progress());
    // The job was never saved: its page fails the whole batch.
    failing.stagePage({ jobId: "ghost", discovered: [{ url: "https://ghost.test/", depth: 0, task: 0 }] });
    await expect(failing.flush()).rejects.toThrow();
    expect(errors).toHaveLength(1);
    expect(failing.headOffset()).toBe(0n);
    expect(notified).toBe(0);
    expect(await store.headOffset()).toBe(0n);

    failing.append("other", progress());
    await expect(failing.flush()).rejects.toThrow();
    expect(await store.headOffset()).toBe(0n);
    expect(errors).toHaveLength(1);
    // The store itself is unharmed.
    log.append("other", progress());
    await log.flush();
    expect(await store.headOffset()).toBe(1n);
  });

  it("cuts a batch at most once per commit interval, so what is appended meanwhile shares one transaction", async () => {
    const { log } = await openBoth({ commitIntervalMs: 5_000 });
    const heads: bigint[] = [];
    log.onAppend(() => heads.push(log.headOffset()));
    const published = () =>
      new Promise<void>((resolve) => {
        const off = log.onAppend(() => {
          off();
          resolve();
        });
      });

    // Nothing committed within the interval yet: the first batch goes on the next turn.
    const first = published();
    log.append("a", progress(1));
    await first;
    // Appended in separate turns inside the interval: held back, not committed one by one.
    log.append("a", progress(2));
    await new Promise((resolve) => setTimeout(resolve, 20));
    log.append("b", progress(3));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log.headOffset()).toBe(1n);
    expect(log.uncommitted).toBe(2);
    // A flush does not wait for the interval; both events commit together.
    await log.flush();
    expect(heads).toEqual([1n, 3n]);
  });

  it.each([0, 10])("commits on its own, without a flush, with a commit interval of %i ms", async (commitIntervalMs) => {
    const { store, log } = await openBoth({ commitIntervalMs });
    const heads: bigint[] = [];
    const published = () =>
      new Promise<void>((resolve) => {
        const off = log.onAppend(() => {
          heads.push(log.headOffset());
          off();
          resolve();
        });
      });
    for (let i = 1; i <= 3; i++) {
      const next = published();
      log.append("a", progress(i));
      await next;
    }
    expect(heads).toEqual([1n, 2n, 3n]);
    expect(await store.headOffset()).toBe(3n);
  });

  it("flush resolves at once when nothing is staged and waits for a batch in flight", async () => {
    const { log } = await openBoth();
    await log.flush();
    log.append("a", progress());
    const first = log.flush();
    log.append("a", progress());
    const second = log.flush();
    await first;
    expect(log.headOffset()).toBeGreaterThanOrEqual(1n);
    await second;
    expect(log.headOffset()).toBe(2n);
  });

  it("resumes offsets and seqs after a restart, and replays the stored log", async () => {
    const first = await openBoth();
    const before = ["a", "b", "a", "a", "b"].map((job) => first.log.append(job, progress()));
    await first.log.flush();
    await first.store.close();

    const { log } = await openBoth();
    expect(log.headOffset()).toBe(5n);
    expect(log.oldestOffset()).toBe(1n);
    expect(log.lastSeq("a")).toBe(3n);
    expect(log.lastSeq("b")).toBe(2n);
    const next = log.append("a", progress());
    expect([next.offset, next.seq]).toEqual([6n, 4n]);
    await log.flush();
    expect(await log.read(0n, 100)).toEqual({ events: [...before, next], through: 6n });
    expect(await log.read(0n, 2, "b")).toEqual({ events: [before[1], before[4]], through: 5n });
  });

  it("reads recent events from memory and older ones from the database alike", async () => {
    const { log } = await openBoth({ ringSize: 3 });
    const events = ["a", "b", "a", "b", "a", "b", "a"].map((job) => log.append(job, progress()));
    await log.flush();
    const reads: [bigint, number, string | undefined, string[], bigint][] = [
      [0n, 100, undefined, offsets(events), 7n], // database
      [0n, 2, undefined, ["a@1", "b@2"], 2n],
      [1n, 2, "b", ["b@2", "b@4"], 4n],
      [3n, 100, "a", ["a@5", "a@7"], 7n], // database
      [4n, 100, undefined, ["a@5", "b@6", "a@7"], 7n], // memory
      [4n, 1, "b", ["b@6"], 6n],
      [5n, 100, "a", ["a@7"], 7n],
      [7n, 100, undefined, [], 7n],
      [9n, 100, undefined, [], 9n],
    ];
    for (const [after, limit, jobId, expected, through] of reads) {
      const batch = await log.read(after, limit, jobId);
      expect({ after, jobId, events: offsets(batch.events), through: batch.through }).toEqual({ after, jobId, events: expected, through });
    }
  });

  it("trims the stored log to maxEvents, keeping unfinished jobs' events in the database", async () => {
    const { store, log } = await openBoth({ maxEvents: 4 });
    log.stageJob("done", () => storedJob(0, "done", JobStatus.COMPLETED));
    log.stageJob("live", () => storedJob(1, "live", JobStatus.RUNNING));
    for (let i = 0; i < 6; i++) log.append(i % 2 === 0 ? "done" : "live", progress(i));
    await log.flush();

    expect(log.headOffset()).toBe(6n);
    expect(log.oldestOffset()).toBe(3n);
    expect(await store.oldestOffset()).toBe(3n);
    expect(offsets((await log.read(0n, 100)).events)).toEqual(["done@3", "live@4", "done@5", "live@6"]);
    expect(offsets(await store.readEvents(0n, 100, { jobId: "live" }))).toEqual(["live@2", "live@4", "live@6"]);
    expect(offsets(await store.readEvents(0n, 100, { jobId: "done" }))).toEqual(["done@3", "done@5"]);
  });

  it("feeds an EventWatcher: replay from the database, then live events, never one the database lacks", async () => {
    const { store, log } = await openBoth({ ringSize: 2 });
    for (const job of ["a", "b", "a"]) log.append(job, progress());
    await log.flush();

    const storedHeads: Promise<[bigint, bigint]>[] = [];
    const { stream, received, until } = recorder((message) => {
      if (message.message.case === "event") {
        const { offset } = message.message.value;
        storedHeads.push(store.headOffset().then((head) => [offset, head]));
      }
    });
    const watcher = new EventWatcher(stream, { log, snapshot: () => ({ jobs: [], platforms: [] }), afterOffset: 0n, batchSize: 2 });
    const running = watcher.run();
    await until(3);
    for (const job of ["b", "a", "b"]) log.append(job, progress());
    await until(6);
    watcher.finish();
    await running;

    expect(received.map((m) => (m.message.case === "event" ? `${m.message.value.jobId}@${m.message.value.offset}` : m.message.case))).toEqual([
      "a@1",
      "b@2",
      "a@3",
      "b@4",
      "a@5",
      "b@6",
    ]);
    for (const [offset, head] of await Promise.all(storedHeads)) expect(head).toBeGreaterThanOrEqual(offset);
  });
});
