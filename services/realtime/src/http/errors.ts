/**
 * The REST error form — `{ error, field?, message }` with a 4xx/5xx status —
 * and the translation of everything that can go wrong (bad JSON, gRPC status
 * codes, unreachable scrapers) into it. Never an HTML page, never a stack.
 */
import { status } from "@grpc/grpc-js";
import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Logger } from "pino";
import { grpcCode, grpcDetails, NoScraperAvailableError } from "../scrapers/grpc-errors.js";

/** An error with its REST response. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "HttpError";
  }

  get body(): { error: string; field?: string; message: string } {
    return this.field === undefined ? { error: this.code, message: this.message } : { error: this.code, field: this.field, message: this.message };
  }
}

export function invalidRequest(field: string, message: string): HttpError {
  return new HttpError(400, "invalid_request", message, field);
}

export function notFound(field: string, message: string): HttpError {
  return new HttpError(404, "not_found", message, field);
}

/**
 * Maps a failed scraper call to an HttpError. `field` names the request
 * field that identifies the job (for NOT_FOUND), `invalidField` finds the
 * field an INVALID_ARGUMENT is about.
 */
export function fromScraperError(error: unknown, context: { field?: string; invalidField?: (details: string) => string } = {}): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof NoScraperAvailableError) return new HttpError(503, "unavailable", "no scraper is reachable; try again shortly", undefined, { cause: error });
  const details = grpcDetails(error);
  switch (grpcCode(error)) {
    case status.INVALID_ARGUMENT:
      return new HttpError(400, "invalid_request", details, context.invalidField?.(details) ?? "body", { cause: error });
    case status.NOT_FOUND:
      return new HttpError(404, "not_found", details, context.field, { cause: error });
    case status.FAILED_PRECONDITION:
      return new HttpError(409, "conflict", details, context.field, { cause: error });
    case status.RESOURCE_EXHAUSTED:
      return new HttpError(429, "too_many_requests", details, undefined, { cause: error });
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return new HttpError(503, "unavailable", "no scraper is reachable; try again shortly", undefined, { cause: error });
    default:
      return new HttpError(500, "internal", "internal error", undefined, { cause: error });
  }
}

/** JSON 404 for every route the app does not define. */
export const unknownRoute: RequestHandler = (req, res) => {
  res.status(404).json({ error: "not_found", field: "path", message: `no route for ${req.method} ${req.path}` });
};

/** The app's last middleware: every error becomes a JSON response. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    const httpError = toHttpError(error);
    if (httpError.status === 500) logger.error({ err: errorMessage(error) }, "request failed");
    else if (httpError.status > 500) logger.warn({ err: errorMessage(error), status: httpError.status }, "request refused");
    res.status(httpError.status).json(httpError.body);
  };
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const type = typeof error === "object" && error !== null && "type" in error ? (error as { type: unknown }).type : undefined;
  if (type === "entity.parse.failed") return invalidRequest("body", "request body is not valid JSON");
  if (type === "entity.too.large") return new HttpError(413, "payload_too_large", "request body is too large", "body");
  if (type === "encoding.unsupported" || type === "charset.unsupported") return new HttpError(415, "unsupported_media_type", "request body encoding is not supported", "body");
  return fromScraperError(error);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
