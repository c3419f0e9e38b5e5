/**
 * Runs one directory scan job (seed 003) and emits its events in the
 * contract's order: JobStarted (or JobResumed{recovered} after a restart),
 * ScanProgress each followed by a JobProgress while the scanner reports,
 * then ScanCompleted, one final JobProgress and JobCompleted — or a final
 * JobProgress and JobCancelled / JobFailed — and nothing after it.
 * A scan has no frontier: recovered after a restart, it runs again from the start.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  JobCancelledSchema,
  JobCompletedSchema,
  JobFailedSchema,
  JobProgressSchema,
  JobResumedSchema,
  JobStartedSchema,
  JobStatus,
  ScanCompletedSchema,
  ScannedFileSchema,
  ScanProgressSchema,
} from "@trawl/proto";
import type { Logger } from "pino";
import type { ScanConfig } from "../config.js";
import type { EventLog, JobEventKind } from "../events/event-log.js";
import { scanDirectory, type ScanProgressInfo, type ScanResult } from "../scan/scan-directory.js";
import { ScanRequestError } from "../scan/scan-error.js";
import { resolveScanRequest, type ScanPlan } from "../scan/scan-request.js";
import type { JobPersistence } from "./job-run.js";
import type { JobState } from "./job-state.js";

export interface ScanRunContext {
  log: EventLog;
  logger: Logger;
  /** Where the job row is staged beside its events; absent, the job lives in memory only. */
  persist?: JobPersistence | undefined;
  /** The roots and file limit a recovered scan's path is resolved against again. */
  scan: ScanConfig;
}

/** Abort reason of a CancelJob. */
class CancelRequest {
  constructor(readonly reason: string) {}
}
/** Abort reason of a shutdown: the scan stops where it is and runs again on the next start. */
class StopRequest {}

export class ScanRun {
  private readonly controller = new AbortController();
  private finished: Promise<void> | undefined;

  constructor(
    readonly job: JobState,
    private readonly ctx: ScanRunContext,
  ) {
    if (job.scan === undefined) throw new TypeError(`job ${job.id} is not a scan`);
  }

  /** Emits JobStarted synchronously (so the StartJob response reflects it), then scans in the background. */
  start(plan: ScanPlan): void {
    const { job } = this;
    job.status = JobStatus.RUNNING;
    job.startedAt = new Date();
    this.emit({ case: "started", value: create(JobStartedSchema, { job: job.toProto() }) });
    this.ctx.logger.info({ jobId: job.id, path: plan.shown, recursive: plan.recursive }, "scan started");
    this.finished = this.run(Promise.resolve(plan));
  }

  /**
   * After a restart: a scan keeps no frontier, so it runs again from the
   * start, its counters back at zero, after a JobResumed{recovered}. Its
   * path is resolved again (the roots or the directory may have changed;
   * then the job fails).
   */
  recover(): void {
    const { job } = this;
    const scan = job.scan;
    if (scan === undefined) throw new TypeError(`job ${job.id} is not a scan`);
    Object.assign(job.counters, { pagesDone: 0, pagesTotal: 0, successCount: 0, errorCount: 0, files: 0, totalSize: 0 });
    job.status = JobStatus.RUNNING;
    job.startedAt ??= new Date();
    this.emit({ case: "resumed", value: create(JobResumedSchema, { counters: job.countersProto(), recovered: true }) });
    this.ctx.logger.info({ jobId: job.id, path: scan.path }, "scan recovered; running it again");
    this.finished = this.run(resolveScanRequest({ path: scan.path, recursive: scan.recursive, maxFiles: scan.maxFiles }, this.ctx.scan));
  }

  /** Scans cannot be paused. */
  pause(): boolean {
    return false;
  }

  /** Scans cannot be paused, so none resumes. */
  resume(): boolean {
    return false;
  }

  /** Resolves once the terminal event has been emitted (or the scan stopped for shutdown). */
  get done(): Promise<void> {
    return this.finished ?? Promise.resolve();
  }

  /** Aborts the scan at its next entry; the job ends CANCELLED with its counts so far. */
  cancel(reason: string): Promise<void> {
    if (!this.controller.signal.aborted) this.controller.abort(new CancelRequest(reason));
    return this.done;
  }

