/**
 * fetchPage, again after a retryable failure (429, 5xx, network error,
 * timeout) as the retry policy says. (A Retry-After also holds the whole
 * host off: fetchPage hands it to the host scheduler when it releases.)
 */
import { setTimeout as sleep } from "node:timers/promises";
import { fetchPage, type BodySink, type FetchOptions, type FetchOutcome } from "./fetch-page.js";
import { isRetryable, retryDelay, type RetryPolicy } from "./retry-policy.js";

export interface RetriedOutcome<T> {
  /** The last attempt's outcome. */
  outcome: FetchOutcome<T>;
  /** Attempts after the first. */
  retries: number;
}

export async function fetchWithRetry<T>(
  url: string,
  options: FetchOptions,
  sink: BodySink<T>,
  policy: RetryPolicy,
): Promise<RetriedOutcome<T>> {
  for (let attempt = 0; ; attempt++) {
    const outcome = await fetchPage(url, options, sink);
    if (outcome.kind !== "error" || attempt >= policy.maxRetries || !isRetryable(outcome.errorKind, outcome.status)) return { outcome, retries: attempt };
    const wait = retryDelay(attempt, policy, outcome.retryAfterMs);
    try {
      await sleep(wait, undefined, { signal: options.signal });
    } catch {
      // Only an abort of the job ends the wait early; the page is then not counted.
      return { outcome: { kind: "aborted" }, retries: attempt };
    }
  }
}
