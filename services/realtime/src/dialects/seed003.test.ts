import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { JobStatus, Platform, type JobEvent } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { counters, item, JobScript, offsetCounter, T0 } from "../test-support/events.js";
import { createLiveState, type JobRecord, type LiveState } from "../state/live-state.js";
import { applyEvent } from "../state/reducer.js";
import { Delivery } from "../ws/connection.js";
import {
  encodeFileJobEvent,
  encodeFileJobOpening,
  encodeFileJobState,
  encodeUnknownFileJob,
  SEED003_JOB_CHANNEL,
  SEED003_JOB_DIALECT,
  SEED003_SCAN_CHANNEL,
  SEED003_SCAN_DIALECT,
  type Seed003Frame,
} from "./seed003.js";
import { encodeScanError, encodeScanEvent, encodeScanJobState, RESULT_LOST_MESSAGE } from "./seed003-scan.js";

const SCRAPER = "127.0.0.1:5001";
const JOB = "abc-123";
type Json = Record<string, unknown>;

const page = (done: number, total: number, ok: number, bad: number) => counters({ pagesDone: done, pagesTotal: total, successCount: ok, errorCount: bad, items: ok });
const webPage = item({ id: "page_1", url: "https://example.test/docs/report", title: "Report" });

/** A decoded frame with the delivery class it travels with. */
interface Sent {
  message: Json;
  delivery: Delivery;
}

const decoded = (frames: readonly Seed003Frame[]): Sent[] => frames.map((frame) => ({ message: JSON.parse(frame.json) as Json, delivery: frame.delivery }));

function applyAll(events: JobEvent[], state: LiveState = createLiveState()): { job: JobRecord; last: JobEvent } {
  let job: JobRecord | undefined;
  for (const event of events) job = applyEvent(state, SCRAPER, event) ?? job;
  const last = events.at(-1);
  if (job === undefined || last === undefined) throw new Error("no event applied");
  return { job, last };
}

/** Applies `events` and encodes the last one for `/ws/{job_id}`. */
function jobFramesOf(events: JobEvent[]): Seed003Frame[] {
  const { job, last } = applyAll(events);
  return encodeFileJobEvent(last, job);
}

const scanProgress = (j: JobScript, ms: number, scanned: number, total: number, currentPath: string) =>
  j.event(ms, { case: "scanProgress", value: { scanned, total, currentPath } });

const scanCompleted = (j: JobScript, ms: number) =>
  j.event(ms, {
    case: "scanCompleted",
    value: {
      files: [
        { path: "/docs/report.pdf", size: 1_024_000n, modified: timestampFromMs(Date.parse("2024-01-15T10:00:00Z")), extension: ".pdf" },
        { path: "/docs/README", size: 12n, modified: timestampFromMs(Date.parse("2024-02-01T08:30:15.250Z")), extension: "" },
      ],
      count: 2,
      totalSize: 1_024_012n,
      warnings: ["Permission denied: /docs/private"],
    },
  });

const pageFailed = (j: JobScript, ms: number, url: string, reason: string) =>
  j.event(ms, { case: "pageFailed", value: { url, errorKind: 1, httpStatus: 404, message: reason, counters: page(3, 9, 2, 1) } });

const fileProcessing = (current: string, processed: number, total: number, status = "Processing") => ({
  message: { type: "file_processing", current_file: current, processed_files: processed, total_files: total, status },
  delivery: Delivery.CONFLATE,
});
const fileCompleted = (processed: number, total: number) => ({ message: { type: "file_completed", processed_files: processed, total_files: total }, delivery: Delivery.CONFLATE });
const jobError = (message: string, delivery: Delivery = Delivery.ALWAYS) => ({ message: { type: "error", message }, delivery });
const jobCompleted = { message: { type: "job_completed", message: "Job completed successfully" }, delivery: Delivery.ALWAYS };

interface Row {
  name: string;
  events: (j: JobScript) => JobEvent[];
  expected: Sent[];
}