  /** Shutdown: aborts without a terminal event; the job stays unfinished and runs again on the next start. */
  stop(): Promise<void> {
    if (!this.controller.signal.aborted) this.controller.abort(new StopRequest());
    return this.done;
  }

  private async run(planned: Promise<ScanPlan>): Promise<void> {
    const { job } = this;
    let result: ScanResult | undefined;
    let failure: unknown;
    try {
      const plan = await planned;
      this.controller.signal.throwIfAborted();
      result = await scanDirectory({
        root: plan.root,
        path: plan.directory,
        recursive: plan.recursive,
        maxFiles: plan.maxFiles,
        signal: this.controller.signal,
        onProgress: (progress) => this.onProgress(progress),
      });
    } catch (err) {
      failure = err;
    }
    const reason: unknown = this.controller.signal.aborted ? this.controller.signal.reason : undefined;
    if (reason instanceof StopRequest) {
      this.ctx.logger.info({ jobId: job.id, scanned: job.counters.pagesDone }, "scan stopped for shutdown");
      return;
    }
    if (reason instanceof CancelRequest) {
      this.end(JobStatus.CANCELLED, reason.reason);
    } else if (result === undefined) {
      if (!(failure instanceof ScanRequestError)) this.ctx.logger.error({ jobId: job.id, err: failure }, "scan crashed");
      this.end(JobStatus.FAILED, failure instanceof ScanRequestError ? failure.message : "internal error while scanning");
    } else {
      this.complete(result);
    }
  }

  private onProgress(progress: ScanProgressInfo): void {
    const c = this.job.counters;
    c.pagesDone = progress.scanned;
    c.pagesTotal = progress.total;
    c.successCount = progress.scanned;
    c.files = progress.scanned;
    this.emit({
      case: "scanProgress",
      value: create(ScanProgressSchema, { scanned: progress.scanned, total: progress.total, currentPath: progress.currentPath }),
    });
    this.emitProgress();
  }

  private complete(result: ScanResult): void {
    const { job } = this;
    const c = job.counters;
    c.pagesDone = result.count;
    c.pagesTotal = result.count;
    c.successCount = result.count;
    c.files = result.count;
    c.totalSize = result.totalSize;
    const files = result.files.map((file) =>
      create(ScannedFileSchema, { path: file.path, size: BigInt(file.size), modified: timestampFromDate(file.modified), extension: file.extension }),
    );
    this.emit({
      case: "scanCompleted",
      value: create(ScanCompletedSchema, { files, count: result.count, totalSize: BigInt(result.totalSize), warnings: result.warnings }),
    });
    this.end(JobStatus.COMPLETED, "");
  }

  /** The final JobProgress and the terminal event. */
  private end(status: JobStatus.COMPLETED | JobStatus.CANCELLED | JobStatus.FAILED, error: string): void {
    const { job } = this;
    this.emitProgress();
    job.status = status;
    job.error = error;
    job.finishedAt = new Date();
    const counters = job.countersProto();
    const elapsedMs = job.elapsedMs();
    if (status === JobStatus.COMPLETED) {
      this.emit({ case: "completed", value: create(JobCompletedSchema, { counters, elapsedMs }) });
    } else if (status === JobStatus.CANCELLED) {
      this.emit({ case: "cancelled", value: create(JobCancelledSchema, { reason: error, counters, elapsedMs }) });
    } else {
      this.emit({ case: "failed", value: create(JobFailedSchema, { errorMessage: error, counters, elapsedMs }) });
    }
    this.ctx.logger.info({ jobId: job.id, status: JobStatus[status], files: job.counters.files, elapsedMs, error }, "scan finished");
  }

  private emitProgress(): void {
    this.emit({ case: "progress", value: create(JobProgressSchema, { counters: this.job.countersProto() }) });
  }

  private emit(kind: JobEventKind): void {
    const { job } = this;
    job.lastSeq = this.ctx.log.append(job.id, kind).seq;
    this.ctx.persist?.stageJob(job.id, () => ({ ordinal: job.ordinal, job: job.toProto() }));
  }
}
