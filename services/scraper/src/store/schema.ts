/**
 * The stored tables, as Kysely sees them. Every row carries `scraper_id`, so
 * several scrapers can share one PostgreSQL database, each with its own jobs,
 * event log (offsets from 1 per scraper), items and frontiers.
 *
 * The proto message of each row is kept whole in `payload` (protobuf binary);
 * the other columns copy the fields that queries filter, sort or search on.
 *
 * - `jobs`      one row per job: PK (scraper_id, id); `ordinal` is the
 *               creation order (unique per scraper, the ListJobs sort key);
 *               `status`, `platform` and `kind` are proto enum numbers;
 *               `frontier_ordinal` the last frontier ordinal handed out;
 *               payload = Job.
 * - `events`    the event log: PK (scraper_id, event_offset); `seq` is the
 *               per-job sequence; payload = JobEvent (offset, seq and time
 *               included). Indexed by (scraper_id, job_id, event_offset) for
 *               one job's replay.
 * - `items`     scraped items: PK (scraper_id, job_id, ordinal), ordinal = the
 *               order the job scraped them in, from 1; `search` is title,
 *               description, text and url lower-cased (JavaScript's Unicode
 *               lower-casing, the same on both backends) for the
 *               case-insensitive item query; payload = Item.
 * - `frontier`  every URL a job has accepted or seen: PK (scraper_id, job_id,
 *               url) so a URL is stored once per job, and no other index;
 *               `ordinal` keeps the order URLs were accepted in
 *               (breadth-first), the order a resumed job fetches them; `state` is
 *               queued (accepted, not fetched yet), done (fetched, its
 *               outcome committed) or seen (the final URL of a redirect:
 *               never queued, but never fetched again either).
 * - `event_retention`  per scraper, the offset through which the event log
 *               has been trimmed (0 when never).
 *
 * Platform statistics are not stored: {@link Store.platformStats} derives
 * them from the job counters.
 */
import type { ColumnType } from "kysely";

/** A 64-bit integer: PostgreSQL returns int8 as a string, SQLite as a number. */
export type Int64 = ColumnType<string | number | bigint, number, number>;

export type FrontierState = "queued" | "done" | "seen";

export interface JobsTable {
  scraper_id: string;
  id: string;
  ordinal: number;
  kind: number;
  platform: number;
  status: number;
  /** The tenant the job belongs to ("default" for jobs from before tenants). */
  tenant: ColumnType<string, string | undefined, string>;
  created_at_ms: Int64;
  last_seq: Int64;
  /** The last ordinal handed to a URL of the job's frontier. */
  frontier_ordinal: ColumnType<number, number | undefined, number>;
  payload: Uint8Array;
}

export interface EventsTable {
  scraper_id: string;
  event_offset: Int64;
  job_id: string;
  seq: Int64;
  /** The event's oneof case ("itemScraped"), for people reading the database. */
  kind: string;
  time_ms: Int64;
  payload: Uint8Array;
}

export interface ItemsTable {
  scraper_id: string;
  job_id: string;
  ordinal: number;
  item_id: string;
  url: string;
  title: string;
  description: string;
  text: string;
  search: string;
  payload: Uint8Array;
}

export interface FrontierTable {
  scraper_id: string;
  job_id: string;
  url: string;
  ordinal: number;
  depth: number;
  task: number;
  state: FrontierState;
}

export interface EventRetentionTable {
  scraper_id: string;
  trimmed_through: Int64;
}

export interface Database {
  jobs: JobsTable;
  events: EventsTable;
  items: ItemsTable;
  frontier: FrontierTable;
  event_retention: EventRetentionTable;
}
