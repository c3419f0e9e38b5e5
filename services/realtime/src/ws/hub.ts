/**
 * The hub: every open connection, who subscribed to what, and the fan-out.
 * Subscriptions are per channel — one channel a dialect (seed 000, the flat
 * events of seed 002, …) — because each dialect encodes an event its own way.
 * A frame is encoded by the caller once per channel. Frames published in one
 * tick (or batch window, see `batchWindowMs`) are collected per subscriber set (a channel's global subscribers, or
 * one job's on a channel) and at the end of the tick framed once, as one
 * WebSocket byte run, which is written whole to every healthy subscriber: one
 * write per client per tick and no per-client serialising, framing or copying.
 * A client that has fallen behind gets the frames one by one through its send
 * policy instead. It also runs the heartbeat over all connections with a
 * single unref()ed timer.
 */
import type { Duplex } from "node:stream";
import type { Principal } from "@trawl/proto";
import type { Logger } from "pino";
import type WebSocket from "ws";
import { Connection, type ConnectionOptions, type Delivery, type MessageCounters, type SendPolicy } from "./connection.js";
import { FrameBatch } from "./frame-batch.js";
import { FlushWindow } from "./flush-window.js";

/** The channel of the seed 000 endpoints, the default. */
export const SEED000_CHANNEL = "seed000";

export interface HubOptions {
  policy: SendPolicy;
  heartbeatMs: number;
  /**
   * The least time between two batch flushes (ms). A flush due sooner waits
   * out the rest of the window, so under a stream of events each client gets
   * at most one write per window; an event after a quiet spell goes out at the
   * end of its tick. 0 flushes at the end of every tick. Default 0.
   */
  batchWindowMs?: number;
  pongFrame: Buffer;
  logger: Logger;
  /** Inbound messages a client may send per second; undefined: unbounded. */
  maxMessagesPerSecond?: number;
  /** Told when a limit closes a connection. */
  onLimit?: (limit: string) => void;
}

export class Hub {
  private readonly connections = new Set<Connection>();
  /** Channel → connections subscribed to every job's frames. */
  private readonly global = new Map<string, Set<Connection>>();
  /** Subscription key (channel + job id) → connections. */
  private readonly byJob = new Map<string, Set<Connection>>();
  /** Job id → how many channels have subscribers to it (for the seed 000 status count). */
  private readonly jobRefs = new Map<string, number>();
  /** The subscription keys of each connection, for cleanup on close. */
  private readonly jobsOf = new Map<Connection, Set<string>>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** This tick's frames, per subscriber set they go to. */
  private readonly batches = new Map<Set<Connection>, FrameBatch>();
  private readonly flushWindow: FlushWindow;

  /** One options object for every connection, so an idle connection holds no copy of its own. */
  private readonly connectionOptions: ConnectionOptions;

  constructor(private readonly options: HubOptions) {
    this.flushWindow = new FlushWindow(options.batchWindowMs ?? 0, () => this.flush());
    this.connectionOptions = {
      policy: options.policy,
      pongFrame: options.pongFrame,
      logger: options.logger,
      beforeSend: this.flush,
      onGone: (connection) => this.forget(connection),
      ...(options.maxMessagesPerSecond === undefined ? {} : { maxMessagesPerSecond: options.maxMessagesPerSecond }),
      ...(options.onLimit === undefined ? {} : { onLimit: options.onLimit }),
    };
  }

  /** Open connections on every endpoint. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Jobs with at least one job-specific subscriber, on any channel. */
  get jobSubscriptionCount(): number {
    return this.jobRefs.size;
  }

  /** Every open connection (for tests and diagnostics). */
  get allConnections(): ReadonlySet<Connection> {
    return this.connections;
  }

  /** Wraps an accepted WebSocket (of a client authenticated as `principal`) and tracks it until it closes. */
  accept(ws: WebSocket, socket: Duplex, principal?: Principal, counters?: MessageCounters): Connection {
    const connection = new Connection(ws, socket, this.connectionOptions, principal, counters);
    this.connections.add(connection);
    return connection;
  }

  /**
   * Subscribes `connection` to the frames of every job on `channel` — of
   * every tenant, or with `tenant` set, of that tenant's jobs only.
   */
  subscribeAll(connection: Connection, channel: string = SEED000_CHANNEL, tenant?: string): void {
    if (connection.isClosed) return;
    const globalKey = tenant === undefined ? channel : tenantKey(channel, tenant);
    let subscribers = this.global.get(globalKey);
    if (subscribers === undefined) {
      subscribers = new Set();
      this.global.set(globalKey, subscribers);
    }
    this.flushSet(subscribers);
    subscribers.add(connection);
  }

  /** Subscribes `connection` to the frames of `jobId` on `channel`. */
  subscribeJob(connection: Connection, jobId: string, channel: string = SEED000_CHANNEL): void {
    if (connection.isClosed) return;
    const key = subscriptionKey(channel, jobId);
    let subscribers = this.byJob.get(key);
    if (subscribers === undefined) {
      subscribers = new Set();
      this.byJob.set(key, subscribers);
      this.jobRefs.set(jobId, (this.jobRefs.get(jobId) ?? 0) + 1);
    }
    this.flushSet(subscribers);
    subscribers.add(connection);
    let keys = this.jobsOf.get(connection);
    if (keys === undefined) {
      keys = new Set();
      this.jobsOf.set(connection, keys);
    }
    keys.add(key);
  }

