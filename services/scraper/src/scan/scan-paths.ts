/**
 * Path arithmetic of scans: containment in a root, and the root-relative
 * form ("/docs/report.pdf") in which scans show every path, so that no
 * server path leaks to clients.
 */
import { relative, sep } from "node:path";

/** True when absolute, normalised `candidate` is `root` or lies under it. */
export function isInside(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  const prefix = root.endsWith(sep) ? root : root + sep;
  return candidate.startsWith(prefix);
}

/** `absolute` relative to `root`, with "/" separators and a leading "/"; "/" for the root itself. */
export function shownPath(root: string, absolute: string): string {
  const rel = relative(root, absolute);
  return rel === "" ? "/" : `/${sep === "/" ? rel : rel.split(sep).join("/")}`;
}
