/**
 * Reading the gateway's job events (protobuf JSON `JobEventJson`, as
 * `events.watch` sends them): which kind an event is, and how it moves a
 * job's REST-shaped state forward, so a follower can show live numbers
 * between two `jobs.get` calls.
 */
import { JobEventSchema, type JobCountersJson, type JobEventJson } from "@trawl/proto";
import type { JobJson } from "./client.js";

/** Every event kind (`started`, `pageFailed`, …), from the generated schema, as the gateway's `types` filter takes them. */
export const EVENT_KINDS: readonly string[] = JobEventSchema.oneofs.flatMap((oneof) => oneof.fields.map((field) => field.localName));

export const TERMINAL_KINDS = ["completed", "failed", "cancelled"] as const;
export type TerminalKind = (typeof TERMINAL_KINDS)[number];

const TERMINAL_STATUSES: readonly string[] = TERMINAL_KINDS;

/** True once a job can no longer change. */
export function isTerminalStatus(status: string): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** The kind of `event`: the name of its one payload field. */
export function eventKind(event: JobEventJson): string | undefined {
  return EVENT_KINDS.find((kind) => (event as Record<string, unknown>)[kind] !== undefined);
}

export function terminalKind(event: JobEventJson): TerminalKind | undefined {
  const kind = eventKind(event);
  return TERMINAL_KINDS.find((terminal) => terminal === kind);
}

/** The counters an event carries, if it carries any. */
export function eventCounters(event: JobEventJson): JobCountersJson | undefined {
  return (
    event.progress?.counters ??
    event.itemScraped?.counters ??
    event.pageFailed?.counters ??
    event.pageSkipped?.counters ??
    event.paused?.counters ??
    event.resumed?.counters ??
    event.completed?.counters ??
    event.failed?.counters ??
    event.cancelled?.counters
  );
}

/** Protobuf JSON leaves zero values out: a missing number is 0. */
function n(value: number | string | undefined): number {
  return value === undefined ? 0 : Number(value);
}

function applyCounters(counters: JobJson["counters"], from: JobCountersJson): JobJson["counters"] {
  return {
    ...counters,
    pages_done: n(from.pagesDone),
    pages_total: n(from.pagesTotal),
    success_count: n(from.successCount),
    error_count: n(from.errorCount),
    items: n(from.items),
    bytes: n(from.bytes),
    retries: n(from.retries),
    files: n(from.files),
    total_size: n(from.totalSize),
    skipped: { ...(from.skipped ?? {}) },
    errors_by_kind: { ...(from.errorsByKind ?? {}) },
  };
}

function elapsedOf(event: JobEventJson): number | undefined {
  const ms = event.completed?.elapsedMs ?? event.failed?.elapsedMs ?? event.cancelled?.elapsedMs;
  return ms === undefined ? undefined : ms / 1000;
}

/**
 * `job` after `event`: counters, status, error and, for a terminal event,
 * the elapsed time. Events older than what `job` already reflects (a
 * `jobs.get` answer can overtake the stream) leave it unchanged.
 */
export function applyJobEvent(job: JobJson, event: JobEventJson): JobJson {
  const seq = n(event.seq);
  if (seq <= job.last_seq) return job;
  const next: JobJson = { ...job, last_seq: seq };
  const counters = eventCounters(event);
  if (counters !== undefined) next.counters = applyCounters(job.counters, counters);
  switch (eventKind(event)) {
    case "started":
    case "resumed":
      next.status = "running";
      break;
    case "paused":
      next.status = "paused";
      break;
    case "completed":
      next.status = "completed";
      break;
    case "failed":
      next.status = "failed";
      next.error = event.failed?.errorMessage ?? null;
      break;
    case "cancelled":
      next.status = "cancelled";
      next.error = event.cancelled?.reason || null;
      break;
    default:
      break;
  }
  const elapsed = elapsedOf(event);
  if (elapsed !== undefined) {
    next.elapsed_seconds = elapsed;
    next.counters = { ...next.counters, pages_per_second: elapsed > 0 ? Math.round((next.counters.pages_done / elapsed) * 100) / 100 : 0 };
  }
  return next;
}
