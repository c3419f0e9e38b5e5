/**
 * Reduces the gateway's job events and snapshots into the dashboard's live
 * data. Plain functions over a plain object, so the same code runs on a
 * Svelte `$state` proxy in the app and on an ordinary object anywhere else.
 */
import type { JobEventJson, JobJson, Overview } from "./api-types.js";
import {
  cardFromJobJson,
  cardFromOverviewJob,
  cardFromStartedJob,
  errorKindLabel,
  isTerminal,
  itemFromJson,
  applyCounters,
  mergeSnapshot,
  parseTime,
  type ErrorEntry,
  type JobCard,
  type Preview,
} from "./job-model.js";

/** How many previews the overview (and each job) keeps, newest first. */
export const MAX_PREVIEWS = 20;
/** How many error entries are kept, newest first. */
export const MAX_ERRORS = 100;

export interface LiveData {
  jobs: Record<string, JobCard>;
  /** Jobs shown on the overview, newest first, until dismissed. */
  pinned: string[];
  previews: Preview[];
  errors: ErrorEntry[];
  jobPreviews: Record<string, Preview[]>;
  jobErrors: Record<string, ErrorEntry[]>;
}

export function emptyLiveData(): LiveData {
  return { jobs: {}, pinned: [], previews: [], errors: [], jobPreviews: {}, jobErrors: {} };
}

/**
 * What applying an event did. `unknown-job`: the event belongs to a job the
 * data has no card for (it started before this page subscribed, say); the
 * caller fetches the job and applies the event again once the card exists.
 */
export type ApplyOutcome = "applied" | "unknown-job";

function pushNewest<T>(list: T[], entry: T, max: number): void {
  list.unshift(entry);
  if (list.length > max) list.length = max;
}

function pin(data: LiveData, id: string): void {
  if (!data.pinned.includes(id)) data.pinned.unshift(id);
}

/**
 * The list kept under `key`, created when missing. It is read back after
 * being stored because a reactive container (a Svelte `$state` proxy) keeps
 * its own proxy of what is assigned: changes to the original would be lost.
 */
function listOf<T>(lists: Record<string, T[]>, key: string): T[] {
  if (lists[key] === undefined) lists[key] = [];
  return lists[key] ?? [];
}

/**
 * After a reconnect the page re-reads the overview while the resumed stream
 * replays what it missed, so the same item or failure can arrive both ways:
 * each is shown once.
 */
function addPreview(data: LiveData, preview: Preview): void {
  const same = (shown: Preview): boolean => shown.jobId === preview.jobId && shown.item.id === preview.item.id;
  if (!data.previews.some(same)) pushNewest(data.previews, preview, MAX_PREVIEWS);
  const own = listOf(data.jobPreviews, preview.jobId);
  if (!own.some(same)) pushNewest(own, preview, MAX_PREVIEWS);
}

function addError(data: LiveData, entry: ErrorEntry): void {
  if (!data.errors.some((shown) => shown.key === entry.key)) pushNewest(data.errors, entry, MAX_ERRORS);
  const own = listOf(data.jobErrors, entry.jobId);
  if (!own.some((shown) => shown.key === entry.key)) pushNewest(own, entry, MAX_ERRORS);
}

/** Sets `card`'s status from the event with sequence `seq`, unless a later fact already did. */
function setStatus(card: JobCard, status: JobCard["status"], seq: number): void {
  if (seq !== 0 && seq <= card.statusSeq) return;
  if (isTerminal(card.status) && !isTerminal(status)) return;
  card.status = status;
  card.statusSeq = seq;
}

function finish(card: JobCard, status: "completed" | "failed" | "cancelled", seq: number, atMs: number, error: string | null): void {
  setStatus(card, status, seq);
  card.finishedAtMs ??= atMs;
  if (error !== null && error !== "") card.error = error;
}

/**
 * The errors-feed entry of a failure event (a page, a batch's start URL, or
 * the whole job), or undefined for any other event. `target` is the job's
 * first URL, shown for a job failure.
 */
export function errorEntryOf(event: JobEventJson, key: string, atMs: number, target: string): ErrorEntry | undefined {
  const jobId = event.jobId ?? "";
  if (event.pageFailed !== undefined) {
    const failed = event.pageFailed;
    return { key, jobId, scope: "page", url: failed.url ?? null, kind: errorKindLabel(failed.errorKind), httpStatus: failed.httpStatus ?? null, message: failed.message ?? "", atMs };
  }
  if (event.taskFailed !== undefined) {
    return { key, jobId, scope: "task", url: event.taskFailed.url ?? null, kind: null, httpStatus: null, message: event.taskFailed.errorMessage ?? "", atMs };
  }
  if (event.failed !== undefined) {
    const message = event.failed.errorMessage ?? "";
    return { key, jobId, scope: "job", url: target === "" ? null : target, kind: null, httpStatus: null, message: message === "" ? "Job failed" : message, atMs };
  }
  return undefined;
}