  /** Ends `connection`'s subscription to `jobId` on `channel` (the connection stays open). */
  unsubscribeJob(connection: Connection, jobId: string, channel: string = SEED000_CHANNEL): void {
    const key = subscriptionKey(channel, jobId);
    this.jobsOf.get(connection)?.delete(key);
    this.dropSubscriber(key, connection);
  }

  /** True when a frame about `jobId` (of `tenant`) on `channel` would reach anyone (lets callers skip encoding). */
  hasSubscribers(jobId: string, channel: string = SEED000_CHANNEL, tenant?: string): boolean {
    return (
      (this.global.get(channel)?.size ?? 0) > 0 ||
      (tenant !== undefined && (this.global.get(tenantKey(channel, tenant))?.size ?? 0) > 0) ||
      this.byJob.has(subscriptionKey(channel, jobId))
    );
  }

  /**
   * Sends one encoded frame about `jobId` to its subscribers on `channel` and
   * the channel's global ones, at the end of the tick together with the
   * tick's other frames for them. `key` is what the frame conflates on when a
   * client is behind (default: the job id); `tenant`, the job's tenant, adds
   * the subscribers to that tenant's jobs.
   */
  publish(jobId: string, data: Buffer, delivery: Delivery, channel: string = SEED000_CHANNEL, key: string = jobId, tenant?: string): void {
    const global = this.global.get(channel);
    if (global !== undefined && global.size > 0) this.batchFor(global).add(data, delivery, key);
    const ofTenant = tenant === undefined ? undefined : this.global.get(tenantKey(channel, tenant));
    if (ofTenant !== undefined && ofTenant.size > 0) this.batchFor(ofTenant).add(data, delivery, key);
    const subscribers = this.byJob.get(subscriptionKey(channel, jobId));
    if (subscribers !== undefined) this.batchFor(subscribers).add(data, delivery, key);
  }

  /** Sends every frame published so far in this tick (the hub does so itself at the end of the tick). */
  readonly flush = (): void => {
    if (this.batches.size === 0) return;
    const batches = [...this.batches];
    this.batches.clear();
    for (const [subscribers, batch] of batches) batch.sendTo(subscribers);
  };

  /** Starts the ping/pong heartbeat: a connection that missed the last pong is terminated. */
  startHeartbeat(): void {
    if (this.heartbeat !== undefined) return;
    this.heartbeat = setInterval(this.beat, this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /**
   * Closes every connection with `code` and resolves once all have closed;
   * connections still open after `graceMs` are terminated.
   */
  async closeAll(code: number, reason: string, graceMs: number): Promise<void> {
    const open = [...this.connections];
    if (open.length === 0) return;
    const closed = Promise.all(open.map((connection) => new Promise<void>((resolve) => connection.onClosed(resolve))));
    for (const connection of open) connection.close(code, reason);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([closed, grace]);
    clearTimeout(timer);
    for (const connection of this.connections) connection.terminate();
    await closed;
  }

  private batchFor(subscribers: Set<Connection>): FrameBatch {
    let batch = this.batches.get(subscribers);
    if (batch === undefined) {
      batch = new FrameBatch();
      this.batches.set(subscribers, batch);
      this.flushWindow.schedule();
    }
    return batch;
  }

  /** Sends the frames pending for `subscribers` before the set changes, so a frame reaches exactly the clients subscribed when it was published. */
  private flushSet(subscribers: Set<Connection>): void {
    const batch = this.batches.get(subscribers);
    if (batch === undefined) return;
    this.batches.delete(subscribers);
    batch.sendTo(subscribers);
  }

  private readonly beat = (): void => {
    for (const connection of this.connections) {
      if (!connection.alive) {
        this.options.logger.debug("terminating websocket client that missed a heartbeat");
        connection.terminate();
        continue;
      }
      connection.alive = false;
      connection.ws.ping();
    }
  };

  private forget(connection: Connection): void {
    this.connections.delete(connection);
    for (const subscribers of this.global.values()) {
      if (subscribers.has(connection)) this.flushSet(subscribers);
      subscribers.delete(connection);
    }
    const keys = this.jobsOf.get(connection);
    if (keys === undefined) return;
    for (const key of keys) this.dropSubscriber(key, connection);
    this.jobsOf.delete(connection);
  }

  private dropSubscriber(key: string, connection: Connection): void {
    const subscribers = this.byJob.get(key);
    if (subscribers === undefined || !subscribers.has(connection)) return;
    this.flushSet(subscribers);
    subscribers.delete(connection);
    if (subscribers.size > 0) return;
    this.byJob.delete(key);
    const jobId = jobOfKey(key);
    const refs = (this.jobRefs.get(jobId) ?? 1) - 1;
    if (refs > 0) this.jobRefs.set(jobId, refs);
    else this.jobRefs.delete(jobId);
  }
}

/** The global subscription key of one tenant's jobs on `channel` (channel names never contain U+0001). */
function tenantKey(channel: string, tenant: string): string {
  return `${channel}\u0001${tenant}`;
}

/** Channel names never contain NUL. */
function subscriptionKey(channel: string, jobId: string): string {
  return `${channel}\u0000${jobId}`;
}

function jobOfKey(key: string): string {
  return key.slice(key.indexOf("\u0000") + 1);
}
