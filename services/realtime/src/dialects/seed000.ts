/**
 * The seed 000 dialect — Trawl's canonical raw WebSocket API. Pure encoders
 * from canonical events and live-state views to the exact JSON messages
 * existing dashboard clients parse. Each event is encoded once here; the hub
 * sends the resulting string to every subscriber.
 *
 * Every message carries `timestamp` (the event's time) except `stats` and
 * `pong`, exactly as the seed documents them.
 */
import type { TenantScope } from "../auth/scope.js";
import { isTerminal, JobStatus, Platform, platformName, type Item, type JobEvent } from "@trawl/proto";
import type { JobRecord, LiveState } from "../state/live-state.js";
import { isoTime, timestampMs } from "../state/time.js";
import { activeJobsView, jobElapsedSeconds, jobView, platformStatsView } from "../state/views.js";

export type Seed000Type = "initial_state" | "progress" | "item_preview" | "job_complete" | "job_error" | "stats" | "pong";

/** One encoded message and the job it is about. */
export interface Seed000Frame {
  readonly type: Seed000Type;
  readonly jobId: string;
  readonly json: string;
}

/** The answer to any text frame a client sends. */
export const PONG_JSON = '{"type":"pong","message":"Connection alive"}';

type ItemFields = Record<string, string | number>;

/**
 * Encodes `event` (already applied, so `job` holds the state after it) into
 * the seed 000 frames it produces, in order. Events without a seed 000
 * message (page failures, task events) produce none.
 */
export function encodeEvent(event: JobEvent, job: JobRecord): Seed000Frame[] {
  const atMs = timestampMs(event.time) ?? job.lastEventMs;
  const kind = event.kind;
  switch (kind.case) {
    case "started":
    case "progress":
    case "paused":
    case "resumed":
      return [progressFrame(job, atMs)];
    case "itemScraped":
      return kind.value.item === undefined ? [] : [itemPreviewFrame(job, kind.value.item, atMs)];
    case "completed":
    case "failed":
    case "cancelled":
      return terminalFrames(job, atMs);
    default:
      return [];
  }
}

/**
 * The frames that bring a subscriber up to date with `job` when its events
 * were not seen one by one (a scraper snapshot): its progress, then its
 * terminal frames once it has ended.
 */
export function encodeJobState(job: JobRecord, nowMs: number): Seed000Frame[] {
  if (!isTerminal(job.status)) return [progressFrame(job, nowMs)];
  const atMs = job.finishedAtMs ?? nowMs;
  // Failed and cancelled jobs' terminal frames already start with a progress.
  if (job.status !== JobStatus.COMPLETED) return terminalFrames(job, atMs);
  return [progressFrame(job, atMs), ...terminalFrames(job, atMs)];
}

/**
 * The terminal frame(s) of an ended job, stamped with its finish time — what
 * a subscriber that connects after the end receives after `initial_state`.
 */
export function encodeTerminalFrames(job: JobRecord): Seed000Frame[] {
  return isTerminal(job.status) ? terminalFrames(job, job.finishedAtMs ?? job.lastEventMs) : [];
}

/** `initial_state` for `/ws/scraping`: every active job and the platform stats (of `scope`'s jobs). */
export function encodeInitialState(state: LiveState, nowMs: number, scope?: TenantScope): string {
  return initialStateJson(JSON.stringify(activeJobsView(state, nowMs, scope)), state, nowMs, scope);
}

/** `initial_state` for `/ws/scraping/{job_id}`: just that job, whatever its status. */
export function encodeJobInitialState(job: JobRecord, state: LiveState, nowMs: number, scope?: TenantScope): string {
  return initialStateJson(JSON.stringify({ [job.id]: jobView(job, nowMs) }), state, nowMs, scope);
}

/**
 * The `data` object of a `stats` message. Split from `encodeStats` so one
 * rendering can serve every `/ws/stats` client ticking at the same moment.
 */
export function encodeStatsData(state: LiveState, nowMs: number, scope?: TenantScope): string {
  const activeJobs = activeJobsView(state, nowMs, scope);
  return JSON.stringify({
    platform_stats: platformStatsView(state, scope),
    active_jobs_count: Object.keys(activeJobs).length,
    active_jobs: activeJobs,
  });
}

/** A `stats` message around pre-encoded `data`. */
export function encodeStats(dataJson: string, intervalSeconds: number): string {
  return `{"type":"stats","data":${dataJson},"interval_seconds":${JSON.stringify(intervalSeconds)}}`;
}

/** The `job_error` sent before closing a subscription to a job no scraper knows. */
export function encodeUnknownJob(jobId: string, nowMs: number): string {
  return JSON.stringify({ type: "job_error", data: { job_id: jobId, error_message: `Unknown job: ${jobId}` }, timestamp: isoTime(nowMs) });
}

