/**
 * The soak: a real scraper and gateway (separate processes, SQLite
 * persistence) crawl a generated site over and over for SOAK_MINUTES
 * (default 10) while SOAK_WS_CLIENTS (1,000) raw `/ws/scraping` clients and
 * SOAK_TRPC_CLIENTS (50) tRPC `events.watch` subscribers, in two
 * load-generator processes, receive every event. It samples both services'
 * RSS every SOAK_SAMPLE_SECONDS and, at the end, checks that nothing was
 * lost: every client received every job's terminal event, and every raw
 * client the same number of frames. Prints a Markdown report (the
 * RELIABILITY.md table). Not part of `npm test`; bounded, stops by itself.
 *
 *   npm run soak --workspace @trawl/tests        (SOAK_MINUTES=1 for a short run)
 */
import { startLargeSite } from "../fixture/large-site.js";
import { startLoadGroup } from "../bench/fanout/load-group.js";
import { rssKb, sleep } from "../bench/fanout/harness.js";
import { startGateway, startScraper } from "../support/stack.js";

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const WS_CLIENTS = Number(process.env.SOAK_WS_CLIENTS ?? 1_000);
const TRPC_CLIENTS = Number(process.env.SOAK_TRPC_CLIENTS ?? 50);
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 30);
/** Pages per crawl and crawls at once. */
const PAGES = Number(process.env.SOAK_PAGES ?? 500);
const PARALLEL_JOBS = Number(process.env.SOAK_PARALLEL_JOBS ?? 1);
/** Milliseconds the site takes per page, and fetches at once: pace the crawl to a steady ~80 pages/s (80,000 frames/s to 1,000 clients). */
const PAGE_LATENCY_MS = Number(process.env.SOAK_PAGE_LATENCY_MS ?? 50);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 4);

const started = Date.now();
const log = (line: string) => process.stderr.write(`[soak ${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`);

interface JobResult {
  id: string;
  pages: number;
  items: number;
  seconds: number;
}

