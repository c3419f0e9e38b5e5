/**
 * The seed 002 dialect (SmartFamilyTravelScout's real-time updates): every
 * canonical event becomes one flat event object
 *
 *   { job_id, event_type, status, progress, results_count, message, metadata, timestamp }
 *
 * selected per connection with `/ws/scraping/{job_id}?format=flat`. The
 * tasks of a job (one per start URL) are the seed's "scrapers". Every number
 * comes from the event or the job record after it; nothing is estimated.
 *
 * - `job_id` is Trawl's id, a string (the seed shows an int; Trawl's are UUIDs).
 * - `status` is Trawl's own status name: pending, running, paused,
 *   completed, failed, cancelled.
 * - `progress` is pages done over pages known, in percent with one decimal;
 *   null while no page is known; 100 once the job completed.
 * - `results_count` is the job's items (one per successful page).
 * - `timestamp` is the event's time, ISO 8601 in UTC.
 */
import type { JobEvent, JobStarted, TaskFailed, TaskFinished } from "@trawl/proto";
import { isTerminal, JobStatus, jobStatusName, PageErrorKind, PageErrorKindSchema, platformName, SkipReason, type JobStatusName } from "@trawl/proto";
import type { JobRecord } from "../state/live-state.js";
import { isoTime, roundTo, timestampMs } from "../state/time.js";
import { jobElapsedSeconds } from "../state/views.js";
import { Delivery } from "../ws/connection.js";
import type { DialectFrame, EventDialect } from "./dialect.js";

export const SEED002_CHANNEL = "seed002";

/** The seed's event types, plus the "error event" an unknown job id gets. */
export type FlatEventType =
  | "job_started"
  | "job_progress"
  | "job_completed"
  | "job_failed"
  | "scraper_started"
  | "scraper_completed"
  | "scraper_failed"
  | "results_updated"
  | "error";

/** Event-specific data: only numbers and names the event (or the job record) carries. */
export type FlatMetadata = Record<string, string | number>;

/** The seed's event schema, keys in the seed's order. */
export interface FlatEvent {
  job_id: string;
  event_type: FlatEventType;
  status: JobStatusName;
  progress: number | null;
  results_count: number;
  message: string;
  metadata: FlatMetadata;
  timestamp: string;
}

/** One encoded flat event and the job it is about. */
export interface FlatFrame {
  readonly type: FlatEventType;
  readonly jobId: string;
  readonly json: string;
}

/**
 * What the dialect knows about a job's tasks: how many there are (from its
 * JobStarted) and the outcome of each task whose TaskFinished / TaskFailed
 * it encoded. Counts are reported only once every task's outcome was seen.
 */
export interface ScraperTally {
  readonly total: number;
  /** Task id → true when it finished, false when it failed. */
  readonly outcomes: Map<string, boolean>;
}

/** The final scraper counts, or undefined unless the tally saw every task end. */
export function scraperCounts(tally: ScraperTally | undefined): { successful: number; failed: number } | undefined {
  if (tally === undefined || tally.outcomes.size < tally.total) return undefined;
  let successful = 0;
  for (const finished of tally.outcomes.values()) if (finished) successful++;
  return { successful, failed: tally.outcomes.size - successful };
}

/** Conflation key of results_updated frames, apart from job_progress's (job ids never contain NUL). */
export function resultsKey(jobId: string): string {
  return `${jobId}\u0000results`;
}

/**
 * How a slow client may be spared each type. job_progress conflates on the
 * job id (latest wins; terminal and scraper events, keyed the same, push a
 * pending one out ahead of themselves, so order holds). results_updated is
 * dropped-and-counted rather than conflated: a conflated frame under its own
 * key would be flushed after the queued terminal event, and the next
 * job_progress or the terminal event carries results_count anyway.
 */
export function deliveryOf(type: FlatEventType): Delivery {
  switch (type) {
    case "job_progress":
      return Delivery.CONFLATE;
    case "results_updated":
      return Delivery.DROP_COUNTED;
    default:
      return Delivery.ALWAYS;
  }
}

/** Flat frames as dialect frames: each text encoded to bytes once. */
export function flatDialectFrames(frames: readonly FlatFrame[]): DialectFrame[] {
  return frames.map((frame) => ({
    jobId: frame.jobId,
    data: Buffer.from(frame.json),
    delivery: deliveryOf(frame.type),
    key: frame.type === "results_updated" ? resultsKey(frame.jobId) : frame.jobId,
  }));
}

/**
 * Encodes `event` (already applied, so `job` holds the state after it).
 * `tally` is what the dialect knows of the job's tasks, for the scraper
 * counts of the job events. Scan-only events (ScanProgress, ScanCompleted)
 * have no seed 002 message: the scan's JobProgress carries its counts.
 */
