/**
 * The baselines' input: a WatchEvents client of the synthetic scraper that
 * turns each canonical JobEvent into a seed-000-shaped message (same fields,
 * same `timestamp` = the event's time), so the baselines carry the same
 * stream Trawl does. Only the baselines use this; Trawl runs its own code.
 */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { createClient, ScraperService, type JobEvent, type WatchEventsResponse } from "@trawl/proto";

export interface Seed000Like {
  type: string;
  data: Record<string, unknown>;
  timestamp: string;
}

const startedAt = new Map<string, number>();

function translate(event: JobEvent): Seed000Like | undefined {
  const atMs = event.time === undefined ? Date.now() : Number(timestampMs(event.time));
  const timestamp = new Date(atMs).toISOString();
  const kind = event.kind;
  const started = startedAt.get(event.jobId) ?? atMs;
  switch (kind.case) {
    case "started":
      startedAt.set(event.jobId, atMs);
      return { type: "progress", data: { job_id: event.jobId, platform: "web", status: "running", total_items: 0, processed_items: 0, success_count: 0, error_count: 0, progress_percent: 0, started_at: timestamp, elapsed_seconds: 0 }, timestamp };
    case "progress": {
      const c = kind.value.counters;
      const it = kind.value.currentItem;
      return {
        type: "progress",
        data: {
          job_id: event.jobId, platform: "web", status: "running", total_items: c?.pagesTotal ?? 0, processed_items: c?.pagesDone ?? 0,
          success_count: c?.successCount ?? 0, error_count: c?.errorCount ?? 0, progress_percent: 0,
          current_item: it === undefined ? undefined : { id: it.id, title: it.title, url: it.url },
          started_at: new Date(started).toISOString(), elapsed_seconds: (atMs - started) / 1000,
        },
        timestamp,
      };
    }
    case "itemScraped": {
      const it = kind.value.item;
      return { type: "item_preview", data: { job_id: event.jobId, platform: "web", item: { id: it?.id, title: it?.title, url: it?.url, description: it?.description, word_count: it?.wordCount, links_found: it?.linksFound } }, timestamp };
    }
    case "completed": {
      const c = kind.value.counters;
      return { type: "job_complete", data: { job_id: event.jobId, platform: "web", total_items: c?.pagesDone ?? 0, success_count: c?.successCount ?? 0, error_count: c?.errorCount ?? 0, elapsed_seconds: (atMs - started) / 1000 }, timestamp };
    }
    default:
      return undefined;
  }
}

/** Watches `address` and hands every translated message to `onMessage`. */
export function watchScraper(address: string, onMessage: (message: Seed000Like) => void): () => void {
  const client = createClient(ScraperService, address);
  const call = client.watchEvents({ afterOffset: 0n });
  call.on("data", (response: WatchEventsResponse) => {
    if (response.message.case !== "event") return;
    const message = translate(response.message.value);
    if (message !== undefined) onMessage(message);
  });
  call.on("error", () => undefined);
  return () => {
    call.cancel();
    client.close();
  };
}
