/**
 * Runs the crawl of one job: breadth-first from the start URLs, at most
 * `concurrency` pages in flight, links followed within the origin of their
 * task's start URL down to `depth`, every page reported once.
 *
 * Politeness: robots.txt is loaded once per origin before its first page
 * (unless `respectRobots` is off) and URLs it disallows are skipped; every
 * request waits its turn at the job's host scheduler (per-host concurrency
 * and delay, robots.txt Crawl-delay, Retry-After, the process-wide rate
 * limit); retryable failures are fetched again with backoff.
 *
 * Aborting `signal` aborts the fetches in flight and every wait; they are
 * not reported and the crawl resolves once every one of them has settled,
 * so nothing is reported after it resolves.
 */
import { getMaxListeners, setMaxListeners } from "node:events";
import type { PageErrorKind } from "@trawl/proto";
import type { Dispatcher } from "undici";
import { PageExtractor, type PageExtract } from "../extract/page-extractor.js";
import type { SkipKey } from "./crawl-stats.js";
import type { FetchOptions } from "./fetch-page.js";
import { fetchWithRetry } from "./fetch-with-retry.js";
import { Frontier, type FrontierEntry } from "./frontier.js";
import { HostScheduler } from "./host-scheduler.js";
import { hostKey, inScope, originPrefix } from "./normalize-url.js";
import type { RetryPolicy } from "./retry-policy.js";
import { MAX_ROBOTS_BYTES, RobotsCache, robotsRules, textSink, type RobotsRules } from "./robots.js";
import { SkipTally } from "./skip-tally.js";
import type { TokenBucket } from "./token-bucket.js";

export interface CrawlOptions {
  /** Normalised start URLs; each one is a task. */
  startUrls: string[];
  depth: number;
  maxPages: number;
  concurrency: number;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  userAgent: string;
  /** Connects only where the SSRF guard allows (see guarded-agent.ts). */
  dispatcher: Dispatcher;
  signal: AbortSignal;
  /** Load robots.txt per origin and skip what it disallows. */
  respectRobots: boolean;
  perHostConcurrency: number;
  /** Minimum ms between request starts to one host; 0 = none (robots.txt Crawl-delay may still set one). */
  perHostDelayMs: number;
  /** The process-wide request rate limit, shared by every job; undefined = unlimited. */
  rateLimiter?: TokenBucket | undefined;
  retry: RetryPolicy;
  /** Compute each page's embedding (CrawlSpec.extract_embeddings). */
  extractEmbeddings?: boolean;
  /** Continue a stored frontier instead of starting from `startUrls` (a job resumed after a restart). */
  resume?: ResumeFrontier;
  /** While paused, no URL is taken from the frontier; pages in flight finish and are reported. */
  pause?: Gate;
}

/** What holds a crawl between pages: a job's own pause, the store being away, or both. */
export interface Gate {
  readonly paused: boolean;
  /** Calls `listener` on every resume; returns the function that unsubscribes it. */
  onResume(listener: () => void): () => void;
}

/** A gate that is paused while any of `gates` is. */
export function anyGate(...gates: Gate[]): Gate {
  return {
    get paused() {
      return gates.some((gate) => gate.paused);
    },
    onResume(listener) {
      const offs = gates.map((gate) => gate.onResume(listener));
      return () => {
        for (const off of offs) off();
      };
    },
  };
}

/** A job's stored frontier, to continue it. */
export interface ResumeFrontier {
  /** URLs accepted and not fetched yet, in order. */
  queued: readonly FrontierEntry[];
  /** Every URL accepted or seen so far. */
  seen: Iterable<string>;
  /** URLs accepted so far (the page budget spent). */
  accepted: number;
}

/** Pauses and resumes a crawl between pages. */
export class PauseGate implements Gate {
  private state = false;
  private readonly listeners = new Set<() => void>();

  get paused(): boolean {
    return this.state;
  }

  pause(): void {
    this.state = true;
  }

  resume(): void {
    if (!this.state) return;
    this.state = false;
    for (const listener of this.listeners) listener();
  }

