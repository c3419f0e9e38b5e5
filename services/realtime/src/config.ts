/**
 * The gateway's configuration: every environment variable of the process
 * contract, validated once at start-up by one zod schema. A bad value throws
 * a ConfigError naming the variable so `main` can report it and exit.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AccessConfigError, type AccessToken, checkExposure, parseAccessTokens, TokenRegistry } from "@trawl/proto";
import { z } from "zod";
import { parseAllowedOrigins } from "./auth/origin-policy.js";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().min(1);

const scraperAddress = z
  .string()
  .regex(/^[^\s:,]+:\d{1,5}$/, "expected host:port");

/** The monorepo's dashboard build, `web/dist`, seen from this module (src/ or dist/ of services/realtime). */
const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL("../../../web/dist", import.meta.url));

const envSchema = z.object({
  GATEWAY_HOST: z.string().min(1).default("127.0.0.1"),
  GATEWAY_PORT: port.default(8000),
  SCRAPER_ADDRESSES: z
    .string()
    .default("127.0.0.1:50051")
    .transform((value) => value.split(",").map((part) => part.trim()).filter((part) => part.length > 0))
    .pipe(z.array(scraperAddress).min(1, "at least one scraper address is required")),
  WS_MAX_BUFFERED_BYTES: positiveInt.default(1_048_576),
  WS_SLOW_CLIENT_TIMEOUT_MS: positiveInt.default(10_000),
  WS_HEARTBEAT_MS: positiveInt.default(30_000),
  WS_BATCH_WINDOW_MS: z.coerce.number().int().min(0).max(1_000).default(10),
  WS_MAX_PAYLOAD_BYTES: positiveInt.default(65_536),
  WS_MAX_CONNECTIONS: positiveInt.default(50_000),
  WS_MAX_CONNECTIONS_PER_IP: positiveInt.default(20_000),
  WS_MAX_MESSAGES_PER_SECOND: positiveInt.default(50),
  MAX_ACTIVE_JOBS_PER_TENANT: positiveInt.default(100),
  WS_MAX_SUBSCRIPTIONS: positiveInt.default(256),
  HTTP_MAX_BODY_BYTES: positiveInt.default(65_536),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  DASHBOARD_DIR: z.string().min(1).default(DEFAULT_DASHBOARD_DIR),
  AUTH_TOKENS: z.string().optional(),
  AUTH_TOKENS_FILE: z.string().min(1).optional(),
  ALLOW_UNAUTHENTICATED: z.enum(["0", "1", "true", "false"]).default("0"),
  ALLOWED_ORIGINS: z.string().optional(),
  SCRAPER_TOKEN: z.string().regex(/^[A-Za-z0-9._~-]{16,256}$/, "expected the scraper's API token (16-256 of A-Z, a-z, 0-9, '.', '_', '~', '-')").optional(),
});

export type LogLevel = (typeof LOG_LEVELS)[number];

/** The parsed gateway configuration. */
export interface GatewayConfig {
  host: string;
  port: number;
  scraperAddresses: string[];
  wsMaxBufferedBytes: number;
  wsSlowClientTimeoutMs: number;
  /** At most one write per client per this many ms while events stream in (0: one per event-loop turn). */
  wsBatchWindowMs: number;
  wsHeartbeatMs: number;
  wsMaxPayloadBytes: number;
  /** Open WebSockets in all (every edge) and from one address. */
  wsMaxConnections: number;
  wsMaxConnectionsPerIp: number;
  /** Inbound messages a client may send per second (a burst of twice that is allowed). */
  wsMaxMessagesPerSecond: number;
  /** Jobs one tenant may have running (or paused) at once; more starts are refused 429. */
  maxActiveJobsPerTenant: number;
  /** Subscriptions one connection may hold (Socket.IO rooms, tRPC subscriptions). */
  wsMaxSubscriptions: number;
  /** Largest REST / tRPC HTTP request body. */
  httpMaxBodyBytes: number;
  logLevel: LogLevel;
  /** API tokens (AUTH_TOKENS + AUTH_TOKENS_FILE); none: open, loopback only. */
  authTokens: AccessToken[];
  /** ALLOW_UNAUTHENTICATED: serve a non-loopback address without tokens. */
  allowUnauthenticated: boolean;
  /** Browser origins allowed besides the gateway's own (ALLOWED_ORIGINS; "*": any). */
  allowedOrigins: string[];
  /** The token the gateway presents to its scrapers (an admin token of theirs), if they require one. */
  scraperToken: string | undefined;
  /** The start-up line saying how the gateway is protected. */
  accessNotice: string;
  /** The built web dashboard served at `/`. */
  dashboardDir: string;
}

