/**
 * Real WebSocket clients for tests: a `ws` client that records every message
 * and close, and a raw TCP socket doing the upgrade by hand (a client that
 * never answers pings).
 */
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import WebSocket from "ws";

export interface Recorded {
  ws: WebSocket;
  messages: Array<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first message (from now on or already received) matching `predicate`. */
  next(predicate: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Pauses the underlying TCP socket: the client stops reading. */
  pause(): void;
  resume(): void;
}

export function openClient(url: string, options: WebSocket.ClientOptions = {}): Promise<Recorded> {
  const ws = new WebSocket(url, options);
  const messages: Array<Record<string, unknown>> = [];
  const waiters: Array<{ predicate: (message: Record<string, unknown>) => boolean; resolve: (message: Record<string, unknown>) => void }> = [];
  ws.on("message", (raw, isBinary) => {
    const message = isBinary ? { binary: true } : (JSON.parse(raw.toString()) as Record<string, unknown>);
    messages.push(message);
    for (const waiter of waiters.splice(0)) {
      if (waiter.predicate(message)) waiter.resolve(message);
      else waiters.push(waiter);
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  ws.on("error", () => undefined);
  const socketOf = () => (ws as unknown as { _socket: Socket })._socket;
  const recorded: Recorded = {
    ws,
    messages,
    closed,
    next(predicate) {
      const seen = messages.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    pause: () => socketOf().pause(),
    resume: () => socketOf().resume(),
  };
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(recorded));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

/**
 * Opens a TCP connection, performs the WebSocket upgrade by hand and keeps
 * reading without ever answering anything. Resolves with the socket and the
 * raw HTTP response head.
 */
export function rawUpgrade(port: number, path: string): Promise<{ socket: Socket; head: string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const closed = new Promise<void>((done) => socket.once("close", () => done()));
    let received = "";
    socket.once("error", reject);
    socket.on("data", function onHead(chunk: Buffer) {
      received += chunk.toString("latin1");
      const end = received.indexOf("\r\n\r\n");
      if (end === -1) return;
      socket.off("data", onHead);
      socket.on("data", () => undefined);
      resolve({ socket, head: received.slice(0, end), closed });
    });
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}
