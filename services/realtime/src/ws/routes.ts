/**
 * Which WebSocket endpoint an upgrade request is for, decided from its URL
 * alone (pure, so the routing table is tested without sockets).
 */
export type WsRoute =
  | { kind: "scraping" }
  | { kind: "job"; jobId: string }
  | { kind: "stats"; interval: string | null }
  /** The tRPC WebSocket transport. */
  | { kind: "trpc" }
  | { kind: "not_found" };

const JOB_PREFIX = "/ws/scraping/";

/** Routes a request URL (path and query, as in `req.url`). */
export function routeUpgrade(requestUrl: string | undefined): WsRoute {
  let url: URL;
  try {
    url = new URL(requestUrl ?? "/", "http://gateway.invalid");
  } catch {
    return { kind: "not_found" };
  }
  const path = url.pathname.length > 1 && url.pathname.endsWith("/") ? url.pathname.slice(0, -1) : url.pathname;
  if (path === "/ws/scraping") return { kind: "scraping" };
  if (path === "/trpc") return { kind: "trpc" };
  if (path === "/ws/stats") return { kind: "stats", interval: url.searchParams.get("interval") };
  if (path.startsWith(JOB_PREFIX)) {
    const segment = path.slice(JOB_PREFIX.length);
    if (segment.length === 0 || segment.includes("/")) return { kind: "not_found" };
    try {
      return { kind: "job", jobId: decodeURIComponent(segment) };
    } catch {
      return { kind: "not_found" };
    }
  }
  return { kind: "not_found" };
}

export const DEFAULT_STATS_INTERVAL_SECONDS = 5;
export const STATS_INTERVAL_ERROR = "interval must be a number from 1 to 60";

/** The `/ws/stats` interval in seconds (default 5), or undefined when out of 1–60 or not a number. */
export function parseStatsInterval(raw: string | null): number | undefined {
  if (raw === null) return DEFAULT_STATS_INTERVAL_SECONDS;
  if (raw.trim() === "") return undefined;
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds >= 1 && seconds <= 60 ? seconds : undefined;
}
