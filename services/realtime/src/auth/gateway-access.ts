/**
 * The gateway's access control, built once from its configuration and shared
 * by every edge: who a presented token is (TokenRegistry), which browser
 * origins may call (OriginPolicy), and the refusals each protocol speaks.
 */
import { type AccessToken, type Principal, Role, roleAllows, TokenRegistry } from "@trawl/proto";
import { OriginPolicy } from "./origin-policy.js";

export interface AccessSettings {
  authTokens: readonly AccessToken[];
  allowedOrigins: readonly string[];
  /** Told of every refusal on an edge that counts its own (WebSocket, Socket.IO, tRPC WebSocket). */
  onRefused?: (edge: "websocket" | "socketio" | "trpc", reason: "unauthorized" | "forbidden") => void;
}

/** Why a caller is refused: no valid token (401-like) or a token whose role is too low (403-like). */
export type Refusal = { kind: "unauthenticated"; message: string } | { kind: "forbidden"; message: string };

export class GatewayAccess {
  readonly registry: TokenRegistry;
  readonly origins: OriginPolicy;
  private readonly onRefused: AccessSettings["onRefused"];

  constructor(settings: AccessSettings) {
    this.registry = new TokenRegistry(settings.authTokens);
    this.origins = new OriginPolicy(settings.allowedOrigins);
    this.onRefused = settings.onRefused;
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
