/**
 * Parsers for the values structured data carries as strings: counts,
 * ISO 8601 durations and dates. Each returns `undefined` for anything it
 * cannot read exactly, so a field is left unset rather than guessed.
 */

const INTEGER = /^[+-]?\d[\d,]*$/;

/** An integer count from a JSON number or a string such as "1,234"; `undefined` otherwise. */
export function parseInteger(value: unknown): bigint | undefined {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) ? BigInt(value) : undefined;
  }
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  if (!INTEGER.test(trimmed)) return undefined;
  return BigInt(trimmed.replace(/,/g, ""));
}

/** Like {@link parseInteger}, but only counts that cannot be negative. */
export function parseCount(value: unknown): bigint | undefined {
  const n = parseInteger(value);
  return n !== undefined && n >= 0n ? n : undefined;
}

const LABELLED_COUNT = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\s+\p{L}[\p{L}\s]*)?$/u;

/**
 * A count as pages print it next to its unit: "1,234 views", "56 comments",
 * or a bare count. Abbreviated counts ("1.2K views") are refused: their
 * exact value is not on the page.
 */
export function parseLabelledCount(value: unknown): bigint | undefined {
  if (typeof value !== "string") return parseCount(value);
  const match = LABELLED_COUNT.exec(value.trim());
  return match ? BigInt((match[1] as string).replace(/,/g, "")) : undefined;
}

const ISO_DURATION = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/** Whole seconds of an ISO 8601 duration such as "PT4M13S" or "P1DT2H". */
export function parseIsoDuration(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = ISO_DURATION.exec(value.trim());
  if (!match || value.trim() === "P" || /T$/i.test(value.trim())) return undefined;
  const [, d, h, m, s] = match;
  const seconds = Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3_600 + Number(m ?? 0) * 60 + Number(s ?? 0);
  return Number.isFinite(seconds) && seconds <= 0xffff_ffff ? Math.floor(seconds) : undefined;
}

/** A date from an ISO 8601 / RFC 2822 string; `undefined` when unparseable. */
export function parseDate(value: unknown): Date | undefined {
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const time = Date.parse(value.trim());
  return Number.isFinite(time) ? new Date(time) : undefined;
}
