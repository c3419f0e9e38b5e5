/**
 * Runs a built service (`node dist/main.js`) as a child process, collects its
 * JSON log lines and discovers what it listens on from its "listening" line.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export interface LogLine {
  readonly raw: string;
  readonly json?: Record<string, unknown>;
}

export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  /** Every stdout/stderr line so far. */
  readonly logs: readonly LogLine[];
  /** The JSON log line that announced the service was listening. */
  readonly listening: Record<string, unknown>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL: a crash, no shutdown code runs. */
  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  logTail(lines?: number): string;
}

/** Repository root, from this file's location (tests/support/ → ../..). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SCRAPER_MAIN = fileURLToPath(new URL("../../services/scraper/dist/main.js", import.meta.url));
export const GATEWAY_MAIN = fileURLToPath(new URL("../../services/realtime/dist/main.js", import.meta.url));

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A test run that dies must not leave services behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of running) child.kill("SIGKILL");
  });
}

/** SIGKILLs every service this test process started that is still running (a safety net for timed-out tests). */
export async function killAllServices(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    ),
  );
}

export interface StartServiceOptions {
  readonly name: string;
  readonly main: string;
  readonly env: Record<string, string>;
  /** Recognises the listening line. */
  readonly isListening: (json: Record<string, unknown>) => boolean;
  readonly startTimeoutMs?: number;
}

export async function startService(options: StartServiceOptions): Promise<ServiceProcess> {
  if (!existsSync(options.main)) {
    throw new Error(`${options.name}: ${options.main} does not exist — build it first (npm run build at the repo root)`);
  }
  installExitHook();
  const logs: LogLine[] = [];
  const child = spawn(process.execPath, [options.main], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: "info", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const logTail = (lines = 40): string =>
    logs
      .slice(-lines)
      .map((line) => line.raw)
      .join("\n");

  const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${options.name} did not log that it was listening within ${timeoutMs} ms:\n${logTail()}`));
    }, timeoutMs);
    const onLine = (raw: string): void => {
      let json: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(raw);
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      logs.push(json ? { raw, json } : { raw });
      if (logs.length > 20_000) logs.splice(0, logs.length - 20_000);
      if (json && options.isListening(json)) {
        clearTimeout(timer);
        resolve(json);
      }
    };
    if (!child.stdout || !child.stderr) throw new Error("child stdio not piped");
    createInterface({ input: child.stdout }).on("line", onLine);
    createInterface({ input: child.stderr }).on("line", onLine);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited (code ${code}, signal ${signal}) before listening:\n${logTail()}`));
    });
  });

  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name} has no pid`);
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    name: options.name,
    pid,
    logs,
    listening,
    exited,
    isRunning,
    logTail,
    stop: async (graceMs = 15_000) => {
      if (!isRunning()) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    kill: async () => {
      if (!isRunning()) return exited;
      child.kill("SIGKILL");
      return exited;
    },
  };
}
