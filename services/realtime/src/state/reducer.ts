/**
 * The reducer: folds scraper events and snapshots into the LiveState.
 * Deterministic and free of I/O and clocks — every time comes from an event —
 * so replaying the same stream always yields the same state. Events whose
 * per-job seq is not above the job's last applied seq are ignored, which makes
 * resuming a stream from an overlapping offset exactly-once.
 */
import { DEFAULT_TENANT, isTerminal, JobStatus, Platform, type Job, type JobCounters, type JobEvent, type Snapshot } from "@trawl/proto";
import {
  MAX_OPENING_TASKS,
  RECENT_ERRORS,
  RECENT_PREVIEWS,
  scraperRecord,
  type JobCounts,
  type JobRecord,
  type LiveState,
  type PlatformTotals,
  type ScraperRecord,
} from "./live-state.js";
import { timestampMs } from "./time.js";

/** What a snapshot changed: jobs added or updated, and ids that disappeared. */
export interface SnapshotOutcome {
  changed: JobRecord[];
  removed: string[];
}

/**
 * Applies one event from the scraper at `scraperAddress`. Returns the job
 * record it changed, or undefined when the event was a duplicate (or carried
 * no job id) and nothing changed.
 */
export function applyEvent(state: LiveState, scraperAddress: string, event: JobEvent): JobRecord | undefined {
  const scraper = scraperRecord(state, scraperAddress);
  if (event.offset > scraper.lastOffset) scraper.lastOffset = event.offset;
  if (event.jobId === "") return undefined;

  const existing = state.jobs.get(event.jobId);
  if (existing !== undefined && event.seq <= existing.lastSeq) return undefined;

  const atMs = timestampMs(event.time) ?? existing?.lastEventMs ?? 0;
  const job = existing ?? stubRecord(state, event.jobId, scraperAddress, atMs);
  job.lastSeq = event.seq;
  job.lastEventMs = atMs;
  const ended = isTerminal(job.status);

  const kind = event.kind;
  switch (kind.case) {
    case "started": {
      const started = kind.value.job;
      job.scraper = scraperAddress;
      if (started !== undefined) {
        job.tenant = started.tenant || DEFAULT_TENANT;
        job.platform = started.platform;
        job.url = started.spec?.urls[0] ?? job.url;
        job.startedAtMs = timestampMs(started.startedAt) ?? atMs;
        if (started.counters !== undefined) setCounts(job.counts, started.counters);
      } else {
        job.startedAtMs = atMs;
      }
      if (!ended) job.status = JobStatus.RUNNING;
      platformTotals(scraper, job.platform);
      if (!ended) job.opening = [event];
      break;
    }
    case "taskStarted":
      if (!ended && job.opening.length > 0 && job.opening.length <= MAX_OPENING_TASKS) job.opening.push(event);
      break;
    case "progress":
      setCounts(job.counts, kind.value.counters);
      if (kind.value.currentItem !== undefined) job.currentItem = kind.value.currentItem;
      break;
    case "itemScraped": {
      setCounts(job.counts, kind.value.counters);
      const totals = platformTotals(scraper, job.platform);
      totals.pages++;
      totals.successCount++;
      totals.processingMsTotal += kind.value.processingMs;
      if (kind.value.item !== undefined) {
        if (state.previews.length >= RECENT_PREVIEWS) state.previews.shift();
        state.previews.push({ jobId: job.id, platform: job.platform, item: kind.value.item, atMs });
      }
      break;
    }
    case "pageFailed": {
      setCounts(job.counts, kind.value.counters);
      const totals = platformTotals(scraper, job.platform);
      totals.pages++;
      totals.errorCount++;
      totals.processingMsTotal += kind.value.processingMs;
      rememberError(state, event);
      break;
    }
    case "taskFailed":
      rememberError(state, event);
      break;
    case "pageSkipped":
      setCounts(job.counts, kind.value.counters);
      break;
    case "paused":
      setCounts(job.counts, kind.value.counters);
      if (!ended) job.status = JobStatus.PAUSED;
      break;
    case "resumed":
      setCounts(job.counts, kind.value.counters);
      if (!ended) job.status = JobStatus.RUNNING;
      break;
    case "completed":
      setCounts(job.counts, kind.value.counters);
      finish(state, job, JobStatus.COMPLETED, atMs, "");
      break;
    case "failed":
      setCounts(job.counts, kind.value.counters);
      finish(state, job, JobStatus.FAILED, atMs, kind.value.errorMessage);
      rememberError(state, event);
      break;
    case "cancelled":
      setCounts(job.counts, kind.value.counters);
      finish(state, job, JobStatus.CANCELLED, atMs, kind.value.reason);
      break;
    default:
      // Task and scan events, and kinds this gateway does not know, carry no
      // state the views show (a scan's counts arrive in its JobProgress);
      // they still advance the job's seq.
      break;
  }
  state.version++;
  return job;
}

function rememberError(state: LiveState, event: JobEvent): void {
  if (state.errors.length >= RECENT_ERRORS) state.errors.shift();
  state.errors.push(event);
}

