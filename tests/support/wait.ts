/**
 * Waiting for conditions, never for durations: these suites run on slow,
 * shared machines, so every bound here is generous and only limits how long
 * a failing test hangs.
 */

export const DEFAULT_WAIT_MS = 60_000;

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Appended to the timeout error, e.g. what was seen instead. */
  readonly detail?: () => string;
}

/**
 * Polls `probe` until it returns something other than `undefined`/`false`
 * and resolves with that value.
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = options.detail ? `\n${options.detail()}` : "";
      const cause = lastError instanceof Error ? `\nlast error: ${lastError.message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}${detail}`);
    }
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
