/**
 * The platform's limit for crawling: a bare loop of `concurrency` workers
 * that fetch (Node's built-in undici fetch, keep-alive), parse with cheerio in
 * its htmlparser2 mode (cheerio's default parse5 is ~2.5× slower), read the
 * title and meta description, and follow same-origin links breadth-first
 * down to `depth`, at most `maxPages` pages. No persistence, no events, no
 * politeness: nothing a crawler could do less of. Run as its own process:
 *   tsx bench/crawl-compare/bare-crawl.ts <origin> <maxPages> <depth> <concurrency>
 */
import { load } from "cheerio";
import { crawlArgs, runAndReport } from "./measure.js";

const args = crawlArgs();

async function crawl(): Promise<{ pages: number; failed: number; detail: string }> {
  const start = `${args.origin}/`;
  const seen = new Set<string>([start]);
  const queue: { url: string; depth: number }[] = [{ url: start, depth: 0 }];
  let next = 0;
  let inFlight = 0;
  let pages = 0;
  let failed = 0;
  let titles = 0;

  const visit = async (url: string, depth: number): Promise<void> => {
    const response = await fetch(url);
    const html = await response.text();
    if (!response.ok) {
      failed++;
      return;
    }
    pages++;
    // `xml: { xmlMode: false }` selects htmlparser2 in HTML mode (`xml: true` alone would parse as XML).
    const $ = load(html, { xml: { xmlMode: false } });
    if ($("title").text() && $('meta[name="description"]').attr("content") !== undefined) titles++;
    if (depth >= args.depth) return;
    for (const a of $("a[href]")) {
      const href = a.attribs.href;
      if (href === undefined) continue;
      let link: URL;
      try {
        link = new URL(href, url);
      } catch {
        continue; // not a URL: nothing to follow
      }
      if (link.origin !== args.origin) continue;
      link.hash = "";
      const key = link.href;
      if (seen.has(key) || seen.size >= args.maxPages) continue;
      seen.add(key);
      queue.push({ url: key, depth: depth + 1 });
    }
  };

  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (inFlight < args.concurrency && next < queue.length) {
        const entry = queue[next++]!;
        inFlight++;
        visit(entry.url, entry.depth).then(() => {
          inFlight--;
          pump();
        }, reject);
      }
      if (inFlight === 0 && next >= queue.length) resolve();
    };
    pump();
  });
  return { pages, failed, detail: `${titles} pages with a title and description` };
}

await runAndReport("bare fetch + cheerio (htmlparser2)", args.concurrency, crawl);
