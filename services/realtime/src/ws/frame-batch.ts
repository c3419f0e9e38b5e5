/**
 * The frames one subscriber set gets in one tick, framed once.
 *
 * `ws` frames every `send` for every socket: a fresh header, and the header
 * and the payload written as two chunks. For a message going to thousands of
 * clients that is thousands of allocations and writes per message. A batch
 * instead lays the tick's frames (header + payload each, as RFC 6455 puts
 * them on the wire for a server: FIN, text opcode, no mask) into one buffer,
 * built once, and every healthy subscriber gets that same buffer in one
 * write. Subscribers that are behind get the frames one by one through their
 * send policy (conflation, counted drops), which needs each frame's payload,
 * delivery and key — kept alongside.
 */
import type { Duplex } from "node:stream";
import type { Connection, Delivery } from "./connection.js";

export interface BatchedFrame {
  readonly data: Buffer;
  readonly delivery: Delivery;
  readonly key: string;
}

const FIN_TEXT = 0x81;

export class FrameBatch {
  readonly frames: BatchedFrame[] = [];
  private bytes = 0;
  private wire: Buffer | undefined;

  add(data: Buffer, delivery: Delivery, key: string): void {
    this.frames.push({ data, delivery, key });
    this.bytes += headerLength(data.length) + data.length;
    this.wire = undefined;
  }

  /** The frames as one run of WebSocket frames, built on first use. */
  get wireBytes(): Buffer {
    if (this.wire === undefined) this.wire = this.build();
    return this.wire;
  }

  sendTo(subscribers: Iterable<Connection>): void {
    for (const connection of subscribers) connection.sendBatch(this);
  }

  private build(): Buffer {
    const out = Buffer.allocUnsafe(this.bytes);
    let at = 0;
    for (const { data } of this.frames) {
      at = writeTextFrameHeader(out, at, data.length);
      at += data.copy(out, at);
    }
    return out;
  }
}

/** Encodes one unmasked server text frame (header + payload) — for tests and single frames. */
export function textFrame(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(headerLength(data.length) + data.length);
  data.copy(out, writeTextFrameHeader(out, 0, data.length));
  return out;
}

function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

/**
 * The TCP socket under a ws WebSocket (ws's own `_socket` field): the edges
 * that frame a batch themselves write it there whole.
 */
export function tcpOf(ws: object | undefined): Duplex | undefined {
  return (ws as { _socket?: Duplex } | undefined)?._socket;
}

/** The longest header a text frame can have (a 64-bit payload length). */
export const TEXT_FRAME_HEADER_MAX = 10;

/** Writes an unmasked server text frame header for a `length`-byte payload at `at`; returns where the payload goes. */
export function writeTextFrameHeader(out: Buffer, at: number, length: number): number {
  out[at] = FIN_TEXT;
  if (length < 126) {
    out[at + 1] = length;
    return at + 2;
  }
  if (length < 65_536) {
    out[at + 1] = 126;
    out.writeUInt16BE(length, at + 2);
    return at + 4;
  }
  out[at + 1] = 127;
  out.writeUInt32BE(Math.floor(length / 2 ** 32), at + 2);
  out.writeUInt32BE(length >>> 0, at + 6);
  return at + 10;
}
