/**
 * `events.watch`: the canonical JobEvents the gateway applies, as a
 * resumable subscription. Each event is sent as `tracked(cursor, json)`;
 * the cursor holds the last offset seen from every scraper
 * (`address|offset`, comma-separated), so a client that reconnects with it
 * as `lastEventId` gets exactly the events it missed: the gateway keeps no
 * log, so those are replayed from each scraper's own log (WatchEvents after
 * the cursor offset) while live events are buffered, then live ones follow,
 * minus any the replay already delivered.
 */
import { on } from "node:events";
import { JobEventSchema, PLATFORM_NAMES, platformFromName, type JobEvent, type WatchEventsResponse } from "@trawl/proto";
import { tracked, TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import type { ScraperLink } from "../scrapers/scraper-link.js";
import type { LiveState } from "../state/live-state.js";
import { APPLIED, type AppliedEvent, eventJson } from "./event-bus.js";
import { inScope, type TenantScope } from "../auth/scope.js";
import { readProcedure, takeSubscriptionSlot, type TrpcContext } from "./init.js";

/** How long a replay may wait for the scraper's next message before it is abandoned. */
export const REPLAY_STALL_MS = 15_000;

/** The JobEvent kinds (`started`, `pageFailed`, …), from the generated schema. */
export const EVENT_KINDS: readonly string[] = JobEventSchema.oneofs.flatMap((oneof) => oneof.fields.map((field) => field.localName));

/** Per-scraper offsets: the position of a subscriber in every scraper's log. */
export type Cursor = Map<string, bigint>;

export function formatCursor(cursor: Cursor): string {
  return [...cursor].map(([address, offset]) => `${address}|${offset}`).join(",");
}

/** The id of "now": every scraper's last applied offset, to subscribe from a state just read. */
export function currentCursor(state: LiveState): string {
  return formatCursor(new Map([...state.scrapers].map(([address, scraper]) => [address, scraper.lastOffset])));
}

/** Parses a cursor made by `formatCursor`; undefined when it is not one. */
export function parseCursor(text: string): Cursor | undefined {
  const cursor: Cursor = new Map();
  for (const part of text.split(",")) {
    const match = /^([^|,]+)\|(\d{1,20})$/.exec(part);
    if (match === null) return undefined;
    cursor.set(match[1] as string, BigInt(match[2] as string));
  }
  return cursor;
}

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
  {
    const resumeFrom = input.lastEventId == null ? new Map<string, bigint>() : parseCursor(input.lastEventId);
    if (resumeFrom === undefined) throw new TRPCError({ code: "BAD_REQUEST", message: "lastEventId is not an event id of this stream" });
    // An id naming a scraper this gateway does not watch would silently resume from nowhere.
    const stranger = [...resumeFrom.keys()].find((address) => !ctx.state.scrapers.has(address));
    if (stranger !== undefined) throw new TRPCError({ code: "BAD_REQUEST", message: `lastEventId names scraper ${stranger}, which this gateway does not watch` });
    const matches = matcher(input, ctx.state, ctx.scope);
    // Listen before replaying: everything applied from now on is buffered here.
    const live = on(ctx.bus, APPLIED, signal === undefined ? {} : { signal }) as AsyncIterableIterator<[AppliedEvent]>;
    const position: Cursor = new Map();
    for (const [address, scraper] of ctx.state.scrapers) position.set(address, resumeFrom.get(address) ?? scraper.lastOffset);

    for (const link of ctx.pool.links) {
      const after = position.get(link.address) ?? 0n;
      const upTo = ctx.state.scrapers.get(link.address)?.lastOffset ?? 0n;
      if (upTo <= after) continue;
      for await (const event of replay(link, after, upTo, signal)) {
        position.set(link.address, event.offset);
        if (matches(event)) yield tracked(formatCursor(position), eventJson(event));
      }
    }

    try {
      for await (const [{ scraper, event, json }] of live) {
        if (event.offset <= (position.get(scraper) ?? 0n)) continue;
        position.set(scraper, event.offset);
        if (matches(event)) yield tracked(formatCursor(position), json);
      }
    } catch (error) {
      if (signal?.aborted !== true) throw error;
    }
  }
}
