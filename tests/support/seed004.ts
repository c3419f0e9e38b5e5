/**
 * Seed 004 (BACOWR's Socket.IO rooms) as test tooling: a socket.io-client
 * that records every server event in arrival order, the seed's message
 * shapes as assertions, readers for the numbers inside messages, and the
 * seed's example clients (JavaScript, Python) run as child processes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { io, type Socket } from "socket.io-client";
import { afterEach, expect } from "vitest";
import { waitFor } from "./wait.js";

export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const SEED004_STATUSES = ["PENDING", "PROCESSING", "DELIVERED", "BLOCKED", "ABORTED"] as const;
export const JOB_MESSAGE_KEYS = ["job_id", "message", "progress", "status", "timestamp"] as const;
export const BATCH_MESSAGE_KEYS = ["batch_id", "completed", "message", "progress", "status", "timestamp", "total"] as const;
export const JOB_EVENTS: ReadonlySet<string> = new Set(["job:update", "job:completed", "job:error"]);
export const TERMINAL_EVENTS: ReadonlySet<string> = new Set(["job:completed", "job:error"]);

export type Transport = "polling" | "websocket";

export interface Received {
  readonly event: string;
  readonly payload: unknown;
}

export interface JobMessage {
  job_id: string | null;
  status: (typeof SEED004_STATUSES)[number];
  progress: number;
  message: string;
  timestamp: string;
}

export interface BatchMessage {
  batch_id: string;
  total: number;
  completed: number;
  progress: number;
  status: string;
  message: string;
  timestamp: string;
}

type Json = Record<string, unknown>;

const payloadField = (payload: unknown, field: string): unknown => (payload !== null && typeof payload === "object" ? (payload as Json)[field] : undefined);

/** A socket.io-client connection that records every server event, in order, from before the handshake. */
export class SocketRecorder {
  readonly received: Received[] = [];
  readonly disconnects: string[] = [];

  private constructor(readonly socket: Socket) {
    socket.onAny((event: string, ...args: unknown[]) => this.received.push({ event, payload: args[0] }));
    socket.on("disconnect", (reason) => this.disconnects.push(reason));
  }

  /** Connects (no reconnection, a fresh manager) and resolves once the Socket.IO handshake is done. */
  static async connect(url: string, transports: readonly Transport[] = ["websocket"]): Promise<SocketRecorder> {
    const socket = io(url, { transports: [...transports], reconnection: false, forceNew: true, timeout: 20_000 });
    const recorder = new SocketRecorder(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", (error) => reject(new Error(`socket.io connect to ${url} failed: ${error.message}`)));
    });
    return recorder;
  }

  get id(): string {
    return String(this.socket.id);
  }

  /** The engine.io transport in use now ("polling" or "websocket"). */
  get transport(): string {
    return this.socket.io.engine.transport.name;
  }

  ofEvent(event: string): unknown[] {
    return this.received.filter((entry) => entry.event === event).map((entry) => entry.payload);
  }

  /** Everything about one job: its subscribed ack and job messages. */
  forJob(jobId: string): Received[] {
    return this.received.filter((entry) => (entry.event === "subscribed" || JOB_EVENTS.has(entry.event)) && payloadField(entry.payload, "job_id") === jobId);
  }

  /** Everything about one batch: its subscribed ack and batch:update messages. */
  forBatch(batchId: string): Received[] {
    return this.received.filter((entry) => (entry.event === "subscribed" || entry.event === "batch:update") && payloadField(entry.payload, "batch_id") === batchId);
  }

  emit(event: string, ...args: unknown[]): void {
    this.socket.emit(event, ...args);
  }

  /** Emits with an acknowledgement and resolves with the server's answer. */
  async request(event: string, payload: unknown): Promise<unknown> {
    return this.socket.timeout(20_000).emitWithAck(event, payload);
  }

  /**
   * A round trip through the server: whatever the server sent this socket
   * before answering has arrived once this resolves (one connection keeps order).
   */
  async barrier(): Promise<void> {
    await this.request("unsubscribe:job", { job_id: "barrier-no-such-job" });
  }

  async waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
    return waitFor(what, probe, { timeoutMs, detail: () => `received so far: ${JSON.stringify(this.received.slice(-10))}` });
  }

  /** Waits for the job's terminal message and returns it. */
  async waitForTerminal(jobId: string, timeoutMs = 120_000): Promise<Received> {
    return this.waitFor(`terminal message of ${jobId}`, () => this.forJob(jobId).find((entry) => TERMINAL_EVENTS.has(entry.event)), timeoutMs);
  }

  close(): void {
    this.socket.close();
  }
}

