/**
 * The gateway's applied scraper events, fanned out to `events.watch`
 * subscriptions. Only events the reducer applied are published, so a
 * scraper link that resumes with overlap never shows a subscriber the same
 * event twice.
 *
 * tRPC's WebSocket adapter handles each yielded value per subscriber: a
 * generator step, a promise race, an object spread of the response and a
 * `JSON.stringify` of the whole event — about 60 µs of gateway CPU per
 * message, so 1,000 subscribers could not follow even 20 events/s. A
 * subscription on a WebSocket therefore goes *direct* once it is live: the
 * bus serializes each event once (the part of the tRPC response after the
 * subscription id), frames a batch window's events per subscriber prefix
 * once, and writes them to the subscriber's socket in one write — the same
 * bytes the adapter would have sent, which the tRPC client cannot tell
 * apart. The subscription's JSON-RPC id is learnt from its first live
 * message, which still goes through the adapter (see `Handoff` and
 * `watchEncoder`).
 *
 * Every subscriber is bounded: one whose socket holds more than
 * `maxBufferedBytes`, or whose queue (before it goes direct, or over SSE)
 * exceeds `maxQueuedEvents`, is dropped from the bus and told it is
 * behind; its generator waits for the socket to drain and catches up from
 * the scrapers' own logs, from its last delivered position. Nothing is
 * lost and nothing is buffered without bound.
 */
import { toJson } from "@bufbuild/protobuf";
import type { Duplex } from "node:stream";
import { JobEventSchema, type JobEvent, type JobEventJson } from "@trawl/proto";
import type { WebSocket } from "ws";
import { FlushWindow } from "../ws/flush-window.js";
import { TEXT_FRAME_HEADER_MAX, tcpOf, writeTextFrameHeader } from "../ws/frame-batch.js";
import type { DialectCounters } from "../metrics/gateway-metrics.js";
import { type Cursor, formatCursor } from "./cursor.js";

/** The JSON form subscriptions send: protobuf-es JSON (64-bit numbers as strings). */
export function eventJson(event: JobEvent): JobEventJson {
  return toJson(JobEventSchema, event);
}

/** One applied event as subscribers see it. */
export interface AppliedEvent {
  readonly event: JobEvent;
  /** The event's JSON form, converted once for every subscriber. */
  readonly json: JobEventJson;
  /** The stream position after this event (every scraper's last applied offset). */
  readonly cursor: string;
}

export interface EventBusOptions {
  /** Each scraper's last applied offset (the live state's scraper records): the stream position now. */
  scrapers: ReadonlyMap<string, { readonly lastOffset: bigint }>;
  /** Direct subscribers' writes are grouped over this window (WS_BATCH_WINDOW_MS); 0: per tick. */
  batchWindowMs?: number;
  /** A WebSocket holding more unsent bytes than this is behind (WS_MAX_BUFFERED_BYTES). */
  maxBufferedBytes?: number;
  /** A queued subscriber holding more events than this is behind. */
  maxQueuedEvents?: number;
  /** Counts the messages sent (the tRPC edge's series of /metrics). */
  counters?: DialectCounters;
}

/**
 * One `events.watch` subscription on the bus. It starts *queued* (events
 * are kept for its generator to yield), may go *direct* (the bus writes to
 * its socket), and leaves the bus when it falls behind or ends.
 */
export class Subscriber {
  /** Events waiting for the generator (queued mode). */
  readonly queue: AppliedEvent[] = [];
  /** The position of the last event written directly; the generator resumes from it when behind. */
  lastCursor: string | undefined;
  behind = false;
  /** Set once the bus writes to the socket itself. */
  direct = false;
  /** `{"id":…,"jsonrpc":…,"result":` — the subscription's response prefix, learnt at the handoff. */
  prefix: Buffer | undefined;
  /** The prefix as text: subscribers with the same one share a window's buffer. */
  prefixKey = "";
  /**
   * Where the subscriber already is, while that is ahead of what this
   * gateway has applied (a client resuming on a gateway that has just
   * started): events up to it are not sent again, and ids are this
   * position merged with the gateway's. Cleared once the gateway has caught
   * up; a subscriber with a floor stays queued.
   */
  floor: Cursor | undefined;
  /** Wakes the generator (an event queued, or fell behind). */
  wake: (() => void) | undefined;

  constructor(
    readonly matches: (event: JobEvent) => boolean,
    /** The subscription's WebSocket; undefined over SSE, which stays queued. */
    readonly socket: WebSocket | undefined,
  ) {}

  /** The WebSocket's TCP socket (ws's own field: the bus writes whole frames to it). */
  get tcp(): Duplex | undefined {
    return tcpOf(this.socket);
  }

