/**
 * The seed 003 dialect (Semantik's WebSocket API): pure encoders from the
 * canonical event stream to the file-processing messages of `/ws/{job_id}`
 * — job_started, file_processing, file_completed, job_completed, error —
 * and, in seed003-scan.ts, the directory-scan messages of `/ws/scan/{scan_id}`.
 *
 * A crawl's "files" are its pages. A scan's are the directory entries it
 * examines while it runs (its ScanProgress: scanned of total found so far),
 * and once it has completed, the files it listed (its final counters) — the
 * numbers a client connecting afterwards gets too. Every number is the job's
 * own counter (pages_done, pages_total) or a scan event's (scanned, total);
 * none is invented. The messages carry no timestamps, as in the seed.
 *
 * Every progress-like message of a job (file_processing and file_completed)
 * conflates on one key, the job id: a client that falls behind gets the
 * latest numbers, and a terminal message — queued on the same key — always
 * goes out after them, never before (the send queue flushes a key's pending
 * conflated frame ahead of a must-arrive frame of the same key only).
 */
import { isTerminal, JobStatus, type JobEvent } from "@trawl/proto";
import type { JobRecord } from "../state/live-state.js";
import { Delivery } from "../ws/connection.js";
import type { DialectFrame, EventDialect } from "./dialect.js";
import { encodeScanEvent, encodeScanJobState } from "./seed003-scan.js";

/** Hub channel of `/ws/{job_id}` subscribers. */
export const SEED003_JOB_CHANNEL = "seed003-job";
/** Hub channel of `/ws/scan/{scan_id}` sockets, each subscribed to the scan it started. */
export const SEED003_SCAN_CHANNEL = "seed003-scan";

export type Seed003JobType = "job_started" | "file_processing" | "file_completed" | "job_completed" | "error";

/** One encoded seed 003 message, the job it is about, and how a slow client may be spared it. */
export interface Seed003Frame<T extends string = string> {
  readonly type: T;
  readonly jobId: string;
  readonly json: string;
  readonly delivery: Delivery;
}

/** The `message` of job_completed, as the seed shows it. */
export const JOB_COMPLETED_MESSAGE = "Job completed successfully";

/** file_processing's `status` word for a job that is running (the seed's only one) or paused. */
export type FileStatusWord = "Processing" | "Paused";

/**
 * The messages `event` produces for `/ws/{job_id}` subscribers (`job` is the
 * state after applying it):
 * - JobProgress → file_processing for the current item's URL when the job has
 *   one (crawls), else file_completed with the counts (scans, or a crawl
 *   before its first success);
 * - ItemScraped → file_completed; PageFailed → file_completed, then an error
 *   naming the URL and the reason;
 * - ScanProgress → file_processing for the scan's current path;
 * - JobPaused / JobResumed → the progress message with status "Paused" /
 *   "Processing";
 * - JobCompleted → job_completed; JobFailed / JobCancelled → error.
 * JobStarted produces nothing: every client connects after the start (it
 * needs the job id) and gets job_started from {@link encodeFileJobOpening}.
 * ScanCompleted produces nothing here: the JobProgress after it carries the
 * final counts. Once the job has ended, only its terminal event encodes to
 * anything (the scrapers emit nothing after it; this holds even if one did).
 */
export function encodeFileJobEvent(event: JobEvent, job: JobRecord): Seed003Frame<Seed003JobType>[] {
  const kind = event.kind;
  if (isTerminal(job.status) && !endsJob(event)) return [];
  switch (kind.case) {
    case "progress":
      return [progressFrame(job, "Processing")];
    case "paused":
      return [progressFrame(job, "Paused")];
    case "resumed":
      return [progressFrame(job, "Processing")];
    case "itemScraped":
      return [fileCompletedFrame(job)];
    case "pageFailed":
      return [fileCompletedFrame(job), pageErrorFrame(job.id, kind.value.url, kind.value.message)];
    case "scanProgress":
      return [fileProcessingFrame(job.id, kind.value.currentPath, kind.value.scanned, kind.value.total, "Processing")];
    case "completed":
    case "failed":
    case "cancelled":
      return terminalFrames(job);
    default:
      return [];
  }
}

/**
 * What a client connecting to `/ws/{job_id}` gets first: job_started with the
 * job's current total, then its current state (see {@link encodeFileJobState}).
 */
export function encodeFileJobOpening(job: JobRecord): Seed003Frame<Seed003JobType>[] {
  return [encodeJobStarted(job), ...encodeFileJobState(job)];
}

/** job_started with the job's total as of now (pages known for a crawl, entries found — files once done — for a scan). */
export function encodeJobStarted(job: JobRecord): Seed003Frame<Seed003JobType> {
  return message(job.id, "job_started", Delivery.ALWAYS, { type: "job_started", total_files: job.counts.pagesTotal });
}

/**
 * The job's current state as messages, for a client that did not see its
 * events one by one (a new connection, or a scraper snapshot): the progress
 * message once anything has been processed, then — when it has ended — its
 * terminal message.
 */