export function encodeEvent(event: JobEvent, job: JobRecord, tally?: ScraperTally): FlatFrame[] {
  const atMs = timestampMs(event.time) ?? job.lastEventMs;
  const kind = event.kind;
  // The scraper sends nothing after a job's terminal event; never forward anything that would follow it.
  if (isTerminal(job.status) && kind.case !== "completed" && kind.case !== "failed" && kind.case !== "cancelled") return [];
  switch (kind.case) {
    case "started":
      return [startedFrame(job, kind.value, atMs)];
    case "progress":
      return [progressFrame(job, atMs, progressMessage(job), tally)];
    case "paused":
      return [progressFrame(job, atMs, `Job paused: ${countsText(job)}`, tally)];
    case "resumed":
      return [progressFrame(job, atMs, `Job resumed${kind.value.recovered ? " after a scraper restart" : ""}: ${countsText(job)}`, tally)];
    case "pageFailed":
      return [progressFrame(job, atMs, `Page failed: ${kind.value.url} (${pageFailure(kind.value.errorKind, kind.value.httpStatus, kind.value.message)}); ${countsText(job)}`, tally)];
    case "pageSkipped":
      return [progressFrame(job, atMs, `Page skipped: ${kind.value.url} (${skipReason(kind.value.reason)}); ${countsText(job)}`, tally)];
    case "itemScraped": {
      const metadata: FlatMetadata = { platform: platformName(job.platform), url: kind.value.url, item_id: kind.value.item?.id ?? "", http_status: kind.value.httpStatus, processing_ms: kind.value.processingMs };
      const results = job.counts.items;
      return [frame(job, "results_updated", atMs, `${results} ${results === 1 ? "result" : "results"} so far, latest from ${kind.value.url}`, metadata)];
    }
    case "taskStarted":
      return [frame(job, "scraper_started", atMs, `Scraper started: ${kind.value.url}`, { task_id: kind.value.taskId, url: kind.value.url })];
    case "taskFinished":
      return [scraperCompletedFrame(job, kind.value, atMs)];
    case "taskFailed":
      return [scraperFailedFrame(job, kind.value, atMs)];
    case "completed":
    case "failed":
    case "cancelled":
      return [terminalFrame(job, atMs, tally)];
    default:
      return [];
  }
}

/**
 * The frame that brings a subscriber up to date with `job` when its events
 * were not seen one by one (on connect, or after a scraper snapshot): its
 * terminal event once it has ended, else a job_progress with its numbers.
 */
export function encodeJobState(job: JobRecord, atMs: number, tally?: ScraperTally): FlatFrame {
  if (isTerminal(job.status)) return terminalFrame(job, job.finishedAtMs ?? atMs, tally);
  return progressFrame(job, atMs, progressMessage(job), tally);
}

/** The seed's "error event" for a job id no scraper knows; the socket is closed 1008 after it. */
export function encodeUnknownJob(jobId: string, nowMs: number): string {
  const event: FlatEvent = {
    job_id: jobId,
    event_type: "error",
    status: "failed",
    progress: null,
    results_count: 0,
    message: `Unknown job: ${jobId}`,
    metadata: {},
    timestamp: isoTime(nowMs),
  };
  return JSON.stringify(event);
}

/** Percent of the known pages done, one decimal; null while none is known; 100 once completed. */
export function progressPercent(job: JobRecord): number | null {
  if (job.status === JobStatus.COMPLETED) return 100;
  const { pagesDone, pagesTotal } = job.counts;
  return pagesTotal === 0 ? null : roundTo(Math.min(100, (pagesDone / pagesTotal) * 100), 1);
}

function frame(job: JobRecord, type: FlatEventType, atMs: number, message: string, metadata: FlatMetadata): FlatFrame {
  const event: FlatEvent = {
    job_id: job.id,
    event_type: type,
    status: jobStatusName(job.status),
    progress: progressPercent(job),
    results_count: job.counts.items,
    message,
    metadata,
    timestamp: isoTime(atMs),
  };
  return { type, jobId: job.id, json: JSON.stringify(event) };
}

function startedFrame(job: JobRecord, started: JobStarted, atMs: number): FlatFrame {
  const platform = platformName(job.platform);
  const scan = started.job?.scan;
  if (scan !== undefined) return frame(job, "job_started", atMs, `Job started: directory scan of ${scan.path}`, { platform, path: scan.path });
  const spec = started.job?.spec;
  const urls = spec?.urls ?? [];
  const depth = spec?.depth ?? 0;
  const what = urls.length === 1 ? job.url : `${urls.length} start URLs`;
  return frame(job, "job_started", atMs, `Job started: ${platform} crawl of ${what}, depth ${depth}`, { platform, url: job.url, depth, total_scrapers: urls.length });
}

function progressFrame(job: JobRecord, atMs: number, message: string, tally: ScraperTally | undefined): FlatFrame {
  return frame(job, "job_progress", atMs, message, jobMetadata(job, tally));
}

function scraperCompletedFrame(job: JobRecord, task: TaskFinished, atMs: number): FlatFrame {
  const message = `Scraper completed: ${task.url} (${plural(task.pages, "page")}, ${plural(task.items, "result")}, ${plural(task.errors, "error")})`;
  return frame(job, "scraper_completed", atMs, message, { task_id: task.taskId, url: task.url, pages: task.pages, items: task.items, errors: task.errors });
}

