/**
 * API tokens on gRPC: callers send `authorization: Bearer <token>` metadata
 * (`bearerInterceptor` adds it to every call of a client); the server refuses
 * a missing or unknown token with UNAUTHENTICATED and a role too low for the
 * method with PERMISSION_DENIED before the handler runs
 * (`authServerInterceptor`). Handlers read the caller with `callPrincipal`.
 */
import * as grpc from "@grpc/grpc-js";
import { bearerToken, OPEN_PRINCIPAL, type Principal, type Role, roleAllows, type TokenRegistry } from "./access.js";

/** A client interceptor sending `token` as `authorization: Bearer` on every call. */
export function bearerInterceptor(token: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set("authorization", `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}

/** The principal of a call's metadata (OPEN_PRINCIPAL when tokens are off; undefined when not authenticated). */
export function callPrincipal(registry: TokenRegistry, metadata: grpc.Metadata): Principal | undefined {
  const value = metadata.get("authorization")[0];
  return registry.authenticate(bearerToken(typeof value === "string" ? value : value?.toString()));
}

/**
 * A server interceptor enforcing tokens: `neededRole(path)` names the least
 * role a method (its full path, `/trawl.v1.ScraperService/StartJob`) needs.
 * Does nothing while the registry has no tokens.
 */
export function authServerInterceptor(registry: TokenRegistry, neededRole: (path: string) => Role, onRefused?: (path: string, code: grpc.status) => void): grpc.ServerInterceptor {
  return (methodDescriptor, call) =>
    new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, mdNext) {
            if (!registry.enabled) return mdNext(metadata);
            const principal = callPrincipal(registry, metadata);
            if (principal === undefined) {
              onRefused?.(methodDescriptor.path, grpc.status.UNAUTHENTICATED);
              return call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: "an API token is required: send authorization: Bearer <token> metadata", metadata: new grpc.Metadata() });
            }
            const needed = neededRole(methodDescriptor.path);
            if (!roleAllows(principal.role, needed)) {
              onRefused?.(methodDescriptor.path, grpc.status.PERMISSION_DENIED);
              return call.sendStatus({ code: grpc.status.PERMISSION_DENIED, details: `this token's role (${principal.role}) may not call ${methodDescriptor.path}; it needs ${needed}`, metadata: new grpc.Metadata() });
            }
            mdNext(metadata);
          },
        });
      },
    });
}


