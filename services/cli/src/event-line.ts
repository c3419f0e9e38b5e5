/** `trawl follow`'s human form: one line per job event. Pure. */
import type { JobCountersJson, JobEventJson } from "@trawl/proto";
import { eventKind } from "./job-events.js";
import { formatBytes, formatDuration } from "./format.js";

/** "PAGE_ERROR_KIND_TOO_LARGE" → "too large". */
function enumWord(value: string | undefined, prefix: string): string {
  if (value === undefined) return "unknown";
  return value.replace(prefix, "").toLowerCase().replaceAll("_", " ");
}

function countsText(counters: JobCountersJson | undefined): string {
  const done = counters?.pagesDone ?? 0;
  const total = counters?.pagesTotal ?? 0;
  const errors = counters?.errorCount ?? 0;
  return `${done}/${total} pages, ${counters?.successCount ?? 0} ok, ${errors} ${errors === 1 ? "error" : "errors"}`;
}

/** "HH:MM:SS" of the event's time, in the local time zone. */
export function clockTime(iso: string | undefined): string {
  if (iso === undefined) return "--:--:--";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "--:--:--";
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((part) => String(part).padStart(2, "0")).join(":");
}

/** What happened, without the time and job id. */
export function eventDetail(event: JobEventJson): string {
  const kind = eventKind(event);
  switch (kind) {
    case "started": {
      const urls = event.started?.job?.spec?.urls ?? [];
      const scan = event.started?.job?.scan?.path;
      return scan !== undefined ? `started scan of ${scan}` : `started crawl of ${urls[0] ?? "?"}${urls.length > 1 ? ` (+${urls.length - 1} more)` : ""}`;
    }
    case "progress":
      return `progress ${countsText(event.progress?.counters)}`;
    case "itemScraped": {
      const value = event.itemScraped;
      const title = value?.item?.title;
      return `item ${value?.url ?? value?.item?.url ?? "?"}${title ? ` "${title}"` : ""} (${value?.processingMs ?? 0} ms)`;
    }
    case "pageFailed": {
      const value = event.pageFailed;
      const status = value?.httpStatus ? ` ${value.httpStatus}` : "";
      return `page failed ${value?.url ?? "?"}: ${enumWord(value?.errorKind, "PAGE_ERROR_KIND_")}${status}${value?.message ? ` (${value.message})` : ""}`;
    }
    case "pageSkipped":
      return `page skipped ${event.pageSkipped?.url ?? "?"} (${enumWord(event.pageSkipped?.reason, "SKIP_REASON_")})`;
    case "taskStarted":
      return `task started ${event.taskStarted?.url ?? "?"}`;
    case "taskFinished": {
      const value = event.taskFinished;
      return `task finished ${value?.url ?? "?"}: ${value?.pages ?? 0} pages, ${value?.items ?? 0} items, ${value?.errors ?? 0} errors`;
    }
    case "taskFailed":
      return `task failed ${event.taskFailed?.url ?? "?"}: ${event.taskFailed?.errorMessage ?? ""}`;
    case "paused":
      return `paused at ${countsText(event.paused?.counters)}`;
    case "resumed":
      return `resumed${event.resumed?.recovered === true ? " after a scraper restart" : ""} at ${countsText(event.resumed?.counters)}`;
    case "completed":
      return `completed: ${countsText(event.completed?.counters)} in ${formatDuration((event.completed?.elapsedMs ?? 0) / 1000)}`;
    case "failed":
      return `failed after ${formatDuration((event.failed?.elapsedMs ?? 0) / 1000)}: ${event.failed?.errorMessage ?? ""}`;
    case "cancelled": {
      const reason = event.cancelled?.reason;
      return `cancelled after ${formatDuration((event.cancelled?.elapsedMs ?? 0) / 1000)}${reason ? ` (${reason})` : ""}`;
    }
    case "scanProgress":
      return `scanned ${event.scanProgress?.scanned ?? 0}/${event.scanProgress?.total ?? 0} files${event.scanProgress?.currentPath ? ` (${event.scanProgress.currentPath})` : ""}`;
    case "scanCompleted":
      return `scan completed: ${event.scanCompleted?.count ?? 0} files, ${formatBytes(Number(event.scanCompleted?.totalSize ?? 0))}`;
    default:
      return kind ?? "unknown event";
  }
}

/** "07:05:03 <job id> #42 item http://… \"Title\" (12 ms)" */
export function eventLine(event: JobEventJson): string {
  return `${clockTime(event.time)} ${event.jobId ?? "?"} #${event.seq ?? "?"} ${eventDetail(event)}`;
}
