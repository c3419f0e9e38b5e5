/**
 * The load generator: a separate process that opens N clients of one kind
 * and measures, for every message, receipt time − the event time the
 * message carries (seed 000 / Socket.IO `timestamp`, tRPC event `time`,
 * both stamped from the scraper's Date.now() when it emitted the event).
 * Driven over IPC by the runner:
 *   connect { kind, url, n, jobs }  → connected { ok, failed, ms }
 *   measure { t0 }                  (counts only messages with event time ≥ t0)
 *   pause { fraction }              (the last `fraction` of clients stop reading)
 *   report                          → report { … }
 *   close                           → closed
 */
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import { io, type Socket } from "socket.io-client";
import WebSocket from "ws";

export type ClientKind = "ws" | "sio" | "sio-trawl" | "trpc" | "trpc-client";

interface Client {
  count: number;
  terminal: number;
  slow: boolean;
  closeCode?: number;
  close(): void;
  pause(): void;
  resume(): void;
}

const HIST_MS = 60_000;
let hist = new Uint32Array(HIST_MS + 1);
let slowHist = new Uint32Array(HIST_MS + 1);
let t0 = Number.POSITIVE_INFINITY;
let maxLatency = 0;
/** Receipt time of the last counted message (for the delivered rate when delivery outlasts the emission window). */
let lastAt = 0;
let clients: Client[] = [];

const TS_KEY = Buffer.from('"timestamp":"');
const TIME_KEY = Buffer.from('"time":"');

function record(client: Client, eventMs: number, terminal: boolean): void {
  if (!(eventMs >= t0)) return;
  const now = Date.now();
  lastAt = now;
  const latency = Math.max(0, now - eventMs);
  client.count++;
  if (terminal) client.terminal++;
  if (client.slow) {
    slowHist[Math.min(latency, HIST_MS)]!++;
    return;
  }
  hist[Math.min(latency, HIST_MS)]!++;
  if (latency > maxLatency) maxLatency = latency;
}

function openWs(url: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}/ws/scraping`, { perMessageDeflate: false, skipUTF8Validation: true });
    const client: Client = { count: 0, terminal: 0, slow: false, close: () => ws.terminate(), pause: () => ws.pause(), resume: () => ws.resume() };
    ws.on("message", (data: Buffer) => {
      const at = data.lastIndexOf(TS_KEY);
      if (at < 0) return;
      const start = at + TS_KEY.length;
      const eventMs = Date.parse(data.toString("latin1", start, start + 24));
      record(client, eventMs, data.indexOf('"type":"job_complete"') >= 0);
    });
    ws.on("open", () => resolve(client));
    ws.on("error", reject);
    ws.on("close", (code) => (client.closeCode = code));
  });
}

function openSocketIo(url: string, jobs: string[]): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket: Socket = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, timeout: 30_000 });
    const client: Client = {
      count: 0,
      terminal: 0,
      slow: false,
      close: () => socket.disconnect(),
      pause: () => (socket.io.engine as unknown as { transport: { ws?: WebSocket } }).transport.ws?.pause?.(),
      resume: () => (socket.io.engine as unknown as { transport: { ws?: WebSocket } }).transport.ws?.resume?.(),
    };
    socket.onAny((event: string, payload: { timestamp?: string }) => {
      if (payload === null || typeof payload !== "object" || typeof payload.timestamp !== "string") return;
      record(client, Date.parse(payload.timestamp), event === "job:completed" || event === "job_complete");
    });
    socket.on("disconnect", (reason) => (client.closeCode = reason === "io server disconnect" ? 4000 : 1006));
    socket.once("connect_error", reject);
    socket.once("connect", () => {
      if (jobs.length === 0) return resolve(client);
      let pending = jobs.length;
      for (const job of jobs) socket.emit("subscribe:job", { job_id: job }, () => --pending === 0 && resolve(client));
    });
  });
}

/**
 * A tRPC `events.watch` subscriber speaking tRPC's WebSocket protocol itself
 * (subscribe, answer the keep-alive PING, read each data message's event `time`), as the ws clients
 * above read seed 000's frames. @trpc/client's own machinery costs ~25 µs per
 * message, which on this two-core machine would measure the load generator
 * rather than the gateway; the bytes on the wire are the same.
 */
function openTrpc(url: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}/trpc`, { perMessageDeflate: false, skipUTF8Validation: true });
    const client: Client = { count: 0, terminal: 0, slow: false, close: () => ws.terminate(), pause: () => ws.pause(), resume: () => ws.resume() };
    ws.on("message", (data: Buffer) => {
      // The server's keep-alive: a client that does not answer is closed.
      if (data.length === 4 && data.toString("latin1") === "PING") return ws.send("PONG");
      const at = data.indexOf(TIME_KEY);
      if (at < 0) return;
      const start = at + TIME_KEY.length;
      const eventMs = Date.parse(data.toString("latin1", start, data.indexOf(0x22, start)));
      record(client, eventMs, data.indexOf('"completed":') >= 0);
    });
    ws.on("open", () => {
      ws.send(JSON.stringify({ id: 1, jsonrpc: "2.0", method: "subscription", params: { path: "events.watch", input: {} } }));
      resolve(client);
    });
    ws.on("error", reject);
    ws.on("close", (code) => (client.closeCode = code));
  });
}