const jobRows: Row[] = [
  { name: "JobStarted → nothing (job_started is each connection's opening)", events: (j) => [j.started()], expected: [] },
  {
    name: "JobProgress with a current item → file_processing for its URL",
    events: (j) => [j.started(), j.progress(100, page(8, 20, 7, 1), webPage)],
    expected: [fileProcessing("https://example.test/docs/report", 8, 20)],
  },
  {
    name: "JobProgress keeps the last item when the event carries none",
    events: (j) => [j.started(), j.progress(100, page(1, 3, 1, 0), webPage), j.progress(200, page(2, 3, 1, 1))],
    expected: [fileProcessing("https://example.test/docs/report", 2, 3)],
  },
  { name: "JobProgress before any item → file_completed with the counts", events: (j) => [j.started(), j.progress(100, page(1, 4, 0, 1))], expected: [fileCompleted(1, 4)] },
  { name: "ItemScraped → file_completed with the counts after the page", events: (j) => [j.started(), j.itemScraped(100, webPage, page(1, 5, 1, 0))], expected: [fileCompleted(1, 5)] },
  {
    name: "PageFailed → file_completed, then an error naming the URL and the reason (droppable)",
    events: (j) => [j.started(), pageFailed(j, 100, "https://example.test/missing", "HTTP 404 Not Found")],
    expected: [fileCompleted(3, 9), jobError("Failed to process https://example.test/missing: HTTP 404 Not Found", Delivery.DROP_COUNTED)],
  },
  {
    name: "PageFailed without a message → the error names the URL alone",
    events: (j) => [j.started(), pageFailed(j, 100, "https://example.test/x", "")],
    expected: [fileCompleted(3, 9), jobError("Failed to process https://example.test/x", Delivery.DROP_COUNTED)],
  },
  {
    name: "ScanProgress → file_processing for the current path",
    events: (j) => [j.started(), scanProgress(j, 100, 100, 500, "/documents/subfolder/file.txt")],
    expected: [fileProcessing("/documents/subfolder/file.txt", 100, 500)],
  },
  { name: "ScanCompleted → nothing (the JobProgress after it has the final counts)", events: (j) => [j.started(), scanCompleted(j, 100)], expected: [] },
  { name: "a scan's JobProgress → file_completed", events: (j) => [j.started(), scanCompleted(j, 100), j.progress(101, page(2, 2, 2, 0))], expected: [fileCompleted(2, 2)] },
  { name: "JobPaused → the progress message, status Paused", events: (j) => [j.started(), j.progress(50, page(1, 2, 1, 0), webPage), j.paused(100, page(1, 2, 1, 0))], expected: [fileProcessing("https://example.test/docs/report", 1, 2, "Paused")] },
  { name: "JobPaused without an item → file_completed", events: (j) => [j.started(), j.paused(100, page(0, 1, 0, 0))], expected: [fileCompleted(0, 1)] },
  {
    name: "JobResumed → the progress message, status Processing",
    events: (j) => [j.started(), j.progress(50, page(1, 2, 1, 0), webPage), j.paused(100, page(1, 2, 1, 0)), j.resumed(200, page(1, 2, 1, 0))],
    expected: [fileProcessing("https://example.test/docs/report", 1, 2)],
  },
  { name: "JobCompleted → job_completed", events: (j) => [j.started(), j.completed(1_000, page(20, 20, 18, 2))], expected: [jobCompleted] },
  { name: "JobFailed → error with the failure", events: (j) => [j.started(), j.failed(1_000, page(1, 1, 0, 1), "every start URL failed: https://example.test/ (HTTP 404)")], expected: [jobError("every start URL failed: https://example.test/ (HTTP 404)")] },
  { name: "JobFailed without a message → error 'Job failed'", events: (j) => [j.started(), j.failed(1_000, page(0, 0, 0, 0), "")], expected: [jobError("Job failed")] },
  { name: "JobCancelled → error 'Job cancelled: <reason>'", events: (j) => [j.started(), j.cancelled(1_000, page(3, 9, 3, 0), "requested by the client")], expected: [jobError("Job cancelled: requested by the client")] },
  { name: "JobCancelled without a reason → 'Job cancelled: by request'", events: (j) => [j.started(), j.cancelled(1_000, page(3, 9, 3, 0))], expected: [jobError("Job cancelled: by request")] },
  { name: "TaskStarted → nothing", events: (j) => [j.started(), j.taskStarted(10)], expected: [] },
  { name: "anything after the terminal event → nothing", events: (j) => [j.started(), j.completed(10, page(2, 2, 2, 0)), j.progress(20, page(3, 3, 3, 0), webPage)], expected: [] },
  {
    name: "PageSkipped → nothing",
    events: (j) => [j.started(), j.event(10, { case: "pageSkipped", value: { url: "https://example.test/private", reason: 1, counters: page(0, 1, 0, 0) } })],
    expected: [],
  },
];

