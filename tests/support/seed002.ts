/**
 * Seed 002's flat events as assertions — the exact key set, the types and
 * statuses the seed lists, ISO timestamps, progress computed from the
 * event's own counts, one terminal event at the end — plus batch crawls
 * (several start URLs: the seed's "scrapers") and the seed's example clients
 * run as child processes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { PlatformName } from "@trawl/proto";
import { expect } from "vitest";
import type { FixtureSite } from "../fixture/site.js";
import { type CrawlTruth, crawlTruth } from "../fixture/truth.js";
import { postJson } from "./http.js";
import { type GatewayProcess, TEST_REQUEST_TIMEOUT_MS } from "./stack.js";
import { waitFor } from "./wait.js";
import type { RecordingClient } from "./ws-client.js";

export const FLAT_KEYS = ["job_id", "event_type", "status", "progress", "results_count", "message", "metadata", "timestamp"] as const;
export const FLAT_TYPES = ["job_started", "job_progress", "job_completed", "job_failed", "scraper_started", "scraper_completed", "scraper_failed", "results_updated"] as const;
export const FLAT_STATUSES = ["pending", "running", "paused", "completed", "failed", "cancelled"] as const;
/** `toISOString()` form: UTC, milliseconds, Z. */
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const JOB_METADATA_KEYS = ["platform", "pages_done", "pages_total", "success_count", "error_count"] as const;
export const SCRAPER_COUNT_KEYS = ["successful_scrapers", "failed_scrapers"] as const;

export type FlatType = (typeof FLAT_TYPES)[number];

export interface FlatEvent {
  job_id: string;
  event_type: string;
  status: string;
  progress: number | null;
  results_count: number;
  message: string;
  metadata: Record<string, unknown>;
  timestamp: string;
}

/** The flat events a RecordingClient received (they have no `type`, so it keeps them raw). */
export function flatEvents(client: RecordingClient): FlatEvent[] {
  return client.frames.map((frame) => {
    expect(frame.type, `a flat event is untyped JSON: ${JSON.stringify(frame).slice(0, 200)}`).toBe("<untyped>");
    return JSON.parse(String(frame.raw)) as FlatEvent;
  });
}

export function isTerminalEvent(event: FlatEvent): boolean {
  return event.event_type === "job_completed" || event.event_type === "job_failed";
}

/** Waits until `client` has received a terminal event; returns every event so far. */
export async function waitForTerminalEvent(client: RecordingClient, timeoutMs = 120_000): Promise<FlatEvent[]> {
  return client.waitUntil("a job_completed or job_failed event", () => {
    const events = client.frames.filter((frame) => frame.type === "<untyped>").map((frame) => JSON.parse(String(frame.raw)) as FlatEvent);
    return events.some(isTerminalEvent) ? events : undefined;
  }, { timeoutMs });
}

/** The percent the seed's `progress` must hold for pages done / known (one decimal, null while none is known). */
export function expectedProgress(done: number, total: number): number | null {
  return total === 0 ? null : Math.round(Math.min(100, (done / total) * 100) * 10) / 10;
}

/**
 * Checks a job's stream as one client received it: exact keys and value
 * types of every event, one job, the seed's types only, timestamps in order,
 * counts never decreasing, progress equal to its own counts, exactly one
 * terminal event and it is the last.
 */
export function expectFlatStream(events: readonly FlatEvent[], jobId: string): void {
  expect(events.length, `events of ${jobId}`).toBeGreaterThan(0);
  let lastTime = Number.NEGATIVE_INFINITY;
  let lastResults = 0;
  let lastPages = 0;
  events.forEach((event, index) => {
    const label = `${event.event_type}#${index}`;
    expect(Object.keys(event), `${label}: the seed's keys, in its order`).toEqual(FLAT_KEYS);
    expect(event.job_id, `${label}.job_id`).toBe(jobId);
    expect(FLAT_TYPES as readonly string[], `${label}: a type the seed lists`).toContain(event.event_type);
    expect(FLAT_STATUSES as readonly string[], `${label}.status`).toContain(event.status);
    expect(typeof event.message === "string" && event.message.length > 0, `${label}.message is text`).toBe(true);
    expect(event.metadata !== null && typeof event.metadata === "object" && !Array.isArray(event.metadata), `${label}.metadata is an object`).toBe(true);
    expect(event.timestamp, `${label}.timestamp`).toMatch(ISO_UTC);
    const time = Date.parse(event.timestamp);
    expect(time, `${label}: timestamps never go backwards`).toBeGreaterThanOrEqual(lastTime);
    lastTime = time;
    expect(Number.isInteger(event.results_count) && event.results_count >= lastResults, `${label}.results_count (${event.results_count}) never decreases`).toBe(true);
    lastResults = event.results_count;
    expect(event.progress === null || (typeof event.progress === "number" && event.progress >= 0 && event.progress <= 100), `${label}.progress`).toBe(true);
    if (event.event_type === "job_progress" || isTerminalEvent(event)) {
      const metadata = event.metadata;
      for (const key of JOB_METADATA_KEYS) expect(metadata[key], `${label}.metadata.${key}`).toBeDefined();
      const done = metadata.pages_done as number;
      expect(done, `${label}: pages_done never decreases`).toBeGreaterThanOrEqual(lastPages);
      lastPages = done;
      expect(done, `${label}: pages_done = success_count + error_count`).toBe((metadata.success_count as number) + (metadata.error_count as number));
      const progress = event.status === "completed" ? 100 : expectedProgress(done, metadata.pages_total as number);
      expect(event.progress, `${label}.progress from its own counts`).toBe(progress);
      expect(event.results_count, `${label}: results_count = successful pages`).toBe(metadata.success_count);
    }
    if (isTerminalEvent(event)) expect(index, `${label} is the last event (nothing after the terminal event)`).toBe(events.length - 1);
    else expect(["running", "paused", "pending"], `${label}.status before the end`).toContain(event.status);
  });
  expect(isTerminalEvent(events.at(-1) as FlatEvent), "the stream ends with its terminal event").toBe(true);
}

