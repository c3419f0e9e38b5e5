/**
 * Opens the scraper's store: PostgreSQL when DATABASE_URL is set, otherwise
 * SQLite in `<DATA_DIR>/trawl.db` (directory created when missing). The
 * schema is migrated before the store is returned.
 *
 * SQLite runs in WAL mode with synchronous=NORMAL: a committed transaction
 * survives the process being killed (SIGKILL included); only a power loss
 * or OS crash can take back the last few. Foreign keys are enforced.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import { Pool } from "pg";
import type { Logger } from "pino";
import type { StoreConfig } from "../config.js";
import { migrate, type Backend } from "./migrations.js";
import type { Database } from "./schema.js";
import { PostgresRunner, SqliteRunner, type SqlRunner } from "./sql-runner.js";
import { SqlStore } from "./sql-store.js";
import type { Store } from "./store.js";

/** The SQLite file inside DATA_DIR. */
export const SQLITE_FILE = "trawl.db";

/** The store could not be opened; the message names the database, never its password. */
export class StoreOpenError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = "StoreOpenError";
  }
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describe(err.errors[0]);
  if (err instanceof Error) return err.message || ("code" in err && typeof err.code === "string" ? err.code : err.name);
  return String(err);
}

/** host:port/database of a PostgreSQL URL: enough to recognise it, without credentials. */
function postgresTarget(url: string): string {
  const parsed = new URL(url);
  return `${parsed.host || "localhost"}${parsed.pathname}`;
}

interface Opened {
  db: Kysely<Database>;
  /** The same database, for the store's prepared hot-path statements. */
  runner: SqlRunner;
  backend: Backend;
  /** How the database is named in errors. */
  target: string;
}

function openSqlite(dataDir: string): Opened {
  const path = join(dataDir, SQLITE_FILE);
  try {
    mkdirSync(dataDir, { recursive: true });
    const database = new SQLite(path);
    database.pragma("journal_mode = WAL");
    database.pragma("synchronous = NORMAL");
    database.pragma("foreign_keys = ON");
    return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database }) }), runner: new SqliteRunner(database), backend: "sqlite", target: path };
  } catch (err) {
    throw new StoreOpenError(`cannot open the SQLite database ${path}: ${describe(err)}`, { cause: err });
  }
}

function openPostgres(url: string, logger: Logger | undefined): Opened {
  const pool = new Pool({ connectionString: url, application_name: "trawl-scraper" });
  // An idle connection that breaks (a database restart) is dropped by the
  // pool; without a listener its 'error' event would end the process.
  pool.on("error", (err) => logger?.warn({ err }, "idle PostgreSQL connection failed"));
  // A connection that breaks while checked out (the database stopped mid-query) emits 'error' on its client,
  // which nothing else listens to: the query it was running fails on its own, and the process must not end.
  pool.on("connect", (client) => client.on("error", (err) => logger?.warn({ err }, "PostgreSQL connection failed")));
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), runner: new PostgresRunner(pool), backend: "postgres", target: postgresTarget(url) };
}

/** Opens and migrates the store that `config` names. */
export async function openStore(config: StoreConfig, logger?: Logger): Promise<Store> {
  const { db, runner, backend, target } = config.databaseUrl !== undefined ? openPostgres(config.databaseUrl, logger) : openSqlite(config.dataDir);
  try {
    await migrate(db as Kysely<unknown>, backend);
  } catch (err) {
    await Promise.allSettled([db.destroy()]);
    const name = backend === "postgres" ? "PostgreSQL" : "SQLite";
    throw new StoreOpenError(`cannot open the ${name} database ${target}: ${describe(err)}`, { cause: err });
  }
  logger?.info({ backend, scraperId: config.scraperId }, "store open");
  return new SqlStore(db, runner, config.scraperId);
}
