/**
 * The one error a scan request fails with, naming the request field at
 * fault, so each boundary can report it in its own form (gRPC status,
 * REST `{ error, field, message }`, seed-003 `{ type: "error", message }`).
 */

/**
 * Why a scan was refused. A boundary maps it to its own codes, e.g. gRPC:
 * `not_found` → NOT_FOUND, `no_roots` → FAILED_PRECONDITION,
 * `permission_denied` → PERMISSION_DENIED, the others → INVALID_ARGUMENT.
 */
export type ScanErrorReason = "no_roots" | "invalid" | "outside_roots" | "not_found" | "not_directory" | "permission_denied";

export class ScanRequestError extends Error {
  constructor(
    /** The request field at fault: "path" or "max_files". */
    readonly field: "path" | "max_files",
    message: string,
    readonly reason: ScanErrorReason,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ScanRequestError";
  }
}

/** The errno code of a file-system error, if it has one. */
export function errorCode(err: unknown): string | undefined {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string" ? (err as NodeJS.ErrnoException).code : undefined;
}