/** Crawl truth for several start URLs (a batch: one task, one "scraper", each). */
export function batchTruth(site: FixtureSite, paths: readonly string[], depth: number, platform: PlatformName = "web"): CrawlTruth {
  return crawlTruth(site.graph, {
    startUrls: paths.map((path) => site.url(path)),
    depth,
    platform,
    conditions: { requestTimeoutMs: TEST_REQUEST_TIMEOUT_MS, slowDelayMs: site.options.slowDelayMs, pageLatencyMs: site.options.pageLatencyMs },
  });
}

/** POST /api/scrape with `urls`: one job, one task per URL. */
export async function startBatch(gateway: GatewayProcess, site: FixtureSite, paths: readonly string[], depth: number, platform: PlatformName = "web"): Promise<string> {
  const urls = paths.map((path) => site.url(path));
  const response = await postJson<{ job_id: string; urls: string[] }>(`${gateway.url}/api/scrape`, { urls, depth, platform });
  expect(response.status, `POST /api/scrape answered ${response.status}: ${response.text}`).toBe(200);
  expect(response.body.urls).toEqual(urls);
  return response.body.job_id;
}

/** A client example running as a child process, its output collected as it comes. */
export class ExampleProcess {
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(command: string, args: readonly string[], env: Record<string, string> = {}) {
    this.child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (this.stdout += chunk));
    this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once("close", (code, signal) => resolve({ code, signal })));
  }

  /** The lines printed so far. */
  get lines(): string[] {
    return this.stdout.split("\n").filter((line) => line !== "");
  }

  async waitForLine(what: string, predicate: (line: string) => boolean, timeoutMs = 60_000): Promise<string> {
    return waitFor(what, () => this.lines.find(predicate), { timeoutMs, detail: () => this.describe() });
  }

  async waitForExit(timeoutMs = 120_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void this.exited.then((value) => (exit = value));
    return waitFor("the example to exit", () => exit, { timeoutMs, detail: () => this.describe() });
  }

  /** SIGKILLs the process unless it has exited (cleanup after a failed test). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }

  describe(): string {
    return `stdout:\n${this.stdout.slice(-3000)}\nstderr:\n${this.stderr.slice(-2000)}`;
  }
}

export const JS_EXAMPLE = fileURLToPath(new URL("../clients/seed002/monitor.cjs", import.meta.url));
export const PYTHON_EXAMPLE = fileURLToPath(new URL("../clients/seed002/monitor.py", import.meta.url));
/** Debian's Python, which has `websockets` (the PATH one may not). */
export const SYSTEM_PYTHON = "/usr/bin/python3";

/** One printed event of the examples: the `[type] message` line and the two lines after it. */
export interface PrintedEvent {
  type: string;
  message: string;
  progress: string;
  results: string;
}

/**
 * Splits the examples' output into their per-event groups
 * (`[type] message` / `Progress: …%` / `Results: …`); other lines are
 * returned apart, in order.
 */
export function printedEvents(lines: readonly string[]): { events: PrintedEvent[]; other: string[] } {
  const events: PrintedEvent[] = [];
  const other: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const match = /^\[([a-z_]+)\] (.*)$/.exec(line);
    if (match === null) {
      other.push(line);
      continue;
    }
    const progress = lines[i + 1] ?? "";
    const results = lines[i + 2] ?? "";
    expect(progress, `line after "${line}"`).toMatch(/^Progress: .*%$/);
    expect(results, `second line after "${line}"`).toMatch(/^Results: \d+$/);
    events.push({ type: match[1] as string, message: match[2] as string, progress: progress.slice("Progress: ".length, -1), results: results.slice("Results: ".length) });
    i += 2;
  }
  return { events, other };
}
