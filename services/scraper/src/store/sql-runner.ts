/**
 * Runs the store's hot transactions (Store.commit) on either backend with
 * prepared statements that are made once and reused, instead of building
 * each statement with Kysely and preparing it again for every commit (that
 * cost about a third of the scraper's CPU in the crawl benchmark, issue 6).
 *
 * A transaction is written once, for both backends, as a generator that
 * yields the statements to run (plain SQL with `?` placeholders) and
 * receives each one's result:
 *
 * - SQLite (better-sqlite3) drives it synchronously inside one transaction,
 *   with one prepared statement per SQL text, kept for the life of the
 *   database handle. Nothing else of the process can run between its
 *   statements, so no query sees a half-done transaction.
 * - PostgreSQL (pg) drives it on one pooled connection between BEGIN and
 *   COMMIT, as named prepared statements (one name per SQL text), which pg
 *   parses once per connection and then only binds.
 *
 * When a statement or the generator throws, the transaction rolls back and
 * the promise rejects with that error.
 */
import type SQLite from "better-sqlite3";
import type { Pool } from "pg";
import type { Backend } from "./migrations.js";

/** What a statement's parameters may be: integers as numbers (int64 within the safe range), blobs as bytes. */
export type SqlValue = string | number | Uint8Array | null;

/** One statement: its text, with `?` placeholders, and its parameters in order. */
export interface Statement {
  sql: string;
  params: readonly SqlValue[];
}

export interface StatementResult {
  /** Rows of a statement that returns rows (SELECT, RETURNING); empty otherwise. */
  rows: Record<string, unknown>[];
  /** Rows the statement inserted, updated or deleted (matched, for an UPDATE). */
  changes: number;
}

/** A transaction's body: yields statements, receives their results, returns the transaction's value. */
export type TransactionSteps<T> = Generator<Statement, T, StatementResult>;

export interface SqlRunner {
  readonly backend: Backend;
  /** Runs the steps in one transaction: all of it or, when anything throws, none of it. */
  transaction<T>(steps: () => TransactionSteps<T>): Promise<T>;
}

/** Prepares each SQL text once per database handle; a reopened database gets a runner (and statements) of its own. */
export class SqliteRunner implements SqlRunner {
  readonly backend = "sqlite";
  private readonly statements = new Map<string, SQLite.Statement>();
  /** better-sqlite3's transaction wrapper (BEGIN … COMMIT, ROLLBACK when the function throws), made once. */
  private readonly inTransaction: (work: () => unknown) => unknown;

  constructor(private readonly db: SQLite.Database) {
    this.inTransaction = db.transaction((work: () => unknown) => work());
  }

  /** How many distinct statements have been prepared (for tests of the cache). */
  get preparedCount(): number {
    return this.statements.size;
  }

  transaction<T>(steps: () => TransactionSteps<T>): Promise<T> {
    try {
      return Promise.resolve(
        this.inTransaction(() => {
          const body = steps();
          let next = body.next();
          while (next.done !== true) next = body.next(this.execute(next.value));
          return next.value;
        }) as T,
      );
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private execute({ sql, params }: Statement): StatementResult {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    if (statement.reader) return { rows: statement.all(params) as Record<string, unknown>[], changes: 0 };
    return { rows: [], changes: statement.run(params).changes };
  }
}

/** A pg query config: the statement's name makes pg prepare it once per connection. */
interface NamedText {
  name: string;
  text: string;
}

/** Runs transactions on the pool's connections with one named prepared statement per SQL text. */
export class PostgresRunner implements SqlRunner {
  readonly backend = "postgres";
  private readonly named = new Map<string, NamedText>();

  constructor(private readonly pool: Pool) {}

  async transaction<T>(steps: () => TransactionSteps<T>): Promise<T> {
    const client = await this.pool.connect();
    /** Set when ROLLBACK itself failed: the connection is then discarded rather than returned to the pool. */
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const body = steps();
      let next = body.next();
      while (next.done !== true) {
        const result = await client.query({ ...this.prepare(next.value.sql), values: [...next.value.params] });
        next = body.next({ rows: result.rows as Record<string, unknown>[], changes: result.rowCount ?? 0 });
      }
      await client.query("COMMIT");
      return next.value;
    } catch (err) {
      await client.query("ROLLBACK").catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** The statement's name and its text with PostgreSQL's numbered placeholders, made once per SQL text. */
  private prepare(sql: string): NamedText {
    let named = this.named.get(sql);
    if (named === undefined) {
      let n = 0;
      named = { name: `trawl_${this.named.size + 1}`, text: sql.replace(/\?/g, () => `$${++n}`) };
      this.named.set(sql, named);
    }
    return named;
  }
}
