/**
 * Counts the URLs a crawl leaves alone, by reason, each distinct URL once.
 * A URL counted as skipped and accepted later after all (a shallower page
 * links to it, another task's origin covers it) is taken off its count
 * again, so the final counts hold URLs that were never fetched.
 *
 * The URLs are remembered up to {@link MAX_TRACKED_SKIPS}; past that, new
 * skips are still counted but no longer de-duplicated, which keeps memory
 * bounded on sites with huge link graphs.
 */
import type { SkipKey } from "./crawl-stats.js";
import { dedupeKey } from "./normalize-url.js";

export const MAX_TRACKED_SKIPS = 200_000;

export class SkipTally {
  private readonly noted = new Map<string, SkipKey>();

  constructor(private readonly limit = MAX_TRACKED_SKIPS) {}

  /** Notes `url` as skipped for `reason`; true when it is new, i.e. when it should be counted. */
  note(url: string, reason: SkipKey): boolean {
    const key = dedupeKey(url);
    if (this.noted.has(key)) return false;
    if (this.noted.size < this.limit) this.noted.set(key, reason);
    return true;
  }

  /** `url` was accepted after all: the reason it was counted under, to take it off again. */
  unnote(url: string): SkipKey | undefined {
    if (this.noted.size === 0) return undefined;
    const key = dedupeKey(url);
    const reason = this.noted.get(key);
    if (reason !== undefined) this.noted.delete(key);
    return reason;
  }
}
