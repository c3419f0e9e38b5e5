/**
 * The gRPC edge of the scraper: ScraperService handlers. Requests are
 * validated here and every failure leaves as a grpc.status with details
 * naming the offending field.
 */
import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import {
  CancelJobResponseSchema,
  GetJobResponseSchema,
  GetStatsResponseSchema,
  isTerminal,
  ExportFormat,
  JobKind,
  JobStatus,
  jobStatusName,
  Platform,
  ListItemsResponseSchema,
  ListJobsResponseSchema,
  PauseJobResponseSchema,
  ResumeJobResponseSchema,
  StartJobResponseSchema,
  type ScraperService,
  type ServiceHandlers,
} from "@trawl/proto";
import type { Logger } from "pino";
import type { CrawlConfig, ScanConfig } from "../config.js";
import type { EventLog } from "../events/event-log.js";
import { EventWatcher } from "../events/event-watcher.js";
import type { JobService } from "../jobs/job-service.js";
import type { JobState } from "../jobs/job-state.js";
import { ScanRequestError } from "../scan/scan-error.js";
import { resolveScanRequest } from "../scan/scan-request.js";
import type { Store } from "../store/store.js";
import { exportEncoding, writeExport } from "./export-items.js";
import { decodeItemsToken, decodePageToken, encodeItemsToken, encodePageToken } from "./page-token.js";
import { estimateSeconds, validateCrawlSpec } from "./validate-crawl-spec.js";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_ITEMS_PAGE_SIZE = 50;
export const MAX_ITEMS_PAGE_SIZE = 1000;

// UNSPECIFIED is the platform of directory scans.
const KNOWN_PLATFORMS = new Set<number>([Platform.UNSPECIFIED, Platform.WEB, Platform.TWITTER, Platform.YOUTUBE, Platform.REDDIT]);

const KNOWN_STATUSES = new Set<number>([
  JobStatus.PENDING,
  JobStatus.RUNNING,
  JobStatus.PAUSED,
  JobStatus.COMPLETED,
  JobStatus.FAILED,
  JobStatus.CANCELLED,
]);

export interface HandlerDeps {
  /** Which jobs a WatchEvents caller may see (a tenant's own only); undefined: every job. */
  watchFilter?: (metadata: grpc.Metadata) => ((jobId: string) => boolean) | undefined;
  jobs: JobService;
  log: EventLog;
  crawl: CrawlConfig;
  logger: Logger;
  /** The open WatchEvents streams, so shutdown can end them. */
  watchers: Set<EventWatcher>;
  /** Where items (and jobs of earlier runs) are stored; without it ListItems and ExportItems are UNIMPLEMENTED. */
  store?: Store | undefined;
  /** Resolves once everything appended so far is committed (StartJob answers after its job is stored). */
  flush?: (() => Promise<void>) | undefined;
  /** Where directory scans may look (SCAN_ROOTS) and their file limit; absent, every scan is refused. */
  scan?: ScanConfig | undefined;
}

const fail = (code: grpc.status, details: string): grpc.ServerErrorResponse => Object.assign(new Error(details), { code, details });

/** The gRPC status of a refused scan request. */
function scanErrorCode(reason: ScanRequestError["reason"]): grpc.status {
  switch (reason) {
    case "not_found":
      return grpc.status.NOT_FOUND;
    case "no_roots":
      return grpc.status.FAILED_PRECONDITION;
    case "permission_denied":
      return grpc.status.PERMISSION_DENIED;
    default:
      return grpc.status.INVALID_ARGUMENT;
  }
}

/** A directory scan's rough duration: informational only. */
const SCAN_ESTIMATE_SECONDS = 1;