describe("encodeFileJobEvent (/ws/{job_id})", () => {
  it.each(jobRows)("$name", (row) => {
    const frames = jobFramesOf(row.events(new JobScript(JOB, Platform.WEB, offsetCounter())));
    expect(decoded(frames)).toEqual(row.expected);
    for (const frame of frames) {
      expect(frame.jobId).toBe(JOB);
      expect(frame.type).toBe((JSON.parse(frame.json) as Json).type);
    }
  });

  it("writes every message's keys in the seed's order", () => {
    const j = new JobScript(JOB, Platform.WEB, offsetCounter());
    const events = [j.started(), j.progress(10, page(1, 2, 1, 0), webPage), pageFailed(j, 20, "https://example.test/m", "HTTP 404"), j.completed(30, page(3, 9, 2, 1))];
    const state = createLiveState();
    const keys = events.flatMap((event) => {
      const job = applyEvent(state, SCRAPER, event) as JobRecord;
      return encodeFileJobEvent(event, job).map((frame) => Object.keys(JSON.parse(frame.json) as Json));
    });
    expect(keys).toEqual([
      ["type", "current_file", "processed_files", "total_files", "status"],
      ["type", "processed_files", "total_files"],
      ["type", "message"],
      ["type", "message"],
    ]);
  });

  it("as a dialect: same bytes as the encoder, keyed on the job so a terminal message follows its pending progress", () => {
    const j = new JobScript(JOB, Platform.WEB, offsetCounter());
    const { job, last } = applyAll([j.started(), pageFailed(j, 100, "https://example.test/m", "HTTP 500")]);
    const frames = SEED003_JOB_DIALECT.encodeEvent(last, job);
    expect(SEED003_JOB_DIALECT.channel).toBe(SEED003_JOB_CHANNEL);
    expect(frames.map((frame) => frame.data.toString())).toEqual(encodeFileJobEvent(last, job).map((frame) => frame.json));
    expect(frames.map((frame) => [frame.jobId, frame.key ?? frame.jobId, frame.delivery])).toEqual([
      [JOB, JOB, Delivery.CONFLATE],
      [JOB, JOB, Delivery.DROP_COUNTED],
    ]);
  });
});

