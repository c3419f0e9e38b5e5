/**
 * When an edge flushes the writes it has batched: at most once per
 * `windowMs` (WS_BATCH_WINDOW_MS). A flush due sooner waits out the rest of
 * the window, so under a stream of events each client gets at most one write
 * per window; the first event after a quiet spell goes out at the end of its
 * tick. 0 flushes at the end of every tick. Shared by the raw WebSocket hub,
 * the tRPC event bus and the Socket.IO broadcast window.
 */
export class FlushWindow {
  /** The window's end, when one is scheduled: a timer inside a window, an immediate at the end of a quiet tick. */
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private lastFlushAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly windowMs: number,
    private readonly onEnd: () => void,
  ) {}

  /** Schedules the window's end, unless it is scheduled already. */
  schedule(): void {
    if (this.timer !== undefined || this.immediate !== undefined) return;
    const wait = this.windowMs - (performance.now() - this.lastFlushAt);
    if (wait >= 1) this.timer = setTimeout(this.end, wait);
    else this.immediate = setImmediate(this.end);
  }

  /** Forgets a scheduled end (the edge is shutting down). */
  cancel(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private readonly end = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    this.lastFlushAt = performance.now();
    this.onEnd();
  };
}
