/**
 * URL normalisation and crawl scope, as the crawl contract defines them:
 * resolve against a base, keep only http(s), drop the fragment, lower-case
 * scheme and host and drop the default port (the WHATWG parser does those
 * two, and also canonicalises decimal, octal and hex IPv4 hosts), drop
 * tracking parameters and keep the rest of the query string as it is, in
 * its order.
 *
 * De-duplication goes one step further than the URL itself: `/path/` and
 * `/path` are the same page ({@link dedupeKey}); whichever the crawl meets
 * first is the one fetched.
 */

/**
 * Longest URL the crawler fetches or follows, in characters once
 * normalised. Browsers and servers commonly stop at 8 KB (a longer request
 * line gets 414), and a link that long is almost always a trap or junk.
 */
export const MAX_URL_LENGTH = 8192;

/** Query parameters that only track a visit: `utm_*` and these names (compared case-insensitively). */
export const TRACKING_PARAMETERS: ReadonlySet<string> = new Set(["gclid", "fbclid", "msclkid", "mc_cid", "mc_eid", "_ga", "yclid", "igshid", "ref_src"]);

function isTracking(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    // A malformed escape: judge the name as written.
  }
  const lower = decoded.toLowerCase();
  return lower.startsWith("utm_") || TRACKING_PARAMETERS.has(lower);
}

/** Removes tracking parameters from `url`'s query, keeping every other parameter byte for byte and in order. */
function dropTracking(url: URL): void {
  if (url.search === "") return;
  const parts = url.search.slice(1).split("&");
  const kept = parts.filter((part) => !isTracking(part.split("=", 1)[0] as string));
  if (kept.length !== parts.length) url.search = kept.length > 0 ? `?${kept.join("&")}` : "";
}

/**
 * Resolves `href` against `base` and returns the normalised absolute URL, or
 * `undefined` when it is not a parseable http(s) URL or is longer than
 * {@link MAX_URL_LENGTH}.
 */
export function normalizeUrl(href: string, base?: string | URL): string | undefined {
  // Far longer than any URL kept: not worth parsing (an href can be megabytes long).
  if (href.length > 4 * MAX_URL_LENGTH) return undefined;
  let url: URL;
  try {
    url = new URL(href, base);
  } catch {
    // Not a URL (or a relative reference without a base): nothing to crawl.
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (url.hash !== "") url.hash = "";
  dropTracking(url);
  return url.href.length <= MAX_URL_LENGTH ? url.href : undefined;
}

/**
 * The key a crawl de-duplicates normalised URLs on: the URL with one
 * trailing slash of a non-root path removed, so `/docs/` and `/docs` count
 * as one page (the query, if any, is kept).
 */
export function dedupeKey(normalizedUrl: string): string {
  const query = normalizedUrl.indexOf("?");
  const end = query === -1 ? normalizedUrl.length : query;
  const pathStart = normalizedUrl.indexOf("/", normalizedUrl.indexOf("//") + 2);
  if (pathStart === -1 || end - 1 <= pathStart || normalizedUrl.charCodeAt(end - 1) !== 0x2f) return normalizedUrl;
  return normalizedUrl.slice(0, end - 1) + normalizedUrl.slice(end);
}

/** The politeness key of a normalised URL: host name and port (`example.com`, `127.0.0.1:8080`). */
export function hostKey(normalizedUrl: string): string {
  return new URL(normalizedUrl).host;
}

/**
 * The prefix every normalised URL of `url`'s origin starts with
 * (`http://host:port/`). Checking `startsWith` against it is the scope test:
 * cheaper than parsing each link again, and exact for normalised URLs.
 */
export function originPrefix(normalizedUrl: string): string {
  return `${new URL(normalizedUrl).origin}/`;
}

/** True when `normalizedUrl` belongs to the origin whose prefix is `prefix`. */
export function inScope(normalizedUrl: string, prefix: string): boolean {
  return normalizedUrl.startsWith(prefix);
}
