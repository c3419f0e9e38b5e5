/**
 * Platform detection from a URL and the platform-specific item id, as the
 * crawl contract defines them.
 */
import { createHash } from "node:crypto";
import { Platform } from "@trawl/proto";

const onDomain = (host: string, domain: string): boolean => host === domain || host.endsWith(`.${domain}`);

/** TWITTER, YOUTUBE or REDDIT from the host name (subdomains included); WEB otherwise. */
export function detectPlatform(url: string): Platform {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    // Callers validate URLs first; an unparseable one is simply not a known platform.
    return Platform.WEB;
  }
  if (onDomain(host, "twitter.com") || onDomain(host, "x.com")) return Platform.TWITTER;
  if (onDomain(host, "youtube.com") || onDomain(host, "youtu.be")) return Platform.YOUTUBE;
  if (onDomain(host, "reddit.com")) return Platform.REDDIT;
  return Platform.WEB;
}

const TWEET_ID = /\/status\/(\d+)/;
const REDDIT_POST_ID = /\/comments\/([a-z0-9]+)/;
const YOUTUBE_ID = /^[A-Za-z0-9_-]+$/;

/** `page_` and the first 12 hex digits of the SHA-256 of the normalised URL. */
export function pageId(normalizedUrl: string): string {
  return `page_${createHash("sha256").update(normalizedUrl).digest("hex").slice(0, 12)}`;
}

function platformId(platform: Platform, url: URL): string | undefined {
  switch (platform) {
    case Platform.TWITTER:
      return TWEET_ID.exec(url.pathname)?.[1];
    case Platform.REDDIT:
      return REDDIT_POST_ID.exec(url.pathname)?.[1];
    case Platform.YOUTUBE: {
      const v = url.searchParams.get("v");
      if (v !== null && YOUTUBE_ID.test(v)) return v;
      if (onDomain(url.hostname, "youtu.be")) {
        const segment = url.pathname.split("/")[1];
        if (segment !== undefined && YOUTUBE_ID.test(segment)) return segment;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The item id of a page of `platform` at `normalizedUrl`: the platform's own id when the URL carries one. */
export function itemId(platform: Platform, normalizedUrl: string): string {
  let url: URL | undefined;
  try {
    url = new URL(normalizedUrl);
  } catch {
    // Falls back to the URL hash below.
    url = undefined;
  }
  return (url && platformId(platform, url)) ?? pageId(normalizedUrl);
}

const SUBREDDIT = /^\/r\/([A-Za-z0-9_]+)(?:\/|$)/;

/** The subreddit named by a `/r/<name>/` URL path. */
export function subredditFromUrl(normalizedUrl: string): string | undefined {
  try {
    return SUBREDDIT.exec(new URL(normalizedUrl).pathname)?.[1];
  } catch {
    // No path, no subreddit.
    return undefined;
  }
}
