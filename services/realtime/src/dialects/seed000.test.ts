import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { JobSchema, JobStatus, Platform, type JobEvent } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { counters, item, JobScript, offsetCounter, T0 } from "../test-support/events.js";
import { createLiveState, type LiveState } from "../state/live-state.js";
import { applyEvent, recordFromJob } from "../state/reducer.js";
import {
  encodeEvent,
  encodeInitialState,
  encodeJobInitialState,
  encodeJobState,
  encodeStats,
  encodeStatsData,
  encodeTerminalFrames,
  encodeUnknownJob,
  PONG_JSON,
  type Seed000Frame,
} from "./seed000.js";

const SCRAPER = "127.0.0.1:5001";
type Json = Record<string, unknown>;

const parse = (frame: Seed000Frame | string): Json => JSON.parse(typeof frame === "string" ? frame : frame.json) as Json;
const keys = (value: unknown): string[] => Object.keys(value as Json);
const data = (frame: Seed000Frame | string): Json => parse(frame).data as Json;

const PROGRESS_KEYS = ["job_id", "platform", "status", "items_scraped", "items_total", "success_count", "error_count", "started_at", "elapsed_seconds"];
const PROGRESS_WITH_ITEM_KEYS = [...PROGRESS_KEYS.slice(0, 7), "current_item", "started_at", "elapsed_seconds"];
const MESSAGE_KEYS = ["type", "data", "timestamp"];

const page = (done: number, total: number, ok: number, bad: number) =>
  counters({ pagesDone: done, pagesTotal: total, successCount: ok, errorCount: bad, items: ok });

/** Applies `events` and returns the frames of the last one. */
function framesOf(events: JobEvent[], state: LiveState = createLiveState()): Seed000Frame[] {
  let frames: Seed000Frame[] = [];
  for (const event of events) {
    const job = applyEvent(state, SCRAPER, event);
    frames = job === undefined ? [] : encodeEvent(event, job);
  }
  return frames;
}

interface Row {
  name: string;
  platform: Platform;
  events: (job: JobScript) => JobEvent[];
  frames: Array<{ type: string; dataKeys: string[]; itemKeys?: string[]; status?: string }>;
}

const tweet = item({
  id: "1000005",
  url: "https://twitter.com/user2/status/1000005",
  title: "user2 on X",
  text: "This is a tweet about productivity...",
  author: "@user2",
  likes: 185n,
  retweets: 65n,
  publishedAt: timestampFromMs(T0 + 5_000),
});
const video = item({ id: "abc", url: "https://youtube.com/watch?v=abc", title: "Productivity Tips", channel: "Creator 2", views: 1200n, durationSeconds: 310 });
const post = item({ id: "xyz12", url: "https://reddit.com/r/rust/comments/xyz12/t/", title: "Ownership", subreddit: "rust", score: -3n, comments: 42n });
const webPage = item({ id: "page_0123456789ab", url: "https://example.test/a", title: "A", description: "About A", wordCount: 120, linksFound: 7 });
const bare = item({ id: "page_bare", url: "https://example.test/b" });