export function encodeFileJobState(job: JobRecord): Seed003Frame<Seed003JobType>[] {
  const frames: Seed003Frame<Seed003JobType>[] = [];
  const hasProgress = job.currentItem !== undefined || job.counts.pagesDone > 0;
  if (isTerminal(job.status)) {
    if (hasProgress) frames.push(fileCompletedFrame(job));
    frames.push(...terminalFrames(job));
  } else if (hasProgress) {
    frames.push(progressFrame(job, job.status === JobStatus.PAUSED ? "Paused" : "Processing"));
  }
  return frames;
}

/** The error sent before closing a `/ws/{job_id}` connection whose job no scraper knows. */
export function encodeUnknownFileJob(jobId: string): string {
  return JSON.stringify({ type: "error", message: `Unknown job: ${jobId}` });
}

/** True for the events that end a job. */
export function endsJob(event: JobEvent): boolean {
  const kind = event.kind.case;
  return kind === "completed" || kind === "failed" || kind === "cancelled";
}

/** The terminal message of an ended job; none while it runs. */
function terminalFrames(job: JobRecord): Seed003Frame<Seed003JobType>[] {
  switch (job.status) {
    case JobStatus.COMPLETED:
      return [message(job.id, "job_completed", Delivery.ALWAYS, { type: "job_completed", message: JOB_COMPLETED_MESSAGE })];
    case JobStatus.FAILED:
      return [errorFrame(job.id, job.error === "" ? "Job failed" : job.error, Delivery.ALWAYS)];
    case JobStatus.CANCELLED:
      return [errorFrame(job.id, `Job cancelled: ${job.error === "" ? "by request" : job.error}`, Delivery.ALWAYS)];
    default:
      return [];
  }
}

/** file_processing when the job has a current item (its URL is the "file"), else file_completed. */
function progressFrame(job: JobRecord, status: FileStatusWord): Seed003Frame<Seed003JobType> {
  const current = job.currentItem;
  if (current === undefined) return fileCompletedFrame(job);
  return fileProcessingFrame(job.id, current.url, job.counts.pagesDone, job.counts.pagesTotal, status);
}

function fileProcessingFrame(jobId: string, currentFile: string, processed: number, total: number, status: FileStatusWord): Seed003Frame<Seed003JobType> {
  return message(jobId, "file_processing", Delivery.CONFLATE, {
    type: "file_processing",
    current_file: currentFile,
    processed_files: processed,
    total_files: total,
    status,
  });
}

function fileCompletedFrame(job: JobRecord): Seed003Frame<Seed003JobType> {
  return message(job.id, "file_completed", Delivery.CONFLATE, { type: "file_completed", processed_files: job.counts.pagesDone, total_files: job.counts.pagesTotal });
}

/**
 * A failed page, in the seed's "Failed to process file: Permission denied"
 * form. Dropped (and counted) for a client that has fallen behind, like an
 * item preview: it is one page's notice, and a crawl of a dead site must not
 * grow a slow client's queue by one frame a page. The job's own failure is
 * never dropped.
 */
function pageErrorFrame(jobId: string, url: string, reason: string): Seed003Frame<Seed003JobType> {
  return errorFrame(jobId, reason === "" ? `Failed to process ${url}` : `Failed to process ${url}: ${reason}`, Delivery.DROP_COUNTED);
}

function errorFrame(jobId: string, text: string, delivery: Delivery): Seed003Frame<Seed003JobType> {
  return message(jobId, "error", delivery, { type: "error", message: text });
}

function message<T extends string>(jobId: string, type: T, delivery: Delivery, body: Record<string, unknown>): Seed003Frame<T> {
  return { type, jobId, json: JSON.stringify(body), delivery };
}

/** Seed 003 frames as dialect frames: each text encoded to bytes once; all of a job's frames share its key. */
export function seed003DialectFrames(frames: readonly Seed003Frame[]): DialectFrame[] {
  return frames.map((frame) => ({ jobId: frame.jobId, data: Buffer.from(frame.json), delivery: frame.delivery }));
}

/** `/ws/{job_id}`: crawl and scan jobs as file processing. */
export const SEED003_JOB_DIALECT: EventDialect = {
  channel: SEED003_JOB_CHANNEL,
  encodeEvent: (event, job) => seed003DialectFrames(encodeFileJobEvent(event, job)),
  encodeJobState: (job) => seed003DialectFrames(encodeFileJobState(job)),
};

/** `/ws/scan/{scan_id}`: the scan a socket started, as progress, then completed or error. */
export const SEED003_SCAN_DIALECT: EventDialect = {
  channel: SEED003_SCAN_CHANNEL,
  encodeEvent: (event, job) => (isTerminal(job.status) && !endsJob(event) ? [] : seed003DialectFrames(encodeScanEvent(event))),
  encodeJobState: (job) => seed003DialectFrames(encodeScanJobState(job)),
};
