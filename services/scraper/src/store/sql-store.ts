/**
 * The Store over SQL: reads and the rare writes through Kysely, one set of
 * queries for SQLite and PostgreSQL; the hot write, {@link Store.commit},
 * through a {@link SqlRunner} with prepared statements made once (see
 * commit-steps.ts). Writes go through one queue per store, one transaction
 * at a time, so the ordinals a transaction hands out (items, frontier URLs)
 * never collide and batches reach the database in the order they were made.
 *
 * The store keeps each job's cursor (the last frontier and item ordinals
 * handed out) in memory after reading it once, so it must be the only
 * writer of its scraper id's rows: one scraper process per scraper id.
 */
import { create, fromBinary } from "@bufbuild/protobuf";
import { ItemSchema, JobEventSchema, JobKind, JobSchema, JobStatus, PlatformStatsSchema, type Item, type Job, type JobEvent, type Platform, type PlatformStats } from "@trawl/proto";
import { sql, type Kysely, type Transaction } from "kysely";
import { commitSteps, int64, saveJobSteps, type JobCursor } from "./commit-steps.js";
import type { Backend } from "./migrations.js";
import type { Database, FrontierState } from "./schema.js";
import type { SqlRunner } from "./sql-runner.js";
import type {
  CommitBatch,
  ItemPage,
  ItemQuery,
  JobListPage,
  JobListQuery,
  PageCommit,
  ReadEventsOptions,
  Store,
  StoredFrontier,
  StoredItem,
  StoredJob,
} from "./store.js";

const UNFINISHED: readonly JobStatus[] = [JobStatus.PENDING, JobStatus.RUNNING, JobStatus.PAUSED];
const DEFAULT_EXPORT_BATCH = 500;
/** The escape character of LIKE patterns; not a backslash, whose meaning in string literals varies. */
const LIKE_ESCAPE = "!";

/** A stored 64-bit integer (a string from PostgreSQL, a number from SQLite) as a bigint; null as 0. */
function bigintOf(value: string | number | bigint | null | undefined): bigint {
  return value === null || value === undefined ? 0n : BigInt(value);
}

function likePattern(query: string): string {
  return `%${query.toLowerCase().replace(/[!%_]/g, (c) => LIKE_ESCAPE + c)}%`;
}