function scraperFailedFrame(job: JobRecord, task: TaskFailed, atMs: number): FlatFrame {
  return frame(job, "scraper_failed", atMs, `Scraper failed: ${task.errorMessage === "" ? task.url : task.errorMessage}`, { task_id: task.taskId, url: task.url });
}

function terminalFrame(job: JobRecord, atMs: number, tally: ScraperTally | undefined): FlatFrame {
  const metadata = { ...jobMetadata(job, tally), elapsed_seconds: jobElapsedSeconds(job, atMs) };
  const { items, pagesDone, errorCount } = job.counts;
  switch (job.status) {
    case JobStatus.COMPLETED:
      return frame(
        job,
        "job_completed",
        atMs,
        `Job completed: ${plural(items, "result")} from ${plural(pagesDone, "page")} (${errorCount} failed) in ${metadata.elapsed_seconds} s`,
        metadata,
      );
    case JobStatus.CANCELLED:
      return frame(job, "job_failed", atMs, `Job cancelled: ${job.error === "" ? "by request" : job.error}`, metadata);
    default:
      return frame(job, "job_failed", atMs, `Job failed: ${job.error === "" ? "unknown error" : job.error}`, metadata);
  }
}

/** The job's counts; the scraper counts once every task has ended. */
function jobMetadata(job: JobRecord, tally: ScraperTally | undefined): FlatMetadata {
  const metadata: FlatMetadata = {
    platform: platformName(job.platform),
    pages_done: job.counts.pagesDone,
    pages_total: job.counts.pagesTotal,
    success_count: job.counts.successCount,
    error_count: job.counts.errorCount,
  };
  const scrapers = scraperCounts(tally);
  if (scrapers !== undefined) {
    metadata.successful_scrapers = scrapers.successful;
    metadata.failed_scrapers = scrapers.failed;
  }
  return metadata;
}

function progressMessage(job: JobRecord): string {
  switch (job.status) {
    case JobStatus.PAUSED:
      return `Job paused: ${countsText(job)}`;
    case JobStatus.PENDING:
      return `Job pending: ${countsText(job)}`;
    default:
      return `Scraping in progress: ${countsText(job)}`;
  }
}

function countsText(job: JobRecord): string {
  const { pagesDone, pagesTotal, successCount, errorCount } = job.counts;
  return `${pagesDone} of ${plural(pagesTotal, "page")} done, ${successCount} succeeded, ${errorCount} failed`;
}

function pageFailure(kind: PageErrorKind, httpStatus: number, message: string): string {
  if (kind === PageErrorKind.HTTP && httpStatus !== 0) return `HTTP ${httpStatus}`;
  if (message !== "") return message;
  return PageErrorKindSchema.values.find((value) => value.number === kind)?.localName.toLowerCase() ?? "error";
}

function skipReason(reason: SkipReason): string {
  switch (reason) {
    case SkipReason.ROBOTS:
      return "disallowed by robots.txt";
    case SkipReason.SCOPE:
      return "outside the job's scope";
    case SkipReason.PAGE_LIMIT:
      return "over the page limit";
    case SkipReason.DEPTH:
      return "deeper than the job's depth";
    default:
      return "skipped";
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * The dialect as the gateway uses it. It also keeps, per job record (so a
 * record replaced by a snapshot, or evicted, takes its tally with it), the
 * task tally that lets job events report successful / failed scrapers.
 */
export class FlatDialect implements EventDialect {
  readonly channel = SEED002_CHANNEL;
  private readonly tallies = new WeakMap<JobRecord, ScraperTally>();

  encodeEvent(event: JobEvent, job: JobRecord): DialectFrame[] {
    this.observe(event, job);
    return flatDialectFrames(encodeEvent(event, job, this.tallies.get(job)));
  }

  encodeJobState(job: JobRecord, nowMs: number): DialectFrame[] {
    return flatDialectFrames([encodeJobState(job, nowMs, this.tallies.get(job))]);
  }

  /** The frame a subscriber gets on connect, after any replayed start events (see `encodeJobState`). */
  openingFrame(job: JobRecord, atMs: number): FlatFrame {
    return encodeJobState(job, atMs, this.tallies.get(job));
  }

  /**
   * Records what `event` tells about the job's tasks: JobStarted gives their
   * number (one task per start URL), TaskFinished / TaskFailed one outcome.
   * Called for live events and for the JobStarted a late subscriber's replay
   * reads from the scraper's log.
   */
  observe(event: JobEvent, job: JobRecord): void {
    const kind = event.kind;
    switch (kind.case) {
      case "started": {
        // A scan has no tasks, so no scrapers to count.
        const total = kind.value.job?.spec?.urls.length ?? 0;
        if (total > 0 && !this.tallies.has(job)) this.tallies.set(job, { total, outcomes: new Map() });
        break;
      }
      case "taskFinished":
        this.tallies.get(job)?.outcomes.set(kind.value.taskId, true);
        break;
      case "taskFailed":
        this.tallies.get(job)?.outcomes.set(kind.value.taskId, false);
        break;
      default:
        break;
    }
  }
}

/** The seed 002 dialect (`/ws/scraping/{job_id}?format=flat`). */
export const SEED002_DIALECT = new FlatDialect();
