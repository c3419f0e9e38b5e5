import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("applies the contract's defaults", () => {
    expect(loadConfig({})).toEqual({
      host: "127.0.0.1",
      port: 50051,
      crawl: {
        maxPages: 1000,
        maxPagesLimit: 100_000,
        maxDepth: 10,
        concurrency: 8,
        requestTimeoutMs: 10_000,
        maxDurationMs: 600_000,
        maxBodyBytes: 5_242_880,
        userAgent: "Trawl/0.1 (+https://github.com/trawl)",
      },
      progressIntervalMs: 250,
      eventLogMaxEvents: 200_000,
      logLevel: "info",
    });
  });

  it("reads every variable", () => {
    const config = loadConfig({
      SCRAPER_HOST: "0.0.0.0",
      SCRAPER_PORT: "0",
      CRAWL_MAX_PAGES: "5",
      CRAWL_MAX_PAGES_LIMIT: "50",
      CRAWL_MAX_DEPTH: "3",
      CRAWL_CONCURRENCY: "2",
      CRAWL_REQUEST_TIMEOUT_MS: "100",
      CRAWL_MAX_DURATION_MS: "1000",
      CRAWL_MAX_BODY_BYTES: "1024",
      CRAWL_USER_AGENT: "test-agent",
      PROGRESS_INTERVAL_MS: "0",
      EVENT_LOG_MAX_EVENTS: "10",
      LOG_LEVEL: "debug",
    });
    expect(config).toMatchObject({ host: "0.0.0.0", port: 0, progressIntervalMs: 0, eventLogMaxEvents: 10, logLevel: "debug" });
    expect(config.crawl).toEqual({
      maxPages: 5,
      maxPagesLimit: 50,
      maxDepth: 3,
      concurrency: 2,
      requestTimeoutMs: 100,
      maxDurationMs: 1000,
      maxBodyBytes: 1024,
      userAgent: "test-agent",
    });
  });

  it("lowers the default page limit to a lower hard limit", () => {
    expect(loadConfig({ CRAWL_MAX_PAGES_LIMIT: "500" }).crawl.maxPages).toBe(500);
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
    ["CRAWL_MAX_PAGES", "200000"],
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
});