  /** Calls `listener` on every resume; returns the function that unsubscribes it. */
  onResume(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

interface PageBase extends FrontierEntry {
  /** Time spent fetching and parsing the page (its last attempt; waits for politeness excluded). */
  processingMs: number;
  /** URLs accepted by the frontier after this page's links were offered. */
  accepted: number;
  /** Body bytes read. */
  bytes: number;
  status: number;
  finalUrl: string;
  /** Times the page was fetched again after a retryable failure. */
  retries: number;
  /** Links this page added to the frontier, in order (none for a failed page). */
  discovered: FrontierEntry[];
}

export interface PageSuccess extends PageBase {
  ok: true;
  extract: PageExtract;
}

export interface PageFailure extends PageBase {
  ok: false;
  errorKind: PageErrorKind;
  message: string;
}

export type PageResult = PageSuccess | PageFailure;

/**
 * A URL the crawl leaves alone. `count` is +1 when it is counted, or -1 when
 * a URL counted earlier (for depth, scope or the page limit) was accepted
 * after all. Only robots skips carry an accepted URL's place in the job.
 */
export interface PageSkip {
  url: string;
  reason: SkipKey;
  count: 1 | -1;
  /** Depth and task of the URL (robots skips); the linking page's +1 otherwise. */
  depth: number;
  task: number;
  /** URLs accepted by the frontier now. */
  accepted: number;
  /** Why, in words (robots skips). */
  detail: string;
  /** True when the URL had been accepted into the frontier (and is now given back). */
  released?: boolean;
}

export interface CrawlObserver {
  /** Once per fetched page, in completion order. */
  page(page: PageResult): void;
  /** Once per skipped URL (and -1 corrections); see PageSkip. */
  skip(skip: PageSkip): void;
}

/**
 * Crawls and reports to `observer`. Resolves when the frontier is exhausted
 * (or the budget spent) and nothing is in flight, or after an abort once the
 * fetches in flight have settled. Rejects only if the observer throws.
 */
export function crawl(options: CrawlOptions, observer: CrawlObserver): Promise<void> {
  const { signal } = options;
  // Every page in flight listens on the signal while it fetches and while it waits (host scheduler, retry backoff,
  // robots.txt): that many listeners are expected, not a leak.
  setMaxListeners(Math.max(getMaxListeners(signal), 4 * options.concurrency + 8), signal);
  const frontier = new Frontier(options.maxPages);
  const prefixes = options.startUrls.map(originPrefix);
  const { resume, pause } = options;
  if (resume !== undefined) frontier.restore(resume.queued, resume.seen, resume.accepted);
  else options.startUrls.forEach((url, task) => frontier.offer(url, 0, task));
  const tally = new SkipTally();
  const extractors: PageExtractor[] = [];
  const hosts = new HostScheduler(
    { concurrency: options.perHostConcurrency, delayMs: options.perHostDelayMs, maxHoldOffMs: options.retry.maxMs },
    options.rateLimiter,
  );
  const fetchOptions: FetchOptions = {
    dispatcher: options.dispatcher,
    userAgent: options.userAgent,
    timeoutMs: options.requestTimeoutMs,
    maxBodyBytes: options.maxBodyBytes,
    signal,
    gate: (url) => hosts.acquire(hostKey(url), signal),
  };
  const robotsFetchOptions: FetchOptions = { ...fetchOptions, contentTypes: undefined, truncate: true, maxBodyBytes: MAX_ROBOTS_BYTES, accept: "text/plain,*/*;q=0.1" };

  const robots = options.respectRobots
    ? new RobotsCache(async (origin) => {
        const robotsUrl = `${origin}/robots.txt`;
        const { outcome } = await fetchWithRetry(robotsUrl, robotsFetchOptions, textSink(), options.retry);
        if (outcome.kind === "aborted") return undefined;
        const rules = robotsRules(robotsUrl, outcome, options.userAgent);
        if (rules.crawlDelayMs !== undefined) hosts.raiseDelay(hostKey(robotsUrl), rules.crawlDelayMs);
        return rules;
      })
    : undefined;

  const skip = (url: string, reason: SkipKey, depth: number, task: number, detail = ""): void => {
    observer.skip({ url, reason, count: 1, depth, task, accepted: frontier.accepted, detail });
  };

  /** Offers a fetched page's links; links of an in-scope origin are judged by that origin's robots.txt, already loaded. */
  const offerLinks = (entry: FrontierEntry, links: Iterable<string>, discovered: FrontierEntry[]): void => {
    const prefix = prefixes[entry.task] as string;
    const rules: RobotsRules | undefined = robots?.peek(prefix.slice(0, -1));
    const depth = entry.depth + 1;
    for (const link of links) {
      if (frontier.has(link)) continue;
      if (!inScope(link, prefix)) {
        if (tally.note(link, "scope")) skip(link, "scope", depth, entry.task);
      } else if (entry.depth >= options.depth) {
        if (tally.note(link, "depth")) skip(link, "depth", depth, entry.task);
      } else if (rules !== undefined && !rules.allows(link)) {
        frontier.markSeen(link);
        skip(link, "robots", depth, entry.task, rules.refusal);
      } else {
        const offered = frontier.offer(link, depth, entry.task);
        if (offered === "full") {
          if (tally.note(link, "page_limit")) skip(link, "page_limit", depth, entry.task);
        } else if (offered === "accepted") {
          discovered.push({ url: link, depth, task: entry.task });
          const counted = tally.unnote(link);
          if (counted !== undefined) observer.skip({ url: link, reason: counted, count: -1, depth, task: entry.task, accepted: frontier.accepted, detail: "" });
        }
      }
    }
  };

  type Visit = { page: PageResult } | { skipped: string } | undefined;

  const visit = async (entry: FrontierEntry): Promise<Visit> => {
    if (robots !== undefined) {
      const origin = originPrefix(entry.url).slice(0, -1);
      const rules = robots.peek(origin) ?? (await robots.get(origin));
      if (rules === undefined || signal.aborted) return undefined;
      if (!rules.allows(entry.url)) return { skipped: rules.refusal };
    }
    const extractor = extractors.pop() ?? new PageExtractor({ embeddings: options.extractEmbeddings === true });
    try {
      const { outcome, retries } = await fetchWithRetry(
        entry.url,
        fetchOptions,
        { start: (finalUrl) => extractor.reset(finalUrl), write: (chunk) => extractor.write(chunk), end: () => extractor.end() },
        options.retry,
      );
      if (outcome.kind === "aborted" || signal.aborted) return undefined;
      const base = { ...entry, processingMs: outcome.elapsedMs, bytes: outcome.bytes, status: outcome.status, finalUrl: outcome.finalUrl, accepted: 0, retries, discovered: [] as FrontierEntry[] };
      if (outcome.kind === "error") return { page: { ...base, ok: false, errorKind: outcome.errorKind, message: outcome.message } };
      if (outcome.finalUrl !== entry.url) frontier.markSeen(outcome.finalUrl);
      offerLinks(entry, outcome.result.links, base.discovered);
      return { page: { ...base, ok: true, extract: outcome.result } };
    } finally {
      extractors.push(extractor);
    }
  };

  return new Promise<void>((resolve, reject) => {
    let inFlight = 0;
    let failure: unknown;
    let settled = false;
    const settle = (): void => {
      if (inFlight > 0 || settled) return;
      if (failure === undefined && !signal.aborted && frontier.queued > 0) return;
      settled = true;
      stopListening?.();
      hosts.close(signal.aborted ? signal.reason : undefined);
      if (failure !== undefined) reject(failure);
      else resolve();
    };
    const report = (entry: FrontierEntry, result: Visit): void => {
      if (result === undefined || failure !== undefined) return;
      if ("page" in result) {
        result.page.accepted = frontier.accepted;
        observer.page(result.page);
      } else {
        frontier.release();
        observer.skip({ url: entry.url, reason: "robots", count: 1, depth: entry.depth, task: entry.task, accepted: frontier.accepted, detail: result.skipped, released: true });
      }
    };
    const pump = (): void => {
      while (!signal.aborted && pause?.paused !== true && failure === undefined && inFlight < options.concurrency) {
        const entry = frontier.next();
        if (entry === undefined) break;
        inFlight++;
        visit(entry)
          .then((result) => report(entry, result))
          .catch((err: unknown) => {
            failure ??= err;
          })
          .finally(() => {
            inFlight--;
            pump();
          });
      }
      settle();
    };
    const stopListening = pause?.onResume(pump);
    signal.addEventListener("abort", settle, { once: true });
    pump();
  });
}
