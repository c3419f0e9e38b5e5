/**
 * Seed 004's Socket.IO server on the gateway's own port, at `/socket.io/`
 * (WebSocket and long-polling transports, upgrades from one to the other).
 *
 * Clients join rooms with `subscribe:job` / `subscribe:batch`; each applied
 * scraper event is encoded once (seed004-messages.ts) and broadcast to the
 * job's room. Broadcasts are held for a batch window (broadcast-window.ts,
 * WS_BATCH_WINDOW_MS as for the raw WebSocket hub) and then framed once per
 * room and written whole to every healthy WebSocket member's TCP socket
 * (direct-write.ts): one write per client per window. Other members
 * (long-polling, packets still queued in engine.io, over their bound) get the
 * same packets through socket.io as before. Per-socket emits, acks, joins
 * and leaves flush the window first, so no packet overtakes another.
 * Progress messages are droppable for a client that has fallen behind
 * (backlog.ts: the latest is delivered when it catches up); terminal messages
 * always go, and after them the room is emptied, so nothing follows a
 * terminal message. Bad input — an unknown event, a payload without a usable
 * id, an unknown job — gets a `job:error` on that socket only.
 *
 * How it shares the HTTP server: socket.io only builds its engine.io server
 * when attached to an http.Server, and engine.io's attach() then also adds an
 * 'upgrade' listener, which would compete with the gateway's upgrade router
 * (it destroys sockets for paths it does not route). So socket.io is attached
 * to a detached http.Server that never listens, and the gateway's server gets
 * exactly two hooks: `attach` routes `/socket.io/` HTTP requests (polling) to
 * engine.io ahead of express, and the router hands `/socket.io/` upgrades to
 * `handleUpgrade`.
 */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { bearerToken, isTerminal, type JobEvent, OPEN_PRINCIPAL, type Principal, Role } from "@trawl/proto";
import { isRefusal } from "../auth/gateway-access.js";
import { inScope, scopeOf } from "../auth/scope.js";
import { Server, type Socket } from "socket.io";
import type { DialectDeps } from "../dialects/dialect-deps.js";
import { MessageRate } from "../limits/message-rate.js";
import type { MessageCounters } from "../ws/connection.js";
import type { JobRecord } from "../state/live-state.js";
import { recordFromJob } from "../state/reducer.js";
import { timestampMs } from "../state/time.js";
import { SocketBacklog, type BacklogPolicy, type OwedMessage } from "./backlog.js";
import { BroadcastWindow, type RoomBatch } from "./broadcast-window.js";
import { directTarget, eventFrames, GONE, VIA_ENGINE } from "./direct-write.js";
import { JobFactsBook, type JobFacts } from "./job-facts.js";
import {
  changesBatch,
  CLIENT_EVENTS,
  encodeBatchMessage,
  encodeBatchState,
  encodeJobEvent,
  encodeJobState,
  encodeRequestError,
  isClientEvent,
  parseIdRequest,
  type ClientEvent,
  type ConnectionMessage,
  type JobMessage,
  type SubscribedMessage,
} from "./seed004-messages.js";
import { blockedIsPossible } from "./status-map.js";

export interface SocketIoEdge {
  /** Binds to the gateway's HTTP server (polling requests at /socket.io/). */
  attach(server: HttpServer): void;
  /** Takes WebSocket upgrades the gateway routed to /socket.io/. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Called for every event the gateway applied; `job` is the state after it. */
  onApplied(event: JobEvent, job: JobRecord): void;
  /** Called when a scraper snapshot replaced `job`. */
  onJobState(job: JobRecord): void;
  /** Disconnects every client. */
  close(): Promise<void>;
  /** Connected Socket.IO clients (diagnostics, tests). */
  readonly clientCount: number;
}