describe("encodeFileJobOpening and encodeFileJobState", () => {
  const opening = (events: (j: JobScript) => JobEvent[]) => {
    const { job } = applyAll(events(new JobScript(JOB, Platform.WEB, offsetCounter())));
    return { job, sent: decoded(encodeFileJobOpening(job)) };
  };
  const started = (total: number) => ({ message: { type: "job_started", total_files: total }, delivery: Delivery.ALWAYS });

  it.each<{ name: string; events: (j: JobScript) => JobEvent[]; expected: Sent[] }>([
    { name: "a job that has just started: job_started alone", events: (j) => [j.started()], expected: [started(0)] },
    {
      name: "a running crawl: job_started with its total, then file_processing for its current item",
      events: (j) => [j.started(), j.itemScraped(10, webPage, page(1, 11, 1, 0)), j.progress(20, page(4, 30, 3, 1), webPage)],
      expected: [started(30), fileProcessing("https://example.test/docs/report", 4, 30)],
    },
    {
      name: "a running scan (no current item): job_started, then file_completed with its counts",
      events: (j) => [j.started(), scanProgress(j, 10, 100, 500, "/a"), j.progress(11, page(100, 500, 100, 0))],
      expected: [started(500), fileCompleted(100, 500)],
    },
    {
      name: "a paused crawl: file_processing with status Paused",
      events: (j) => [j.started(), j.progress(10, page(2, 5, 2, 0), webPage), j.paused(20, page(2, 5, 2, 0))],
      expected: [started(5), fileProcessing("https://example.test/docs/report", 2, 5, "Paused")],
    },
    {
      name: "a completed job: job_started, its final counts, job_completed",
      events: (j) => [j.started(), j.progress(10, page(20, 20, 18, 2), webPage), j.completed(20, page(20, 20, 18, 2))],
      expected: [started(20), fileCompleted(20, 20), jobCompleted],
    },
    {
      name: "a job that failed before any page: job_started, error",
      events: (j) => [j.started(), j.failed(20, page(0, 0, 0, 0), "Failed to scan directory: Permission denied: /")],
      expected: [started(0), jobError("Failed to scan directory: Permission denied: /")],
    },
    {
      name: "a cancelled job: job_started, its counts, error 'Job cancelled: …'",
      events: (j) => [j.started(), j.itemScraped(10, webPage, page(3, 9, 3, 0)), j.cancelled(20, page(3, 9, 3, 0), "enough")],
      expected: [started(9), fileCompleted(3, 9), jobError("Job cancelled: enough")],
    },
  ])("$name", ({ events, expected }) => {
    const { job, sent } = opening(events);
    expect(sent).toEqual(expected);
    // A snapshot subscriber already had job_started: it gets the rest.
    expect(decoded(encodeFileJobState(job))).toEqual(expected.slice(1));
    const dialect = SEED003_JOB_DIALECT.encodeJobState(job, T0);
    expect(dialect.map((frame) => ({ message: JSON.parse(frame.data.toString()) as Json, delivery: frame.delivery }))).toEqual(expected.slice(1));
  });

  it("answers an unknown job with the seed's error form naming the id", () => {
    expect(JSON.parse(encodeUnknownFileJob("nope-42"))).toEqual({ type: "error", message: "Unknown job: nope-42" });
  });
});