  /** Unsent bytes on the subscriber's socket. */
  get buffered(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  /** Learns the subscription's response prefix from the message the adapter encoded. */
  bind(id: unknown, jsonrpc: unknown): void {
    const rpc = jsonrpc === undefined ? "" : `,"jsonrpc":${JSON.stringify(jsonrpc)}`;
    this.prefixKey = `{"id":${JSON.stringify(id)}${rpc},"result":`;
    this.prefix = Buffer.from(this.prefixKey);
  }

  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/**
 * The first live event of a direct-capable subscription, yielded through
 * tRPC as usual: it serializes as the event (`toJSON`), and the encoder
 * (`watchEncoder`) tells it the JSON-RPC id the adapter answered with.
 */
export class Handoff {
  constructor(
    readonly json: JobEventJson,
    readonly subscriber: Subscriber,
  ) {}

  toJSON(): JobEventJson {
    return this.json;
  }
}

/**
 * The tRPC WebSocket adapter's encoder: JSON text frames, as its default,
 * noticing a `Handoff` so that its subscriber learns its response prefix.
 */
export const watchEncoder = {
  encode(message: unknown): string {
    const data = (message as { result?: { data?: { data?: unknown } } } | null)?.result?.data?.data;
    if (data instanceof Handoff) {
      const { id, jsonrpc } = message as { id: unknown; jsonrpc?: unknown };
      data.subscriber.bind(id, jsonrpc);
    }
    return JSON.stringify(message);
  },
  decode(data: string | Buffer): unknown {
    if (typeof data !== "string") throw new Error("expected a JSON text frame");
    return JSON.parse(data);
  },
};

/** An event of the current window, serialized (lazily) once for every direct subscriber. */
class WindowEvent {
  private tail: Buffer | undefined;
  constructor(readonly applied: AppliedEvent) {}

  /** The response after the prefix: `{"type":"data","data":{"id":…,"data":…},"id":…}}` — as the adapter lays out a tracked value. */
  get bytes(): Buffer {
    if (this.tail === undefined) {
      const id = JSON.stringify(this.applied.cursor);
      this.tail = Buffer.from(`{"type":"data","data":{"id":${id},"data":${JSON.stringify(this.applied.json)}},"id":${id}}}`);
    }
    return this.tail;
  }
}

export class EventBus {
  private readonly subscribers = new Set<Subscriber>();
  private window: WindowEvent[] = [];
  /** Per direct subscriber, the indices into `window` of the events it matched. */
  private readonly matched = new Map<Subscriber, number[]>();
  private readonly flushWindow: FlushWindow;
  /** A WebSocket subscriber holding more unsent bytes than this is behind. */
  readonly maxBufferedBytes: number;
  private readonly maxQueuedEvents: number;

  constructor(private readonly options: EventBusOptions) {
    this.flushWindow = new FlushWindow(options.batchWindowMs ?? 0, () => this.flush());
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1 << 20;
    this.maxQueuedEvents = options.maxQueuedEvents ?? 4_096;
  }

  /** Subscribers on the bus (queued or direct). */
  get size(): number {
    return this.subscribers.size;
  }

  /** Subscribers the bus writes to itself. */
  get directCount(): number {
    let count = 0;
    for (const subscriber of this.subscribers) if (subscriber.direct) count++;
    return count;
  }

  /** How many times a subscriber fell behind and left the bus to catch up from the logs. */
  behindCount = 0;

  /** Puts a subscriber on the bus at `position`: everything up to it has reached it. */
  add(subscriber: Subscriber, position: Cursor): void {
    subscriber.behind = false;
    subscriber.floor = this.ahead(position) ? new Map(position) : undefined;
    this.subscribers.add(subscriber);
  }

  /** Takes a subscriber off the bus; events of the current window are not written to it. */
  remove(subscriber: Subscriber): void {
    this.subscribers.delete(subscriber);
    this.matched.delete(subscriber);
  }

  /**
   * Turns a bound subscriber direct: what it queued since its handoff is
   * written first, in order, and the bus writes everything after.
   */
  goDirect(subscriber: Subscriber): void {
    if (subscriber.prefix === undefined || subscriber.floor !== undefined || !this.subscribers.has(subscriber)) return;
    const queued = subscriber.queue.splice(0);
    subscriber.direct = true;
    if (queued.length === 0) return;
    // Ahead of anything the open window holds for it, which were published later.
    this.write(subscriber, queued.map((applied) => new WindowEvent(applied)));
  }

  /** Hands an event the gateway applied from `scraper`'s log to every subscriber it matches. */
  publish(scraper: string, event: JobEvent): void {
    if (this.subscribers.size === 0) return;
    let json: JobEventJson | undefined;
    let shared: AppliedEvent | undefined;
    let windowIndex = -1;
    for (const subscriber of this.subscribers) {
      if (subscriber.floor !== undefined) {
        if (event.offset <= (subscriber.floor.get(scraper) ?? 0n)) continue;
        if (!this.ahead(subscriber.floor)) subscriber.floor = undefined;
      }
      if (!subscriber.matches(event)) continue;
      json ??= eventJson(event);
      let applied: AppliedEvent;
      if (subscriber.floor === undefined) applied = shared ??= { event, json, cursor: formatCursor(this.position()) };
      else applied = { event, json, cursor: formatCursor(this.position(subscriber.floor)) };
      if (subscriber.direct) {
        if (windowIndex < 0) windowIndex = this.window.push(new WindowEvent(applied)) - 1;
        const indices = this.matched.get(subscriber);
        if (indices === undefined) this.matched.set(subscriber, [windowIndex]);
        else indices.push(windowIndex);
      } else if (subscriber.queue.length >= this.maxQueuedEvents) {
        this.fellBehind(subscriber);
      } else {
        subscriber.queue.push(applied);
        subscriber.notify();
      }
    }
    if (windowIndex >= 0) this.flushWindow.schedule();
  }

  /** The gateway's position, or `floor` where that is further on. */
  private position(floor?: Cursor): Cursor {
    const position: Cursor = new Map();
    for (const [address, { lastOffset }] of this.options.scrapers) {
      const seen = floor?.get(address) ?? 0n;
      position.set(address, seen > lastOffset ? seen : lastOffset);
    }
    return position;
  }

  /** Whether `position` is further on than the gateway in some scraper's log. */
  private ahead(position: Cursor): boolean {
    for (const [address, offset] of position) if (offset > (this.options.scrapers.get(address)?.lastOffset ?? 0n)) return true;
    return false;
  }

  /** Writes the window: one buffer per (prefix, matched events), built once and shared by every subscriber it fits. */
  private flush(): void {
    const window = this.window;
    this.window = [];
    const built = new Map<string, Buffer>();
    for (const [subscriber, indices] of this.matched) {
      const prefix = subscriber.prefix as Buffer;
      // Subscribers without filters all match the whole window: one buffer for every subscription id alike.
      const key = indices.length === window.length ? subscriber.prefixKey : undefined;
      let wire = key === undefined ? undefined : built.get(key);
      if (wire === undefined) {
        wire = frames(prefix, indices.map((index) => window[index] as WindowEvent));
        if (key !== undefined) built.set(key, wire);
      }
      this.send(subscriber, wire, indices.length, (window[indices[indices.length - 1] as number] as WindowEvent).applied.cursor);
    }
    this.matched.clear();
  }

  private write(subscriber: Subscriber, events: WindowEvent[]): void {
    this.send(subscriber, frames(subscriber.prefix as Buffer, events), events.length, (events[events.length - 1] as WindowEvent).applied.cursor);
  }

  /** Counts a message the adapter sent for a subscription (replayed, or before it went direct). */
  sentThroughAdapter(): void {
    this.options.counters?.sent();
  }

  private send(subscriber: Subscriber, wire: Buffer, count: number, cursor: string): void {
    const socket = subscriber.socket;
    const tcp = subscriber.tcp;
    if (socket === undefined || tcp === undefined || socket.readyState !== socket.OPEN || tcp.destroyed) {
      this.remove(subscriber);
      return;
    }
    if (subscriber.buffered > this.maxBufferedBytes) {
      this.fellBehind(subscriber);
      return;
    }
    // ws frames nothing of its own meanwhile (no compression), so whole frames written here keep their order.
    tcp.write(wire);
    subscriber.lastCursor = cursor;
    this.options.counters?.sent(count);
  }

  private fellBehind(subscriber: Subscriber): void {
    this.behindCount++;
    this.remove(subscriber);
    subscriber.direct = false;
    subscriber.queue.length = 0;
    subscriber.behind = true;
    subscriber.notify();
  }
}

/** The window's events for one subscriber as WebSocket text frames in one buffer. */
function frames(prefix: Buffer, events: readonly WindowEvent[]): Buffer {
  let size = 0;
  for (const event of events) size += TEXT_FRAME_HEADER_MAX + prefix.length + event.bytes.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const event of events) {
    at = writeTextFrameHeader(out, at, prefix.length + event.bytes.length);
    at += prefix.copy(out, at);
    at += event.bytes.copy(out, at);
  }
  return out.subarray(0, at);
}
