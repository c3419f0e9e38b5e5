/**
 * The seed 004 (BACOWR) Socket.IO messages: pure encoders from canonical
 * events and live-state records to the payloads of `job:update`,
 * `job:completed`, `job:error`, `batch:update`, `subscribed` and
 * `connection`, plus the validation of the client's subscription payloads.
 * Every number is read from the JobRecord (the state after the event) or
 * from the job's facts (tasks, robots.txt refusals); none is estimated. The
 * edge (socketio-edge.ts) builds each payload once per event and broadcasts
 * it to a room, so socket.io encodes it once for every subscriber.
 */
import { isTerminal, jobStatusName, JobStatus, type JobEvent, type JobStatusName } from "@trawl/proto";
import type { JobRecord } from "../state/live-state.js";
import { isoTime, timestampMs } from "../state/time.js";
import type { JobFacts } from "./job-facts.js";
import { jobEventFor, seed004Status, wasBlocked, type Seed004JobEvent, type Seed004Status } from "./status-map.js";

/** The payload of `job:update`, `job:completed` and `job:error`: exactly the seed's five fields. */
export interface JobMessage {
  /** Null only in the answer to a subscription that named no usable id. */
  job_id: string | null;
  status: Seed004Status;
  /** Integer percent of pages done over pages known (0 while none is known); 100 once DELIVERED. */
  progress: number;
  message: string;
  /** ISO-8601 with milliseconds and Z. */
  timestamp: string;
}

/** The payload of `batch:update`: a batch is a job started with several URLs, each URL one task. */
export interface BatchMessage {
  batch_id: string;
  /** Tasks (start URLs) of the batch. */
  total: number;
  /** Tasks that finished or failed. */
  completed: number;
  /** Integer percent of tasks ended. */
  progress: number;
  /** Trawl's own lower-case status name (the seed shows "running"). */
  status: JobStatusName;
  message: string;
  timestamp: string;
}

export interface ConnectionMessage {
  connected: true;
  session_id: string;
}

export type SubscribedMessage = { job_id: string } | { batch_id: string };

/** One job message to send, and whether a slow client may be spared it (only the latest job:update matters). */
export interface JobOutgoing {
  readonly event: Seed004JobEvent;
  readonly payload: JobMessage;
  /** True for `job:update` (progress); terminal messages always go. */
  readonly droppable: boolean;
}

/** Why a job message is sent: the kind of event it encodes, or a picture of the job's state (subscription, snapshot). */
export type JobMoment = "started" | "progress" | "paused" | "resumed" | "state";

/** How many characters a job or batch id may have. */
export const MAX_ID_LENGTH = 256;

/** Integer percent of `done` over `total`, rounded down, 0 when nothing is known yet. */
export function percentOf(done: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.max(0, Math.min(100, Math.floor((done * 100) / total)));
}

/** `n` with its noun, singular for one: "1 error", "3 errors". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** Pages for a crawl, files for a directory scan (a job without a start URL). */
function unitOf(job: JobRecord): string {
  return job.url === "" ? "file" : "page";
}

/** "45/120 pages, 3 errors" — pages done over pages known, and the failures among them. */
export function pagesSummary(job: JobRecord): string {
  const unit = unitOf(job);
  return `${job.counts.pagesDone}/${job.counts.pagesTotal} ${unit}s, ${count(job.counts.errorCount, "error")}`;
}

/** Whether `job` ended BLOCKED, given what its facts know of robots.txt refusals. */
export function isBlocked(job: JobRecord, facts: JobFacts | undefined): boolean {
  return wasBlocked(job.status, job.counts.pagesDone, facts?.robotsSkips ?? 0);
}

/** The human message of a job message: real numbers from the record, never a canned progress story. */
export function jobMessageText(job: JobRecord, status: Seed004Status, moment: JobMoment): string {
  switch (status) {
    case "PENDING":
      return "Job created and queued for processing";
    case "PROCESSING":
      if (job.status === JobStatus.PAUSED) return `Paused: ${pagesSummary(job)}`;
      if (moment === "started") return job.url === "" ? "Job started" : `Job started: crawling ${job.url}`;
      if (moment === "resumed") return `Resumed: ${pagesSummary(job)}`;
      return `${job.url === "" ? "Scanning" : "Crawling"}: ${pagesSummary(job)}`;
    case "DELIVERED":
      return `Delivered: ${count(job.counts.items, "item")} from ${count(job.counts.pagesDone, unitOf(job))}, ${count(job.counts.errorCount, "error")}`;
    case "BLOCKED":
      return `Blocked by robots.txt: ${job.error === "" ? "every start URL was disallowed" : job.error}`;
    case "ABORTED":
      if (job.status === JobStatus.CANCELLED) return `cancelled: ${job.error === "" ? "no reason given" : job.error}`;
      return `Error: ${job.error === "" ? "job failed" : job.error}`;
  }
}

/**
 * The job message that describes `job` at `atMs`: `job:update` while it
 * lives, its terminal `job:completed` / `job:error` once it has ended.
 */
export function encodeJobMessage(job: JobRecord, atMs: number, moment: JobMoment, facts: JobFacts | undefined): JobOutgoing {
  const status = seed004Status(job.status, isBlocked(job, facts));
  const event = jobEventFor(status);
  const payload: JobMessage = {
    job_id: job.id,
    status,
    progress: status === "DELIVERED" ? 100 : percentOf(job.counts.pagesDone, job.counts.pagesTotal),
    message: jobMessageText(job, status, moment),
    timestamp: isoTime(atMs),
  };
  return { event, payload, droppable: event === "job:update" };
}

