import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { JobCountersSchema, JobKind, JobSchema, JobStatus, Platform, ScanSpecSchema, type JobEvent } from "@trawl/proto";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ScanConfig } from "../config.js";
import { MemoryEventLog } from "../events/memory-event-log.js";
import { resolveScanRequest } from "../scan/scan-request.js";
import type { StoredJob } from "../store/store.js";
import { JobService } from "./job-service.js";
import { JobState } from "./job-state.js";
import { ScanRun } from "./scan-run.js";

let root: string;
let config: ScanConfig;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "trawl-scan-run-"));
  mkdirSync(join(root, "docs", "sub"), { recursive: true });
  writeFileSync(join(root, "docs", "a.md"), "# a");
  writeFileSync(join(root, "docs", "sub", "b.json"), "{}");
  config = { roots: [root], maxFiles: 100 };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function setup() {
  const log = new MemoryEventLog(100_000);
  const staged: StoredJob[] = [];
  const persist = { stagePage: () => undefined, stageJob: (_jobId: string, row: () => StoredJob) => void staged.push(row()) };
  const ctx = { log, logger: pino({ level: "silent" }), persist, scan: config };
  const events = async (jobId: string): Promise<JobEvent[]> => (await log.read(0n, 1_000_000, jobId)).events;
  return { log, ctx, staged, events };
}

const scanJob = (path: string, recursive = true) =>
  JobState.scanJob("scan-1", 0, Platform.UNSPECIFIED, create(ScanSpecSchema, { path, recursive, maxFiles: config.maxFiles }));

