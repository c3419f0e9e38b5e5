/**
 * robots.txt for one job: fetched once per origin (through the job's own
 * guarded, scheduled, retrying fetcher), parsed with robots-parser for the
 * job's user agent, and read as RFC 9309 says:
 *
 * - 2xx: the rules apply; `Crawl-delay` raises the host's delay (capped at
 *   {@link MAX_CRAWL_DELAY_MS}). Only the first {@link MAX_ROBOTS_BYTES} are
 *   parsed (§2.5).
 * - 4xx other than 429 ("unavailable", §2.3.1.3): everything is allowed.
 * - 429, 5xx, a timeout or a network error, after the retries
 *   ("unreachable", §2.3.1.4): everything is disallowed for this origin for
 *   the rest of the job.
 * - More than 5 redirects: unavailable, so allowed (§2.3.1.2).
 * - A host that does not resolve, a refused address or an invalid URL: no
 *   verdict — the pages are then fetched and fail with that same, more
 *   telling, error kind (DNS, BLOCKED_ADDRESS, INVALID_URL).
 * - A file whose wildcard rules are too costly to match (more than
 *   {@link MAX_WILDCARD_CHARS} characters from the first `*` of each rule
 *   on): everything is disallowed, as for an unreachable one. After a `*`,
 *   every character of a pattern costs up to the URL's length to match (the
 *   algorithm of Google's parser, which robots-parser follows), and every
 *   link is matched against every rule: 500 KiB of `Disallow: /*a*a*a…`
 *   rules took 6 s per 8 KB URL, with the event loop — every job and every
 *   RPC — blocked meanwhile. Real files use far less (`Disallow: /*?sort=`
 *   weighs 7).
 */
import { createRequire } from "node:module";
import { PageErrorKind } from "@trawl/proto";
import type { FetchOutcome } from "./fetch-page.js";

/** What robots-parser returns, as far as the crawler uses it. */
interface ParsedRobots {
  isAllowed(url: string, userAgent?: string): boolean | undefined;
  getCrawlDelay(userAgent?: string): number | undefined;
}

// robots-parser is CommonJS (module.exports is the parser) while its types declare an ES
// default export, which NodeNext resolution cannot call; require() gets the function itself.
const parseRobots = createRequire(import.meta.url)("robots-parser") as (url: string, contents: string) => ParsedRobots;

/** robots.txt bytes parsed; RFC 9309 asks for at least 500 KiB. */
export const MAX_ROBOTS_BYTES = 500 * 1024;
/** Pattern characters from each rule's first `*` on that a robots.txt may have in all; see the module comment. */
export const MAX_WILDCARD_CHARS = 4 * 1024;
/** The longest Crawl-delay honoured; a longer one is cut to this. */
export const MAX_CRAWL_DELAY_MS = 60_000;

export interface RobotsRules {
  /** True when the job's user agent may fetch `url` (a normalised URL of this origin). */
  allows(url: string): boolean;
  /** Crawl-delay for the job's user agent, in ms, when the file sets one. */
  crawlDelayMs: number | undefined;
  /** Why a URL is refused: "disallowed by robots.txt" or why everything is. */
  refusal: string;
}

export const ALLOW_ALL: RobotsRules = { allows: () => true, crawlDelayMs: undefined, refusal: "disallowed by robots.txt" };

function disallowAll(why: string): RobotsRules {
  return { allows: () => false, crawlDelayMs: undefined, refusal: `robots.txt unreachable (${why}); RFC 9309 says assume complete disallow` };
}

/** The characters from the first `*` on of every Allow and Disallow pattern of a robots.txt (comments excluded). */
export function wildcardChars(text: string): number {
  let total = 0;
  for (const match of text.matchAll(/^[ \t]*(?:dis)?allow[ \t]*:([^#\r\n]*)/gim)) {
    const pattern = (match[1] as string).trim();
    const star = pattern.indexOf("*");
    if (star !== -1) total += pattern.length - star;
  }
  return total;
}

/**
 * The product token robots.txt groups are matched against: the user agent
 * up to its first "/" or space ("Trawl/0.1 (+https://…)" → "Trawl").
 */
export function productToken(userAgent: string): string {
  return userAgent.trim().split(/[\s/]/, 1)[0] || userAgent;
}

/** The rules a fetch of `robotsUrl` yields for `userAgent`, per RFC 9309 (see the module comment). */
export function robotsRules(robotsUrl: string, outcome: Exclude<FetchOutcome<string>, { kind: "aborted" }>, userAgent: string): RobotsRules {
  if (outcome.kind === "error") {
    const { errorKind, status } = outcome;
    if (errorKind === PageErrorKind.HTTP && status >= 400 && status < 500 && status !== 429) return ALLOW_ALL;
    if (errorKind === PageErrorKind.HTTP || errorKind === PageErrorKind.TIMEOUT || errorKind === PageErrorKind.NETWORK) {
      return disallowAll(errorKind === PageErrorKind.HTTP ? `HTTP ${status}` : outcome.message);
    }
    return ALLOW_ALL;
  }
  const wildcards = wildcardChars(outcome.result);
  if (wildcards > MAX_WILDCARD_CHARS) {
    return {
      allows: () => false,
      crawlDelayMs: undefined,
      refusal: `robots.txt too costly to match (${wildcards} characters of wildcard patterns, more than ${MAX_WILDCARD_CHARS}); assuming complete disallow`,
    };
  }
  const token = productToken(userAgent);
  const robots = parseRobots(robotsUrl, outcome.result);
  const delay = robots.getCrawlDelay(token);
  return {
    allows: (url) => robots.isAllowed(url, token) !== false,
    crawlDelayMs: delay !== undefined && Number.isFinite(delay) && delay > 0 ? Math.min(Math.round(delay * 1000), MAX_CRAWL_DELAY_MS) : undefined,
    refusal: "disallowed by robots.txt",
  };
}

/** Collects a robots.txt body. */
export function textSink(): { start(): void; write(chunk: string): void; end(): string } {
  let text = "";
  return {
    start: () => {
      text = "";
    },
    write: (chunk) => {
      text += chunk;
    },
    end: () => text,
  };
}

/**
 * The robots.txt rules of each origin a job touches, loaded at most once per
 * origin: concurrent asks for one origin share one fetch.
 */
export class RobotsCache {
  private readonly loaded = new Map<string, RobotsRules>();
  private readonly loading = new Map<string, Promise<RobotsRules | undefined>>();

  /** `load` fetches and interprets an origin's robots.txt; undefined when the job was aborted meanwhile. */
  constructor(private readonly load: (origin: string) => Promise<RobotsRules | undefined>) {}

  /** The origin's rules if they are already known. */
  peek(origin: string): RobotsRules | undefined {
    return this.loaded.get(origin);
  }

  /** The origin's rules, loading them the first time; undefined when the job was aborted first. */
  get(origin: string): Promise<RobotsRules | undefined> {
    const known = this.loaded.get(origin);
    if (known !== undefined) return Promise.resolve(known);
    let pending = this.loading.get(origin);
    if (pending === undefined) {
      pending = this.load(origin).then(
        (rules) => {
          this.loading.delete(origin);
          if (rules !== undefined) this.loaded.set(origin, rules);
          return rules;
        },
        (err: unknown) => {
          this.loading.delete(origin);
          throw err;
        },
      );
      this.loading.set(origin, pending);
    }
    return pending;
  }
}
