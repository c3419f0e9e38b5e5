/**
 * Dashboard benchmark (`npx tsx bench/dashboard.ts` from tests/): boots the
 * real stack with the built dashboard, keeps a paced crawl of a large
 * generated site running, and loads the overview BENCH_LOADS times (default
 * 10) in headless Chromium, each in a fresh context (cold cache). For each
 * load it reports, in ms since navigation start (the page's own
 * performance.now()): the first job card rendered, and the first live
 * update applied — the first change of a card's pages-done or the first new
 * preview after the initial render. Then the size of web/dist/assets, raw
 * and gzipped. Prints tables; asserts nothing.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { assertBrowserPrerequisites, assertGatewayServesDashboard, DASHBOARD_DIR, dashboardUrl, launchChromium, VIEWPORT } from "../support/browser.js";
import { startLargeSite } from "../fixture/large-site.js";
import { postJson } from "../support/http.js";
import { startStack } from "../support/stack.js";

const LOADS = Number(process.env.BENCH_LOADS ?? 10);
const PAGE_TIMEOUT_MS = 30_000;

/**
 * Installed before any page script runs: watches the DOM and stamps
 * performance.now() at the first card and the first live change. Plain JS
 * (it runs in the page).
 */
const PROBE = `(() => {
  const probe = { card: null, progress: null, preview: null, baseline: new Map(), firstPreview: undefined };
  window.__trawlProbe = probe;
  const scan = () => {
    const now = performance.now();
    for (const bar of document.querySelectorAll('[data-testid="job-card"] [data-testid="job-progress"]')) {
      const card = bar.closest('[data-testid="job-card"]');
      const id = card && card.getAttribute("data-job-id");
      const done = bar.getAttribute("data-done");
      if (!id || done === null) continue;
      if (probe.card === null) probe.card = now;
      if (!probe.baseline.has(id)) probe.baseline.set(id, done);
      else if (probe.progress === null && probe.baseline.get(id) !== done) probe.progress = now;
    }
    const first = document.querySelector('[data-testid="previews"] [data-testid="preview"]');
    const key = first ? first.textContent : null;
    if (probe.firstPreview === undefined) { if (first) probe.firstPreview = key; }
    else if (probe.preview === null && key !== probe.firstPreview) probe.preview = now;
  };
  new MutationObserver(scan).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
})();`;

interface Probe {
  card: number | null;
  progress: number | null;
  preview: number | null;
  domContentLoaded: number;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join(" | ")} |`;
  return [line(header), `|${widths.map((width, i) => (i === 0 ? "-".repeat(width + 2) : `${"-".repeat(width + 1)}:`)).join("|")}|`, ...rows.map(line)].join("\n");
}

const ms = (value: number | null): string => (value === null || !Number.isFinite(value) ? "—" : value.toFixed(0));
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

function bundleSizes(): void {
  const assets = join(DASHBOARD_DIR, "assets");
  const rows = files(assets)
    .sort()
    .map((path) => {
      const body = readFileSync(path);
      return { name: relative(DASHBOARD_DIR, path), raw: body.length, gzip: gzipSync(body).length };
    });
  const sum = (pick: (row: (typeof rows)[number]) => number, filter: (name: string) => boolean): number => rows.filter((row) => filter(row.name)).reduce((total, row) => total + pick(row), 0);
  const totals = [
    { label: "total .js", filter: (name: string) => name.endsWith(".js") },
    { label: "total .css", filter: (name: string) => name.endsWith(".css") },
    { label: "total assets", filter: () => true },
  ];
  console.log(`\nBundle: ${assets}\n`);
  console.log(
    table(
      ["file", "raw", "gzip"],
      [
        ...rows.map((row) => [row.name, kb(row.raw), kb(row.gzip)]),
        ...totals.map((total) => [total.label, kb(sum((row) => row.raw, total.filter)), kb(sum((row) => row.gzip, total.filter))]),
      ],
    ),
  );
}

assertBrowserPrerequisites();
const site = await startLargeSite(20_000);
const stack = await startStack({ gatewayEnv: { DASHBOARD_DIR }, scraperEnv: { CRAWL_MAX_PAGES_LIMIT: "20000" } });
const browser = await launchChromium();
try {
  await assertGatewayServesDashboard(stack.gateway.url);
  // Paced so it outlives every load: ~50 pages/s, one request at a time.
  const startCrawl = async (): Promise<string> => {
    const started = await postJson<{ job_id: string }>(`${stack.gateway.url}/api/scrape`, {
      url: `${site.origin}/`,
      depth: Math.min(site.depth, 10),
      max_pages: 20_000,
      per_host_delay_ms: 20,
      per_host_concurrency: 1,
    });
    if (started.status !== 200) throw new Error(`POST /api/scrape answered ${started.status}: ${started.text}`);
    return started.body.job_id;
  };
  let jobId = await startCrawl();
  const results: Probe[] = [];
  for (let load = 1; load <= LOADS; load++) {
    const context = await browser.newContext({ viewport: VIEWPORT });
    await context.addInitScript({ content: PROBE });
    const page = await context.newPage();
    await page.goto(dashboardUrl(stack.gateway.url, "/"), { waitUntil: "commit" });
    await page.waitForFunction(
      () => {
        const probe = (globalThis as unknown as { __trawlProbe?: Probe }).__trawlProbe;
        return probe !== undefined && (probe.progress !== null || probe.preview !== null);
      },
      undefined,
      { timeout: PAGE_TIMEOUT_MS },
    );
    const probe = await page.evaluate(() => {
      const scope = globalThis as unknown as { __trawlProbe: Probe; performance: { getEntriesByType(type: string): Array<{ domContentLoadedEventEnd?: number }> } };
      const navigation = scope.performance.getEntriesByType("navigation")[0];
      return { card: scope.__trawlProbe.card, progress: scope.__trawlProbe.progress, preview: scope.__trawlProbe.preview, domContentLoaded: navigation?.domContentLoadedEventEnd ?? Number.NaN };
    });
    results.push(probe);
    await context.close();
    const status = await fetch(`${stack.gateway.url}/api/jobs/${jobId}`).then(async (response) => ((await response.json()) as { status: string }).status);
    if (status !== "running") jobId = await startCrawl();
  }
  await postJson(`${stack.gateway.url}/api/jobs/${jobId}/cancel`, {});

  const firstLive = (probe: Probe): number => Math.min(probe.progress ?? Number.POSITIVE_INFINITY, probe.preview ?? Number.POSITIVE_INFINITY);
  console.log(`\nTime to first live update (ms since navigation start, headless Chromium, cold cache, ${LOADS} loads, crawl running)\n`);
  console.log(
    table(
      ["load", "DOMContentLoaded", "first card", "first progress change", "first new preview", "first live update"],
      results.map((probe, i) => [String(i + 1), ms(probe.domContentLoaded), ms(probe.card), ms(probe.progress), ms(probe.preview), ms(firstLive(probe))]),
    ),
  );
  const live = results.map(firstLive);
  const cards = results.flatMap((probe) => (probe.card === null ? [] : [probe.card]));
  console.log("");
  console.log(
    table(
      ["metric", "median ms", "p95 ms"],
      [
        ["first card rendered", ms(median(cards)), ms(percentile(cards, 95))],
        ["first live update applied", ms(median(live)), ms(percentile(live, 95))],
      ],
    ),
  );
  bundleSizes();
} finally {
  await browser.close();
  await stack.stop();
  await site.close();
}
