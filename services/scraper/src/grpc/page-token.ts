/**
 * ListJobs page tokens: opaque to clients, they carry the creation ordinal
 * of the last job of the previous page.
 */
const PREFIX = "jobs-before:";

export function encodePageToken(beforeOrdinal: number): string {
  return Buffer.from(`${PREFIX}${beforeOrdinal}`).toString("base64url");
}

/** The ordinal a token continues before; `undefined` for a token this scraper did not issue. */
export function decodePageToken(token: string): number | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const text = Buffer.from(token, "base64url").toString("utf8");
  if (!text.startsWith(PREFIX)) return undefined;
  const digits = text.slice(PREFIX.length);
  if (!/^\d{1,15}$/.test(digits)) return undefined;
  return Number(digits);
}

const ITEMS_PREFIX = "items-after:";

/** ListItems page tokens: the ordinal of the last item of the previous page. */
export function encodeItemsToken(afterOrdinal: number): string {
  return Buffer.from(`${ITEMS_PREFIX}${afterOrdinal}`).toString("base64url");
}

/** The item ordinal a token continues after; `undefined` for a token ListItems did not issue. */
export function decodeItemsToken(token: string): number | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const text = Buffer.from(token, "base64url").toString("utf8");
  if (!text.startsWith(ITEMS_PREFIX)) return undefined;
  const digits = text.slice(ITEMS_PREFIX.length);
  if (!/^\d{1,15}$/.test(digits)) return undefined;
  return Number(digits);
}
