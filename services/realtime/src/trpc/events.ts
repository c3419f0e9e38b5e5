/**
 * `events.watch`: the canonical JobEvents the gateway applies, as a
 * resumable subscription. Each event is sent as `tracked(cursor, json)`;
 * the cursor holds the last offset seen from every scraper
 * (`address|offset`, comma-separated), so a client that reconnects with it
 * as `lastEventId` gets exactly the events it missed. The gateway keeps no
 * log: what a subscriber missed is replayed from each scraper's own log
 * (WatchEvents after the cursor offset) until it has caught up with what
 * the gateway applied, and in that same tick it joins the live bus
 * (`event-bus.ts`). A subscriber that falls behind leaves the bus and
 * catches up the same way, once its socket has drained.
 */
import { JobEventSchema, PLATFORM_NAMES, platformFromName, type JobEvent, type WatchEventsResponse } from "@trawl/proto";
import { tracked, TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import type { ScraperLink } from "../scrapers/scraper-link.js";
import type { LiveState } from "../state/live-state.js";
import { type Cursor, formatCursor, parseCursor } from "./cursor.js";
import { eventJson, Handoff, Subscriber } from "./event-bus.js";
import { inScope, type TenantScope } from "../auth/scope.js";
import { readProcedure, takeSubscriptionSlot, type TrpcContext } from "./init.js";

/** How long a replay may wait for the scraper's next message before it is abandoned. */
export const REPLAY_STALL_MS = 15_000;

/** The JobEvent kinds (`started`, `pageFailed`, …), from the generated schema. */
export const EVENT_KINDS: readonly string[] = JobEventSchema.oneofs.flatMap((oneof) => oneof.fields.map((field) => field.localName));


const watchInput = z.object({
  jobId: z.string().min(1, "jobId must not be empty").max(200, "jobId is too long").optional(),
  platforms: z.array(z.enum(PLATFORM_NAMES, { error: `platforms must hold ${PLATFORM_NAMES.join(", ")}` })).optional(),
  types: z.array(z.string().refine((kind) => EVENT_KINDS.includes(kind), `types must hold event kinds: ${EVENT_KINDS.join(", ")}`)).optional(),
  /** Set by the tRPC client on reconnect: the id of the last event received. */
  lastEventId: z.string().max(4000, "lastEventId is too long").nullish(),
});
type WatchInput = z.infer<typeof watchInput>;

function matcher(input: WatchInput, state: LiveState, scope: TenantScope): (event: JobEvent) => boolean {
  const platforms = input.platforms?.map(platformFromName);
  return (event) => {
    // A job the gateway no longer holds has no known tenant: only an admin sees its replayed events.
    if (scope !== undefined && !inScope(state.jobs.get(event.jobId)?.tenant ?? "", scope)) return false;
    if (input.jobId !== undefined && event.jobId !== input.jobId) return false;
    if (input.types !== undefined && !input.types.includes(event.kind.case ?? "")) return false;
    if (platforms !== undefined) {
      const platform = state.jobs.get(event.jobId)?.platform;
      if (platform === undefined || !platforms.includes(platform)) return false;
    }
    return true;
  };
}

/**
 * The events of `link`'s log after `after` up to `upTo` (the last offset the
 * gateway applied when the subscription began); later ones arrive live.
 */
async function* replay(link: ScraperLink, after: bigint, upTo: bigint, signal: AbortSignal | undefined): AsyncGenerator<JobEvent> {
  const call = link.client.watchEvents({ afterOffset: after });
  let failure: Error | undefined;
  call.on("error", (error) => {
    failure = error;
  });
  const cancel = (): void => call.cancel();
  signal?.addEventListener("abort", cancel, { once: true });
  // A scraper that stops sending mid-replay would hold the subscription forever.
  let stalled = false;
  const stall = setTimeout(() => {
    stalled = true;
    call.cancel();
  }, REPLAY_STALL_MS);
  stall.unref();
  try {
    for await (const message of call as AsyncIterable<WatchEventsResponse>) {
      stall.refresh();
      if (message.message.case !== "event") continue;
      const event = message.message.value;
      if (event.offset <= after) continue;
      if (event.offset > upTo) return;
      yield event;
      if (event.offset === upTo) return;
    }
  } catch (error) {
    if (signal?.aborted === true) return;
    const reason = stalled ? `sent nothing for ${REPLAY_STALL_MS / 1000} s` : "failed";
    throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: `replaying the events of scraper ${link.address} ${reason}; retry shortly`, cause: failure ?? error });
  } finally {
    clearTimeout(stall);
    signal?.removeEventListener("abort", cancel);
    call.cancel();
  }
  if (signal?.aborted !== true) throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: `replay of scraper ${link.address} ended early; retry shortly`, cause: failure });
}

