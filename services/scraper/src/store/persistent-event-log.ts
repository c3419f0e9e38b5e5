/**
 * The EventLog on a Store, with group commit.
 *
 * `append` stays synchronous: it assigns the offset (head + 1) and the job's
 * seq (last + 1) in memory and stages the event. Pages and job rows are
 * staged beside it ({@link stagePage}, {@link stageJob}) so they commit in
 * the same transaction as the events of that moment. Everything staged is
 * committed together, one transaction at a time, in offset order; while one
 * commits the next batch gathers, and a batch is cut at most once per
 * `commitIntervalMs` (unless a flush asks for it), so a busy crawl commits a
 * few larger transactions rather than many small ones: a SQLite commit
 * costs about as much as the statements of several pages (issue 6). Watchers
 * only ever see committed events:
 * `headOffset()` is the newest committed offset and `onAppend` listeners run
 * after each commit, so no watcher is sent an event that a crash could take
 * back. A process killed mid-batch loses only events nobody saw, and the
 * reopened log hands their offsets and seqs out again.
 *
 * The newest committed events stay in an in-memory ring for live watchers;
 * older reads go to the database. The database keeps `maxEvents` events
 * (EVENT_LOG_MAX_EVENTS); beyond that the oldest are trimmed, except those of
 * unfinished jobs (see Store.trimEvents).
 *
 * Beyond EventLog this class adds `stagePage`, `stageJob` and `flush`
 * (resolves once everything staged before it is committed and visible).
 */
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { JobEventSchema, type JobEvent } from "@trawl/proto";
import type { EventBatch, EventLog, JobEventKind } from "../events/event-log.js";
import type { CommitBatch, PageWrite, Store, StoredJob } from "./store.js";

export interface PersistentEventLogOptions {
  /** Events kept in the database before the oldest (of finished jobs) are trimmed: EVENT_LOG_MAX_EVENTS. */
  maxEvents: number;
  /** Committed events kept in memory for watchers. */
  ringSize?: number;
  /**
   * Least time between the starts of two commits, in ms (default
   * {@link DEFAULT_COMMIT_INTERVAL_MS}): what is staged meanwhile waits and
   * shares the next transaction. Watchers see events up to this much later;
   * 0 commits on the next turn of the event loop.
   */
  commitIntervalMs?: number;
  /**
   * Called once when a commit fails for good (an error that is not the
   * database being unreachable). The failed batch is lost and nothing more is
   * committed (flush rejects): the caller should stop the process, and the
   * restarted scraper resumes from what was committed.
   */
  onError?: (err: unknown) => void;
  /**
   * Called when a commit fails because the database cannot be reached (see
   * {@link isStoreUnavailable}). The batch is kept and retried with backoff
   * (RETRY_INITIAL_MS doubling to RETRY_MAX_MS); events staged meanwhile join
   * it; flushes wait. Called once per outage.
   */
  onUnavailable?: (err: unknown) => void;
  /** Called when a commit succeeds again after an outage. */
  onAvailable?: () => void;
}

export const RETRY_INITIAL_MS = 250;
export const RETRY_MAX_MS = 5_000;

/** Network and PostgreSQL errors that mean "the database is not reachable right now", not "this write is wrong". */
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "57P01", "57P02", "57P03", "53300", "SQLITE_BUSY"]);

