/**
 * The scraper server: a grpc-js server carrying ScraperService, health and
 * reflection over one job service and one event log. A factory with no side
 * effects until `listen()`.
 */
import * as grpc from "@grpc/grpc-js";
import { addService, ScraperService } from "@trawl/proto";
import { pino, type Logger } from "pino";
import type { ScraperConfig } from "./config.js";
import type { EventLog } from "./events/event-log.js";
import type { EventWatcher } from "./events/event-watcher.js";
import { MemoryEventLog } from "./events/memory-event-log.js";
import { createScraperHandlers } from "./grpc/scraper-handlers.js";
import { addStandardServices } from "./grpc/standard-services.js";
import { JobService } from "./jobs/job-service.js";

/** Why running jobs end when the server shuts down (their JobCancelled reason). */
export const SHUTDOWN_REASON = "scraper shutting down";

/** How long shutdown waits for watchers to take their last events before closing streams. */
const SHUTDOWN_GRACE_MS = 5_000;

export interface ScraperServer {
  /** Binds SCRAPER_HOST:SCRAPER_PORT and resolves with the address actually bound ("127.0.0.1:50051"). */
  listen(): Promise<{ address: string; port: number }>;
  /**
   * Graceful shutdown: reports NOT_SERVING, stops accepting calls, cancels
   * running jobs (reason {@link SHUTDOWN_REASON}), lets every watcher take
   * the events up to the terminal ones, then closes.
   */
  close(): Promise<void>;
  readonly jobs: JobService;
  readonly log: EventLog;
}

export function createScraperServer(config: ScraperConfig, logger: Logger = pino({ level: "silent" })): ScraperServer {
  const log = new MemoryEventLog(config.eventLogMaxEvents);
  const jobs = new JobService({ log, crawl: config.crawl, progressIntervalMs: config.progressIntervalMs, logger });
  const watchers = new Set<EventWatcher>();
  const server = new grpc.Server();
  addService(server, ScraperService, createScraperHandlers({ jobs, log, crawl: config.crawl, logger, watchers }));
  const standard = addStandardServices(server);
  let closing: Promise<void> | undefined;

  const shutdown = async (): Promise<void> => {
    standard.setServing(false);
    await jobs.cancelAll(SHUTDOWN_REASON);
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
  };

  return {
    jobs,
    log,
    listen: () =>
      new Promise((resolve, reject) => {
        server.bindAsync(`${config.host}:${config.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
          if (err) return reject(err);
          const host = config.host.includes(":") ? `[${config.host}]` : config.host;
          return resolve({ address: `${host}:${port}`, port });
        });
      }),
    close: () => (closing ??= shutdown()),
  };
}
