import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "./config.js";

describe("parseConfig", () => {
  it("applies the contract's defaults to an empty environment", () => {
    expect(parseConfig({})).toEqual({
      host: "127.0.0.1",
      port: 8000,
      scraperAddresses: ["127.0.0.1:50051"],
      wsMaxBufferedBytes: 1_048_576,
      wsSlowClientTimeoutMs: 10_000,
      wsBatchWindowMs: 10,
      wsHeartbeatMs: 30_000,
      wsMaxPayloadBytes: 65_536,
      logLevel: "info",
      dashboardDir: fileURLToPath(new URL("../../../web/dist", import.meta.url)),
    });
  });

  it("reads every variable", () => {
    const config = parseConfig({
      GATEWAY_HOST: "0.0.0.0",
      GATEWAY_PORT: "0",
      SCRAPER_ADDRESSES: "127.0.0.1:1, 10.0.0.2:50051",
      WS_MAX_BUFFERED_BYTES: "2048",
      WS_SLOW_CLIENT_TIMEOUT_MS: "500",
      WS_BATCH_WINDOW_MS: "0",
      WS_HEARTBEAT_MS: "100",
      WS_MAX_PAYLOAD_BYTES: "1024",
      LOG_LEVEL: "silent",
      DASHBOARD_DIR: "/srv/trawl/web",
    });
    expect(config).toMatchObject({
      host: "0.0.0.0",
      dashboardDir: "/srv/trawl/web",
      port: 0,
      scraperAddresses: ["127.0.0.1:1", "10.0.0.2:50051"],
      wsMaxBufferedBytes: 2048,
      wsSlowClientTimeoutMs: 500,
      wsBatchWindowMs: 0,
      wsHeartbeatMs: 100,
      wsMaxPayloadBytes: 1024,
      logLevel: "silent",
    });
  });

  it.each([
    ["GATEWAY_PORT", "eighty"],
    ["GATEWAY_PORT", "70000"],
    ["SCRAPER_ADDRESSES", "no-port-here"],
    ["SCRAPER_ADDRESSES", " , "],
    ["WS_MAX_BUFFERED_BYTES", "0"],
    ["WS_SLOW_CLIENT_TIMEOUT_MS", "-5"],
    ["WS_HEARTBEAT_MS", "1.5"],
    ["WS_BATCH_WINDOW_MS", "5000"],
    ["WS_BATCH_WINDOW_MS", "-1"],
    ["WS_MAX_PAYLOAD_BYTES", "lots"],
    ["LOG_LEVEL", "loud"],
  ])("names %s when it is %j", (variable, value) => {
    let thrown: unknown;
    try {
      parseConfig({ [variable]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
    expect((thrown as ConfigError).message).toContain(variable);
  });
});
