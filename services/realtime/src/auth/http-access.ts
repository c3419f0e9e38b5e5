/**
 * Access control on the REST edge (express): the origin check with CORS for
 * listed origins, and Bearer-token authentication with a role floor. Refusals
 * use the REST error form: 401 `unauthorized` (with `WWW-Authenticate`),
 * 403 `forbidden`, naming the field at fault (`authorization` or `origin`).
 */
import { bearerToken, type Principal, Role } from "@trawl/proto";
import type { RequestHandler, Response } from "express";
import { type GatewayAccess, isRefusal } from "./gateway-access.js";

const ALLOWED_METHODS = "GET, POST, OPTIONS";
const ALLOWED_HEADERS = "authorization, content-type, trpc-accept, x-trpc-source";

/**
 * Refuses browser requests from origins not allowed (403), answers CORS
 * preflights, and adds CORS headers for listed origins.
 */
export function originGuard(access: GatewayAccess): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    if (!access.origins.allows(origin, req.headers.host)) {
      res.status(403).json({ error: "forbidden", field: "origin", message: `origin ${origin} is not allowed (ALLOWED_ORIGINS)` });
      return;
    }
    if (access.origins.listed(origin)) {
      res.setHeader("Access-Control-Allow-Origin", origin);
      res.setHeader("Vary", "Origin");
      if (req.method === "OPTIONS") {
        res.setHeader("Access-Control-Allow-Methods", ALLOWED_METHODS);
        res.setHeader("Access-Control-Allow-Headers", ALLOWED_HEADERS);
        res.setHeader("Access-Control-Max-Age", "600");
        res.status(204).end();
        return;
      }
    }
    next();
  };
}

/**
 * Requires a token whose role allows `needed`: `Authorization: Bearer`, or
 * `?token=` on GET requests (download links cannot carry headers). The
 * principal is left in `res.locals.principal`.
 */
export function requireRole(access: GatewayAccess, needed: Role = Role.READ): RequestHandler {
  return (req, res, next) => {
    const token = bearerToken(req.headers.authorization) ?? (req.method === "GET" && typeof req.query.token === "string" ? req.query.token : undefined);
    const result = access.check(token, needed);
    if (!isRefusal(result)) {
      res.locals.principal = result;
      return next();
    }
    if (result.kind === "unauthenticated") {
      res.setHeader("WWW-Authenticate", 'Bearer realm="trawl"');
      res.status(401).json({ error: "unauthorized", field: "authorization", message: result.message });
    } else {
      res.status(403).json({ error: "forbidden", field: "authorization", message: result.message });
    }
  };
}

/** The principal `requireRole` authenticated for this request. */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (principal === undefined) throw new Error("route is missing requireRole");
  return principal;
}
