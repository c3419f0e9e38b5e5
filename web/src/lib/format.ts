/** Display formatting shared by the views; pure, locale-aware where it helps reading. */

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });

/** 12,345 */
export function formatCount(value: number): string {
  return integer.format(value);
}

/** 12.3K — for engagement numbers where the order of magnitude is what matters. */
export function formatCompact(value: number): string {
  return compact.format(value);
}

/** Pages per second with one decimal ("0.0" when nothing ran). */
export function formatRate(pagesPerSecond: number): string {
  return Number.isFinite(pagesPerSecond) ? pagesPerSecond.toFixed(1) : "0.0";
}

/** "45s", "3m 07s", "2h 05m". */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

/** A video length as m:ss or h:mm:ss. */
export function formatClock(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** Seconds with up to three decimals, for average processing times. */
export function formatSeconds(seconds: number): string {
  return `${seconds < 10 ? seconds.toFixed(3) : seconds.toFixed(1)} s`;
}

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const hourMinute = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** 14:03:27, local time. */
export function formatTimeOfDay(ms: number): string {
  return timeOfDay.format(ms);
}

/** 14:03, local time. */
export function formatHourMinute(ms: number): string {
  return hourMinute.format(ms);
}

/** "Nov 22, 2025, 14:03", local time; an em dash when there is no time. */
export function formatDateTime(iso: string | null | undefined): string {
  if (iso == null) return "—";
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : dateTime.format(ms);
}

/** The host and path of a URL, without the scheme, for compact display. */
export function shortUrl(url: string): string {
  return url.replace(/^https?:\/\//, "");
}