/** Thrown for an invalid environment; `variable` names the offending one. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`invalid ${variable}: ${detail}`);
    this.name = "ConfigError";
  }
}

/** Parses the gateway's variables out of `env` (normally `process.env`). */
export function parseConfig(env: Record<string, string | undefined>): GatewayConfig {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    // An empty variable means "not set" so `FOO= node main.js` keeps the default.
    picked[key] = value === "" ? undefined : value;
  }
  const result = envSchema.safeParse(picked);
  if (!result.success) {
    const issue = result.error.issues[0];
    const variable = typeof issue?.path[0] === "string" ? issue.path[0] : "environment";
    throw new ConfigError(variable, issue?.message ?? "invalid value");
  }
  const env2 = result.data;
  return {
    host: env2.GATEWAY_HOST,
    port: env2.GATEWAY_PORT,
    scraperAddresses: env2.SCRAPER_ADDRESSES,
    wsMaxBufferedBytes: env2.WS_MAX_BUFFERED_BYTES,
    wsSlowClientTimeoutMs: env2.WS_SLOW_CLIENT_TIMEOUT_MS,
    wsBatchWindowMs: env2.WS_BATCH_WINDOW_MS,
    wsHeartbeatMs: env2.WS_HEARTBEAT_MS,
    wsMaxPayloadBytes: env2.WS_MAX_PAYLOAD_BYTES,
    wsMaxConnections: env2.WS_MAX_CONNECTIONS,
    wsMaxConnectionsPerIp: env2.WS_MAX_CONNECTIONS_PER_IP,
    wsMaxMessagesPerSecond: env2.WS_MAX_MESSAGES_PER_SECOND,
    maxActiveJobsPerTenant: env2.MAX_ACTIVE_JOBS_PER_TENANT,
    wsMaxSubscriptions: env2.WS_MAX_SUBSCRIPTIONS,
    httpMaxBodyBytes: env2.HTTP_MAX_BODY_BYTES,
    logLevel: env2.LOG_LEVEL,
    dashboardDir: env2.DASHBOARD_DIR,
    ...accessSettings(env2),
  };
}

function accessSettings(env2: z.infer<typeof envSchema>): Pick<GatewayConfig, "authTokens" | "allowUnauthenticated" | "allowedOrigins" | "scraperToken" | "accessNotice"> {
  try {
    let fileText: string | undefined;
    if (env2.AUTH_TOKENS_FILE !== undefined) {
      try {
        fileText = readFileSync(env2.AUTH_TOKENS_FILE, "utf8");
      } catch (error) {
        throw new ConfigError("AUTH_TOKENS_FILE", `cannot read ${env2.AUTH_TOKENS_FILE}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const authTokens = parseAccessTokens(env2.AUTH_TOKENS, fileText);
    const allowUnauthenticated = env2.ALLOW_UNAUTHENTICATED === "1" || env2.ALLOW_UNAUTHENTICATED === "true";
    const accessNotice = checkExposure(new TokenRegistry(authTokens), env2.GATEWAY_HOST, "GATEWAY_HOST", allowUnauthenticated);
    let allowedOrigins: string[];
    try {
      allowedOrigins = parseAllowedOrigins(env2.ALLOWED_ORIGINS);
    } catch (error) {
      throw new ConfigError("ALLOWED_ORIGINS", error instanceof Error ? error.message : String(error));
    }
    return { authTokens, allowUnauthenticated, allowedOrigins, scraperToken: env2.SCRAPER_TOKEN, accessNotice };
  } catch (error) {
    if (error instanceof AccessConfigError) throw new ConfigError(error.variable, error.message.replace(/^invalid [A-Z_]+: /, ""));
    throw error;
  }
}