function initialStateJson(activeJobsJson: string, state: LiveState, nowMs: number, scope: TenantScope): string {
  return `{"type":"initial_state","data":{"active_jobs":${activeJobsJson},"platform_stats":${JSON.stringify(platformStatsView(state, scope))}},"timestamp":${JSON.stringify(isoTime(nowMs))}}`;
}

function progressFrame(job: JobRecord, atMs: number): Seed000Frame {
  // The seed shows current_item between the counts and started_at; keep that order.
  const { started_at, elapsed_seconds, ...counts } = jobView(job, atMs);
  const data: Record<string, unknown> = counts;
  if (job.currentItem !== undefined) data.current_item = currentItemFields(job.platform, job.currentItem);
  data.started_at = started_at;
  data.elapsed_seconds = elapsed_seconds;
  return { type: "progress", jobId: job.id, json: JSON.stringify({ type: "progress", data, timestamp: isoTime(atMs) }) };
}

function itemPreviewFrame(job: JobRecord, item: Item, atMs: number): Seed000Frame {
  const data = { job_id: job.id, platform: platformName(job.platform), item: previewFields(job.platform, item) };
  return { type: "item_preview", jobId: job.id, json: JSON.stringify({ type: "item_preview", data, timestamp: isoTime(atMs) }) };
}

function terminalFrames(job: JobRecord, atMs: number): Seed000Frame[] {
  const timestamp = isoTime(atMs);
  const platform = platformName(job.platform);
  switch (job.status) {
    case JobStatus.COMPLETED: {
      const data = {
        job_id: job.id,
        platform,
        total_items: job.counts.pagesDone,
        success_count: job.counts.successCount,
        error_count: job.counts.errorCount,
        elapsed_seconds: jobElapsedSeconds(job, atMs),
      };
      return [{ type: "job_complete", jobId: job.id, json: JSON.stringify({ type: "job_complete", data, timestamp }) }];
    }
    case JobStatus.FAILED:
      return [progressFrame(job, atMs), jobErrorFrame(job, job.error === "" ? "Job failed" : job.error, timestamp)];
    case JobStatus.CANCELLED:
      return [progressFrame(job, atMs), jobErrorFrame(job, `Job cancelled: ${job.error === "" ? "by request" : job.error}`, timestamp)];
    default:
      return [];
  }
}

function jobErrorFrame(job: JobRecord, message: string, timestamp: string): Seed000Frame {
  const data = { job_id: job.id, platform: platformName(job.platform), error_message: message };
  return { type: "job_error", jobId: job.id, json: JSON.stringify({ type: "job_error", data, timestamp }) };
}

/** `current_item` of a progress message: id, title, and the platform's identifying field. */
export function currentItemFields(platform: Platform, item: Item): ItemFields {
  const fields: ItemFields = { id: item.id };
  setText(fields, "title", item.title);
  switch (platform) {
    case Platform.TWITTER:
      setText(fields, "author", item.author);
      break;
    case Platform.YOUTUBE:
      setText(fields, "channel", item.channel);
      break;
    case Platform.REDDIT:
      setText(fields, "subreddit", item.subreddit);
      break;
    default:
      setText(fields, "url", item.url);
      break;
  }
  return fields;
}

/** `item` of an item_preview message: the platform's preview fields the page carried. */
export function previewFields(platform: Platform, item: Item): ItemFields {
  const fields: ItemFields = { id: item.id };
  switch (platform) {
    case Platform.TWITTER:
      setText(fields, "author", item.author);
      setText(fields, "text", item.text);
      setCount(fields, "likes", item.likes);
      setCount(fields, "retweets", item.retweets);
      if (item.publishedAt !== undefined) fields.timestamp = isoTime(timestampMs(item.publishedAt) ?? 0);
      setText(fields, "url", item.url);
      break;
    case Platform.YOUTUBE:
      setText(fields, "title", item.title);
      setText(fields, "channel", item.channel);
      setCount(fields, "views", item.views);
      setCount(fields, "duration", item.durationSeconds);
      break;
    case Platform.REDDIT:
      setText(fields, "title", item.title);
      setText(fields, "subreddit", item.subreddit);
      setCount(fields, "score", item.score);
      setCount(fields, "comments", item.comments);
      break;
    default:
      setText(fields, "title", item.title);
      setText(fields, "url", item.url);
      setText(fields, "description", item.description);
      fields.word_count = item.wordCount;
      fields.links_found = item.linksFound;
      break;
  }
  return fields;
}

function setText(fields: ItemFields, key: string, value: string | undefined): void {
  if (value !== undefined && value !== "") fields[key] = value;
}

function setCount(fields: ItemFields, key: string, value: bigint | number | undefined): void {
  if (value !== undefined) fields[key] = Number(value);
}
