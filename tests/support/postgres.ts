/**
 * A throwaway schema of the test database (TRAWL_TEST_DATABASE_URL, default
 * postgresql://postgres@127.0.0.1:5432/test) for a scraper under test: its
 * DATABASE_URL points `search_path` at a fresh schema, dropped by the returned
 * cleanup. `host` replaces the database's address (a proxy in front of it).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

export const TEST_DATABASE_URL = process.env.TRAWL_TEST_DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/test";

export async function throwawaySchema(prefix: string, host?: string): Promise<{ databaseUrl: string; drop: () => Promise<void> }> {
  const schema = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect().catch((error: unknown) => {
    throw new Error(`PostgreSQL is not reachable at ${new URL(TEST_DATABASE_URL).host}; this suite needs it (set TRAWL_TEST_DATABASE_URL)`, { cause: error });
  });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(TEST_DATABASE_URL);
  if (host !== undefined) url.host = host;
  url.searchParams.set("options", `-c search_path=${schema}`);
  return {
    databaseUrl: url.toString(),
    drop: async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}
