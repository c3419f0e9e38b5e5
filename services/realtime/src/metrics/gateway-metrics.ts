/**
 * The gateway's Prometheus metrics (issue 7): one prom-client `Registry` per
 * gateway — never the global default one, so tests can run several gateways
 * in one process — with the default process metrics, the metric definitions
 * and the small API the rest of the gateway calls.
 *
 * Two kinds of series. Collect-time ones are computed from state the gateway
 * already keeps whenever `/metrics` is scraped (connections of the Socket.IO
 * and tRPC servers, scraper links, jobs by status, per-platform pages), so no
 * event site has to remember to update them. Event ones (messages sent,
 * conflated or dropped, slow-client closes, auth failures, limit hits,
 * errors, event lag) are incremented where the event happens, through the
 * methods below.
 */
import type { Duplex } from "node:stream";
import { JOB_STATUS_NAMES, jobStatusName, platformName } from "@trawl/proto";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { LiveState } from "../state/live-state.js";

/** The edge a client reaches the gateway through: the `edge` label. */
export const Edge = {
  /** The raw WebSocket endpoints (seeds 000, 002, 003). */
  WEBSOCKET: "websocket",
  /** Seed 004's Socket.IO server. */
  SOCKETIO: "socketio",
  /** tRPC over WebSocket. */
  TRPC: "trpc",
  /** REST (express). */
  HTTP: "http",
  /** The gateway's gRPC client of the scrapers. */
  GRPC: "grpc",
} as const;
export type Edge = (typeof Edge)[keyof typeof Edge];

/** The `dialect` label of the Socket.IO edge's connections. */
export const SOCKETIO_DIALECT = "seed004";
/** The `dialect` label of the tRPC edge's connections. */
export const TRPC_DIALECT = "trpc";

/** Buckets of the scraper→gateway event lag, in seconds: sub-millisecond on loopback up to a replay after an outage. */
export const EVENT_LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** What a scraper link exposes to the metrics (ScraperLink satisfies it). */
export interface LinkView {
  readonly address: string;
  readonly connected: boolean;
  /** WatchEvents calls made, the first one included. */
  readonly watchCalls: number;
}

/** Where the collect-time series read from; every function is called at scrape time. */
export interface GatewayMetricsSources {
  state: LiveState;
  links: () => readonly LinkView[];
  /** Connected Socket.IO clients. */
  socketioConnections: () => number;
  /** Open tRPC WebSockets. */
  trpcConnections: () => number;
}

export interface GatewayMetricsOptions {
  /** Node.js process metrics (CPU, memory, event loop, GC); on by default. */
  defaultMetrics?: boolean;
  /** Wall clock for the event lag (epoch ms); Date.now by default. */
  clock?: () => number;
}

/**
 * The message counters of one edge and dialect. Plain numbers behind the
 * scenes, summed into the exposition at scrape time, so a call on the
 * fan-out path costs an increment rather than a prom-client label lookup.
 */
export interface DialectCounters {
  /** `count` frames handed to the socket (not queued, not skipped). */
  sent(count?: number): void;
  /** A queued frame replaced by a newer one with the same key. */
  conflated(count?: number): void;
  /** A frame skipped for a client that has fallen behind. */
  dropped(count?: number): void;
  /** A client closed for staying over its send bound (1013, or Socket.IO's disconnect). */
  slowClientClosed(): void;
}

const labelKey = (edge: string, dialect: string): string => `${edge}\u0000${dialect}`;

/** One edge and dialect's message counts, read by the counters' collect(). */
class DialectTally implements DialectCounters {
  sentFrames = 0;
  conflatedFrames = 0;
  droppedFrames = 0;
  slowCloses = 0;

  constructor(
    readonly edge: string,
    readonly dialect: string,
  ) {}

  // Arrow properties, so the hub may hold on to a single method.
  readonly sent = (count = 1): void => {
    this.sentFrames += count;
  };
  readonly conflated = (count = 1): void => {
    this.conflatedFrames += count;
  };
  readonly dropped = (count = 1): void => {
    this.droppedFrames += count;
  };
  readonly slowClientClosed = (): void => {
    this.slowCloses++;
  };
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private sources: GatewayMetricsSources | undefined;
  private readonly clock: () => number;
  /** Open connections of the edges counted at their event sites (the raw WebSocket endpoints). */
  private readonly open = new Map<string, { edge: string; dialect: string; count: number }>();
  private readonly tallies = new Map<string, DialectTally>();

