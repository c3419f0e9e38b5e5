/**
 * The live state of one job. Plain mutable fields while it runs; every proto
 * handed out (in events, responses, snapshots) is a fresh copy, so events
 * kept in the log never change after they are appended.
 */
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  CrawlSpecSchema,
  JobCountersSchema,
  JobKind,
  JobSchema,
  JobStatus,
  type CrawlSpec,
  type Job,
  type JobCounters,
  type Platform,
  type ScanSpec,
  DEFAULT_TENANT,
} from "@trawl/proto";

export interface Counters {
  pagesDone: number;
  pagesTotal: number;
  successCount: number;
  errorCount: number;
  items: number;
  bytes: number;
  processingMsTotal: number;
  /** Pages fetched again after a retryable failure. */
  retries: number;
  /** URLs not fetched, by reason (robots, scope, depth, page_limit); zero counts are absent. */
  skipped: Record<string, number>;
  /** Failed pages by kind (http_4xx, http_5xx, timeout, …); zero counts are absent. */
  errorsByKind: Record<string, number>;
  /** 95th percentile of page processing time. */
  p95PageMs: number;
  /** Items flagged as near-duplicates of an earlier item of the job. */
  nearDuplicates: number;
  /** Directory scans: files seen so far (all of them once the scan ends). */
  files: number;
  /** Directory scans: the listed files' total size, known once the scan ends. */
  totalSize: number;
}

export class JobState {
  status: JobStatus = JobStatus.PENDING;
  createdAt = new Date();
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
  /** Why the job failed or was cancelled. */
  error = "";
  lastSeq = 0n;
  readonly counters: Counters = {
    pagesDone: 0,
    pagesTotal: 0,
    successCount: 0,
    errorCount: 0,
    items: 0,
    bytes: 0,
    processingMsTotal: 0,
    retries: 0,
    skipped: {},
    errorsByKind: {},
    p95PageMs: 0,
    nearDuplicates: 0,
    files: 0,
    totalSize: 0,
  };

  constructor(
    readonly id: string,
    /** Creation order within this scraper: the ListJobs sort key. */
    readonly ordinal: number,
    readonly platform: Platform,
    /** The spec with every limit resolved to the value the job runs with. */
    readonly spec: CrawlSpec,
    /** The normalised start URLs, one task each. */
    readonly startUrls: string[],
    /** Set for a directory scan (then `spec` is empty and `startUrls` too). */
    readonly scan?: ScanSpec,
  ) {}

  /** The tenant the job belongs to. */
  tenant: string = DEFAULT_TENANT;

  /** A directory scan job: no platform, no crawl spec. */
  static scanJob(id: string, ordinal: number, platform: Platform, scan: ScanSpec): JobState {
    return new JobState(id, ordinal, platform, create(CrawlSpecSchema), [], scan);
  }

  get kind(): JobKind {
    return this.scan !== undefined ? JobKind.SCAN : JobKind.CRAWL;
  }

  countersProto(): JobCounters {
    const c = this.counters;
    return create(JobCountersSchema, {
      pagesDone: c.pagesDone,
      pagesTotal: c.pagesTotal,
      successCount: c.successCount,
      errorCount: c.errorCount,
      items: c.items,
      bytes: BigInt(c.bytes),
      processingMsTotal: BigInt(c.processingMsTotal),
      retries: c.retries,
      skipped: { ...c.skipped },
      errorsByKind: { ...c.errorsByKind },
      p95PageMs: c.p95PageMs,
      nearDuplicates: c.nearDuplicates,
      files: c.files,
      totalSize: BigInt(c.totalSize),
    });
  }

  /** The state of a stored job (a job resumed after a restart); a scan needs no start URLs. */
  static fromProto(job: Job, ordinal: number, startUrls: string[]): JobState {
    let state: JobState;
    if (job.kind === JobKind.SCAN) {
      if (job.scan === undefined) throw new TypeError(`scan job ${job.id} has no scan spec`);
      state = JobState.scanJob(job.id, ordinal, job.platform, job.scan);
    } else {
      const spec = job.spec;
      if (spec === undefined) throw new TypeError(`job ${job.id} is not a crawl`);
      state = new JobState(job.id, ordinal, job.platform, spec, startUrls);
    }
    state.status = job.status;
    state.tenant = job.tenant || DEFAULT_TENANT;
    if (job.createdAt !== undefined) state.createdAt = timestampDate(job.createdAt);
    if (job.startedAt !== undefined) state.startedAt = timestampDate(job.startedAt);
    if (job.finishedAt !== undefined) state.finishedAt = timestampDate(job.finishedAt);
    state.error = job.error;
    state.lastSeq = job.lastSeq;
    const c = job.counters;
    if (c !== undefined) {
      Object.assign(state.counters, {
        pagesDone: c.pagesDone,
        pagesTotal: c.pagesTotal,
        successCount: c.successCount,
        errorCount: c.errorCount,
        items: c.items,
        bytes: Number(c.bytes),
        processingMsTotal: Number(c.processingMsTotal),
        retries: c.retries,
        skipped: { ...c.skipped },
        errorsByKind: { ...c.errorsByKind },
        p95PageMs: c.p95PageMs,
        nearDuplicates: c.nearDuplicates,
        files: c.files,
        totalSize: Number(c.totalSize),
      });
    }
    return state;
  }

  toProto(): Job {
    const job = create(JobSchema, {
      id: this.id,
      kind: this.kind,
      platform: this.platform,
      status: this.status,
      counters: this.countersProto(),
      createdAt: timestampFromDate(this.createdAt),
      error: this.error,
      lastSeq: this.lastSeq,
      tenant: this.tenant,
    });
    if (this.scan !== undefined) job.scan = this.scan;
    else job.spec = this.spec;
    if (this.startedAt !== undefined) job.startedAt = timestampFromDate(this.startedAt);
    if (this.finishedAt !== undefined) job.finishedAt = timestampFromDate(this.finishedAt);
    return job;
  }

  /** Milliseconds from start to finish (or to now while running). */
  elapsedMs(now = new Date()): number {
    if (this.startedAt === undefined) return 0;
    return Math.max(0, (this.finishedAt ?? now).getTime() - this.startedAt.getTime());
  }
}
