/**
 * The scraper's Prometheus metrics (issue 7): one prom-client `Registry` per
 * server — never the global default one, so tests can run several servers in
 * one process — with the default process metrics.
 *
 * Almost every series is computed when `/metrics` is scraped, from state the
 * scraper already keeps: jobs by status and the per-platform page totals of
 * the job registry, the event log's offsets, the open watch streams. The page
 * totals are the registry's, which a restart seeds from the store, so they
 * continue across restarts rather than starting at 0. What happens at an
 * event site is seen through the event log instead of inside the crawler:
 * {@link ScraperMetrics.eventAppended} gets every appended event (page
 * processing times, failed jobs and start URLs), and store failures come
 * through {@link ScraperMetrics.error}.
 */
import { jobStatusName, JOB_STATUS_NAMES, platformName, type JobEvent, type JobStatus, type Platform, type PlatformStats } from "@trawl/proto";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Kinds of trawl_scraper_errors_total that are not per page. */
export const ErrorKind = {
  /** A job ended FAILED. */
  JOB_FAILED: "job_failed",
  /** A start URL (task) failed. */
  TASK_FAILED: "task_failed",
  /** The store could not be opened or migrated, or the unfinished jobs not resumed from it. */
  STORE_OPEN: "store_open",
  /** Committing the event log failed (the scraper stops). */
  STORE_COMMIT: "store_commit",
  /** The database could not be reached (commits retried). */
  STORE_UNAVAILABLE: "store_unavailable",
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

/** Where the collect-time series read from; every function is called at scrape time. */
export interface ScraperMetricsSources {
  /** Every job this process knows (started here or resumed), any status. */
  jobs: () => Iterable<{ readonly status: JobStatus }>;
  /** Per-platform page totals (JobRegistry.platformStats). */
  platformStats: () => readonly PlatformStats[];
  /** The event log's newest and oldest retained offsets, and events appended but not yet committed. */
  eventLog: () => { head: bigint; oldest: bigint; uncommitted: number };
  /** Open WatchEvents streams. */
  watchStreams: () => number;
  /** What /readyz answers. */
  ready: () => boolean;
}

/** Buckets of page processing time (fetch + parse), in seconds. */
export const PAGE_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface ScraperMetricsOptions {
  /** Node.js process metrics (CPU, memory, event loop, GC); on by default. */
  defaultMetrics?: boolean;
}

export class ScraperMetrics {
  readonly registry = new Registry();
  private sources: ScraperMetricsSources | undefined;
  private readonly errorsTotal: Counter<"kind">;
  private readonly grpcHandled: Counter<"method" | "code">;
  private readonly pageDuration: Histogram<"platform" | "outcome">;

  constructor(options: ScraperMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    // collect() runs with `this` bound to its metric; this reaches the server's side.
    const sources = (): ScraperMetricsSources | undefined => this.sources;
    const platforms = (): readonly PlatformStats[] => sources()?.platformStats() ?? [];

    this.errorsTotal = new Counter({ name: "trawl_scraper_errors_total", help: "Job, task and store failures, by kind.", labelNames: ["kind"] as const, registers });
    this.grpcHandled = new Counter({
      name: "trawl_scraper_grpc_handled_total",
      help: "gRPC calls ended, by method and status code (OK, INVALID_ARGUMENT, UNAUTHENTICATED, CANCELLED by the caller, ...).",
      labelNames: ["method", "code"] as const,
      registers,
    });
    this.pageDuration = new Histogram({
      name: "trawl_scraper_page_duration_seconds",
      help: "Processing time (fetch + parse) of pages processed by this process, by platform and outcome (ok, error).",
      labelNames: ["platform", "outcome"] as const,
      buckets: PAGE_DURATION_BUCKETS,
      registers,
    });

    new Gauge({
      name: "trawl_scraper_jobs",
      help: "Jobs this process knows (started here or resumed) by status.",
      labelNames: ["status"] as const,
      registers,
      collect() {
        this.reset();
        const from = sources();
        if (from === undefined) return;
        const counts = new Map<string, number>(JOB_STATUS_NAMES.map((name) => [name, 0]));
        for (const job of from.jobs()) {
          const name = jobStatusName(job.status);
          counts.set(name, (counts.get(name) ?? 0) + 1);
        }
        for (const [status, count] of counts) this.set({ status }, count);
      },
    });
    new Counter({
      name: "trawl_scraper_pages_total",
      help: "Pages fetched and processed, by platform and outcome (ok, error); rate() gives pages per second.",
      labelNames: ["platform", "outcome"] as const,
      registers,
      collect() {
        this.reset();
        for (const stats of platforms()) {
          const platform = platformName(stats.platform);
          this.inc({ platform, outcome: "ok" }, Number(stats.successCount));
          this.inc({ platform, outcome: "error" }, Number(stats.errorCount));
        }
      },
    });
    new Counter({
      name: "trawl_scraper_page_errors_total",
      help: "Failed pages by platform and error kind (http_4xx, http_5xx, timeout, network, dns, not_html, too_large, too_many_redirects, blocked_address, invalid_url).",
      labelNames: ["platform", "kind"] as const,
      registers,
      collect() {
        this.reset();
        for (const stats of platforms()) {
          for (const [kind, count] of Object.entries(stats.errorsByKind)) this.inc({ platform: platformName(stats.platform), kind }, Math.max(0, Number(count)));
        }
      },
    });
    new Counter({
      name: "trawl_scraper_pages_skipped_total",
      help: "URLs not fetched, by platform and reason (robots, scope, depth, page_limit).",
      labelNames: ["platform", "reason"] as const,
      registers,
      collect() {
        this.reset();
        for (const stats of platforms()) {
          for (const [reason, count] of Object.entries(stats.skipped)) this.inc({ platform: platformName(stats.platform), reason }, Math.max(0, Number(count)));
        }
      },
    });
    new Counter({
      name: "trawl_scraper_page_retries_total",
      help: "Page fetches retried after a 429, a 5xx, a network error or a timeout.",
      labelNames: ["platform"] as const,
      registers,
      collect() {
        this.reset();
        for (const stats of platforms()) this.inc({ platform: platformName(stats.platform) }, Number(stats.retries));
      },
    });
    new Counter({
      name: "trawl_scraper_page_bytes_total",
      help: "Response body bytes of fetched pages.",
      labelNames: ["platform"] as const,
      registers,
      collect() {
        this.reset();
        for (const stats of platforms()) this.inc({ platform: platformName(stats.platform) }, Number(stats.bytes));
      },
    });
    new Gauge({
      name: "trawl_scraper_event_log_events",
      help: "Events the event log retains (EVENT_LOG_MAX_EVENTS bounds it, except for unfinished jobs).",
      registers,
      collect() {
        const log = sources()?.eventLog();
        if (log !== undefined) this.set(Math.max(0, Number(log.head - log.oldest + 1n)));
      },
    });
    new Gauge({
      name: "trawl_scraper_event_log_head_offset",
      help: "Offset of the newest committed event.",
      registers,
      collect() {
        const log = sources()?.eventLog();
        if (log !== undefined) this.set(Number(log.head));
      },
    });
    new Gauge({
      name: "trawl_scraper_event_log_uncommitted_events",
      help: "Events appended but not yet committed to the store (the group commit's backlog).",
      registers,
      collect() {
        const log = sources()?.eventLog();
        if (log !== undefined) this.set(log.uncommitted);
      },
    });
    new Gauge({
      name: "trawl_scraper_watch_streams",
      help: "Open WatchEvents streams (gateways and other watchers).",
      registers,
      collect() {
        const from = sources();
        if (from !== undefined) this.set(from.watchStreams());
      },
    });
    new Gauge({
      name: "trawl_scraper_ready",
      help: "1 while the scraper is ready (store open and migrated, gRPC listening), else 0; gRPC health reports SERVING exactly then.",
      registers,
      collect() {
        this.set(sources()?.ready() === true ? 1 : 0);
      },
    });
  }

  /** Connects the collect-time series to the server's state; until then they report nothing. */
  observe(sources: ScraperMetricsSources): void {
    this.sources = sources;
  }

  error(kind: ErrorKind): void {
    this.errorsTotal.inc({ kind });
  }

  /** A gRPC call ended: `path` is its full method path (`/trawl.v1.ScraperService/StartJob`), `code` its status name. */
  grpcCallEnded(path: string, code: string): void {
    this.grpcHandled.inc({ method: path.slice(path.lastIndexOf("/") + 1), code });
  }

  /** Sees every event the log appends; `platform` is its job's. Times its pages and counts its failures. */
  eventAppended(event: JobEvent, platform: Platform | undefined): void {
    switch (event.kind.case) {
      case "itemScraped":
        if (platform !== undefined) this.pageDuration.observe({ platform: platformName(platform), outcome: "ok" }, event.kind.value.processingMs / 1000);
        return;
      case "pageFailed":
        if (platform !== undefined) this.pageDuration.observe({ platform: platformName(platform), outcome: "error" }, event.kind.value.processingMs / 1000);
        return;
      case "failed":
        this.error(ErrorKind.JOB_FAILED);
        return;
      case "taskFailed":
        this.error(ErrorKind.TASK_FAILED);
        return;
      default:
        return;
    }
  }

  /** The text exposition and its content type, for `GET /metrics`. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
