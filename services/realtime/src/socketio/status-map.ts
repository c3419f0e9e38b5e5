/**
 * Seed 004's job lifecycle (PENDING → PROCESSING → DELIVERED / BLOCKED /
 * ABORTED) read off Trawl's job statuses. Pure: the caller supplies what the
 * status alone cannot tell (whether a failed job was blocked by robots.txt).
 */
import { JobStatus } from "@trawl/proto";

/** Seed 004's status values, in lifecycle order. */
export const SEED004_STATUSES = ["PENDING", "PROCESSING", "DELIVERED", "BLOCKED", "ABORTED"] as const;
export type Seed004Status = (typeof SEED004_STATUSES)[number];

/**
 * Seed 004's status for a Trawl status. Running and paused jobs are both
 * PROCESSING (the message says "Paused"); a completed job is DELIVERED; a
 * failed job is BLOCKED when robots.txt refused every start URL (see
 * `wasBlocked`), otherwise ABORTED, like a cancelled one.
 */
export function seed004Status(status: JobStatus, blocked: boolean): Seed004Status {
  switch (status) {
    case JobStatus.RUNNING:
    case JobStatus.PAUSED:
      return "PROCESSING";
    case JobStatus.COMPLETED:
      return "DELIVERED";
    case JobStatus.FAILED:
      return blocked ? "BLOCKED" : "ABORTED";
    case JobStatus.CANCELLED:
      return "ABORTED";
    default:
      return "PENDING";
  }
}

/**
 * Whether a job ended BLOCKED: it failed without fetching a single page and
 * robots.txt refused at least one URL. The scraper fails (never completes) a
 * job with no successful page, and a start URL refused by robots.txt is
 * counted in `skipped.robots`, not in `pagesDone` — so "failed, nothing
 * fetched, robots refusals" means robots.txt blocked every start URL, the
 * crawl's equivalent of the seed's "QC issues block delivery".
 */
export function wasBlocked(status: JobStatus, pagesDone: number, robotsSkips: number): boolean {
  return status === JobStatus.FAILED && pagesDone === 0 && robotsSkips > 0;
}

/** Whether deciding BLOCKED needs the job's robots.txt skip count (only a failed job that fetched nothing). */
export function blockedIsPossible(status: JobStatus, pagesDone: number): boolean {
  return status === JobStatus.FAILED && pagesDone === 0;
}

/** The message events that carry a seed 004 status. */
export type Seed004JobEvent = "job:update" | "job:completed" | "job:error";

/** Which job message a status travels in: job:update while the job lives, then its terminal message. */
export function jobEventFor(status: Seed004Status): Seed004JobEvent {
  switch (status) {
    case "DELIVERED":
      return "job:completed";
    case "BLOCKED":
    case "ABORTED":
      return "job:error";
    default:
      return "job:update";
  }
}
