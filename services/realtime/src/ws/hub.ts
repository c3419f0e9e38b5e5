/**
 * The hub: every open connection, who subscribed to what, and the fan-out.
 * A frame is encoded by the caller once and the same Buffer is handed to the
 * global subscribers and to that job's subscribers — O(subscribers), no
 * per-client serialisation. It also runs the heartbeat over all connections
 * with a single unref()ed timer.
 */
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type WebSocket from "ws";
import { Connection, type Delivery, type SendPolicy } from "./connection.js";

export interface HubOptions {
  policy: SendPolicy;
  heartbeatMs: number;
  pongFrame: Buffer;
  logger: Logger;
}

export class Hub {
  private readonly connections = new Set<Connection>();
  private readonly global = new Set<Connection>();
  private readonly byJob = new Map<string, Set<Connection>>();
  /** The job ids each connection subscribed to, for cleanup on close. */
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

  /** Jobs with at least one job-specific subscriber. */
  get jobSubscriptionCount(): number {
    return this.byJob.size;
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

  /** Subscribes `connection` to the frames of every job. */
  subscribeAll(connection: Connection): void {
    if (!connection.isClosed) this.global.add(connection);
  }

  /** Subscribes `connection` to the frames of `jobId`. */
  subscribeJob(connection: Connection, jobId: string): void {
    if (connection.isClosed) return;
    let subscribers = this.byJob.get(jobId);
    if (subscribers === undefined) {
      subscribers = new Set();
      this.byJob.set(jobId, subscribers);
    }
    subscribers.add(connection);
    let jobs = this.jobsOf.get(connection);
    if (jobs === undefined) {
      jobs = new Set();
      this.jobsOf.set(connection, jobs);
    }
    jobs.add(jobId);
  }

  /** True when a frame about `jobId` would reach anyone (lets callers skip encoding). */
  hasSubscribers(jobId: string): boolean {
    return this.global.size > 0 || this.byJob.has(jobId);
  }

  /**
   * Sends one encoded frame about `jobId` to its subscribers and the global
   * ones. Sockets stay corked until the end of the tick, so a burst of events
   * costs each client one write rather than one per frame.
   */
  publish(jobId: string, data: Buffer, delivery: Delivery): void {
    for (const connection of this.global) this.deliver(connection, data, delivery, jobId);
    const subscribers = this.byJob.get(jobId);
    if (subscribers !== undefined) for (const connection of subscribers) this.deliver(connection, data, delivery, jobId);
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
    this.global.delete(connection);
    const jobs = this.jobsOf.get(connection);
    if (jobs === undefined) return;
    for (const jobId of jobs) {
      const subscribers = this.byJob.get(jobId);
      subscribers?.delete(connection);
      if (subscribers?.size === 0) this.byJob.delete(jobId);
    }
    this.jobsOf.delete(connection);
  }
}
