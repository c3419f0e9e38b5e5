/**
 * The seed 000 WebSocket endpoints on one `WebSocketServer({ noServer: true })`:
 * the HTTP server's 'upgrade' events are routed by pathname to
 * `/ws/scraping`, `/ws/scraping/{job_id}` and `/ws/stats`; anything else gets
 * a 404 and its socket destroyed.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { OPEN_PRINCIPAL, type Principal, Role } from "@trawl/proto";
import { WebSocketServer } from "ws";
import { type GatewayAccess, isRefusal, type Refusal } from "../auth/gateway-access.js";
import { inScope, scopeOf, type TenantScope } from "../auth/scope.js";
import { BEARER_SUBPROTOCOL, upgradeCredentials } from "../auth/upgrade-credentials.js";
import type { DialectFrame, EventDialect } from "../dialects/dialect.js";
import {
  encodeEvent,
  encodeJobState,
  encodeInitialState,
  encodeJobInitialState,
  encodeStats,
  encodeStatsData,
  encodeTerminalFrames,
  encodeUnknownJob,
  type Seed000Frame,
  type Seed000Type,
} from "../dialects/seed000.js";
import type { JobRecord, LiveState } from "../state/live-state.js";
import { recordFromJob } from "../state/reducer.js";
import type { OwnedJob } from "../scrapers/scraper-pool.js";
import { CloseCode } from "./close-codes.js";
import { Delivery, type Connection, type MessageCounters } from "./connection.js";
import { type Hub, SEED000_CHANNEL } from "./hub.js";
import { parseStatsInterval, routeUpgrade, STATS_INTERVAL_ERROR, type WsRoute } from "./routes.js";

/** How long a rendered initial_state / stats body is reused for clients connecting or ticking together. */
const VIEW_REUSE_MS = 50;
/** Deadline of the GetJob that checks a job the state does not know yet. */
const JOB_LOOKUP_DEADLINE_MS = 3_000;
/** Conflation key of stats frames (job ids never start with NUL). */
const STATS_KEY = "\u0000stats";

export interface WsEndpointOptions {
  state: LiveState;
  hub: Hub;
  /** Asks the scrapers about a job the state does not know (yet). */
  lookupJob: (jobId: string, deadlineMs: number) => Promise<OwnedJob | undefined>;
  maxPayloadBytes: number;
  now: () => number;
  logger: Logger;
  /** Takes upgrades routed to `/trpc` (the tRPC WebSocket transport); 404 without it. */
  trpc?: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Takes upgrades routed to `/socket.io/` (seed 004); 404 without it. */
  socketio?: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** `/ws/scraping/{job_id}?format=flat`: seed 002's flat events. */
  flatJob?: JobOpener;
  /** `/ws/{job_id}`: seed 003's file-processing messages. */
  fileJob?: JobOpener;
  /** `/ws/scan/{scan_id}`: seed 003's directory-scan socket. */
  scan?: (connection: Connection, scanId: string) => void;
  /** Tokens and origins; without it every client is the open principal. */
  access?: GatewayAccess;
  /** The message counters for a connection on `route` (its edge and dialect in /metrics). */
  counters?: (route: WsRoute) => MessageCounters | undefined;
}

/**
 * Opens a job endpoint of a dialect on an accepted connection. `job` is the
 * job as the state (or, for one that has not streamed yet, its scraper) knows
 * it; undefined when no scraper knows the id — the dialect answers in its own
 * error form and closes.
 */
export type JobOpener = (connection: Connection, jobId: string, job: JobRecord | undefined) => void;

/** The `format` values `/ws/scraping/{job_id}` accepts. */
export const JOB_FORMAT_ERROR = "format must be flat, or absent for the seed 000 messages";

export interface WsEndpoints {
  /** The HTTP server's 'upgrade' listener. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, route?: WsRoute): void;
  /** Refuses further upgrades (503) — used while shutting down. */
  stopAccepting(): void;
}

/** Seed 000 message type → how a slow client may be spared it. */
export function deliveryOf(type: Seed000Type): Delivery {
  switch (type) {
    case "progress":
    case "stats":
      return Delivery.CONFLATE;
    case "item_preview":
      return Delivery.DROP_COUNTED;
    case "pong":
      return Delivery.DROP;
    default:
      return Delivery.ALWAYS;
  }
}

/** Seed 000 frames as dialect frames: each text encoded to bytes once. */
export function seed000DialectFrames(frames: readonly Seed000Frame[]): DialectFrame[] {
  return frames.map((frame) => ({ jobId: frame.jobId, data: Buffer.from(frame.json), delivery: deliveryOf(frame.type) }));
}

