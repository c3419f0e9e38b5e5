/**
 * A window's Socket.IO packets written straight to a client's TCP socket.
 *
 * On the WebSocket transport, what socket.io puts on the wire for an event is
 * one unmasked text frame holding the engine.io message packet ("4") of the
 * socket.io EVENT packet ("2") of the JSON array `[event, payload]`. Those
 * frames, laid out once in one buffer, can go to every member of a room in
 * one write each, past engine.io's per-client, per-packet bookkeeping — but
 * only while nothing of engine.io's own is waiting to go out before them.
 * `directTarget` says whether that holds for one client; a client for which
 * it does not takes engine.io's ordinary path for the window's packets.
 *
 * This reaches into engine.io's and ws's private fields (the same ones the
 * edge's former corking used), checked at run time: a field missing after an
 * upgrade of either library only sends every packet the ordinary way.
 */
import type { Duplex } from "node:stream";
import type { Socket } from "socket.io";
import { tcpOf, textFrame } from "../ws/frame-batch.js";

/** The client takes engine.io's own path (long-polling, packets queued in engine.io, over its bound). */
export const VIA_ENGINE = "via-engine";
/** The client's connection is closing or closed: nothing may be written to it any more. */
export const GONE = "gone";
export type DirectTarget = Duplex | typeof VIA_ENGINE | typeof GONE;

/** The fields of engine.io's Socket (and of ws under its WebSocket transport) looked at. */
interface EngineSocketFields {
  readyState?: string;
  upgrading?: boolean;
  writeBuffer?: readonly unknown[];
  transport?: { name?: string; socket?: { readyState?: number } };
}

/** ws's WebSocket.OPEN. */
const WS_OPEN = 1;

/**
 * Where `socket`'s share of a window goes: its TCP socket, when a direct
 * write keeps the client's packets in order and its buffer is within
 * `maxBufferedBytes`; else engine.io's path, or nowhere once it is gone.
 *
 * Order holds because engine.io's write buffer is empty (an empty buffer
 * means everything engine.io was given is already in ws's hands) and ws
 * writes each frame to the TCP socket as it is sent (the server negotiates no
 * compression, so ws has no queue of its own).
 */
export function directTarget(socket: Socket, maxBufferedBytes: number): DirectTarget {
  const engine = socket.conn as unknown as EngineSocketFields;
  // engine.io drops the packets of a socket that is closing; a closed one is about to leave its rooms.
  if (engine.readyState !== "open") return GONE;
  const transport = engine.transport;
  if (transport?.name !== "websocket") return VIA_ENGINE;
  const ws = transport.socket;
  const tcp = tcpOf(ws);
  if (ws === undefined || tcp === undefined) return VIA_ENGINE;
  // Disconnected mid-window: engine.io has not heard yet, but no byte may follow a destroy or a close frame.
  if (ws.readyState !== WS_OPEN || tcp.destroyed || !tcp.writable) return GONE;
  if (engine.upgrading === true || engine.writeBuffer === undefined || engine.writeBuffer.length > 0) return VIA_ENGINE;
  // Past the bound the client is not reading: engine.io's path queues for it, and its backlog decides when it is behind.
  if (tcp.writableLength > maxBufferedBytes) return VIA_ENGINE;
  return tcp;
}

/** The text socket.io sends for `emit(event, payload)` in the main namespace: engine.io MESSAGE + socket.io EVENT + the JSON arguments. */
export function eventPacketText(event: string, payload: unknown): string {
  return `42${JSON.stringify([event, payload])}`;
}

/** The packets as one run of WebSocket text frames, built once for every direct member of a room. */
export function eventFrames(packets: ReadonlyArray<{ readonly event: string; readonly payload: unknown }>): Buffer {
  return Buffer.concat(packets.map(({ event, payload }) => textFrame(Buffer.from(eventPacketText(event, payload)))));
}
