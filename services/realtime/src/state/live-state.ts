/**
 * The gateway's live state: what the reducer builds from the scrapers' event
 * streams and every view reads. Plain data; the reducer is the only writer.
 */
import type { Item, JobEvent, JobStatus, Platform } from "@trawl/proto";

/** How many recent item previews the state keeps (the dashboard's list). */
export const RECENT_PREVIEWS = 20;
/** How many recent failures (page, start URL, job) the state keeps (the dashboard's errors feed). */
export const RECENT_ERRORS = 50;
/** The most TaskStarted events a running job keeps for late subscribers (one per start URL). */
export const MAX_OPENING_TASKS = 1_000;
/** Finished jobs kept for late subscribers and polling; older ones are evicted (GetJob still finds them). */
export const DEFAULT_MAX_FINISHED_JOBS = 10_000;

export interface JobCounts {
  pagesDone: number;
  pagesTotal: number;
  successCount: number;
  errorCount: number;
  items: number;
  processingMsTotal: number;
}

export interface JobRecord {
  readonly id: string;
  /** Address of the scraper that runs the job. */
  scraper: string;
  /** The tenant the job belongs to; "" while unknown (only admins see such a job). */
  tenant: string;
  platform: Platform;
  status: JobStatus;
  counts: JobCounts;
  startedAtMs: number;
  finishedAtMs: number | undefined;
  /** Failure message, or the cancel reason, of an ended job; "" otherwise. */
  error: string;
  /** The most recent item reported by JobProgress. */
  currentItem: Item | undefined;
  /** Highest per-job sequence number applied. */
  lastSeq: bigint;
  /** The first start URL. */
  url: string;
  /** Time of the last applied event, the fallback for events without a time. */
  lastEventMs: number;
  /**
   * The job's JobStarted and TaskStarted events, as applied, while it runs
   * (emptied when it ends): a dialect whose clients expect to see a job
   * start (seed 002) replays them to a client that connects later.
   */
  opening: JobEvent[];
}

export interface PlatformTotals {
  pages: number;
  successCount: number;
  errorCount: number;
  processingMsTotal: number;
}

export interface ScraperRecord {
  readonly address: string;
  /** Offset of the last event (or snapshot) applied from this scraper; resume point. */
  lastOffset: bigint;
  platforms: Map<Platform, PlatformTotals>;
}

export interface PreviewRecord {
  jobId: string;
  platform: Platform;
  item: Item;
  atMs: number;
}

export interface LiveState {
  jobs: Map<string, JobRecord>;
  /** Ids of jobs that have not ended, in start order. */
  active: Set<string>;
  /** Ids of ended jobs, oldest first, for eviction. */
  finished: Set<string>;
  scrapers: Map<string, ScraperRecord>;
  /** The last RECENT_PREVIEWS previews, oldest first. */
  previews: PreviewRecord[];
  /** The last RECENT_ERRORS failure events (pageFailed, taskFailed, failed), oldest first. */
  errors: JobEvent[];
  /** Bumped on every applied change; lets callers cache views. */
  version: number;
  readonly maxFinishedJobs: number;
}

export function createLiveState(options: { scrapers?: readonly string[]; maxFinishedJobs?: number } = {}): LiveState {
  const state: LiveState = {
    jobs: new Map(),
    active: new Set(),
    finished: new Set(),
    scrapers: new Map(),
    previews: [],
    errors: [],
    version: 0,
    maxFinishedJobs: options.maxFinishedJobs ?? DEFAULT_MAX_FINISHED_JOBS,
  };
  for (const address of options.scrapers ?? []) scraperRecord(state, address);
  return state;
}

/** The record of `address`, created on first use. */
export function scraperRecord(state: LiveState, address: string): ScraperRecord {
  let record = state.scrapers.get(address);
  if (record === undefined) {
    record = { address, lastOffset: 0n, platforms: new Map() };
    state.scrapers.set(address, record);
  }
  return record;
}

/** Number of active jobs owned by `address` (for StartJob routing). */
export function activeJobsOf(state: LiveState, address: string): number {
  let count = 0;
  for (const id of state.active) if (state.jobs.get(id)?.scraper === address) count++;
  return count;
}
