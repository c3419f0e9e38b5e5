/**
 * A token bucket: the global request rate limit shared by every job of the
 * process (CRAWL_GLOBAL_RATE_PER_SEC). It never waits itself; the host
 * scheduler asks it for a token when a request is otherwise ready to start
 * and, when none is left, for how long to wait.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  /**
   * `ratePerSec` tokens are added every second, up to `capacity` (1 by
   * default: requests are then spaced at least 1000 / rate ms apart).
   */
  constructor(
    readonly ratePerSec: number,
    readonly capacity = 1,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSec > 0)) throw new RangeError("ratePerSec must be positive");
    if (!(capacity >= 1)) throw new RangeError("capacity must be at least 1");
    this.tokens = capacity;
    this.last = now();
  }

  /** Takes a token and returns 0, or, when none is available, returns the ms until one will be. */
  tryTake(): number {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.ratePerSec) / 1000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSec));
  }
}
