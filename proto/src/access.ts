/**
 * API tokens, shared by every Trawl process that checks them (the gateway on
 * each of its edges, the scraper on gRPC).
 *
 * A token belongs to a tenant and carries a role: `read` (see jobs, events,
 * stats), `control` (also start, pause, resume, cancel) or `admin` (every
 * tenant's jobs). Tokens come from configuration: `AUTH_TOKENS` holds
 * comma-separated `tenant:role:token` entries and/or `AUTH_TOKENS_FILE` names
 * a JSON file `[{ "tenant", "role", "token" }]`. With no tokens at all the
 * process runs open — and then only on a loopback address (see
 * `checkExposure`).
 *
 * Presented tokens are compared by their SHA-256 digest, looked up in a map,
 * so the time taken does not depend on how much of a token matched.
 */
import { createHash } from "node:crypto";

export const Role = { READ: "read", CONTROL: "control", ADMIN: "admin" } as const;
export type Role = (typeof Role)[keyof typeof Role];
const RANK: Record<Role, number> = { read: 0, control: 1, admin: 2 };

/** Who is calling: the tenant whose jobs they see and the most they may do. */
export interface Principal {
  readonly tenant: string;
  readonly role: Role;
  /** A short, non-secret label of the token (for logs): its digest's first 8 hex digits, or "open". */
  readonly tokenId: string;
}

/** The principal of every caller when no token is configured (loopback only). */
export const OPEN_PRINCIPAL: Principal = { tenant: "default", role: Role.ADMIN, tokenId: "open" };

/** The tenant a job belongs to when it was started without one (open mode, older jobs). */
export const DEFAULT_TENANT = "default";

export interface AccessToken {
  readonly tenant: string;
  readonly role: Role;
  readonly token: string;
}

/** A configuration error naming the setting at fault. */
export class AccessConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`invalid ${variable}: ${detail}`);
    this.name = "AccessConfigError";
  }
}

const TENANT = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** True for a valid tenant name: 1-63 of a-z, 0-9, '_' or '-', starting with a letter or digit. */
export function isTenantName(name: string): boolean {
  return TENANT.test(name);
}
/** URL- and subprotocol-safe, so a token travels unchanged in `?token=`, headers and `Sec-WebSocket-Protocol`. */
const TOKEN = /^[A-Za-z0-9._~-]{16,256}$/;

/** Reads `AUTH_TOKENS` (inline) and the text of `AUTH_TOKENS_FILE`, either of which may be absent. */
export function parseAccessTokens(inline: string | undefined, fileText?: string, fileVariable = "AUTH_TOKENS_FILE"): AccessToken[] {
  const tokens: AccessToken[] = [];
  for (const [index, entry] of (inline ?? "").split(",").map((part) => part.trim()).entries()) {
    if (entry === "") continue;
    const parts = entry.split(":");
    if (parts.length !== 3) throw new AccessConfigError("AUTH_TOKENS", `entry ${index + 1} is not tenant:role:token`);
    tokens.push(checkToken("AUTH_TOKENS", `entry ${index + 1}`, { tenant: parts[0], role: parts[1], token: parts[2] }));
  }
  if (fileText !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fileText);
    } catch (error) {
      throw new AccessConfigError(fileVariable, `not JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    if (!Array.isArray(parsed)) throw new AccessConfigError(fileVariable, "must hold a JSON array of { tenant, role, token }");
    for (const [index, entry] of parsed.entries()) {
      const record = typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>) : {};
      tokens.push(checkToken(fileVariable, `entry ${index + 1}`, record));
    }
  }
  const seen = new Set<string>();
  for (const token of tokens) {
    if (seen.has(token.token)) throw new AccessConfigError("AUTH_TOKENS", `a token is listed twice (tenant ${token.tenant})`);
    seen.add(token.token);
  }
  return tokens;
}

function checkToken(variable: string, where: string, record: Record<string, unknown>): AccessToken {
  const { tenant, role, token } = record;
  if (typeof tenant !== "string" || !TENANT.test(tenant)) throw new AccessConfigError(variable, `${where}: tenant must be 1-63 of a-z, 0-9, '_' or '-', starting with a letter or digit`);
  if (typeof role !== "string" || !(role in RANK)) throw new AccessConfigError(variable, `${where}: role must be read, control or admin`);
  if (typeof token !== "string" || !TOKEN.test(token)) throw new AccessConfigError(variable, `${where}: token must be 16-256 of A-Z, a-z, 0-9, '.', '_', '~' or '-'`);
  return { tenant, role: role as Role, token };
}

const digest = (token: string) => createHash("sha256").update(token).digest("hex");

export class TokenRegistry {
  private readonly byDigest = new Map<string, Principal>();

  constructor(tokens: readonly AccessToken[]) {
    for (const { tenant, role, token } of tokens) {
      const hash = digest(token);
      this.byDigest.set(hash, { tenant, role, tokenId: hash.slice(0, 8) });
    }
  }

  /** False when no token is configured: every caller is OPEN_PRINCIPAL. */
  get enabled(): boolean {
    return this.byDigest.size > 0;
  }

  /**
   * The principal a presented token stands for: OPEN_PRINCIPAL when tokens are
   * off, undefined when it is missing or unknown.
   */
  authenticate(presented: string | undefined): Principal | undefined {
    if (!this.enabled) return OPEN_PRINCIPAL;
    if (presented === undefined || presented.length === 0 || presented.length > 256) return undefined;
    return this.byDigest.get(digest(presented));
  }
}

/** True when `role` may do what `needed` allows. */
export function roleAllows(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/** True when `principal` may see a job of `tenant`. */
export function canSeeTenant(principal: Principal, tenant: string): boolean {
  return principal.role === Role.ADMIN || principal.tenant === tenant;
}

/** The token of an `Authorization: Bearer <token>` header value (undefined for any other scheme). */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(value);
  return match?.[1];
}

/** True for 127.0.0.0/8, ::1, ::ffff:127.x and "localhost". */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare === "localhost" || bare === "::1") return true;
  const v4 = bare.startsWith("::ffff:") ? bare.slice(7) : bare;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * The safe default: without tokens a process may listen only on loopback.
 * Returns the start-up notice to log, or throws naming the setting when a
 * non-loopback bind has no tokens and `allowOpen` (ALLOW_UNAUTHENTICATED) is
 * not set.
 */
export function checkExposure(registry: TokenRegistry, host: string, hostVariable: string, allowOpen: boolean): string {
  if (registry.enabled) return `authentication on: API tokens required on every edge`;
  if (isLoopbackHost(host)) return `no AUTH_TOKENS configured: serving without authentication on loopback (${host}) only`;
  if (allowOpen) return `no AUTH_TOKENS configured and ALLOW_UNAUTHENTICATED=1: serving ${host} WITHOUT authentication (trusted network only)`;
  throw new AccessConfigError(
    "AUTH_TOKENS",
    `${hostVariable}=${host} is not a loopback address and no API tokens are configured; set AUTH_TOKENS or AUTH_TOKENS_FILE, bind ${hostVariable} to 127.0.0.1, or set ALLOW_UNAUTHENTICATED=1 on a trusted network`,
  );
}
