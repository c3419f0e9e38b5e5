/**
 * The directory-scan messages of seed 003's `/ws/scan/{scan_id}`: progress
 * while the scraper lists the directory, then completed with the files — or
 * error. Pure encoders of the scan job's canonical events; the socket that
 * started the scan is the only subscriber (see ws/seed003-scan-session.ts).
 */
import { JobStatus, type JobEvent, type ScanCompleted } from "@trawl/proto";
import type { JobRecord } from "../state/live-state.js";
import { isoTime, timestampMs } from "../state/time.js";
import { Delivery } from "../ws/connection.js";
import type { Seed003Frame } from "./seed003.js";

export type Seed003ScanType = "progress" | "completed" | "error";

/** One file of a completed message, exactly as the seed shows it. */
export interface ScanFileView {
  path: string;
  size: number;
  /** ISO 8601; null only if the scraper sent none (it always does). */
  modified: string | null;
  extension: string;
}

/**
 * The messages `event` of a scan job produces on the scan socket:
 * ScanProgress → progress (conflated: only the latest matters to a client
 * that fell behind); ScanCompleted → completed; JobFailed → error with the
 * scraper's message; JobCancelled → error saying it was cancelled. The
 * JobCompleted after ScanCompleted, and JobProgress, add nothing here.
 */
export function encodeScanEvent(event: JobEvent): Seed003Frame<Seed003ScanType>[] {
  const kind = event.kind;
  switch (kind.case) {
    case "scanProgress":
      return [
        frame(event.jobId, "progress", Delivery.CONFLATE, { type: "progress", scanned: kind.value.scanned, total: kind.value.total, current_path: kind.value.currentPath }),
      ];
    case "scanCompleted":
      return [frame(event.jobId, "completed", Delivery.ALWAYS, completedBody(kind.value))];
    case "failed":
      return [scanErrorFrame(event.jobId, failedMessage(kind.value.errorMessage))];
    case "cancelled":
      return [scanErrorFrame(event.jobId, cancelledMessage(kind.value.reason))];
    default:
      return [];
  }
}

/**
 * A scan job as a scraper snapshot left it, for its socket: the error of a
 * failed or cancelled scan; for a completed one whose ScanCompleted the
 * gateway never received (it is gone from the scraper's log), an error
 * saying so rather than an invented empty list. A running scan gets nothing
 * (the snapshot has no current path); its next progress follows.
 */
export function encodeScanJobState(job: JobRecord): Seed003Frame<Seed003ScanType>[] {
  switch (job.status) {
    case JobStatus.FAILED:
      return [scanErrorFrame(job.id, failedMessage(job.error))];
    case JobStatus.CANCELLED:
      return [scanErrorFrame(job.id, cancelledMessage(job.error))];
    case JobStatus.COMPLETED:
      return [scanErrorFrame(job.id, RESULT_LOST_MESSAGE)];
    default:
      return [];
  }
}

/** Sent when a scan ended while the gateway was cut off from its scraper for longer than the scraper's log reaches back. */
export const RESULT_LOST_MESSAGE = "The scan finished, but its file list is no longer available; run the scan again";

/** The scan socket's error message, `{"type":"error","message":…}`, for anything that is not about a scan job's events. */
export function encodeScanError(message: string): string {
  return JSON.stringify({ type: "error", message });
}

/** The seed's completed message: files with numeric sizes and ISO modification times. */
function completedBody(result: ScanCompleted): Record<string, unknown> {
  const files: ScanFileView[] = result.files.map((file) => ({
    path: file.path,
    size: Number(file.size),
    modified: file.modified === undefined ? null : isoTime(timestampMs(file.modified) ?? 0),
    extension: file.extension,
  }));
  return { type: "completed", files, count: result.count, total_size: Number(result.totalSize), warnings: result.warnings };
}

function failedMessage(error: string): string {
  return error === "" ? "Failed to scan directory" : error;
}

function cancelledMessage(reason: string): string {
  return `Scan cancelled: ${reason === "" ? "by request" : reason}`;
}

function scanErrorFrame(jobId: string, message: string): Seed003Frame<Seed003ScanType> {
  return frame(jobId, "error", Delivery.ALWAYS, { type: "error", message });
}

function frame(jobId: string, type: Seed003ScanType, delivery: Delivery, body: Record<string, unknown>): Seed003Frame<Seed003ScanType> {
  return { type, jobId, json: JSON.stringify(body), delivery };
}