/** Socket.IO clients opened by a test, closed after it. */
export function useSocketClients(): (client: SocketRecorder) => SocketRecorder {
  const clients: SocketRecorder[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  return (client) => {
    clients.push(client);
    return client;
  };
}

export function expectKeys(value: unknown, keys: readonly string[], label: string): void {
  expect(value !== null && typeof value === "object" && !Array.isArray(value), `${label} is an object`).toBe(true);
  expect(Object.keys(value as object).sort(), `${label} keys`).toEqual([...keys].sort());
}

/** A job:update / job:completed / job:error payload: exactly the seed's five fields, well typed. */
export function expectJobMessage(payload: unknown, label: string): JobMessage {
  expectKeys(payload, JOB_MESSAGE_KEYS, label);
  const message = payload as JobMessage;
  expect(message.job_id === null || typeof message.job_id === "string", `${label}.job_id is a string or null`).toBe(true);
  expect(SEED004_STATUSES, `${label}.status`).toContain(message.status);
  expect(Number.isInteger(message.progress) && message.progress >= 0 && message.progress <= 100, `${label}.progress is an integer 0–100 (${message.progress})`).toBe(true);
  expect(message.message, `${label}.message`).toBeTypeOf("string");
  expect(message.message.length, `${label}.message is not empty`).toBeGreaterThan(0);
  expect(message.timestamp, `${label}.timestamp is ISO-8601 with ms and Z`).toMatch(ISO_MS);
  return message;
}

export function expectBatchMessage(payload: unknown, label: string): BatchMessage {
  expectKeys(payload, BATCH_MESSAGE_KEYS, label);
  const message = payload as BatchMessage;
  for (const key of ["total", "completed", "progress"] as const) {
    expect(Number.isInteger(message[key]) && message[key] >= 0, `${label}.${key} is a non-negative integer (${message[key]})`).toBe(true);
  }
  expect(message.completed, `${label}: completed <= total`).toBeLessThanOrEqual(message.total);
  expect(message.progress, `${label}: progress is the integer percent of tasks ended`).toBe(message.total === 0 ? message.progress : Math.floor((message.completed * 100) / message.total));
  expect(["pending", "running", "paused", "completed", "failed", "cancelled"], `${label}.status`).toContain(message.status);
  expect(message.timestamp, `${label}.timestamp`).toMatch(ISO_MS);
  return message;
}

export interface JobStream {
  readonly updates: JobMessage[];
  readonly terminal: { event: string; message: JobMessage };
}

/**
 * One job's messages as a subscriber received them: `subscribed` first, then
 * job:update only, then exactly one terminal message and nothing after it;
 * each payload with the seed's exact fields; timestamps never go back; every
 * update's progress is the integer percent its own message's numbers give;
 * pages done never decrease.
 */
export function expectJobStream(received: readonly Received[], jobId: string): JobStream {
  expect(received[0], `first message about ${jobId} is subscribed`).toEqual({ event: "subscribed", payload: { job_id: jobId } });
  const rest = received.slice(1);
  expect(rest.filter((entry) => entry.event === "subscribed"), "subscribed arrives once").toEqual([]);
  expect(rest.length, `messages after subscribed for ${jobId}`).toBeGreaterThan(0);
  const updates: JobMessage[] = [];
  let lastTime = Number.NEGATIVE_INFINITY;
  let lastDone = -1;
  rest.forEach((entry, index) => {
    const label = `${entry.event}#${index} of ${jobId}`;
    expect(JOB_EVENTS, `${label} is a job message`).toContain(entry.event);
    const message = expectJobMessage(entry.payload, label);
    expect(message.job_id, `${label}.job_id`).toBe(jobId);
    const time = Date.parse(message.timestamp);
    expect(time, `${label}: timestamps never go back`).toBeGreaterThanOrEqual(lastTime);
    lastTime = time;
    if (TERMINAL_EVENTS.has(entry.event)) {
      expect(index, `${label} is the last message (nothing after the terminal message)`).toBe(rest.length - 1);
      return;
    }
    expect(["PENDING", "PROCESSING"], `${label}.status`).toContain(message.status);
    const counts = pageCounts(message.message);
    if (counts !== undefined) {
      expect(message.progress, `${label}: progress = floor(done × 100 / total) of "${message.message}"`).toBe(counts.total === 0 ? 0 : Math.floor((counts.done * 100) / counts.total));
      expect(counts.done, `${label}: pages done never decrease`).toBeGreaterThanOrEqual(lastDone);
      lastDone = counts.done;
    }
    updates.push(message);
  });
  const last = rest.at(-1) as Received;
  expect(TERMINAL_EVENTS.has(last.event), `the last message of ${jobId} is terminal (got ${last.event})`).toBe(true);
  return { updates, terminal: { event: last.event, message: last.payload as JobMessage } };
}

/** "Crawling: 45/120 pages, 3 errors" → the numbers; undefined when the message carries none. */
export function pageCounts(message: string): { done: number; total: number; errors: number } | undefined {
  const match = /(\d+)\/(\d+) pages, (\d+) errors?/.exec(message);
  if (match === null) return undefined;
  return { done: Number(match[1]), total: Number(match[2]), errors: Number(match[3]) };
}

/** "Delivered: 117 items from 120 pages, 3 errors" → the numbers. */
export function deliveredCounts(message: string): { items: number; pages: number; errors: number } | undefined {
  const match = /^Delivered: (\d+) items? from (\d+) pages?, (\d+) errors?$/.exec(message);
  if (match === null) return undefined;
  return { items: Number(match[1]), pages: Number(match[2]), errors: Number(match[3]) };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A site on 127.0.0.1 whose robots.txt disallows everything (its pages would answer 200). */
export async function startRobotsDenyingSite(): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? "/");
    if (req.url === "/robots.txt") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("User-agent: *\nDisallow: /\n");
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<!doctype html><title>Private</title><p>Crawlers keep out.</p>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The seed's example clients (tests/clients/seed004/). */
export const CLIENTS_DIR = fileURLToPath(new URL("../clients/seed004/", import.meta.url));
/** Debian's python3, which has python-socketio 5.7.2 (the PATH one is a pyenv build without it). */
export const SYSTEM_PYTHON = "/usr/bin/python3";

/** A child process whose output lines are collected. */
export interface ClientProcess {
  readonly lines: string[];
  readonly stderr: string[];
  readonly exited: Promise<number | null>;
  waitForLine(what: string, predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGTERM (the example clients wait forever by design), then SIGKILL if it lingers. */
  stop(): Promise<void>;
}

export function runClient(command: string, args: readonly string[], env: Record<string, string>): ClientProcess {
  const child: ChildProcess = spawn(command, args, { cwd: CLIENTS_DIR, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const stderr: string[] = [];
  const collect = (into: string[]) => {
    let partial = "";
    return (chunk: Buffer): void => {
      partial += chunk.toString("utf8");
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      into.push(...parts);
    };
  };
  child.stdout?.on("data", collect(lines));
  child.stderr?.on("data", collect(stderr));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let running = true;
  void exited.then(() => {
    running = false;
  });
  return {
    lines,
    stderr,
    exited,
    waitForLine: (what, predicate, timeoutMs = 45_000) => {
      const output = (): string => `stdout:\n${lines.join("\n")}\nstderr:\n${stderr.join("\n")}`;
      const found = waitFor(what, () => lines.find(predicate), { timeoutMs, detail: output });
      const died = exited.then((code) => {
        const line = lines.find(predicate);
        if (line === undefined) throw new Error(`client exited (code ${code}) before ${what}\n${output()}`);
        return line;
      });
      return Promise.race([found, died]);
    },
    stop: async () => {
      if (!running) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The fields of a logged payload, from Node's util.inspect (`{ key: 'text', n: 1 }`) or Python's repr (`{'key': 'text', 'n': 1}`). */
export function loggedFields(line: string): Record<string, string | number> {
  const fields: Record<string, string | number> = {};
  const pattern = /'?(\w+)'?: (?:'([^']*)'|(-?\d+))/g;
  for (const match of line.matchAll(pattern)) {
    const key = match[1] as string;
    fields[key] = match[2] !== undefined ? match[2] : Number(match[3]);
  }
  return fields;
}
