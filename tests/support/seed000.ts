/**
 * The seed-000 WebSocket API as assertions: exact key sets of every frame
 * type, value types, rounding, ISO timestamps, and per-job stream order.
 */
import { PLATFORM_NAMES, type PlatformName } from "@trawl/proto";
import { expect } from "vitest";
import type { PreviewExpectation } from "../fixture/truth.js";
import type { Frame } from "./ws-client.js";

export const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
export const SEED000_STATUSES = ["pending", "processing", "paused", "completed", "failed", "cancelled"] as const;
export const TERMINAL_FRAME_TYPES: ReadonlySet<string> = new Set(["job_complete", "job_error"]);

export const JOB_VIEW_KEYS = ["job_id", "platform", "status", "items_scraped", "items_total", "success_count", "error_count", "started_at", "elapsed_seconds"] as const;
export const PLATFORM_STATS_KEYS = ["platform", "total_items", "success_count", "error_count", "avg_processing_time"] as const;
export const JOB_COMPLETE_KEYS = ["job_id", "platform", "total_items", "success_count", "error_count", "elapsed_seconds"] as const;
export const JOB_ERROR_KEYS = ["job_id", "platform", "error_message"] as const;

export type Json = Record<string, unknown>;

export interface JobView {
  job_id: string;
  platform: PlatformName;
  status: (typeof SEED000_STATUSES)[number];
  items_scraped: number;
  items_total: number;
  success_count: number;
  error_count: number;
  current_item?: Json;
  started_at: string;
  elapsed_seconds: number;
}

export interface PlatformStatsView {
  platform: PlatformName;
  total_items: number;
  success_count: number;
  error_count: number;
  avg_processing_time: number;
}

export function sortedKeys(value: unknown): string[] {
  return Object.keys(value as object).sort();
}

export function expectKeys(value: unknown, keys: readonly string[], label: string): void {
  expect(value, `${label} is an object`).toBeTypeOf("object");
  expect(sortedKeys(value), `${label} keys`).toEqual([...keys].sort());
}

export function expectIso(value: unknown, label: string): void {
  expect(value, `${label} is an ISO-8601 timestamp`).toMatch(ISO_TIMESTAMP);
  expect(Number.isNaN(Date.parse(String(value))), `${label} parses`).toBe(false);
}

export function hasDecimals(value: number, places: number): boolean {
  const scaled = value * 10 ** places;
  return Math.abs(scaled - Math.round(scaled)) < 1e-6;
}

function expectCount(value: unknown, label: string): void {
  expect(Number.isInteger(value) && (value as number) >= 0, `${label} is a non-negative integer (got ${JSON.stringify(value)})`).toBe(true);
}

export function asJson(value: unknown, label: string): Json {
  expect(value !== null && typeof value === "object" && !Array.isArray(value), `${label} is an object`).toBe(true);
  return value as Json;
}

/** A job as seed 000 shows it (`active_jobs` entries and `progress.data`). */
export function expectJobView(value: unknown, label: string, options: { currentItemAllowed: boolean }): JobView {
  const view = asJson(value, label);
  const keys: string[] = [...JOB_VIEW_KEYS];
  if (options.currentItemAllowed && "current_item" in view) keys.push("current_item");
  expectKeys(view, keys, label);
  expect(view.job_id, `${label}.job_id`).toBeTypeOf("string");
  expect(PLATFORM_NAMES, `${label}.platform`).toContain(view.platform);
  expect(SEED000_STATUSES, `${label}.status`).toContain(view.status);
  for (const key of ["items_scraped", "items_total", "success_count", "error_count"]) expectCount(view[key], `${label}.${key}`);
  const job = view as unknown as JobView;
  expect(job.items_scraped, `${label}: items_scraped = success_count + error_count`).toBe(job.success_count + job.error_count);
  expect(job.items_total, `${label}: items_total >= items_scraped`).toBeGreaterThanOrEqual(job.items_scraped);
  expectIso(job.started_at, `${label}.started_at`);
  expect(Number.isFinite(job.elapsed_seconds) && job.elapsed_seconds >= 0, `${label}.elapsed_seconds >= 0`).toBe(true);
  expect(hasDecimals(job.elapsed_seconds, 2), `${label}.elapsed_seconds has at most 2 decimals (${job.elapsed_seconds})`).toBe(true);
  if (job.current_item !== undefined) {
    const item = asJson(job.current_item, `${label}.current_item`);
    expect(item.id, `${label}.current_item.id`).toBeTypeOf("string");
  }
  return job;
}

