/**
 * The statements of one {@link Store.commit}, as a transaction for a
 * {@link SqlRunner}: plain SQL that SQLite and PostgreSQL both accept, with a
 * fixed set of texts (multi-row inserts have one text per row count, at most
 * INSERT_CHUNK), so each is prepared once and reused by every later commit.
 *
 * A commit reads nothing it already knows: the ordinals a job last handed
 * out (its {@link JobCursor}) are read once per job and store, then kept by
 * the store, which adopts the cursors a commit returns only once that commit
 * has succeeded. A job's row is updated in the columns that change during
 * the job's life (status, last_seq, payload; kind, platform and creation
 * time are fixed when it is created) and inserted whole when it is new.
 */
import { toBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { ItemSchema, JobEventSchema, JobSchema, type Item, type Job, type JobEvent, DEFAULT_TENANT } from "@trawl/proto";
import type { FrontierState } from "./schema.js";
import type { SqlValue, Statement, TransactionSteps } from "./sql-runner.js";
import type { CommitBatch, PageWrite, StoredJob } from "./store.js";

/** Rows per multi-row INSERT: well under either backend's limit on bound parameters. */
export const INSERT_CHUNK = 200;

/** The last ordinals handed out for one job's frontier URLs and items. */
export interface JobCursor {
  frontier: number;
  items: number;
}

/** Offsets, seqs and times as stored: exact integers. */
export function int64(value: bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${value} is too large to store`);
  return n;
}

/** The text the item query searches, lower-cased here so both backends match Unicode case alike. */
export function searchText(item: Item): string {
  return [item.title, item.description, item.text, item.url].join("\n").toLowerCase();
}

const JOB_COLUMNS = ["scraper_id", "id", "ordinal", "kind", "platform", "status", "tenant", "created_at_ms", "last_seq", "payload"] as const;
const EVENT_COLUMNS = ["scraper_id", "event_offset", "job_id", "seq", "kind", "time_ms", "payload"] as const;
const FRONTIER_COLUMNS = ["scraper_id", "job_id", "url", "ordinal", "depth", "task", "state"] as const;
const ITEM_COLUMNS = ["scraper_id", "job_id", "ordinal", "item_id", "url", "title", "description", "text", "search", "payload"] as const;

/**
 * `insert into table (columns) values (?, …), …` for `rows` rows. Memoised
 * (at most INSERT_CHUNK texts per table and tail): the same string each
 * time, so the runners' lookups by text stay cheap.
 */
const insertTexts = new Map<string, string>();
function insertText(table: string, columns: readonly string[], rows: number, tail = ""): string {
  const key = `${table}:${rows}:${tail}`;
  let text = insertTexts.get(key);
  if (text === undefined) {
    const row = `(${columns.map(() => "?").join(", ")})`;
    text = `insert into ${table} (${columns.join(", ")}) values ${Array.from({ length: rows }, () => row).join(", ")}${tail}`;
    insertTexts.set(key, text);
  }
  return text;
}

const SQL = {
  insertJob: insertText("jobs", JOB_COLUMNS, 1),
  /** Every column but the ordinal, for Store.saveJob. */
  upsertJob: `${insertText("jobs", JOB_COLUMNS, 1)} on conflict (scraper_id, id) do update set kind = excluded.kind, platform = excluded.platform, status = excluded.status, tenant = excluded.tenant, created_at_ms = excluded.created_at_ms, last_seq = excluded.last_seq, payload = excluded.payload`,
  updateJob: "update jobs set status = ?, last_seq = ?, payload = ? where scraper_id = ? and id = ?",
  updateFrontierOrdinal: "update jobs set frontier_ordinal = ? where scraper_id = ? and id = ?",
  jobFrontierOrdinal: "select frontier_ordinal from jobs where scraper_id = ? and id = ?",
  lastItemOrdinal: "select max(ordinal) as n from items where scraper_id = ? and job_id = ?",
  markDone: "update frontier set state = 'done' where scraper_id = ? and job_id = ? and url = ? and state <> 'done'",
  hasUrl: "select 1 as found from frontier where scraper_id = ? and job_id = ? and url = ?",
} as const;

/** Multi-row inserts of `rows` (each a row's values in column order), INSERT_CHUNK rows per statement. */
function* insertRows(table: string, columns: readonly string[], rows: readonly SqlValue[][], tail = ""): Generator<Statement, void, unknown> {
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    const chunk = rows.slice(start, start + INSERT_CHUNK);
    yield { sql: insertText(table, columns, chunk.length, tail), params: chunk.flat() };
  }
}

function jobRow(scraperId: string, ordinal: number, job: Job, payload = toBinary(JobSchema, job)): SqlValue[] {
  const createdAt = job.createdAt === undefined ? 0 : timestampMs(job.createdAt);
  return [scraperId, job.id, ordinal, job.kind, job.platform, job.status, job.tenant || DEFAULT_TENANT, createdAt, int64(job.lastSeq), payload];
}

/** Store.saveJob: inserts the job, or updates every column of it but the ordinal. */
export function* saveJobSteps(scraperId: string, { ordinal, job }: StoredJob): TransactionSteps<void> {
  yield { sql: SQL.upsertJob, params: jobRow(scraperId, ordinal, job) };
}

/**
 * Store.commit: jobs, then events, then pages, in one transaction. `known`
 * holds the committed cursors of jobs read before; the transaction returns
 * the cursors of the jobs it wrote pages for, to adopt once it has committed.
 */
export function* commitSteps(scraperId: string, known: ReadonlyMap<string, JobCursor>, batch: CommitBatch): TransactionSteps<Map<string, JobCursor>> {
  // One row per job (the last record wins), so a batch never writes a job twice.
  const jobs = new Map((batch.jobs ?? []).map((record) => [record.job.id, record]));
  for (const { ordinal, job } of jobs.values()) {
    const payload = toBinary(JobSchema, job);
    const { changes } = yield { sql: SQL.updateJob, params: [job.status, int64(job.lastSeq), payload, scraperId, job.id] };
    if (changes === 0) yield { sql: SQL.insertJob, params: jobRow(scraperId, ordinal, job, payload) };
  }
  const events = batch.events ?? [];
  if (events.length > 0) yield* insertRows("events", EVENT_COLUMNS, events.map((event) => eventRow(scraperId, event)));
  const pages = batch.pages ?? [];
  return pages.length > 0 ? yield* pageSteps(scraperId, known, pages) : new Map<string, JobCursor>();
}

function eventRow(scraperId: string, event: JobEvent): SqlValue[] {
  const time = event.time === undefined ? 0 : timestampMs(event.time);
  return [scraperId, int64(event.offset), event.jobId, int64(event.seq), event.kind.case ?? "", time, toBinary(JobEventSchema, event)];
}

/**
 * Applies the pages with a few statements, with the outcome of applying them
 * one after another: frontier URLs are inserted in page order (the first
 * occurrence wins), then done URLs are marked, then the item of each page
 * whose URL this batch marked done (the first such page) is stored.
 */
function* pageSteps(scraperId: string, known: ReadonlyMap<string, JobCursor>, pages: readonly PageWrite[]): TransactionSteps<Map<string, JobCursor>> {
  const cursors = new Map<string, JobCursor>();
  const stored = new Map<string, number>();
  for (const { jobId } of pages) {
    if (cursors.has(jobId)) continue;
    const cursor = known.get(jobId) ?? (yield* readCursor(scraperId, jobId));
    cursors.set(jobId, { ...cursor });
    stored.set(jobId, cursor.frontier);
  }
  const cursorOf = (jobId: string): JobCursor => cursors.get(jobId) as JobCursor;

  const frontier: SqlValue[][] = [];
  const added = new Map<string, Set<string>>();
  const add = (jobId: string, url: string, depth: number, task: number, state: FrontierState): void => {
    let urls = added.get(jobId);
    if (urls === undefined) added.set(jobId, (urls = new Set()));
    if (urls.has(url)) return;
    urls.add(url);
    frontier.push([scraperId, jobId, url, ++cursorOf(jobId).frontier, depth, task, state]);
  };
  for (const page of pages) {
    // Seen URLs have no depth or task of their own: they are never fetched.
    for (const url of page.seen ?? []) add(page.jobId, url, 0, 0, "seen");
    for (const { url, depth, task } of page.discovered ?? []) add(page.jobId, url, depth, task, "queued");
  }
  yield* insertRows("frontier", FRONTIER_COLUMNS, frontier, " on conflict (scraper_id, job_id, url) do nothing");

  const marked = yield* markDone(scraperId, pages);
  const claimed = new Map<string, Set<string>>();
  const items: SqlValue[][] = [];
  for (const { jobId, doneUrl, item } of pages) {
    if (item === undefined) continue;
    if (doneUrl !== undefined) {
      // Not marked by this batch: committed before, so stored before.
      let claims = claimed.get(jobId);
      if (claims === undefined) claimed.set(jobId, (claims = new Set()));
      if (marked.get(jobId)?.has(doneUrl) !== true || claims.has(doneUrl)) continue;
      claims.add(doneUrl);
    }
    const { id, url, title, description, text } = item;
    items.push([scraperId, jobId, ++cursorOf(jobId).items, id, url, title, description, text, searchText(item), toBinary(ItemSchema, item)]);
  }
  yield* insertRows("items", ITEM_COLUMNS, items);

  for (const [jobId, cursor] of cursors) {
    if (cursor.frontier !== stored.get(jobId)) yield { sql: SQL.updateFrontierOrdinal, params: [cursor.frontier, scraperId, jobId] };
  }
  return cursors;
}

/** The job's cursor as stored: its row's frontier ordinal and its highest item ordinal. Fails when the job has no row. */
function* readCursor(scraperId: string, jobId: string): TransactionSteps<JobCursor> {
  const { rows: jobRows } = yield { sql: SQL.jobFrontierOrdinal, params: [scraperId, jobId] };
  const job = jobRows[0];
  if (job === undefined) throw new Error(`job ${jobId}: pages were committed for a job that was never saved`);
  const { rows: itemRows } = yield { sql: SQL.lastItemOrdinal, params: [scraperId, jobId] };
  return { frontier: Number(job.frontier_ordinal), items: Number(itemRows[0]?.n ?? 0) };
}

/** Marks the pages' URLs done; returns, per job, the URLs this call changed. Fails on a URL the frontier lacks. */
function* markDone(scraperId: string, pages: readonly PageWrite[]): TransactionSteps<Map<string, Set<string>>> {
  const marked = new Map<string, Set<string>>();
  for (const { jobId, doneUrl } of pages) {
    if (doneUrl === undefined) continue;
    let changed = marked.get(jobId);
    if (changed === undefined) marked.set(jobId, (changed = new Set()));
    if (changed.has(doneUrl)) continue;
    const { changes } = yield { sql: SQL.markDone, params: [scraperId, jobId, doneUrl] };
    if (changes > 0) {
      changed.add(doneUrl);
      continue;
    }
    // Rare: a page committed before, or a URL never accepted.
    const { rows } = yield { sql: SQL.hasUrl, params: [scraperId, jobId, doneUrl] };
    if (rows.length === 0) throw new Error(`job ${jobId}: a page was committed for a URL its frontier never accepted`);
  }
  return marked;
}
