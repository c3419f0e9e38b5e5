/**
 * `events.watch` ids: the position of a subscriber in every scraper's log,
 * as `address|offset` pairs, comma-separated. Resuming from one replays
 * exactly the events after it from each scraper's own log.
 */
import type { LiveState } from "../state/live-state.js";

/** Per-scraper offsets: the position of a subscriber in every scraper's log. */
export type Cursor = Map<string, bigint>;

export function formatCursor(cursor: ReadonlyMap<string, bigint>): string {
  return [...cursor].map(([address, offset]) => `${address}|${offset}`).join(",");
}

/** The id of "now": every scraper's last applied offset, to subscribe from a state just read. */
export function currentCursor(state: LiveState): string {
  return formatCursor(new Map([...state.scrapers].map(([address, scraper]) => [address, scraper.lastOffset])));
}

/** Parses a cursor made by `formatCursor`; undefined when it is not one. */
export function parseCursor(text: string): Cursor | undefined {
  const cursor: Cursor = new Map();
  for (const part of text.split(",")) {
    const match = /^([^|,]+)\|(\d{1,20})$/.exec(part);
    if (match === null) return undefined;
    cursor.set(match[1] as string, BigInt(match[2] as string));
  }
  return cursor;
}

