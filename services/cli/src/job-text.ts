/** How a job reads in a terminal: the end-of-follow summary, `trawl get`'s details and `trawl list`'s rows. Pure. */
import type { JobJson } from "./client.js";
import { formatBytes, formatDuration, formatRate, formatTimestamp } from "./format.js";

function unit(job: JobJson): string {
  return job.kind === "scan" ? "files" : "pages";
}

/** "386 done of 386, 370 ok, 16 errors" */
export function countsText(job: JobJson): string {
  const c = job.counters;
  const errors = `${c.error_count} ${c.error_count === 1 ? "error" : "errors"}`;
  return `${c.pages_done} done of ${c.pages_total}, ${c.success_count} ok, ${errors}`;
}

/** The first URL (or the scanned path), with how many more a batch holds. */
export function targetText(job: JobJson): string {
  if (job.scan !== null) return job.scan.path;
  const [first, ...more] = job.urls;
  if (first === undefined) return "-";
  return more.length === 0 ? first : `${first} (+${more.length} more)`;
}

function mapText(map: Readonly<Record<string, number>>): string | undefined {
  const entries = Object.entries(map).filter(([, count]) => count > 0);
  return entries.length === 0 ? undefined : entries.map(([key, count]) => `${key}: ${count}`).join(", ");
}

/** The lines printed when a followed job ends. */
export function jobSummary(job: JobJson): string[] {
  const elapsed = formatDuration(job.elapsed_seconds);
  const headline =
    job.status === "completed"
      ? `Job ${job.job_id} completed in ${elapsed}`
      : job.status === "failed"
        ? `Job ${job.job_id} failed after ${elapsed}: ${job.error ?? "no reason given"}`
        : job.status === "cancelled"
          ? `Job ${job.job_id} cancelled after ${elapsed}${job.error === null ? "" : ` (${job.error})`}`
          : `Job ${job.job_id} is ${job.status} after ${elapsed}`;
  const c = job.counters;
  const lines = [headline, `  ${unit(job).padEnd(6)} ${countsText(job)}`];
  if (job.kind === "scan") lines.push(`  size   ${formatBytes(c.total_size)}`);
  else lines.push(`  items  ${c.items} (${formatBytes(c.bytes)} fetched)`);
  lines.push(`  rate   ${formatRate(c.pages_per_second, unit(job))}`);
  const errors = mapText(c.errors_by_kind);
  if (errors !== undefined) lines.push(`  errors ${errors}`);
  return lines;
}

/** `trawl get`: every field worth reading, aligned. */
export function jobDetails(job: JobJson): string[] {
  const c = job.counters;
  const rows: Array<[string, string | undefined]> = [
    ["id", job.job_id],
    ["status", job.status],
    ["kind", job.kind === "scan" ? "directory scan" : `crawl (${job.platform})`],
  ];
  if (job.scan !== null) {
    rows.push(["path", job.scan.path], ["recursive", job.scan.recursive ? "yes" : "no"], ["max files", job.scan.max_files === 0 ? "no limit" : String(job.scan.max_files)]);
  } else {
    rows.push(["urls", job.urls.join("\n")], ["depth", String(job.depth)], ["max pages", job.max_pages === 0 ? "scraper default" : String(job.max_pages)]);
  }
  rows.push(
    ["created", formatTimestamp(job.created_at)],
    ["started", formatTimestamp(job.started_at)],
    ["finished", formatTimestamp(job.finished_at)],
    ["elapsed", formatDuration(job.elapsed_seconds)],
    [unit(job), countsText(job)],
  );
  if (job.kind === "scan") rows.push(["size", formatBytes(c.total_size)]);
  else rows.push(["items", String(c.items)], ["fetched", formatBytes(c.bytes)], ["retries", String(c.retries)]);
  rows.push(
    ["rate", `${formatRate(c.pages_per_second, unit(job))}, ${c.avg_page_ms} ms/page on average, p95 ${c.p95_page_ms} ms`],
    ["errors", mapText(c.errors_by_kind)],
    ["skipped", mapText(c.skipped)],
    ["duplicates", c.near_duplicates > 0 ? String(c.near_duplicates) : undefined],
    ["error", job.error ?? undefined],
    ["scraper", job.scraper],
  );
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows
    .filter((row): row is [string, string] => row[1] !== undefined && row[1] !== "")
    .flatMap(([label, value]) => value.split("\n").map((line, i) => `${(i === 0 ? label : "").padEnd(width)}  ${line}`));
}

export const LIST_COLUMNS = [
  { header: "ID" },
  { header: "STATUS" },
  { header: "PLATFORM" },
  { header: "PAGES", align: "right" },
  { header: "ERRORS", align: "right" },
  { header: "STARTED" },
  { header: "URL" },
] as const;

/** One `trawl list` row, in LIST_COLUMNS order. */
export function listRow(job: JobJson): string[] {
  const c = job.counters;
  return [
    job.job_id,
    job.status,
    job.kind === "scan" ? "scan" : job.platform,
    `${c.pages_done}/${c.pages_total}`,
    String(c.error_count),
    formatTimestamp(job.started_at ?? job.created_at),
    targetText(job),
  ];
}
