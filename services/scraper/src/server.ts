/**
 * The scraper server: a grpc-js server carrying ScraperService, health and
 * reflection over one job service and one event log. A factory with no side
 * effects until `listen()`, which opens the store (SQLite or PostgreSQL), the
 * persistent event log over it, and resumes the jobs a previous run left
 * unfinished. Its metrics registry and readiness (issue 7) are per server:
 * gRPC health reports SERVING only while the store is open, and with
 * METRICS_PORT set an HTTP listener serves /metrics, /livez and /readyz.
 */
import { isStoreUnavailable, RETRY_INITIAL_MS, RETRY_MAX_MS } from "./store/persistent-event-log.js";
import { PauseGate } from "./crawl/crawler.js";
import * as grpc from "@grpc/grpc-js";
import { addService, authServerInterceptor, ScraperService, TokenRegistry, type JobEvent } from "@trawl/proto";
import { neededRole, tenantWatchFilter, withTenants } from "./grpc/tenant-guard.js";
import { pino, type Logger } from "pino";
import type { ScraperConfig } from "./config.js";
import type { EventBatch, EventLog, JobEventKind } from "./events/event-log.js";
import type { EventWatcher } from "./events/event-watcher.js";
import { createScraperHandlers } from "./grpc/scraper-handlers.js";
import { addStandardServices } from "./grpc/standard-services.js";
import { JobService } from "./jobs/job-service.js";
import type { JobPersistence } from "./jobs/job-run.js";
import { createObservabilityServer, type ObservabilityServer } from "./metrics/observability-server.js";
import { GrpcState, readiness, StoreState, type ReadinessReport } from "./metrics/readiness.js";
import { callOutcomeInterceptor } from "./metrics/grpc-calls.js";
import { ErrorKind, ScraperMetrics, type ScraperMetricsOptions } from "./metrics/scraper-metrics.js";
import { openStore } from "./store/open-store.js";
import { PersistentEventLog } from "./store/persistent-event-log.js";
import type { PageWrite, Store, StoredJob } from "./store/store.js";

/** Why a job ended by a shutdown in earlier versions; kept for clients that match on it. */
/** How long shutdown waits for the last commit. */
const SHUTDOWN_FLUSH_MS = 5_000;

export const SHUTDOWN_REASON = "scraper shutting down";

/** How long shutdown waits for watchers to take their last events before closing streams. */
const SHUTDOWN_GRACE_MS = 5_000;

export interface ScraperServer {
  /**
   * Opens the store, resumes unfinished jobs, binds SCRAPER_HOST:SCRAPER_PORT
   * and resolves with the address actually bound ("127.0.0.1:50051"). With
   * METRICS_PORT set, the observability listener is bound first (so /readyz
   * answers 503 while the store opens) and its URL is returned too.
   */
  listen(): Promise<{ address: string; port: number; metricsUrl?: string }>;
  /**
   * Graceful shutdown: reports NOT_SERVING, stops accepting calls, stops the
   * running jobs where they are (fetches in flight aborted and not counted;
   * the jobs stay unfinished in the store and continue on the next start),
   * commits the log, ends watch streams and closes the store.
   */
  close(): Promise<void>;
  /**
   * Calls `listener` once if the store fails to commit: nothing more is
   * stored, and the process should stop (main exits non-zero) so the next
   * start resumes from what was committed.
   */
  onFatal(listener: (err: unknown) => void): void;
  readonly jobs: JobService;
  readonly log: EventLog;
  /** This server's Prometheus registry (served at METRICS_PORT's /metrics). */
  readonly metrics: ScraperMetrics;
  /** What /readyz answers. */
  readiness(): ReadinessReport;
}

export interface ScraperServerOptions {
  metrics?: ScraperMetricsOptions;
}

/**
 * The EventLog the server hands out before listen() has opened the real
 * one: every call goes to the persistent log once it exists.
 */
class DeferredLog implements EventLog, JobPersistence {
  target: PersistentEventLog | undefined;
  private readonly pending: Array<() => void> = [];
  private readonly listeners = new Set<() => void>();

  constructor(private readonly onEvent: (event: JobEvent) => void) {}