/** True when `err` says the database is unreachable or restarting (worth retrying), false for any other failure. */
export function isStoreUnavailable(err: unknown): boolean {
  for (let cause: unknown = err, depth = 0; cause !== undefined && cause !== null && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && (UNREACHABLE_CODES.has(code) || code.startsWith("08"))) return true;
    const message = cause instanceof Error ? cause.message : "";
    if (/Connection terminated|connection timeout|Client has encountered a connection error|terminating connection/i.test(message)) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

const DEFAULT_RING_SIZE = 4096;
/** Far below what a watcher notices (progress is sent every 250 ms by default), long enough to batch a busy crawl's pages. */
export const DEFAULT_COMMIT_INTERVAL_MS = 10;

interface Staged {
  events: JobEvent[];
  /** Builders of the rows of the jobs staged, called once when the batch is cut. */
  jobs: Map<string, () => StoredJob>;
  pages: PageWrite[];
}

interface FlushWaiter {
  /** Resolved once this many batches are done. */
  batches: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const emptyStage = (): Staged => ({ events: [], jobs: new Map(), pages: [] });

/** `first` then `then`, as one batch: events and pages in order, the later row builder of a job winning. */
function mergeStages(first: Staged, then: Staged): Staged {
  return { events: [...first.events, ...then.events], jobs: new Map([...first.jobs, ...then.jobs]), pages: [...first.pages, ...then.pages] };
}

export class PersistentEventLog implements EventLog {
  /** Offset of the newest committed event. */
  private head: bigint;
  /** Offset of the newest appended event (committed or staged). */
  private assigned: bigint;
  private oldest: bigint;
  private readonly seqs: Map<string, bigint>;
  /** The newest committed events, contiguous, ending at `head`; valid from `ring[ringStart]`. */
  private ring: JobEvent[] = [];
  private ringStart = 0;
  private readonly ringSize: number;
  private staged: Staged = emptyStage();
  /** Batches taken from `staged`, and those committed, published and trimmed behind. */
  private batchesCut = 0;
  private batchesDone = 0;
  private waiters: FlushWaiter[] = [];
  private committing = false;
  private scheduled = false;
  private readonly commitIntervalMs: number;
  /** When (performance.now()) the last batch was cut. */
  private lastCutAt = Number.NEGATIVE_INFINITY;
  private failure: { error: unknown } | undefined;
  /** Set while the database is unreachable: the next retry's delay. */
  private outage: { retryMs: number } | undefined;
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly store: Store,
    private readonly options: PersistentEventLogOptions,
    resumed: { head: bigint; oldest: bigint; seqs: Map<string, bigint> },
  ) {
    if (!Number.isSafeInteger(options.maxEvents) || options.maxEvents < 1) throw new RangeError("maxEvents must be a positive integer");
    this.ringSize = Math.max(1, options.ringSize ?? DEFAULT_RING_SIZE);
    this.commitIntervalMs = Math.max(0, options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS);
    this.head = resumed.head;
    this.assigned = resumed.head;
    this.oldest = resumed.oldest;
    this.seqs = resumed.seqs;
  }

  /** Opens the log where the store's log ends: the next event gets head + 1, each job its last seq + 1. */
  static async open(store: Store, options: PersistentEventLogOptions): Promise<PersistentEventLog> {
    const [head, oldest, seqs] = await Promise.all([store.headOffset(), store.oldestOffset(), store.lastSeqs()]);
    return new PersistentEventLog(store, options, { head, oldest, seqs });
  }

  append(jobId: string, kind: JobEventKind): JobEvent {
    const seq = (this.seqs.get(jobId) ?? 0n) + 1n;
    this.seqs.set(jobId, seq);
    this.assigned++;
    const event = create(JobEventSchema, { jobId, seq, offset: this.assigned, time: timestampNow(), kind });
    if (this.failure === undefined) {
      this.staged.events.push(event);
      this.schedule();
    }
    return event;
  }

  /**
   * Stages a page's frontier and item writes. A batch holds everything
   * staged before it was cut, so a page staged in the same synchronous step
   * as its events (and its job row) always commits together with them.
   */
  stagePage(write: PageWrite): void {
    if (this.failure !== undefined) return;
    this.staged.pages.push(write);
    this.schedule();
  }

  /**
   * Stages the job's row, committed like {@link stagePage}. `row` is called
   * once, when the batch is cut (synchronously, between two turns), so a
   * job that emits many events in a batch is encoded once, in the state of
   * its last staged event, rather than once per event.
   */
  stageJob(jobId: string, row: () => StoredJob): void {
    if (this.failure !== undefined) return;
    this.staged.jobs.set(jobId, row);
    this.schedule();
  }

  /** Resolves once everything staged before the call is committed and visible to watchers; rejects if a commit failed. */
  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure.error);
    const batches = this.hasStaged() ? this.batchesCut + 1 : this.batchesCut;
    if (this.batchesDone >= batches) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ batches, resolve, reject }));
    this.commitStaged();
    return done;
  }

  /** Offset of the newest committed event; 0 while there is none. */
  headOffset(): bigint {
    return this.head;
  }

  oldestOffset(): bigint {
    return this.oldest;
  }

  /** The last seq assigned to the job, committed or not (what its producer has emitted). */
  lastSeq(jobId: string): bigint {
    return this.seqs.get(jobId) ?? 0n;
  }

  /** Events appended and not yet committed. */
  get uncommitted(): number {
    return Number(this.assigned - this.head);
  }

  async read(after: bigint, limit: number, jobId?: string): Promise<EventBatch> {
    const head = this.head;
    const from = after + 1n < this.oldest ? this.oldest - 1n : after;
    if (from >= head || limit < 1) return { events: [], through: from };
    const ringFirst = head - BigInt(this.ring.length - this.ringStart) + 1n;
    if (from + 1n >= ringFirst) return this.readRing(from, head, limit, jobId);
    const events = await this.store.readEvents(from, limit, jobId === undefined ? { through: head } : { through: head, jobId });
    // Trimmed while the query ran: the caller starts over from a snapshot.
    if (from + 1n < this.oldest) return { events: [], through: after };
    const last = events.at(-1);
    return { events, through: events.length === limit && last !== undefined ? last.offset : head };
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private readRing(from: bigint, head: bigint, limit: number, jobId: string | undefined): EventBatch {
    const events: JobEvent[] = [];
    const firstIndex = this.ring.length - Number(head - from);
    let index = firstIndex;
    while (index < this.ring.length && events.length < limit) {
      const event = this.ring[index++] as JobEvent;
      if (jobId === undefined || event.jobId === jobId) events.push(event);
    }
    return { events, through: from + BigInt(index - firstIndex) };
  }

  private hasStaged(): boolean {
    return this.staged.events.length > 0 || this.staged.jobs.size > 0 || this.staged.pages.length > 0;
  }

  /**
   * Commits on a later turn of the event loop, so a burst of appends shares
   * one transaction: the next turn once the commit interval has passed since
   * the last batch was cut, otherwise when it passes.
   */
  private schedule(): void {
    if (this.scheduled || this.committing) return;
    this.scheduled = true;
    const run = (): void => {
      this.scheduled = false;
      this.commitStaged();
    };
    const wait = this.lastCutAt + this.commitIntervalMs - performance.now();
    if (wait > 0) setTimeout(run, wait);
    else setImmediate(run);
  }

  private commitStaged(): void {
    if (this.committing || this.failure !== undefined) return;
    this.committing = true;
    void this.drain();
  }

  /**
   * Commits batch after batch while one is due (its interval has passed, or
   * a flush waits for it); what is staged after that is scheduled.
   * `committing` drops in the same turn as the last check.
   */
  private async drain(): Promise<void> {
    try {
      let first = true;
      while (this.hasStaged() && this.failure === undefined && (first || this.waiters.length > 0 || this.due())) {
        first = false;
        const staged = this.staged;
        this.staged = emptyStage();
        this.batchesCut++;
        this.lastCutAt = performance.now();
        const batch: CommitBatch = { jobs: [...staged.jobs.values()].map((row) => row()), events: staged.events, pages: staged.pages };
        try {
          await this.store.commit(batch);
        } catch (err) {
          if (!isStoreUnavailable(err)) {
            this.fail(err);
            break;
          }
          // The database is away: keep the batch (ahead of what was staged since) and try again later.
          this.staged = mergeStages(staged, this.staged);
          this.batchesCut--;
          this.retryLater(err);
          return;
        }
        if (this.outage !== undefined) {
          this.outage = undefined;
          this.options.onAvailable?.();
        }
        try {
          this.publish(staged.events);
          // Trimming can wait for the next batch when the database has just gone away.
          await this.retain().catch((err: unknown) => {
            if (!isStoreUnavailable(err)) throw err;
          });
          this.batchesDone++;
          this.resolveWaiters();
        } catch (err) {
          this.fail(err);
        }
      }
    } finally {
      if (this.outage === undefined) this.committing = false;
    }
    if (this.hasStaged() && this.failure === undefined && this.outage === undefined) this.schedule();
  }

  /** True while commits fail because the database cannot be reached. */
  get unavailable(): boolean {
    return this.outage !== undefined;
  }

  /** Retries the kept batch after the outage's current delay; `committing` stays set meanwhile, so nothing else starts a commit. */
  private retryLater(err: unknown): void {
    if (this.outage === undefined) {
      this.outage = { retryMs: RETRY_INITIAL_MS };
      this.options.onUnavailable?.(err);
    } else {
      this.outage.retryMs = Math.min(RETRY_MAX_MS, this.outage.retryMs * 2);
    }
    setTimeout(() => {
      if (this.failure !== undefined) return;
      void this.drain();
    }, this.outage.retryMs);
  }

  private due(): boolean {
    return performance.now() >= this.lastCutAt + this.commitIntervalMs;
  }

  /** Makes committed events visible: into the ring, head advanced, listeners told. */
  private publish(events: readonly JobEvent[]): void {
    const last = events.at(-1);
    if (last === undefined) return;
    for (const event of events) this.ring.push(event);
    this.head = last.offset;
    const excess = this.ring.length - this.ringStart - this.ringSize;
    if (excess > 0) this.ringStart += excess;
    if (this.ringStart >= 1024 && this.ringStart * 2 >= this.ring.length) {
      this.ring = this.ring.slice(this.ringStart);
      this.ringStart = 0;
    }
    for (const listener of this.listeners) listener();
  }

  /** Settles the flushes whose batches have committed (and been trimmed behind, when due). */
  private resolveWaiters(): void {
    const ready = this.waiters.filter((w) => w.batches <= this.batchesDone);
    this.waiters = this.waiters.filter((w) => w.batches > this.batchesDone);
    for (const waiter of ready) waiter.resolve();
  }

  /**
   * Trims the database's log back to `maxEvents` once it holds an eighth
   * more, so trimming costs one DELETE now and then rather than one per batch.
   */
  private async retain(): Promise<void> {
    const { maxEvents } = this.options;
    const retained = this.head - this.oldest + 1n;
    if (retained <= BigInt(maxEvents + Math.ceil(maxEvents / 8))) return;
    const through = this.head - BigInt(maxEvents);
    // Raised before the DELETE, so a read that overlaps it notices (see read()).
    this.oldest = through + 1n;
    this.oldest = await this.store.trimEvents(through);
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = { error };
    this.staged = emptyStage();
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(error);
    this.options.onError?.(error);
  }
}
