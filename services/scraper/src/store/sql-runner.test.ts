import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TEST_DATABASE_URL } from "../test-support/databases.js";
import { PostgresRunner, SqliteRunner, type SqlRunner, type TransactionSteps } from "./sql-runner.js";

const INSERT = "insert into t (k, v) values (?, ?)";
const SUM = "select count(*) as n, coalesce(sum(v), 0) as total from t where k like ?";

/** Inserts `rows` rows named `${prefix}<i>`, then answers how many rows with the prefix exist. */
function* insertAndCount(prefix: string, rows: number): TransactionSteps<number> {
  for (let i = 0; i < rows; i++) {
    const { changes } = yield { sql: INSERT, params: [`${prefix}${i}`, i] };
    if (changes !== 1) throw new Error(`inserting ${prefix}${i} changed ${changes} rows`);
  }
  const { rows: counted } = yield { sql: SUM, params: [`${prefix}%`] };
  return Number(counted[0]?.n);
}

/** Inserts a row, then fails, so nothing of the transaction may remain. */
function* insertThenFail(): TransactionSteps<void> {
  yield { sql: INSERT, params: ["doomed", 1] };
  throw new Error("the transaction's body failed");
}

/** Inserts a row, then a duplicate key, which the database refuses. */
function* insertThenDuplicate(): TransactionSteps<void> {
  yield { sql: INSERT, params: ["twice", 1] };
  yield { sql: INSERT, params: ["twice", 2] };
}

async function count(runner: SqlRunner, prefix: string): Promise<number> {
  return runner.transaction(function* () {
    const { rows } = yield { sql: SUM, params: [`${prefix}%`] };
    return Number(rows[0]?.n);
  });
}

describe("SqliteRunner", () => {
  let dir: string;
  const handles: SQLite.Database[] = [];
  const open = (): { db: SQLite.Database; runner: SqliteRunner } => {
    const db = new SQLite(join(dir, "runner.db"));
    db.pragma("journal_mode = WAL");
    db.exec("create table if not exists t (k text primary key, v integer not null)");
    handles.push(db);
    return { db, runner: new SqliteRunner(db) };
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "trawl-runner-"));
  });

  afterEach(async () => {
    for (const db of handles.splice(0)) if (db.open) db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("prepares each statement text once and reuses it in every later transaction", async () => {
    const { runner } = open();
    expect(await runner.transaction(() => insertAndCount("a", 3))).toBe(3);
    expect(runner.preparedCount).toBe(2);
    expect(await runner.transaction(() => insertAndCount("b", 5))).toBe(5);
    expect(await count(runner, "")).toBe(8);
    expect(runner.preparedCount).toBe(2);
  });

  it("rolls the whole transaction back when its body throws, and keeps working", async () => {
    const { runner } = open();
    await expect(runner.transaction(insertThenFail)).rejects.toThrow("the transaction's body failed");
    await expect(runner.transaction(insertThenDuplicate)).rejects.toThrow(/UNIQUE/);
    expect(await count(runner, "")).toBe(0);
    expect(await runner.transaction(() => insertAndCount("after", 2))).toBe(2);
  });

  it("never runs a cached statement on another database handle: a reopened database gets its own", async () => {
    const first = open();
    await first.runner.transaction(() => insertAndCount("one", 2));
    first.db.close();
    // The closed handle's statements fail loudly rather than writing anywhere.
    await expect(first.runner.transaction(() => insertAndCount("lost", 1))).rejects.toThrow(/not open/);

    const second = open();
    expect(second.runner.preparedCount).toBe(0);
    expect(await second.runner.transaction(() => insertAndCount("two", 3))).toBe(3);
    expect(await count(second.runner, "")).toBe(5);
  });
});

describe("PostgresRunner", () => {
  let pool: pg.Pool;
  const table = `trawl_runner_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  // Each test uses its own table name in the text, so the statements differ from other runs'.
  const sql = (text: string) => text.replace(" t ", ` ${table} `);

  beforeEach(async () => {
    pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
    await pool.query(`create table ${table} (k text primary key, v integer not null)`);
  });

  afterEach(async () => {
    await pool.query(`drop table if exists ${table}`);
    await pool.end();
  });

  function* insertRows(prefix: string, rows: number): TransactionSteps<number> {
    for (let i = 0; i < rows; i++) yield { sql: sql(INSERT), params: [`${prefix}${i}`, i] };
    const { rows: counted } = yield { sql: sql(SUM), params: [`${prefix}%`] };
    return Number(counted[0]?.n);
  }

  it("runs the same statements as named prepared statements on several pooled connections at once", async () => {
    const runner = new PostgresRunner(pool);
    // Concurrent transactions take different connections, each preparing the names for itself.
    const counts = await Promise.all(["a", "b", "c", "d", "e", "f"].map((prefix) => runner.transaction(() => insertRows(prefix, 4))));
    expect(counts).toEqual([4, 4, 4, 4, 4, 4]);
    expect(pool.totalCount).toBeGreaterThan(1);
    const again = await Promise.all(["g", "h"].map((prefix) => runner.transaction(() => insertRows(prefix, 2))));
    expect(again).toEqual([2, 2]);
    const { rows } = await pool.query(`select count(*)::int as n from ${table}`);
    expect(rows[0]).toEqual({ n: 28 });
  });

  it("rolls back when a statement or the body fails, and returns a usable connection to the pool", async () => {
    const runner = new PostgresRunner(pool);
    await expect(
      runner.transaction(function* () {
        yield { sql: sql(INSERT), params: ["twice", 1] };
        yield { sql: sql(INSERT), params: ["twice", 2] };
      }),
    ).rejects.toThrow(/duplicate key/);
    await expect(
      runner.transaction(function* () {
        yield { sql: sql(INSERT), params: ["doomed", 1] };
        throw new Error("the transaction's body failed");
      }),
    ).rejects.toThrow("the transaction's body failed");
    const { rows } = await pool.query(`select count(*)::int as n from ${table}`);
    expect(rows[0]).toEqual({ n: 0 });
    expect(await runner.transaction(() => insertRows("after", 3))).toBe(3);
  });
});