/**
 * The job message an applied event produces, if any: `job:update` for
 * started / progress / paused / resumed (the scraper already throttles
 * progress events, so item and page events add nothing), the terminal
 * message for completed / failed / cancelled. Nothing for any other kind,
 * nor for a non-terminal event of a job that has already ended.
 */
export function encodeJobEvent(event: JobEvent, job: JobRecord, facts: JobFacts | undefined): JobOutgoing | undefined {
  const atMs = timestampMs(event.time) ?? job.lastEventMs;
  const kind = event.kind.case;
  switch (kind) {
    case "started":
    case "progress":
    case "paused":
    case "resumed":
      return isTerminal(job.status) ? undefined : encodeJobMessage(job, atMs, kind, facts);
    case "completed":
    case "failed":
    case "cancelled":
      return encodeJobMessage(job, atMs, "state", facts);
    default:
      return undefined;
  }
}

/**
 * The state picture a subscriber gets at once: the job's current message,
 * stamped with the time of the last event it reflects (its finish time once
 * it has ended), so live messages that follow never go back in time.
 */
export function encodeJobState(job: JobRecord, facts: JobFacts | undefined): JobOutgoing {
  return encodeJobMessage(job, stateTimeOf(job), "state", facts);
}

/** The `batch:update` of `job` as a batch at `atMs`. */
export function encodeBatchMessage(job: JobRecord, facts: JobFacts, atMs: number): BatchMessage {
  const total = facts.tasks ?? 0;
  const ended = isTerminal(job.status);
  const completed = ended ? total : Math.min(total, facts.tasksEnded);
  return {
    batch_id: job.id,
    total,
    completed,
    progress: ended && total === 0 ? 100 : percentOf(completed, total),
    status: jobStatusName(job.status),
    message: batchMessageText(job, completed, total),
    timestamp: isoTime(atMs),
  };
}

/** The `batch:update` a batch subscriber gets at once, stamped like `encodeJobState`. */
export function encodeBatchState(job: JobRecord, facts: JobFacts): BatchMessage {
  return encodeBatchMessage(job, facts, stateTimeOf(job));
}

/** The time a state picture of `job` reflects: its last applied event, or its finish once it has ended. */
export function stateTimeOf(job: JobRecord): number {
  return isTerminal(job.status) ? (job.finishedAtMs ?? job.lastEventMs) : job.lastEventMs;
}

/** "Processing batch: 1/3 URLs done, 45/120 pages, 3 errors", and why it ended when it failed or was cancelled. */
export function batchMessageText(job: JobRecord, completed: number, total: number): string {
  const summary = `${completed}/${total} URLs done, ${pagesSummary(job)}`;
  switch (job.status) {
    case JobStatus.RUNNING:
      return `Processing batch: ${summary}`;
    case JobStatus.PAUSED:
      return `Batch paused: ${summary}`;
    case JobStatus.COMPLETED:
      return `Batch completed: ${summary}`;
    case JobStatus.FAILED:
      return `Batch failed: ${summary} (${job.error === "" ? "job failed" : job.error})`;
    case JobStatus.CANCELLED:
      return `Batch cancelled: ${summary} (${job.error === "" ? "no reason given" : job.error})`;
    default:
      return `Batch queued: ${summary}`;
  }
}

/** Whether an applied event changes what `batch:update` shows: status changes, a task ending, the job's end. */
export function changesBatch(event: JobEvent): boolean {
  switch (event.kind.case) {
    case "started":
    case "paused":
    case "resumed":
    case "taskFinished":
    case "taskFailed":
    case "completed":
    case "failed":
    case "cancelled":
      return true;
    default:
      return false;
  }
}

/** The `job:error` answering a subscription that cannot be served (unknown job, bad payload). */
export function encodeRequestError(jobId: string | null, message: string, nowMs: number): JobMessage {
  return { job_id: jobId, status: "ABORTED", progress: 0, message, timestamp: isoTime(nowMs) };
}

/** The client events of seed 004 and the id field each one carries. */
export const CLIENT_EVENTS = {
  "subscribe:job": "job_id",
  "unsubscribe:job": "job_id",
  "subscribe:batch": "batch_id",
  "unsubscribe:batch": "batch_id",
} as const;
export type ClientEvent = keyof typeof CLIENT_EVENTS;

export function isClientEvent(name: string): name is ClientEvent {
  return Object.hasOwn(CLIENT_EVENTS, name);
}

export type IdRequest = { ok: true; id: string } | { ok: false; message: string };

/**
 * Validates the payload of a client event: an object whose id field
 * (`job_id` or `batch_id`) is a string of 1 to MAX_ID_LENGTH characters.
 * The error names the event and the problem (the `job:error` that carries
 * it has a null job_id: the payload named no usable id).
 */
export function parseIdRequest(event: ClientEvent, payload: unknown): IdRequest {
  const field = CLIENT_EVENTS[event];
  const example = `{"${field}": "…"}`;
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    return { ok: false, message: `${event} needs an object payload like ${example}` };
  }
  const value: unknown = (payload as Record<string, unknown>)[field];
  if (value === undefined) return { ok: false, message: `${event}: ${field} is required, e.g. ${example}` };
  if (typeof value !== "string") return { ok: false, message: `${event}: ${field} must be a string` };
  if (value.length === 0 || value.length > MAX_ID_LENGTH) {
    return { ok: false, message: `${event}: ${field} must have 1 to ${MAX_ID_LENGTH} characters` };
  }
  return { ok: true, id: value };
}
