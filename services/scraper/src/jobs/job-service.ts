/**
 * The scraper's jobs: starts them, finds them, cancels them and reports on
 * them. The single owner of the job registry and of the runs in progress.
 */
import type { Gate } from "../crawl/crawler.js";
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { isTerminal, JobKind, JobStatus, Platform, ScanSpecSchema, type CrawlSpec, type Job, type PlatformStats, DEFAULT_TENANT } from "@trawl/proto";
import type { Logger } from "pino";
import type { ScanConfig } from "../config.js";
import { TokenBucket } from "../crawl/token-bucket.js";
import type { EventLog } from "../events/event-log.js";
import type { StateSnapshot } from "../events/event-watcher.js";
import { JobRegistry, type ListPage, type ListQuery } from "./job-registry.js";
import { normalizeUrl } from "../crawl/normalize-url.js";
import type { ScanPlan } from "../scan/scan-request.js";
import type { Store } from "../store/store.js";
import { JobRun, type JobPersistence, type RunCrawlConfig } from "./job-run.js";
import { JobState } from "./job-state.js";
import { ScanRun } from "./scan-run.js";

/** A validated crawl request, every limit resolved. */
export interface ResolvedCrawl {
  spec: CrawlSpec;
  /** The spec's URLs, normalised. */
  startUrls: string[];
  platform: Platform;
}

export interface JobServiceOptions {
  log: EventLog;
  crawl: RunCrawlConfig & { globalRatePerSec: number };
  progressIntervalMs: number;
  logger: Logger;
  /** The store behind the log: jobs ended or created before this process are read from it. */
  store?: Store | undefined;
  /** Stages pages and job rows with their events (the PersistentEventLog over `store`). */
  persist?: JobPersistence | undefined;
  /** Directory scans' roots and file limit (a recovered scan resolves its path again); absent, no roots. */
  scan?: ScanConfig | undefined;
  /** Paused while the database is unreachable (crawls wait between pages). */
  storeGate?: Gate | undefined;
}

/** What the service drives of a running job, crawl or scan. */
type Run = Pick<JobRun, "done" | "cancel" | "stop" | "pause" | "resume">;

/** What PauseJob / ResumeJob made of a request. */
export type JobControl = { ok: true; job: JobState } | { ok: false; reason: "not_found" | "not_running" | "not_paused" };

export interface JobStats {
  platforms: PlatformStats[];
  activeJobs: number;
  totalJobs: number;
}

export class JobService {
  readonly registry = new JobRegistry();
  private readonly runs = new Map<string, Run>();
  /** CRAWL_GLOBAL_RATE_PER_SEC, shared by every job of the process. */
  private readonly rateLimiter: TokenBucket | undefined;

  /** The ordinal the next job gets (after the stored ones once {@link recover} has run). */
  private nextOrdinal = 0;

  constructor(private readonly options: JobServiceOptions) {
    this.rateLimiter = options.crawl.globalRatePerSec > 0 ? new TokenBucket(options.crawl.globalRatePerSec) : undefined;
  }

  /** Registers the job and starts it; its JobStarted and TaskStarted events are in the log on return. */
  start(crawl: ResolvedCrawl, tenant: string = DEFAULT_TENANT): JobState {
    const job = new JobState(randomUUID(), this.nextOrdinal++, crawl.platform, crawl.spec, crawl.startUrls);
    job.tenant = tenant;
    this.registry.add(job);
    const run = this.track(job);
    run.start();
    return job;
  }

  /**
   * Registers a directory scan of an already resolved plan and starts it;
   * its JobStarted event is in the log on return. Job.scan records the
   * request with its file limit resolved.
   */
  startScan(plan: ScanPlan, path: string, tenant: string = DEFAULT_TENANT): JobState {
    const scan = create(ScanSpecSchema, { path, recursive: plan.recursive, maxFiles: plan.maxFiles });
    const job = JobState.scanJob(randomUUID(), this.nextOrdinal++, Platform.UNSPECIFIED, scan);
    job.tenant = tenant;
    this.registry.add(job);
    const run = this.trackScan(job);
    run.start(plan);
    return job;
  }

  /**
   * After a restart: seeds the platform statistics from the store and
   * resumes every unfinished stored job from its stored frontier (a paused
   * job is loaded paused). Call once, before any job is started.
   */
  async recover(): Promise<number> {
    const { store, logger } = this.options;
    if (store === undefined) return 0;
    const [nextOrdinal, stats, unfinished] = await Promise.all([store.nextJobOrdinal(), store.platformStats(), store.unfinishedJobs()]);
    this.nextOrdinal = Math.max(this.nextOrdinal, nextOrdinal);
    this.registry.seed(stats);
    let recovered = 0;
    for (const { ordinal, job: stored } of unfinished) {
      if (stored.kind === JobKind.SCAN && stored.scan !== undefined) {
        // A scan keeps no frontier: it runs again from the start.
        const job = JobState.fromProto(stored, ordinal, []);
        this.registry.add(job);
        this.trackScan(job).recover();
        recovered++;
        continue;
      }
      if (stored.spec === undefined) {
        logger.warn({ jobId: stored.id }, "stored job has no crawl spec; left as it is");
        continue;
      }
      const startUrls = stored.spec.urls.map((url) => normalizeUrl(url) ?? url);
      const job = JobState.fromProto(stored, ordinal, startUrls);
      const [frontier, seen] = await Promise.all([store.loadFrontier(job.id), store.seenUrls(job.id)]);
      const embeddings: { id: string; embedding: number[] }[] = [];
      if (job.spec.extractEmbeddings) for await (const item of store.iterateItems(job.id)) embeddings.push({ id: item.id, embedding: item.embedding });
      this.registry.add(job);
      this.track(job).recover({ frontier, seen, embeddings });
      recovered++;
    }
    return recovered;
  }