async function main(): Promise<void> {
  const site = await startLargeSite(PAGES, { latencyMs: PAGE_LATENCY_MS });
  const scraper = await startScraper({ CRAWL_CONCURRENCY: "8", PROGRESS_INTERVAL_MS: "250", CRAWL_MAX_PAGES_LIMIT: String(PAGES * 2), CRAWL_MAX_DEPTH: "30" });
  const gateway = await startGateway([scraper.address], { WS_MAX_MESSAGES_PER_SECOND: "1000" });
  const raw = await startLoadGroup(1);
  const trpc = await startLoadGroup(1);
  const samples: Array<{ at: number; gatewayMb: number; scraperMb: number }> = [];
  const jobs: JobResult[] = [];
  try {
    const rawConnected = await raw.connect("ws", gateway.url.replace(/^http/, "ws"), WS_CLIENTS, []);
    const trpcConnected = await trpc.connect("trpc-client", gateway.url.replace(/^http/, "ws"), TRPC_CLIENTS, []);
    log(`${rawConnected.ok} raw clients (${rawConnected.failed} failed), ${trpcConnected.ok} tRPC subscribers (${trpcConnected.failed} failed)`);
    await sleep(2_000);
    const t0 = Date.now();
    await raw.measure(t0);
    await trpc.measure(t0);
    const sample = () => samples.push({ at: (Date.now() - t0) / 1000, gatewayMb: rssKb(gateway.pid) / 1024, scraperMb: rssKb(scraper.pid) / 1024 });
    sample();
    const sampler = setInterval(sample, SAMPLE_SECONDS * 1000);
    const deadline = t0 + MINUTES * 60_000;

    const crawlOnce = async (): Promise<void> => {
      const begin = Date.now();
      const response = await fetch(`${gateway.url}/api/scrape`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ url: `${site.origin}/`, depth: 30, max_pages: PAGES, concurrency: CONCURRENCY, ignore_robots: true, per_host_delay_ms: 0, per_host_concurrency: CONCURRENCY }),
      });
      if (response.status !== 200) throw new Error(`POST /api/scrape answered ${response.status}: ${await response.text()}`);
      const { job_id: id } = (await response.json()) as { job_id: string };
      for (;;) {
        await sleep(500);
        const job = (await (await fetch(`${gateway.url}/api/jobs/${id}`)).json()) as { status: string; counters?: { pages_done?: number; items?: number } };
        if (job.status === "completed" || job.status === "failed" || job.status === "cancelled") {
          if (job.status !== "completed") throw new Error(`job ${id} ended ${job.status}`);
          jobs.push({ id, pages: job.counters?.pages_done ?? 0, items: job.counters?.items ?? 0, seconds: (Date.now() - begin) / 1000 });
          return;
        }
      }
    };
    const worker = async (): Promise<void> => {
      while (Date.now() < deadline) await crawlOnce();
    };
    await Promise.all(Array.from({ length: PARALLEL_JOBS }, worker));
    clearInterval(sampler);
    sample();
    const seconds = (Date.now() - t0) / 1000;
    // Let the last frames arrive: report once the counts stop moving (at most 30 s).
    let rawReport = await raw.report();
    let trpcReport = await trpc.report();
    for (let i = 0; i < 60; i++) {
      await sleep(500);
      const [nextRaw, nextTrpc] = await Promise.all([raw.report(), trpc.report()]);
      const still = nextRaw.received === rawReport.received && nextTrpc.received === trpcReport.received;
      rawReport = nextRaw;
      trpcReport = nextTrpc;
      if (still && i >= 3) break;
    }

    const pages = jobs.reduce((sum, job) => sum + job.pages, 0);
    const items = jobs.reduce((sum, job) => sum + job.items, 0);
    const rawTerminalPerClient = rawReport.healthyTerminal / Math.max(1, rawReport.healthy);
    const trpcTerminalPerClient = trpcReport.healthyTerminal / Math.max(1, trpcReport.healthy);
    const rawLost = rawReport.minPerClient !== rawReport.medianPerClient || rawTerminalPerClient !== jobs.length;
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const peak = samples.reduce((max, s) => ({ gatewayMb: Math.max(max.gatewayMb, s.gatewayMb), scraperMb: Math.max(max.scraperMb, s.scraperMb) }), { gatewayMb: 0, scraperMb: 0 });
    const out = [
      `## Soak — ${new Date().toISOString()}, ${MINUTES} min`,
      "",
      "| measure | value |",
      "|---|---|",
      `| clients | ${rawReport.healthy} raw \`/ws/scraping\` + ${trpcReport.healthy} tRPC \`events.watch\` (${rawReport.clients - rawReport.healthy + trpcReport.clients - trpcReport.healthy} not healthy) |`,
      `| crawls | ${jobs.length} completed, ${PARALLEL_JOBS} at a time, ${PAGES} pages each; ${pages} pages, ${items} items in ${seconds.toFixed(0)} s (${(pages / seconds).toFixed(0)} pages/s) |`,
      `| events delivered | raw: ${rawReport.received} frames (${(rawReport.received / seconds).toFixed(0)}/s), every client ${rawReport.minPerClient === rawReport.medianPerClient ? `exactly ${rawReport.minPerClient}` : `between ${rawReport.minPerClient} and ${rawReport.medianPerClient}+`}; tRPC: ${trpcReport.received} events (${(trpcReport.received / seconds).toFixed(0)}/s) |`,
      `| latency p50 / p99 / max | raw ${rawReport.p50} / ${rawReport.p99} / ${rawReport.max} ms; tRPC ${trpcReport.p50} / ${trpcReport.p99} / ${trpcReport.max} ms |`,
      `| terminal events per client | raw ${rawTerminalPerClient.toFixed(2)}, tRPC ${trpcTerminalPerClient.toFixed(2)} (jobs: ${jobs.length}) |`,
      `| gateway RSS start → end (peak) | ${first.gatewayMb.toFixed(0)} → ${last.gatewayMb.toFixed(0)} MB (${peak.gatewayMb.toFixed(0)}) |`,
      `| scraper RSS start → end (peak) | ${first.scraperMb.toFixed(0)} → ${last.scraperMb.toFixed(0)} MB (${peak.scraperMb.toFixed(0)}) |`,
      `| RSS samples (gateway / scraper MB, every ${SAMPLE_SECONDS} s) | ${samples.map((s) => `${s.gatewayMb.toFixed(0)}/${s.scraperMb.toFixed(0)}`).join(" ") } |`,
      `| closes seen by clients | ${JSON.stringify({ ...rawReport.closes, ...trpcReport.closes })} |`,
      `| events lost | ${rawLost || trpcTerminalPerClient !== jobs.length ? "**SOME** (see above)" : "0"} |`,
    ];
    process.stdout.write(`${out.join("\n")}\n`);
    if (rawLost || trpcTerminalPerClient !== jobs.length) process.exitCode = 1;
  } finally {
    await raw.close();
    await trpc.close();
    await gateway.stop();
    await scraper.stop();
    await site.close();
  }
}

const hardStop = setTimeout(
  () => {
    log("hard time limit reached; stopping");
    process.exit(2);
  },
  (MINUTES + 5) * 60_000,
);
hardStop.unref();
main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
