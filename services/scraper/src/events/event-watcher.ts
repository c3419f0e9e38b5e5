/**
 * One WatchEvents subscriber: a cursor into the event log that replays the
 * retained events after its offset and then follows live ones, honouring
 * the stream's backpressure — when `write()` returns false it waits for
 * 'drain' before reading on, so a slow watcher costs a cursor, not a queue.
 */
import { create } from "@bufbuild/protobuf";
import { SnapshotSchema, WatchEventsResponseSchema, type Job, type PlatformStats, type WatchEventsResponse } from "@trawl/proto";
import type { EventLog } from "./event-log.js";

/** The part of a writable stream (grpc-js server stream, node Writable) a watcher uses. */
export interface WatchStream {
  write(message: WatchEventsResponse): boolean;
  once(event: "drain", listener: () => void): unknown;
  removeListener(event: "drain", listener: () => void): unknown;
  end(): void;
}

/** The current state, for the Snapshot a watcher gets when its offset is gone from the log. */
export interface StateSnapshot {
  jobs: Job[];
  platforms: PlatformStats[];
}

export interface WatchOptions {
  log: EventLog;
  /** Must describe the state as of the log's head offset at the moment it is called. */
  snapshot: () => StateSnapshot;
  afterOffset: bigint;
  /** Only this job's events; every job's when undefined. */
  jobId?: string;
  /** Events read from the log per step. */
  batchSize?: number;
  /** Only events (and snapshot jobs) this accepts: a tenant's watcher sees its own jobs only. */
  acceptJob?: (jobId: string) => boolean;
}

const WatchState = { OPEN: 0, FINISHING: 1, CLOSED: 2 } as const;
type WatchState = (typeof WatchState)[keyof typeof WatchState];

export class EventWatcher {
  private state: WatchState = WatchState.OPEN;
  private cursor: bigint;
  /** Resolves the wait for the next append. */
  private appended: (() => void) | undefined;
  /** Resolves the wait for 'drain'. */
  private drained: (() => void) | undefined;

  constructor(
    private readonly stream: WatchStream,
    private readonly options: WatchOptions,
  ) {
    this.cursor = options.afterOffset;
  }

  /** The offset of the last event delivered (or skipped by the job filter). */
  get offset(): bigint {
    return this.cursor;
  }

  /**
   * Streams until {@link close} (the client went away) or {@link finish}
   * (delivered everything appended so far, then ends the stream).
   */
  async run(): Promise<void> {
    const { log, jobId } = this.options;
    const batchSize = this.options.batchSize ?? 512;
    const unsubscribe = log.onAppend(() => this.wakeAppended());
    try {
      while (!this.closed) {
        const head = log.headOffset();
        if (this.cursor + 1n < log.oldestOffset() || this.cursor > head) {
          // The events after the cursor are gone (trimmed, or from a log this
          // process no longer has): start over from the current state.
          const snapshot = this.options.snapshot();
          const accept = this.options.acceptJob;
          const jobs = accept === undefined ? snapshot.jobs : snapshot.jobs.filter((job) => accept(job.id));
          const platforms = accept === undefined ? snapshot.platforms : [];
          this.cursor = head;
          await this.send(create(WatchEventsResponseSchema, { message: { case: "snapshot", value: create(SnapshotSchema, { offset: head, jobs, platforms }) } }));
          continue;
        }
        if (this.cursor >= head) {
          if (this.state === WatchState.FINISHING) {
            this.state = WatchState.CLOSED;
            this.stream.end();
            break;
          }
          await new Promise<void>((resolve) => (this.appended = resolve));
          continue;
        }
        const batch = await log.read(this.cursor, batchSize, jobId);
        for (const event of batch.events) {
          if (this.closed) return;
          this.cursor = event.offset;
          if (this.options.acceptJob !== undefined && !this.options.acceptJob(event.jobId)) continue;
          await this.send(create(WatchEventsResponseSchema, { message: { case: "event", value: event } }));
        }
        if (batch.through > this.cursor) this.cursor = batch.through;
      }
    } finally {
      unsubscribe();
    }
  }

  private get closed(): boolean {
    return this.state === WatchState.CLOSED;
  }

  /** The client cancelled or the stream broke: stop at once. */
  close(): void {
    this.state = WatchState.CLOSED;
    this.wakeAppended();
    const drained = this.drained;
    this.drained = undefined;
    drained?.();
  }

  /** Shutting down: deliver what the log holds now, then end the stream. */
  finish(): void {
    if (this.state === WatchState.OPEN) this.state = WatchState.FINISHING;
    this.wakeAppended();
  }

  private wakeAppended(): void {
    const wake = this.appended;
    this.appended = undefined;
    wake?.();
  }

  private async send(message: WatchEventsResponse): Promise<void> {
    if (this.state === WatchState.CLOSED || this.stream.write(message)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.stream.removeListener("drain", done);
        this.drained = undefined;
        resolve();
      };
      this.stream.once("drain", done);
      this.drained = done;
    });
  }
}
