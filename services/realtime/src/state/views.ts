/**
 * Read-only views of the live state in the shapes Trawl's JSON edges share:
 * the job view (seed 000 `active_jobs` entries and `progress.data`) and the
 * per-platform statistics. Callers pass the instant to measure elapsed time
 * against; nothing here reads a clock.
 */
import { isTerminal, jobStatusName, type JobStatus, PLATFORM_NAMES, platformName, type PlatformName } from "@trawl/proto";
import { inScope, type TenantScope } from "../auth/scope.js";
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

/** Every job of `scope` that has not ended, keyed by id, as of `atMs`. */
export function activeJobsView(state: LiveState, atMs: number, scope?: TenantScope): Record<string, JobView> {
  const view: Record<string, JobView> = {};
  for (const id of state.active) {
    const job = state.jobs.get(id);
    if (job !== undefined && !isTerminal(job.status) && inScope(job.tenant, scope)) view[id] = jobView(job, atMs);
  }
  return view;
}

type Sums = Map<PlatformName, { pages: number; success: number; errors: number; ms: number }>;

/**
 * Per-platform statistics keyed by platform name: for every tenant, the
 * scrapers' own totals; for one tenant, the sums over that tenant's jobs the
 * gateway holds (running ones and the most recent finished ones).
 */
export function platformStatsView(state: LiveState, scope?: TenantScope): Record<string, PlatformStatsView> {
  return statsOf(scope === undefined ? scraperSums(state) : tenantSums(state, scope));
}

function tenantSums(state: LiveState, tenant: string): Sums {
  const sums: Sums = new Map();
  for (const job of state.jobs.values()) {
    if (job.tenant !== tenant || job.platform === 0) continue;
    const name = platformName(job.platform);
    const sum = sums.get(name) ?? { pages: 0, success: 0, errors: 0, ms: 0 };
    sum.pages += job.counts.successCount + job.counts.errorCount;
    sum.success += job.counts.successCount;
    sum.errors += job.counts.errorCount;
    sum.ms += job.counts.processingMsTotal;
    sums.set(name, sum);
  }
  return sums;
}

function scraperSums(state: LiveState): Sums {
  const sums: Sums = new Map();
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
  return sums;
}

function statsOf(sums: Sums): Record<string, PlatformStatsView> {
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

/** The most recent item previews of `scope`'s jobs, oldest first. */
export function recentPreviews(state: LiveState, scope?: TenantScope): readonly PreviewRecord[] {
  if (scope === undefined) return state.previews;
  return state.previews.filter((preview) => inScope(state.jobs.get(preview.jobId)?.tenant ?? "", scope));
}
