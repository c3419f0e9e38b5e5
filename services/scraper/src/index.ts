export { ConfigError, loadConfig, type CrawlConfig, type ScraperConfig } from "./config.js";
export { createScraperServer, SHUTDOWN_REASON, type ScraperServer } from "./server.js";
export type { EventBatch, EventLog, JobEventKind } from "./events/event-log.js";
export { MemoryEventLog } from "./events/memory-event-log.js";
export { JobService, type JobStats, type ResolvedCrawl } from "./jobs/job-service.js";
export type { JobState } from "./jobs/job-state.js";
export { normalizeUrl } from "./crawl/normalize-url.js";
export { detectPlatform, itemId } from "./extract/platform.js";