describe("encodeScanEvent (/ws/scan/{scan_id})", () => {
  const scanRows: Row[] = [
    {
      name: "ScanProgress → progress (conflated)",
      events: (j) => [j.started(), scanProgress(j, 10, 100, 500, "/documents/subfolder/file.txt")],
      expected: [{ message: { type: "progress", scanned: 100, total: 500, current_path: "/documents/subfolder/file.txt" }, delivery: Delivery.CONFLATE }],
    },
    {
      name: "ScanCompleted → completed with the files, numeric sizes and ISO times",
      events: (j) => [j.started(), scanCompleted(j, 10)],
      expected: [
        {
          message: {
            type: "completed",
            files: [
              { path: "/docs/report.pdf", size: 1_024_000, modified: "2024-01-15T10:00:00.000Z", extension: ".pdf" },
              { path: "/docs/README", size: 12, modified: "2024-02-01T08:30:15.250Z", extension: "" },
            ],
            count: 2,
            total_size: 1_024_012,
            warnings: ["Permission denied: /docs/private"],
          },
          delivery: Delivery.ALWAYS,
        },
      ],
    },
    { name: "JobFailed → error with the scraper's message", events: (j) => [j.started(), j.failed(10, page(0, 0, 0, 0), "Failed to scan directory: Permission denied: /")], expected: [jobError("Failed to scan directory: Permission denied: /")] },
    { name: "JobFailed without a message → error 'Failed to scan directory'", events: (j) => [j.started(), j.failed(10, page(0, 0, 0, 0), "")], expected: [jobError("Failed to scan directory")] },
    { name: "JobCancelled → error 'Scan cancelled: <reason>'", events: (j) => [j.started(), j.cancelled(10, page(4, 9, 4, 0), "requested by the client")], expected: [jobError("Scan cancelled: requested by the client")] },
    { name: "JobCancelled without a reason → 'Scan cancelled: by request'", events: (j) => [j.started(), j.cancelled(10, page(4, 9, 4, 0))], expected: [jobError("Scan cancelled: by request")] },
    { name: "JobStarted → nothing", events: (j) => [j.started()], expected: [] },
    { name: "JobProgress → nothing", events: (j) => [j.started(), j.progress(10, page(4, 9, 4, 0))], expected: [] },
    { name: "JobCompleted → nothing (completed came with ScanCompleted)", events: (j) => [j.started(), j.completed(10, page(2, 2, 2, 0))], expected: [] },
  ];

  it.each(scanRows)("$name", (row) => {
    const { job, last } = applyAll(row.events(new JobScript(JOB, Platform.UNSPECIFIED, offsetCounter(), "")));
    const frames = encodeScanEvent(last);
    expect(decoded(frames)).toEqual(row.expected);
    expect(frames.every((frame) => frame.jobId === JOB)).toBe(true);
    const dialect = SEED003_SCAN_DIALECT.encodeEvent(last, job);
    expect(SEED003_SCAN_DIALECT.channel).toBe(SEED003_SCAN_CHANNEL);
    expect(dialect.map((frame) => [frame.data.toString(), frame.delivery, frame.key ?? frame.jobId])).toEqual(frames.map((frame) => [frame.json, frame.delivery, JOB]));
  });

  it("encodes nothing for a scan that has already ended but its terminal event", () => {
    const j = new JobScript(JOB, Platform.UNSPECIFIED, offsetCounter(), "");
    const { job, last } = applyAll([j.started(), j.cancelled(10, page(0, 0, 0, 0), "x"), scanProgress(j, 20, 1, 1, "/a")]);
    expect(SEED003_SCAN_DIALECT.encodeEvent(last, job)).toEqual([]);
  });

  it("writes the completed message's keys in the seed's order", () => {
    const j = new JobScript(JOB, Platform.UNSPECIFIED, offsetCounter(), "");
    const [frame] = encodeScanEvent(scanCompleted(j, 10));
    const message = JSON.parse(frame?.json ?? "{}") as { files: Json[] };
    expect(Object.keys(message)).toEqual(["type", "files", "count", "total_size", "warnings"]);
    expect(Object.keys(message.files[0] ?? {})).toEqual(["path", "size", "modified", "extension"]);
  });

  it.each<[string, JobStatus, string, Sent[]]>([
    ["failed", JobStatus.FAILED, "Failed to scan directory: Directory not found: /x", [jobError("Failed to scan directory: Directory not found: /x")]],
    ["cancelled", JobStatus.CANCELLED, "the scan socket closed", [jobError("Scan cancelled: the scan socket closed")]],
    ["completed, its file list gone with the log", JobStatus.COMPLETED, "", [jobError(RESULT_LOST_MESSAGE)]],
    ["running", JobStatus.RUNNING, "", []],
  ])("encodeScanJobState of a %s scan", (_name, status, error, expected) => {
    const j = new JobScript(JOB, Platform.UNSPECIFIED, offsetCounter(), "");
    const { job } = applyAll([j.started()]);
    Object.assign(job, { status, error });
    expect(decoded(encodeScanJobState(job))).toEqual(expected);
  });

  it("renders the socket's own errors in the seed's form", () => {
    expect(JSON.parse(encodeScanError("Invalid message: path is required"))).toEqual({ type: "error", message: "Invalid message: path is required" });
  });
});
