/**
 * Turns a StartJob ScanSpec into a scan plan: the confined directory and
 * the file limit, "0 means the configured default" resolved.
 */
import type { ScanConfig } from "../config.js";
import { resolveScanPath, type ResolvedScanPath } from "./resolve-scan-path.js";
import { ScanRequestError } from "./scan-error.js";

export interface ScanRequest {
  path: string;
  recursive: boolean;
  /** 0 means {@link ScanConfig.maxFiles}. */
  maxFiles: number;
}

export interface ScanPlan extends ResolvedScanPath {
  recursive: boolean;
  maxFiles: number;
}

/**
 * Validates a scan request against the configuration. Throws
 * {@link ScanRequestError}: field "max_files" above SCAN_MAX_FILES, field
 * "path" for every refusal {@link resolveScanPath} makes.
 */
export async function resolveScanRequest(request: ScanRequest, config: ScanConfig): Promise<ScanPlan> {
  if (!Number.isInteger(request.maxFiles) || request.maxFiles < 0) {
    throw new ScanRequestError("max_files", "must be a whole number, 0 for the default", "invalid");
  }
  if (request.maxFiles > config.maxFiles) throw new ScanRequestError("max_files", `must be at most ${config.maxFiles}`, "invalid");
  const resolved = await resolveScanPath(request.path, config.roots);
  return { ...resolved, recursive: request.recursive, maxFiles: request.maxFiles || config.maxFiles };
}