const rows: Row[] = [
  { name: "JobStarted → progress (processing, zero counts)", platform: Platform.WEB, events: (j) => [j.started()], frames: [{ type: "progress", dataKeys: PROGRESS_KEYS, status: "processing" }] },
  {
    name: "JobProgress with a current item → progress with current_item",
    platform: Platform.YOUTUBE,
    events: (j) => [j.started(), j.progress(4_200, page(8, 20, 7, 1), video)],
    frames: [{ type: "progress", dataKeys: PROGRESS_WITH_ITEM_KEYS, status: "processing" }],
  },
  {
    name: "JobProgress without an item → progress without current_item",
    platform: Platform.WEB,
    events: (j) => [j.started(), j.progress(100, page(1, 2, 1, 0))],
    frames: [{ type: "progress", dataKeys: PROGRESS_KEYS }],
  },
  {
    name: "ItemScraped (twitter) → item_preview with the tweet fields",
    platform: Platform.TWITTER,
    events: (j) => [j.started(), j.itemScraped(5_000, tweet, page(1, 1, 1, 0))],
    frames: [{ type: "item_preview", dataKeys: ["job_id", "platform", "item"], itemKeys: ["id", "author", "text", "likes", "retweets", "timestamp", "url"] }],
  },
  {
    name: "ItemScraped (youtube) → item_preview with the video fields",
    platform: Platform.YOUTUBE,
    events: (j) => [j.started(), j.itemScraped(10, video, page(1, 1, 1, 0))],
    frames: [{ type: "item_preview", dataKeys: ["job_id", "platform", "item"], itemKeys: ["id", "title", "channel", "views", "duration"] }],
  },
  {
    name: "ItemScraped (reddit) → item_preview with the post fields",
    platform: Platform.REDDIT,
    events: (j) => [j.started(), j.itemScraped(10, post, page(1, 1, 1, 0))],
    frames: [{ type: "item_preview", dataKeys: ["job_id", "platform", "item"], itemKeys: ["id", "title", "subreddit", "score", "comments"] }],
  },
  {
    name: "ItemScraped (web) → item_preview with the page fields",
    platform: Platform.WEB,
    events: (j) => [j.started(), j.itemScraped(10, webPage, page(1, 1, 1, 0))],
    frames: [{ type: "item_preview", dataKeys: ["job_id", "platform", "item"], itemKeys: ["id", "title", "url", "description", "word_count", "links_found"] }],
  },
  {
    name: "ItemScraped leaves out fields the page did not carry",
    platform: Platform.YOUTUBE,
    events: (j) => [j.started(), j.itemScraped(10, bare, page(1, 1, 1, 0))],
    frames: [{ type: "item_preview", dataKeys: ["job_id", "platform", "item"], itemKeys: ["id"] }],
  },
  { name: "PageFailed → nothing", platform: Platform.WEB, events: (j) => [j.started(), j.pageFailed(10, page(1, 1, 0, 1))], frames: [] },
  { name: "TaskStarted → nothing", platform: Platform.WEB, events: (j) => [j.started(), j.taskStarted(10)], frames: [] },
  {
    name: "JobPaused → progress (paused)",
    platform: Platform.WEB,
    events: (j) => [j.started(), j.paused(10, page(0, 1, 0, 0))],
    frames: [{ type: "progress", dataKeys: PROGRESS_KEYS, status: "paused" }],
  },
  {
    name: "JobResumed → progress (processing)",
    platform: Platform.WEB,
    events: (j) => [j.started(), j.paused(10, page(0, 1, 0, 0)), j.resumed(20, page(0, 1, 0, 0))],
    frames: [{ type: "progress", dataKeys: PROGRESS_KEYS, status: "processing" }],
  },
  {
    name: "JobCompleted → job_complete",
    platform: Platform.REDDIT,
    events: (j) => [j.started(), j.completed(10_500, page(20, 20, 18, 2))],
    frames: [{ type: "job_complete", dataKeys: ["job_id", "platform", "total_items", "success_count", "error_count", "elapsed_seconds"] }],
  },
  {
    name: "JobFailed → progress (failed) then job_error",
    platform: Platform.TWITTER,
    events: (j) => [j.started(), j.failed(15_000, page(1, 1, 0, 1), "Rate limit exceeded. Retry after 60s.")],
    frames: [
      { type: "progress", dataKeys: PROGRESS_KEYS, status: "failed" },
      { type: "job_error", dataKeys: ["job_id", "platform", "error_message"] },
    ],
  },
  {
    name: "JobCancelled → progress (cancelled) then job_error",
    platform: Platform.WEB,
    events: (j) => [j.started(), j.cancelled(300, page(1, 5, 1, 0))],
    frames: [
      { type: "progress", dataKeys: PROGRESS_KEYS, status: "cancelled" },
      { type: "job_error", dataKeys: ["job_id", "platform", "error_message"] },
    ],
  },
];

