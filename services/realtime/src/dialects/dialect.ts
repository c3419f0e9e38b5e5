/**
 * A dialect: one way of encoding the canonical event stream for the raw
 * WebSocket clients of one seed system. The gateway applies each scraper
 * event to the live state, then asks every dialect that has subscribers for
 * the job to encode it — once — and the hub fans the same bytes out on the
 * dialect's channel. Dialects only read the state; none touches the crawler.
 */
import type { JobEvent } from "@trawl/proto";
import type { JobRecord } from "../state/live-state.js";
import type { Delivery } from "../ws/connection.js";
import type { Hub } from "../ws/hub.js";

export interface DialectFrame {
  readonly jobId: string;
  /** The encoded message, sent as one text frame. */
  readonly data: Buffer;
  /** How a slow client may be spared it. */
  readonly delivery: Delivery;
  /** What it conflates on when the client is behind (default: the job id). */
  readonly key?: string;
}

export interface EventDialect {
  /** The hub channel its subscribers listen on. */
  readonly channel: string;
  /** The frames `event` produces; `job` is the state after applying it. */
  encodeEvent(event: JobEvent, job: JobRecord): DialectFrame[];
  /** Frames that bring a subscriber up to date after a scraper snapshot replaced `job`. */
  encodeJobState(job: JobRecord, nowMs: number): DialectFrame[];
}

/** Publishes each frame on the dialect's channel; `tenant` (the job's) adds the subscribers to that tenant's jobs. */
export function publishDialectFrames(hub: Hub, channel: string, frames: readonly DialectFrame[], tenant?: string): void {
  for (const frame of frames) hub.publish(frame.jobId, frame.data, frame.delivery, channel, frame.key ?? frame.jobId, tenant);
}
