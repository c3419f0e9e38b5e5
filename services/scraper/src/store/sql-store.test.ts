import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { ItemSchema, JobSchema, JobStatus, Platform } from "@trawl/proto";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrate } from "./migrations.js";
import type { Database } from "./schema.js";
import { SqliteRunner, type SqlRunner, type TransactionSteps } from "./sql-runner.js";
import { SqlStore } from "./sql-store.js";
import type { StoredJob } from "./store.js";

/** A real SqliteRunner that also records the text of every statement it runs. */
function recording(inner: SqlRunner): { runner: SqlRunner; statements: string[] } {
  const statements: string[] = [];
  const runner: SqlRunner = {
    backend: inner.backend,
    transaction<T>(steps: () => TransactionSteps<T>): Promise<T> {
      return inner.transaction(function* () {
        const body = steps();
        let next = body.next();
        while (next.done !== true) {
          statements.push(next.value.sql);
          next = body.next(yield next.value);
        }
        return next.value;
      });
    },
  };
  return { runner, statements };
}

const job: StoredJob = { ordinal: 0, job: create(JobSchema, { id: "j", platform: Platform.WEB, status: JobStatus.RUNNING }) };
const item = (id: string) => create(ItemSchema, { id, url: `https://a.test/${id}`, title: id });
const entry = (url: string) => ({ url, depth: 1, task: 0 });
const reads = (statements: readonly string[]) => statements.filter((sql) => sql.startsWith("select"));

describe("SqlStore's commits", () => {
  let dir: string;
  const stores: SqlStore[] = [];

  const open = async () => {
    const database = new SQLite(join(dir, "trawl.db"));
    database.pragma("journal_mode = WAL");
    database.pragma("foreign_keys = ON");
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    await migrate(db as Kysely<unknown>, "sqlite");
    const prepared = new SqliteRunner(database);
    const { runner, statements } = recording(prepared);
    const store = new SqlStore(db, runner, "s1");
    stores.push(store);
    return { store, statements, prepared };
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "trawl-sql-store-"));
  });

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a job's cursor once, then commits pages with writes only", async () => {
    const { store, statements } = await open();
    await store.commitPage({ jobId: "j", job, discovered: [entry("https://a.test/1"), entry("https://a.test/2")], events: [] });
    expect(reads(statements)).toHaveLength(2);

    statements.length = 0;
    await store.commitPage({ jobId: "j", job, doneUrl: "https://a.test/1", discovered: [entry("https://a.test/3")], item: item("1"), events: [] });
    await store.commitPage({ jobId: "j", job, doneUrl: "https://a.test/2", item: item("2"), events: [] });
    expect(reads(statements)).toEqual([]);
    // The job row: updated in place (it exists), never inserted again.
    expect(statements.filter((sql) => sql.startsWith("insert into jobs"))).toEqual([]);
    expect((await store.listItems("j", { pageSize: 10 })).items.map((i) => [i.ordinal, i.item.id])).toEqual([
      [1, "1"],
      [2, "2"],
    ]);
  });

  it("reads the cursor again in a store opened anew, and only once", async () => {
    const first = await open();
    await first.store.commitPage({ jobId: "j", job, discovered: [entry("https://a.test/1"), entry("https://a.test/2")], events: [] });
    await first.store.commitPage({ jobId: "j", job, doneUrl: "https://a.test/1", item: item("1"), events: [] });
    await first.store.close();

    const second = await open();
    await second.store.commitPage({ jobId: "j", job, doneUrl: "https://a.test/2", discovered: [entry("https://a.test/3")], item: item("2"), events: [] });
    await second.store.commitPage({ jobId: "j", job, doneUrl: "https://a.test/3", item: item("3"), events: [] });
    expect(reads(second.statements)).toHaveLength(2);
    expect((await second.store.listItems("j", { pageSize: 10 })).items.map((i) => i.ordinal)).toEqual([1, 2, 3]);
    expect((await second.store.loadFrontier("j")).done).toBe(3);
  });

  it("prepares a fixed set of statements however many pages it commits", async () => {
    const { store, prepared: runner } = await open();
    const page = async (i: number) =>
      store.commitPage({ jobId: "j", job, doneUrl: `https://a.test/${i}`, discovered: [entry(`https://a.test/${i + 1}`)], item: item(String(i)), events: [] });
    await store.commitPage({ jobId: "j", job, discovered: [entry("https://a.test/0")], events: [] });
    for (let i = 0; i < 3; i++) await page(i);
    const prepared = runner.preparedCount;
    for (let i = 3; i < 50; i++) await page(i);
    expect(runner.preparedCount).toBe(prepared);
    expect((await store.listItems("j", { pageSize: 1 })).total).toBe(50);
  });
});
