/**
 * The scraper's event log: every JobEvent of every job, in one order. It is
 * the single buffer behind WatchEvents — each watcher is only a cursor into
 * it. Kept behind this interface so a persistent log (SQLite, PostgreSQL)
 * can replace the in-memory one without touching producers or watchers.
 */
import type { JobEvent } from "@trawl/proto";

export type JobEventKind = JobEvent["kind"];

export interface EventBatch {
  /** Retained events after the requested offset, oldest first (of one job when asked). */
  events: JobEvent[];
  /** The offset read up to: the next read continues after it. */
  through: bigint;
}

export interface EventLog {
  /**
   * Appends an event of `jobId` and returns it with its offset (global,
   * from 1), its per-job seq (from 1) and its time. Synchronous, so events
   * are ordered exactly as their producers emit them.
   */
  append(jobId: string, kind: JobEventKind): JobEvent;
  /** Offset of the newest event; 0 while the log is empty. */
  headOffset(): bigint;
  /** Offset of the oldest retained event; `headOffset() + 1` while nothing is retained. */
  oldestOffset(): bigint;
  /** The last seq assigned to `jobId`; 0 when it has no events. */
  lastSeq(jobId: string): bigint;
  /** Up to `limit` retained events with offset > `after`, only `jobId`'s when given. */
  read(after: bigint, limit: number, jobId?: string): Promise<EventBatch>;
  /** Calls `listener` after every append; returns the function that unsubscribes it. */
  onAppend(listener: () => void): () => void;
}
