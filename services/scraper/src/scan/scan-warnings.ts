/**
 * The warnings a scan reports instead of failing (seed 003's `warnings`,
 * e.g. "Permission denied: /documents/private"). Paths in them are shown
 * relative to the scan root, so no server path leaks.
 */

/** The warning for an entry the scan could not read, by errno code. */
export function unreadableWarning(code: string | undefined, shownPath: string): string {
  switch (code) {
    case "EACCES":
    case "EPERM":
      return `Permission denied: ${shownPath}`;
    case "ENOENT":
      return `Removed during the scan: ${shownPath}`;
    case "ELOOP":
      return `Too many levels of symbolic links: ${shownPath}`;
    default:
      return `Could not read (${code ?? "unknown error"}): ${shownPath}`;
  }
}

export const symlinkOutsideWarning = (shownPath: string): string => `Skipped symlink outside root: ${shownPath}`;
export const symlinkDirectoryWarning = (shownPath: string): string => `Skipped symlink to a directory: ${shownPath}`;
export const brokenSymlinkWarning = (shownPath: string): string => `Skipped broken symlink: ${shownPath}`;
export const fileLimitWarning = (limit: number): string => `File limit of ${limit} reached`;

/** How many warnings a scan keeps; the rest are counted in one last line. */
export const MAX_WARNINGS = 100;

/** A bounded list of warnings: a tree of a million unreadable directories does not make a million strings. */
export class WarningList {
  private readonly kept: string[] = [];
  private readonly always: string[] = [];
  private dropped = 0;

  constructor(private readonly limit = MAX_WARNINGS) {}

  add(warning: string): void {
    if (this.kept.length < this.limit) this.kept.push(warning);
    else this.dropped++;
  }

  /** A warning kept whatever the limit (the scan stopped early). */
  addAlways(warning: string): void {
    this.always.push(warning);
  }

  /** The warnings, and how many more there were. */
  list(): string[] {
    const more = this.dropped === 0 ? [] : [`…and ${this.dropped} more warnings`];
    return [...this.kept, ...more, ...this.always];
  }
}