export interface SocketIoEdgeOptions {
  /** Largest message a client may send (engine.io's maxHttpBufferSize), as WS_MAX_PAYLOAD_BYTES for the raw endpoints. */
  maxPayloadBytes: number;
  /** When a client is behind, and how long it may stay so. */
  backlog: BacklogPolicy;
  /** Rooms one connection may be in. */
  maxSubscriptions: number;
  /** Subscriptions of one connection that may wait for a scraper's answer at once. */
  maxPendingLookups: number;
  /** Deadline of the GetJob that checks a job the state does not know (yet). */
  lookupDeadlineMs: number;
  /** The edge's message counters in /metrics. */
  counters?: MessageCounters;
  /** Events a client may send per second (WS_MAX_MESSAGES_PER_SECOND, bursts of two seconds' worth); more disconnects it. */
  maxMessagesPerSecond?: number;
  /** Told when a limit is hit ("message_rate", "subscriptions"). */
  onLimit?: (limit: string) => void;
  /** The least time between two flushes of room broadcasts (WS_BATCH_WINDOW_MS, as for the hub); 0 flushes at the end of every tick. */
  batchWindowMs: number;
  /** Bytes a client's TCP socket may hold unsent and still be written to directly (WS_MAX_BUFFERED_BYTES, as for the hub). */
  maxBufferedBytes: number;
  /** engine.io's heartbeat (its pingInterval and pingTimeout); engine.io's defaults when unset. */
  heartbeat?: { intervalMs: number; timeoutMs: number };
}

export const SOCKETIO_PATH = "/socket.io";

export const DEFAULT_SOCKETIO_OPTIONS: SocketIoEdgeOptions = {
  maxPayloadBytes: 65_536,
  // A healthy client drains its buffer on every write; 64 queued packets is a client that stopped reading.
  backlog: { maxQueuedPackets: 64, slowClientTimeoutMs: 10_000 },
  maxSubscriptions: 256,
  maxPendingLookups: 16,
  lookupDeadlineMs: 3_000,
  batchWindowMs: 0,
  maxBufferedBytes: 1_048_576,
};

/**
 * Origins allowed to read polling responses: loopback pages only (the seed's
 * development frontend on http://localhost:3000, a console on a local page).
 * Trawl has no authentication yet, so no other site gets CORS access; pages
 * the gateway serves itself are same-origin anyway. WebSocket connections
 * are not subject to CORS.
 */
export const CORS_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/;

/** Per-connection bookkeeping. */
interface Client {
  readonly socket: Socket;
  readonly backlog: SocketBacklog;
  /** Latest subscribe request per room, so an unsubscribe overtakes a subscription still being looked up. */
  readonly intents: Map<string, number>;
  nextIntent: number;
  pendingLookups: number;
}

type Ack = (payload: unknown) => void;

const jobRoom = (jobId: string): string => `job:${jobId}`;
const batchRoom = (batchId: string): string => `batch:${batchId}`;

