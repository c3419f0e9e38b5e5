/**
 * Baseline (c): Crawlee's CheerioCrawler on the same site, at a fixed
 * concurrency (minConcurrency = maxConcurrency = desiredConcurrency, and the
 * system-status overload ratios at 1 so autoscaling never throttles), with
 * in-memory storage (persistStorage off; CRAWLEE_STORAGE_DIR points at a
 * temporary directory the runner removes), same-origin links, the same page
 * depth as Trawl, default retries. CheerioCrawler parses with
 * htmlparser2 (`_useHtmlParser2: true`, and a second `parseDocument` for
 * `dom`), not parse5.
 *
 * The page limit: the site has exactly `maxPages` pages, all within `depth`,
 * so the limit does not change which pages are visited (the runner checks the
 * count). It is not passed as maxRequestsPerCrawl by default because in
 * Crawlee 3.18.1 a budget equal to the site's size makes the last ~900 pages
 * crawl at ~3 pages/s (8 tasks busy, none fetching; 30 s becomes 65–120 s on
 * this machine), which would measure that slow path rather than the crawler.
 * CRAWLEE_EXACT_LIMIT=1 passes it, to reproduce. Run as its own process:
 *   tsx bench/crawl-compare/crawlee-crawl.ts <origin> <maxPages> <depth> <concurrency>
 */
import { CheerioCrawler, Configuration, log, LogLevel } from "@crawlee/cheerio";
import { crawlArgs, runAndReport } from "./measure.js";

const args = crawlArgs();
log.setLevel(LogLevel.WARNING);

async function crawl(): Promise<{ pages: number; failed: number; detail: string }> {
  let titles = 0;
  const config = new Configuration({ persistStorage: false, purgeOnStart: true });
  const crawler = new CheerioCrawler(
    {
      minConcurrency: args.concurrency,
      maxConcurrency: args.concurrency,
      ...(process.env.CRAWLEE_EXACT_LIMIT === "1" ? { maxRequestsPerCrawl: args.maxPages } : {}),
      maxCrawlDepth: args.depth,
      statusMessageLoggingInterval: 3600,
      autoscaledPoolOptions: {
        desiredConcurrency: args.concurrency,
        loggingIntervalSecs: null,
        systemStatusOptions: { maxMemoryOverloadedRatio: 1, maxEventLoopOverloadedRatio: 1, maxCpuOverloadedRatio: 1, maxClientOverloadedRatio: 1 },
      },
      requestHandler: async ({ $, enqueueLinks }) => {
        if ($("title").text() && $('meta[name="description"]').attr("content") !== undefined) titles++;
        await enqueueLinks({ strategy: "same-origin" });
      },
    },
    config,
  );
  const stats = await crawler.run([`${args.origin}/`]);
  return { pages: stats.requestsFinished, failed: stats.requestsFailed, detail: `${titles} pages with a title and description` };
}

await runAndReport("Crawlee CheerioCrawler", args.concurrency, crawl);
