/**
 * The gateway's readiness (`GET /readyz`): ready when its HTTP/WebSocket
 * server is listening (and not shutting down) and at least one scraper's
 * event stream is connected — a gateway that reaches no scraper can serve
 * neither live events nor new jobs, so a load balancer should send clients
 * elsewhere. Liveness (`/livez`) asks nothing: the process answers.
 */
import type { ScraperHealth } from "../scrapers/scraper-pool.js";

export const ServerState = {
  STARTING: "starting",
  LISTENING: "listening",
  SHUTTING_DOWN: "shutting_down",
} as const;
export type ServerState = (typeof ServerState)[keyof typeof ServerState];

export interface ReadinessReport {
  ready: boolean;
  body: {
    status: "ok" | "not_ready";
    /** The checks that failed, by name ("server", "scrapers"); empty when ready. */
    not_ready: Array<"server" | "scrapers">;
    server: ServerState;
    scrapers: { connected: number; total: number; disconnected: string[] };
  };
}

export function readiness(server: ServerState, scrapers: readonly ScraperHealth[]): ReadinessReport {
  const disconnected = scrapers.filter((scraper) => !scraper.connected).map((scraper) => scraper.address);
  const connected = scrapers.length - disconnected.length;
  const notReady: ReadinessReport["body"]["not_ready"] = [];
  if (server !== ServerState.LISTENING) notReady.push("server");
  if (connected === 0) notReady.push("scrapers");
  const ready = notReady.length === 0;
  return {
    ready,
    body: { status: ready ? "ok" : "not_ready", not_ready: notReady, server, scrapers: { connected, total: scrapers.length, disconnected } },
  };
}
