/**
 * The REST representation of a scraper's Job (`/api/jobs…`): snake_case,
 * lower-case enum names, ISO times, numbers instead of 64-bit strings.
 */
import { JobKind, jobStatusName, platformName, type Job, type JobStatusName, type PlatformName } from "@trawl/proto";
import { isoTime, timestampMs } from "../state/time.js";

export interface JobJson {
  job_id: string;
  kind: "crawl" | "scan";
  platform: PlatformName;
  status: JobStatusName;
  urls: string[];
  depth: number;
  max_pages: number;
  created_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
  /** Set for directory scans. */
  scan: { path: string; recursive: boolean; max_files: number } | null;
  counters: {
    pages_done: number;
    pages_total: number;
    success_count: number;
    error_count: number;
    items: number;
    bytes: number;
    processing_ms_total: number;
    retries: number;
    skipped: Record<string, number>;
    errors_by_kind: Record<string, number>;
    p95_page_ms: number;
    near_duplicates: number;
    files: number;
    total_size: number;
    /** Mean processing time (fetch + parse) of the pages done. */
    avg_page_ms: number;
    /** Pages done per second of the job's elapsed time. */
    pages_per_second: number;
  };
  elapsed_seconds: number;
  last_seq: number;
  scraper: string;
}

/**
 * `nowMs` ends the elapsed time of a job that is still running; rates are
 * derived from the job's own counters and times, never estimated.
 */
export function jobJson(job: Job, scraperAddress: string, nowMs: number): JobJson {
  const counters = job.counters;
  const pagesDone = counters?.pagesDone ?? 0;
  const startedMs = timestampMs(job.startedAt);
  const elapsedMs = startedMs === undefined ? 0 : Math.max(0, (timestampMs(job.finishedAt) ?? nowMs) - startedMs);
  return {
    job_id: job.id,
    kind: job.kind === JobKind.SCAN ? "scan" : "crawl",
    platform: platformName(job.platform),
    status: jobStatusName(job.status),
    urls: job.spec?.urls ?? [],
    depth: job.spec?.depth ?? 0,
    max_pages: job.spec?.maxPages ?? 0,
    created_at: iso(job.createdAt),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    error: job.error === "" ? null : job.error,
    scan: job.scan === undefined ? null : { path: job.scan.path, recursive: job.scan.recursive, max_files: job.scan.maxFiles },
    counters: {
      pages_done: counters?.pagesDone ?? 0,
      pages_total: counters?.pagesTotal ?? 0,
      success_count: counters?.successCount ?? 0,
      error_count: counters?.errorCount ?? 0,
      items: counters?.items ?? 0,
      bytes: Number(counters?.bytes ?? 0n),
      processing_ms_total: Number(counters?.processingMsTotal ?? 0n),
      retries: counters?.retries ?? 0,
      skipped: { ...(counters?.skipped ?? {}) },
      errors_by_kind: { ...(counters?.errorsByKind ?? {}) },
      p95_page_ms: counters?.p95PageMs ?? 0,
      near_duplicates: counters?.nearDuplicates ?? 0,
      files: counters?.files ?? 0,
      total_size: Number(counters?.totalSize ?? 0n),
      avg_page_ms: pagesDone === 0 ? 0 : round(Number(counters?.processingMsTotal ?? 0n) / pagesDone, 1),
      pages_per_second: elapsedMs === 0 ? 0 : round(pagesDone / (elapsedMs / 1000), 2),
    },
    elapsed_seconds: round(elapsedMs / 1000, 2),
    last_seq: Number(job.lastSeq),
    scraper: scraperAddress,
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function iso(timestamp: Parameters<typeof timestampMs>[0]): string | null {
  const ms = timestampMs(timestamp);
  return ms === undefined ? null : isoTime(ms);
}
