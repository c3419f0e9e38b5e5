/**
 * `createGateway` wires the pieces: scraper links feed the reducer, each
 * applied event is encoded once per dialect and fanned out by the hub, and
 * one HTTP server carries REST (express) and the WebSocket upgrades. Its
 * metrics registry and readiness (issue 7) are per gateway.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { WatchEventsResponse } from "@trawl/proto";
import { pino, type Logger } from "pino";
import type { GatewayConfig } from "./config.js";
import { type EventDialect, publishDialectFrames } from "./dialects/dialect.js";
import type { DialectDeps } from "./dialects/dialect-deps.js";
import { SEED002_DIALECT } from "./dialects/seed002.js";
import { SEED003_JOB_DIALECT, SEED003_SCAN_DIALECT } from "./dialects/seed003.js";
import { PONG_JSON } from "./dialects/seed000.js";
import { GatewayAccess } from "./auth/gateway-access.js";
import { ConnectionLimiter, refuseUpgrade } from "./limits/connection-limiter.js";
import { createHttpApp } from "./http/app.js";
import { Edge, GatewayMetrics, type GatewayMetricsOptions, SOCKETIO_DIALECT, TRPC_DIALECT } from "./metrics/gateway-metrics.js";
import { readiness, ServerState } from "./metrics/readiness.js";
import { rawWsDialect } from "./metrics/ws-dialect.js";
import { ScraperPool, type ScraperHealth } from "./scrapers/scraper-pool.js";
import type { BackoffPolicy } from "./scrapers/backoff.js";
import { createLiveState, type LiveState } from "./state/live-state.js";
import { applyEvent, applySnapshot } from "./state/reducer.js";
import { timestampMs } from "./state/time.js";
import { CloseCode } from "./ws/close-codes.js";
import { createWsEndpoints, SEED000_DIALECT } from "./ws/endpoints.js";
import { Hub } from "./ws/hub.js";
import { routeUpgrade } from "./ws/routes.js";
import { createFlatJobOpener } from "./ws/seed002-endpoint.js";
import { createFileJobOpener, createScanOpener } from "./ws/seed003-endpoints.js";
import { createSocketIoEdge, type SocketIoEdge } from "./socketio/socketio-edge.js";
import { EventBus } from "./trpc/event-bus.js";
import { createTrpcEdge } from "./trpc/serve.js";

/** How long shutdown waits for clients to answer the 1001 close before terminating them. */
const CLOSE_GRACE_MS = 2_000;

export interface GatewayOptions {
  /** The clock used for connection-time views (initial_state, stats). */
  now?: () => number;
  /** Reconnect schedule of the scraper links. */
  backoff?: BackoffPolicy;
  /** Options of the gateway's metrics registry (default process metrics on). */
  metrics?: GatewayMetricsOptions;
}

export interface Gateway {
  /** Binds the HTTP/WebSocket server and starts watching the scrapers. */
  listen(): Promise<{ url: string; port: number }>;
  /** Closes every WebSocket with 1001, stops the scraper watchers, closes the server. */
  close(): Promise<void>;
  /** The live state (read-only use: tests, diagnostics). */
  readonly state: LiveState;
  /** The WebSocket hub (connection counts and per-connection counters). */
  readonly hub: Hub;
  /** The scrapers and their links. */
  readonly pool: ScraperPool;
  /** The tRPC `events.watch` subscribers (direct and queued). */
  readonly bus: EventBus;
  /** Each scraper's link status, as `/health` reports it. */
  health(): ScraperHealth[];
  /** This gateway's Prometheus registry and the API that feeds it (served at `/metrics`). */
  readonly metrics: GatewayMetrics;
}

