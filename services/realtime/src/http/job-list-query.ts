/**
 * Listing jobs, shared by REST `GET /api/jobs` and tRPC `jobs.list`: the
 * filters (status, platform, creation time), the page size and the cursor,
 * and the page they produce. Each edge parses its own input form (query
 * string, JSON) and maps errors its own way; the meaning is defined here once.
 */
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { DEFAULT_TENANT, JOB_STATUS_NAMES, JobStatus, Platform, PLATFORM_NAMES, platformFromName, type JobStatusName, type PlatformName } from "@trawl/proto";
import { z } from "zod";
import { decodeListCursor, encodeListCursor } from "../scrapers/job-list.js";
import type { JobListFilter, ScraperPool } from "../scrapers/scraper-pool.js";
import { invalidRequest } from "./errors.js";
import { type JobJson, jobJson } from "./job-json.js";

export const LIST_LIMIT_MESSAGE = "limit must be an integer from 1 to 500";
export const STATUSES_MESSAGE = `must hold ${JOB_STATUS_NAMES.join(", ")}`;
export const PLATFORMS_MESSAGE = `must hold ${PLATFORM_NAMES.join(", ")}`;

/** An optional ISO-8601 date-time with a zone (`Z` or an offset), as a Date. */
export const isoInstant = (field: string) =>
  z.iso
    .datetime({ offset: true, error: `${field} must be an ISO-8601 date-time with a zone, e.g. 2026-01-31T12:00:00Z` })
    .transform((value) => new Date(value))
    .optional();

export interface JobListQuery {
  statuses: readonly JobStatusName[];
  platforms: readonly PlatformName[];
  /** Jobs created at or after this instant. */
  createdAfter?: Date | undefined;
  /** Jobs created before this instant. */
  createdBefore?: Date | undefined;
  limit: number;
  /** `next_cursor` of the previous page, listed with the same filters. */
  cursor?: string | undefined;
  /** Only this tenant's jobs (the caller's scope); undefined: every tenant. */
  tenant?: string | undefined;
}

export interface JobListPageJson {
  jobs: JobJson[];
  /** Pass as `cursor` for the next page; null on the last one. */
  next_cursor: string | null;
}

const STATUS_BY_NAME: Record<JobStatusName, JobStatus> = {
  pending: JobStatus.PENDING,
  running: JobStatus.RUNNING,
  paused: JobStatus.PAUSED,
  completed: JobStatus.COMPLETED,
  failed: JobStatus.FAILED,
  cancelled: JobStatus.CANCELLED,
};

/** The wire filter; "web" also matches directory scans, which have no platform and show as web. */
export function toJobListFilter(query: JobListQuery): JobListFilter {
  const platforms = query.platforms.flatMap((name) => (name === "web" ? [Platform.WEB, Platform.UNSPECIFIED] : [platformFromName(name)]));
  return {
    statuses: query.statuses.map((name) => STATUS_BY_NAME[name]),
    platforms,
    ...(query.createdAfter === undefined ? {} : { createdAfter: timestampFromMs(query.createdAfter.getTime()) }),
    ...(query.createdBefore === undefined ? {} : { createdBefore: timestampFromMs(query.createdBefore.getTime()) }),
    ...(query.tenant === undefined ? {} : { tenant: query.tenant }),
  };
}

/** One page of jobs; throws a 400 naming `cursor` for a cursor this gateway did not issue, or the scraper's error. */
export async function listJobsPage(pool: ScraperPool, query: JobListQuery, nowMs: number): Promise<JobListPageJson> {
  let cursor;
  if (query.cursor !== undefined && query.cursor !== "") {
    cursor = decodeListCursor(query.cursor);
    if (cursor === undefined) throw invalidRequest("cursor", "cursor is not a next_cursor of this listing");
  }
  const page = await pool.listJobs(toJobListFilter(query), query.limit, cursor);
  // The scrapers filter by tenant; this keeps another tenant's job out even if one did not.
  const visible = query.tenant === undefined ? page.jobs : page.jobs.filter(({ job }) => (job.tenant || DEFAULT_TENANT) === query.tenant);
  return {
    jobs: visible.map(({ job, address }) => jobJson(job, address, nowMs)),
    next_cursor: page.cursor === undefined ? null : encodeListCursor(page.cursor),
  };
}
