import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("applies the contract's defaults", () => {
    expect(loadConfig({})).toEqual({
      host: "127.0.0.1",
      port: 50051,
      authTokens: [],
      accessNotice: "no AUTH_TOKENS configured: serving without authentication on loopback (127.0.0.1) only",
      crawl: {
        maxPages: 1000,
        maxPagesLimit: 100_000,
        maxDepth: 10,
        concurrency: 8,
        requestTimeoutMs: 10_000,
        maxDurationMs: 600_000,
        maxDurationLimitMs: 86_400_000,
        maxBodyBytes: 5_242_880,
        userAgent: "Trawl/0.1 (+https://github.com/trawl)",
        respectRobots: true,
        perHostConcurrency: 2,
        perHostDelayMs: 250,
        globalRatePerSec: 0,
        maxRetries: 2,
        retryBaseMs: 500,
        retryMaxMs: 30_000,
        allowAddresses: [],
      },
      progressIntervalMs: 250,
      eventLogMaxEvents: 200_000,
      store: { dataDir: "./data", scraperId: "default" },
      scan: { roots: [], maxFiles: 10_000 },
      embeddingDuplicateThreshold: 0.95,
      logLevel: "info",
    });
  });

  it("reads the scan and embedding variables", () => {
    const config = loadConfig({ SCAN_ROOTS: " /srv/files/ , /home/shared/docs/../docs", SCAN_MAX_FILES: "50", EMBEDDING_DUPLICATE_THRESHOLD: "0.9" });
    expect(config.scan).toEqual({ roots: ["/srv/files", "/home/shared/docs"], maxFiles: 50 });
    expect(config.embeddingDuplicateThreshold).toBe(0.9);
  });

  it("reads every variable", () => {
    const config = loadConfig({
      SCRAPER_HOST: "0.0.0.0",
      SCRAPER_PORT: "0",
      AUTH_TOKENS: "ops:admin:gateway-admin-token-1",
      CRAWL_MAX_PAGES: "5",
      CRAWL_MAX_PAGES_LIMIT: "50",
      CRAWL_MAX_DEPTH: "3",
      CRAWL_CONCURRENCY: "2",
      CRAWL_REQUEST_TIMEOUT_MS: "100",
      CRAWL_MAX_DURATION_MS: "1000",
      CRAWL_MAX_DURATION_LIMIT_MS: "3600000",
      CRAWL_MAX_BODY_BYTES: "1024",
      CRAWL_USER_AGENT: "test-agent",
      CRAWL_RESPECT_ROBOTS: "false",
      CRAWL_PER_HOST_CONCURRENCY: "4",
      CRAWL_PER_HOST_DELAY_MS: "0",
      CRAWL_GLOBAL_RATE_PER_SEC: "2.5",
      CRAWL_MAX_RETRIES: "5",
      CRAWL_RETRY_BASE_MS: "100",
      CRAWL_RETRY_MAX_MS: "2000",
      CRAWL_ALLOW_ADDRESSES: " 127.0.0.1, 10.0.0.0/8 ,::1,fd00::/8",
      PROGRESS_INTERVAL_MS: "0",
      EVENT_LOG_MAX_EVENTS: "10",
      DATA_DIR: "/var/lib/trawl",
      DATABASE_URL: "postgresql://trawl@db.internal:5432/trawl",
      SCRAPER_ID: "scraper-2",
      LOG_LEVEL: "debug",
    });
    expect(config).toMatchObject({ host: "0.0.0.0", port: 0, progressIntervalMs: 0, eventLogMaxEvents: 10, logLevel: "debug" });
    expect(config.authTokens).toEqual([{ tenant: "ops", role: "admin", token: "gateway-admin-token-1" }]);
    expect(config.store).toEqual({ dataDir: "/var/lib/trawl", databaseUrl: "postgresql://trawl@db.internal:5432/trawl", scraperId: "scraper-2" });
    expect(config.crawl).toEqual({
      maxPages: 5,
      maxPagesLimit: 50,
      maxDepth: 3,
      concurrency: 2,
      requestTimeoutMs: 100,
      maxDurationMs: 1000,
      maxDurationLimitMs: 3_600_000,
      maxBodyBytes: 1024,
      userAgent: "test-agent",
      respectRobots: false,
      perHostConcurrency: 4,
      perHostDelayMs: 0,
      globalRatePerSec: 2.5,
      maxRetries: 5,
      retryBaseMs: 100,
      retryMaxMs: 2000,
      allowAddresses: ["127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"],
    });
  });

  it("lowers the default page limit to a lower hard limit", () => {
    expect(loadConfig({ CRAWL_MAX_PAGES_LIMIT: "500" }).crawl.maxPages).toBe(500);
  });

  it("lowers the default duration limit to a lower hard limit, and refuses a default above it", () => {
    expect(loadConfig({ CRAWL_MAX_DURATION_LIMIT_MS: "60000" }).crawl).toMatchObject({ maxDurationMs: 60_000, maxDurationLimitMs: 60_000 });
    expect(() => loadConfig({ CRAWL_MAX_DURATION_LIMIT_MS: "60000", CRAWL_MAX_DURATION_MS: "60001" })).toThrow(/CRAWL_MAX_DURATION_MS: must not exceed CRAWL_MAX_DURATION_LIMIT_MS \(60000\)/);
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig({ SCRAPER_PORT: "" }).port).toBe(50051);
  });

  it.each([
    ["SCRAPER_PORT", "http"],
    ["SCRAPER_PORT", "70000"],
    ["CRAWL_CONCURRENCY", "0"],
    ["CRAWL_MAX_DEPTH", "-1"],
    ["EVENT_LOG_MAX_EVENTS", "1.5"],
    ["LOG_LEVEL", "loud"],
    ["DATABASE_URL", "mysql://db.internal/trawl"],
    ["DATABASE_URL", "db.internal:5432"],
    ["SCRAPER_ID", "two words"],
    ["CRAWL_MAX_PAGES", "200000"],
    ["SCAN_ROOTS", "/srv/files,relative/dir"],
    ["SCAN_MAX_FILES", "0"],
    ["EMBEDDING_DUPLICATE_THRESHOLD", "0"],
    ["EMBEDDING_DUPLICATE_THRESHOLD", "1.5"],
    ["EMBEDDING_DUPLICATE_THRESHOLD", "high"],
    ["CRAWL_RESPECT_ROBOTS", "maybe"],
    ["CRAWL_PER_HOST_CONCURRENCY", "0"],
    ["CRAWL_PER_HOST_CONCURRENCY", "65"],
    ["CRAWL_PER_HOST_DELAY_MS", "-1"],
    ["CRAWL_GLOBAL_RATE_PER_SEC", "fast"],
    ["CRAWL_MAX_RETRIES", "11"],
    ["CRAWL_RETRY_BASE_MS", "0.5"],
    ["CRAWL_RETRY_MAX_MS", "-5"],
    ["CRAWL_ALLOW_ADDRESSES", "127.0.0.1,localhost"],
    ["CRAWL_ALLOW_ADDRESSES", "10.0.0.0/33"],
  ])("names %s when it is %j", (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toContain(variable);
  });

  it("refuses a non-loopback SCRAPER_HOST without tokens unless ALLOW_UNAUTHENTICATED is set", () => {
    expect(() => loadConfig({ SCRAPER_HOST: "0.0.0.0" })).toThrow(/AUTH_TOKENS.*SCRAPER_HOST=0\.0\.0\.0/);
    expect(loadConfig({ SCRAPER_HOST: "0.0.0.0", ALLOW_UNAUTHENTICATED: "1" }).accessNotice).toMatch(/WITHOUT authentication/);
    expect(() => loadConfig({ AUTH_TOKENS: "ops:root:gateway-admin-token-1" })).toThrow(/AUTH_TOKENS/);
  });
});
