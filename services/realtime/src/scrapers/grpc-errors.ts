/**
 * Classifying errors from scraper calls, so the REST and WebSocket edges can
 * turn them into their own error forms.
 */
import { status } from "@grpc/grpc-js";

/** No scraper answered: every one was unreachable or timed out. */
export class NoScraperAvailableError extends Error {
  constructor(
    message = "no scraper is reachable",
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "NoScraperAvailableError";
  }
}

/** The gRPC status code of a failed call, when `error` is a grpc-js ServiceError. */
export function grpcCode(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === "number" ? code : undefined;
}

/** The `details` text of a gRPC error, or its message. */
export function grpcDetails(error: unknown): string {
  if (typeof error === "object" && error !== null && "details" in error && typeof error.details === "string") return error.details;
  return error instanceof Error ? error.message : String(error);
}

/** True when the call failed because the scraper could not be reached in time. */
export function isUnreachable(error: unknown): boolean {
  const code = grpcCode(error);
  return code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED;
}
