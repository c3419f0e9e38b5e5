/**
 * The scraper server: a grpc-js server carrying ScraperService, health and
 * reflection over one job service and one event log. A factory with no side
 * effects until `listen()`, which opens the store (SQLite or PostgreSQL), the
 * persistent event log over it, and resumes the jobs a previous run left
 * unfinished.
 */
import * as grpc from "@grpc/grpc-js";
import { addService, ScraperService } from "@trawl/proto";
import { pino, type Logger } from "pino";
import type { ScraperConfig } from "./config.js";
import type { EventBatch, EventLog, JobEventKind } from "./events/event-log.js";
import type { EventWatcher } from "./events/event-watcher.js";
import { createScraperHandlers } from "./grpc/scraper-handlers.js";
import { addStandardServices } from "./grpc/standard-services.js";
import { JobService } from "./jobs/job-service.js";
import type { JobPersistence } from "./jobs/job-run.js";
import { openStore } from "./store/open-store.js";
import { PersistentEventLog } from "./store/persistent-event-log.js";
import type { PageWrite, Store, StoredJob } from "./store/store.js";

/** Why a job ended by a shutdown in earlier versions; kept for clients that match on it. */
export const SHUTDOWN_REASON = "scraper shutting down";

/** How long shutdown waits for watchers to take their last events before closing streams. */
const SHUTDOWN_GRACE_MS = 5_000;

export interface ScraperServer {
  /**
   * Opens the store, resumes unfinished jobs, binds SCRAPER_HOST:SCRAPER_PORT
   * and resolves with the address actually bound ("127.0.0.1:50051").
   */
  listen(): Promise<{ address: string; port: number }>;
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
}

/**
 * The EventLog the server hands out before listen() has opened the real
 * one: every call goes to the persistent log once it exists.
 */
class DeferredLog implements EventLog, JobPersistence {
  target: PersistentEventLog | undefined;
  private readonly pending: Array<() => void> = [];
  private readonly listeners = new Set<() => void>();

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
    return this.open.append(jobId, kind);
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

export function createScraperServer(config: ScraperConfig, logger: Logger = pino({ level: "silent" })): ScraperServer {
  const log = new DeferredLog();
  let store: Store | undefined;
  const storeRef = {
    get current(): Store | undefined {
      return store;
    },
  };
  const fatalListeners: Array<(err: unknown) => void> = [];
  let fatal: { error: unknown } | undefined;
  const jobs = new JobService({
    log,
    persist: log,
    crawl: config.crawl,
    scan: config.scan,
    progressIntervalMs: config.progressIntervalMs,
    logger,
    get store() {
      return storeRef.current;
    },
  });
  const watchers = new Set<EventWatcher>();
  const server = new grpc.Server();
  addService(
    server,
    ScraperService,
    createScraperHandlers({
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
    }),
  );
  const standard = addStandardServices(server);
  let closing: Promise<void> | undefined;

  const onCommitError = (err: unknown): void => {
    if (fatal !== undefined) return;
    fatal = { error: err };
    logger.fatal({ err }, "storing the event log failed; the scraper must stop");
    for (const listener of fatalListeners) listener(err);
  };

  const listen = async (): Promise<{ address: string; port: number }> => {
    store = await openStore(config.store, logger);
    try {
      log.attach(await PersistentEventLog.open(store, { maxEvents: config.eventLogMaxEvents, onError: onCommitError }));
      const recovered = await jobs.recover();
      if (recovered > 0) logger.info({ jobs: recovered }, "unfinished jobs resumed");
    } catch (err) {
      await store.close().catch(() => undefined);
      store = undefined;
      throw err;
    }
    return new Promise((resolve, reject) => {
      server.bindAsync(`${config.host}:${config.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) return reject(err);
        const host = config.host.includes(":") ? `[${config.host}]` : config.host;
        return resolve({ address: `${host}:${port}`, port });
      });
    });
  };

  const shutdown = async (): Promise<void> => {
    standard.setServing(false);
    await jobs.stopAll();
    if (log.target !== undefined && fatal === undefined) {
      await log.target.flush().catch((err: unknown) => logger.error({ err }, "committing the event log at shutdown failed"));
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
  };

  return {
    jobs,
    log,
    listen,
    close: () => (closing ??= shutdown()),
    onFatal: (listener) => {
      if (fatal !== undefined) listener(fatal.error);
      else fatalListeners.push(listener);
    },
  };
}
