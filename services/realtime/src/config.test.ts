import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
      wsMaxConnections: 50_000,
      wsMaxConnectionsPerIp: 20_000,
      wsMaxMessagesPerSecond: 50,
      maxActiveJobsPerTenant: 100,
      wsMaxSubscriptions: 256,
      httpMaxBodyBytes: 65_536,
      logLevel: "info",
      dashboardDir: fileURLToPath(new URL("../../../web/dist", import.meta.url)),
      authTokens: [],
      allowUnauthenticated: false,
      allowedOrigins: [],
      scraperToken: undefined,
      accessNotice: "no AUTH_TOKENS configured: serving without authentication on loopback (127.0.0.1) only",
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
      AUTH_TOKENS: "acme:control:acme-control-token-1",
      ALLOWED_ORIGINS: "https://app.example.com, http://localhost:5173",
      SCRAPER_TOKEN: "scraper-admin-token-1",
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
      authTokens: [{ tenant: "acme", role: "control", token: "acme-control-token-1" }],
      allowedOrigins: ["https://app.example.com", "http://localhost:5173"],
      scraperToken: "scraper-admin-token-1",
      accessNotice: "authentication on: API tokens required on every edge",
    });
  });

  it("refuses a non-loopback address without tokens, naming AUTH_TOKENS and the opt-out", () => {
    expect(() => parseConfig({ GATEWAY_HOST: "0.0.0.0" })).toThrow(/AUTH_TOKENS.*GATEWAY_HOST=0\.0\.0\.0.*ALLOW_UNAUTHENTICATED/);
    expect(parseConfig({ GATEWAY_HOST: "0.0.0.0", ALLOW_UNAUTHENTICATED: "1" })).toMatchObject({ allowUnauthenticated: true, accessNotice: expect.stringMatching(/WITHOUT authentication/) });
  });

  it("reads tokens from AUTH_TOKENS_FILE and names it when it cannot", () => {
    const dir = mkdtempSync(join(tmpdir(), "trawl-tokens-"));
    const file = join(dir, "tokens.json");
    writeFileSync(file, JSON.stringify([{ tenant: "ops", role: "admin", token: "ops-admin-token-000" }]));
    expect(parseConfig({ AUTH_TOKENS_FILE: file }).authTokens).toEqual([{ tenant: "ops", role: "admin", token: "ops-admin-token-000" }]);
    expect(() => parseConfig({ AUTH_TOKENS_FILE: join(dir, "missing.json") })).toThrow(/AUTH_TOKENS_FILE: cannot read/);
    writeFileSync(file, "[{");
    expect(() => parseConfig({ AUTH_TOKENS_FILE: file })).toThrow(/AUTH_TOKENS_FILE: not JSON/);
    rmSync(dir, { recursive: true, force: true });
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
    ["AUTH_TOKENS", "acme:root:acme-control-token-1"],
    ["ALLOWED_ORIGINS", "app.example.com"],
    ["ALLOWED_ORIGINS", "https://app.example.com/path"],
    ["SCRAPER_TOKEN", "short"],
    ["ALLOW_UNAUTHENTICATED", "yes"],
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
