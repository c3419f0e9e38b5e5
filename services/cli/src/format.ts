/**
 * Pure text formatting for the terminal: durations, rates, sizes, tables,
 * and parsing of the human inputs `--since 1h` takes. No I/O, no clock:
 * callers pass `now`.
 */
import { UsageError } from "./errors.js";

/** "85ms", "4.2s", "12s", "3m 05s", "2h 07m": short, and precise where it matters. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Number.isFinite(seconds) ? seconds : 0);
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  if (s < 10) return `${(Math.floor(s * 10) / 10).toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  const whole = Math.floor(s);
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${String(whole % 60).padStart(2, "0")}s`;
  return `${Math.floor(whole / 3600)}h ${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")}m`;
}

/** A rate with as many decimals as are meaningful: "0.25", "3.4", "35.2", "412". */
export function formatRate(perSecond: number, unit: string): string {
  const r = Math.max(0, Number.isFinite(perSecond) ? perSecond : 0);
  const text = r === 0 ? "0" : r < 1 ? r.toFixed(2) : r < 100 ? r.toFixed(1) : Math.round(r).toString();
  return `${text} ${unit}/s`;
}

/** Pages per second over `elapsedSeconds`; 0 before any time has passed. */
export function rate(count: number, elapsedSeconds: number): number {
  return elapsedSeconds > 0 ? count / elapsedSeconds : 0;
}

const SIZE_UNITS = ["B", "kB", "MB", "GB", "TB"] as const;

/** Decimal units, as download tools show them: "512 B", "1.2 kB", "34 MB". */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < SIZE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const text = unit === 0 || value >= 10 ? Math.round(value).toString() : value.toFixed(1);
  return `${text} ${SIZE_UNITS[unit]}`;
}

/** A UTC timestamp without milliseconds ("2025-11-22 07:05:03Z"), or "-" for none. */
export function formatTimestamp(iso: string | null | undefined): string {
  if (iso === null || iso === undefined || iso === "") return "-";
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** Cuts `text` to `width` characters, marking the cut with "…". */
export function truncate(text: string, width: number): string {
  if (width <= 0) return "";
  const chars = [...text];
  if (chars.length <= width) return text;
  return width === 1 ? "…" : `${chars.slice(0, width - 1).join("")}…`;
}

export interface Column {
  readonly header: string;
  readonly align?: "left" | "right";
}

export interface TableOptions {
  /** Total width to fit in (a terminal's columns); no limit when absent. */
  readonly maxWidth?: number;
  /** The column that gives up width when the table is too wide (usually a URL). */
  readonly shrink?: number;
}

const GAP = "  ";

/**
 * Rows aligned under their headers, two spaces apart, trailing spaces
 * trimmed. When `maxWidth` is set, the `shrink` column is truncated to fit
 * (down to 8 characters).
 */
export function formatTable(columns: readonly Column[], rows: ReadonlyArray<readonly string[]>, options: TableOptions = {}): string[] {
  const widths = columns.map((column, i) => Math.max([...column.header].length, ...rows.map((row) => [...(row[i] ?? "")].length)));
  const { maxWidth, shrink } = options;
  if (maxWidth !== undefined && shrink !== undefined && widths[shrink] !== undefined) {
    const total = widths.reduce((sum, w) => sum + w, 0) + GAP.length * (columns.length - 1);
    if (total > maxWidth) widths[shrink] = Math.max(8, widths[shrink] - (total - maxWidth));
  }
  const line = (cells: readonly string[]): string =>
    columns
      .map((column, i) => {
        const width = widths[i] ?? 0;
        const cell = truncate(cells[i] ?? "", width);
        const pad = " ".repeat(Math.max(0, width - [...cell].length));
        return column.align === "right" ? pad + cell : cell + pad;
      })
      .join(GAP)
      .trimEnd();
  return [line(columns.map((column) => column.header)), ...rows.map(line)];
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90s", "15m", "1h30m", "2d" → milliseconds; undefined when `text` is not such a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+(\.\d+)?[smhdw])+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const match of trimmed.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)) total += Number(match[1]) * (UNIT_MS[match[2] as string] ?? 0);
  return total;
}

/**
 * `--since`: an ISO-8601 time ("2025-11-22", "2025-11-22T07:00:00Z") or a
 * duration back from `nowMs` ("1h", "30m", "2d"); returns an ISO string.
 */
export function parseSince(text: string, nowMs: number, option = "--since"): string {
  const duration = parseDuration(text);
  if (duration !== undefined) return new Date(nowMs - duration).toISOString();
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
  }
  throw new UsageError(`${option} must be an ISO-8601 time (2025-01-31T12:00:00Z) or a duration like 30m, 1h, 2d; got "${text}"`);
}
