/**
 * Read-only views of the live state in the shapes Trawl's JSON edges share:
 * the job view (seed 000 `active_jobs` entries and `progress.data`) and the
 * per-platform statistics. Callers pass the instant to measure elapsed time
 * against; nothing here reads a clock.
 */
import { isTerminal, jobStatusName, type JobStatus, PLATFORM_NAMES, platformName, type PlatformName } from "@trawl/proto";
import type { JobRecord, LiveState, PreviewRecord } from "./live-state.js";
import { elapsedSeconds, isoTime, roundTo } from "./time.js";

/** Seed 000's status words. */
export type JobStatusWord = "pending" | "processing" | "paused" | "completed" | "failed" | "cancelled";

export interface JobView {
  job_id: string;
  platform: PlatformName;
  status: JobStatusWord;
  items_scraped: number;
  items_total: number;
  success_count: number;
  error_count: number;
  started_at: string;
  elapsed_seconds: number;
}

export interface PlatformStatsView {
  platform: PlatformName;
  total_items: number;
  success_count: number;
  error_count: number;
  avg_processing_time: number;
}

/** Seed 000's word for a status: Trawl's own name, except that a running job is "processing". */
export function statusWord(status: JobStatus): JobStatusWord {
  const name = jobStatusName(status);
  return name === "running" ? "processing" : name;
}

/** Seconds the job has run as of `atMs` (or until it finished). */
export function jobElapsedSeconds(job: JobRecord, atMs: number): number {
  return elapsedSeconds(job.startedAtMs, job.finishedAtMs ?? atMs);
}

/** The seed 000 job view of `job` as of `atMs`. */
export function jobView(job: JobRecord, atMs: number): JobView {
  return {
    job_id: job.id,
    platform: platformName(job.platform),
    status: statusWord(job.status),
    items_scraped: job.counts.pagesDone,
    items_total: job.counts.pagesTotal,
    success_count: job.counts.successCount,
    error_count: job.counts.errorCount,
    started_at: isoTime(job.startedAtMs),
    elapsed_seconds: jobElapsedSeconds(job, atMs),
  };
}

/** Every job that has not ended, keyed by id, as of `atMs`. */
export function activeJobsView(state: LiveState, atMs: number): Record<string, JobView> {
  const view: Record<string, JobView> = {};
  for (const id of state.active) {
    const job = state.jobs.get(id);
    if (job !== undefined && !isTerminal(job.status)) view[id] = jobView(job, atMs);
  }
  return view;
}

/** Per-platform statistics summed over every scraper, keyed by platform name. */
export function platformStatsView(state: LiveState): Record<string, PlatformStatsView> {
  const sums = new Map<PlatformName, { pages: number; success: number; errors: number; ms: number }>();
  for (const scraper of state.scrapers.values()) {
    for (const [platform, totals] of scraper.platforms) {
      const name = platformName(platform);
      const sum = sums.get(name) ?? { pages: 0, success: 0, errors: 0, ms: 0 };
      sum.pages += totals.pages;
      sum.success += totals.successCount;
      sum.errors += totals.errorCount;
      sum.ms += totals.processingMsTotal;
      sums.set(name, sum);
    }
  }
  const view: Record<string, PlatformStatsView> = {};
  for (const name of PLATFORM_NAMES) {
    const sum = sums.get(name);
    if (sum === undefined) continue;
    view[name] = {
      platform: name,
      total_items: sum.success + sum.errors,
      success_count: sum.success,
      error_count: sum.errors,
      avg_processing_time: sum.pages === 0 ? 0 : roundTo(sum.ms / sum.pages / 1000, 3),
    };
  }
  return view;
}

/** The most recent item previews, oldest first. */
export function recentPreviews(state: LiveState): readonly PreviewRecord[] {
  return state.previews;
}
