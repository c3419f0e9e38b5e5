/**
 * URL normalisation and crawl scope, as the crawl contract defines them:
 * resolve against a base, keep only http(s), drop the fragment, lower-case
 * scheme and host and drop the default port (the WHATWG parser does those
 * two), keep the query string as it is.
 */

/**
 * Resolves `href` against `base` and returns the normalised absolute URL, or
 * `undefined` when it is not a parseable http(s) URL.
 */
export function normalizeUrl(href: string, base?: string | URL): string | undefined {
  let url: URL;
  try {
    url = new URL(href, base);
  } catch {
    // Not a URL (or a relative reference without a base): nothing to crawl.
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (url.hash !== "") url.hash = "";
  return url.href;
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
