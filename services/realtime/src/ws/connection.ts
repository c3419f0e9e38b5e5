/**
 * One client WebSocket and its bounded send policy.
 *
 * Frames go straight to the socket while its `bufferedAmount` is within the
 * bound. Past the bound the connection is BACKLOGGED: progress-like frames are
 * conflated per key (latest wins), previews are dropped and counted, and
 * frames that must arrive (terminal events, initial state, errors) are queued
 * in order. The backlog is flushed when the socket drains; a connection that
 * stays backlogged for the slow-client timeout is closed 1013.
 */
import type { Duplex } from "node:stream";
import { OPEN_PRINCIPAL, type Principal } from "@trawl/proto";
import type { Logger } from "pino";
import WebSocket from "ws";
import { CloseCode } from "./close-codes.js";
import { MessageRate } from "../limits/message-rate.js";
import type { FrameBatch } from "./frame-batch.js";

/** How a frame may be treated when the client has fallen behind. */
export const Delivery = {
  /** Must arrive, in order: terminal frames, initial state, errors. */
  ALWAYS: 0,
  /** Only the latest frame per key matters (job progress, stats). */
  CONFLATE: 1,
  /** May be skipped, and the skip is counted (item previews). */
  DROP_COUNTED: 2,
  /** May be skipped silently (pong answers). */
  DROP: 3,
} as const;
export type Delivery = (typeof Delivery)[keyof typeof Delivery];