  private readonly authFailuresTotal: Counter<"edge" | "reason">;
  private readonly limitHitsTotal: Counter<"edge" | "limit">;
  private readonly errorsTotal: Counter<"edge" | "kind">;
  private readonly eventLag: Histogram<"scraper">;
  private readonly snapshotsTotal: Counter<"scraper">;

  constructor(options: GatewayMetricsOptions = {}) {
    this.clock = options.clock ?? Date.now;
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    // collect() runs with `this` bound to its metric; these reach the gateway's side.
    const open = this.open;
    const sources = (): GatewayMetricsSources | undefined => this.sources;
    new Gauge({
      name: "trawl_gateway_connections",
      help: "Open client connections by edge (websocket, socketio, trpc) and dialect (seed000, seed002, seed003-job, seed003-scan, seed004, trpc).",
      labelNames: ["edge", "dialect"] as const,
      registers,
      collect() {
        this.reset();
        for (const { edge, dialect, count } of open.values()) this.set({ edge, dialect }, count);
        const from = sources();
        if (from === undefined) return;
        this.set({ edge: Edge.SOCKETIO, dialect: SOCKETIO_DIALECT }, from.socketioConnections());
        this.set({ edge: Edge.TRPC, dialect: TRPC_DIALECT }, from.trpcConnections());
      },
    });
    const tallies = this.tallies;
    const tallyCounter = (name: string, help: string, field: "sentFrames" | "conflatedFrames" | "droppedFrames" | "slowCloses"): void => {
      new Counter({
        name,
        help,
        labelNames: ["edge", "dialect"] as const,
        registers,
        collect() {
          this.reset();
          for (const tally of tallies.values()) this.inc({ edge: tally.edge, dialect: tally.dialect }, Math.max(0, tally[field]));
        },
      });
    };
    tallyCounter("trawl_gateway_messages_sent_total", "Frames written to client sockets.", "sentFrames");
    tallyCounter("trawl_gateway_messages_conflated_total", "Frames replaced by a newer frame with the same key while their client was behind.", "conflatedFrames");
    tallyCounter("trawl_gateway_messages_dropped_total", "Droppable frames (item previews) skipped while their client was behind.", "droppedFrames");
    tallyCounter("trawl_gateway_slow_client_closes_total", "Clients closed for staying over their send bound longer than WS_SLOW_CLIENT_TIMEOUT_MS.", "slowCloses");
    this.authFailuresTotal = new Counter({
      name: "trawl_gateway_auth_failures_total",
      help: "Requests and connections refused for missing or bad credentials.",
      labelNames: ["edge", "reason"] as const,
      registers,
    });
    this.limitHitsTotal = new Counter({
      name: "trawl_gateway_limit_hits_total",
      help: "Requests or messages refused for exceeding a configured limit (body size, payload size, rate).",
      labelNames: ["edge", "limit"] as const,
      registers,
    });
    this.errorsTotal = new Counter({
      name: "trawl_gateway_errors_total",
      help: "Errors answered to clients or met talking to scrapers, by edge and kind.",
      labelNames: ["edge", "kind"] as const,
      registers,
    });
    this.eventLag = new Histogram({
      name: "trawl_gateway_event_lag_seconds",
      help: "Time from a scraper event's own timestamp to its arrival at the gateway.",
      labelNames: ["scraper"] as const,
      buckets: EVENT_LAG_BUCKETS,
      registers,
    });
    this.snapshotsTotal = new Counter({
      name: "trawl_gateway_snapshots_applied_total",
      help: "Scraper snapshots applied (a resume from an offset the scraper no longer retains).",
      labelNames: ["scraper"] as const,
      registers,
    });

    new Gauge({
      name: "trawl_gateway_scraper_up",
      help: "1 while the event stream from the scraper is open over a ready channel, else 0.",
      labelNames: ["scraper"] as const,
      registers,
      collect() {
        this.reset();
        for (const link of sources()?.links() ?? []) this.set({ scraper: link.address }, link.connected ? 1 : 0);
      },
    });
    new Counter({
      name: "trawl_gateway_scraper_stream_restarts_total",
      help: "WatchEvents calls made again after the scraper's event stream ended or failed.",
      labelNames: ["scraper"] as const,
      registers,
      collect() {
        this.reset();
        for (const link of sources()?.links() ?? []) this.inc({ scraper: link.address }, Math.max(0, link.watchCalls - 1));
      },
    });
    new Gauge({
      name: "trawl_gateway_scraper_last_offset",
      help: "Offset of the last event (or snapshot) applied from the scraper: the resume point.",
      labelNames: ["scraper"] as const,
      registers,
      collect() {
        this.reset();
        for (const record of sources()?.state.scrapers.values() ?? []) this.set({ scraper: record.address }, Number(record.lastOffset));
      },
    });
    new Gauge({
      name: "trawl_gateway_jobs",
      help: "Jobs in the gateway's live state by status (active jobs, and ended ones kept for late subscribers).",
      labelNames: ["status"] as const,
      registers,
      collect() {
        this.reset();
        const state = sources()?.state;
        if (state === undefined) return;
        const counts = new Map<string, number>(JOB_STATUS_NAMES.map((name) => [name, 0]));
        for (const job of state.jobs.values()) {
          const name = jobStatusName(job.status);
          counts.set(name, (counts.get(name) ?? 0) + 1);
        }
        for (const [status, count] of counts) this.set({ status }, count);
      },
    });
    new Counter({
      name: "trawl_gateway_pages_total",
      help: "Pages processed by the scrapers, by platform and outcome (ok, error), as their events report; rate() gives pages per second.",
      labelNames: ["platform", "outcome"] as const,
      registers,
      collect() {
        this.reset();
        const totals = new Map<string, { ok: number; error: number }>();
        for (const scraper of sources()?.state.scrapers.values() ?? []) {
          for (const [platform, t] of scraper.platforms) {
            const name = platformName(platform);
            const sum = totals.get(name) ?? { ok: 0, error: 0 };
            sum.ok += t.successCount;
            sum.error += t.errorCount;
            totals.set(name, sum);
          }
        }
        for (const [platform, sum] of totals) {
          this.inc({ platform, outcome: "ok" }, sum.ok);
          this.inc({ platform, outcome: "error" }, sum.error);
        }
      },
    });
  }