  private track(job: JobState): JobRun {
    return this.watch(job, new JobRun(job, { ...this.options, registry: this.registry, rateLimiter: this.rateLimiter }));
  }

  private trackScan(job: JobState): ScanRun {
    const { log, logger, persist, scan } = this.options;
    return this.watch(job, new ScanRun(job, { log, logger, persist, scan: scan ?? { roots: [], maxFiles: 0 } }));
  }

  private watch<R extends Run>(job: JobState, run: R): R {
    this.runs.set(job.id, run);
    void Promise.resolve()
      .then(() => run.done)
      .catch((err: unknown) => this.options.logger.error({ jobId: job.id, err }, "job run failed"))
      .finally(() => this.runs.delete(job.id));
    return run;
  }

  get(id: string): JobState | undefined {
    return this.registry.get(id);
  }

  /** A job of this process, else a stored one. */
  async find(id: string): Promise<Job | undefined> {
    const live = this.registry.get(id);
    if (live !== undefined) return live.toProto();
    return (await this.options.store?.getJob(id))?.job;
  }

  /** Like {@link list}, from the store when there is one (live jobs as they are now). */
  async listAll(query: ListQuery): Promise<{ jobs: Job[]; nextBeforeOrdinal?: number }> {
    const { store } = this.options;
    if (store === undefined) {
      const page = this.list(query);
      return { jobs: page.jobs.map((job) => job.toProto()), ...(page.nextBeforeOrdinal !== undefined ? { nextBeforeOrdinal: page.nextBeforeOrdinal } : {}) };
    }
    const page = await store.listJobs({
      statuses: query.statuses,
      ...(query.platforms !== undefined ? { platforms: query.platforms } : {}),
      ...(query.createdAfterMs !== undefined ? { createdAfterMs: query.createdAfterMs } : {}),
      ...(query.createdBeforeMs !== undefined ? { createdBeforeMs: query.createdBeforeMs } : {}),
      ...(query.tenant !== undefined ? { tenant: query.tenant } : {}),
      limit: query.pageSize,
      ...(query.beforeOrdinal !== undefined ? { beforeOrdinal: query.beforeOrdinal } : {}),
    });
    const jobs = page.jobs.map(({ job }) => this.registry.get(job.id)?.toProto() ?? job);
    return { jobs, ...(page.nextBeforeOrdinal !== undefined ? { nextBeforeOrdinal: page.nextBeforeOrdinal } : {}) };
  }

  /** PauseJob: only a running crawl pauses (never a scan). */
  pause(id: string): JobControl {
    const job = this.registry.get(id);
    const run = this.runs.get(id);
    if (job === undefined) return { ok: false, reason: "not_found" };
    if (run === undefined || !run.pause()) return { ok: false, reason: "not_running" };
    return { ok: true, job };
  }

  /** ResumeJob: only a paused job resumes. */
  resume(id: string): JobControl {
    const job = this.registry.get(id);
    const run = this.runs.get(id);
    if (job === undefined) return { ok: false, reason: "not_found" };
    if (run === undefined || job.status !== JobStatus.PAUSED || !run.resume()) return { ok: false, reason: "not_paused" };
    return { ok: true, job };
  }

  /** Shutdown: stops every job where it is (no terminal event; they continue on the next start). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.runs.values()].map((run) => run.stop()));
  }

  list(query: ListQuery): ListPage {
    return this.registry.list(query);
  }

  /**
   * Cancels a running job and resolves once it has ended (CANCELLED, with its
   * true counts). A job that has already ended is returned as it is.
   */
  async cancel(id: string, reason: string): Promise<JobState | undefined> {
    const job = this.registry.get(id);
    if (job === undefined) return undefined;
    const run = this.runs.get(id);
    if (run !== undefined && !isTerminal(job.status)) await run.cancel(reason);
    return job;
  }

  /** Cancels every running job (shutdown) and waits for them to end. */
  async cancelAll(reason: string): Promise<void> {
    await Promise.all([...this.runs.values()].map((run) => run.cancel(reason)));
  }

  /** Resolves once the job has ended (at once for an unknown or ended job). */
  async whenDone(id: string): Promise<JobState | undefined> {
    await this.runs.get(id)?.done;
    return this.registry.get(id);
  }

  stats(): JobStats {
    return { platforms: this.registry.platformStats(), activeJobs: this.registry.activeCount(), totalJobs: this.registry.size };
  }

  /** Every job and the platform stats, as of the log's head. */
  snapshot(): StateSnapshot {
    return { jobs: this.registry.all().map((job) => job.toProto()), platforms: this.registry.platformStats() };
  }
}
