/**
 * The Socket.IO edge in-process on a real HTTP server on 127.0.0.1 (with a
 * live state, a hub and a scraper pool of its own), as the edge's tests
 * drive it: events are applied to the state and handed to the edge the way
 * the gateway does. Stopped by the caller's `cleanups`.
 */
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { JobEvent } from "@trawl/proto";
import { pino } from "pino";
import { ScraperPool } from "../scrapers/scraper-pool.js";
import { createSocketIoEdge, type SocketIoEdge, type SocketIoEdgeOptions } from "../socketio/socketio-edge.js";
import { createLiveState, type LiveState } from "../state/live-state.js";
import { applyEvent } from "../state/reducer.js";
import { Hub } from "../ws/hub.js";
import { routeUpgrade } from "../ws/routes.js";

export interface EdgeServer {
  state: LiveState;
  edge: SocketIoEdge;
  server: Server;
  base: string;
  /** Applies an event to the state and hands it to the edge, as the gateway does. */
  apply(event: JobEvent): void;
}

export interface EdgeServerOptions {
  overrides?: Partial<SocketIoEdgeOptions>;
  scraperAddresses?: string[];
  /** The server's own request listener (what the edge passes on). */
  requestListener?: RequestListener;
  /** Called with the server before it listens (to watch its connections, say). */
  beforeListen?: (server: Server) => void;
}

const logger = pino({ level: "silent" });

export async function startSocketIoEdgeServer(cleanups: Array<() => Promise<void> | void>, options: EdgeServerOptions = {}): Promise<EdgeServer> {
  const scraperAddresses = options.scraperAddresses ?? [];
  const state = createLiveState({ scrapers: scraperAddresses });
  const hub = new Hub({ policy: { maxBufferedBytes: 1_048_576, slowClientTimeoutMs: 10_000 }, heartbeatMs: 30_000, pongFrame: Buffer.from("{}"), logger });
  const pool = new ScraperPool({ addresses: scraperAddresses, state, onMessage: () => undefined, logger });
  const edge = createSocketIoEdge({ state, hub, pool, now: () => Date.now(), logger }, options.overrides ?? {});
  const server: Server = options.requestListener === undefined ? createServer() : createServer(options.requestListener);
  edge.attach(server);
  server.on("upgrade", (request, socket, head) => {
    if (routeUpgrade(request.url).kind === "socketio") edge.handleUpgrade(request, socket, head);
    else socket.destroy();
  });
  options.beforeListen?.(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    await edge.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return {
    state,
    edge,
    server,
    base: `http://127.0.0.1:${port}`,
    apply(event) {
      const job = applyEvent(state, "127.0.0.1:1", event);
      if (job !== undefined) edge.onApplied(event, job);
    },
  };
}
