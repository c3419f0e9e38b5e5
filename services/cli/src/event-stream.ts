/**
 * `events.watch` as a stream that outlives more than the tRPC client's own
 * reconnects. The WebSocket client already resubscribes with the last event
 * id after a dropped connection; this adds the case where the gateway is
 * back but refuses the resumed subscription for a moment
 * (SERVICE_UNAVAILABLE, "retry shortly": a restarted gateway whose scraper
 * link is not up yet cannot replay). Then the subscription is opened again,
 * after a pause, with the last event id it delivered as `lastEventId`, so
 * the gateway still replays exactly what was missed.
 */
import type { JobEventJson, PlatformName } from "@trawl/proto";
import { TRPCClientError } from "@trpc/client";
import type { Api } from "./client.js";
import type { LinkState } from "./progress-bar.js";

export interface EventFilter {
  readonly jobId?: string;
  readonly types?: readonly string[];
  readonly platforms?: readonly PlatformName[];
}

export interface EventStreamHandlers {
  /** The gateway confirmed the subscription (again, after a reconnect): events from now on arrive. */
  onStarted(): void;
  onEvent(event: JobEventJson): void;
  onLink(link: LinkState): void;
  /** A refusal that retrying will not fix, or the gateway ending the stream. */
  onError(error: unknown): void;
}

/** The gateway's word for "try again shortly". */
export function isRetryable(error: unknown): boolean {
  return error instanceof TRPCClientError && (error.data as { code?: unknown } | undefined)?.code === "SERVICE_UNAVAILABLE";
}

/** Half a second, doubling to five at most. */
export function retryDelayMs(attempt: number): number {
  return Math.min(500 * 2 ** attempt, 5_000);
}

/** Opens the stream; `stop` ends it for good. */
export function openEventStream(api: Api, filter: EventFilter, handlers: EventStreamHandlers): { stop(): void } {
  let lastEventId: string | undefined;
  let attempt = 0;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let subscription: { unsubscribe(): void } | undefined;

  const open = (): void => {
    retry = undefined;
    let failed = false;
    const input = {
      ...(filter.jobId === undefined ? {} : { jobId: filter.jobId }),
      ...(filter.types === undefined ? {} : { types: [...filter.types] }),
      ...(filter.platforms === undefined ? {} : { platforms: [...filter.platforms] }),
      ...(lastEventId === undefined ? {} : { lastEventId }),
    };
    subscription = api.events.watch.subscribe(input, {
      onStarted: () => {
        attempt = 0;
        handlers.onStarted();
      },
      onData: ({ id, data }) => {
        if (stopped) return;
        lastEventId = id;
        handlers.onEvent(data);
      },
      onError: (error) => {
        failed = true;
        if (stopped) return;
        if (!isRetryable(error)) return handlers.onError(error);
        handlers.onLink("reconnecting");
        retry = setTimeout(open, retryDelayMs(attempt++));
      },
      onComplete: () => {
        // Only an end without an error is the gateway closing the stream on us.
        if (!stopped && !failed) handlers.onError(new Error("the gateway ended the event stream"));
      },
      onConnectionStateChange: (change) => {
        if (change.state === "pending") handlers.onLink("live");
        else if (change.error !== null) handlers.onLink("reconnecting");
      },
    });
  };
  open();
  return {
    stop() {
      stopped = true;
      if (retry !== undefined) clearTimeout(retry);
      subscription?.unsubscribe();
    },
  };
}
