/**
 * The scraper's storage: jobs, their event log, their items and their crawl
 * frontiers, behind one asynchronous interface that SQLite and PostgreSQL
 * both implement (see open-store.ts). Everything is scoped to one scraper id.
 *
 * The unit of durability is a {@link CommitBatch}: one transaction that
 * appends events, records pages (frontier and item) and updates job rows.
 * After a crash the stored frontier is exactly what remains to fetch — a
 * URL is `done` in the same transaction that stores its item — so a resumed
 * job fetches every queued URL once and no done URL again.
 */
import type { Item, Job, JobEvent, JobStatus, Platform, PlatformStats } from "@trawl/proto";
import type { Backend } from "./migrations.js";

/** A job row: the job and its creation order within the scraper. */
export interface StoredJob {
  /** Creation order, from 0, unique per scraper: the ListJobs sort key. */
  ordinal: number;
  job: Job;
}

export interface JobListQuery {
  /** Empty or absent: every status. */
  statuses?: readonly JobStatus[];
  /** Empty or absent: every platform. */
  platforms?: readonly Platform[];
  /** Only jobs created at or after this instant (ms since the epoch). */
  createdAfterMs?: number;
  /** Only jobs of this tenant. */
  tenant?: string;
  /** Only jobs created before this instant (ms since the epoch). */
  createdBeforeMs?: number;
  limit: number;
  /** Only jobs created before the job with this ordinal (the page token). */
  beforeOrdinal?: number;
}

export interface JobListPage {
  /** Newest first. */
  jobs: StoredJob[];
  /** Ordinal to continue before, when another matching job exists. */
  nextBeforeOrdinal?: number;
}

export interface FrontierEntry {
  /** Normalised URL. */
  url: string;
  depth: number;
  /** Index of the start URL (task) this URL was found from. */
  task: number;
}

/** What one processed page (or the start of a job) changes in its job's frontier and items. */
export interface PageWrite {
  jobId: string;
  /**
   * The frontier URL this page was fetched from, now done. It must have
   * been accepted into the frontier before (in an earlier write or in
   * `discovered` of an earlier page). When it is already done, the page
   * was committed before and its item is not stored again.
   */
  doneUrl?: string;
  /** URLs newly accepted into the frontier, in order; URLs the job already has are ignored. */
  discovered?: readonly FrontierEntry[];
  /** URLs to remember without queueing them (the final URL of a redirect). */
  seen?: readonly string[];
  /** The page's item, stored as the job's next item. */
  item?: Item;
}

/** One transaction's worth of writes, applied in this order: jobs, events, pages. */
export interface CommitBatch {
  /**
   * Job rows inserted whole, or updated in what changes during a job's life:
   * status, last_seq and the payload (kind, platform and creation time are
   * fixed when the job is created; {@link Store.saveJob} rewrites them too).
   */
  jobs?: readonly StoredJob[];
  /** Events appended to the log; their offsets must be new. */
  events?: readonly JobEvent[];
  pages?: readonly PageWrite[];
}

/** {@link Store.commitPage}'s argument: one page and what it changed. */
export interface PageCommit extends PageWrite {
  /** The job as of this page (counters, last_seq). */
  job: StoredJob;
  events: readonly JobEvent[];
}

export interface StoredFrontier {
  /** URLs accepted but not fetched yet, in the order they were accepted. */
  queued: FrontierEntry[];
  /** URLs accepted so far (done and queued): the page budget already spent. */
  accepted: number;
  /** URLs fetched, their outcome committed. */
  done: number;
}

export interface ReadEventsOptions {
  /** Only this job's events. */
  jobId?: string;
  /** Only events with an offset up to this one. */
  through?: bigint;
}

export interface ItemQuery {
  pageSize: number;
  /** Only items after the item with this ordinal (the page token). */
  afterOrdinal?: number;
  /** Case-insensitive substring of title, description, text or url; empty matches every item. */
  query?: string;
}

export interface StoredItem {
  /** The item's place in the job's scrape order, from 1. */
  ordinal: number;
  item: Item;
}

export interface ItemPage {
  items: StoredItem[];
  /** Items of the job matching the query, on every page. */
  total: number;
  /** Ordinal to continue after, when more matching items exist. */
  nextAfterOrdinal?: number;
}

export interface Store {
  readonly backend: Backend;
  readonly scraperId: string;

  /** Inserts the job, or updates every column of it but the ordinal. */
  saveJob(record: StoredJob): Promise<void>;
  getJob(id: string): Promise<StoredJob | undefined>;
  /** Newest first, like ListJobs. */
  listJobs(query: JobListQuery): Promise<JobListPage>;
  /** Pending, running and paused jobs, oldest first: what to resume after a restart. */
  unfinishedJobs(): Promise<StoredJob[]>;
  /** The ordinal the next new job gets (one more than the highest stored; 0 when none). */
  nextJobOrdinal(): Promise<number>;

  /** Applies the batch in one transaction: all of it or, when any statement fails, none of it. */
  commit(batch: CommitBatch): Promise<void>;
  /** One page in one transaction: its events, frontier changes, item and job row. */
  commitPage(page: PageCommit): Promise<void>;
  /** Events without a page (started, progress, paused, terminal…) with the job row they leave behind. */
  commitEvents(job: StoredJob, events: readonly JobEvent[]): Promise<void>;

  /** The job's stored frontier, for resuming it. */
  loadFrontier(jobId: string): Promise<StoredFrontier>;
  /** Every URL the job has accepted or seen, for de-duplication on resume. */
  seenUrls(jobId: string): Promise<Set<string>>;

  /** Up to `limit` stored events with offset > `after`, oldest first. */
  readEvents(after: bigint, limit: number, options?: ReadEventsOptions): Promise<JobEvent[]>;
  /** Offset of the newest stored event; 0 when none. */
  headOffset(): Promise<bigint>;
  /**
   * The offset from which the log is complete: every event from here to the
   * head is stored. `headOffset() + 1` when nothing is.
   */
  oldestOffset(): Promise<bigint>;
  /** The highest seq stored for the job (in its events or its row); 0 when none. */
  lastSeq(jobId: string): Promise<bigint>;
  /** {@link lastSeq} of every job with an event or a row. */
  lastSeqs(): Promise<Map<string, bigint>>;
  /**
   * Retention: deletes the events with offset ≤ `through`, except those of
   * unfinished jobs, and makes `through + 1` the oldest offset. The events
   * kept below it stay readable with {@link readEvents} (a running job's
   * whole history) but are no longer part of the complete log. Returns the
   * new oldest offset.
   */
  trimEvents(through: bigint): Promise<bigint>;

  /** A page of the job's items in scrape order, with the total matching the query. */
  listItems(jobId: string, query: ItemQuery): Promise<ItemPage>;
  /** Every item of the job in scrape order, read `batchSize` at a time (for export). */
  iterateItems(jobId: string, batchSize?: number): AsyncIterable<Item>;

  /** Per-platform totals over every stored job, from the jobs' counters, in platform order. */
  platformStats(): Promise<PlatformStats[]>;

  /** Waits for writes in progress, then closes the database. */
  close(): Promise<void>;
}