export function createGateway(config: GatewayConfig, logger: Logger = pino({ level: config.logLevel }), options: GatewayOptions = {}): Gateway {
  const now = options.now ?? Date.now;
  const metrics = new GatewayMetrics(options.metrics);
  let serverState: ServerState = ServerState.STARTING;
  const state = createLiveState({ scrapers: config.scraperAddresses });
  const access = new GatewayAccess({
    authTokens: config.authTokens,
    allowedOrigins: config.allowedOrigins,
    maxActiveJobsPerTenant: config.maxActiveJobsPerTenant,
    onRefused: (edge, reason) => metrics.authFailed(edge, reason),
    onLimit: (limit) => metrics.limitHit(Edge.HTTP, limit),
  });
  const hub = new Hub({
    policy: { maxBufferedBytes: config.wsMaxBufferedBytes, slowClientTimeoutMs: config.wsSlowClientTimeoutMs },
    heartbeatMs: config.wsHeartbeatMs,
    batchWindowMs: config.wsBatchWindowMs,
    pongFrame: Buffer.from(PONG_JSON),
    logger,
    maxMessagesPerSecond: config.wsMaxMessagesPerSecond,
    onLimit: (limit) => metrics.limitHit(Edge.WEBSOCKET, limit),
  });
  const limiter = new ConnectionLimiter(config.wsMaxConnections, config.wsMaxConnectionsPerIp);

  /** Every dialect of the raw WebSocket endpoints; each encodes an event once for all its subscribers. */
  const dialects: readonly EventDialect[] = [SEED000_DIALECT, SEED002_DIALECT, SEED003_JOB_DIALECT, SEED003_SCAN_DIALECT];
  const bus = new EventBus({
    scrapers: state.scrapers,
    batchWindowMs: config.wsBatchWindowMs,
    maxBufferedBytes: config.wsMaxBufferedBytes,
    counters: metrics.dialect(Edge.TRPC, TRPC_DIALECT),
  });
  // Assigned below, once the pool exists; events only arrive after listen().
  let socketio: SocketIoEdge | undefined;
  const onMessage = (address: string, message: WatchEventsResponse): void => {
    if (message.message.case === "event") {
      const event = message.message.value;
      metrics.eventReceived(address, timestampMs(event.time));
      const job = applyEvent(state, address, event);
      if (job === undefined) return;
      for (const dialect of dialects) {
        if (hub.hasSubscribers(job.id, dialect.channel, job.tenant)) publishDialectFrames(hub, dialect.channel, dialect.encodeEvent(event, job), job.tenant);
      }
      socketio?.onApplied(event, job);
      bus.publish(address, event);
    } else if (message.message.case === "snapshot") {
      const outcome = applySnapshot(state, address, message.message.value);
      metrics.snapshotApplied(address);
      logger.info({ scraper: address, jobs: outcome.changed.length, removed: outcome.removed.length }, "applied scraper snapshot");
      for (const job of outcome.changed) {
        for (const dialect of dialects) {
          if (hub.hasSubscribers(job.id, dialect.channel, job.tenant)) publishDialectFrames(hub, dialect.channel, dialect.encodeJobState(job, now()), job.tenant);
        }
        socketio?.onJobState(job);
      }
    }
  };

  const pool = new ScraperPool({
    addresses: config.scraperAddresses,
    state,
    onMessage,
    logger,
    ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
    token: config.scraperToken,
  });
  const trpc = createTrpcEdge(
    { state, pool, bus, now },
    {
      maxPayloadBytes: config.wsMaxPayloadBytes,
      heartbeatMs: config.wsHeartbeatMs,
      logger,
      access,
      maxSubscriptions: config.wsMaxSubscriptions,
      maxMessagesPerSecond: config.wsMaxMessagesPerSecond,
      onLimit: (limit) => metrics.limitHit(Edge.TRPC, limit),
    },
  );
  const deps: DialectDeps = { state, hub, pool, now, logger, access };
  socketio = createSocketIoEdge(deps, {
    maxPayloadBytes: config.wsMaxPayloadBytes,
    backlog: { maxQueuedPackets: 64, slowClientTimeoutMs: config.wsSlowClientTimeoutMs },
    counters: metrics.dialect(Edge.SOCKETIO, SOCKETIO_DIALECT),
    batchWindowMs: config.wsBatchWindowMs, maxBufferedBytes: config.wsMaxBufferedBytes,
    maxSubscriptions: config.wsMaxSubscriptions,
    maxMessagesPerSecond: config.wsMaxMessagesPerSecond,
    onLimit: (limit) => metrics.limitHit(Edge.SOCKETIO, limit),
  });
  const endpoints = createWsEndpoints({
    trpc: trpc.handleUpgrade,
    socketio: socketio.handleUpgrade,
    flatJob: createFlatJobOpener(deps),
    fileJob: createFileJobOpener(deps),
    scan: createScanOpener(deps),
    state,
    hub,
    lookupJob: (jobId, deadlineMs) => pool.getJob(jobId, deadlineMs),
    maxPayloadBytes: config.wsMaxPayloadBytes,
    now,
    logger,
    access,
    counters: (route) => {
      const dialect = rawWsDialect(route);
      return dialect === undefined ? undefined : metrics.dialect(Edge.WEBSOCKET, dialect);
    },
  });
  const app = createHttpApp({
    state,
    pool,
    connections: () => ({ active: hub.connectionCount, jobSubscriptions: hub.jobSubscriptionCount }),
    now,
    logger,
    trpc: trpc.http,
    dashboardDir: config.dashboardDir,
    metrics,
    readiness: () => readiness(serverState, pool.health()),
    access,
    maxBodyBytes: config.httpMaxBodyBytes,
  });
  metrics.observe({
    state,
    links: () => pool.links,
    socketioConnections: () => socketio?.clientCount ?? 0,
    trpcConnections: () => trpc.connectionCount,
  });
  const server: Server = createServer(app);
  socketio.attach(server);
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const ip = request.socket.remoteAddress ?? "unknown";
    const route = routeUpgrade(request.url);
    const refused = limiter.admit(ip);
    if (refused !== undefined) {
      metrics.limitHit(route.kind === "trpc" ? Edge.TRPC : route.kind === "socketio" ? Edge.SOCKETIO : Edge.WEBSOCKET, refused);
      return refuseUpgrade(socket, refused, refused === "connections" ? config.wsMaxConnections : config.wsMaxConnectionsPerIp);
    }
    // A raw WebSocket endpoint accepts synchronously (hub.accept runs inside
    // the `ws` upgrade callback), so a connection added to the hub during
    // this call is this socket's: it counts for its dialect until it closes.
    const dialect = rawWsDialect(route);
    const before = hub.connectionCount;
    endpoints.handleUpgrade(request, socket, head, route);
    const counted = dialect !== undefined && hub.connectionCount > before;
    if (counted) metrics.connectionOpened(Edge.WEBSOCKET, dialect);
    socket.once("close", () => {
      limiter.release(ip);
      if (counted) metrics.connectionClosed(Edge.WEBSOCKET, dialect);
    });
  });
  server.on("clientError", (error, socket) => {
    logger.debug({ err: error.message }, "http client error");
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  let closing: Promise<void> | undefined;

  return {
    state,
    hub,
    pool,
    bus,
    health: () => pool.health(),
    metrics,

    listen() {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(config.port, config.host, () => {
          server.off("error", reject);
          server.on("error", (error) => logger.error({ err: error.message }, "http server error"));
          const { port } = server.address() as AddressInfo;
          serverState = ServerState.LISTENING;
          pool.start();
          hub.startHeartbeat();
          resolve({ url: `http://${displayHost(config.host)}:${port}`, port });
        });
      });
    },

    close() {
      closing ??= (async () => {
        serverState = ServerState.SHUTTING_DOWN;
        endpoints.stopAccepting();
        pool.stop();
        hub.stopHeartbeat();
        trpc.close();
        await socketio?.close();
        await hub.closeAll(CloseCode.GOING_AWAY, "server shutting down", CLOSE_GRACE_MS);
        if (!server.listening) return;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
        });
      })();
      return closing;
    },
  };
}

/** The host to put in the logged URL: wildcard binds are reached on loopback. */
function displayHost(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
