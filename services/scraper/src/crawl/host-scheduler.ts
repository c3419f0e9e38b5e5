/**
 * Politeness for one job: per host (host name and port), at most
 * `concurrency` requests at once and at least `delayMs` between the starts of
 * two requests; every start also takes a token from the process-wide rate
 * limiter when there is one. Waiters for a host are served first come, first
 * served. A host's delay can be raised (robots.txt Crawl-delay), and a
 * request that ends with a Retry-After holds its host off for that long
 * before the next waiter is let in; neither is ever shortened.
 */
import type { TokenBucket } from "./token-bucket.js";

export interface HostLimits {
  /** Requests in flight per host, at least 1. */
  concurrency: number;
  /** Minimum ms between the starts of two requests to one host; 0 = none. */
  delayMs: number;
  /** Longest hold-off a release may ask for (Retry-After is capped to it). */
  maxHoldOffMs?: number;
}

/**
 * Ends a request's hold on its host; `holdOffMs` (the response's
 * Retry-After) keeps every request to the host from starting for that long.
 * Calling it more than once is harmless.
 */
export type Release = (holdOffMs?: number) => void;

interface Waiter {
  grant(release: Release): void;
  abort(reason: unknown): void;
}

interface HostState {
  active: number;
  delayMs: number;
  /** No request starts before this time (performance.now() ms). */
  notBefore: number;
  waiters: Waiter[];
  timer: NodeJS.Timeout | undefined;
}

export class HostScheduler {
  private readonly hosts = new Map<string, HostState>();

  constructor(
    private readonly limits: HostLimits,
    private readonly rate?: TokenBucket,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(limits.concurrency >= 1)) throw new RangeError("concurrency must be at least 1");
  }

  /** The delay in force for `host`. */
  delayOf(host: string): number {
    return this.hosts.get(host)?.delayMs ?? this.limits.delayMs;
  }

  /** Raises the delay between request starts for `host` to `delayMs` (robots.txt Crawl-delay); never lowers it. */
  raiseDelay(host: string, delayMs: number): void {
    const state = this.state(host);
    state.delayMs = Math.max(state.delayMs, delayMs);
  }

  /**
   * Resolves when a request to `host` may start, with the function that
   * ends its hold on the host. Rejects with the signal's reason if `signal`
   * aborts first.
   */
  acquire(host: string, signal: AbortSignal): Promise<Release> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const state = this.state(host);
    return new Promise<Release>((resolve, reject) => {
      const onAbort = (): void => {
        const at = state.waiters.indexOf(waiter);
        if (at !== -1) state.waiters.splice(at, 1);
        if (state.waiters.length === 0) this.clearTimer(state);
        reject(signal.reason as Error);
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal.removeEventListener("abort", onAbort);
          resolve(release);
        },
        abort: (reason) => {
          signal.removeEventListener("abort", onAbort);
          reject(reason as Error);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      state.waiters.push(waiter);
      this.pump(host, state);
    });
  }

  /** Stops every timer and rejects every waiter (the job is over). */
  close(reason: unknown = new Error("host scheduler closed")): void {
    for (const state of this.hosts.values()) {
      this.clearTimer(state);
      for (const waiter of state.waiters.splice(0)) waiter.abort(reason);
    }
  }

  private state(host: string): HostState {
    let state = this.hosts.get(host);
    if (state === undefined) {
      state = { active: 0, delayMs: this.limits.delayMs, notBefore: 0, waiters: [], timer: undefined };
      this.hosts.set(host, state);
    }
    return state;
  }

  private pump(host: string, state: HostState): void {
    if (state.timer !== undefined) return;
    while (state.waiters.length > 0 && state.active < this.limits.concurrency) {
      const now = this.now();
      const wait = state.notBefore > now ? Math.ceil(state.notBefore - now) : (this.rate?.tryTake() ?? 0);
      if (wait > 0) {
        state.timer = setTimeout(() => {
          state.timer = undefined;
          this.pump(host, state);
        }, wait);
        return;
      }
      const waiter = state.waiters.shift() as Waiter;
      state.active++;
      state.notBefore = now + state.delayMs;
      let released = false;
      waiter.grant((holdOffMs) => {
        if (released) return;
        released = true;
        if (holdOffMs !== undefined && holdOffMs > 0) {
          state.notBefore = Math.max(state.notBefore, this.now() + Math.min(holdOffMs, this.limits.maxHoldOffMs ?? Number.POSITIVE_INFINITY));
        }
        state.active--;
        this.pump(host, state);
      });
    }
  }

  private clearTimer(state: HostState): void {
    if (state.timer === undefined) return;
    clearTimeout(state.timer);
    state.timer = undefined;
  }
}
