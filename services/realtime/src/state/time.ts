/**
 * Timestamp arithmetic for the views. Times always come from events (or, for
 * connection-time views, from the caller) — never from a clock in here.
 */
import type { Timestamp } from "@bufbuild/protobuf/wkt";

/** Milliseconds since the epoch of a proto Timestamp, or undefined when unset. */
export function timestampMs(timestamp: Timestamp | undefined): number | undefined {
  if (timestamp === undefined) return undefined;
  return Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1_000_000);
}

/** ISO 8601 (UTC) rendering of epoch milliseconds. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Seconds between two instants, rounded to 2 decimals, never negative. */
export function elapsedSeconds(fromMs: number, toMs: number): number {
  return roundTo(Math.max(0, toMs - fromMs) / 1000, 2);
}

export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