export function createScraperHandlers(deps: HandlerDeps): ServiceHandlers<typeof ScraperService> {
  const { jobs, log, logger, watchers } = deps;
  const internal = (callback: (err: grpc.ServerErrorResponse) => void, err: unknown, what: string): void => {
    logger.error({ err }, what);
    callback(fail(grpc.status.INTERNAL, what));
  };

  return {
    startJob: (call, callback) => {
      const { crawl, scan } = call.request;
      if (crawl !== undefined && scan !== undefined) return callback(fail(grpc.status.INVALID_ARGUMENT, "crawl: give either crawl or scan, not both"));
      if (crawl === undefined && scan === undefined) return callback(fail(grpc.status.INVALID_ARGUMENT, "crawl: one of crawl or scan is required"));
      const answer = (job: JobState, estimatedTimeSeconds: number): void => {
        const started = job.toProto();
        const reply = (): void => callback(null, create(StartJobResponseSchema, { job: started, estimatedTimeSeconds }));
        if (deps.flush === undefined) return reply();
        deps.flush().then(reply, (err: unknown) => {
          logger.error({ jobId: job.id, err }, "storing a new job failed");
          callback(fail(grpc.status.UNAVAILABLE, "the job could not be stored"));
        });
      };

      if (scan !== undefined) {
        resolveScanRequest({ path: scan.path, recursive: scan.recursive, maxFiles: scan.maxFiles }, deps.scan ?? { roots: [], maxFiles: 0 }).then(
          (plan) => answer(jobs.startScan(plan, scan.path, call.request.tenant || undefined), SCAN_ESTIMATE_SECONDS),
          (err: unknown) => {
            if (err instanceof ScanRequestError) return callback(fail(scanErrorCode(err.reason), `scan.${err.field}: ${err.message}`));
            return internal(callback, err, "resolving the scan path failed");
          },
        );
        return undefined;
      }

      const validation = validateCrawlSpec(crawl, deps.crawl);
      if (!validation.ok) return callback(fail(grpc.status.INVALID_ARGUMENT, `${validation.field}: ${validation.message}`));
      const measured = jobs.stats().platforms.find((p) => p.platform === validation.crawl.platform);
      answer(jobs.start(validation.crawl, call.request.tenant || undefined), estimateSeconds(validation.crawl, measured));
      return undefined;
    },

    getJob: (call, callback) => {
      const { jobId } = call.request;
      if (jobId === "") return callback(fail(grpc.status.INVALID_ARGUMENT, "job_id: is required"));
      jobs.find(jobId).then(
        (job) => {
          if (job === undefined) return callback(fail(grpc.status.NOT_FOUND, `job_id: job ${jobId} not found`));
          return callback(null, create(GetJobResponseSchema, { job }));
        },
        (err: unknown) => internal(callback, err, "reading the job failed"),
      );
      return undefined;
    },

    pauseJob: (call, callback) => {
      const { jobId } = call.request;
      if (jobId === "") return callback(fail(grpc.status.INVALID_ARGUMENT, "job_id: is required"));
      const result = jobs.pause(jobId);
      if (result.ok) return callback(null, create(PauseJobResponseSchema, { job: result.job.toProto() }));
      return jobs.find(jobId).then(
        (job) => {
          if (job === undefined) return callback(fail(grpc.status.NOT_FOUND, `job_id: job ${jobId} not found`));
          if (job.kind === JobKind.SCAN) return callback(fail(grpc.status.FAILED_PRECONDITION, `job ${jobId}: scans cannot be paused`));
          return callback(fail(grpc.status.FAILED_PRECONDITION, `job ${jobId} is not running (${jobStatusName(job.status)})`));
        },
        (err: unknown) => internal(callback, err, "reading the job failed"),
      ) as unknown as undefined;
    },

    resumeJob: (call, callback) => {
      const { jobId } = call.request;
      if (jobId === "") return callback(fail(grpc.status.INVALID_ARGUMENT, "job_id: is required"));
      const result = jobs.resume(jobId);
      if (result.ok) return callback(null, create(ResumeJobResponseSchema, { job: result.job.toProto() }));
      return jobs.find(jobId).then(
        (job) => {
          if (job === undefined) return callback(fail(grpc.status.NOT_FOUND, `job_id: job ${jobId} not found`));
          if (job.kind === JobKind.SCAN) return callback(fail(grpc.status.FAILED_PRECONDITION, `job ${jobId}: scans cannot be paused`));
          return callback(fail(grpc.status.FAILED_PRECONDITION, `job ${jobId} is not paused (${jobStatusName(job.status)})`));
        },
        (err: unknown) => internal(callback, err, "reading the job failed"),
      ) as unknown as undefined;
    },

    listItems: (call, callback) => {
      const { jobId, pageSize, pageToken, query } = call.request;
      const { store } = deps;
      if (jobId === "") return callback(fail(grpc.status.INVALID_ARGUMENT, "job_id: is required"));
      if (store === undefined) return callback(fail(grpc.status.UNIMPLEMENTED, "this scraper stores no items"));
      let afterOrdinal: number | undefined;
      if (pageToken !== "") {
        afterOrdinal = decodeItemsToken(pageToken);
        if (afterOrdinal === undefined) return callback(fail(grpc.status.INVALID_ARGUMENT, "page_token: not a token from ListItems"));
      }
      const size = Math.min(pageSize || DEFAULT_ITEMS_PAGE_SIZE, MAX_ITEMS_PAGE_SIZE);
      jobs
        .find(jobId)
        .then(async (job) => {
          if (job === undefined) return callback(fail(grpc.status.NOT_FOUND, `job_id: job ${jobId} not found`));
          const page = await store.listItems(jobId, { pageSize: size, query, ...(afterOrdinal !== undefined ? { afterOrdinal } : {}) });
          return callback(
            null,
            create(ListItemsResponseSchema, {
              items: page.items.map((stored) => stored.item),
              total: page.total,
              nextPageToken: page.nextAfterOrdinal === undefined ? "" : encodeItemsToken(page.nextAfterOrdinal),
            }),
          );
        })
        .catch((err: unknown) => internal(callback, err, "reading the items failed"));
      return undefined;
    },

    exportItems: (call) => {
      const { jobId, format } = call.request;
      const { store } = deps;
      const refuse = (code: grpc.status, details: string): void => void call.emit("error", fail(code, details));
      if (jobId === "") return refuse(grpc.status.INVALID_ARGUMENT, "job_id: is required");
      const encoding = format === ExportFormat.UNSPECIFIED ? undefined : exportEncoding(format);
      if (encoding === undefined) return refuse(grpc.status.INVALID_ARGUMENT, "format: must be JSON, NDJSON or CSV");
      if (store === undefined) return refuse(grpc.status.UNIMPLEMENTED, "this scraper stores no items");
      jobs
        .find(jobId)
        .then(async (job) => {
          if (job === undefined) return refuse(grpc.status.NOT_FOUND, `job_id: job ${jobId} not found`);
          return writeExport(call, store.iterateItems(jobId), encoding);
        })
        .catch((err: unknown) => {
          logger.error({ jobId, err }, "exporting items failed");
          refuse(grpc.status.INTERNAL, "exporting the items failed");
        });
      return undefined;
    },

    listJobs: (call, callback) => {
      const { statuses, platforms, createdAfter, createdBefore, pageSize, pageToken } = call.request;
      const unknown = statuses.findIndex((s) => !KNOWN_STATUSES.has(s));
      if (unknown !== -1) return callback(fail(grpc.status.INVALID_ARGUMENT, `statuses[${unknown}]: unknown job status ${statuses[unknown]}`));
      const unknownPlatform = platforms.findIndex((p) => !KNOWN_PLATFORMS.has(p));
      if (unknownPlatform !== -1) return callback(fail(grpc.status.INVALID_ARGUMENT, `platforms[${unknownPlatform}]: unknown platform ${platforms[unknownPlatform]}`));
      let beforeOrdinal: number | undefined;
      if (pageToken !== "") {
        beforeOrdinal = decodePageToken(pageToken);
        if (beforeOrdinal === undefined) return callback(fail(grpc.status.INVALID_ARGUMENT, "page_token: not a token from ListJobs"));
      }
      jobs
        .listAll({
          statuses,
          platforms,
          ...(createdAfter !== undefined ? { createdAfterMs: timestampMs(createdAfter) } : {}),
          ...(createdBefore !== undefined ? { createdBeforeMs: timestampMs(createdBefore) } : {}),
          ...(call.request.tenant !== "" ? { tenant: call.request.tenant } : {}),
          pageSize: Math.min(pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
          beforeOrdinal,
        })
        .then(
        (page) =>
          callback(
            null,
            create(ListJobsResponseSchema, {
              jobs: page.jobs,
              nextPageToken: page.nextBeforeOrdinal === undefined ? "" : encodePageToken(page.nextBeforeOrdinal),
            }),
          ),
        (err: unknown) => internal(callback, err, "listing the jobs failed"),
      );
      return undefined;
    },

    cancelJob: (call, callback) => {
      const { jobId, reason } = call.request;
      if (jobId === "") return callback(fail(grpc.status.INVALID_ARGUMENT, "job_id: is required"));
      const job = jobs.get(jobId);
      if (job === undefined) {
        jobs.find(jobId).then(
          (stored) =>
            callback(
              stored === undefined
                ? fail(grpc.status.NOT_FOUND, `job_id: job ${jobId} not found`)
                : fail(grpc.status.FAILED_PRECONDITION, `job ${jobId} has already ended (${jobStatusName(stored.status)})`),
            ),
          (err: unknown) => internal(callback, err, "reading the job failed"),
        );
        return undefined;
      }
      if (isTerminal(job.status)) {
        return callback(fail(grpc.status.FAILED_PRECONDITION, `job ${jobId} has already ended (${jobStatusName(job.status)})`));
      }
      jobs.cancel(jobId, reason).then(
        (ended) => callback(null, create(CancelJobResponseSchema, { job: (ended ?? job).toProto() })),
        (err: unknown) => {
          logger.error({ jobId, err }, "cancelling a job failed");
          callback(fail(grpc.status.INTERNAL, "cancelling the job failed"));
        },
      );
      return undefined;
    },

    getStats: (_call, callback) => {
      const stats = jobs.stats();
      return callback(null, create(GetStatsResponseSchema, { platforms: stats.platforms, activeJobs: stats.activeJobs, totalJobs: stats.totalJobs }));
    },

    watchEvents: (call) => {
      const { jobId, afterOffset } = call.request;
      const acceptJob = deps.watchFilter?.(call.metadata);
      const watcher = new EventWatcher(call, {
        log,
        snapshot: () => jobs.snapshot(),
        afterOffset,
        ...(jobId !== "" ? { jobId } : {}),
        ...(acceptJob !== undefined ? { acceptJob } : {}),
      });
      watchers.add(watcher);
      const close = (): void => watcher.close();
      call.on("cancelled", close);
      call.on("error", close);
      call.on("close", close);
      watcher
        .run()
        .catch((err: unknown) => {
          logger.error({ err }, "event watcher failed");
          call.destroy(err instanceof Error ? err : new Error(String(err)));
        })
        .finally(() => watchers.delete(watcher));
    },
  };
}