/** A subscriber through @trpc/client itself (the soak's tRPC clients: the real client against the real stream). */
function openTrpcClient(url: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    let opened = false;
    const wsClient = createWSClient({
      url: `${url}/trpc`,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      onOpen: () => {
        opened = true;
        resolve(client);
      },
      onError: (error) => (opened ? undefined : reject(error ?? new Error("trpc ws error"))),
      retryDelayMs: () => 60_000,
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the router type lives in @trawl/realtime; a plain path call is enough here.
    const trpc = createTRPCClient<any>({ links: [wsLink({ client: wsClient })] }) as any;
    const client: Client = { count: 0, terminal: 0, slow: false, close: () => void wsClient.close(), pause: () => undefined, resume: () => undefined };
    trpc.events.watch.subscribe(
      {},
      {
        onData: (tracked: { data: { time?: string; completed?: unknown } | string }) => {
          const data = typeof tracked.data === "string" ? (JSON.parse(tracked.data) as { time?: string; completed?: unknown }) : tracked.data;
          if (typeof data.time === "string") record(client, Date.parse(data.time), data.completed !== undefined);
        },
        onError: () => undefined,
      },
    );
  });
}

async function connect(kind: ClientKind, url: string, n: number, jobs: string[]) {
  const started = Date.now();
  let failed = 0;
  let next = 0;
  const open = (): Promise<Client> =>
    kind === "ws" ? openWs(url) : kind === "sio" ? openSocketIo(url, []) : kind === "sio-trawl" ? openSocketIo(url, jobs) : kind === "trpc" ? openTrpc(url) : openTrpcClient(url);
  const worker = async () => {
    while (next < n) {
      next++;
      try {
        clients.push(await open());
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, 64) }, worker));
  return { ok: clients.length, failed, ms: Date.now() - started };
}

function quantile(h: Uint32Array, total: number, q: number): number {
  if (total === 0) return Number.NaN;
  const target = Math.ceil(total * q);
  let seen = 0;
  for (let ms = 0; ms < h.length; ms++) {
    seen += h[ms]!;
    if (seen >= target) return ms;
  }
  return HIST_MS;
}

function report() {
  const healthy = clients.filter((c) => !c.slow);
  const slow = clients.filter((c) => c.slow);
  const sum = (list: Client[]) => list.reduce((s, c) => s + c.count, 0);
  const total = hist.reduce((s, v) => s + v, 0);
  const slowTotal = slowHist.reduce((s, v) => s + v, 0);
  const counts = healthy.map((c) => c.count).sort((a, b) => a - b);
  const closes: Record<string, number> = {};
  for (const c of clients) if (c.closeCode !== undefined) closes[c.closeCode] = (closes[c.closeCode] ?? 0) + 1;
  return {
    clients: clients.length,
    healthy: healthy.length,
    received: sum(healthy),
    minPerClient: counts[0] ?? 0,
    medianPerClient: counts[counts.length >> 1] ?? 0,
    p50: quantile(hist, total, 0.5),
    p99: quantile(hist, total, 0.99),
    max: maxLatency,
    slow: { clients: slow.length, received: sum(slow), terminal: slow.reduce((s, c) => s + c.terminal, 0), p50: quantile(slowHist, slowTotal, 0.5), closed: slow.filter((c) => c.closeCode !== undefined).length },
    healthyTerminal: healthy.reduce((s, c) => s + c.terminal, 0),
    closes,
    lastAt,
    /** Sparse latency histograms ([ms, count] pairs), so reports of several load generators merge exactly. */
    hist: sparse(hist),
    slowHist: sparse(slowHist),
  };
}

function sparse(h: Uint32Array): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let ms = 0; ms < h.length; ms++) if (h[ms]! > 0) pairs.push([ms, h[ms]!]);
  return pairs;
}

process.on("message", (message: { cmd: string; kind: ClientKind; url: string; n: number; jobs: string[]; t0: number; fraction: number; id: number }) => {
  const reply = (body: object) => process.send?.({ id: message.id, ...body });
  switch (message.cmd) {
    case "connect":
      void connect(message.kind, message.url, message.n, message.jobs ?? []).then(reply);
      break;
    case "measure":
      t0 = message.t0;
      hist = new Uint32Array(HIST_MS + 1);
      slowHist = new Uint32Array(HIST_MS + 1);
      maxLatency = 0;
      lastAt = 0;
      for (const c of clients) {
        c.count = 0;
        c.terminal = 0;
      }
      reply({});
      break;
    case "pause": {
      const from = Math.floor(clients.length * (1 - message.fraction));
      for (const c of clients.slice(from)) {
        c.slow = true;
        c.pause();
      }
      reply({ paused: clients.length - from });
      break;
    }
    case "resume":
      for (const c of clients) if (c.slow) c.resume();
      reply({});
      break;
    case "report":
      reply(report());
      break;
    case "close":
      for (const c of clients) c.close();
      clients = [];
      t0 = Number.POSITIVE_INFINITY;
      setTimeout(() => reply({}), 300);
      break;
  }
});
process.on("disconnect", () => process.exit(0));
process.send?.({ type: "ready" });
