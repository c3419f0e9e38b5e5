/**
 * A caller's tenant scope: the tenant whose jobs it sees, or `undefined` for
 * an admin (every tenant). Every view and stream of the gateway filters jobs
 * through it.
 */
import { type Principal, Role } from "@trawl/proto";

export type TenantScope = string | undefined;

export function scopeOf(principal: Principal): TenantScope {
  return principal.role === Role.ADMIN ? undefined : principal.tenant;
}

/** True when a job of `tenant` is visible in `scope`. */
export function inScope(tenant: string, scope: TenantScope): boolean {
  return scope === undefined || tenant === scope;
}