export const eventsRouter = {
  watch: readProcedure.input(watchInput).subscription(async function* ({ ctx, input, signal }) {
    const release = takeSubscriptionSlot(ctx);
    try {
      yield* watchEvents(ctx, input, signal);
    } finally {
      release();
    }
  }),
} satisfies TRPCRouterRecord;

async function* watchEvents(ctx: TrpcContext & { scope: TenantScope }, input: WatchInput, signal: AbortSignal | undefined) {
  const resumeFrom = input.lastEventId == null ? new Map<string, bigint>() : parseCursor(input.lastEventId);
  if (resumeFrom === undefined) throw new TRPCError({ code: "BAD_REQUEST", message: "lastEventId is not an event id of this stream" });
  // An id naming a scraper this gateway does not watch would silently resume from nowhere.
  const stranger = [...resumeFrom.keys()].find((address) => !ctx.state.scrapers.has(address));
  if (stranger !== undefined) throw new TRPCError({ code: "BAD_REQUEST", message: `lastEventId names scraper ${stranger}, which this gateway does not watch` });
  const matches = matcher(input, ctx.state, ctx.scope);
  /** Everything up to here has been delivered (or did not match). */
  let position: Cursor = new Map();
  for (const [address, scraper] of ctx.state.scrapers) position.set(address, resumeFrom.get(address) ?? scraper.lastOffset);
  const subscriber = new Subscriber(matches, ctx.socket);
  const bus = ctx.bus;
  const stopped = (): boolean => signal?.aborted === true;
  try {
    while (!stopped()) {
      yield* catchUp(ctx, position, subscriber, signal);
      if (stopped()) return;
      // Caught up, checked in this same tick: from here on the bus has every event, none twice.
      bus.add(subscriber, position);
      if (subscriber.prefix !== undefined) {
        subscriber.lastCursor = formatCursor(position);
        bus.goDirect(subscriber);
      }
      while (!subscriber.behind && !stopped()) {
        const next = subscriber.direct ? undefined : subscriber.queue.shift();
        if (next === undefined) {
          await woken(subscriber, signal);
          continue;
        }
        // A subscription on a WebSocket sends its first live event through tRPC, learning its id, then goes direct.
        yield tracked(next.cursor, subscriber.socket === undefined ? next.json : new Handoff(next.json, subscriber));
        bus.sentThroughAdapter();
        position = parseCursor(next.cursor) ?? position;
        if (subscriber.prefix !== undefined && !subscriber.direct) {
          subscriber.lastCursor = next.cursor;
          bus.goDirect(subscriber);
        } else {
          await drained(subscriber, bus.maxBufferedBytes, signal);
        }
      }
      // Behind: resume from what reached it, once its socket has drained.
      if (subscriber.lastCursor !== undefined) position = parseCursor(subscriber.lastCursor) ?? position;
      subscriber.lastCursor = undefined;
      await drained(subscriber, bus.maxBufferedBytes, signal);
    }
  } finally {
    bus.remove(subscriber);
  }
}

/**
 * Replays, from the scrapers' own logs, everything after `position` up to
 * what the gateway has applied, until nothing is left (events keep being
 * applied meanwhile). `position` advances as it goes.
 */
async function* catchUp(ctx: TrpcContext, position: Cursor, subscriber: Subscriber, signal: AbortSignal | undefined) {
  for (;;) {
    let missing = false;
    for (const link of ctx.pool.links) {
      const after = position.get(link.address) ?? 0n;
      const upTo = ctx.state.scrapers.get(link.address)?.lastOffset ?? 0n;
      if (upTo <= after) continue;
      missing = true;
      for await (const event of replay(link, after, upTo, signal)) {
        position.set(link.address, event.offset);
        if (!subscriber.matches(event)) continue;
        yield tracked(formatCursor(position), eventJson(event));
        ctx.bus.sentThroughAdapter();
        await drained(subscriber, ctx.bus.maxBufferedBytes, signal);
      }
      if (signal?.aborted === true) return;
      // Every event up to `upTo` has been seen, even when the log has none at exactly `upTo`.
      position.set(link.address, upTo);
    }
    if (!missing) return;
  }
}

/** Resolves when the bus wakes the subscriber (an event queued, or it fell behind) or the subscription ends. */
function woken(subscriber: Subscriber, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = (): void => {
      signal?.removeEventListener("abort", done);
      subscriber.wake = undefined;
      resolve();
    };
    signal?.addEventListener("abort", done, { once: true });
    subscriber.wake = done;
  });
}

/** Waits while the subscriber's socket holds more than `maxBytes` unsent (not over SSE, where tRPC writes). */
async function drained(subscriber: Subscriber, maxBytes: number, signal: AbortSignal | undefined): Promise<void> {
  const tcp = subscriber.tcp;
  while (tcp !== undefined && subscriber.buffered > maxBytes && signal?.aborted !== true && !tcp.destroyed) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        tcp.off("drain", done);
        tcp.off("close", done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      tcp.once("drain", done);
      tcp.once("close", done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
