/**
 * Runs the crawl of one job: breadth-first from the start URLs, at most
 * `concurrency` fetches in flight, links followed within the origin of
 * their task's start URL down to `depth`, every page reported once.
 * Aborting `signal` aborts the fetches in flight; they are not reported and
 * the crawl resolves once every one of them has settled, so nothing is
 * reported after it resolves.
 */
import type { PageErrorKind } from "@trawl/proto";
import type { Dispatcher } from "undici";
import { PageExtractor, type PageExtract } from "../extract/page-extractor.js";
import { fetchPage } from "./fetch-page.js";
import { Frontier, type FrontierEntry } from "./frontier.js";
import { inScope, originPrefix } from "./normalize-url.js";

export interface CrawlOptions {
  /** Normalised start URLs; each one is a task. */
  startUrls: string[];
  depth: number;
  maxPages: number;
  concurrency: number;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  userAgent: string;
  dispatcher: Dispatcher;
  signal: AbortSignal;
}

interface PageBase extends FrontierEntry {
  /** Fetch start to parse end. */
  processingMs: number;
  /** URLs accepted by the frontier after this page's links were offered. */
  accepted: number;
  /** Body bytes read. */
  bytes: number;
  status: number;
  finalUrl: string;
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
 * Crawls and calls `onPage` once per fetched page, in completion order.
 * Resolves when the frontier is exhausted (or the budget spent) and nothing
 * is in flight, or after an abort once the fetches in flight have settled.
 * Rejects only if `onPage` throws.
 */
export function crawl(options: CrawlOptions, onPage: (page: PageResult) => void): Promise<void> {
  const { signal } = options;
  const frontier = new Frontier(options.maxPages);
  const prefixes = options.startUrls.map(originPrefix);
  options.startUrls.forEach((url, task) => frontier.offer(url, 0, task));
  const extractors: PageExtractor[] = [];
  const fetchOptions = {
    dispatcher: options.dispatcher,
    userAgent: options.userAgent,
    timeoutMs: options.requestTimeoutMs,
    maxBodyBytes: options.maxBodyBytes,
    signal,
  };

  const visit = async (entry: FrontierEntry): Promise<PageResult | undefined> => {
    const startedAt = performance.now();
    const extractor = extractors.pop() ?? new PageExtractor();
    try {
      const outcome = await fetchPage(entry.url, fetchOptions, {
        start: (finalUrl) => extractor.reset(finalUrl),
        write: (chunk) => extractor.write(chunk),
        end: () => extractor.end(),
      });
      if (outcome.kind === "aborted" || signal.aborted) return undefined;
      const processingMs = Math.round(performance.now() - startedAt);
      const base = { ...entry, processingMs, bytes: outcome.bytes, status: outcome.status, finalUrl: outcome.finalUrl, accepted: 0 };
      if (outcome.kind === "error") return { ...base, ok: false, errorKind: outcome.errorKind, message: outcome.message };
      if (outcome.finalUrl !== entry.url) frontier.markSeen(outcome.finalUrl);
      if (entry.depth < options.depth && !frontier.full) {
        const prefix = prefixes[entry.task] as string;
        for (const link of outcome.result.links) {
          if (inScope(link, prefix)) frontier.offer(link, entry.depth + 1, entry.task);
          if (frontier.full) break;
        }
      }
      return { ...base, ok: true, extract: outcome.result };
    } finally {
      extractors.push(extractor);
    }
  };

  return new Promise<void>((resolve, reject) => {
    let inFlight = 0;
    let failure: unknown;
    const settle = (): void => {
      if (inFlight > 0) return;
      if (failure !== undefined) reject(failure);
      else if (signal.aborted || frontier.queued === 0) resolve();
    };
    const pump = (): void => {
      while (!signal.aborted && failure === undefined && inFlight < options.concurrency) {
        const entry = frontier.next();
        if (entry === undefined) break;
        inFlight++;
        visit(entry)
          .then((page) => {
            if (page === undefined || failure !== undefined) return;
            page.accepted = frontier.accepted;
            onPage(page);
          })
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
    signal.addEventListener("abort", settle, { once: true });
    pump();
  });
}
