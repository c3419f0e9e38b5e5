/**
 * Runs one crawl job and emits its events in the contract's order:
 * JobStarted, TaskStarted per start URL, ItemScraped/PageFailed per page
 * with throttled JobProgress between them, TaskFinished/TaskFailed per start
 * URL, one final JobProgress, then exactly one terminal event — and nothing
 * after it.
 */
import { create } from "@bufbuild/protobuf";
import {
  ItemScrapedSchema,
  JobCancelledSchema,
  JobCompletedSchema,
  JobFailedSchema,
  JobPausedSchema,
  JobProgressSchema,
  JobResumedSchema,
  JobStartedSchema,
  JobStatus,
  PageErrorKind,
  PageErrorKindSchema,
  PageFailedSchema,
  PageSkippedSchema,
  TaskFailedSchema,
  TaskFinishedSchema,
  TaskStartedSchema,
  type Item,
} from "@trawl/proto";
import type { Logger } from "pino";
import type { CrawlConfig } from "../config.js";
import { AddressPolicy } from "../crawl/address-policy.js";
import { errorKey, PageTimeHistogram, SKIP_REASONS } from "../crawl/crawl-stats.js";
import { anyGate, crawl, type Gate, PauseGate, type PageResult, type PageSkip, type ResumeFrontier } from "../crawl/crawler.js";
import { createGuardedAgent } from "../crawl/guarded-agent.js";
import { dedupeKey } from "../crawl/normalize-url.js";
import type { TokenBucket } from "../crawl/token-bucket.js";
import type { EventLog, JobEventKind } from "../events/event-log.js";
import { buildItem } from "../extract/build-item.js";
import { NearDuplicateIndex } from "../extract/near-duplicates.js";
import type { FrontierEntry, PageWrite, StoredFrontier, StoredJob } from "../store/store.js";
import type { JobRegistry } from "./job-registry.js";
import type { JobState } from "./job-state.js";
import { ProgressThrottle } from "./progress-throttle.js";

/** The configuration a run reads; limits a request can override come from its resolved spec first. */
export type RunCrawlConfig = Pick<
  CrawlConfig,
  "userAgent" | "maxBodyBytes" | "perHostConcurrency" | "perHostDelayMs" | "maxRetries" | "retryBaseMs" | "retryMaxMs" | "allowAddresses"
>;

export interface RunContext {
  log: EventLog;
  registry: JobRegistry;
  crawl: RunCrawlConfig;
  /** The process-wide request rate limit, when there is one. */
  rateLimiter?: TokenBucket | undefined;
  /** Paused while the database is unreachable: every crawl waits between pages instead of piling up unstored work. */
  storeGate?: Gate | undefined;
  progressIntervalMs: number;
  logger: Logger;
  /**
   * Where pages and job rows are staged beside their events (the
   * PersistentEventLog); absent, the job lives in memory only.
   */
  persist?: JobPersistence | undefined;
}

/** Stages writes to commit in the same transaction as the events appended in the same synchronous step. */
export interface JobPersistence {
  stagePage(write: PageWrite): void;
  /** `row` is built when the batch is cut: once per batch, not per event. */
  stageJob(jobId: string, row: () => StoredJob): void;
}

/** What a job resumed after a restart continues from. */
export interface RecoveredFrontier {
  frontier: StoredFrontier;
  /** Every URL the job accepted or saw. */
  seen: Iterable<string>;
  /** Embeddings of the job's stored items, in scrape order (extract_embeddings jobs). */
  embeddings?: Iterable<{ id: string; embedding: number[] }>;
}

/** Abort reason of a CancelJob. */
class CancelRequest {
  constructor(readonly reason: string) {}
}
/** Abort reason of a shutdown: the job stops where it is and stays unfinished in the store. */
class StopRequest {}
/** Abort reason when the job's max_duration_ms runs out. */
class DurationLimit {
  constructor(readonly limitMs: number) {}
}

interface Task {
  id: string;
  url: string;
  pages: number;
  items: number;
  errors: number;
  /** Set once the start URL's page has been processed. */
  started: boolean;
  /** Why the start URL failed, when it did. */
  failure: string | undefined;
}

function errorKindName(kind: PageErrorKind): string {
  return PageErrorKindSchema.values.find((v) => v.number === kind)?.localName.toLowerCase() ?? "error";
}

