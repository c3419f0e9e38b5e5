/**
 * Test support: a fresh, empty database for each storage backend, so the
 * same suite runs against real SQLite and real PostgreSQL. SQLite lives in a
 * temporary directory; PostgreSQL in a new schema of the test database
 * (TRAWL_TEST_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/test),
 * named at random so parallel and repeated runs never meet. An unreachable
 * PostgreSQL fails the test with a message saying so; it is never skipped.
 * Excluded from the build.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import pg from "pg";
import type { StoreConfig } from "../config.js";

export const TEST_DATABASE_URL = process.env.TRAWL_TEST_DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/test";

export interface TestDatabase {
  /** Store configuration pointing at this database, for one scraper id. */
  config(scraperId?: string): StoreConfig;
  /** Runs SQL directly against the database (inspection only). */
  query(text: string): Promise<Record<string, unknown>[]>;
  /** Deletes the database. */
  drop(): Promise<void>;
}

export interface TestBackend {
  name: "sqlite" | "postgres";
  create(): Promise<TestDatabase>;
}

const sqlite: TestBackend = {
  name: "sqlite",
  async create() {
    const dataDir = await mkdtemp(join(tmpdir(), "trawl-store-"));
    return {
      config: (scraperId = "default") => ({ dataDir, scraperId }),
      query: (text) => {
        const db = new SQLite(join(dataDir, "trawl.db"), { readonly: true });
        try {
          return Promise.resolve(db.prepare(text).all() as Record<string, unknown>[]);
        } finally {
          db.close();
        }
      },
      drop: () => rm(dataDir, { recursive: true, force: true }),
    };
  },
};

/** Runs `work` on a connection to the test database, explaining clearly when there is none. */
async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    const reason = err instanceof AggregateError ? String(err.errors[0]) : String(err);
    throw new Error(
      `PostgreSQL is not reachable at ${new URL(url).host} (${reason}). The storage suite runs against a real PostgreSQL: ` +
        "start one on 127.0.0.1:5432 with a database named test, or set TRAWL_TEST_DATABASE_URL.",
      { cause: err },
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const postgres: TestBackend = {
  name: "postgres",
  async create() {
    const schema = `trawl_test_${randomBytes(6).toString("hex")}`;
    await withClient(TEST_DATABASE_URL, (client) => client.query(`create schema "${schema}"`));
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set("options", `-c search_path=${schema}`);
    const databaseUrl = url.toString();
    return {
      config: (scraperId = "default") => ({ dataDir: join(tmpdir(), "trawl-unused"), databaseUrl, scraperId }),
      query: (text) => withClient(databaseUrl, async (client) => (await client.query(text)).rows as Record<string, unknown>[]),
      drop: async () => {
        await withClient(TEST_DATABASE_URL, (client) => client.query(`drop schema "${schema}" cascade`));
      },
    };
  },
};

/** Both backends, for `describe.each`. */
export const testBackends: readonly TestBackend[] = [sqlite, postgres];
