/**
 * The seed 002 polling fallback, `GET /ws/scraping/{job_id}/status`: one
 * job's status as plain JSON for clients that cannot hold a WebSocket.
 */
import { JobStatus, jobStatusName, platformName, type JobStatusName, type PlatformName } from "@trawl/proto";
import type { JobRecord } from "../state/live-state.js";
import { isoTime, roundTo } from "../state/time.js";
import { jobElapsedSeconds } from "../state/views.js";

export interface JobStatusJson {
  job_id: string;
  status: JobStatusName;
  progress: number;
  items_scraped: number;
  results_count: number;
  success_count: number;
  error_count: number;
  items_total: number;
  platform: PlatformName;
  started_at: string;
  finished_at: string | null;
  elapsed_seconds: number;
  message: string | null;
}

/** The status of `job` as of `nowMs`. */
export function jobStatusJson(job: JobRecord, nowMs: number): JobStatusJson {
  const { pagesDone, pagesTotal } = job.counts;
  return {
    job_id: job.id,
    status: jobStatusName(job.status),
    progress: pagesTotal === 0 ? 0 : roundTo(Math.min(100, (pagesDone / pagesTotal) * 100), 1),
    items_scraped: pagesDone,
    results_count: job.counts.items,
    success_count: job.counts.successCount,
    error_count: job.counts.errorCount,
    items_total: pagesTotal,
    platform: platformName(job.platform),
    started_at: isoTime(job.startedAtMs),
    finished_at: job.finishedAtMs === undefined ? null : isoTime(job.finishedAtMs),
    elapsed_seconds: jobElapsedSeconds(job, nowMs),
    message: statusMessage(job),
  };
}

function statusMessage(job: JobRecord): string | null {
  switch (job.status) {
    case JobStatus.FAILED:
      return job.error === "" ? "Job failed" : job.error;
    case JobStatus.CANCELLED:
      return `Job cancelled: ${job.error === "" ? "by request" : job.error}`;
    default:
      return null;
  }
}
