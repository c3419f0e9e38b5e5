/**
 * What every crawler child of the crawl comparison reports, measured the same
 * way in each: pages handled, wall seconds of the crawl itself (not module
 * loading), CPU seconds over the crawl and over the whole process, and the
 * process's peak RSS (VmHWM) read at the end. The child prints one line,
 * `RESULT <json>`, which the runner parses.
 */
import { readFileSync } from "node:fs";

export interface CrawlReport {
  readonly crawler: string;
  readonly concurrency: number;
  readonly pages: number;
  readonly failed: number;
  readonly seconds: number;
  readonly pagesPerSecond: number;
  /** user + system CPU seconds during the crawl. */
  readonly cpuSeconds: number;
  /** user + system CPU seconds since the process started (includes module loading). */
  readonly processCpuSeconds: number;
  readonly peakRssMb: number;
  readonly detail?: string;
}

export interface CrawlArgs {
  readonly origin: string;
  readonly maxPages: number;
  readonly depth: number;
  readonly concurrency: number;
}

/** `<origin> <maxPages> <depth> <concurrency>` from argv. */
export function crawlArgs(argv = process.argv.slice(2)): CrawlArgs {
  const [origin, maxPages, depth, concurrency] = argv;
  const args = { origin: origin ?? "", maxPages: Number(maxPages), depth: Number(depth), concurrency: Number(concurrency) };
  if (!args.origin.startsWith("http://127.0.0.1:") || ![args.maxPages, args.depth, args.concurrency].every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error(`usage: <origin http://127.0.0.1:port> <maxPages> <depth> <concurrency>; got ${argv.join(" ")}`);
  }
  return args;
}

/** Peak resident set size of a process in MB, from /proc (Linux). */
export function peakRssMb(pid: number | "self" = "self"): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmHWM:"));
  return line ? Number(line.replace(/\D+/g, "")) / 1024 : Number.NaN;
}

/** user + system CPU seconds another process has used so far, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After "pid (comm) ", field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const cpuSeconds = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1e6;

/** Times `crawl` and prints its RESULT line. */
export async function runAndReport(
  crawler: string,
  concurrency: number,
  crawl: () => Promise<{ pages: number; failed: number; detail?: string }>,
): Promise<void> {
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  const { pages, failed, detail } = await crawl();
  const seconds = (performance.now() - began) / 1000;
  const report: CrawlReport = {
    crawler,
    concurrency,
    pages,
    failed,
    seconds,
    pagesPerSecond: pages / seconds,
    cpuSeconds: cpuSeconds(process.cpuUsage(cpuBefore)),
    processCpuSeconds: cpuSeconds(process.cpuUsage()),
    peakRssMb: peakRssMb(),
    ...(detail === undefined ? {} : { detail }),
  };
  process.stdout.write(`RESULT ${JSON.stringify(report)}\n`);
}
