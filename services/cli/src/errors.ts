/**
 * What can go wrong, sorted into the three kinds the exit code tells apart:
 * a bad command line (UsageError), a gateway that cannot be reached, and a
 * gateway that refused (a tRPC error carrying the server's message and the
 * offending field). Expected failures become one line on stderr, never a
 * stack trace.
 */
import { TRPCClientError } from "@trpc/client";
import { ExitCode } from "./exit-codes.js";

/** A mistake on the command line: reported with the command's usage line and exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The gateway could not be reached, or what answered is not a Trawl gateway (exit code 3). */
export class GatewayUnreachableError extends Error {
  override readonly name = "GatewayUnreachableError";
}

/** Socket-level failures that mean nothing (useful) is listening at the gateway URL, in words. */
const NETWORK_CODES = new Map([
  ["ECONNREFUSED", "connection refused"],
  ["ECONNRESET", "connection reset"],
  ["ENOTFOUND", "host not found"],
  ["EAI_AGAIN", "host name lookup failed"],
  ["EHOSTUNREACH", "host unreachable"],
  ["ENETUNREACH", "network unreachable"],
  ["ETIMEDOUT", "connection timed out"],
  ["EPIPE", "connection closed"],
  ["UND_ERR_CONNECT_TIMEOUT", "connection timed out"],
  ["UND_ERR_SOCKET", "connection closed"],
  ["UND_ERR_HEADERS_TIMEOUT", "no answer in time"],
]);

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 8) {
    chain.push(current);
    current = typeof current === "object" && "cause" in current ? current.cause : undefined;
  }
  return chain;
}

/** The network error code (ECONNREFUSED, …) somewhere in `error`'s cause chain. */
export function networkCode(error: unknown): string | undefined {
  for (const cause of causes(error)) {
    if (typeof cause !== "object" || cause === null || !("code" in cause)) continue;
    const code = cause.code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
  }
  return undefined;
}

function isTimeout(error: unknown): boolean {
  return causes(error).some((cause) => cause instanceof Error && cause.name === "TimeoutError");
}

/**
 * True when a tRPC call failed before any tRPC answer arrived: connection
 * refused, DNS failure, timeout, or a response that is not tRPC JSON (some
 * other server at that address).
 */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof GatewayUnreachableError) return true;
  if (!(error instanceof TRPCClientError)) return false;
  if (networkCode(error) !== undefined || isTimeout(error)) return true;
  // A tRPC error response always carries `data` (code, httpStatus); anything else never reached tRPC.
  return error.data === undefined || error.data === null;
}

export interface Described {
  readonly message: string;
  readonly exitCode: ExitCode;
}

function serverField(error: { readonly data?: unknown }): string | undefined {
  const data = error.data;
  if (typeof data !== "object" || data === null || !("field" in data)) return undefined;
  return typeof data.field === "string" && data.field !== "" ? data.field : undefined;
}

/**
 * One line for an error and the exit code it maps to; `gatewayUrl` names
 * the address in connection failures. Unknown errors (bugs) keep their
 * message and exit 1; only those are worth a stack trace, under TRAWL_DEBUG.
 */
export function describeError(error: unknown, gatewayUrl: string): Described {
  if (error instanceof UsageError) return { message: error.message, exitCode: ExitCode.USAGE };
  if (error instanceof GatewayUnreachableError) return { message: error.message, exitCode: ExitCode.UNREACHABLE };
  if (error instanceof TRPCClientError && isUnreachable(error)) {
    const code = networkCode(error);
    const why = code !== undefined ? `${NETWORK_CODES.get(code) ?? code} (${code})` : isTimeout(error) ? "no answer in time" : `not a Trawl gateway (${error.message})`;
    return { message: `cannot reach the gateway at ${gatewayUrl}: ${why}. Is it running? Set --gateway or TRAWL_GATEWAY.`, exitCode: ExitCode.UNREACHABLE };
  }
  if (error instanceof TRPCClientError && (error.data as { code?: unknown } | undefined)?.code === "UNAUTHORIZED") {
    return { message: `the gateway at ${gatewayUrl} refused the call: ${error.message}. Set TRAWL_TOKEN to an API token.`, exitCode: ExitCode.FAILED };
  }
  if (error instanceof TRPCClientError) {
    const field = serverField(error);
    return { message: field === undefined ? error.message : `${error.message} (field: ${field})`, exitCode: ExitCode.FAILED };
  }
  const code = networkCode(error);
  if (code !== undefined) return { message: `connection to the gateway at ${gatewayUrl} failed: ${NETWORK_CODES.get(code) ?? code} (${code})`, exitCode: ExitCode.UNREACHABLE };
  return { message: error instanceof Error ? error.message : String(error), exitCode: ExitCode.FAILED };
}
