/**
 * The tRPC client of the gateway. Queries and mutations go over HTTP
 * (httpBatchLink): a one-shot command opens no WebSocket, and a gateway
 * that is down fails the first call at once with a connection error instead
 * of a WebSocket client retrying forever. Subscriptions go over one lazily
 * opened WebSocket (wsLink), because the tRPC WebSocket client reconnects by
 * itself and resumes each subscription with the id of the last event it
 * delivered (`lastEventId`), which the gateway turns into an exact replay of
 * what was missed; SSE would resume too, but needs an EventSource that Node
 * 20 lacks.
 */
import type { AppRouter } from "@trawl/realtime";
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink, type TRPCClient } from "@trpc/client";
import { WebSocket } from "ws";
import { UsageError } from "./errors.js";

export type Api = TRPCClient<AppRouter>;

/** The job shape every jobs.* call returns (the REST `/api/jobs/:id` JSON). */
export type JobJson = Awaited<ReturnType<Api["jobs"]["get"]["query"]>>;

export const DEFAULT_GATEWAY_URL = "http://127.0.0.1:8000";

/** How long one HTTP call may take before the gateway counts as unreachable. */
export const REQUEST_TIMEOUT_MS = 60_000;

export interface TrawlClient {
  readonly api: Api;
  /** Closes the WebSocket, if one was opened. */
  close(): Promise<void>;
}

export interface ClientOptions {
  /** The gateway's base URL, e.g. http://127.0.0.1:8000. */
  readonly gatewayUrl: URL;
  /** How long one HTTP call may take (default REQUEST_TIMEOUT_MS). */
  readonly requestTimeoutMs?: number;
  /** The API token (TRAWL_TOKEN): a Bearer header on HTTP calls, `connectionParams.token` on the WebSocket. */
  readonly token?: string | undefined;
}

/**
 * Checks a gateway URL from `--gateway` or TRAWL_GATEWAY; `source` names
 * where it came from in the error.
 */
export function parseGatewayUrl(text: string, source: string): URL {
  if (!URL.canParse(text)) throw new UsageError(`${source} must be an http(s) URL such as ${DEFAULT_GATEWAY_URL}, got "${text}"`);
  const url = new URL(text);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`${source} must be an http or https URL, got "${text}"`);
  return url;
}

/** `base` + `/trpc`, keeping any path prefix the gateway is mounted under. */
function endpoint(base: URL, protocol?: "ws:" | "wss:"): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/trpc`;
  url.search = "";
  url.hash = "";
  if (protocol !== undefined) url.protocol = protocol;
  return url.toString();
}

/** Reconnect quickly at first (a restarting gateway is back in about a second), then every 3 s at most. */
export function reconnectDelayMs(attempt: number): number {
  return attempt === 0 ? 0 : Math.min(250 * 2 ** (attempt - 1), 3_000);
}

export function createClient(options: ClientOptions): TrawlClient {
  const timeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const wsClient = createWSClient({
    url: endpoint(options.gatewayUrl, options.gatewayUrl.protocol === "https:" ? "wss:" : "ws:"),
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    // Opened by the first subscription, closed once none is left.
    lazy: { enabled: true, closeMs: 0 },
    retryDelayMs: reconnectDelayMs,
    // Notices a half-open connection (a gateway host that vanished) and reconnects.
    keepAlive: { enabled: true, intervalMs: 10_000, pongTimeoutMs: 5_000 },
    ...(options.token === undefined ? {} : { connectionParams: { token: options.token } }),
  });
  const fetchWithTimeout: typeof fetch = (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal == null ? timeout : AbortSignal.any([init.signal, timeout]);
    return fetch(input, { ...init, signal });
  };
  const api = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: wsLink<AppRouter>({ client: wsClient }),
        false: httpBatchLink<AppRouter>({
          url: endpoint(options.gatewayUrl),
          fetch: fetchWithTimeout,
          headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
        }),
      }),
    ],
  });
  return { api, close: () => wsClient.close() };
}
