/**
 * When and how long to wait before fetching a page again: after a 429, a
 * 5xx, a network error or a timeout, with exponential backoff and full
 * jitter (a uniformly random wait between 0 and min(max, base · 2^attempt)),
 * unless the server said how long with Retry-After, which is honoured up to
 * the same maximum.
 */
import { PageErrorKind } from "@trawl/proto";

export interface RetryPolicy {
  /** Fetches after the first one; 0 turns retrying off. */
  maxRetries: number;
  baseMs: number;
  /** Upper bound of any single wait, Retry-After included. */
  maxMs: number;
  /** [0, 1); Math.random unless a test pins it. */
  random?: () => number;
}

/** True when a page that failed this way may succeed if fetched again. */
export function isRetryable(errorKind: PageErrorKind, status: number): boolean {
  if (errorKind === PageErrorKind.TIMEOUT || errorKind === PageErrorKind.NETWORK) return true;
  return errorKind === PageErrorKind.HTTP && (status === 429 || (status >= 500 && status <= 599));
}

/**
 * Parses a Retry-After header: delay-seconds ("120") or an HTTP-date. Returns
 * ms from `now` (0 for a date in the past), or undefined when absent or
 * unparseable.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * The wait before retry number `attempt + 1` (attempt 0 is the wait after
 * the first fetch): Retry-After when the server sent one, else full jitter;
 * never more than `policy.maxMs`.
 */
export function retryDelay(attempt: number, policy: RetryPolicy, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxMs);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
  return Math.floor((policy.random ?? Math.random)() * ceiling);
}
