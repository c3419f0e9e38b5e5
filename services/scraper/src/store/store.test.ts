import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  ItemSchema,
  JobCountersSchema,
  JobEventSchema,
  JobKind,
  JobProgressSchema,
  JobSchema,
  JobStatus,
  Platform,
  type Item,
  type JobEvent,
} from "@trawl/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testBackends, type TestDatabase } from "../test-support/databases.js";
import { MIGRATION_TABLE } from "./migrations.js";
import { openStore, StoreOpenError } from "./open-store.js";
import type { CommitBatch, Store, StoredJob } from "./store.js";

const T0 = 1_700_000_000_000;

function storedJob(ordinal: number, id: string, status = JobStatus.RUNNING, platform = Platform.WEB, counters: MessageInitShape<typeof JobCountersSchema> = {}): StoredJob {
  return {
    ordinal,
    job: create(JobSchema, {
      id,
      kind: JobKind.CRAWL,
      platform,
      status,
      spec: { urls: [`https://example.com/${id}`], depth: 2 },
      counters: create(JobCountersSchema, counters),
      createdAt: timestampFromMs(T0 + ordinal),
    }),
  };
}

function event(jobId: string, offset: number, seq: number, pagesDone = seq): JobEvent {
  return create(JobEventSchema, {
    jobId,
    offset: BigInt(offset),
    seq: BigInt(seq),
    time: timestampFromMs(T0 + offset),
    kind: { case: "progress", value: create(JobProgressSchema, { counters: { pagesDone } }) },
  });
}

function item(id: string, init: MessageInitShape<typeof ItemSchema> = {}): Item {
  return create(ItemSchema, { id, url: `https://example.com/${id}`, title: `Title ${id}`, description: "", text: "", ...init });
}

const entry = (url: string, depth = 1, task = 0) => ({ url, depth, task });

