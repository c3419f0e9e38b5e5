/**
 * Several load-generator processes driven as one. One generator saturates a
 * core at roughly 100–200 k received messages/s, which would make figures at
 * 5,000–10,000 clients measure the client rather than the server; the group
 * splits the clients across its processes and merges their reports exactly
 * (counts add up, latency percentiles come from the summed histograms).
 */
import { type Child, cpuSeconds, startChild } from "./harness.js";

export interface LoadReport {
  clients: number;
  healthy: number;
  received: number;
  minPerClient: number;
  medianPerClient: number;
  p50: number;
  p99: number;
  max: number;
  slow: { clients: number; received: number; terminal: number; p50: number; closed: number };
  healthyTerminal: number;
  closes: Record<string, number>;
  lastAt: number;
  hist: Array<[number, number]>;
  slowHist: Array<[number, number]>;
}

export interface LoadGroup {
  /** How many generator processes. */
  readonly size: number;
  /** CPU seconds all generators have used so far. */
  cpuSeconds(): number;
  connect(kind: string, url: string, n: number, jobs: string[]): Promise<{ ok: number; failed: number; ms: number }>;
  measure(t0: number): Promise<void>;
  pause(fraction: number): Promise<void>;
  resume(): Promise<void>;
  report(): Promise<LoadReport>;
  close(): Promise<void>;
}

export async function startLoadGroup(size: number): Promise<LoadGroup> {
  const members: Child[] = await Promise.all(Array.from({ length: size }, () => startChild("load-generator")));
  const all = <T>(message: Record<string, unknown>) => Promise.all(members.map((member) => member.request<T>(message)));
  return {
    size,
    cpuSeconds: () => members.reduce((sum, member) => sum + cpuSeconds(member.pid), 0),
    async connect(kind, url, n, jobs) {
      const shares = members.map((_, i) => Math.floor(n / size) + (i < n % size ? 1 : 0));
      const answers = await Promise.all(members.map((member, i) => member.request<{ ok: number; failed: number; ms: number }>({ cmd: "connect", kind, url, n: shares[i], jobs })));
      return { ok: sum(answers.map((a) => a.ok)), failed: sum(answers.map((a) => a.failed)), ms: Math.max(...answers.map((a) => a.ms)) };
    },
    measure: async (t0) => void (await all({ cmd: "measure", t0 })),
    pause: async (fraction) => void (await all({ cmd: "pause", fraction })),
    resume: async () => void (await all({ cmd: "resume" })),
    report: async () => mergeReports(await all<LoadReport>({ cmd: "report" })),
    async close() {
      await all({ cmd: "close" }).catch(() => undefined);
      await Promise.all(members.map((member) => member.kill()));
    },
  };
}

function mergeReports(reports: LoadReport[]): LoadReport {
  const hist = mergeHist(reports.map((r) => r.hist));
  const slowHist = mergeHist(reports.map((r) => r.slowHist));
  const closes: Record<string, number> = {};
  for (const r of reports) for (const [code, count] of Object.entries(r.closes)) closes[code] = (closes[code] ?? 0) + count;
  const withClients = reports.filter((r) => r.healthy > 0);
  return {
    clients: sum(reports.map((r) => r.clients)),
    healthy: sum(reports.map((r) => r.healthy)),
    received: sum(reports.map((r) => r.received)),
    minPerClient: withClients.length === 0 ? 0 : Math.min(...withClients.map((r) => r.minPerClient)),
    medianPerClient: withClients.length === 0 ? 0 : Math.min(...withClients.map((r) => r.medianPerClient)),
    p50: quantile(hist, 0.5),
    p99: quantile(hist, 0.99),
    max: Math.max(0, ...reports.map((r) => r.max)),
    slow: {
      clients: sum(reports.map((r) => r.slow.clients)),
      received: sum(reports.map((r) => r.slow.received)),
      terminal: sum(reports.map((r) => r.slow.terminal)),
      p50: quantile(slowHist, 0.5),
      closed: sum(reports.map((r) => r.slow.closed)),
    },
    healthyTerminal: sum(reports.map((r) => r.healthyTerminal)),
    closes,
    lastAt: Math.max(0, ...reports.map((r) => r.lastAt)),
    hist,
    slowHist,
  };
}

function mergeHist(parts: Array<Array<[number, number]>>): Array<[number, number]> {
  const counts = new Map<number, number>();
  for (const part of parts) for (const [ms, count] of part) counts.set(ms, (counts.get(ms) ?? 0) + count);
  return [...counts].sort((a, b) => a[0] - b[0]);
}

/** The smallest latency (ms) at or below which a fraction `q` of the messages arrived (NaN when there are none). */
export function quantile(hist: Array<[number, number]>, q: number): number {
  const total = sum(hist.map(([, count]) => count));
  if (total === 0) return Number.NaN;
  const target = Math.ceil(total * q);
  let seen = 0;
  for (const [ms, count] of hist) {
    seen += count;
    if (seen >= target) return ms;
  }
  return hist[hist.length - 1]![0];
}

const sum = (values: number[]) => values.reduce((s, v) => s + v, 0);
