/**
 * The progress line of a followed job, as a pure function of what is known
 * about it: a redrawn bar for a terminal, a plain sentence for logs and
 * pipes (no carriage returns, no escape codes).
 */
import { formatDuration, formatRate, rate, truncate } from "./format.js";

/** How the event stream stands: `connecting` before the first subscription, `reconnecting` after a drop. */
export type LinkState = "connecting" | "live" | "reconnecting";

export interface ProgressView {
  readonly kind: "crawl" | "scan";
  /** The job's status name: running, paused, completed… */
  readonly status: string;
  readonly pagesDone: number;
  readonly pagesTotal: number;
  readonly successCount: number;
  readonly errorCount: number;
  readonly elapsedSeconds: number;
  readonly link: LinkState;
}

export interface RenderOptions {
  /** A terminal (bar, fitted to `width`) or not (a plain sentence). */
  readonly tty: boolean;
  /** Terminal columns; the line never reaches the last one, so it cannot wrap. */
  readonly width: number;
}

const BAR_MIN = 10;
/** Once a job has ended, the connection no longer matters. */
const TERMINAL: readonly string[] = ["completed", "failed", "cancelled"];
const BAR_MAX = 30;

function unitOf(view: ProgressView): string {
  return view.kind === "scan" ? "files" : "pages";
}

/** The bar itself: filled in proportion to done/total, empty while the total is unknown. */
export function bar(done: number, total: number, width: number): string {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(fraction * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

/** What is worth saying besides the counts: paused, reconnecting… */
function note(view: ProgressView): string | undefined {
  if (TERMINAL.includes(view.status)) return view.status;
  if (view.link === "connecting") return "connecting to the gateway…";
  if (view.link === "reconnecting") return "gateway connection lost, reconnecting…";
  if (view.status === "running") return undefined;
  return view.status;
}

/**
 * The counts, shared by both forms. `done/total` reads "120/386" once the
 * total is known.
 */
function counts(view: ProgressView): string[] {
  const unit = unitOf(view);
  const done = view.pagesTotal > 0 ? `${view.pagesDone}/${view.pagesTotal} ${unit}` : `${view.pagesDone} ${unit}`;
  return [done, `${view.successCount} ok`, `${view.errorCount} ${view.errorCount === 1 ? "error" : "errors"}`, formatRate(rate(view.pagesDone, view.elapsedSeconds), unit)];
}

/**
 * One line describing `view`. For a terminal: `[####------] 120/386 pages
 * 110 ok  10 errors  35.2 pages/s  3.4s`, fitted to the width (the bar goes
 * first when space runs out). Otherwise: `running: 120/386 pages, 110 ok,
 * 10 errors, 35.2 pages/s, 3.4s elapsed`.
 */
export function renderProgress(view: ProgressView, options: RenderOptions): string {
  const extra = note(view);
  if (!options.tty) {
    const sentence = `${view.status}: ${counts(view).join(", ")}, ${formatDuration(view.elapsedSeconds)} elapsed`;
    return extra === undefined || extra === view.status ? sentence : `${sentence} (${extra})`;
  }
  const text = [...counts(view), formatDuration(view.elapsedSeconds), ...(extra === undefined ? [] : [extra])].join("  ");
  const room = options.width - 1;
  const barWidth = Math.min(BAR_MAX, room - text.length - 3);
  if (barWidth >= BAR_MIN) return `${bar(view.pagesDone, view.pagesTotal, barWidth)} ${text}`;
  return truncate(text, room);
}

/**
 * The parts of the non-terminal line that matter for deciding whether to
 * print again: everything but the elapsed time and the rate, which change
 * on their own.
 */
export function progressKey(view: ProgressView): string {
  return [view.status, view.link, view.pagesDone, view.pagesTotal, view.successCount, view.errorCount].join("|");
}
