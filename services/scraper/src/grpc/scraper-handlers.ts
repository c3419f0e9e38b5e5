/**
 * The gRPC edge of the scraper: ScraperService handlers. Requests are
 * validated here and every failure leaves as a grpc.status with details
 * naming the offending field.
 */
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  CancelJobResponseSchema,
  GetJobResponseSchema,
  GetStatsResponseSchema,
  isTerminal,
  JobStatus,
  jobStatusName,
  ListJobsResponseSchema,
  StartJobResponseSchema,
  type ScraperService,
  type ServiceHandlers,
} from "@trawl/proto";
import type { Logger } from "pino";
import type { CrawlConfig } from "../config.js";
import type { EventLog } from "../events/event-log.js";
import { EventWatcher } from "../events/event-watcher.js";
import type { JobService } from "../jobs/job-service.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import { estimateSeconds, validateCrawlSpec } from "./validate-crawl-spec.js";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

const KNOWN_STATUSES = new Set<number>([
  JobStatus.PENDING,
  JobStatus.RUNNING,
  JobStatus.PAUSED,
  JobStatus.COMPLETED,
  JobStatus.FAILED,
  JobStatus.CANCELLED,
]);

export interface HandlerDeps {
  jobs: JobService;
  log: EventLog;
  crawl: CrawlConfig;
  logger: Logger;
  /** The open WatchEvents streams, so shutdown can end them. */
  watchers: Set<EventWatcher>;
}

const fail = (code: grpc.status, details: string): grpc.ServerErrorResponse => Object.assign(new Error(details), { code, details });

export function createScraperHandlers(deps: HandlerDeps): ServiceHandlers<typeof ScraperService> {
  const { jobs, log, logger, watchers } = deps;

  return {
    startJob: (call, callback) => {
      const validation = validateCrawlSpec(call.request.crawl, deps.crawl);
      if (!validation.ok) return callback(fail(grpc.status.INVALID_ARGUMENT, `${validation.field}: ${validation.message}`));
      const measured = jobs.stats().platforms.find((p) => p.platform === validation.crawl.platform);
      const job = jobs.start(validation.crawl);
      return callback(null, create(StartJobResponseSchema, { job: job.toProto(), estimatedTimeSeconds: estimateSeconds(validation.crawl, measured) }));
    },

    getJob: (call, callback) => {
      const { jobId } = call.request;
      if (jobId === "") return callback(fail(grpc.status.INVALID_ARGUMENT, "job_id: is required"));
      const job = jobs.get(jobId);
      if (job === undefined) return callback(fail(grpc.status.NOT_FOUND, `job_id: job ${jobId} not found`));
      return callback(null, create(GetJobResponseSchema, { job: job.toProto() }));
    },

    listJobs: (call, callback) => {
      const { statuses, pageSize, pageToken } = call.request;
      const unknown = statuses.findIndex((s) => !KNOWN_STATUSES.has(s));
      if (unknown !== -1) return callback(fail(grpc.status.INVALID_ARGUMENT, `statuses[${unknown}]: unknown job status ${statuses[unknown]}`));
      let beforeOrdinal: number | undefined;
      if (pageToken !== "") {
        beforeOrdinal = decodePageToken(pageToken);
        if (beforeOrdinal === undefined) return callback(fail(grpc.status.INVALID_ARGUMENT, "page_token: not a token from ListJobs"));
      }
      const page = jobs.list({ statuses, pageSize: Math.min(pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE), beforeOrdinal });
      return callback(
        null,
        create(ListJobsResponseSchema, {
          jobs: page.jobs.map((job) => job.toProto()),
          nextPageToken: page.nextBeforeOrdinal === undefined ? "" : encodePageToken(page.nextBeforeOrdinal),
        }),
      );
    },

    cancelJob: (call, callback) => {
      const { jobId, reason } = call.request;
      if (jobId === "") return callback(fail(grpc.status.INVALID_ARGUMENT, "job_id: is required"));
      const job = jobs.get(jobId);
      if (job === undefined) return callback(fail(grpc.status.NOT_FOUND, `job_id: job ${jobId} not found`));
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
      const watcher = new EventWatcher(call, {
        log,
        snapshot: () => jobs.snapshot(),
        afterOffset,
        ...(jobId !== "" ? { jobId } : {}),
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
