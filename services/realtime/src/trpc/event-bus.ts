/**
 * The gateway's applied scraper events, fanned out to tRPC subscriptions.
 * Only events the reducer applied are published, so a scraper link that
 * resumes with overlap never shows a subscriber the same event twice.
 */
import { EventEmitter } from "node:events";
import { toJson } from "@bufbuild/protobuf";
import { JobEventSchema, type JobEvent, type JobEventJson } from "@trawl/proto";

export interface AppliedEvent {
  /** The scraper whose log the event's offset belongs to. */
  scraper: string;
  event: JobEvent;
  /** The event's JSON form, converted once for every subscription. */
  json: JobEventJson;
}

/** The JSON form subscriptions send: protobuf-es JSON (64-bit numbers as strings). */
export function eventJson(event: JobEvent): JobEventJson {
  return toJson(JobEventSchema, event);
}

export const APPLIED = "applied";

export class EventBus extends EventEmitter<{ [APPLIED]: [AppliedEvent] }> {
  constructor() {
    super();
    // One listener per open subscription: not a leak.
    this.setMaxListeners(0);
  }

  publish(scraper: string, event: JobEvent): void {
    if (this.listenerCount(APPLIED) > 0) this.emit(APPLIED, { scraper, event, json: eventJson(event) });
  }
}