export function expectPlatformStats(value: unknown, label: string): Record<string, PlatformStatsView> {
  const stats = asJson(value, label);
  for (const [key, entryValue] of Object.entries(stats)) {
    expect(PLATFORM_NAMES, `${label} key`).toContain(key);
    const entry = asJson(entryValue, `${label}.${key}`);
    expectKeys(entry, PLATFORM_STATS_KEYS, `${label}.${key}`);
    expect(entry.platform, `${label}.${key}.platform`).toBe(key);
    for (const count of ["total_items", "success_count", "error_count"]) expectCount(entry[count], `${label}.${key}.${count}`);
    const view = entry as unknown as PlatformStatsView;
    expect(view.total_items, `${label}.${key}: total_items = success + error`).toBe(view.success_count + view.error_count);
    expect(Number.isFinite(view.avg_processing_time) && view.avg_processing_time >= 0, `${label}.${key}.avg_processing_time >= 0`).toBe(true);
    expect(hasDecimals(view.avg_processing_time, 3), `${label}.${key}.avg_processing_time has at most 3 decimals`).toBe(true);
    if (view.total_items === 0) expect(view.avg_processing_time, `${label}.${key}.avg_processing_time with no pages`).toBe(0);
  }
  return stats as Record<string, PlatformStatsView>;
}

export function expectActiveJobs(value: unknown, label: string): Record<string, JobView> {
  const jobs = asJson(value, label);
  for (const [id, job] of Object.entries(jobs)) {
    const view = expectJobView(job, `${label}[${id}]`, { currentItemAllowed: false });
    expect(view.job_id, `${label} is keyed by job_id`).toBe(id);
  }
  return jobs as Record<string, JobView>;
}

export interface InitialState {
  active_jobs: Record<string, JobView>;
  platform_stats: Record<string, PlatformStatsView>;
}

export function expectInitialState(frame: Frame | undefined): InitialState {
  expect(frame?.type, "first frame is initial_state").toBe("initial_state");
  expectKeys(frame, ["type", "data", "timestamp"], "initial_state");
  expectIso(frame?.timestamp, "initial_state.timestamp");
  const data = asJson(frame?.data, "initial_state.data");
  expectKeys(data, ["active_jobs", "platform_stats"], "initial_state.data");
  return { active_jobs: expectActiveJobs(data.active_jobs, "initial_state.active_jobs"), platform_stats: expectPlatformStats(data.platform_stats, "initial_state.platform_stats") };
}

export interface StatsFrame {
  platform_stats: Record<string, PlatformStatsView>;
  active_jobs_count: number;
  active_jobs: Record<string, JobView>;
  interval_seconds: number;
}

export function expectStatsFrame(frame: Frame, interval: number): StatsFrame {
  expectKeys(frame, ["type", "data", "interval_seconds"], "stats frame");
  expect(frame.type).toBe("stats");
  expect(frame.interval_seconds, "stats.interval_seconds").toBe(interval);
  const data = asJson(frame.data, "stats.data");
  expectKeys(data, ["platform_stats", "active_jobs_count", "active_jobs"], "stats.data");
  const activeJobs = expectActiveJobs(data.active_jobs, "stats.active_jobs");
  expect(data.active_jobs_count, "stats.active_jobs_count = number of active_jobs").toBe(Object.keys(activeJobs).length);
  return { platform_stats: expectPlatformStats(data.platform_stats, "stats.platform_stats"), active_jobs_count: data.active_jobs_count as number, active_jobs: activeJobs, interval_seconds: interval };
}

export function expectPong(frame: Frame | undefined): void {
  expect(frame, "pong frame").toEqual({ type: "pong", message: "Connection alive" });
}

export interface JobFrames {
  readonly progress: JobView[];
  readonly previews: Json[];
  readonly terminal: Frame;
  readonly all: Frame[];
}

/**
 * Checks one job's frames as a client received them: only job frame types,
 * each with its exact key set and a timestamp; progress never goes
 * backwards; exactly one terminal frame and nothing after it.
 */