describe("encodeEvent", () => {
  it.each(rows)("$name", (row) => {
    const script = new JobScript("abc-123", row.platform, offsetCounter());
    const frames = framesOf(row.events(script));
    expect(frames.map((frame) => frame.type)).toEqual(row.frames.map((frame) => frame.type));
    frames.forEach((frame, i) => {
      const expected = row.frames[i];
      const message = parse(frame);
      expect(keys(message)).toEqual(MESSAGE_KEYS);
      expect(message.type).toBe(frame.type);
      expect(frame.jobId).toBe("abc-123");
      expect(keys(message.data)).toEqual(expected?.dataKeys);
      if (expected?.itemKeys !== undefined) expect(keys(data(frame).item)).toEqual(expected.itemKeys);
      if (expected?.status !== undefined) expect(data(frame).status).toBe(expected.status);
    });
  });

  it("renders a youtube progress message exactly as seed 000 shows it", () => {
    const script = new JobScript("abc-123", Platform.YOUTUBE, offsetCounter());
    const [frame] = framesOf([script.started(), script.progress(4_200, page(8, 20, 7, 1), video)]);
    expect(parse(frame as Seed000Frame)).toEqual({
      type: "progress",
      data: {
        job_id: "abc-123",
        platform: "youtube",
        status: "processing",
        items_scraped: 8,
        items_total: 20,
        success_count: 7,
        error_count: 1,
        current_item: { id: "abc", title: "Productivity Tips", channel: "Creator 2" },
        started_at: "2025-11-18T19:30:00.000Z",
        elapsed_seconds: 4.2,
      },
      timestamp: "2025-11-18T19:30:04.200Z",
    });
  });

  it.each([
    [Platform.TWITTER, tweet, { id: "1000005", title: "user2 on X", author: "@user2" }],
    [Platform.REDDIT, post, { id: "xyz12", title: "Ownership", subreddit: "rust" }],
    [Platform.WEB, webPage, { id: "page_0123456789ab", title: "A", url: "https://example.test/a" }],
  ])("gives current_item the identifying field of platform %i", (platform, current, expected) => {
    const script = new JobScript("j", platform, offsetCounter());
    const [frame] = framesOf([script.started(), script.progress(10, page(1, 1, 1, 0), current)]);
    expect(data(frame as Seed000Frame).current_item).toEqual(expected);
  });

  it("renders a tweet preview with numbers and the published time", () => {
    const script = new JobScript("abc-123", Platform.TWITTER, offsetCounter());
    const [frame] = framesOf([script.started(), script.itemScraped(5_000, tweet, page(1, 1, 1, 0))]);
    expect(parse(frame as Seed000Frame)).toEqual({
      type: "item_preview",
      data: {
        job_id: "abc-123",
        platform: "twitter",
        item: {
          id: "1000005",
          author: "@user2",
          text: "This is a tweet about productivity...",
          likes: 185,
          retweets: 65,
          timestamp: "2025-11-18T19:30:05.000Z",
          url: "https://twitter.com/user2/status/1000005",
        },
      },
      timestamp: "2025-11-18T19:30:05.000Z",
    });
  });

  it("renders job_complete with pages_done as total_items and the elapsed time", () => {
    const script = new JobScript("abc-123", Platform.REDDIT, offsetCounter());
    const [frame] = framesOf([script.started(), script.completed(10_500, page(20, 20, 18, 2))]);
    expect(parse(frame as Seed000Frame)).toEqual({
      type: "job_complete",
      data: { job_id: "abc-123", platform: "reddit", total_items: 20, success_count: 18, error_count: 2, elapsed_seconds: 10.5 },
      timestamp: "2025-11-18T19:30:10.500Z",
    });
  });

  it.each([
    ["with a reason", "too slow", "Job cancelled: too slow"],
    ["without a reason", "", "Job cancelled: by request"],
  ])("words the cancellation %s", (_name, reason, message) => {
    const script = new JobScript("c", Platform.WEB, offsetCounter());
    const frames = framesOf([script.started(), script.cancelled(10, page(0, 1, 0, 0), reason)]);
    expect(data(frames[1] as Seed000Frame).error_message).toBe(message);
  });
});

