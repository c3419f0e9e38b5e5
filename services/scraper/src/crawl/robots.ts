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
