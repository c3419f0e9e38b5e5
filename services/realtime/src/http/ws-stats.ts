/**
 * `GET /ws/stats` over plain HTTP: seed 002's WebSocket connection
 * statistics. A WebSocket upgrade on the same path never reaches express —
 * the HTTP server hands upgrades to the WebSocket endpoints, where it streams
 * seed 000's `stats` messages — so both live on one path.
 */
import type { Principal } from "@trawl/proto";
import type { RequestHandler } from "express";
import { inScope, scopeOf, type TenantScope } from "../auth/scope.js";
import type { LiveState } from "../state/live-state.js";

/** The seed's response, exactly its three keys. */
export interface WsStatsJson {
  /** Open raw WebSocket connections on the gateway (every seed 000/002/003 endpoint). */
  total_connections: number;
  /** Jobs that have not ended (of the caller's tenant; every tenant's for an admin). */
  active_jobs: number;
  /**
   * Always false: Trawl has no Redis. Every gateway takes every event
   * straight from the scrapers' streams, so no pub/sub is needed for all
   * clients to see all events (the seed needed Redis for that).
   */
  redis_connected: false;
}

export interface WsStatsOptions {
  state: LiveState;
  /** The hub's counts (`active` = open connections). */
  connections: () => { active: number };
}

export function wsStatsJson(options: WsStatsOptions, scope?: TenantScope): WsStatsJson {
  let active = options.state.active.size;
  if (scope !== undefined) {
    active = 0;
    for (const id of options.state.active) if (inScope(options.state.jobs.get(id)?.tenant ?? "", scope)) active++;
  }
  return { total_connections: options.connections().active, active_jobs: active, redis_connected: false };
}

/** Behind the REST app's token check, which leaves the caller in `res.locals.principal`. */
export function wsStatsHandler(options: WsStatsOptions): RequestHandler {
  return (_req, res) => {
    const principal = res.locals.principal as Principal | undefined;
    res.set("cache-control", "no-store").json(wsStatsJson(options, principal === undefined ? undefined : scopeOf(principal)));
  };
}