export function expectJobStream(frames: readonly Frame[], jobId: string, platform: PlatformName): JobFrames {
  expect(frames.length, `frames for ${jobId}`).toBeGreaterThan(0);
  const progress: JobView[] = [];
  const previews: Json[] = [];
  let lastTime = Number.NEGATIVE_INFINITY;
  frames.forEach((frame, index) => {
    const label = `${frame.type}#${index} of ${jobId}`;
    expect(["progress", "item_preview", "job_complete", "job_error"], `${label}: a job frame type`).toContain(frame.type);
    expectKeys(frame, ["type", "data", "timestamp"], label);
    expectIso(frame.timestamp, `${label}.timestamp`);
    const time = Date.parse(String(frame.timestamp));
    expect(time, `${label}: timestamps never go backwards`).toBeGreaterThanOrEqual(lastTime);
    lastTime = time;
    const data = asJson(frame.data, `${label}.data`);
    expect(data.job_id, `${label}.job_id`).toBe(jobId);
    expect(data.platform, `${label}.platform`).toBe(platform);
    if (TERMINAL_FRAME_TYPES.has(frame.type)) expect(index, `${label} is the last frame of the job (nothing after the terminal frame)`).toBe(frames.length - 1);
    switch (frame.type) {
      case "progress": {
        const view = expectJobView(data, label, { currentItemAllowed: true });
        const previous = progress.at(-1);
        if (previous) {
          expect(view.items_scraped, `${label}: items_scraped never decreases`).toBeGreaterThanOrEqual(previous.items_scraped);
          expect(view.success_count, `${label}: success_count never decreases`).toBeGreaterThanOrEqual(previous.success_count);
          expect(view.error_count, `${label}: error_count never decreases`).toBeGreaterThanOrEqual(previous.error_count);
          expect(view.started_at, `${label}: started_at is stable`).toBe(previous.started_at);
        }
        progress.push(view);
        break;
      }
      case "item_preview":
        expectKeys(data, ["job_id", "platform", "item"], label);
        previews.push(asJson(data.item, `${label}.item`));
        break;
      case "job_complete": {
        expectKeys(data, JOB_COMPLETE_KEYS, label);
        for (const key of ["total_items", "success_count", "error_count"]) expectCount(data[key], `${label}.${key}`);
        expect(data.total_items, `${label}: total_items = success + error`).toBe((data.success_count as number) + (data.error_count as number));
        const elapsed = data.elapsed_seconds as number;
        expect(Number.isFinite(elapsed) && elapsed >= 0 && hasDecimals(elapsed, 2), `${label}.elapsed_seconds (${elapsed})`).toBe(true);
        break;
      }
      case "job_error":
        expectKeys(data, JOB_ERROR_KEYS, label);
        expect(data.error_message, `${label}.error_message`).toBeTypeOf("string");
        break;
    }
  });
  const terminal = frames.at(-1);
  expect(terminal && TERMINAL_FRAME_TYPES.has(terminal.type), `last frame of ${jobId} is terminal (got ${terminal?.type})`).toBe(true);
  return { progress, previews, terminal: terminal as Frame, all: [...frames] };
}

/** Differences between an actual object and an expectation; empty when it matches. */
export function fieldMismatches(actual: Json, expectation: PreviewExpectation): string[] {
  const problems: string[] = [];
  const allowed = new Set([...Object.keys(expectation.required), ...Object.keys(expectation.optional)]);
  for (const key of Object.keys(actual)) if (!allowed.has(key)) problems.push(`unexpected key ${key}=${JSON.stringify(actual[key])}`);
  const check = (key: string, values: readonly unknown[]): void => {
    const value = actual[key];
    const ok =
      key === "timestamp"
        ? typeof value === "string" && ISO_TIMESTAMP.test(value) && values.some((expected) => Date.parse(String(expected)) === Date.parse(value))
        : values.some((expected) => Object.is(expected, value));
    if (!ok) problems.push(`${key}: expected ${values.map((v) => JSON.stringify(v)).join(" or ")}, got ${JSON.stringify(value)}`);
  };
  for (const [key, values] of Object.entries(expectation.required)) {
    if (!(key in actual)) problems.push(`missing ${key} (expected ${values.map((v) => JSON.stringify(v)).join(" or ")})`);
    else check(key, values);
  }
  for (const [key, values] of Object.entries(expectation.optional)) if (key in actual) check(key, values);
  return problems;
}