/**
 * Replaces everything the state holds from `scraperAddress` with `snapshot`:
 * its jobs (jobs absent from the snapshot are removed), its platform totals
 * and its resume offset.
 */
export function applySnapshot(state: LiveState, scraperAddress: string, snapshot: Snapshot): SnapshotOutcome {
  const scraper = scraperRecord(state, scraperAddress);
  scraper.lastOffset = snapshot.offset;
  scraper.platforms = new Map();
  for (const stats of snapshot.platforms) {
    scraper.platforms.set(stats.platform, {
      pages: Number(stats.pages),
      successCount: Number(stats.successCount),
      errorCount: Number(stats.errorCount),
      processingMsTotal: Number(stats.processingMsTotal),
    });
  }

  const outcome: SnapshotOutcome = { changed: [], removed: [] };
  const present = new Set<string>();
  for (const job of snapshot.jobs) {
    present.add(job.id);
    const existing = state.jobs.get(job.id);
    if (existing !== undefined && existing.scraper === scraperAddress && existing.lastSeq >= job.lastSeq) continue;
    const record = recordFromJob(job, scraperAddress);
    state.jobs.set(job.id, record);
    state.active.delete(job.id);
    state.finished.delete(job.id);
    if (isTerminal(record.status)) markFinished(state, job.id);
    else state.active.add(job.id);
    outcome.changed.push(record);
  }
  for (const [id, record] of state.jobs) {
    if (record.scraper !== scraperAddress || present.has(id)) continue;
    state.jobs.delete(id);
    state.active.delete(id);
    state.finished.delete(id);
    outcome.removed.push(id);
  }
  state.version++;
  return outcome;
}

/**
 * A job record built from a scraper's Job message (a snapshot entry or a
 * GetJob answer). Times missing from the message fall back to the other
 * times it carries.
 */
export function recordFromJob(job: Job, scraperAddress: string): JobRecord {
  const createdMs = timestampMs(job.createdAt) ?? 0;
  const startedAtMs = timestampMs(job.startedAt) ?? createdMs;
  const status = job.status === JobStatus.UNSPECIFIED ? JobStatus.PENDING : job.status;
  const finishedAtMs = isTerminal(status) ? (timestampMs(job.finishedAt) ?? startedAtMs) : undefined;
  const counts = zeroCounts();
  setCounts(counts, job.counters);
  return {
    id: job.id,
    scraper: scraperAddress,
    tenant: job.tenant || DEFAULT_TENANT,
    platform: job.platform,
    status,
    counts,
    startedAtMs,
    finishedAtMs,
    error: job.error,
    currentItem: undefined,
    opening: [],
    lastSeq: job.lastSeq,
    url: job.spec?.urls[0] ?? "",
    lastEventMs: finishedAtMs ?? startedAtMs,
  };
}

function stubRecord(state: LiveState, id: string, scraperAddress: string, atMs: number): JobRecord {
  // An event for a job the state has not seen start (its JobStarted was
  // trimmed without a snapshot). Track it with what the events tell us.
  const record: JobRecord = {
    id,
    scraper: scraperAddress,
    tenant: "",
    platform: Platform.UNSPECIFIED,
    status: JobStatus.RUNNING,
    counts: zeroCounts(),
    startedAtMs: atMs,
    finishedAtMs: undefined,
    error: "",
    currentItem: undefined,
    opening: [],
    lastSeq: 0n,
    url: "",
    lastEventMs: atMs,
  };
  state.jobs.set(id, record);
  state.active.add(id);
  return record;
}

function finish(state: LiveState, job: JobRecord, status: JobStatus, atMs: number, error: string): void {
  if (isTerminal(job.status)) return;
  job.status = status;
  job.finishedAtMs = atMs;
  job.error = error;
  job.opening = [];
  markFinished(state, job.id);
}

function markFinished(state: LiveState, id: string): void {
  state.active.delete(id);
  state.finished.add(id);
  while (state.finished.size > state.maxFinishedJobs) {
    const oldest = state.finished.values().next().value;
    if (oldest === undefined) break;
    state.finished.delete(oldest);
    state.jobs.delete(oldest);
  }
}

function platformTotals(scraper: ScraperRecord, platform: Platform): PlatformTotals {
  let totals = scraper.platforms.get(platform);
  if (totals === undefined) {
    totals = { pages: 0, successCount: 0, errorCount: 0, processingMsTotal: 0 };
    scraper.platforms.set(platform, totals);
  }
  return totals;
}

function zeroCounts(): JobCounts {
  return { pagesDone: 0, pagesTotal: 0, successCount: 0, errorCount: 0, items: 0, processingMsTotal: 0 };
}

function setCounts(counts: JobCounts, from: JobCounters | undefined): void {
  if (from === undefined) return;
  counts.pagesDone = from.pagesDone;
  counts.pagesTotal = from.pagesTotal;
  counts.successCount = from.successCount;
  counts.errorCount = from.errorCount;
  counts.items = from.items;
  counts.processingMsTotal = Number(from.processingMsTotal);
}
