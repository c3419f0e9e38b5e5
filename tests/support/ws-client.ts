/**
 * A real `ws` client that records every frame (parsed), the order they
 * arrived in, and how the connection closed.
 */
import WebSocket, { type RawData } from "ws";
import { waitFor, type WaitOptions } from "./wait.js";

/** A parsed server frame. Unparsable frames are kept as `{ type: "<unparsable>", raw }`. */
export interface Frame {
  readonly type: string;
  readonly [key: string]: unknown;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

export class RecordingClient {
  readonly frames: Frame[] = [];
  /** Frames that arrived as binary (the seed-000 API only ever sends text). */
  readonly binaryFrames: Buffer[] = [];
  closeInfo: CloseInfo | undefined;
  readonly errors: Error[] = [];
  private readonly closed: Promise<CloseInfo>;

  private constructor(
    readonly url: string,
    readonly socket: WebSocket,
  ) {
    socket.on("message", (data: RawData, isBinary: boolean) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (isBinary) {
        this.binaryFrames.push(buffer);
        return;
      }
      const raw = buffer.toString("utf8");
      try {
        const parsed: unknown = JSON.parse(raw);
        this.frames.push(parsed && typeof parsed === "object" && !Array.isArray(parsed) && typeof (parsed as { type?: unknown }).type === "string" ? (parsed as Frame) : { type: "<untyped>", raw });
      } catch {
        this.frames.push({ type: "<unparsable>", raw });
      }
    });
    socket.on("error", (error) => this.errors.push(error));
    this.closed = new Promise((resolve) => {
      socket.on("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString("utf8") };
        resolve(this.closeInfo);
      });
    });
  }

  /** Opens a connection; rejects if the handshake fails. */
  static async connect(url: string, options: WebSocket.ClientOptions = {}): Promise<RecordingClient> {
    const socket = new WebSocket(url, { handshakeTimeout: 30_000, ...options });
    const client = new RecordingClient(url, socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("unexpected-response", (_req, res) => {
        reject(new Error(`handshake to ${url} answered HTTP ${res.statusCode}`));
        socket.terminate();
      });
      socket.once("error", reject);
    });
    return client;
  }

  /**
   * Attempts a handshake that the server is expected to refuse; resolves
   * with the HTTP status (or undefined when the socket was just destroyed).
   */
  static async expectRefused(url: string): Promise<{ statusCode: number | undefined; opened: false }> {
    const socket = new WebSocket(url, { handshakeTimeout: 30_000 });
    socket.on("error", () => undefined);
    return new Promise((resolve, reject) => {
      socket.once("open", () => {
        socket.terminate();
        reject(new Error(`handshake to ${url} unexpectedly succeeded`));
      });
      socket.once("unexpected-response", (_req, res) => {
        resolve({ statusCode: res.statusCode, opened: false });
        res.resume();
        socket.terminate();
      });
      socket.once("close", () => resolve({ statusCode: undefined, opened: false }));
    });
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  send(data: string | Buffer, options: { binary?: boolean } = {}): void {
    this.socket.send(data, { binary: options.binary ?? typeof data !== "string" });
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((frame) => frame.type === type);
  }

  /** Frames whose `data.job_id` is `jobId` (initial_state/stats/pong excluded). */
  forJob(jobId: string): Frame[] {
    return this.frames.filter((frame) => frameJobId(frame) === jobId);
  }

  async waitForFrame(what: string, predicate: (frame: Frame, index: number) => boolean, options: WaitOptions = {}): Promise<Frame> {
    return waitFor(what, () => this.frames.find(predicate), { detail: () => this.describe(), ...options });
  }

  async waitUntil<T>(what: string, probe: () => T | undefined | false, options: WaitOptions = {}): Promise<T> {
    return waitFor(what, probe, { detail: () => this.describe(), ...options });
  }

  /** Resolves once the server closed (or the socket dropped). */
  async waitForClose(options: WaitOptions = {}): Promise<CloseInfo> {
    await waitFor(`${this.url} to close`, () => this.closeInfo !== undefined, { detail: () => this.describe(), ...options });
    return this.closed;
  }

  async close(code = 1000): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    if (this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
    else this.socket.close(code);
    await waitFor(`${this.url} to finish closing`, () => this.socket.readyState === WebSocket.CLOSED, { timeoutMs: 15_000 }).catch(() => this.socket.terminate());
  }

  describe(lastFrames = 8): string {
    const tail = this.frames.slice(-lastFrames).map((frame) => JSON.stringify(frame).slice(0, 300));
    return `${this.url}: ${this.frames.length} frames, close=${JSON.stringify(this.closeInfo)}; last frames:\n  ${tail.join("\n  ")}`;
  }
}

export function frameJobId(frame: Frame): string | undefined {
  const data = frame.data;
  if (data && typeof data === "object" && typeof (data as { job_id?: unknown }).job_id === "string") return (data as { job_id: string }).job_id;
  return undefined;
}

/** Closes every client, ignoring ones that are already gone. */
export async function closeAll(clients: Iterable<RecordingClient | undefined>): Promise<void> {
  await Promise.all([...clients].map((client) => client?.close()));
}
