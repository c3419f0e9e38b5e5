/**
 * The hub: every open connection, who subscribed to what, and the fan-out.
 * Subscriptions are per channel — one channel a dialect (seed 000, the flat
 * events of seed 002, …) — because each dialect encodes an event its own way.
 * A frame is encoded by the caller once per channel and the same Buffer is
 * handed to the channel's global subscribers and to that job's subscribers —
 * O(subscribers), no per-client serialisation. It also runs the heartbeat
 * over all connections with a single unref()ed timer.
 */
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type WebSocket from "ws";
import { Connection, type Delivery, type SendPolicy } from "./connection.js";

/** The channel of the seed 000 endpoints, the default. */
export const SEED000_CHANNEL = "seed000";

export interface HubOptions {
  policy: SendPolicy;
  heartbeatMs: number;
  pongFrame: Buffer;
  logger: Logger;
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
  /** Connections corked during the current tick. */
  private readonly corked: Connection[] = [];
  private uncorkScheduled = false;

  constructor(private readonly options: HubOptions) {}

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

  /** Wraps an accepted WebSocket and tracks it until it closes. */
  accept(ws: WebSocket, socket: Duplex): Connection {
    const connection = new Connection(ws, socket, {
      policy: this.options.policy,
      pongFrame: this.options.pongFrame,
      logger: this.options.logger,
    });
    this.connections.add(connection);
    connection.onClosed(() => this.forget(connection));
    return connection;
  }

  /** Subscribes `connection` to the frames of every job on `channel`. */
  subscribeAll(connection: Connection, channel: string = SEED000_CHANNEL): void {
    if (connection.isClosed) return;
    let subscribers = this.global.get(channel);
    if (subscribers === undefined) {
      subscribers = new Set();
      this.global.set(channel, subscribers);
    }
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

  /** True when a frame about `jobId` on `channel` would reach anyone (lets callers skip encoding). */
  hasSubscribers(jobId: string, channel: string = SEED000_CHANNEL): boolean {
    return (this.global.get(channel)?.size ?? 0) > 0 || this.byJob.has(subscriptionKey(channel, jobId));
  }

  /**
   * Sends one encoded frame about `jobId` to its subscribers on `channel` and
   * the channel's global ones. Sockets stay corked until the end of the tick,
   * so a burst of events costs each client one write rather than one per
   * frame. `key` is what the frame conflates on (default: the job id).
   */
  publish(jobId: string, data: Buffer, delivery: Delivery, channel: string = SEED000_CHANNEL, key: string = jobId): void {
    const global = this.global.get(channel);
    if (global !== undefined) for (const connection of global) this.deliver(connection, data, delivery, key);
    const subscribers = this.byJob.get(subscriptionKey(channel, jobId));
    if (subscribers !== undefined) for (const connection of subscribers) this.deliver(connection, data, delivery, key);
    if (this.corked.length > 0 && !this.uncorkScheduled) {
      this.uncorkScheduled = true;
      setImmediate(this.uncorkAll);
    }
  }

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

  private deliver(connection: Connection, data: Buffer, delivery: Delivery, key: string): void {
    if (connection.cork()) this.corked.push(connection);
    connection.send(data, delivery, key);
  }

  private readonly uncorkAll = (): void => {
    this.uncorkScheduled = false;
    for (const connection of this.corked) connection.uncork();
    this.corked.length = 0;
  };

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
    for (const subscribers of this.global.values()) subscribers.delete(connection);
    const keys = this.jobsOf.get(connection);
    if (keys === undefined) return;
    for (const key of keys) this.dropSubscriber(key, connection);
    this.jobsOf.delete(connection);
  }

  private dropSubscriber(key: string, connection: Connection): void {
    const subscribers = this.byJob.get(key);
    if (subscribers === undefined || !subscribers.delete(connection) || subscribers.size > 0) return;
    this.byJob.delete(key);
    const jobId = jobOfKey(key);
    const refs = (this.jobRefs.get(jobId) ?? 1) - 1;
    if (refs > 0) this.jobRefs.set(jobId, refs);
    else this.jobRefs.delete(jobId);
  }
}

/** Channel names never contain NUL. */
function subscriptionKey(channel: string, jobId: string): string {
  return `${channel}\u0000${jobId}`;
}

function jobOfKey(key: string): string {
  return key.slice(key.indexOf("\u0000") + 1);
}