  private get open(): PersistentEventLog {
    if (this.target === undefined) throw new Error("the scraper is not listening");
    return this.target;
  }
  attach(target: PersistentEventLog): void {
    this.target = target;
    for (const listener of this.listeners) target.onAppend(listener);
    this.pending.splice(0);
  }
  append(jobId: string, kind: JobEventKind) {
    const event = this.open.append(jobId, kind);
    this.onEvent(event);
    return event;
  }
  headOffset(): bigint {
    return this.target?.headOffset() ?? 0n;
  }
  oldestOffset(): bigint {
    return this.target?.oldestOffset() ?? 1n;
  }
  lastSeq(jobId: string): bigint {
    return this.target?.lastSeq(jobId) ?? 0n;
  }
  read(after: bigint, limit: number, jobId?: string): Promise<EventBatch> {
    return this.open.read(after, limit, jobId);
  }
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    const off = this.target?.onAppend(listener);
    return () => {
      this.listeners.delete(listener);
      off?.();
    };
  }
  stagePage(write: PageWrite): void {
    this.open.stagePage(write);
  }
  stageJob(jobId: string, row: () => StoredJob): void {
    this.open.stageJob(jobId, row);
  }
}

export function createScraperServer(config: ScraperConfig, logger: Logger = pino({ level: "silent" }), options: ScraperServerOptions = {}): ScraperServer {
  const metrics = new ScraperMetrics(options.metrics);
  let storeState: StoreState = StoreState.OPENING;
  let grpcState: GrpcState = GrpcState.STARTING;
  const currentReadiness = (): ReadinessReport => readiness(storeState, grpcState);
  // Events are appended only once listen() has run, so `jobs` exists by then.
  const log = new DeferredLog((event) => metrics.eventAppended(event, jobs.get(event.jobId)?.platform));
  let store: Store | undefined;
  const storeRef = {
    get current(): Store | undefined {
      return store;
    },
  };
  const fatalListeners: Array<(err: unknown) => void> = [];
  let fatal: { error: unknown } | undefined;
  /** Paused while the database is unreachable: every crawl waits between pages. */
  const storeGate = new PauseGate();
  const jobs = new JobService({
    log,
    persist: log,
    storeGate,
    crawl: config.crawl,
    scan: config.scan,
    progressIntervalMs: config.progressIntervalMs,
    logger,
    get store() {
      return storeRef.current;
    },
  });
  const watchers = new Set<EventWatcher>();
  const registry = new TokenRegistry(config.authTokens ?? []);
  const server = new grpc.Server({
    interceptors: [callOutcomeInterceptor((path, code) => metrics.grpcCallEnded(path, code)), authServerInterceptor(registry, neededRole)],
  });
  addService(
    server,
    ScraperService,
    withTenants(createScraperHandlers({
      jobs,
      log,
      crawl: config.crawl,
      logger,
      watchers,
      get store() {
        return storeRef.current;
      },
      flush: () => log.target?.flush() ?? Promise.resolve(),
      scan: config.scan,
      watchFilter: tenantWatchFilter(registry, jobs),
    }), registry, jobs),
  );
  const standard = addStandardServices(server);
  // NOT_SERVING until the store is open and migrated.
  standard.setServing(false);
  metrics.observe({
    jobs: () => jobs.registry.all(),
    platformStats: () => jobs.registry.platformStats(),
    eventLog: () => ({ head: log.headOffset(), oldest: log.oldestOffset(), uncommitted: log.target?.uncommitted ?? 0 }),
    watchStreams: () => watchers.size,
    ready: () => currentReadiness().ready,
  });
  const observability: ObservabilityServer | undefined =
    config.metricsPort === undefined
      ? undefined
      : createObservabilityServer({ host: config.host, port: config.metricsPort, metrics, readiness: currentReadiness, logger });
  let closing: Promise<void> | undefined;

  const onCommitError = (err: unknown): void => {
    if (fatal !== undefined) return;
    fatal = { error: err };
    storeState = StoreState.FAILED;
    standard.setServing(false);
    metrics.error(ErrorKind.STORE_COMMIT);
    logger.fatal({ err }, "storing the event log failed; the scraper must stop");
    for (const listener of fatalListeners) listener(err);
  };

  const openStorage = async (): Promise<void> => {
    store = await openStore(config.store, logger);
    try {
      log.attach(
        await PersistentEventLog.open(store, {
          maxEvents: config.eventLogMaxEvents,
          onError: onCommitError,
          onUnavailable: (err) => {
            if (storeState === StoreState.OPEN) storeState = StoreState.UNAVAILABLE;
            standard.setServing(false);
            storeGate.pause();
            metrics.error(ErrorKind.STORE_UNAVAILABLE);
            logger.error({ err }, "the database is unreachable: crawls wait and commits are retried until it is back");
          },
          onAvailable: () => {
            if (storeState === StoreState.UNAVAILABLE) storeState = StoreState.OPEN;
            if (storeState === StoreState.OPEN) standard.setServing(true);
            storeGate.resume();
            logger.info("the database is reachable again: crawls continue");
          },
        }),
      );
      const recovered = await jobs.recover();
      if (recovered > 0) logger.info({ jobs: recovered }, "unfinished jobs resumed");
    } catch (err) {
      await store.close().catch(() => undefined);
      store = undefined;
      throw err;
    }
  };

  const bind = (): Promise<{ address: string; port: number }> =>
    new Promise((resolve, reject) => {
      server.bindAsync(`${config.host}:${config.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) return reject(err);
        const host = config.host.includes(":") ? `[${config.host}]` : config.host;
        return resolve({ address: `${host}:${port}`, port });
      });
    });

  const listen = async (): Promise<{ address: string; port: number; metricsUrl?: string }> => {
    const metricsUrl = (await observability?.listen())?.url;
    try {
      // A database that is unreachable at start-up is waited for (readyz 503 meanwhile), not a crash and a restart loop.
      // After an attempt cut short by the connection, the next one may meet what the server finished of it
      // (a migration's table created after the client was gone): a few such failures are retried too.
      let afterOutage = 0;
      for (let delay = RETRY_INITIAL_MS; ; delay = Math.min(RETRY_MAX_MS, delay * 2)) {
        try {
          await openStorage();
          break;
        } catch (err) {
          const unavailable = isStoreUnavailable(err);
          if (closing !== undefined || (!unavailable && (afterOutage === 0 || afterOutage > 5))) throw err;
          afterOutage = unavailable ? 1 : afterOutage + 1;
          logger.error({ err, retryInMs: delay }, "the database is unreachable at start-up; retrying");
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
      // A commit may already have failed while jobs were being resumed.
      if (fatal === undefined) {
        storeState = StoreState.OPEN;
        standard.setServing(true);
      }
      const bound = await bind();
      grpcState = GrpcState.LISTENING;
      return metricsUrl === undefined ? bound : { ...bound, metricsUrl };
    } catch (err) {
      if (storeState === StoreState.OPENING) {
        storeState = StoreState.FAILED;
        metrics.error(ErrorKind.STORE_OPEN);
      }
      await observability?.close();
      throw err;
    }
  };

  const shutdown = async (): Promise<void> => {
    grpcState = GrpcState.STOPPING;
    standard.setServing(false);
    await jobs.stopAll();
    if (log.target !== undefined && fatal === undefined) {
      // Bounded: with the database away the flush would wait for it forever; what is not committed is fetched again on resume.
      const flushed = log.target.flush().then(
        () => true,
        (err: unknown) => {
          logger.error({ err }, "committing the event log at shutdown failed");
          return true;
        },
      );
      const committed = await Promise.race([flushed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), SHUTDOWN_FLUSH_MS).unref())]);
      if (!committed) logger.error({ waitedMs: SHUTDOWN_FLUSH_MS }, "the database did not take the last events before shutdown; their pages are fetched again on resume");
    }
    for (const watcher of watchers) watcher.finish();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        logger.warn({ watchers: watchers.size }, "shutdown grace period over; closing remaining streams");
        server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      force.unref();
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    for (const watcher of watchers) watcher.close();
    await store?.close();
    if (storeState === StoreState.OPEN) storeState = StoreState.CLOSED;
    await observability?.close();
  };

  return {
    jobs,
    log,
    metrics,
    readiness: currentReadiness,
    listen,
    close: () => (closing ??= shutdown()),
    onFatal: (listener) => {
      if (fatal !== undefined) listener(fatal.error);
      else fatalListeners.push(listener);
    },
  };
}