describe.each(testBackends)("Store on $name", (backend) => {
  let database: TestDatabase | undefined;
  const opened: Store[] = [];

  const open = async (scraperId = "s1"): Promise<Store> => {
    if (database === undefined) throw new Error("no test database");
    const store = await openStore(database.config(scraperId));
    opened.push(store);
    return store;
  };

  beforeEach(async () => {
    database = await backend.create();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await database?.drop();
    database = undefined;
  });

  it("migrates once: opening again, even alongside an open store, finds the schema current", async () => {
    const first = await open();
    expect(first.backend).toBe(backend.name);
    await first.saveJob(storedJob(0, "a"));
    await first.close();
    const second = await open();
    const third = await open();
    expect((await second.getJob("a"))?.job.id).toBe("a");
    expect((await third.getJob("a"))?.job.id).toBe("a");
    const migrations = await database?.query(`select name from ${MIGRATION_TABLE}`);
    expect(migrations?.map((row) => row.name)).toEqual(["0001_initial", "0002_job_tenant"]);
  });

  it("saves, updates and reads jobs, keeping each job's ordinal", async () => {
    const store = await open();
    expect(await store.getJob("a")).toBeUndefined();
    expect(await store.nextJobOrdinal()).toBe(0);
    const a = storedJob(0, "a", JobStatus.RUNNING, Platform.REDDIT, { pagesDone: 3, bytes: 1234n });
    await store.saveJob(a);
    expect(await store.getJob("a")).toEqual(a);
    const done = storedJob(7, "a", JobStatus.COMPLETED, Platform.REDDIT, { pagesDone: 9 });
    await store.saveJob(done);
    expect(await store.getJob("a")).toEqual({ ordinal: 0, job: done.job });
    expect(await store.nextJobOrdinal()).toBe(1);
    // The same job twice in one batch: the last row wins.
    const failed = storedJob(0, "a", JobStatus.FAILED, Platform.REDDIT);
    await store.commit({ jobs: [a, failed] });
    expect(await store.getJob("a")).toEqual(failed);
  });

  it("lists jobs newest first, by status, a page at a time", async () => {
    const store = await open();
    const statuses = [JobStatus.COMPLETED, JobStatus.RUNNING, JobStatus.FAILED, JobStatus.PAUSED, JobStatus.COMPLETED, JobStatus.PENDING];
    for (const [i, status] of statuses.entries()) await store.saveJob(storedJob(i, `j${i}`, status));
    const ids = (page: { jobs: StoredJob[] }) => page.jobs.map((j) => j.job.id);

    const first = await store.listJobs({ limit: 4 });
    expect(ids(first)).toEqual(["j5", "j4", "j3", "j2"]);
    expect(first.nextBeforeOrdinal).toBe(2);
    const second = await store.listJobs({ limit: 4, beforeOrdinal: 2 });
    expect(ids(second)).toEqual(["j1", "j0"]);
    expect(second.nextBeforeOrdinal).toBeUndefined();

    const completed = await store.listJobs({ statuses: [JobStatus.COMPLETED], limit: 1 });
    expect(ids(completed)).toEqual(["j4"]);
    expect(ids(await store.listJobs({ statuses: [JobStatus.COMPLETED], limit: 1, beforeOrdinal: completed.nextBeforeOrdinal }))).toEqual(["j0"]);
    expect((await store.listJobs({ statuses: [JobStatus.COMPLETED], limit: 2 })).nextBeforeOrdinal).toBeUndefined();

    expect((await store.unfinishedJobs()).map((j) => j.job.id)).toEqual(["j1", "j3", "j5"]);
    expect(await store.nextJobOrdinal()).toBe(6);
  });

  it("lists jobs filtered by platform and creation time, combined with status and paging", async () => {
    const store = await open();
    const platforms = [Platform.WEB, Platform.REDDIT, Platform.TWITTER, Platform.REDDIT, Platform.UNSPECIFIED];
    for (const [i, platform] of platforms.entries()) {
      const job = storedJob(i, `p${i}`, i === 3 ? JobStatus.FAILED : JobStatus.COMPLETED, platform);
      job.job.createdAt = timestampFromMs(1_700_000_000_000 + i * 1000);
      await store.saveJob(job);
    }
    const ids = (page: { jobs: StoredJob[] }) => page.jobs.map((j) => j.job.id);
    expect(ids(await store.listJobs({ platforms: [Platform.REDDIT], limit: 10 }))).toEqual(["p3", "p1"]);
    expect(ids(await store.listJobs({ platforms: [Platform.WEB, Platform.UNSPECIFIED], limit: 10 }))).toEqual(["p4", "p0"]);
    expect(ids(await store.listJobs({ platforms: [Platform.REDDIT], statuses: [JobStatus.COMPLETED], limit: 10 }))).toEqual(["p1"]);
    // After is inclusive, before exclusive.
    expect(ids(await store.listJobs({ createdAfterMs: 1_700_000_001_000, createdBeforeMs: 1_700_000_003_000, limit: 10 }))).toEqual(["p2", "p1"]);
    const first = await store.listJobs({ createdAfterMs: 1_700_000_001_000, limit: 2 });
    expect(ids(first)).toEqual(["p4", "p3"]);
    const second = await store.listJobs({ createdAfterMs: 1_700_000_001_000, limit: 2, beforeOrdinal: first.nextBeforeOrdinal });
    expect(ids(second)).toEqual(["p2", "p1"]);
    expect(second.nextBeforeOrdinal).toBeUndefined();
  });

  it("commits a page at once: events, frontier, item and job row", async () => {
    const store = await open();
    const job = storedJob(0, "j");
    await store.commitEvents(job, [event("j", 1, 1)]);
    await store.commitPage({ jobId: "j", job, discovered: [entry("https://a.test/", 0)], events: [event("j", 2, 2)] });
    const after = storedJob(0, "j", JobStatus.RUNNING, Platform.WEB, { pagesDone: 1, items: 1 });
    after.job.lastSeq = 3n;
    await store.commitPage({
      jobId: "j",
      job: after,
      doneUrl: "https://a.test/",
      discovered: [entry("https://a.test/b"), entry("https://a.test/c")],
      item: item("a"),
      events: [event("j", 3, 3)],
    });

    expect((await store.readEvents(0n, 10)).map((e) => e.offset)).toEqual([1n, 2n, 3n]);
    expect((await store.listItems("j", { pageSize: 10 })).items).toEqual([{ ordinal: 1, item: item("a") }]);
    expect(await store.loadFrontier("j")).toEqual({ queued: [entry("https://a.test/b"), entry("https://a.test/c")], accepted: 3, done: 1 });
    expect(await store.getJob("j")).toEqual(after);
    expect(await store.lastSeq("j")).toBe(3n);
  });

  it.each<[string, CommitBatch]>([
    ["an event offset that is already stored", { events: [event("j", 1, 9)] }],
    ["a page for a job that has no row", { pages: [{ jobId: "ghost", discovered: [entry("https://ghost.test/")] }] }],
    ["a page whose URL the frontier never accepted", { pages: [{ jobId: "j", doneUrl: "https://a.test/never" }] }],
  ])("rolls the whole batch back when one statement fails: %s", async (_name, failing) => {
    const store = await open();
    const job = storedJob(0, "j");
    await store.commitPage({ jobId: "j", job, discovered: [entry("https://a.test/", 0)], events: [event("j", 1, 1)] });
    const before = { frontier: await store.loadFrontier("j"), job: await store.getJob("j") };

    const changed = storedJob(0, "j", JobStatus.COMPLETED, Platform.WEB, { pagesDone: 1 });
    await expect(
      store.commit({
        jobs: [changed],
        events: [event("j", 2, 2), ...(failing.events ?? [])],
        pages: [{ jobId: "j", doneUrl: "https://a.test/", discovered: [entry("https://a.test/new")], item: item("a") }, ...(failing.pages ?? [])],
      }),
    ).rejects.toThrow();

    expect(await store.headOffset()).toBe(1n);
    expect(await store.loadFrontier("j")).toEqual(before.frontier);
    expect(await store.getJob("j")).toEqual(before.job);
    expect((await store.listItems("j", { pageSize: 10 })).total).toBe(0);
    // The store still works after the failure.
    await store.commitEvents(job, [event("j", 2, 2)]);
    expect(await store.headOffset()).toBe(2n);
  });

  it("keeps the frontier a crashed crawl resumes from: queued in order, done never again, each item once", async () => {
    const store = await open();
    const job = storedJob(0, "j");
    const starts = [entry("https://a.test/", 0, 0), entry("https://b.test/", 0, 1)];
    await store.commitPage({ jobId: "j", job, discovered: starts, events: [] });
    await store.commitPage({
      jobId: "j",
      job,
      doneUrl: "https://a.test/",
      discovered: [entry("https://a.test/1"), entry("https://b.test/"), entry("https://a.test/2")],
      item: item("a"),
      events: [],
    });
    // A redirect: the final URL is remembered as seen, never queued.
    await store.commitPage({
      jobId: "j",
      job,
      doneUrl: "https://b.test/",
      seen: ["https://b.test/home"],
      discovered: [entry("https://b.test/home", 1, 1), entry("https://b.test/x", 1, 1)],
      item: item("b"),
      events: [],
    });

    const frontier = await store.loadFrontier("j");
    expect(frontier).toEqual({ queued: [entry("https://a.test/1"), entry("https://a.test/2"), entry("https://b.test/x", 1, 1)], accepted: 5, done: 2 });
    expect(await store.seenUrls("j")).toEqual(
      new Set(["https://a.test/", "https://b.test/", "https://a.test/1", "https://a.test/2", "https://b.test/home", "https://b.test/x"]),
    );

    // A page committed twice (fetched again by mistake) does not store its item twice.
    await store.commitPage({ jobId: "j", job, doneUrl: "https://a.test/", item: item("a"), events: [] });
    expect((await store.listItems("j", { pageSize: 10 })).items.map((i) => i.item.id)).toEqual(["a", "b"]);
    expect(await store.loadFrontier("j")).toEqual(frontier);

    // Ordinals continue across transactions and reopening.
    await store.close();
    const reopened = await open();
    await reopened.commitPage({ jobId: "j", job, doneUrl: "https://a.test/1", discovered: [entry("https://a.test/3", 2)], item: item("c"), events: [] });
    expect((await reopened.loadFrontier("j")).queued.map((e) => e.url)).toEqual(["https://a.test/2", "https://b.test/x", "https://a.test/3"]);
    expect((await reopened.listItems("j", { pageSize: 10 })).items.map((i) => [i.ordinal, i.item.id])).toEqual([
      [1, "a"],
      [2, "b"],
      [3, "c"],
    ]);
  });

  it("keeps the ordinals it holds in memory equal to the database's, through a failed commit and a reopen", async () => {
    const store = await open();
    const job = storedJob(0, "j");
    const storedFrontierOrdinal = async () => {
      const rows = await database?.query("select j.frontier_ordinal as kept, (select max(f.ordinal) from frontier f where f.job_id = j.id) as used from jobs j");
      return rows?.map((row) => [Number(row.kept), Number(row.used)]);
    };
    await store.commitPage({ jobId: "j", job, discovered: [entry("https://a.test/", 0)], events: [] });
    await store.commitPage({ jobId: "j", job, doneUrl: "https://a.test/", discovered: [entry("https://a.test/b"), entry("https://a.test/c")], item: item("a"), events: [] });
    expect(await storedFrontierOrdinal()).toEqual([[3, 3]]);

    // Rolled back: the ordinals this batch handed out are handed out again.
    await expect(
      store.commit({
        pages: [
          { jobId: "j", doneUrl: "https://a.test/b", discovered: [entry("https://a.test/lost")], item: item("lost") },
          { jobId: "j", doneUrl: "https://a.test/never" },
        ],
      }),
    ).rejects.toThrow(/never accepted/);
    await store.commitPage({ jobId: "j", job, doneUrl: "https://a.test/b", discovered: [entry("https://a.test/d")], item: item("b"), events: [] });
    expect(await storedFrontierOrdinal()).toEqual([[4, 4]]);
    expect((await store.listItems("j", { pageSize: 10 })).items.map((i) => [i.ordinal, i.item.id])).toEqual([
      [1, "a"],
      [2, "b"],
    ]);

    // A reopened store reads the cursor back and continues where this one stopped.
    await store.close();
    const reopened = await open();
    await reopened.commitPage({ jobId: "j", job, doneUrl: "https://a.test/c", discovered: [entry("https://a.test/e")], item: item("c"), events: [] });
    expect(await storedFrontierOrdinal()).toEqual([[5, 5]]);
    expect((await reopened.loadFrontier("j")).queued.map((e) => e.url)).toEqual(["https://a.test/d", "https://a.test/e"]);
    expect((await reopened.listItems("j", { pageSize: 10 })).items.map((i) => [i.ordinal, i.item.id])).toEqual([
      [1, "a"],
      [2, "b"],
      [3, "c"],
    ]);
  });

  it("updates a stored job's status, seq and payload in a batch, and inserts a new job whole", async () => {
    const store = await open();
    const fresh = storedJob(3, "n", JobStatus.PENDING, Platform.TWITTER, { pagesDone: 0 });
    await store.commit({ jobs: [fresh], events: [event("n", 1, 1)] });
    expect(await store.getJob("n")).toEqual(fresh);
    const later = storedJob(3, "n", JobStatus.COMPLETED, Platform.TWITTER, { pagesDone: 5 });
    later.job.lastSeq = 9n;
    await store.commitEvents(later, [event("n", 2, 2)]);
    expect(await store.getJob("n")).toEqual(later);
    expect(await store.lastSeq("n")).toBe(9n);
    expect((await store.listJobs({ limit: 10, statuses: [JobStatus.COMPLETED], platforms: [Platform.TWITTER] })).jobs).toEqual([later]);
    expect(await store.unfinishedJobs()).toEqual([]);
  });

  it("reads events after an offset, by job, up to a bound, with head, oldest and last seqs", async () => {
    const store = await open();
    expect(await store.headOffset()).toBe(0n);
    expect(await store.oldestOffset()).toBe(1n);
    expect(await store.lastSeq("a")).toBe(0n);
    const events = [event("a", 1, 1), event("b", 2, 1), event("a", 3, 2), event("b", 4, 2), event("a", 5, 3), event("b", 6, 3)];
    await store.commit({ events });

    expect(await store.readEvents(0n, 100)).toEqual(events);
    expect((await store.readEvents(2n, 3)).map((e) => e.offset)).toEqual([3n, 4n, 5n]);
    expect((await store.readEvents(1n, 100, { jobId: "a" })).map((e) => e.offset)).toEqual([3n, 5n]);
    expect((await store.readEvents(0n, 100, { jobId: "b", through: 4n })).map((e) => e.offset)).toEqual([2n, 4n]);
    expect(await store.readEvents(6n, 100)).toEqual([]);
    expect(await store.readEvents(0n, 0)).toEqual([]);

    expect(await store.headOffset()).toBe(6n);
    expect(await store.oldestOffset()).toBe(1n);
    expect(await store.lastSeq("a")).toBe(3n);
    expect(await store.lastSeqs()).toEqual(
      new Map([
        ["a", 3n],
        ["b", 3n],
      ]),
    );
  });

  it("trims old events but keeps those of unfinished jobs, and the seqs of every job", async () => {
    const store = await open();
    const done = storedJob(0, "done", JobStatus.COMPLETED);
    done.job.lastSeq = 4n;
    await store.saveJob(done);
    await store.saveJob(storedJob(1, "live", JobStatus.RUNNING));
    const events = Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? event("done", i + 1, i / 2 + 1) : event("live", i + 1, (i + 1) / 2)));
    await store.commit({ events: [...events, event("orphan", 9, 1)] });

    expect(await store.trimEvents(8n)).toBe(9n);
    expect(await store.oldestOffset()).toBe(9n);
    expect(await store.headOffset()).toBe(9n);
    expect((await store.readEvents(0n, 100)).map((e) => `${e.jobId}:${e.offset}`)).toEqual(["live:2", "live:4", "live:6", "live:8", "orphan:9"]);
    expect(await store.lastSeq("done")).toBe(4n);

    // Never past the head, never backwards.
    expect(await store.trimEvents(100n)).toBe(10n);
    expect(await store.headOffset()).toBe(9n);
    expect(await store.trimEvents(3n)).toBe(10n);
    await store.commit({ events: [event("live", 10, 5)] });
    expect(await store.headOffset()).toBe(10n);
    expect(await store.oldestOffset()).toBe(10n);
  });

  it("pages through items, searching title, description, text and url without regard to case", async () => {
    const store = await open();
    await store.saveJob(storedJob(0, "j"));
    const items = [
      item("p1", { title: "Summer in Provence", description: "Un ÉTÉ en France" }),
      item("p2", { title: "Winter", text: "100% snow_fall" }),
      item("p3", { title: "SUMMER sale", url: "https://shop.test/deals" }),
      item("p4", { title: "Nothing here", text: "1000 snowfall" }),
      item("p5", { title: "Autumn", url: "https://blog.test/summer-notes" }),
    ];
    await store.commit({ pages: items.map((i) => ({ jobId: "j", item: i })) });
    const ids = (page: { items: { item: Item }[] }) => page.items.map((i) => i.item.id);

    const first = await store.listItems("j", { pageSize: 2 });
    expect(ids(first)).toEqual(["p1", "p2"]);
    expect(first).toMatchObject({ total: 5, nextAfterOrdinal: 2 });
    const last = await store.listItems("j", { pageSize: 3, afterOrdinal: 2 });
    expect(ids(last)).toEqual(["p3", "p4", "p5"]);
    expect(last.nextAfterOrdinal).toBeUndefined();

    const cases: [string, string[]][] = [
      ["summer", ["p1", "p3", "p5"]],
      ["été", ["p1"]],
      ["100%", ["p2"]],
      ["0_s", []],
      ["snow_fall", ["p2"]],
      ["SHOP.TEST", ["p3"]],
      ["missing", []],
      ["", ["p1", "p2", "p3", "p4", "p5"]],
    ];
    for (const [query, expected] of cases) {
      const page = await store.listItems("j", { pageSize: 10, query });
      expect({ query, ids: ids(page), total: page.total }).toEqual({ query, ids: expected, total: expected.length });
    }
    const summer = await store.listItems("j", { pageSize: 1, query: "Summer", afterOrdinal: 1 });
    expect(ids(summer)).toEqual(["p3"]);
    expect(summer).toMatchObject({ total: 3, nextAfterOrdinal: 3 });
    expect(await store.listItems("other", { pageSize: 10 })).toEqual({ items: [], total: 0 });
  });

  it("iterates every item of a job in order, a batch at a time, for export", async () => {
    const store = await open();
    await store.saveJob(storedJob(0, "j"));
    await store.saveJob(storedJob(1, "k"));
    const items = Array.from({ length: 7 }, (_, i) => item(`i${i}`));
    await store.commit({ pages: [...items.map((i) => ({ jobId: "j", item: i })), { jobId: "k", item: item("other") }] });
    const read: Item[] = [];
    for await (const i of store.iterateItems("j", 3)) read.push(i);
    expect(read).toEqual(items);
    const none: Item[] = [];
    for await (const i of store.iterateItems("nobody", 3)) none.push(i);
    expect(none).toEqual([]);
  });

  it("keeps scrapers apart: two scraper ids in one database share nothing", async () => {
    const one = await open("one");
    const two = await open("two");
    for (const [store, n] of [
      [one, 1],
      [two, 2],
    ] as const) {
      const job = storedJob(0, "same-id", JobStatus.RUNNING, Platform.WEB, { pagesDone: n, items: n, successCount: n });
      await store.commitPage({ jobId: "same-id", job, discovered: [entry(`https://${n}.test/`, 0)], events: [event("same-id", 1, 1, n)] });
      await store.commitPage({ jobId: "same-id", job, doneUrl: `https://${n}.test/`, item: item(`item-${n}`), events: [event("same-id", 2, 2, n)] });
    }
    for (const [store, n] of [
      [one, 1],
      [two, 2],
    ] as const) {
      expect(store.scraperId).toBe(n === 1 ? "one" : "two");
      expect((await store.getJob("same-id"))?.job.counters?.pagesDone).toBe(n);
      expect(await store.readEvents(0n, 10)).toEqual([event("same-id", 1, 1, n), event("same-id", 2, 2, n)]);
      expect((await store.listItems("same-id", { pageSize: 10 })).items.map((i) => i.item.id)).toEqual([`item-${n}`]);
      expect(await store.seenUrls("same-id")).toEqual(new Set([`https://${n}.test/`]));
      expect((await store.platformStats())[0]?.successCount).toBe(BigInt(n));
      expect(await store.headOffset()).toBe(2n);
    }
    await one.trimEvents(2n);
    expect(await one.oldestOffset()).toBe(3n);
    expect(await two.oldestOffset()).toBe(1n);
  });

  it("keeps everything across close and reopen", async () => {
    const store = await open();
    const job = storedJob(0, "j", JobStatus.PAUSED, Platform.YOUTUBE, { pagesDone: 1, items: 1 });
    await store.commitPage({ jobId: "j", job, discovered: [entry("https://y.test/", 0), entry("https://y.test/2", 1)], events: [event("j", 1, 1)] });
    await store.commitPage({ jobId: "j", job, doneUrl: "https://y.test/", item: item("v"), events: [event("j", 2, 2)] });
    const snapshot = async (s: Store) => ({
      job: await s.getJob("j"),
      unfinished: await s.unfinishedJobs(),
      frontier: await s.loadFrontier("j"),
      seen: await s.seenUrls("j"),
      events: await s.readEvents(0n, 10),
      head: await s.headOffset(),
      seqs: await s.lastSeqs(),
      items: await s.listItems("j", { pageSize: 10 }),
      stats: await s.platformStats(),
    });
    const before = await snapshot(store);
    await store.close();
    await expect(store.getJob("j")).rejects.toThrow();
    const reopened = await open();
    expect(await snapshot(reopened)).toEqual(before);
    expect(before.unfinished).toHaveLength(1);
  });

  it("derives platform statistics from the jobs' counters", async () => {
    const store = await open();
    expect(await store.platformStats()).toEqual([]);
    await store.saveJob(
      storedJob(0, "w1", JobStatus.COMPLETED, Platform.WEB, {
        items: 3,
        successCount: 3,
        errorCount: 1,
        processingMsTotal: 400n,
        retries: 2,
        bytes: 1000n,
        errorsByKind: { http_4xx: 1 },
        skipped: { robots: 2 },
      }),
    );
    await store.saveJob(
      storedJob(1, "w2", JobStatus.RUNNING, Platform.WEB, {
        items: 1,
        successCount: 1,
        errorCount: 2,
        processingMsTotal: 100n,
        bytes: 24n,
        errorsByKind: { http_4xx: 1, timeout: 1 },
        skipped: { scope: 5 },
      }),
    );
    await store.saveJob(storedJob(2, "r", JobStatus.PENDING, Platform.REDDIT));
    // A directory scan fetches no pages: its counters belong to no platform.
    const scan = storedJob(3, "scan", JobStatus.COMPLETED, Platform.UNSPECIFIED, { successCount: 9, pagesDone: 9, files: 9 });
    scan.job.kind = JobKind.SCAN;
    await store.saveJob(scan);
    const stats = await store.platformStats();
    expect(stats.map((s) => s.platform)).toEqual([Platform.WEB, Platform.REDDIT]);
    expect(stats[0]).toMatchObject({
      totalItems: 4n,
      successCount: 4n,
      errorCount: 3n,
      pages: 7n,
      processingMsTotal: 500n,
      retries: 2n,
      bytes: 1024n,
      errorsByKind: { http_4xx: 2n, timeout: 1n },
      skipped: { robots: 2n, scope: 5n },
    });
    expect(stats[1]).toMatchObject({ totalItems: 0n, pages: 0n });
  });
});