/** The seed 000 dialect (`/ws/scraping`, `/ws/scraping/{job_id}`). */
export const SEED000_DIALECT: EventDialect = {
  channel: SEED000_CHANNEL,
  encodeEvent: (event, job) => seed000DialectFrames(encodeEvent(event, job)),
  encodeJobState: (job, nowMs) => seed000DialectFrames(encodeJobState(job, nowMs)),
};

export function createWsEndpoints(options: WsEndpointOptions): WsEndpoints {
  const { state, hub, logger } = options;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayloadBytes,
    clientTracking: false,
    perMessageDeflate: false,
    // A browser sends its token as the subprotocols ["bearer", token]: answer "bearer", never the token.
    handleProtocols: (protocols) => (protocols.has(BEARER_SUBPROTOCOL) ? BEARER_SUBPROTOCOL : (protocols.values().next().value ?? false)),
  });
  let accepting = true;
  const initialState = new ScopedViews<Buffer>();
  const statsData = new ScopedViews<string>();
  /** The last stats frame, shared by every client ticking with the same data and interval. */
  let lastStats = { data: "", interval: 0, frame: Buffer.alloc(0) };

  /**
   * Completes the upgrade and hands the connection to `onOpen` — or, when the
   * client's token is missing, unknown or its role too low for the endpoint,
   * closes it 1008 with the reason.
   */
  const accept = (request: IncomingMessage, route: WsRoute, socket: Duplex, head: Buffer, onOpen: (connection: Connection) => void): void => {
    const counters = options.counters?.(route);
    const checked: Principal | Refusal = options.access === undefined ? OPEN_PRINCIPAL : options.access.check(upgradeCredentials(request).token, Role.READ, "websocket");
    wss.handleUpgrade(request, socket, head, (ws) => {
      if (isRefusal(checked)) {
        ws.on("error", () => undefined);
        ws.close(CloseCode.POLICY_VIOLATION, `${checked.kind === "forbidden" ? "forbidden" : "unauthorized"}: ${checked.message}`);
        return;
      }
      onOpen(hub.accept(ws, socket, checked, counters));
    });
  };

  const openScraping = (connection: Connection): void => {
    const scope = scopeOf(connection.principal);
    hub.subscribeAll(connection, SEED000_CHANNEL, scope);
    const frame = initialState.get(scope).get(state, options.now(), (now) => Buffer.from(encodeInitialState(state, now, scope)));
    connection.send(frame, Delivery.ALWAYS, "");
  };

  /** The job as the state knows it; a job started a moment ago may not have streamed yet, so its scrapers are asked before refusing. */
  const resolveJob = async (jobId: string): Promise<JobRecord | undefined> => {
    const known = state.jobs.get(jobId);
    if (known !== undefined) return known;
    const found = await options.lookupJob(jobId, JOB_LOOKUP_DEADLINE_MS).catch((error: unknown) => {
      logger.warn({ jobId, err: error instanceof Error ? error.message : String(error) }, "job lookup failed");
      return undefined;
    });
    return state.jobs.get(jobId) ?? (found === undefined ? undefined : recordFromJob(found.job, found.address));
  };

  /** Resolves the job, then hands the connection to `opener` (unless the client left meanwhile). */
  const acceptJob = (request: IncomingMessage, route: WsRoute, socket: Duplex, head: Buffer, jobId: string, opener: JobOpener): void =>
    accept(request, route, socket, head, (connection) => {
      resolveJob(jobId)
        .then((job) => {
          // A job of another tenant is answered exactly like one that does not exist.
          const visible = job !== undefined && inScope(job.tenant, scopeOf(connection.principal)) ? job : undefined;
          if (!connection.isClosed) opener(connection, jobId, visible);
        })
        .catch((error: unknown) => {
          logger.error({ jobId, err: error instanceof Error ? error.message : String(error) }, "job subscription failed");
          connection.close(CloseCode.INTERNAL_ERROR, "internal error");
        });
    });

  const openJob: JobOpener = (connection, jobId, job) => {
    if (job === undefined) {
      connection.send(Buffer.from(encodeUnknownJob(jobId, options.now())), Delivery.ALWAYS, jobId);
      connection.close(CloseCode.POLICY_VIOLATION, "unknown job");
      return;
    }
    hub.subscribeJob(connection, jobId);
    connection.send(Buffer.from(encodeJobInitialState(job, state, options.now(), scopeOf(connection.principal))), Delivery.ALWAYS, "");
    for (const frame of encodeTerminalFrames(job)) connection.send(Buffer.from(frame.json), Delivery.ALWAYS, jobId);
  };

  const openStats = (connection: Connection, rawInterval: string | null): void => {
    const interval = parseStatsInterval(rawInterval);
    if (interval === undefined) {
      connection.send(Buffer.from(JSON.stringify({ type: "error", message: STATS_INTERVAL_ERROR })), Delivery.ALWAYS, "");
      connection.close(CloseCode.POLICY_VIOLATION, "invalid interval");
      return;
    }
    const scope = scopeOf(connection.principal);
    const tick = (): void => {
      const data = statsData.get(scope).get(state, options.now(), (now) => encodeStatsData(state, now, scope));
      if (data !== lastStats.data || interval !== lastStats.interval) lastStats = { data, interval, frame: Buffer.from(encodeStats(data, interval)) };
      connection.send(lastStats.frame, Delivery.CONFLATE, STATS_KEY);
    };
    tick();
    const timer = setInterval(tick, interval * 1000);
    timer.unref();
    connection.onClosed(() => clearInterval(timer));
  };

  return {
    handleUpgrade(request, socket, head, routed) {
      socket.on("error", (error) => logger.debug({ err: error.message }, "upgrade socket error"));
      if (!accepting) return refuse(socket, 503, "Service Unavailable", "shutting_down");
      if (options.access !== undefined && !options.access.origins.allows(request.headers.origin, request.headers.host)) return refuse(socket, 403, "Forbidden", "forbidden", "origin not allowed (ALLOWED_ORIGINS)");
      const route = routed ?? routeUpgrade(request.url);
      switch (route.kind) {
        case "scraping":
          return accept(request, route, socket, head, openScraping);
        case "job": {
          if (route.format === null || route.format === "") return acceptJob(request, route, socket, head, route.jobId, openJob);
          if (route.format === "flat" && options.flatJob !== undefined) return acceptJob(request, route, socket, head, route.jobId, options.flatJob);
          return accept(request, route, socket, head, (connection) => {
            connection.send(Buffer.from(JSON.stringify({ type: "error", message: JOB_FORMAT_ERROR })), Delivery.ALWAYS, "");
            connection.close(CloseCode.POLICY_VIOLATION, "unknown format");
          });
        }
        case "file-job":
          return options.fileJob === undefined ? refuse(socket, 404, "Not Found", "not_found") : acceptJob(request, route, socket, head, route.jobId, options.fileJob);
        case "scan": {
          const openScan = options.scan;
          return openScan === undefined ? refuse(socket, 404, "Not Found", "not_found") : accept(request, route, socket, head, (connection) => openScan(connection, route.scanId));
        }
        case "socketio":
          return options.socketio === undefined ? refuse(socket, 404, "Not Found", "not_found") : options.socketio(request, socket, head);
        case "stats":
          return accept(request, route, socket, head, (connection) => openStats(connection, route.interval));
        case "trpc":
          return options.trpc === undefined ? refuse(socket, 404, "Not Found", "not_found") : options.trpc(request, socket, head);
        default:
          return refuse(socket, 404, "Not Found", "not_found");
      }
    },
    stopAccepting() {
      accepting = false;
    },
  };
}

