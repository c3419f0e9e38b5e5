/**
 * The in-memory EventLog: a contiguous window of the newest `maxEvents`
 * events, indexed by offset arithmetic.
 */
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { JobEventSchema, type JobEvent } from "@trawl/proto";
import type { EventBatch, EventLog, JobEventKind } from "./event-log.js";

export class MemoryEventLog implements EventLog {
  private events: JobEvent[] = [];
  /** Index in `events` of the oldest retained event. */
  private start = 0;
  /** Offset of `events[start]`. */
  private firstOffset = 1;
  private head = 0;
  private readonly seqs = new Map<string, bigint>();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly maxEvents: number) {
    if (!Number.isSafeInteger(maxEvents) || maxEvents < 1) throw new RangeError("maxEvents must be a positive integer");
  }

  append(jobId: string, kind: JobEventKind): JobEvent {
    const seq = (this.seqs.get(jobId) ?? 0n) + 1n;
    this.seqs.set(jobId, seq);
    this.head++;
    const event = create(JobEventSchema, { jobId, seq, offset: BigInt(this.head), time: timestampNow(), kind });
    this.events.push(event);
    if (this.events.length - this.start > this.maxEvents) this.trimOne();
    for (const listener of this.listeners) listener();
    return event;
  }

  headOffset(): bigint {
    return BigInt(this.head);
  }

  oldestOffset(): bigint {
    return BigInt(this.events.length > this.start ? this.firstOffset : this.head + 1);
  }

  lastSeq(jobId: string): bigint {
    return this.seqs.get(jobId) ?? 0n;
  }

  read(after: bigint, limit: number, jobId?: string): Promise<EventBatch> {
    const events: JobEvent[] = [];
    let offset = Math.max(Number(after), this.firstOffset - 1);
    while (offset < this.head && events.length < limit) {
      offset++;
      const event = this.events[this.start + offset - this.firstOffset] as JobEvent;
      if (jobId === undefined || event.jobId === jobId) events.push(event);
    }
    return Promise.resolve({ events, through: BigInt(offset) });
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private trimOne(): void {
    this.start++;
    this.firstOffset++;
    if (this.start >= 4096 && this.start * 2 >= this.events.length) {
      this.events = this.events.slice(this.start);
      this.start = 0;
    }
  }
}
