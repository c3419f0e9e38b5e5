/**
 * Which WebSocket endpoint an upgrade request is for, decided from its URL
 * alone (pure, so the routing table is tested without sockets).
 */
export type WsRoute =
  | { kind: "scraping" }
  /** Seed 000's job endpoint; `format=flat` selects seed 002's flat events instead. */
  | { kind: "job"; jobId: string; format: string | null }
  | { kind: "stats"; interval: string | null }
  /** Seed 003's file-processing job endpoint, `/ws/{job_id}`. */
  | { kind: "file-job"; jobId: string }
  /** Seed 003's directory-scan socket, `/ws/scan/{scan_id}`. */
  | { kind: "scan"; scanId: string }
  /** The tRPC WebSocket transport. */
  | { kind: "trpc" }
  /** Seed 004's Socket.IO server (engine.io's WebSocket transport). */
  | { kind: "socketio" }
  | { kind: "not_found" };

const JOB_PREFIX = "/ws/scraping/";
const SCAN_PREFIX = "/ws/scan/";
const WS_PREFIX = "/ws/";

/** The one path segment after `prefix`, decoded; undefined when there are more, none, or it is malformed. */
function segmentAfter(path: string, prefix: string): string | undefined {
  const segment = path.slice(prefix.length);
  if (segment.length === 0 || segment.includes("/")) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Routes a request URL (path and query, as in `req.url`). */
export function routeUpgrade(requestUrl: string | undefined): WsRoute {
  let url: URL;
  try {
    url = new URL(requestUrl ?? "/", "http://gateway.invalid");
  } catch {
    return { kind: "not_found" };
  }
  if (url.pathname === "/socket.io" || url.pathname.startsWith("/socket.io/")) return { kind: "socketio" };
  const path = url.pathname.length > 1 && url.pathname.endsWith("/") ? url.pathname.slice(0, -1) : url.pathname;
  if (path === "/ws/scraping") return { kind: "scraping" };
  if (path === "/trpc") return { kind: "trpc" };
  if (path === "/ws/stats") return { kind: "stats", interval: url.searchParams.get("interval") };
  if (path.startsWith(JOB_PREFIX)) {
    const jobId = segmentAfter(path, JOB_PREFIX);
    return jobId === undefined ? { kind: "not_found" } : { kind: "job", jobId, format: url.searchParams.get("format") };
  }
  if (path.startsWith(SCAN_PREFIX)) {
    const scanId = segmentAfter(path, SCAN_PREFIX);
    return scanId === undefined ? { kind: "not_found" } : { kind: "scan", scanId };
  }
  if (path.startsWith(WS_PREFIX)) {
    const jobId = segmentAfter(path, WS_PREFIX);
    // "scan" alone is the scan socket without its id.
    return jobId === undefined || jobId === "scan" ? { kind: "not_found" } : { kind: "file-job", jobId };
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