function isSocketIoPath(url: string | undefined): boolean {
  const path = (url ?? "/").split("?", 1)[0] ?? "/";
  return path === SOCKETIO_PATH || path.startsWith(`${SOCKETIO_PATH}/`);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createSocketIoEdge(deps: DialectDeps, overrides: Partial<SocketIoEdgeOptions> = {}): SocketIoEdge {
  const options: SocketIoEdgeOptions = { ...DEFAULT_SOCKETIO_OPTIONS, ...overrides };
  const { state, pool } = deps;
  const logger = deps.logger.child({ edge: "socket.io" });
  const facts = new JobFactsBook(state.maxFinishedJobs);
  const clients = new Map<string, Client>();
  /**
   * Clients that subscribed from a scraper's Job before the gateway's stream
   * delivered that job's events: job id → socket id → the seq their picture
   * already reflects. Events up to that seq are not sent to them again.
   */
  const catchUp = new Map<string, Map<string, bigint>>();
  let closing: Promise<void> | undefined;

  const io = new Server({
    path: SOCKETIO_PATH,
    serveClient: false,
    transports: ["polling", "websocket"],
    maxHttpBufferSize: options.maxPayloadBytes,
    ...(options.heartbeat === undefined ? {} : { pingInterval: options.heartbeat.intervalMs, pingTimeout: options.heartbeat.timeoutMs }),
    cors: { origin: (origin, callback) => callback(null, origin !== undefined && (CORS_ORIGIN.test(origin) || deps.access?.origins.listed(origin) === true)), methods: ["GET", "POST"] },
    // Browser pages of origins not allowed (ALLOWED_ORIGINS) are refused at the handshake, WebSocket or polling.
    allowRequest: (request, callback) => callback(null, deps.access === undefined || deps.access.origins.allows(request.headers.origin, request.headers.host)),
  });
  // The token: the client's `auth: { token }` (Socket.IO's own place), an Authorization header, or `?token=`.
  io.use((socket, next) => {
    if (deps.access === undefined) return next();
    const auth: unknown = socket.handshake.auth;
    const fromAuth = typeof auth === "object" && auth !== null && typeof (auth as { token?: unknown }).token === "string" ? (auth as { token: string }).token : undefined;
    const fromQuery = typeof socket.handshake.query.token === "string" ? socket.handshake.query.token : undefined;
    const checked = deps.access.check(fromAuth ?? bearerToken(socket.handshake.headers.authorization) ?? fromQuery, Role.READ, "socketio");
    if (isRefusal(checked)) {
      const error = new Error(checked.kind === "forbidden" ? "forbidden" : "unauthorized") as Error & { data?: unknown };
      error.data = { message: checked.message };
      return next(error);
    }
    socket.data.principal = checked;
    next();
  });
  io.attach(createServer());
  const engine = io.engine;
  const rooms = io.of("/").adapter.rooms;
  engine.on("connection_error", (error: { code?: number; message?: string }) => logger.debug({ code: error.code, err: error.message }, "socket.io connection refused"));

  const hasMembers = (room: string): boolean => (rooms.get(room)?.size ?? 0) > 0;

  /** Rooms whose terminal message waits in the window; nothing more is sent to them, and they are emptied once it is sent. */
  const closingRooms = new Set<string>();

  /**
   * Sends a window's batches. A client in several rooms gets each room's
   * frames into its corked TCP socket, so the whole window still leaves it in
   * one (vectored) write.
   */
  const deliver = (batches: readonly RoomBatch[]): void => {
    if (batches.length === 1) {
      deliverRoom(batches[0] as RoomBatch, undefined);
    } else {
      const corked = new Set<Duplex>();
      try {
        for (const batch of batches) deliverRoom(batch, corked);
      } finally {
        for (const tcp of corked) tcp.uncork();
      }
    }
    // A room whose terminal message was just sent is emptied: nothing follows a terminal message.
    for (const { room } of batches) {
      if (closingRooms.delete(room)) io.in(room).socketsLeave(room);
    }
  };

  /**
   * Sends a window's packets for one room to its members (minus `except`):
   * the frames built once and written whole to each healthy WebSocket
   * member, packet by packet through socket.io to the others. Only on that
   * path can a client be behind, so only there are droppable packets owed
   * instead of sent (backlog.ts) — decided per packet, as a client may fall
   * behind part-way through the window.
   */
  const deliverRoom = ({ room, except, packets }: RoomBatch, corked: Set<Duplex> | undefined): void => {
    const members = rooms.get(room);
    if (members === undefined) return;
    let frames: Buffer | undefined;
    const viaEngine: Client[] = [];
    let direct = 0;
    for (const id of members) {
      const client = except.has(id) ? undefined : clients.get(id);
      if (client === undefined) continue;
      const target = client.backlog.isBehind ? VIA_ENGINE : directTarget(client.socket, options.maxBufferedBytes);
      if (target === GONE) continue;
      if (target === VIA_ENGINE) {
        viaEngine.push(client);
        continue;
      }
      frames ??= eventFrames(packets);
      if (corked !== undefined && !corked.has(target)) {
        target.cork();
        corked.add(target);
      }
      target.write(frames);
      direct++;
    }
    if (direct > 0) options.counters?.sent(direct * packets.length);
    if (viaEngine.length > 0) sendViaEngine(room, viaEngine, packets);
  };

  const sendViaEngine = (room: string, members: readonly Client[], packets: RoomBatch["packets"]): void => {
    for (const { event, payload, droppable } of packets) {
      const to: string[] = [];
      for (const client of members) {
        if (!client.socket.connected) continue;
        if (!client.backlog.isBehind) to.push(client.socket.id);
        else if (droppable) {
          client.backlog.owe(room, { event, payload });
          options.counters?.conflated();
        } else {
          client.backlog.forget(room);
          to.push(client.socket.id);
        }
      }
      // Each socket is in the room named by its id: one broadcast, so socket.io encodes the packet once for all of them.
      if (to.length === 0) continue;
      io.to(to).emit(event, payload);
      options.counters?.sent(to.length);
    }
  };

  const broadcasts = new BroadcastWindow(options.batchWindowMs, deliver);

  /** Emits to one socket after the pending broadcasts, which it must not overtake. */
  const emitTo = (socket: Socket, event: string, payload: unknown): void => {
    broadcasts.flush();
    socket.emit(event, payload);
  };

  /** Answers a request's ack (a packet on the socket, like an emit) after the pending broadcasts. */
  const reply = (ack: Ack | undefined, payload: unknown): void => {
    if (ack === undefined) return;
    broadcasts.flush();
    ack(payload);
  };

  /**
   * Sends one message to a room with the window's other broadcasts. `skip`
   * names clients whose picture already includes it; clients that are behind
   * are dealt with when the window is sent.
   */
  const broadcast = (room: string, event: string, payload: unknown, droppable: boolean, skip: readonly string[]): void => {
    if (closingRooms.has(room) || !hasMembers(room)) return;
    broadcasts.add(room, skip, { event, payload, droppable });
  };

  /**
   * Sends a room's terminal message; once it is sent the room is emptied, so
   * nothing follows it. The room's pending packets leave now and the
   * terminal message with the window, in writes of their own: a client that
   * handles back-to-back messages concurrently (python-socketio runs each
   * handler in a thread of its own) could otherwise print the last update
   * after the completion.
   */
  const broadcastTerminal = (room: string, event: string, payload: unknown, skip: readonly string[]): void => {
    if (closingRooms.has(room) || !hasMembers(room)) return;
    const earlier = broadcasts.take(room);
    if (earlier.length > 0) deliver(earlier);
    broadcasts.add(room, skip, { event, payload, droppable: false });
    closingRooms.add(room);
  };

  const catchUpSkips = (jobId: string, seq: bigint): string[] => {
    const waiting = catchUp.get(jobId);
    if (waiting === undefined) return [];
    const skip: string[] = [];
    for (const [socketId, seen] of waiting) {
      if (seq <= seen) skip.push(socketId);
      else waiting.delete(socketId);
    }
    if (waiting.size === 0) catchUp.delete(jobId);
    return skip;
  };

  /**
   * The job as the state knows it, after asking its scraper (GetJob) when the
   * state does not know it yet or lacks a fact the answer needs (a batch's
   * task count; the robots.txt refusals of a job that failed without
   * fetching anything). Undefined when no scraper knows the id; throws when
   * no scraper answers.
   */
  const resolveJob = async (jobId: string, needsTasks: boolean): Promise<JobRecord | undefined> => {
    const known = state.jobs.get(jobId);
    const knownFacts = facts.get(jobId);
    const needsLookup =
      known === undefined ||
      (needsTasks && knownFacts?.tasks === undefined) ||
      (blockedIsPossible(known.status, known.counts.pagesDone) && knownFacts?.robotsSkips === undefined);
    if (!needsLookup) return known;
    const found = await pool.getJob(jobId, options.lookupDeadlineMs);
    if (found !== undefined) facts.learn(found.job);
    return state.jobs.get(jobId) ?? (found === undefined ? undefined : recordFromJob(found.job, found.address));
  };

  const sendError = (client: Client, jobId: string | null, message: string, ack: Ack | undefined): void => {
    const payload: JobMessage = encodeRequestError(jobId, message, deps.now());
    emitTo(client.socket, "job:error", payload);
    reply(ack, payload);
  };

  const subscribe = async (client: Client, event: "subscribe:job" | "subscribe:batch", id: string, ack: Ack | undefined): Promise<void> => {
    const { socket } = client;
    const asBatch = event === "subscribe:batch";
    const room = asBatch ? batchRoom(id) : jobRoom(id);
    // socket.rooms also holds the socket's own id.
    if (!socket.rooms.has(room) && socket.rooms.size > options.maxSubscriptions) {
      options.onLimit?.("subscriptions");
      return sendError(client, id, `${event}: this connection already has ${options.maxSubscriptions} subscriptions; unsubscribe first`, ack);
    }
    if (client.pendingLookups >= options.maxPendingLookups) {
      return sendError(client, id, `${event}: ${options.maxPendingLookups} subscriptions are still being looked up; wait for their answers`, ack);
    }
    const intent = ++client.nextIntent;
    client.intents.set(room, intent);
    client.pendingLookups++;
    let job: JobRecord | undefined;
    try {
      job = await resolveJob(id, asBatch);
    } catch (error) {
      logger.warn({ jobId: id, err: errorText(error) }, "socket.io job lookup failed");
      if (client.intents.get(room) === intent) client.intents.delete(room);
      if (socket.connected) sendError(client, id, `${event}: no scraper answered for ${id}; try again`, ack);
      return;
    } finally {
      client.pendingLookups--;
    }
    if (!socket.connected) return;
    if (client.intents.get(room) !== intent) {
      // Unsubscribed (or subscribed again) while the lookup ran: the later request wins; only an ack hears of this one.
      reply(ack, encodeRequestError(id, `${event}: superseded by a later request for ${id}`, deps.now()));
      return;
    }
    client.intents.delete(room);
    // A job of another tenant is answered exactly like one that does not exist.
    const principal = (socket.data as { principal?: Principal }).principal ?? OPEN_PRINCIPAL;
    if (job === undefined || !inScope(job.tenant, scopeOf(principal))) return sendError(client, id, `Unknown ${asBatch ? "batch" : "job"}: ${id}`, ack);

    // From here on everything is synchronous: no event can slip between the picture and the join.
    const live = state.jobs.get(id);
    const current = live ?? job;
    const jobFacts: JobFacts = facts.get(id) ?? { tasks: undefined, tasksEnded: 0, robotsSkips: undefined };
    const subscribed: SubscribedMessage = asBatch ? { batch_id: id } : { job_id: id };
    // What is pending for the room goes first, to the members it was published for; the picture reflects it.
    broadcasts.flush();
    client.backlog.forget(room);
    emitTo(socket, "subscribed", subscribed);
    if (asBatch) {
      emitTo(socket, "batch:update", encodeBatchState(current, jobFacts));
    } else {
      const picture = encodeJobState(current, jobFacts);
      emitTo(socket, picture.event, picture.payload);
    }
    if (!isTerminal(current.status)) {
      void socket.join(room);
      if (live === undefined) {
        const waiting = catchUp.get(id) ?? new Map<string, bigint>();
        waiting.set(socket.id, current.lastSeq);
        catchUp.set(id, waiting);
      }
    }
    reply(ack, subscribed);
  };

  const unsubscribe = (client: Client, event: "unsubscribe:job" | "unsubscribe:batch", id: string, ack: Ack | undefined): void => {
    const room = event === "unsubscribe:batch" ? batchRoom(id) : jobRoom(id);
    client.intents.delete(room);
    // The room's pending packets still reach this client: it was a member when they were published.
    broadcasts.flush();
    client.backlog.forget(room);
    void client.socket.leave(room);
    reply(ack, event === "unsubscribe:batch" ? { batch_id: id } : { job_id: id });
  };

  const handle = (client: Client, event: ClientEvent, args: unknown[]): void => {
    const last = args.at(-1);
    const ack = typeof last === "function" ? (last as Ack) : undefined;
    const request = parseIdRequest(event, ack === undefined ? args[0] : args.length > 1 ? args[0] : undefined);
    if (!request.ok) return sendError(client, null, request.message, ack);
    switch (event) {
      case "subscribe:job":
      case "subscribe:batch":
        subscribe(client, event, request.id, ack).catch((error: unknown) => {
          logger.error({ jobId: request.id, err: errorText(error) }, "socket.io subscription failed");
        });
        return;
      case "unsubscribe:job":
      case "unsubscribe:batch":
        return unsubscribe(client, event, request.id, ack);
    }
  };

  const onConnection = (socket: Socket): void => {
    socket.on("error", (error) => logger.debug({ sessionId: socket.id, err: errorText(error) }, "socket.io socket error"));
    if (closing !== undefined) {
      socket.disconnect(true);
      return;
    }
    const client: Client = {
      socket,
      intents: new Map(),
      nextIntent: 0,
      pendingLookups: 0,
      backlog: new SocketBacklog(socket.conn, options.backlog, {
        // Nothing to do yet: each window asks the backlog whether the client is behind when it is sent.
        onBehind: () => undefined,
        onCaughtUp: (owed: OwedMessage[]) => {
          for (const message of owed) emitTo(socket, message.event, message.payload);
        },
        onTooSlow: () => {
          logger.info({ sessionId: socket.id, queuedPackets: client.backlog.queuedPackets }, "disconnecting slow socket.io client");
          options.counters?.slowClientClosed();
          // Discard the transport: a graceful close would wait for the very buffer this client is not draining.
          // The client sees a transport close and reconnects, as after any network failure.
          socket.conn.close(true);
        },
      }),
    };
    clients.set(socket.id, client);
    if (options.maxMessagesPerSecond !== undefined) {
      const rate = new MessageRate(options.maxMessagesPerSecond);
      let limited = false;
      socket.use((_packet, next) => {
        if (rate.take()) return next();
        // Packets already read behind the one over the limit are dropped without a second count.
        if (limited) return;
        limited = true;
        options.onLimit?.("message_rate");
        logger.info({ sessionId: socket.id }, "disconnecting a socket.io client over its message rate");
        emitTo(socket, "job:error", encodeRequestError(null, "message rate limit exceeded (WS_MAX_MESSAGES_PER_SECOND); disconnecting", deps.now()));
        socket.disconnect(true);
      });
    }
    socket.on("disconnect", () => {
      client.backlog.dispose();
      clients.delete(socket.id);
      for (const [jobId, waiting] of catchUp) {
        waiting.delete(socket.id);
        if (waiting.size === 0) catchUp.delete(jobId);
      }
    });
    for (const event of Object.keys(CLIENT_EVENTS) as ClientEvent[]) {
      socket.on(event, (...args: unknown[]) => {
        try {
          handle(client, event, args);
        } catch (error) {
          // A throwing listener would escape socket.io's dispatch (process.nextTick) and crash the gateway.
          logger.error({ sessionId: socket.id, event, err: errorText(error) }, "socket.io handler failed");
        }
      });
    }
    socket.onAny((event: unknown, ...args: unknown[]) => {
      if (typeof event === "string" && isClientEvent(event)) return;
      const last = args.at(-1);
      const ack = typeof last === "function" ? (last as Ack) : undefined;
      sendError(client, null, `unknown event ${JSON.stringify(event)}: use ${Object.keys(CLIENT_EVENTS).join(", ")}`, ack);
    });
    const greeting: ConnectionMessage = { connected: true, session_id: socket.id };
    emitTo(socket, "connection", greeting);
  };
  io.on("connection", onConnection);

  /** Sends the state picture of a job a scraper snapshot replaced (its facts looked up first when they are missing). */
  const refresh = async (jobId: string): Promise<void> => {
    const needsTasks = hasMembers(batchRoom(jobId));
    const job = await resolveJob(jobId, needsTasks);
    if (job === undefined) return;
    const jobFacts = facts.get(jobId);
    if (hasMembers(jobRoom(jobId))) {
      const picture = encodeJobState(job, jobFacts);
      if (picture.droppable) broadcast(jobRoom(jobId), picture.event, picture.payload, true, []);
      else broadcastTerminal(jobRoom(jobId), picture.event, picture.payload, []);
    }
    if (jobFacts !== undefined && hasMembers(batchRoom(jobId))) {
      const update = encodeBatchState(job, jobFacts);
      if (isTerminal(job.status)) broadcastTerminal(batchRoom(jobId), "batch:update", update, []);
      else broadcast(batchRoom(jobId), "batch:update", update, true, []);
    }
  };

  return {
    get clientCount() {
      return clients.size;
    },

    attach(server) {
      const others = server.listeners("request").slice();
      server.removeAllListeners("request");
      server.on("request", (request: IncomingMessage, response: ServerResponse) => {
        if (!isSocketIoPath(request.url)) {
          for (const listener of others) Reflect.apply(listener, server, [request, response]);
          return;
        }
        if (closing !== undefined) {
          response.writeHead(503, { "content-type": "application/json", connection: "close" });
          response.end(JSON.stringify({ error: "shutting_down", message: "server shutting down" }));
          return;
        }
        engine.handleRequest(request, response);
      });
    },

    handleUpgrade(request, socket, head) {
      if (closing !== undefined) {
        socket.destroy();
        return;
      }
      engine.handleUpgrade(request, socket, head);
    },

    onApplied(event, job) {
      const jobFacts = facts.observe(event);
      const toJob = hasMembers(jobRoom(job.id));
      const toBatch = hasMembers(batchRoom(job.id)) && changesBatch(event);
      if (!toJob && !toBatch) return;
      const skip = catchUpSkips(job.id, event.seq);
      if (toJob) {
        const message = encodeJobEvent(event, job, jobFacts);
        if (message?.droppable === true) broadcast(jobRoom(job.id), message.event, message.payload, true, skip);
        else if (message !== undefined) broadcastTerminal(jobRoom(job.id), message.event, message.payload, skip);
      }
      if (toBatch) {
        const update = encodeBatchMessage(job, jobFacts, timestampMs(event.time) ?? job.lastEventMs);
        if (isTerminal(job.status)) broadcastTerminal(batchRoom(job.id), "batch:update", update, skip);
        else broadcast(batchRoom(job.id), "batch:update", update, true, skip);
      }
    },

    onJobState(job) {
      if (!hasMembers(jobRoom(job.id)) && !hasMembers(batchRoom(job.id))) return;
      refresh(job.id).catch((error: unknown) => logger.warn({ jobId: job.id, err: errorText(error) }, "socket.io snapshot refresh failed"));
    },

    close() {
      closing ??= (async () => {
        broadcasts.dispose();
        closingRooms.clear();
        for (const client of clients.values()) client.backlog.dispose();
        // Drops every connection without a socket.io DISCONNECT packet, so clients reconnect when the gateway is back.
        // io.close() also closes the detached host server, which never listened (its callback's error is expected).
        await io.close();
      })();
      return closing;
    },
  };
}
