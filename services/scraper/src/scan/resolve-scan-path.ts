/**
 * Confines a requested scan path to the configured scan roots (SCAN_ROOTS).
 * The check is made twice: on the path as written (so `..` cannot climb out
 * of a root) and on its real path with every symbolic link resolved (so a
 * link inside a root cannot lead out of it).
 */
import { realpath, stat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { errorCode, ScanRequestError } from "./scan-error.js";
import { isInside, shownPath } from "./scan-paths.js";

export interface ResolvedScanPath {
  /** The real path of the root the directory lies in. */
  root: string;
  /** The real path of the directory to scan. */
  directory: string;
  /** The directory as clients see it: relative to the root, "/"-prefixed ("/" for the root itself). */
  shown: string;
}

const refuse = (message: string, reason: ScanRequestError["reason"], cause?: unknown): ScanRequestError =>
  new ScanRequestError("path", message, reason, cause === undefined ? undefined : { cause });

/** Longest part of a requested path repeated in an error message: a 10 KB path is not echoed back whole. */
const MAX_SHOWN = 200;

/** `requested` as error messages repeat it: cut to {@link MAX_SHOWN} characters. */
const echo = (requested: string): string => (requested.length <= MAX_SHOWN ? requested : `${requested.slice(0, MAX_SHOWN)}…`);

const hasParentSegment = (path: string): boolean => path.split(/[\\/]+/).includes("..");

/** The real paths of the roots that exist; a root that does not exist confines nothing. */
async function realRoots(roots: readonly string[]): Promise<string[]> {
  const resolved = await Promise.all(
    roots.map((root) =>
      realpath(root).then(
        (real) => real,
        // A configured root that is missing or unreadable is simply not a place scans can reach.
        () => undefined,
      ),
    ),
  );
  return resolved.filter((root): root is string => root !== undefined);
}

/**
 * Resolves `requested` — an absolute path inside one of `roots`, or a path
 * relative to the first root — to the real directory to scan. Throws a
 * {@link ScanRequestError} (field "path") when there are no roots, the path
 * is empty or holds a NUL byte, climbs out of the roots with `..`, is
 * absolute outside every root, resolves through a symbolic link to outside
 * every root, does not exist ("Directory not found"), or is not a directory.
 */
export async function resolveScanPath(requested: string, roots: readonly string[]): Promise<ResolvedScanPath> {
  const [firstRoot] = roots;
  if (firstRoot === undefined) throw refuse("no scan roots configured (SCAN_ROOTS)", "no_roots");
  if (requested.trim() === "") throw refuse("path is required", "invalid");
  if (requested.includes("\0")) throw refuse("path must not contain NUL bytes", "invalid");

  const candidate = isAbsolute(requested) ? resolve(requested) : resolve(firstRoot, requested);
  if (!roots.some((root) => isInside(resolve(root), candidate))) {
    if (hasParentSegment(requested)) throw refuse(`path escapes the scan root: ${echo(requested)}`, "outside_roots");
    throw refuse(`path is outside the configured scan roots: ${echo(requested)}`, "outside_roots");
  }

  let real: string;
  try {
    real = await realpath(candidate);
  } catch (err) {
    const code = errorCode(err);
    if (code === "ENOENT") throw refuse(`Directory not found: ${echo(requested)}`, "not_found", err);
    if (code === "ENOTDIR") throw refuse(`Not a directory: ${echo(requested)}`, "not_directory", err);
    if (code === "EACCES" || code === "EPERM") throw refuse(`Permission denied: ${echo(requested)}`, "permission_denied", err);
    throw refuse(`Cannot resolve path (${code ?? "unknown error"}): ${echo(requested)}`, "invalid", err);
  }
  const root = (await realRoots(roots)).find((r) => isInside(r, real));
  if (root === undefined) throw refuse(`path leads outside the configured scan roots through a symbolic link: ${echo(requested)}`, "outside_roots");

  let isDirectory: boolean;
  try {
    isDirectory = (await stat(real)).isDirectory();
  } catch (err) {
    // Removed between realpath and stat.
    throw refuse(`Directory not found: ${echo(requested)}`, "not_found", err);
  }
  if (!isDirectory) throw refuse(`Not a directory: ${echo(requested)}`, "not_directory");
  return { root, directory: real, shown: shownPath(root, real) };
}
