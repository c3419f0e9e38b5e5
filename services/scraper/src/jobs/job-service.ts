/**
 * The scraper's jobs: starts them, finds them, cancels them and reports on
 * them. The single owner of the job registry and of the runs in progress.
 */
import { randomUUID } from "node:crypto";
import { isTerminal, type CrawlSpec, type Platform, type PlatformStats } from "@trawl/proto";
import type { Logger } from "pino";
import { TokenBucket } from "../crawl/token-bucket.js";
import type { EventLog } from "../events/event-log.js";
import type { StateSnapshot } from "../events/event-watcher.js";
import { JobRegistry, type ListPage, type ListQuery } from "./job-registry.js";
import { JobRun, type RunCrawlConfig } from "./job-run.js";
import { JobState } from "./job-state.js";

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
}

export interface JobStats {
  platforms: PlatformStats[];
  activeJobs: number;
  totalJobs: number;
}

export class JobService {
  readonly registry = new JobRegistry();
  private readonly runs = new Map<string, JobRun>();
  /** CRAWL_GLOBAL_RATE_PER_SEC, shared by every job of the process. */
  private readonly rateLimiter: TokenBucket | undefined;

  constructor(private readonly options: JobServiceOptions) {
    this.rateLimiter = options.crawl.globalRatePerSec > 0 ? new TokenBucket(options.crawl.globalRatePerSec) : undefined;
  }

  /** Registers the job and starts it; its JobStarted and TaskStarted events are in the log on return. */
  start(crawl: ResolvedCrawl): JobState {
    const job = new JobState(randomUUID(), this.registry.nextOrdinal, crawl.platform, crawl.spec, crawl.startUrls);
    this.registry.add(job);
    const run = new JobRun(job, { ...this.options, registry: this.registry, rateLimiter: this.rateLimiter });
    this.runs.set(job.id, run);
    run.start();
    void run.done
      .catch((err: unknown) => this.options.logger.error({ jobId: job.id, err }, "job run failed"))
      .finally(() => this.runs.delete(job.id));
    return job;
  }

  get(id: string): JobState | undefined {
    return this.registry.get(id);
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