export class JobRun {
  private readonly controller = new AbortController();
  private readonly tasks: Task[];
  private readonly throttle: ProgressThrottle;
  private readonly pageTimes = new PageTimeHistogram();
  private lastItem: Item | undefined;
  private finished: Promise<void> | undefined;
  private readonly gate = new PauseGate();
  private readonly nearDuplicates: NearDuplicateIndex | undefined;
  private resumeFrom: ResumeFrontier | undefined;
  /** What is left of max_duration_ms; the clock runs only while the job is running. */
  private remainingMs: number;
  private clockStartedAt = 0;
  private durationTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly job: JobState,
    private readonly ctx: RunContext,
  ) {
    this.tasks = job.spec.urls.map((url, i) => ({ id: `${job.id}-t${i + 1}`, url, pages: 0, items: 0, errors: 0, started: false, failure: undefined }));
    this.throttle = new ProgressThrottle(ctx.progressIntervalMs, () => this.emitProgress());
    this.nearDuplicates = job.spec.extractEmbeddings ? new NearDuplicateIndex() : undefined;
    this.remainingMs = job.spec.maxDurationMs;
  }

  /**
   * Emits JobStarted and the TaskStarted events synchronously (so the
   * StartJob response already reflects them), then crawls in the background.
   */
  start(): void {
    const { job } = this;
    job.status = JobStatus.RUNNING;
    job.startedAt = new Date();
    this.emit({ case: "started", value: create(JobStartedSchema, { job: job.toProto() }) });
    const accepted: FrontierEntry[] = [];
    const keys = new Set<string>();
    job.startUrls.forEach((url, task) => {
      const key = dedupeKey(url);
      if (keys.has(key) || accepted.length >= job.spec.maxPages) return;
      keys.add(key);
      accepted.push({ url, depth: 0, task });
    });
    job.counters.pagesTotal = accepted.length;
    for (const task of this.tasks) this.emit({ case: "taskStarted", value: create(TaskStartedSchema, { taskId: task.id, url: task.url }) });
    this.ctx.persist?.stagePage({ jobId: job.id, discovered: accepted });
    this.ctx.logger.info({ jobId: job.id, platform: job.platform, tasks: this.tasks.length }, "job started");
    this.finished = this.run();
  }

  /**
   * Continues a stored job after a restart from its stored frontier. A
   * running job emits JobResumed{recovered}; a paused one stays paused
   * (silently) until {@link resume}.
   */
  recover(recovered: RecoveredFrontier): void {
    const { job } = this;
    const { queued } = recovered.frontier;
    for (const [i, task] of this.tasks.entries()) task.started = !queued.some((entry) => entry.depth === 0 && entry.task === i);
    if (this.nearDuplicates !== undefined) {
      for (const { id, embedding } of recovered.embeddings ?? []) if (embedding.length > 0) this.nearDuplicates.add(id, embedding);
    }
    this.resumeFrom = { queued, seen: recovered.seen, accepted: job.counters.pagesTotal };
    job.startedAt ??= new Date();
    if (job.status === JobStatus.PAUSED) {
      this.gate.pause();
    } else {
      job.status = JobStatus.RUNNING;
      this.emit({ case: "resumed", value: create(JobResumedSchema, { counters: job.countersProto(), recovered: true }) });
    }
    this.ctx.logger.info({ jobId: job.id, queued: queued.length, status: JobStatus[job.status] }, "job recovered");
    this.finished = this.run();
  }

  /** Stops taking URLs from the frontier (pages in flight finish and count); false unless running. */
  pause(): boolean {
    const { job } = this;
    if (job.status !== JobStatus.RUNNING || this.controller.signal.aborted) return false;
    job.status = JobStatus.PAUSED;
    this.gate.pause();
    this.stopClock();
    this.emit({ case: "paused", value: create(JobPausedSchema, { counters: job.countersProto() }) });
    this.ctx.logger.info({ jobId: job.id }, "job paused");
    return true;
  }

  /** Continues a paused job; false unless paused. */
  resume(): boolean {
    const { job } = this;
    if (job.status !== JobStatus.PAUSED || this.controller.signal.aborted) return false;
    job.status = JobStatus.RUNNING;
    this.emit({ case: "resumed", value: create(JobResumedSchema, { counters: job.countersProto(), recovered: false }) });
    this.startClock();
    this.gate.resume();
    this.ctx.logger.info({ jobId: job.id }, "job resumed");
    return true;
  }

  /**
   * Shutdown: aborts the fetches in flight (not counted, their URLs stay
   * queued in the store) and stops without a terminal event; the job stays
   * unfinished and continues on the next start.
   */
  stop(): Promise<void> {
    if (!this.controller.signal.aborted) this.controller.abort(new StopRequest());
    return this.done;
  }

  private startClock(): void {
    if (this.durationTimer !== undefined) return;
    this.clockStartedAt = performance.now();
    this.durationTimer = setTimeout(() => this.controller.abort(new DurationLimit(this.job.spec.maxDurationMs)), Math.max(0, this.remainingMs));
  }

  private stopClock(): void {
    if (this.durationTimer === undefined) return;
    clearTimeout(this.durationTimer);
    this.durationTimer = undefined;
    this.remainingMs -= performance.now() - this.clockStartedAt;
  }

  /** Resolves once the terminal event has been emitted. */
  get done(): Promise<void> {
    return this.finished ?? Promise.resolve();
  }

  /** Aborts the crawl (fetches in flight are not counted); the job ends CANCELLED. */
  cancel(reason: string): Promise<void> {
    if (!this.controller.signal.aborted) this.controller.abort(new CancelRequest(reason));
    return this.done;
  }

  private async run(): Promise<void> {
    const { job } = this;
    const { spec } = job;
    const { crawl: config } = this.ctx;
    const agent = createGuardedAgent({ policy: new AddressPolicy(config.allowAddresses), connections: spec.concurrency, connectTimeoutMs: spec.requestTimeoutMs });
    if (job.status === JobStatus.RUNNING) this.startClock();
    let crashed: unknown;
    try {
      await crawl(
        {
          startUrls: job.startUrls,
          depth: spec.depth,
          maxPages: spec.maxPages,
          concurrency: spec.concurrency,
          requestTimeoutMs: spec.requestTimeoutMs,
          maxBodyBytes: config.maxBodyBytes,
          userAgent: config.userAgent,
          dispatcher: agent,
          signal: this.controller.signal,
          respectRobots: !spec.ignoreRobots,
          perHostConcurrency: spec.perHostConcurrency ?? config.perHostConcurrency,
          perHostDelayMs: spec.perHostDelayMs ?? config.perHostDelayMs,
          rateLimiter: this.ctx.rateLimiter,
          retry: { maxRetries: spec.maxRetries ?? config.maxRetries, baseMs: config.retryBaseMs, maxMs: config.retryMaxMs },
          extractEmbeddings: spec.extractEmbeddings,
          pause: this.ctx.storeGate === undefined ? this.gate : anyGate(this.gate, this.ctx.storeGate),
          ...(this.resumeFrom !== undefined ? { resume: this.resumeFrom } : {}),
        },
        { page: (page) => this.onPage(page), skip: (skip) => this.onSkip(skip) },
      );
    } catch (err) {
      crashed = err;
      this.ctx.logger.error({ jobId: job.id, err }, "job crashed");
    } finally {
      this.stopClock();
      this.throttle.stop();
    }
    if (this.controller.signal.reason instanceof StopRequest && crashed === undefined) {
      this.ctx.logger.info({ jobId: job.id, pagesDone: job.counters.pagesDone }, "job stopped for shutdown");
    } else {
      this.finish(crashed);
    }
    await agent.destroy().catch((err: unknown) => this.ctx.logger.warn({ jobId: job.id, err }, "closing the job's connections failed"));
  }

  private onPage(page: PageResult): void {
    const { job } = this;
    const c = job.counters;
    const task = this.tasks[page.task] as Task;
    c.pagesDone++;
    c.pagesTotal = page.accepted;
    c.bytes += page.bytes;
    c.processingMsTotal += page.processingMs;
    c.retries += page.retries;
    this.pageTimes.add(page.processingMs);
    c.p95PageMs = this.pageTimes.percentile(0.95);
    task.pages++;
    if (page.depth === 0) task.started = true;
    const key = page.ok ? undefined : errorKey(page.errorKind, page.status);
    if (key !== undefined) c.errorsByKind[key] = (c.errorsByKind[key] ?? 0) + 1;
    this.ctx.registry.recordPage(job.platform, page.ok, page.processingMs, { bytes: page.bytes, retries: page.retries, ...(key !== undefined ? { errorKey: key } : {}) });
    if (page.ok) {
      c.successCount++;
      c.items++;
      task.items++;
      const item = buildItem(
        { platform: job.platform, url: page.finalUrl, depth: page.depth, extract: page.extract },
        { embeddings: job.spec.extractEmbeddings, ...(this.nearDuplicates !== undefined ? { nearDuplicates: this.nearDuplicates } : {}) },
      );
      if (item.nearDuplicateOf !== undefined && item.nearDuplicateOf !== "") c.nearDuplicates++;
      this.lastItem = item;
      this.emit({
        case: "itemScraped",
        value: create(ItemScrapedSchema, {
          item,
          url: page.url,
          processingMs: page.processingMs,
          httpStatus: page.status,
          bytes: page.bytes,
          counters: job.countersProto(),
        }),
      });
      this.stagePage(page, item);
    } else {
      c.errorCount++;
      task.errors++;
      if (page.depth === 0) task.failure = page.errorKind === PageErrorKind.HTTP ? page.message : `${errorKindName(page.errorKind)}: ${page.message}`;
      this.emit({
        case: "pageFailed",
        value: create(PageFailedSchema, {
          url: page.url,
          errorKind: page.errorKind,
          httpStatus: page.errorKind === PageErrorKind.HTTP ? page.status : 0,
          message: page.message,
          processingMs: page.processingMs,
          depth: page.depth,
          counters: job.countersProto(),
        }),
      });
      this.stagePage(page, undefined);
    }
    this.throttle.pageDone();
  }

  /** The page's frontier and item writes, staged in the same step as its event (one transaction). */
  private stagePage(page: PageResult, item: Item | undefined): void {
    const write: PageWrite = { jobId: this.job.id, doneUrl: page.url, discovered: page.discovered };
    if (page.finalUrl !== page.url) write.seen = [page.finalUrl];
    if (item !== undefined) write.item = item;
    this.ctx.persist?.stagePage(write);
  }

  /** Counts a URL the crawl leaves alone; robots.txt refusals are also PageSkipped events. */
  private onSkip(skip: PageSkip): void {
    const { job } = this;
    const c = job.counters;
    const count = (c.skipped[skip.reason] ?? 0) + skip.count;
    if (count > 0) c.skipped[skip.reason] = count;
    else delete c.skipped[skip.reason];
    c.pagesTotal = skip.accepted;
    this.ctx.registry.recordSkip(job.platform, skip.reason, skip.count);
    if (skip.reason !== "robots") {
      this.stageJob();
      return;
    }
    const task = this.tasks[skip.task] as Task;
    if (skip.depth === 0) {
      task.started = true;
      task.failure = skip.detail;
    }
    this.emit({ case: "pageSkipped", value: create(PageSkippedSchema, { url: skip.url, reason: SKIP_REASONS.robots, counters: job.countersProto() }) });
    if (skip.released === true) this.ctx.persist?.stagePage({ jobId: job.id, doneUrl: skip.url });
  }

  private finish(crashed: unknown): void {
    const { job } = this;
    const reason: unknown = this.controller.signal.aborted ? this.controller.signal.reason : undefined;
    let status: JobStatus;
    if (reason instanceof CancelRequest) {
      status = JobStatus.CANCELLED;
      job.error = reason.reason;
    } else if (reason instanceof DurationLimit) {
      status = JobStatus.FAILED;
      job.error = `duration limit of ${reason.limitMs} ms reached`;
    } else if (crashed !== undefined) {
      status = JobStatus.FAILED;
      job.error = "internal error while crawling";
    } else if (job.counters.successCount === 0) {
      status = JobStatus.FAILED;
      const failures = this.tasks.filter((t) => t.failure !== undefined).map((t) => `${t.url} (${t.failure})`);
      job.error = `every start URL failed: ${failures.join("; ")}`;
    } else {
      status = JobStatus.COMPLETED;
    }

    const unfinished = reason instanceof CancelRequest ? "job cancelled before it was fetched" : "job stopped before it was fetched";
    for (const task of this.tasks) {
      if (task.failure !== undefined || (!task.started && reason !== undefined)) {
        const why = task.failure ?? unfinished;
        this.emit({ case: "taskFailed", value: create(TaskFailedSchema, { taskId: task.id, url: task.url, errorMessage: `${task.url}: ${why}` }) });
      } else {
        this.emit({
          case: "taskFinished",
          value: create(TaskFinishedSchema, { taskId: task.id, url: task.url, pages: task.pages, items: task.items, errors: task.errors }),
        });
      }
    }

    this.emitProgress();
    job.status = status;
    job.finishedAt = new Date();
    const counters = job.countersProto();
    const elapsedMs = job.elapsedMs();
    if (status === JobStatus.COMPLETED) {
      this.emit({ case: "completed", value: create(JobCompletedSchema, { counters, elapsedMs }) });
    } else if (status === JobStatus.CANCELLED) {
      this.emit({ case: "cancelled", value: create(JobCancelledSchema, { reason: job.error, counters, elapsedMs }) });
    } else {
      this.emit({ case: "failed", value: create(JobFailedSchema, { errorMessage: job.error, counters, elapsedMs }) });
    }
    const c = job.counters;
    this.ctx.logger.info(
      { jobId: job.id, status: JobStatus[status], pagesDone: c.pagesDone, successCount: c.successCount, errorCount: c.errorCount, elapsedMs },
      "job finished",
    );
  }

  private emitProgress(): void {
    const progress = create(JobProgressSchema, { counters: this.job.countersProto() });
    if (this.lastItem !== undefined) progress.currentItem = this.lastItem;
    this.emit({ case: "progress", value: progress });
  }

  private emit(kind: JobEventKind): void {
    const { job } = this;
    job.lastSeq = this.ctx.log.append(job.id, kind).seq;
    this.stageJob();
  }

  private stageJob(): void {
    const { job } = this;
    this.ctx.persist?.stageJob(job.id, () => ({ ordinal: job.ordinal, job: job.toProto() }));
  }
}
