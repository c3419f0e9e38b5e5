/**
 * Builders of real proto JobEvents for tests: a `JobScript` hands out
 * consecutive seqs, offsets and times for one job so tables stay readable.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  ItemSchema,
  JobCountersSchema,
  JobEventSchema,
  JobSchema,
  JobStatus,
  Platform,
  WatchEventsResponseSchema,
  type Item,
  type JobCounters,
  type JobEvent,
  type WatchEventsResponse,
} from "@trawl/proto";

export const T0 = Date.parse("2025-11-18T19:30:00Z");

export function counters(init: MessageInitShape<typeof JobCountersSchema>): JobCounters {
  return create(JobCountersSchema, init);
}

export function item(init: MessageInitShape<typeof ItemSchema>): Item {
  return create(ItemSchema, init);
}

type Kind = MessageInitShape<typeof JobEventSchema>["kind"];

/** Hands out seq 1, 2, 3… and the shared offset counter for one job's events. */
export class JobScript {
  private seq = 0n;

  constructor(
    readonly jobId: string,
    readonly platform: Platform,
    private readonly offsets: { next: bigint },
    readonly url = "https://example.test/",
  ) {}

  /** An event `ms` after T0. */
  event(ms: number, kind: Kind): JobEvent {
    this.seq++;
    this.offsets.next++;
    return create(JobEventSchema, { jobId: this.jobId, seq: this.seq, offset: this.offsets.next, time: timestampFromMs(T0 + ms), kind });
  }

  started(ms = 0): JobEvent {
    const job = create(JobSchema, {
      id: this.jobId,
      platform: this.platform,
      status: JobStatus.RUNNING,
      spec: { urls: [this.url], depth: 1 },
      counters: {},
      createdAt: timestampFromMs(T0 + ms),
      startedAt: timestampFromMs(T0 + ms),
    });
    return this.event(ms, { case: "started", value: { job } });
  }

  itemScraped(ms: number, scraped: Item, after: JobCounters, processingMs = 100): JobEvent {
    return this.event(ms, { case: "itemScraped", value: { item: scraped, url: scraped.url, processingMs, httpStatus: 200, counters: after } });
  }

  pageFailed(ms: number, after: JobCounters, processingMs = 50): JobEvent {
    return this.event(ms, { case: "pageFailed", value: { url: `${this.url}missing`, errorKind: 1, httpStatus: 404, processingMs, counters: after } });
  }

  progress(ms: number, after: JobCounters, current?: Item): JobEvent {
    return this.event(ms, { case: "progress", value: { counters: after, ...(current === undefined ? {} : { currentItem: current }) } });
  }

  taskStarted(ms: number): JobEvent {
    return this.event(ms, { case: "taskStarted", value: { taskId: `${this.jobId}-t1`, url: this.url } });
  }

  paused(ms: number, after: JobCounters): JobEvent {
    return this.event(ms, { case: "paused", value: { counters: after } });
  }

  resumed(ms: number, after: JobCounters): JobEvent {
    return this.event(ms, { case: "resumed", value: { counters: after } });
  }

  completed(ms: number, after: JobCounters): JobEvent {
    return this.event(ms, { case: "completed", value: { counters: after, elapsedMs: ms } });
  }

  failed(ms: number, after: JobCounters, errorMessage: string): JobEvent {
    return this.event(ms, { case: "failed", value: { counters: after, errorMessage, elapsedMs: ms } });
  }

  cancelled(ms: number, after: JobCounters, reason = ""): JobEvent {
    return this.event(ms, { case: "cancelled", value: { counters: after, reason, elapsedMs: ms } });
  }
}

/** A fresh shared offset counter (offsets start at 1). */
export function offsetCounter(): { next: bigint } {
  return { next: 0n };
}

export function asResponse(event: JobEvent): WatchEventsResponse {
  return create(WatchEventsResponseSchema, { message: { case: "event", value: event } });
}