describe("openStore", () => {
  it("creates DATA_DIR and a WAL-mode SQLite database in it", async () => {
    const root = await mkdtemp(join(tmpdir(), "trawl-open-"));
    try {
      const dataDir = join(root, "nested", "data");
      const store = await openStore({ dataDir, scraperId: "default" });
      expect(store.backend).toBe("sqlite");
      await store.close();
      const SQLite = (await import("better-sqlite3")).default;
      const db = new SQLite(join(dataDir, "trawl.db"), { readonly: true });
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      db.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("names the SQLite file when it cannot be opened", async () => {
    const root = await mkdtemp(join(tmpdir(), "trawl-open-"));
    try {
      const notADirectory = join(root, "file");
      await writeFile(notADirectory, "");
      const opening = openStore({ dataDir: notADirectory, scraperId: "default" });
      await expect(opening).rejects.toBeInstanceOf(StoreOpenError);
      await expect(opening).rejects.toThrow(`cannot open the SQLite database ${join(notADirectory, "trawl.db")}`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("names the PostgreSQL server, but not the password, when it cannot connect", async () => {
    const opening = openStore({ dataDir: tmpdir(), databaseUrl: "postgresql://trawl:secret@127.0.0.1:1/trawl", scraperId: "default" });
    await expect(opening).rejects.toBeInstanceOf(StoreOpenError);
    await expect(opening).rejects.toThrow(/^cannot open the PostgreSQL database 127\.0\.0\.1:1\/trawl: /);
    await expect(opening).rejects.not.toThrow(/secret/);
  });
});