describe("connection-time messages", () => {
  function stateWithJobs(): LiveState {
    const state = createLiveState();
    const offsets = offsetCounter();
    const running = new JobScript("job-id-1", Platform.TWITTER, offsets);
    const done = new JobScript("job-done", Platform.TWITTER, offsets);
    for (const event of [
      running.started(),
      running.itemScraped(100, tweet, page(1, 20, 1, 0), 500),
      done.started(),
      done.completed(200, page(0, 0, 0, 0)),
    ]) {
      applyEvent(state, SCRAPER, event);
    }
    return state;
  }

  it("initial_state holds the active jobs and platform stats", () => {
    expect(parse(encodeInitialState(stateWithJobs(), T0 + 7_500))).toEqual({
      type: "initial_state",
      data: {
        active_jobs: {
          "job-id-1": {
            job_id: "job-id-1",
            platform: "twitter",
            status: "processing",
            items_scraped: 1,
            items_total: 20,
            success_count: 1,
            error_count: 0,
            started_at: "2025-11-18T19:30:00.000Z",
            elapsed_seconds: 7.5,
          },
        },
        platform_stats: { twitter: { platform: "twitter", total_items: 1, success_count: 1, error_count: 0, avg_processing_time: 0.5 } },
      },
      timestamp: "2025-11-18T19:30:07.500Z",
    });
  });

  it("a job's initial_state holds just that job, even when it ended", () => {
    const state = stateWithJobs();
    const message = parse(encodeJobInitialState(state.jobs.get("job-done")!, state, T0 + 9_000));
    expect(keys(message)).toEqual(MESSAGE_KEYS);
    expect(keys(message.data)).toEqual(["active_jobs", "platform_stats"]);
    expect(keys((message.data as Json).active_jobs)).toEqual(["job-done"]);
    expect(((message.data as Json).active_jobs as Record<string, Json>)["job-done"]).toMatchObject({ status: "completed", elapsed_seconds: 0.2 });
  });

  it("stats has no timestamp and carries interval_seconds", () => {
    const message = parse(encodeStats(encodeStatsData(stateWithJobs(), T0 + 1_000), 3));
    expect(keys(message)).toEqual(["type", "data", "interval_seconds"]);
    expect(message.type).toBe("stats");
    expect(message.interval_seconds).toBe(3);
    expect(keys(message.data)).toEqual(["platform_stats", "active_jobs_count", "active_jobs"]);
    expect((message.data as Json).active_jobs_count).toBe(1);
    expect(keys((message.data as Json).active_jobs)).toEqual(["job-id-1"]);
  });

  it("pong has no timestamp", () => {
    expect(JSON.parse(PONG_JSON)).toEqual({ type: "pong", message: "Connection alive" });
  });

  it("an unknown job's job_error names the id and carries a timestamp", () => {
    expect(parse(encodeUnknownJob("nope", T0))).toEqual({
      type: "job_error",
      data: { job_id: "nope", error_message: "Unknown job: nope" },
      timestamp: "2025-11-18T19:30:00.000Z",
    });
  });

  it.each([
    [JobStatus.RUNNING, [], ["progress"]],
    [JobStatus.COMPLETED, ["job_complete"], ["progress", "job_complete"]],
    [JobStatus.FAILED, ["progress", "job_error"], ["progress", "job_error"]],
    [JobStatus.CANCELLED, ["progress", "job_error"], ["progress", "job_error"]],
  ])("a job in status %i replays terminal frames %j and snapshot frames %j", (status, terminal, snapshot) => {
    const job = recordFromJob(
      create(JobSchema, {
        id: "s",
        platform: Platform.WEB,
        status,
        counters: { pagesDone: 2, pagesTotal: 2, successCount: 2 },
        startedAt: timestampFromMs(T0),
        finishedAt: timestampFromMs(T0 + 1_000),
        error: "boom",
      }),
      SCRAPER,
    );
    expect(encodeTerminalFrames(job).map((frame) => frame.type)).toEqual(terminal);
    const frames = encodeJobState(job, T0 + 5_000);
    expect(frames.map((frame) => frame.type)).toEqual(snapshot);
    for (const frame of frames) expect(keys(parse(frame))).toEqual(MESSAGE_KEYS);
  });
});
