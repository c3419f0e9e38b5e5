/**
 * Rate-limits a job's JobProgress events: at most one per interval, the first
 * at once, and a trailing one at the end of an interval in which pages
 * completed, so the latest counters always go out without waiting for the
 * next page.
 */
export class ProgressThrottle {
  private last = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly emit: () => void,
  ) {}

  /** A page completed: emit now, or schedule the trailing emit. */
  pageDone(): void {
    if (this.timer !== undefined) return;
    const now = performance.now();
    const wait = this.last + this.intervalMs - now;
    if (wait <= 0) {
      this.last = now;
      this.emit();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.last = performance.now();
      this.emit();
    }, wait);
  }

  /** Cancels a pending trailing emit; the caller emits the final progress itself. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
