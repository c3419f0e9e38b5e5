/**
 * Draws a followed job's progress on stderr. On a terminal the line is
 * redrawn in place (`\r` + erase-to-end) at most ten times a second and
 * once a second for the clock; anywhere else (CI logs, pipes) a plain line
 * is printed when the counts change, at most once a second, and at once
 * when the status or the connection changes.
 */
import { progressKey, renderProgress, type ProgressView } from "./progress-bar.js";

export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressReporter {
  /** Something changed: draw now if the rate limit allows, else soon. */
  changed(): void;
  /** Stops the clock; on a terminal erases the line, elsewhere prints the last state if not yet printed. */
  stop(): void;
}

const TTY_MIN_GAP_MS = 100;
const TTY_TICK_MS = 250;
const PLAIN_MIN_GAP_MS = 1_000;
const ERASE_LINE = "\r\x1b[K";

export function createProgressReporter(stream: ProgressStream, view: () => ProgressView, options: { now?: () => number } = {}): ProgressReporter {
  const now = options.now ?? Date.now;
  const tty = stream.isTTY === true;
  let lastLine = "";
  let lastKey = "";
  let lastUrgent = "";
  let lastAt = Number.NEGATIVE_INFINITY;
  let drawn = false;

  const drawTty = (): void => {
    const line = renderProgress(view(), { tty: true, width: stream.columns ?? 80 });
    if (line === lastLine || now() - lastAt < TTY_MIN_GAP_MS) return;
    stream.write(`${ERASE_LINE}${line}`);
    lastLine = line;
    lastAt = now();
    drawn = true;
  };

  const drawPlain = (force: boolean): void => {
    const current = view();
    const key = progressKey(current);
    if (key === lastKey) return;
    // A status change or a lost connection is news; counts (and the first connect) can wait for the next second.
    const urgent = `${current.status}|${current.link === "reconnecting"}`;
    if (!force && urgent === lastUrgent && now() - lastAt < PLAIN_MIN_GAP_MS) return;
    stream.write(`${renderProgress(current, { tty: false, width: 0 })}\n`);
    lastKey = key;
    lastUrgent = urgent;
    lastAt = now();
  };

  const draw = (): void => (tty ? drawTty() : drawPlain(false));
  const timer = setInterval(draw, tty ? TTY_TICK_MS : PLAIN_MIN_GAP_MS);
  // The event stream keeps the process alive, not the clock.
  timer.unref();

  return {
    changed: draw,
    stop() {
      clearInterval(timer);
      if (tty) {
        if (drawn) stream.write(ERASE_LINE);
      } else {
        drawPlain(true);
      }
    },
  };
}
