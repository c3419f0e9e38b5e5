/**
 * Every job this scraper knows, in creation order, and the per-platform
 * statistics over all of them.
 */
import { create } from "@bufbuild/protobuf";
import { isTerminal, JobKind, Platform, PlatformStatsSchema, type JobStatus, type PlatformStats } from "@trawl/proto";
import type { JobState } from "./job-state.js";

interface PlatformTotals {
  items: number;
  successCount: number;
  errorCount: number;
  processingMsTotal: number;
  retries: number;
  bytes: number;
  errorsByKind: Map<string, number>;
  skipped: Map<string, number>;
}

/** What a processed page adds to its platform's totals besides its outcome and time. */
export interface PageDetail {
  bytes: number;
  retries: number;
  /** errors_by_kind key of a failed page. */
  errorKey?: string;
}

const bump = (counts: Map<string, number>, key: string, by: number): void => {
  const next = (counts.get(key) ?? 0) + by;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
};

const toBigints = (counts: Map<string, number>): Record<string, bigint> => Object.fromEntries([...counts].map(([k, v]) => [k, BigInt(v)]));

export interface ListQuery {
  /** Empty: every status. */
  statuses: readonly JobStatus[];
  /** Empty or absent: every platform. */
  platforms?: readonly Platform[];
  /** Only jobs created at or after this instant (ms since the epoch). */
  createdAfterMs?: number;
  /** Only jobs of this tenant. */
  tenant?: string;
  /** Only jobs created before this instant (ms since the epoch). */
  createdBeforeMs?: number;
  pageSize: number;
  /** Only jobs created before the job with this ordinal (the page token). */
  beforeOrdinal?: number;
}

export interface ListPage {
  jobs: JobState[];
  /** Ordinal to continue before, when more jobs may match. */
  nextBeforeOrdinal?: number;
}

/** The filters of `query` as one predicate (the store applies the same ones in SQL). */
function jobMatcher({ statuses, platforms, createdAfterMs, createdBeforeMs, tenant }: ListQuery): (job: JobState) => boolean {
  const wantedStatuses = statuses.length > 0 ? new Set(statuses) : undefined;
  const wantedPlatforms = platforms !== undefined && platforms.length > 0 ? new Set(platforms) : undefined;
  return (job) => {
    if (wantedStatuses !== undefined && !wantedStatuses.has(job.status)) return false;
    if (wantedPlatforms !== undefined && !wantedPlatforms.has(job.platform)) return false;
    if (tenant !== undefined && job.tenant !== tenant) return false;
    const created = job.createdAt.getTime();
    if (createdAfterMs !== undefined && created < createdAfterMs) return false;
    if (createdBeforeMs !== undefined && created >= createdBeforeMs) return false;
    return true;
  };
}

export class JobRegistry {
  private readonly byId = new Map<string, JobState>();
  private readonly ordered: JobState[] = [];
  private readonly platforms = new Map<Platform, PlatformTotals>();

  /** The ordinal the next job gets. */
  get nextOrdinal(): number {
    return this.ordered.length;
  }

  add(job: JobState): void {
    const last = this.ordered.at(-1);
    if (job.ordinal < 0 || (last !== undefined && job.ordinal <= last.ordinal)) throw new RangeError(`job ordinal ${job.ordinal} is out of order`);
    this.byId.set(job.id, job);
    this.ordered.push(job);
    // A directory scan fetches no pages: it counts in no platform's statistics.
    if (job.kind !== JobKind.SCAN && !this.platforms.has(job.platform)) {
      this.platforms.set(job.platform, {
        items: 0,
        successCount: 0,
        errorCount: 0,
        processingMsTotal: 0,
        retries: 0,
        bytes: 0,
        errorsByKind: new Map(),
        skipped: new Map(),
      });
    }
  }

  get(id: string): JobState | undefined {
    return this.byId.get(id);
  }

  /** Newest first. */
  list(query: ListQuery): ListPage {
    const { pageSize, beforeOrdinal } = query;
    const matches = jobMatcher(query);
    const jobs: JobState[] = [];
    let i = Math.min(beforeOrdinal ?? this.ordered.length, this.ordered.length) - 1;
    for (; i >= 0 && jobs.length < pageSize; i--) {
      const job = this.ordered[i] as JobState;
      if (matches(job)) jobs.push(job);
    }
    const last = jobs.at(-1);
    // Offer a next page only when another matching job exists, so the last page has no token.
    for (; i >= 0 && last !== undefined; i--) {
      if (matches(this.ordered[i] as JobState)) return { jobs, nextBeforeOrdinal: last.ordinal };
    }
    return { jobs };
  }

  /** Every job, oldest first. */
  all(): readonly JobState[] {
    return this.ordered;
  }

  activeCount(): number {
    let active = 0;
    for (const job of this.ordered) if (!isTerminal(job.status)) active++;
    return active;
  }

  get size(): number {
    return this.ordered.length;
  }

  /** Starts the platform totals from stored ones (a restart): pages processed from now on add to them. */
  seed(stats: readonly PlatformStats[]): void {
    for (const s of stats) {
      // Crawls always have a platform; stored totals without one are directory scans, which count nowhere.
      if (s.platform === Platform.UNSPECIFIED) continue;
      this.platforms.set(s.platform, {
        items: Number(s.totalItems),
        successCount: Number(s.successCount),
        errorCount: Number(s.errorCount),
        processingMsTotal: Number(s.processingMsTotal),
        retries: Number(s.retries),
        bytes: Number(s.bytes),
        errorsByKind: new Map(Object.entries(s.errorsByKind).map(([k, v]) => [k, Number(v)])),
        skipped: new Map(Object.entries(s.skipped).map(([k, v]) => [k, Number(v)])),
      });
    }
  }

  /** Adds one processed page to its platform's totals. */
  recordPage(platform: Platform, ok: boolean, processingMs: number, detail?: PageDetail): void {
    const totals = this.platforms.get(platform);
    if (totals === undefined) return;
    if (ok) {
      totals.successCount++;
      totals.items++;
    } else {
      totals.errorCount++;
      if (detail?.errorKey !== undefined) bump(totals.errorsByKind, detail.errorKey, 1);
    }
    totals.processingMsTotal += processingMs;
    totals.retries += detail?.retries ?? 0;
    totals.bytes += detail?.bytes ?? 0;
  }

  /** Adds `count` (negative to correct an earlier count) skipped URLs for `reason` to the platform's totals. */
  recordSkip(platform: Platform, reason: string, count: number): void {
    const totals = this.platforms.get(platform);
    if (totals !== undefined) bump(totals.skipped, reason, count);
  }

  /** One entry per platform that has had a job, in platform order. */
  platformStats(): PlatformStats[] {
    return [...this.platforms.entries()]
      .sort(([a], [b]) => a - b)
      .map(([platform, t]) =>
        create(PlatformStatsSchema, {
          platform,
          totalItems: BigInt(t.items),
          successCount: BigInt(t.successCount),
          errorCount: BigInt(t.errorCount),
          processingMsTotal: BigInt(t.processingMsTotal),
          pages: BigInt(t.successCount + t.errorCount),
          retries: BigInt(t.retries),
          bytes: BigInt(t.bytes),
          errorsByKind: toBigints(t.errorsByKind),
          skipped: toBigints(t.skipped),
        }),
      );
  }
}