describe("ScanRun", () => {
  it("emits JobStarted, progress, ScanCompleted, a final JobProgress and JobCompleted, staging the job row with each", async () => {
    const { ctx, staged, events } = setup();
    const job = scanJob("docs");
    const run = new ScanRun(job, ctx);
    run.start(await resolveScanRequest({ path: "docs", recursive: true, maxFiles: 0 }, config));
    expect(job.status).toBe(JobStatus.RUNNING);
    await run.done;
    const all = await events(job.id);
    const kinds = all.map((e) => e.kind.case);
    expect(kinds[0]).toBe("started");
    expect(kinds).toContain("scanProgress");
    expect(kinds.slice(-3)).toEqual(["scanCompleted", "progress", "completed"]);
    expect(staged).toHaveLength(all.length);
    expect(staged.at(-1)?.job.status).toBe(JobStatus.COMPLETED);
    expect(staged.at(-1)?.job.kind).toBe(JobKind.SCAN);
    expect(staged.at(-1)?.job.lastSeq).toBe(BigInt(all.length));
    const result = all.find((e) => e.kind.case === "scanCompleted");
    expect(result?.kind.case === "scanCompleted" && result.kind.value.files.map((f) => f.path)).toEqual(["/docs/a.md", "/docs/sub/b.json"]);
    expect(job.counters).toMatchObject({ files: 2, totalSize: 5, pagesDone: 2, pagesTotal: 2, successCount: 2 });
  });

  it("lists one level when not recursive", async () => {
    const { ctx, events } = setup();
    const job = scanJob("docs", false);
    const run = new ScanRun(job, ctx);
    run.start(await resolveScanRequest({ path: "docs", recursive: false, maxFiles: 0 }, config));
    await run.done;
    const result = (await events(job.id)).find((e) => e.kind.case === "scanCompleted");
    expect(result?.kind.case === "scanCompleted" && result.kind.value.files.map((f) => f.path)).toEqual(["/docs/a.md"]);
  });

  it("fails with the scanner's message when the directory vanishes before it is read", async () => {
    const { ctx, events } = setup();
    mkdirSync(join(root, "gone"));
    const plan = await resolveScanRequest({ path: "gone", recursive: true, maxFiles: 0 }, config);
    rmSync(join(root, "gone"), { recursive: true });
    const job = scanJob("gone");
    const run = new ScanRun(job, ctx);
    run.start(plan);
    await run.done;
    const all = await events(job.id);
    expect(all.map((e) => e.kind.case)).toEqual(["started", "progress", "failed"]);
    const end = all.at(-1);
    expect(end?.kind.case === "failed" && end.kind.value.errorMessage).toMatch(/^Failed to scan directory: .*\/gone/);
    expect(job.status).toBe(JobStatus.FAILED);
    expect(job.error).toMatch(/Failed to scan directory/);
  });

  it("stops for shutdown without a terminal event", async () => {
    const { ctx, events } = setup();
    const job = scanJob("docs");
    const run = new ScanRun(job, ctx);
    run.start(await resolveScanRequest({ path: "docs", recursive: true, maxFiles: 0 }, config));
    await run.stop();
    const kinds = (await events(job.id)).map((e) => e.kind.case);
    expect(kinds).toEqual(["started"]);
    expect(job.status).toBe(JobStatus.RUNNING);
  });

  it("refuses pause and resume", () => {
    const { ctx } = setup();
    const run = new ScanRun(scanJob("docs"), ctx);
    expect(run.pause()).toBe(false);
    expect(run.resume()).toBe(false);
  });

  it("after a restart runs a stored RUNNING scan again from the start, JobResumed{recovered} first", async () => {
    const { ctx, events } = setup();
    const stored = create(JobSchema, {
      id: "scan-recovered",
      kind: JobKind.SCAN,
      status: JobStatus.RUNNING,
      scan: { path: "docs", recursive: true, maxFiles: 100 },
      counters: create(JobCountersSchema, { pagesDone: 1, pagesTotal: 4, successCount: 1, files: 1 }),
    });
    const job = JobState.fromProto(stored, 3, []);
    expect(job.kind).toBe(JobKind.SCAN);
    expect(job.counters.files).toBe(1);
    const run = new ScanRun(job, ctx);
    run.recover();
    await run.done;
    const all = await events(job.id);
    const first = all[0];
    expect(first?.kind.case).toBe("resumed");
    if (first?.kind.case !== "resumed") return;
    expect(first.kind.value.recovered).toBe(true);
    expect(first.kind.value.counters?.files).toBe(0);
    expect(all.map((e) => e.kind.case).slice(-3)).toEqual(["scanCompleted", "progress", "completed"]);
    expect(job.counters.files).toBe(2);
  });

  it("after a restart fails a stored scan whose directory is gone", async () => {
    const { ctx, events } = setup();
    const stored = create(JobSchema, { id: "scan-gone", kind: JobKind.SCAN, status: JobStatus.RUNNING, scan: { path: "nowhere", recursive: true } });
    const job = JobState.fromProto(stored, 4, []);
    const run = new ScanRun(job, ctx);
    run.recover();
    await run.done;
    const all = await events(job.id);
    expect(all.map((e) => e.kind.case)).toEqual(["resumed", "progress", "failed"]);
    const end = all.at(-1);
    expect(end?.kind.case === "failed" && end.kind.value.errorMessage).toMatch(/Directory not found/);
  });
});

describe("JobService scans", () => {
  it("registers a scan outside every platform's statistics, and cancels it", async () => {
    const log = new MemoryEventLog(100_000);
    const jobs = new JobService({
      log,
      crawl: { globalRatePerSec: 0 } as never,
      progressIntervalMs: 0,
      logger: pino({ level: "silent" }),
      scan: config,
    });
    const plan = await resolveScanRequest({ path: "docs", recursive: true, maxFiles: 0 }, config);
    const job = jobs.startScan(plan, "docs");
    expect(job.toProto().scan).toMatchObject({ path: "docs", recursive: true, maxFiles: 100 });
    expect(jobs.pause(job.id)).toEqual({ ok: false, reason: "not_running" });
    expect(jobs.resume(job.id)).toEqual({ ok: false, reason: "not_paused" });
    await jobs.cancel(job.id, "stop");
    expect(job.status).toBe(JobStatus.CANCELLED);
    expect(job.error).toBe("stop");
    expect(jobs.stats()).toMatchObject({ platforms: [], activeJobs: 0, totalJobs: 1 });
  });
});
