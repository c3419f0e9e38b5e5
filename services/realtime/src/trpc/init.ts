/**
 * The tRPC edge's one place for context, procedures and error shaping.
 * Routers live one per domain beside this file (`jobs.ts`, `stats.ts`,
 * `events.ts`); clients import only `type AppRouter` from `router.ts`.
 */
import { OPEN_PRINCIPAL, type Principal, Role, roleAllows } from "@trawl/proto";
import { initTRPC, TRPCError, type TRPC_ERROR_CODE_KEY } from "@trpc/server";
import { forbidden, isRefusal, type Refusal } from "../auth/gateway-access.js";
import { scopeOf } from "../auth/scope.js";
import { z } from "zod";
import { fromScraperError, HttpError } from "../http/errors.js";
import type { ScraperPool } from "../scrapers/scraper-pool.js";
import type { LiveState } from "../state/live-state.js";
import type { WebSocket } from "ws";
import type { EventBus } from "./event-bus.js";

export interface TrpcContext {
  state: LiveState;
  pool: ScraperPool;
  /** Applied scraper events, as the gateway reduces them (for subscriptions). */
  bus: EventBus;
  now: () => number;
  /** This connection's subscriptions, against WS_MAX_SUBSCRIPTIONS; absent: unbounded. */
  subscriptions?: { active: number; max: number; onLimit?: (limit: string) => void };
  /** Tenant limits (active jobs per tenant); absent: none. */
  access?: { assertCanStart(state: LiveState, tenant: string): void };
  /** The caller's WebSocket (the tRPC WebSocket edge), which `events.watch` may write to directly; absent over HTTP. */
  socket?: WebSocket;
  /** Who is calling (from the connection's or request's token), or why they may not; absent: the open principal. */
  principal?: Principal | Refusal;
}

const t = initTRPC.context<TrpcContext>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const zodError = cause instanceof z.ZodError ? cause : undefined;
    const first = zodError?.issues[0];
    const field = cause instanceof HttpError ? cause.field : typeof first?.path[0] === "string" ? first.path[0] : undefined;
    return {
      ...shape,
      data: {
        ...shape.data,
        field: field ?? null,
        zodError: zodError === undefined ? null : z.flattenError(zodError),
      },
    };
  },
});

export const router = t.router;

/**
 * Takes one of the connection's subscription slots, or refuses with
 * TOO_MANY_REQUESTS; call the returned function when the subscription ends.
 */
export function takeSubscriptionSlot(ctx: TrpcContext): () => void {
  const slots = ctx.subscriptions;
  if (slots === undefined) return () => undefined;
  if (slots.active >= slots.max) {
    slots.onLimit?.("subscriptions");
    throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: `this connection already has ${slots.max} subscriptions (WS_MAX_SUBSCRIPTIONS); end one first` });
  }
  slots.active++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    slots.active--;
  };
}

/** A procedure for callers whose token allows `needed`; it sees `ctx.principal` and its tenant `ctx.scope`. */
function authorized(needed: Role) {
  return t.procedure.use(({ ctx, next }) => {
    const principal = ctx.principal ?? OPEN_PRINCIPAL;
    if (isRefusal(principal)) throw new TRPCError({ code: principal.kind === "forbidden" ? "FORBIDDEN" : "UNAUTHORIZED", message: principal.message });
    if (!roleAllows(principal.role, needed)) throw new TRPCError({ code: "FORBIDDEN", message: forbidden(principal, needed).message });
    return next({ ctx: { principal, scope: scopeOf(principal) } });
  });
}

/** Reads: jobs, items, stats, events — of the caller's tenant (every tenant for an admin). */
export const readProcedure = authorized(Role.READ);
/** Starting, pausing, resuming and cancelling jobs. */
export const controlProcedure = authorized(Role.CONTROL);

const CODE_BY_STATUS: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  429: "TOO_MANY_REQUESTS",
  503: "SERVICE_UNAVAILABLE",
};

/**
 * The REST mapping of a failed scraper call (gRPC code → status, with the
 * offending field), re-expressed as a TRPCError that keeps it as `cause`.
 */
export function toTrpcError(error: unknown, context: Parameters<typeof fromScraperError>[1] = {}): TRPCError {
  if (error instanceof TRPCError) return error;
  const http = fromScraperError(error, context);
  return new TRPCError({ code: CODE_BY_STATUS[http.status] ?? "INTERNAL_SERVER_ERROR", message: http.message, cause: http });
}

/** A NOT_FOUND naming `field`, in the same shape scraper refusals take. */
export function notFoundError(field: string, message: string): TRPCError {
  return new TRPCError({ code: "NOT_FOUND", message, cause: new HttpError(404, "not_found", message, field) });
}
