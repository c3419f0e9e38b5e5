/**
 * The scraper's configuration: every environment variable of the process
 * contract, validated once at start-up by one zod schema.
 */
import { z } from "zod";

const int = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback);

const envSchema = z.object({
  SCRAPER_HOST: z.string().min(1).default("127.0.0.1"),
  SCRAPER_PORT: z.coerce.number().int().min(0).max(65535).default(50051),
  CRAWL_MAX_PAGES: int(1, 1000),
  CRAWL_MAX_PAGES_LIMIT: int(1, 100_000),
  CRAWL_MAX_DEPTH: int(0, 10),
  CRAWL_CONCURRENCY: int(1, 8),
  CRAWL_REQUEST_TIMEOUT_MS: int(1, 10_000),
  CRAWL_MAX_DURATION_MS: int(1, 600_000),
  CRAWL_MAX_BODY_BYTES: int(1, 5_242_880),
  CRAWL_USER_AGENT: z.string().min(1).default("Trawl/0.1 (+https://github.com/trawl)"),
  PROGRESS_INTERVAL_MS: int(0, 250),
  EVENT_LOG_MAX_EVENTS: int(1, 200_000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/** Limits and defaults of the crawl engine. */
export interface CrawlConfig {
  /** Page limit of a job whose request leaves max_pages at 0. */
  maxPages: number;
  /** The most pages a request may ask for. */
  maxPagesLimit: number;
  /** The deepest depth a request may ask for. */
  maxDepth: number;
  concurrency: number;
  requestTimeoutMs: number;
  maxDurationMs: number;
  maxBodyBytes: number;
  userAgent: string;
}

export interface ScraperConfig {
  host: string;
  port: number;
  crawl: CrawlConfig;
  /** Minimum time between two JobProgress events of one job. */
  progressIntervalMs: number;
  /** Events the in-memory log retains before trimming the oldest. */
  eventLogMaxEvents: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

/** Thrown by {@link loadConfig}; `variable` names the offending environment variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`invalid environment variable ${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

/**
 * Parses the scraper's environment. Empty strings count as unset, so
 * `SCRAPER_PORT= node dist/main.js` uses the default rather than failing.
 */
export function loadConfig(env: Record<string, string | undefined>): ScraperConfig {
  const input: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== "") input[key] = value.trim();
  }
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue?.path[0] ?? "environment"), issue?.message ?? "invalid value");
  }
  const e = parsed.data;
  // The default page limit follows a lowered hard limit; an explicit one must fit under it.
  if (input.CRAWL_MAX_PAGES === undefined) e.CRAWL_MAX_PAGES = Math.min(e.CRAWL_MAX_PAGES, e.CRAWL_MAX_PAGES_LIMIT);
  if (e.CRAWL_MAX_PAGES > e.CRAWL_MAX_PAGES_LIMIT) {
    throw new ConfigError("CRAWL_MAX_PAGES", `must not exceed CRAWL_MAX_PAGES_LIMIT (${e.CRAWL_MAX_PAGES_LIMIT})`);
  }
  return {
    host: e.SCRAPER_HOST,
    port: e.SCRAPER_PORT,
    crawl: {
      maxPages: e.CRAWL_MAX_PAGES,
      maxPagesLimit: e.CRAWL_MAX_PAGES_LIMIT,
      maxDepth: e.CRAWL_MAX_DEPTH,
      concurrency: e.CRAWL_CONCURRENCY,
      requestTimeoutMs: e.CRAWL_REQUEST_TIMEOUT_MS,
      maxDurationMs: e.CRAWL_MAX_DURATION_MS,
      maxBodyBytes: e.CRAWL_MAX_BODY_BYTES,
      userAgent: e.CRAWL_USER_AGENT,
    },
    progressIntervalMs: e.PROGRESS_INTERVAL_MS,
    eventLogMaxEvents: e.EVENT_LOG_MAX_EVENTS,
    logLevel: e.LOG_LEVEL,
  };
}