  /** Connects the collect-time series to the gateway's state; until then they report nothing. */
  observe(sources: GatewayMetricsSources): void {
    this.sources = sources;
  }

  /** A connection of `edge`/`dialect` opened; pair with {@link connectionClosed}. */
  connectionOpened(edge: Edge, dialect: string): void {
    const key = labelKey(edge, dialect);
    const entry = this.open.get(key);
    if (entry === undefined) this.open.set(key, { edge, dialect, count: 1 });
    else entry.count++;
  }

  connectionClosed(edge: Edge, dialect: string): void {
    const entry = this.open.get(labelKey(edge, dialect));
    if (entry !== undefined && entry.count > 0) entry.count--;
  }

  /** Counts `socket` as an open connection of `edge`/`dialect` until it closes. */
  trackSocket(socket: Duplex, edge: Edge, dialect: string): void {
    this.connectionOpened(edge, dialect);
    socket.once("close", () => this.connectionClosed(edge, dialect));
  }

  /** The message counters of one edge and dialect (the same object every call: hold on to it on hot paths). */
  dialect(edge: Edge, dialect: string): DialectCounters {
    const key = labelKey(edge, dialect);
    let tally = this.tallies.get(key);
    if (tally === undefined) {
      tally = new DialectTally(edge, dialect);
      this.tallies.set(key, tally);
    }
    return tally;
  }

  /** A request or connection refused for its credentials; `reason` is a fixed word (missing, invalid, expired). */
  authFailed(edge: Edge, reason: string): void {
    this.authFailuresTotal.inc({ edge, reason });
  }

  /** A limit refused something; `limit` names it (body_size, payload_size, rate). */
  limitHit(edge: Edge, limit: string): void {
    this.limitHitsTotal.inc({ edge, limit });
  }

  /** An error of a fixed `kind` (not_found, unavailable, internal, …) on `edge`. */
  error(edge: Edge, kind: string): void {
    this.errorsTotal.inc({ edge, kind });
  }

  /**
   * An event from `scraper` arrived; `eventTimeMs` is the event's own time.
   * Observes the lag (clamped at 0: the scraper's clock may run ahead).
   */
  eventReceived(scraper: string, eventTimeMs: number | undefined): void {
    if (eventTimeMs === undefined) return;
    this.eventLag.observe({ scraper }, Math.max(0, this.clock() - eventTimeMs) / 1000);
  }

  snapshotApplied(scraper: string): void {
    this.snapshotsTotal.inc({ scraper });
  }

  /** The text exposition and its content type, for `GET /metrics`. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
