/**
 * The scraper's configuration: every environment variable of the process
 * contract, validated once at start-up by one zod schema.
 */
import { readFileSync } from "node:fs";
import { AccessConfigError, type AccessToken, checkExposure, parseAccessTokens, TokenRegistry } from "@trawl/proto";
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { parseAddressRule } from "./crawl/address-policy.js";

const int = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback);

const envSchema = z.object({
  SCRAPER_HOST: z.string().min(1).default("127.0.0.1"),
  // API tokens (tenant:role:token, comma-separated) and/or a JSON file of them; none = open, loopback only.
  AUTH_TOKENS: z.string().optional(),
  AUTH_TOKENS_FILE: z.string().min(1).optional(),
  ALLOW_UNAUTHENTICATED: z.enum(["0", "1", "true", "false"]).default("0"),
  SCRAPER_PORT: z.coerce.number().int().min(0).max(65535).default(50051),
  // Port of the HTTP listener for /metrics, /livez and /readyz, on SCRAPER_HOST; unset = no listener
  // (several scrapers may share a machine, so no fixed default port is taken). 0 = an ephemeral port.
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  CRAWL_MAX_PAGES: int(1, 1000),
  CRAWL_MAX_PAGES_LIMIT: int(1, 100_000),
  CRAWL_MAX_DEPTH: int(0, 10),
  CRAWL_CONCURRENCY: int(1, 8),
  CRAWL_REQUEST_TIMEOUT_MS: int(1, 10_000),
  CRAWL_MAX_DURATION_MS: int(1, 600_000),
  // The longest wall-clock limit a request may ask for (max_duration_ms); longer is INVALID_ARGUMENT.
  CRAWL_MAX_DURATION_LIMIT_MS: int(1, 86_400_000),
  CRAWL_MAX_BODY_BYTES: int(1, 5_242_880),
  CRAWL_USER_AGENT: z.string().min(1).default("Trawl/0.1 (+https://github.com/trawl)"),
  // robots.txt (and its Crawl-delay) is honoured unless a request sets ignore_robots; false turns it off for every job.
  CRAWL_RESPECT_ROBOTS: z.stringbool().default(true),
  // Requests in flight per host within one job; a request may ask for 1 to 64.
  CRAWL_PER_HOST_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  // Minimum ms between the starts of two requests to one host within one job; 0 = none.
  CRAWL_PER_HOST_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(250),
  // Requests per second across every job of the process (a token bucket); 0 = unlimited.
  CRAWL_GLOBAL_RATE_PER_SEC: z.coerce.number().min(0).max(1_000_000).default(0),
  // Retries of a page after a 429, a 5xx, a network error or a timeout.
  CRAWL_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  // Backoff before the first retry is random in [0, base); the ceiling doubles each retry.
  CRAWL_RETRY_BASE_MS: int(0, 500),
  // Cap of any one retry wait, Retry-After included.
  CRAWL_RETRY_MAX_MS: int(0, 30_000),
  // Comma-separated IPs or CIDRs the SSRF guard lets the crawler connect to although they are
  // private, loopback or link-local (e.g. "127.0.0.1" for a local test site); empty = none.
  CRAWL_ALLOW_ADDRESSES: z
    .string()
    .default("")
    .transform((value) => value.split(",").map((entry) => entry.trim()).filter((entry) => entry !== ""))
    .superRefine((entries, ctx) => {
      for (const entry of entries) if (parseAddressRule(entry) === undefined) ctx.addIssue({ code: "custom", message: `${entry} is not an IP address or CIDR range` });
    }),
  PROGRESS_INTERVAL_MS: int(0, 250),
  EVENT_LOG_MAX_EVENTS: int(1, 200_000),
  DATA_DIR: z.string().min(1).default("./data"),
  DATABASE_URL: z
    .string()
    .refine((value) => /^postgres(ql)?:\/\//.test(value) && URL.canParse(value), "must be a postgres:// or postgresql:// URL")
    .optional(),
  SCRAPER_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be 1 to 64 letters, digits, '.', '_' or '-'")
    .default("default"),
  // Comma-separated absolute directories that directory scans may read; empty = every scan is refused.
  SCAN_ROOTS: z
    .string()
    .default("")
    .transform((value) => value.split(",").map((entry) => entry.trim()).filter((entry) => entry !== ""))
    .superRefine((entries, ctx) => {
      for (const entry of entries) if (!isAbsolute(entry)) ctx.addIssue({ code: "custom", message: `${entry} is not an absolute path` });
    })
    .transform((entries) => entries.map((entry) => resolve(entry))),
  // Most files one scan lists, and the most a request may ask for.
  SCAN_MAX_FILES: int(1, 10_000),
  // Cosine similarity of embeddings at or above which an item is flagged as a near-duplicate.
  EMBEDDING_DUPLICATE_THRESHOLD: z.coerce.number().gt(0).max(1).default(0.95),
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
  /** The longest max_duration_ms a request may ask for; unset = 24 hours. */
  maxDurationLimitMs?: number;
  /** Limit of a page's body, decoded (a compressed body is limited before and after decoding). */
  maxBodyBytes: number;
  userAgent: string;
  /** Honour robots.txt unless a request opts out. */
  respectRobots: boolean;
  /** Default requests in flight per host within one job. */
  perHostConcurrency: number;
  /** Default minimum ms between request starts to one host; 0 = none. */
  perHostDelayMs: number;
  /** Requests per second across all jobs; 0 = unlimited. */
  globalRatePerSec: number;
  /** Default retries of a page after a retryable failure. */
  maxRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** IPs and CIDRs the SSRF guard allows although they are special. */
  allowAddresses: string[];
}

/** Where jobs, their events, items and crawl frontiers are stored. */
export interface StoreConfig {
  /** Directory of the SQLite database (`<dataDir>/trawl.db`), used unless `databaseUrl` is set. */
  dataDir: string;
  /** PostgreSQL connection URL; when set, PostgreSQL replaces SQLite. */
  databaseUrl?: string | undefined;
  /** Namespaces every stored row, so several scrapers can share one PostgreSQL database. */
  scraperId: string;
}

/** Directory scans (seed 003). */
export interface ScanConfig {
  /** Absolute directories scans may read, in SCAN_ROOTS order; empty refuses every scan. */
  roots: string[];
  /** Most files one scan lists, and the most a request may ask for. */
  maxFiles: number;
}

export interface ScraperConfig {
  host: string;
  port: number;
  /** API tokens for gRPC callers (AUTH_TOKENS + AUTH_TOKENS_FILE); none: open, loopback only. */
  authTokens: AccessToken[];
  /** The start-up line saying how the service is protected. */
  accessNotice: string;
  /** Port of the /metrics, /livez, /readyz listener (on `host`); undefined = none. */
  metricsPort: number | undefined;
  crawl: CrawlConfig;
  /** Minimum time between two JobProgress events of one job. */
  progressIntervalMs: number;
  /** Events the in-memory log retains before trimming the oldest. */
  eventLogMaxEvents: number;
  store: StoreConfig;
  scan: ScanConfig;
  /** Cosine similarity at or above which an item is a near-duplicate of an earlier one of its job. */
  embeddingDuplicateThreshold: number;
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
  // Likewise the default duration follows a lowered limit; an explicit one must fit under it.
  if (input.CRAWL_MAX_DURATION_MS === undefined) e.CRAWL_MAX_DURATION_MS = Math.min(e.CRAWL_MAX_DURATION_MS, e.CRAWL_MAX_DURATION_LIMIT_MS);
  if (e.CRAWL_MAX_DURATION_MS > e.CRAWL_MAX_DURATION_LIMIT_MS) {
    throw new ConfigError("CRAWL_MAX_DURATION_MS", `must not exceed CRAWL_MAX_DURATION_LIMIT_MS (${e.CRAWL_MAX_DURATION_LIMIT_MS})`);
  }
  let authTokens: AccessToken[];
  let accessNotice: string;
  try {
    let fileText: string | undefined;
    if (e.AUTH_TOKENS_FILE !== undefined) {
      try {
        fileText = readFileSync(e.AUTH_TOKENS_FILE, "utf8");
      } catch (error) {
        throw new ConfigError("AUTH_TOKENS_FILE", `cannot read ${e.AUTH_TOKENS_FILE}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    authTokens = parseAccessTokens(e.AUTH_TOKENS, fileText);
    accessNotice = checkExposure(new TokenRegistry(authTokens), e.SCRAPER_HOST, "SCRAPER_HOST", e.ALLOW_UNAUTHENTICATED === "1" || e.ALLOW_UNAUTHENTICATED === "true");
  } catch (error) {
    if (error instanceof AccessConfigError) throw new ConfigError(error.variable, error.message.replace(/^invalid [A-Z_]+: /, ""));
    throw error;
  }
  return {
    host: e.SCRAPER_HOST,
    port: e.SCRAPER_PORT,
    authTokens,
    accessNotice,
    metricsPort: e.METRICS_PORT,
    crawl: {
      maxPages: e.CRAWL_MAX_PAGES,
      maxPagesLimit: e.CRAWL_MAX_PAGES_LIMIT,
      maxDepth: e.CRAWL_MAX_DEPTH,
      concurrency: e.CRAWL_CONCURRENCY,
      requestTimeoutMs: e.CRAWL_REQUEST_TIMEOUT_MS,
      maxDurationMs: e.CRAWL_MAX_DURATION_MS,
      maxDurationLimitMs: e.CRAWL_MAX_DURATION_LIMIT_MS,
      maxBodyBytes: e.CRAWL_MAX_BODY_BYTES,
      userAgent: e.CRAWL_USER_AGENT,
      respectRobots: e.CRAWL_RESPECT_ROBOTS,
      perHostConcurrency: e.CRAWL_PER_HOST_CONCURRENCY,
      perHostDelayMs: e.CRAWL_PER_HOST_DELAY_MS,
      globalRatePerSec: e.CRAWL_GLOBAL_RATE_PER_SEC,
      maxRetries: e.CRAWL_MAX_RETRIES,
      retryBaseMs: e.CRAWL_RETRY_BASE_MS,
      retryMaxMs: e.CRAWL_RETRY_MAX_MS,
      allowAddresses: e.CRAWL_ALLOW_ADDRESSES,
    },
    progressIntervalMs: e.PROGRESS_INTERVAL_MS,
    eventLogMaxEvents: e.EVENT_LOG_MAX_EVENTS,
    store: { dataDir: e.DATA_DIR, databaseUrl: e.DATABASE_URL, scraperId: e.SCRAPER_ID },
    scan: { roots: e.SCAN_ROOTS, maxFiles: e.SCAN_MAX_FILES },
    embeddingDuplicateThreshold: e.EMBEDDING_DUPLICATE_THRESHOLD,
    logLevel: e.LOG_LEVEL,
  };
}
