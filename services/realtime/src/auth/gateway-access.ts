/**
 * The gateway's access control, built once from its configuration and shared
 * by every edge: who a presented token is (TokenRegistry), which browser
 * origins may call (OriginPolicy), and the refusals each protocol speaks.
 */
import { type AccessToken, type Principal, Role, roleAllows, TokenRegistry } from "@trawl/proto";
import { HttpError } from "../http/errors.js";
import type { LiveState } from "../state/live-state.js";
import { OriginPolicy } from "./origin-policy.js";

export interface AccessSettings {
  authTokens: readonly AccessToken[];
  allowedOrigins: readonly string[];
  /** Jobs one tenant may have running or paused at once (MAX_ACTIVE_JOBS_PER_TENANT); unbounded when absent. */
  maxActiveJobsPerTenant?: number;
  /** Told when a tenant limit refuses something. */
  onLimit?: (limit: string) => void;
  /** Told of every refusal on an edge that counts its own (WebSocket, Socket.IO, tRPC WebSocket). */
  onRefused?: (edge: "websocket" | "socketio" | "trpc", reason: "unauthorized" | "forbidden") => void;
}

/** Why a caller is refused: no valid token (401-like) or a token whose role is too low (403-like). */
export type Refusal = { kind: "unauthenticated"; message: string } | { kind: "forbidden"; message: string };

export class GatewayAccess {
  readonly registry: TokenRegistry;
  readonly origins: OriginPolicy;
  private readonly onRefused: AccessSettings["onRefused"];
  readonly maxActiveJobsPerTenant: number;
  private readonly onLimit: AccessSettings["onLimit"];

  constructor(settings: AccessSettings) {
    this.registry = new TokenRegistry(settings.authTokens);
    this.origins = new OriginPolicy(settings.allowedOrigins);
    this.onRefused = settings.onRefused;
    this.maxActiveJobsPerTenant = settings.maxActiveJobsPerTenant ?? Number.POSITIVE_INFINITY;
    this.onLimit = settings.onLimit;
  }

  /**
   * Refuses a new job for `tenant` when it already has its share running or
   * paused (429 too_many_requests naming `tenant`; TOO_MANY_REQUESTS over tRPC).
   */
  assertCanStart(state: LiveState, tenant: string): void {
    if (!Number.isFinite(this.maxActiveJobsPerTenant)) return;
    let active = 0;
    for (const id of state.active) if (state.jobs.get(id)?.tenant === tenant) active++;
    if (active >= this.maxActiveJobsPerTenant) {
      this.onLimit?.("active_jobs_per_tenant");
      throw new HttpError(429, "too_many_requests", `tenant ${tenant} already has ${active} active jobs (MAX_ACTIVE_JOBS_PER_TENANT=${this.maxActiveJobsPerTenant}); wait for one to end or cancel one`, "tenant");
    }
  }

  /** True when tokens are required. */
  get enabled(): boolean {
    return this.registry.enabled;
  }

  /**
   * The principal of `token`, or the refusal to give when it may not do what
   * `needed` allows; `edge` names where, for the refusal metrics (REST counts
   * its 401/403 responses itself).
   */
  check(token: string | undefined, needed: Role = Role.READ, edge?: "websocket" | "socketio" | "trpc"): Principal | Refusal {
    const principal = this.registry.authenticate(token);
    let refusal: Refusal | undefined;
    if (principal === undefined) refusal = { kind: "unauthenticated", message: token === undefined || token === "" ? "an API token is required" : "the API token is not valid" };
    else if (!roleAllows(principal.role, needed)) refusal = forbidden(principal, needed);
    if (refusal === undefined) return principal as Principal;
    if (edge !== undefined) this.onRefused?.(edge, refusal.kind === "forbidden" ? "forbidden" : "unauthorized");
    return refusal;
  }
}

export function isRefusal(value: Principal | Refusal): value is Refusal {
  return "kind" in value;
}

/** The refusal for `principal` attempting what `needed` allows. */
export function forbidden(principal: Principal, needed: Role): Refusal {
  return { kind: "forbidden", message: `this token's role (${principal.role}) may not do this; it needs ${needed}` };
}