/** Applies one `events.watch` event. */
export function applyEvent(data: LiveData, event: JobEventJson, receivedAtMs: number): ApplyOutcome {
  const jobId = event.jobId ?? "";
  const seq = Number(event.seq ?? 0);
  const atMs = parseTime(event.time) ?? receivedAtMs;
  const key = `${jobId}:${seq}`;

  if (event.started !== undefined) {
    const fresh = cardFromStartedJob(jobId, event.started.job, atMs);
    fresh.statusSeq = seq;
    fresh.lastSeq = seq;
    fresh.eventSeq = seq;
    const known = data.jobs[jobId];
    if (known === undefined) data.jobs[jobId] = fresh;
    else {
      mergeSnapshot(known, fresh, seq > known.lastSeq);
      known.eventSeq = Math.max(known.eventSeq, seq);
    }
    pin(data, jobId);
    return "applied";
  }

  const card = data.jobs[jobId];
  if (card === undefined) return "unknown-job";
  // The stream delivers each event once, in order; a repeat (same or lower seq) changes nothing.
  if (seq !== 0 && seq <= card.eventSeq) return "applied";
  card.eventSeq = seq;
  // An event older than the snapshot the card holds still adds its preview or
  // error, but leaves the snapshot's newer total and current item alone.
  const latest = seq === 0 || seq >= card.lastSeq;
  card.lastSeq = Math.max(card.lastSeq, seq);
  card.factAtMs = Math.max(card.factAtMs, atMs);

  if (event.progress !== undefined) {
    applyCounters(card, event.progress.counters, latest);
    if (event.progress.currentItem !== undefined && latest) card.currentItem = itemFromJson(event.progress.currentItem);
  } else if (event.itemScraped !== undefined) {
    applyCounters(card, event.itemScraped.counters, latest);
    if (event.itemScraped.item !== undefined) {
      const item = itemFromJson(event.itemScraped.item);
      if (latest) card.currentItem = item;
      addPreview(data, { key, jobId, platform: card.platform, item, atMs });
    }
  } else if (event.pageFailed !== undefined) {
    applyCounters(card, event.pageFailed.counters, latest);
  } else if (event.pageSkipped !== undefined) {
    applyCounters(card, event.pageSkipped.counters, latest);
  } else if (event.scanProgress !== undefined) {
    card.currentPath = event.scanProgress.currentPath ?? card.currentPath;
    card.pagesDone = Math.max(card.pagesDone, event.scanProgress.scanned ?? 0);
    card.pagesTotal = Math.max(card.pagesTotal, event.scanProgress.total ?? 0);
  } else if (event.paused !== undefined) {
    applyCounters(card, event.paused.counters, latest);
    setStatus(card, "paused", seq);
  } else if (event.resumed !== undefined) {
    applyCounters(card, event.resumed.counters, latest);
    setStatus(card, "running", seq);
  } else if (event.completed !== undefined) {
    applyCounters(card, event.completed.counters, latest);
    finish(card, "completed", seq, atMs, null);
  } else if (event.failed !== undefined) {
    applyCounters(card, event.failed.counters, latest);
    finish(card, "failed", seq, atMs, event.failed.errorMessage ?? "");
  } else if (event.cancelled !== undefined) {
    applyCounters(card, event.cancelled.counters, latest);
    finish(card, "cancelled", seq, atMs, event.cancelled.reason ?? null);
  }
  const failure = errorEntryOf(event, key, atMs, card.target);
  if (failure !== undefined) addError(data, failure);
  return "applied";
}

/**
 * Applies the overview snapshot: every active job gets (or refreshes) a
 * pinned card, and the recent previews fill in behind any live ones.
 */
export function applyOverview(data: LiveData, overview: Overview): void {
  const atMs = parseTime(overview.at) ?? Date.now();
  for (const job of overview.active_jobs) {
    const snapshot = cardFromOverviewJob(job, atMs);
    const known = data.jobs[job.job_id];
    if (known === undefined) data.jobs[job.job_id] = snapshot;
    else mergeSnapshot(known, snapshot, atMs >= known.factAtMs);
    pin(data, job.job_id);
  }
  // Failures from before this page subscribed, oldest first from the server; the
  // stream's own entries (keyed job:seq too) are newer and stay in front.
  const shown = new Set(data.errors.map((entry) => entry.key));
  for (const failure of [...overview.recent_errors].reverse()) {
    if (data.errors.length >= MAX_ERRORS) break;
    const key = `${failure.jobId ?? ""}:${Number(failure.seq ?? 0)}`;
    const entry = errorEntryOf(failure, key, parseTime(failure.time) ?? atMs, data.jobs[failure.jobId ?? ""]?.target ?? "");
    if (entry === undefined || shown.has(key)) continue;
    shown.add(key);
    data.errors.push(entry);
    const own = listOf(data.jobErrors, entry.jobId);
    if (own.length < MAX_ERRORS && !own.some((known) => known.key === key)) own.push(entry);
  }

  // Oldest first from the server; keep any already shown (newer) in front.
  const seen = new Set(data.previews.map((preview) => `${preview.jobId}:${preview.item.id}`));
  const older = [...overview.recent_previews].reverse();
  for (const recent of older) {
    if (data.previews.length >= MAX_PREVIEWS) break;
    const id = `${recent.job_id}:${recent.item.id}`;
    if (seen.has(id)) continue;
    seen.add(id);
    data.previews.push({ key: `overview:${id}`, jobId: recent.job_id, platform: recent.platform, item: recent.item, atMs: parseTime(recent.at) ?? atMs });
  }
}

/** Merges a REST job (jobs.get, a control call's answer) into the data; `pinJob` shows it on the overview. */
export function applyJob(data: LiveData, job: JobJson, pinJob: boolean): JobCard {
  const snapshot = cardFromJobJson(job);
  const known = data.jobs[job.job_id];
  if (known === undefined) data.jobs[job.job_id] = snapshot;
  else mergeSnapshot(known, snapshot, job.last_seq >= known.lastSeq);
  if (pinJob) pin(data, job.job_id);
  return data.jobs[job.job_id] ?? snapshot;
}

/** Removes a job from the overview (its data stays for the job page). */
export function dismiss(data: LiveData, id: string): void {
  const index = data.pinned.indexOf(id);
  if (index >= 0) data.pinned.splice(index, 1);
}