export const ConnectionState = {
  /** Sending straight to the socket. */
  OPEN: "open",
  /** Over the send bound; frames wait for the socket to drain. */
  BACKLOGGED: "backlogged",
  /** close() was called; nothing more is sent. */
  CLOSING: "closing",
  CLOSED: "closed",
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

export interface SendPolicy {
  /** Bound on `ws.bufferedAmount` (WS_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number;
  /** How long a connection may stay over the bound (WS_SLOW_CLIENT_TIMEOUT_MS). */
  slowClientTimeoutMs: number;
}

export interface ConnectionCounters {
  /** Frames replaced by a newer frame with the same key while backlogged. */
  conflated: number;
  /** Item previews skipped while backlogged. */
  droppedPreviews: number;
  /** Other droppable frames (pongs) skipped while backlogged. */
  dropped: number;
  /** Times the connection went over its bound. */
  backlogs: number;
}

export interface ConnectionOptions {
  policy: SendPolicy;
  /** The frame answering any text message from the client. */
  pongFrame: Buffer;
  logger: Logger;
  /** Called before a frame is sent outside the hub's tick batches, so frames keep the order they were produced in. */
  beforeSend?: () => void;
  /** Inbound messages allowed per second (WS_MAX_MESSAGES_PER_SECOND); more closes the connection 1008. */
  maxMessagesPerSecond?: number;
  /** Told when a limit closes the connection ("message_rate", "payload_size"). */
  onLimit?: (limit: string) => void;
  /** Told when any connection built with these options has closed (after its own onClosed listeners). */
  onGone?: (connection: Connection) => void;
}

/** What a connection reports to the metrics (see metrics/gateway-metrics.ts DialectCounters). */
export interface MessageCounters {
  sent(count?: number): void;
  conflated(count?: number): void;
  dropped(count?: number): void;
  slowClientClosed(): void;
}

const NO_COUNTERS: MessageCounters = { sent: () => undefined, conflated: () => undefined, dropped: () => undefined, slowClientClosed: () => undefined };

const TEXT_FRAME = { binary: false } as const;
/** Re-check interval when the socket is over our bound but under its own high-water mark (no 'drain' will come). */
const DRAIN_POLL_MS = 10;

export class Connection {
  state: ConnectionState = ConnectionState.OPEN;
  /** Cleared by each heartbeat ping, set by the pong. */
  alive = true;
  /** Created when first counted: a connection that never falls behind carries none. */
  private tally: ConnectionCounters | undefined;
  /** Created with the first inbound message: most clients never send one, and an idle connection should cost little. */
  private rate: MessageRate | undefined;

  // The backlog exists only while the client is behind: an idle or healthy connection carries none.
  private queue: Buffer[] | undefined;
  private queueHead = 0;
  private pending: Map<string, Buffer> | undefined;
  private drainArmed = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private textHandler: ((text: string) => void) | undefined;
  private slowTimer: NodeJS.Timeout | undefined;
  private closeListeners: Array<() => void> | undefined;

  /**
   * `options` may be shared by many connections (the hub passes one object
   * to all): what an idle connection holds is kept to its own state.
   * `principal` is who the client authenticated as (default: the open
   * principal of a gateway without tokens); `metrics`, the counters of its
   * edge and dialect.
   */
  constructor(
    readonly ws: WebSocket,
    private readonly socket: Duplex,
    private readonly options: ConnectionOptions,
    readonly principal: Principal = OPEN_PRINCIPAL,
    private readonly metrics: MessageCounters = NO_COUNTERS,
  ) {
    ws.on("error", this.onError);
    ws.on("pong", this.onPong);
    ws.on("message", this.onMessage);
    ws.once("close", this.onClose);
  }

  /** True once the connection can no longer send. */
  get isClosed(): boolean {
    return this.state === ConnectionState.CLOSING || this.state === ConnectionState.CLOSED;
  }

  /** Frames waiting for the socket to drain (queued + conflated). */
  get backlogSize(): number {
    return (this.queue?.length ?? 0) - this.queueHead + (this.pending?.size ?? 0);
  }

  /**
   * Hands every text message to `handler` instead of answering it with the
   * pong frame: for endpoints whose clients send commands (seed 003's scan
   * socket). Binary frames are still refused with 1003.
   */
  onText(handler: (text: string) => void): void {
    this.textHandler = handler;
  }

  /** What the send policy did for this client so far. */
  get counters(): ConnectionCounters {
    this.tally ??= { conflated: 0, droppedPreviews: 0, dropped: 0, backlogs: 0 };
    return this.tally;
  }

  /** Runs `listener` once when the socket has closed. */
  onClosed(listener: () => void): void {
    if (this.state === ConnectionState.CLOSED) listener();
    else (this.closeListeners ??= []).push(listener);
  }

  /**
   * Sends `data` (a UTF-8 JSON text frame) subject to the send policy. `key`
   * groups conflatable frames and orders queued frames after the pending
   * conflated frame of the same key.
   */
  send(data: Buffer, delivery: Delivery, key: string): void {
    this.options.beforeSend?.();
    if (this.state === ConnectionState.OPEN) {
      if (this.ws.bufferedAmount <= this.options.policy.maxBufferedBytes) {
        this.ws.send(data, TEXT_FRAME);
        this.metrics.sent();
        return;
      }
      this.enterBacklog();
    } else if (this.state !== ConnectionState.BACKLOGGED) {
      return;
    }
    this.enqueue(data, delivery, key);
  }

  /**
   * Sends a tick's frames from the hub: a healthy client gets the batch's
   * pre-framed bytes in one write straight to its socket (the server sends
   * no compressed or fragmented frames, so nothing of `ws`'s own can be in
   * the middle of a frame there); a client over its bound gets each frame
   * through the send policy.
   */
  sendBatch(batch: FrameBatch): void {
    if (this.state === ConnectionState.OPEN) {
      if (this.ws.readyState !== WebSocket.OPEN) return;
      if (this.ws.bufferedAmount <= this.options.policy.maxBufferedBytes) {
        this.socket.write(batch.wireBytes);
        this.metrics.sent(batch.frames.length);
        return;
      }
      this.enterBacklog();
    } else if (this.state !== ConnectionState.BACKLOGGED) {
      return;
    }
    for (const frame of batch.frames) this.enqueue(frame.data, frame.delivery, frame.key);
  }

  /** Starts the close handshake; queued frames are discarded. */
  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.state = ConnectionState.CLOSING;
    this.discardBacklog();
    this.ws.close(code, reason);
  }

  /** Destroys the socket at once (no close handshake). */
  terminate(): void {
    if (this.state === ConnectionState.CLOSED) return;
    this.state = ConnectionState.CLOSING;
    this.discardBacklog();
    this.ws.terminate();
  }

  private enqueue(data: Buffer, delivery: Delivery, key: string): void {
    switch (delivery) {
      case Delivery.CONFLATE:
        this.pending ??= new Map();
        if (this.pending.has(key)) {
          this.counters.conflated++;
          this.metrics.conflated();
        }
        this.pending.set(key, data);
        return;
      case Delivery.DROP_COUNTED:
        this.counters.droppedPreviews++;
        this.metrics.dropped();
        return;
      case Delivery.DROP:
        this.counters.dropped++;
        this.metrics.dropped();
        return;
      default: {
        // Keep per-key order: the latest conflated frame of this key goes first.
        this.queue ??= [];
        const earlier = this.pending?.get(key);
        if (earlier !== undefined) {
          this.pending?.delete(key);
          this.queue.push(earlier);
        }
        this.queue.push(data);
      }
    }
  }

  private enterBacklog(): void {
    this.state = ConnectionState.BACKLOGGED;
    this.counters.backlogs++;
    this.slowTimer = setTimeout(this.onSlow, this.options.policy.slowClientTimeoutMs);
    this.slowTimer.unref();
    this.armDrain();
  }

  private armDrain(): void {
    if (this.drainArmed) return;
    this.drainArmed = true;
    if (this.socket.writableNeedDrain) {
      this.socket.once("drain", this.onDrain);
    } else {
      this.drainTimer = setTimeout(this.onDrain, DRAIN_POLL_MS);
      this.drainTimer.unref();
    }
  }

  private readonly onDrain = (): void => {
    this.drainArmed = false;
    this.drainTimer = undefined;
    if (this.state !== ConnectionState.BACKLOGGED || this.ws.readyState !== WebSocket.OPEN) return;
    const bound = this.options.policy.maxBufferedBytes;
    const queue = this.queue ?? [];
    while (this.queueHead < queue.length) {
      if (this.ws.bufferedAmount > bound) return this.armDrain();
      const data = queue[this.queueHead] as Buffer;
      this.queueHead++;
      this.ws.send(data, TEXT_FRAME);
      this.metrics.sent();
    }
    this.queue = undefined;
    this.queueHead = 0;
    const pending = this.pending ?? new Map<string, Buffer>();
    for (const [key, data] of pending) {
      if (this.ws.bufferedAmount > bound) return this.armDrain();
      pending.delete(key);
      this.ws.send(data, TEXT_FRAME);
      this.metrics.sent();
    }
    this.pending = undefined;
    this.state = ConnectionState.OPEN;
    clearTimeout(this.slowTimer);
    this.slowTimer = undefined;
  };

  private readonly onSlow = (): void => {
    this.slowTimer = undefined;
    if (this.state !== ConnectionState.BACKLOGGED) return;
    this.options.logger.info({ backlog: this.backlogSize, counters: this.counters }, "closing slow websocket client");
    this.metrics.slowClientClosed();
    this.close(CloseCode.TRY_AGAIN_LATER, "client too slow");
  };

  private readonly onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    if (this.isClosed) return;
    const limit = this.options.maxMessagesPerSecond;
    if (limit !== undefined) this.rate ??= new MessageRate(limit);
    if (this.rate !== undefined && !this.rate.take()) {
      this.options.onLimit?.("message_rate");
      this.close(CloseCode.POLICY_VIOLATION, "message rate limit exceeded (WS_MAX_MESSAGES_PER_SECOND)");
      return;
    }
    if (isBinary) {
      this.close(CloseCode.UNSUPPORTED_DATA, "binary frames are not supported");
      return;
    }
    if (this.textHandler === undefined) {
      this.send(this.options.pongFrame, Delivery.DROP, "");
      return;
    }
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    this.textHandler(bytes.toString("utf8"));
  };

  private readonly onPong = (): void => {
    this.alive = true;
  };

  private readonly onError = (error: Error): void => {
    // `ws` closes the socket itself after an error (1009 for an oversized
    // frame, 1002 for a protocol error); the listener keeps it from throwing.
    if ((error as { code?: string }).code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") this.options.onLimit?.("payload_size");
    this.options.logger.debug({ err: error.message }, "websocket error");
  };

  private readonly onClose = (): void => {
    this.state = ConnectionState.CLOSED;
    this.discardBacklog();
    const listeners = this.closeListeners ?? [];
    this.closeListeners = undefined;
    for (const listener of listeners) listener();
    this.options.onGone?.(this);
  };

  private discardBacklog(): void {
    this.queue = undefined;
    this.queueHead = 0;
    this.pending = undefined;
    clearTimeout(this.slowTimer);
    clearTimeout(this.drainTimer);
    this.slowTimer = undefined;
    this.drainTimer = undefined;
    this.drainArmed = false;
    this.socket.removeListener("drain", this.onDrain);
  }
}
