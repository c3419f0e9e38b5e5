/**
 * Process plumbing for the fan-out benchmark: forked TypeScript children
 * driven by request/reply over IPC, and /proc readers for CPU and RSS.
 */
import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

export interface Child {
  readonly pid: number;
  readonly ready: Record<string, unknown>;
  request<T = Record<string, unknown>>(message: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Resolves with the next message of `type`. */
  next<T = Record<string, unknown>>(type: string, timeoutMs?: number): Promise<T>;
  send(message: Record<string, unknown>): void;
  kill(): Promise<void>;
}

/** Forks `fanout/<module>.ts` under tsx and waits for its `{ type: "ready" }`. */
export async function startChild(module: string, args: string[] = []): Promise<Child> {
  const path = fileURLToPath(new URL(`./${module}.ts`, import.meta.url));
  const child = fork(path, args, { execArgv: ["--import", "tsx", "--max-old-space-size=4096"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => children.delete(child));
  let nextId = 1;
  const pending = new Map<number, (value: unknown) => void>();
  const waiters: Array<{ type: string; resolve: (value: unknown) => void }> = [];
  child.on("message", (message: { id?: number; type?: string }) => {
    if (message.id !== undefined) {
      pending.get(message.id)?.(message);
      pending.delete(message.id);
      return;
    }
    const index = waiters.findIndex((w) => w.type === message.type);
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(message);
  });
  const timed = <T>(promise: Promise<T>, ms: number, what: string) =>
    Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${module}: ${what} timed out after ${ms} ms`)), ms).unref())]);
  const handle: Child = {
    pid: child.pid!,
    ready: {},
    request: (message, timeoutMs = 120_000) => {
      const id = nextId++;
      const answer = new Promise((resolve) => pending.set(id, resolve));
      child.send({ ...message, id });
      return timed(answer, timeoutMs, String(message.cmd)) as never;
    },
    next: (type, timeoutMs = 120_000) => timed(new Promise((resolve) => waiters.push({ type, resolve })), timeoutMs, type) as never,
    send: (message) => child.send(message),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
  Object.assign(handle, { ready: await handle.next("ready", 30_000) });
  return handle;
}

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Resident set size in KiB. */
export function rssKb(pid: number): number {
  const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match === null ? Number.NaN : Number(match[1]);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