function refuse(socket: Duplex, code: number, reason: string, error: string, message = `no WebSocket endpoint here (${code})`): void {
  const body = JSON.stringify({ error, message });
  // Destroy only once the response is flushed, as `ws` does for refused handshakes.
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${code} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** One ViewCache per tenant scope (undefined: every tenant). */
class ScopedViews<T> {
  private readonly all = new ViewCache<T>();
  private readonly byTenant = new Map<string, ViewCache<T>>();

  get(scope: TenantScope): ViewCache<T> {
    if (scope === undefined) return this.all;
    let cache = this.byTenant.get(scope);
    if (cache === undefined) {
      cache = new ViewCache<T>();
      this.byTenant.set(scope, cache);
    }
    return cache;
  }
}

/** Reuses one rendering while the state is unchanged and the clock has barely moved. */
class ViewCache<T> {
  private version = -1;
  private atMs = Number.NEGATIVE_INFINITY;
  private value: T | undefined;

  get(state: LiveState, nowMs: number, render: (nowMs: number) => T): T {
    if (this.value !== undefined && state.version === this.version && nowMs >= this.atMs && nowMs - this.atMs < VIEW_REUSE_MS) {
      return this.value;
    }
    const value = render(nowMs);
    this.value = value;
    this.version = state.version;
    this.atMs = nowMs;
    return value;
  }
}
