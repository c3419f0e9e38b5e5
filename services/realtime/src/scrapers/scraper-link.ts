/**
 * The gateway's link to one scraper: a WatchEvents stream that always asks
 * for events after the last offset the state applied, and reconnects with
 * backoff whenever the stream ends or fails — so a scraper restart (or a
 * network blip) costs a delay, never an event.
 */
import { connectivityState, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { bearerInterceptor, createClient, ScraperService, type ServiceClient, type WatchEventsResponse } from "@trawl/proto";
import type { Logger } from "pino";
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from "./backoff.js";

export const LinkState = {
  IDLE: "idle",
  /** A WatchEvents call is open. */
  STREAMING: "streaming",
  /** Waiting to reconnect after the stream ended. */
  BACKING_OFF: "backing_off",
  STOPPED: "stopped",
} as const;
export type LinkState = (typeof LinkState)[keyof typeof LinkState];

export interface ScraperLinkOptions {
  address: string;
  /** The offset to resume after: the last one the state applied from this scraper. */
  resumeOffset: () => bigint;
  /** Receives every message of the stream, in order. */
  onMessage: (address: string, message: WatchEventsResponse) => void;
  logger: Logger;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** Sent as `authorization: Bearer` metadata on every call (the scraper's API token). */
  token?: string;
}

export class ScraperLink {
  readonly address: string;
  readonly client: ServiceClient<typeof ScraperService>;
  state: LinkState = LinkState.IDLE;
  /** WatchEvents calls made (the first one included). */
  watchCalls = 0;

  private call: ClientReadableStream<WatchEventsResponse> | undefined;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;
  private readonly logger: Logger;

  constructor(private readonly options: ScraperLinkOptions) {
    this.address = options.address;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.random = options.random ?? Math.random;
    this.logger = options.logger.child({ scraper: options.address });
    this.client = createClient(ScraperService, options.address, undefined, {
      // Keep grpc-js's own reconnect schedule in step with ours.
      "grpc.initial_reconnect_backoff_ms": this.backoff.initialMs,
      "grpc.max_reconnect_backoff_ms": this.backoff.maxMs,
      // A scraper that hangs without closing its TCP connection must not look
      // connected forever: ping the long-lived WatchEvents stream and drop it
      // when a ping goes unanswered.
      "grpc.keepalive_time_ms": 15_000,
      "grpc.keepalive_timeout_ms": 5_000,
      ...(options.token === undefined ? {} : { interceptors: [bearerInterceptor(options.token)] }),
    });
  }

  /** True while the event stream is open over a ready channel. */
  get connected(): boolean {
    return this.state === LinkState.STREAMING && this.client.grpc.getChannel().getConnectivityState(false) === connectivityState.READY;
  }

  start(): void {
    if (this.state !== LinkState.IDLE) return;
    this.watch();
  }

  /** Cancels the stream and any pending reconnect, and closes the channel. */
  stop(): void {
    if (this.state === LinkState.STOPPED) return;
    this.state = LinkState.STOPPED;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.call?.cancel();
    this.call = undefined;
    this.client.close();
  }

  private watch(): void {
    if (this.state === LinkState.STOPPED) return;
    const afterOffset = this.options.resumeOffset();
    this.state = LinkState.STREAMING;
    this.watchCalls++;
    this.logger.debug({ afterOffset: afterOffset.toString() }, "watching scraper events");
    const call = this.client.watchEvents({ afterOffset });
    this.call = call;
    call.on("metadata", this.onEstablished);
    call.on("data", (message: WatchEventsResponse) => {
      if (this.attempt !== 0) this.onEstablished();
      this.options.onMessage(this.address, message);
    });
    call.on("error", (error: ServiceError) => {
      if (this.state === LinkState.STOPPED) return;
      // Warn once per outage; the retries that follow are routine.
      const level = this.attempt === 0 ? "warn" : "debug";
      this.logger[level]({ code: error.code, details: error.details, attempt: this.attempt }, "scraper event stream failed");
    });
    call.on("status", () => {
      if (this.call !== call || this.state === LinkState.STOPPED) return;
      this.call = undefined;
      this.scheduleReconnect();
    });
  }

  private readonly onEstablished = (): void => {
    if (this.attempt !== 0) this.logger.info({ attempts: this.attempt }, "scraper event stream re-established");
    this.attempt = 0;
  };

  private scheduleReconnect(): void {
    const delay = backoffDelay(this.attempt, this.backoff, this.random);
    this.attempt++;
    this.state = LinkState.BACKING_OFF;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.watch();
    }, delay);
    this.retryTimer.unref();
  }
}
