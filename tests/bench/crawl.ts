/**
 * Crawl benchmark (`npm run bench`): boots the real scraper and gateway as
 * separate processes plus the fixture site, crawls the whole site several
 * times through POST /api/scrape while one client watches /ws/scraping and
 * one watches /ws/scraping/{job_id}, and prints pages per second, what each
 * client received and the scraper's peak RSS. Everything is on 127.0.0.1 and
 * bounded by BENCH_RUNS; nothing here asserts a duration.
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { crawlTruth } from "../fixture/truth.js";
import { postJson } from "../support/http.js";
import { startStack } from "../support/stack.js";
import { RecordingClient, type Frame } from "../support/ws-client.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DEPTH = 10;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

/** Peak resident set size of a process, from /proc (Linux). */
function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmHWM:"));
  return line ? Number(line.replace(/\D+/g, "")) / 1024 : Number.NaN;
}

function countByType(frames: readonly Frame[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const frame of frames) counts[frame.type] = (counts[frame.type] ?? 0) + 1;
  return counts;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// The slow page answers at once here: the benchmark measures crawling, not a timeout.
const stack = await startStack({
  site: { slowDelayMs: 1 },
  scraperEnv: { PROGRESS_INTERVAL_MS: "250", CRAWL_CONCURRENCY: String(CONCURRENCY) },
});
try {
  const startUrl = stack.site.url("/");
  const truth = crawlTruth(stack.site.graph, {
    startUrls: [startUrl],
    depth: DEPTH,
    platform: "web",
    conditions: { requestTimeoutMs: 4_000, slowDelayMs: 1, pageLatencyMs: 0 },
  });
  const rows: { pages: number; seconds: number; wall: number; global: Record<string, number>; job: Record<string, number> }[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const global = await RecordingClient.connect(`${stack.gateway.wsUrl}/ws/scraping`);
    const began = performance.now();
    const res = await postJson<{ job_id: string }>(`${stack.gateway.url}/api/scrape`, { url: startUrl, depth: DEPTH, concurrency: CONCURRENCY });
    if (res.status !== 200) throw new Error(`POST /api/scrape answered ${res.status}: ${JSON.stringify(res.body)}`);
    const jobId = res.body.job_id;
    const job = await RecordingClient.connect(`${stack.gateway.wsUrl}/ws/scraping/${jobId}`);
    const isEnd = (f: Frame) => (f.type === "job_complete" || f.type === "job_error") && (f.data as { job_id?: string }).job_id === jobId;
    const done = await global.waitForFrame("job_complete", isEnd, { timeoutMs: 120_000 });
    const wall = (performance.now() - began) / 1000;
    await job.waitForFrame("job_complete on the job socket", isEnd, { timeoutMs: 30_000 });
    const data = done.data as { total_items: number; elapsed_seconds: number; success_count: number; error_count: number };
    if (data.total_items !== truth.pagesDone) throw new Error(`run ${run}: crawled ${data.total_items} pages, the site has ${truth.pagesDone}`);
    rows.push({ pages: data.total_items, seconds: data.elapsed_seconds, wall, global: countByType(global.frames), job: countByType(job.frames) });
    await Promise.all([global.close(), job.close()]);
  }

  const rates = rows.map((r) => r.pages / r.seconds);
  const out: string[] = [];
  out.push(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, node ${process.version}`);
  out.push(`site: ${truth.pagesDone} pages (${truth.successCount} successes, ${truth.errorCount} errors), depth ${DEPTH}, concurrency ${CONCURRENCY}, ${RUNS} runs`);
  out.push("");
  out.push("| run | pages | job elapsed s | pages/s | POST→job_complete s | /ws/scraping frames | /ws/scraping/{id} frames |");
  out.push("|---|---|---|---|---|---|---|");
  rows.forEach((r, i) =>
    out.push(
      `| ${i + 1} | ${r.pages} | ${r.seconds.toFixed(2)} | ${(r.pages / r.seconds).toFixed(0)} | ${r.wall.toFixed(2)} | ${JSON.stringify(r.global)} | ${JSON.stringify(r.job)} |`,
    ),
  );
  out.push("");
  out.push(`median pages/s: ${median(rates).toFixed(0)} (min ${Math.min(...rates).toFixed(0)}, max ${Math.max(...rates).toFixed(0)})`);
  out.push(`scraper peak RSS: ${peakRssMb(stack.scraper.pid).toFixed(0)} MB; gateway peak RSS: ${peakRssMb(stack.gateway.pid).toFixed(0)} MB`);
  process.stdout.write(`${out.join("\n")}\n`);
} finally {
  await stack.stop();
}
