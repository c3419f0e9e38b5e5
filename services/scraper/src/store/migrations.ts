/**
 * The database schema's migrations, defined in code (so the built service
 * carries them; no files to find at run time) and applied at start-up by
 * Kysely's Migrator, which records what it ran and takes a lock, so several
 * scrapers starting at once against one PostgreSQL database migrate it once.
 * Add a migration with the next number; never edit one that has shipped.
 */
import { Migrator, sql, type Kysely, type Migration } from "kysely";

export type Backend = "sqlite" | "postgres";

/** Names of the migrator's own bookkeeping tables. */
export const MIGRATION_TABLE = "trawl_migration";
export const MIGRATION_LOCK_TABLE = "trawl_migration_lock";

function migrations(backend: Backend): Record<string, Migration> {
  const bytes = backend === "postgres" ? sql`bytea` : sql`blob`;
  return {
    "0001_initial": {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable("jobs")
          .addColumn("scraper_id", "text", (c) => c.notNull())
          .addColumn("id", "text", (c) => c.notNull())
          .addColumn("ordinal", "integer", (c) => c.notNull())
          .addColumn("kind", "integer", (c) => c.notNull())
          .addColumn("platform", "integer", (c) => c.notNull())
          .addColumn("status", "integer", (c) => c.notNull())
          .addColumn("created_at_ms", "bigint", (c) => c.notNull())
          .addColumn("last_seq", "bigint", (c) => c.notNull())
          .addColumn("frontier_ordinal", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("payload", bytes, (c) => c.notNull())
          .addPrimaryKeyConstraint("jobs_pk", ["scraper_id", "id"])
          .addUniqueConstraint("jobs_ordinal_unique", ["scraper_id", "ordinal"])
          .execute();
        await db.schema.createIndex("jobs_status_idx").on("jobs").columns(["scraper_id", "status", "ordinal"]).execute();
        await db.schema.createIndex("jobs_platform_idx").on("jobs").columns(["scraper_id", "platform"]).execute();
        await db.schema.createIndex("jobs_created_at_idx").on("jobs").columns(["scraper_id", "created_at_ms"]).execute();

        // No foreign key to jobs: the log also carries events of jobs it has no row for.
        await db.schema
          .createTable("events")
          .addColumn("scraper_id", "text", (c) => c.notNull())
          .addColumn("event_offset", "bigint", (c) => c.notNull())
          .addColumn("job_id", "text", (c) => c.notNull())
          .addColumn("seq", "bigint", (c) => c.notNull())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("time_ms", "bigint", (c) => c.notNull())
          .addColumn("payload", bytes, (c) => c.notNull())
          .addPrimaryKeyConstraint("events_pk", ["scraper_id", "event_offset"])
          .execute();
        await db.schema.createIndex("events_job_idx").on("events").columns(["scraper_id", "job_id", "event_offset"]).execute();

        await db.schema
          .createTable("items")
          .addColumn("scraper_id", "text", (c) => c.notNull())
          .addColumn("job_id", "text", (c) => c.notNull())
          .addColumn("ordinal", "integer", (c) => c.notNull())
          .addColumn("item_id", "text", (c) => c.notNull())
          .addColumn("url", "text", (c) => c.notNull())
          .addColumn("title", "text", (c) => c.notNull())
          .addColumn("description", "text", (c) => c.notNull())
          .addColumn("text", "text", (c) => c.notNull())
          .addColumn("search", "text", (c) => c.notNull())
          .addColumn("payload", bytes, (c) => c.notNull())
          .addPrimaryKeyConstraint("items_pk", ["scraper_id", "job_id", "ordinal"])
          .addForeignKeyConstraint("items_job_fk", ["scraper_id", "job_id"], "jobs", ["scraper_id", "id"], (c) => c.onDelete("cascade"))
          .execute();

        await db.schema
          .createTable("frontier")
          .addColumn("scraper_id", "text", (c) => c.notNull())
          .addColumn("job_id", "text", (c) => c.notNull())
          .addColumn("url", "text", (c) => c.notNull())
          .addColumn("ordinal", "integer", (c) => c.notNull())
          .addColumn("depth", "integer", (c) => c.notNull())
          .addColumn("task", "integer", (c) => c.notNull())
          .addColumn("state", "text", (c) => c.notNull().check(sql`state in ('queued', 'done', 'seen')`))
          .addPrimaryKeyConstraint("frontier_pk", ["scraper_id", "job_id", "url"])
          .addForeignKeyConstraint("frontier_job_fk", ["scraper_id", "job_id"], "jobs", ["scraper_id", "id"], (c) => c.onDelete("cascade"))
          .execute();
        // No index but the key: a second one on (scraper_id, job_id, …) ties
        // with it in the planner's eyes while statistics are fresh, and
        // PostgreSQL then scans the job's whole frontier for each done URL.

        await db.schema
          .createTable("event_retention")
          .addColumn("scraper_id", "text", (c) => c.primaryKey())
          .addColumn("trimmed_through", "bigint", (c) => c.notNull())
          .execute();
      },
    },
    // Issue 7: jobs belong to a tenant; ListJobs filters on it.
    "0002_job_tenant": {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable("jobs").addColumn("tenant", "text", (c) => c.notNull().defaultTo("default")).execute();
        await db.schema.createIndex("jobs_tenant_idx").on("jobs").columns(["scraper_id", "tenant", "ordinal"]).execute();
      },
    },
  };
}

/** Brings the schema up to date; a second run (or a second scraper) finds nothing to do. */
export async function migrate(db: Kysely<unknown>, backend: Backend): Promise<void> {
  // Kysely looks for its bookkeeping tables by name in every schema unless told which one: with another
  // scraper's schema in the same database it would find theirs and never create ours. Name the current one.
  const schema = backend === "postgres" ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations(backend)) },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "run";
    throw new Error(`database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
