/**
 * Crawl throughput with persistence on (SQLite in a fresh DATA_DIR per
 * scenario), through the real scraper and gateway processes:
 *   1. the 405-page fixture site with politeness off;
 *   2. the same site at the default politeness (robots.txt honoured, 2
 *      requests per host, 250 ms between requests to a host), bounded by a
 *      page limit so the run stays short;
 *   3. a generated 5,000-page site with politeness off, and the scraper's peak
 *      RSS over that crawl (a fresh process, so the high-water mark is this
 *      crawl's).
 * Prints a Markdown table. Bounded in count and time; asserts nothing about
 * durations.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLargeSite } from "../fixture/large-site.js";
import { startFixtureSite } from "../fixture/site.js";
import { postJson } from "../support/http.js";
import { startGateway, startScraper } from "../support/stack.js";
import { type Frame, RecordingClient } from "../support/ws-client.js";

const POLITENESS_OFF = { ignore_robots: true, per_host_delay_ms: 0, per_host_concurrency: 8 };
const POLITENESS_DEFAULT = { ignore_robots: false, per_host_delay_ms: 250, per_host_concurrency: 2 };

function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmHWM:"));
  return line ? Number(line.replace(/\D+/g, "")) / 1024 : Number.NaN;
}

interface Outcome {
  pages: number;
  seconds: number;
  rssMb: number;
}

/** One crawl on a fresh scraper + gateway; returns what job_complete reported and the scraper's peak RSS. */
async function crawl(url: string, body: Record<string, unknown>): Promise<Outcome> {
  const dataDir = mkdtempSync(join(tmpdir(), "trawl-bench-"));
  const scraper = await startScraper({ DATA_DIR: dataDir, CRAWL_CONCURRENCY: "8", CRAWL_MAX_PAGES_LIMIT: "20000", CRAWL_MAX_DEPTH: "20", PROGRESS_INTERVAL_MS: "250" });
  const gateway = await startGateway([scraper.address]);
  const client = await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping`);
  try {
    const res = await postJson<{ job_id: string }>(`${gateway.url}/api/scrape`, { url, ...body });
    if (res.status !== 200) throw new Error(`POST /api/scrape answered ${res.status}: ${res.text}`);
    const jobId = res.body.job_id;
    const done = await client.waitForFrame(
      "job_complete",
      (f: Frame) => (f.type === "job_complete" || f.type === "job_error") && (f.data as { job_id: string }).job_id === jobId,
      { timeoutMs: 300_000 },
    );
    if (done.type !== "job_complete") throw new Error(`the job failed: ${JSON.stringify(done.data)}`);
    const data = done.data as { total_items: number; elapsed_seconds: number };
    return { pages: data.total_items, seconds: data.elapsed_seconds, rssMb: peakRssMb(scraper.pid) };
  } finally {
    await client.close();
    await gateway.stop();
    await scraper.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const rows: string[] = [];
const row = (name: string, o: Outcome) =>
  rows.push(`| ${name} | ${o.pages} | ${o.seconds.toFixed(2)} | ${(o.pages / o.seconds).toFixed(0)} | ${o.rssMb.toFixed(0)} |`);

const fixture = await startFixtureSite({ slowDelayMs: 1 });
try {
  for (let run = 1; run <= 3; run++) row(`fixture, politeness off, run ${run}`, await crawl(fixture.url("/"), { depth: 10, ...POLITENESS_OFF }));
  row("fixture, default politeness, first 120 pages", await crawl(fixture.url("/"), { depth: 10, max_pages: 120, ...POLITENESS_DEFAULT }));
} finally {
  await fixture.close();
}

const large = await startLargeSite(5_000);
try {
  row(`${large.pages}-page site, politeness off`, await crawl(`${large.origin}/`, { depth: large.depth, max_pages: large.pages, ...POLITENESS_OFF }));
} finally {
  await large.close();
}

process.stdout.write(
  [
    "",
    "Crawl throughput with persistence (SQLite), concurrency 8, real scraper + gateway processes, one /ws/scraping watcher:",
    "",
    "| scenario | pages | job elapsed s | pages/s | scraper peak RSS MB |",
    "|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n"),
);
