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