export class SqlStore implements Store {
  /** The tail of the write queue. */
  private writes: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  /** Cursors of the jobs this store has committed pages for, by job id: read once, then those of each commit that succeeded. */
  private readonly cursors = new Map<string, JobCursor>();
  readonly backend: Backend;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly runner: SqlRunner,
    readonly scraperId: string,
  ) {
    this.backend = runner.backend;
  }

  // --- jobs ---

  saveJob(record: StoredJob): Promise<void> {
    return this.enqueue(() => this.runner.transaction(() => saveJobSteps(this.scraperId, record)));
  }

  async getJob(id: string): Promise<StoredJob | undefined> {
    const row = await this.db.selectFrom("jobs").select(["ordinal", "payload"]).where("scraper_id", "=", this.scraperId).where("id", "=", id).executeTakeFirst();
    return row === undefined ? undefined : { ordinal: row.ordinal, job: fromBinary(JobSchema, row.payload) };
  }

  async listJobs({ statuses, platforms, createdAfterMs, createdBeforeMs, tenant, limit, beforeOrdinal }: JobListQuery): Promise<JobListPage> {
    if (limit < 1) return { jobs: [] };
    let query = this.db.selectFrom("jobs").select(["ordinal", "payload"]).where("scraper_id", "=", this.scraperId);
    if (statuses !== undefined && statuses.length > 0) query = query.where("status", "in", [...statuses]);
    if (platforms !== undefined && platforms.length > 0) query = query.where("platform", "in", [...platforms]);
    if (createdAfterMs !== undefined) query = query.where("created_at_ms", ">=", createdAfterMs);
    if (tenant !== undefined) query = query.where("tenant", "=", tenant);
    if (createdBeforeMs !== undefined) query = query.where("created_at_ms", "<", createdBeforeMs);
    if (beforeOrdinal !== undefined) query = query.where("ordinal", "<", beforeOrdinal);
    const rows = await query.orderBy("ordinal", "desc").limit(limit + 1).execute();
    const jobs = rows.slice(0, limit).map((row) => ({ ordinal: row.ordinal, job: fromBinary(JobSchema, row.payload) }));
    const last = jobs.at(-1);
    return rows.length > limit && last !== undefined ? { jobs, nextBeforeOrdinal: last.ordinal } : { jobs };
  }

  async unfinishedJobs(): Promise<StoredJob[]> {
    const rows = await this.db
      .selectFrom("jobs")
      .select(["ordinal", "payload"])
      .where("scraper_id", "=", this.scraperId)
      .where("status", "in", [...UNFINISHED])
      .orderBy("ordinal")
      .execute();
    return rows.map((row) => ({ ordinal: row.ordinal, job: fromBinary(JobSchema, row.payload) }));
  }

  async nextJobOrdinal(): Promise<number> {
    const row = await this.db
      .selectFrom("jobs")
      .select((eb) => eb.fn.max("ordinal").as("ordinal"))
      .where("scraper_id", "=", this.scraperId)
      .executeTakeFirst();
    return row?.ordinal === null || row?.ordinal === undefined ? 0 : Number(row.ordinal) + 1;
  }

  // --- the unit of durability ---

  commit(batch: CommitBatch): Promise<void> {
    return this.enqueue(async () => {
      const cursors = await this.runner.transaction(() => commitSteps(this.scraperId, this.cursors, batch));
      // Adopted only now: a batch that failed handed out no ordinals.
      for (const [jobId, cursor] of cursors) this.cursors.set(jobId, cursor);
    });
  }

  commitPage(page: PageCommit): Promise<void> {
    return this.commit({ jobs: [page.job], events: page.events, pages: [page] });
  }

  commitEvents(job: StoredJob, events: readonly JobEvent[]): Promise<void> {
    return this.commit({ jobs: [job], events });
  }

  // --- frontier ---

  async loadFrontier(jobId: string): Promise<StoredFrontier> {
    const [queued, counts] = await Promise.all([
      this.db
        .selectFrom("frontier")
        .select(["url", "depth", "task"])
        .where("scraper_id", "=", this.scraperId)
        .where("job_id", "=", jobId)
        .where("state", "=", "queued")
        .orderBy("ordinal")
        .execute(),
      this.db
        .selectFrom("frontier")
        .select((eb) => ["state", eb.fn.countAll().as("n")])
        .where("scraper_id", "=", this.scraperId)
        .where("job_id", "=", jobId)
        .groupBy("state")
        .execute(),
    ]);
    const count = (state: FrontierState): number => Number(counts.find((c) => c.state === state)?.n ?? 0);
    return { queued, accepted: count("queued") + count("done"), done: count("done") };
  }

  async seenUrls(jobId: string): Promise<Set<string>> {
    const rows = await this.db.selectFrom("frontier").select("url").where("scraper_id", "=", this.scraperId).where("job_id", "=", jobId).execute();
    return new Set(rows.map((row) => row.url));
  }

  // --- events ---

  async readEvents(after: bigint, limit: number, options: ReadEventsOptions = {}): Promise<JobEvent[]> {
    if (limit < 1 || after >= BigInt(Number.MAX_SAFE_INTEGER)) return [];
    let query = this.db
      .selectFrom("events")
      .select("payload")
      .where("scraper_id", "=", this.scraperId)
      .where("event_offset", ">", int64(after < 0n ? 0n : after));
    if (options.jobId !== undefined) query = query.where("job_id", "=", options.jobId);
    if (options.through !== undefined) query = query.where("event_offset", "<=", int64(options.through));
    const rows = await query.orderBy("event_offset").limit(limit).execute();
    return rows.map((row) => fromBinary(JobEventSchema, row.payload));
  }

  async headOffset(): Promise<bigint> {
    const [row, trimmed] = await Promise.all([
      this.db
        .selectFrom("events")
        .select((eb) => eb.fn.max("event_offset").as("head"))
        .where("scraper_id", "=", this.scraperId)
        .executeTakeFirst(),
      this.trimmedThrough(),
    ]);
    const head = bigintOf(row?.head);
    return head > trimmed ? head : trimmed;
  }

  async oldestOffset(): Promise<bigint> {
    const [head, trimmed, row] = await Promise.all([
      this.headOffset(),
      this.trimmedThrough(),
      this.db
        .selectFrom("events")
        .select((eb) => eb.fn.min("event_offset").as("oldest"))
        .where("scraper_id", "=", this.scraperId)
        .executeTakeFirst(),
    ]);
    const first = row?.oldest === null || row?.oldest === undefined ? head + 1n : bigintOf(row.oldest);
    return first > trimmed + 1n ? first : trimmed + 1n;
  }

  async lastSeq(jobId: string): Promise<bigint> {
    const [event, job] = await Promise.all([
      this.db
        .selectFrom("events")
        .select((eb) => eb.fn.max("seq").as("seq"))
        .where("scraper_id", "=", this.scraperId)
        .where("job_id", "=", jobId)
        .executeTakeFirst(),
      this.db.selectFrom("jobs").select("last_seq").where("scraper_id", "=", this.scraperId).where("id", "=", jobId).executeTakeFirst(),
    ]);
    const fromEvents = bigintOf(event?.seq);
    const fromJob = bigintOf(job?.last_seq);
    return fromEvents > fromJob ? fromEvents : fromJob;
  }

  async lastSeqs(): Promise<Map<string, bigint>> {
    const [events, jobs] = await Promise.all([
      this.db
        .selectFrom("events")
        .select((eb) => ["job_id", eb.fn.max("seq").as("seq")])
        .where("scraper_id", "=", this.scraperId)
        .groupBy("job_id")
        .execute(),
      this.db.selectFrom("jobs").select(["id", "last_seq"]).where("scraper_id", "=", this.scraperId).execute(),
    ]);
    const seqs = new Map<string, bigint>();
    const raise = (jobId: string, seq: bigint): void => {
      if (seq > (seqs.get(jobId) ?? 0n)) seqs.set(jobId, seq);
    };
    for (const row of events) raise(row.job_id, bigintOf(row.seq));
    for (const row of jobs) raise(row.id, bigintOf(row.last_seq));
    return seqs;
  }

  async trimEvents(through: bigint): Promise<bigint> {
    await this.write(async (trx) => {
      const head = await trx
        .selectFrom("events")
        .select((eb) => eb.fn.max("event_offset").as("head"))
        .where("scraper_id", "=", this.scraperId)
        .executeTakeFirst();
      const current = await trx.selectFrom("event_retention").select("trimmed_through").where("scraper_id", "=", this.scraperId).executeTakeFirst();
      // Never past the head, so the oldest offset stays at most head + 1.
      const next = through < bigintOf(head?.head) ? through : bigintOf(head?.head);
      if (next <= bigintOf(current?.trimmed_through)) return;
      await trx
        .insertInto("event_retention")
        .values({ scraper_id: this.scraperId, trimmed_through: int64(next) })
        .onConflict((oc) => oc.column("scraper_id").doUpdateSet((eb) => ({ trimmed_through: eb.ref("excluded.trimmed_through") })))
        .execute();
      await trx
        .deleteFrom("events")
        .where("scraper_id", "=", this.scraperId)
        .where("event_offset", "<=", int64(next))
        .where("job_id", "not in", (eb) =>
          eb
            .selectFrom("jobs")
            .select("id")
            .where("scraper_id", "=", this.scraperId)
            .where("status", "in", [...UNFINISHED]),
        )
        .execute();
    });
    return this.oldestOffset();
  }

  // --- items ---

  async listItems(jobId: string, { pageSize, afterOrdinal, query }: ItemQuery): Promise<ItemPage> {
    let matching = this.db.selectFrom("items").where("scraper_id", "=", this.scraperId).where("job_id", "=", jobId);
    if (query !== undefined && query !== "") {
      matching = matching.where(sql<boolean>`${sql.ref("search")} like ${likePattern(query)} escape ${sql.lit(LIKE_ESCAPE)}`);
    }
    let page = matching.select(["ordinal", "payload"]);
    if (afterOrdinal !== undefined) page = page.where("ordinal", ">", afterOrdinal);
    const [count, rows] = await Promise.all([
      matching.select((eb) => eb.fn.countAll().as("n")).executeTakeFirst(),
      pageSize < 1 ? Promise.resolve([]) : page.orderBy("ordinal").limit(pageSize + 1).execute(),
    ]);
    const items: StoredItem[] = rows.slice(0, pageSize).map((row) => ({ ordinal: row.ordinal, item: fromBinary(ItemSchema, row.payload) }));
    const total = Number(count?.n ?? 0);
    const last = items.at(-1);
    return rows.length > pageSize && last !== undefined ? { items, total, nextAfterOrdinal: last.ordinal } : { items, total };
  }

  async *iterateItems(jobId: string, batchSize = DEFAULT_EXPORT_BATCH): AsyncIterable<Item> {
    const size = Math.max(1, batchSize);
    let after = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom("items")
        .select(["ordinal", "payload"])
        .where("scraper_id", "=", this.scraperId)
        .where("job_id", "=", jobId)
        .where("ordinal", ">", after)
        .orderBy("ordinal")
        .limit(size)
        .execute();
      for (const row of rows) yield fromBinary(ItemSchema, row.payload);
      const last = rows.at(-1);
      if (rows.length < size || last === undefined) return;
      after = last.ordinal;
    }
  }

  // --- statistics ---

  async platformStats(): Promise<PlatformStats[]> {
    const totals = new Map<Platform, PlatformStats>();
    let after = -1;
    for (;;) {
      const rows = await this.db
        .selectFrom("jobs")
        .select(["ordinal", "payload"])
        .where("scraper_id", "=", this.scraperId)
        .where("ordinal", ">", after)
        .orderBy("ordinal")
        .limit(DEFAULT_EXPORT_BATCH)
        .execute();
      for (const row of rows) {
        const job = fromBinary(JobSchema, row.payload);
        // A directory scan fetches no pages: it belongs to no platform's statistics.
        if (job.kind !== JobKind.SCAN) addJob(totals, job);
      }
      const last = rows.at(-1);
      if (rows.length < DEFAULT_EXPORT_BATCH || last === undefined) break;
      after = last.ordinal;
    }
    return [...totals.values()].sort((a, b) => a.platform - b.platform);
  }

  // --- lifecycle ---

  close(): Promise<void> {
    this.closing ??= this.writes.then(() => this.db.destroy());
    return this.closing;
  }

  // --- writing ---

  /** Runs `work` in a Kysely transaction after every write queued before it. */
  private write<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.enqueue(() => this.db.transaction().execute(work));
  }

  /** Runs `work` after every write queued before it, and before any queued after it. */
  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    if (this.closing !== undefined) return Promise.reject(new Error("the store is closed"));
    const result = this.writes.then(work);
    this.writes = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private async trimmedThrough(): Promise<bigint> {
    const row = await this.db.selectFrom("event_retention").select("trimmed_through").where("scraper_id", "=", this.scraperId).executeTakeFirst();
    return bigintOf(row?.trimmed_through);
  }
}

/** Adds one job's counters to its platform's totals. */
function addJob(totals: Map<Platform, PlatformStats>, job: Job): void {
  let stats = totals.get(job.platform);
  if (stats === undefined) {
    stats = create(PlatformStatsSchema, { platform: job.platform });
    totals.set(job.platform, stats);
  }
  const c = job.counters;
  if (c === undefined) return;
  stats.totalItems += BigInt(c.items);
  stats.successCount += BigInt(c.successCount);
  stats.errorCount += BigInt(c.errorCount);
  stats.pages += BigInt(c.successCount + c.errorCount);
  stats.processingMsTotal += c.processingMsTotal;
  stats.retries += BigInt(c.retries);
  stats.bytes += c.bytes;
  for (const [kind, n] of Object.entries(c.errorsByKind)) stats.errorsByKind[kind] = (stats.errorsByKind[kind] ?? 0n) + BigInt(n);
  for (const [reason, n] of Object.entries(c.skipped)) stats.skipped[reason] = (stats.skipped[reason] ?? 0n) + BigInt(n);
}
