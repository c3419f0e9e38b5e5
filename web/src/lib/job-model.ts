/**
 * The dashboard's model of a job, a preview and an error entry, and the
 * conversions into it from each JSON form the gateway sends: the REST job
 * (`jobs.get`/`jobs.list`), the overview's job view, and the protobuf JSON
 * of events (camelCase, enum names, 64-bit numbers as strings).
 */
import type { CountersJson, ItemJson, ItemRecord, JobJson, JobStatusName, OverviewJob, PlatformName, StartedJobJson } from "./api-types.js";

export interface JobCard {
  id: string;
  kind: "crawl" | "scan";
  platform: PlatformName;
  status: JobStatusName;
  /** The per-job sequence number of the event that last set `status` (0: from a snapshot). */
  statusSeq: number;
  /** Server time of the newest event or snapshot applied, to arbitrate against later snapshots. */
  factAtMs: number;
  /** The highest per-job sequence number applied, from an event or a snapshot (arbitrates snapshots). */
  lastSeq: number;
  /**
   * The highest sequence number of an event applied from the stream. Events
   * are deduplicated by it, not by `lastSeq`: a snapshot fetched while events
   * are in flight may be ahead of them, yet their previews and errors must
   * still be shown.
   */
  eventSeq: number;
  /** The first start URL, or the scanned path. */
  target: string;
  /** How many start URLs (a batch has more than one). */
  targetCount: number;
  pagesDone: number;
  pagesTotal: number;
  successCount: number;
  errorCount: number;
  items: number;
  startedAtMs: number | null;
  finishedAtMs: number | null;
  /** The item (or, for a scan, the path) the job reported last. */
  currentItem: ItemRecord | null;
  currentPath: string | null;
  /** Why the job failed or was cancelled. */
  error: string | null;
}

export interface Preview {
  /** Unique within the lists it is kept in. */
  key: string;
  jobId: string;
  platform: PlatformName;
  item: ItemRecord;
  atMs: number;
}

export interface ErrorEntry {
  key: string;
  jobId: string;
  /** A page that failed, a start URL (task) that failed, or the job itself. */
  scope: "page" | "task" | "job";
  url: string | null;
  /** Lower-case error kind ("http", "timeout"…) for page failures. */
  kind: string | null;
  httpStatus: number | null;
  message: string;
  atMs: number;
}

const TERMINAL: ReadonlySet<JobStatusName> = new Set(["completed", "failed", "cancelled"]);

export function isTerminal(status: JobStatusName): boolean {
  return TERMINAL.has(status);
}

/**
 * Milliseconds of an RFC 3339 time (protobuf JSON may carry up to nine
 * fractional digits; Date.parse is only specified for three).
 */
export function parseTime(text: string | null | undefined): number | null {
  if (text == null || text === "") return null;
  const ms = Date.parse(text.replace(/(\.\d{3})\d+/, "$1"));
  return Number.isNaN(ms) ? null : ms;
}

/** "PLATFORM_TWITTER" → "twitter"; unspecified reads as "web", as on the server. */
export function platformFromEnum(name: string | undefined): PlatformName {
  switch (name) {
    case "PLATFORM_TWITTER":
      return "twitter";
    case "PLATFORM_YOUTUBE":
      return "youtube";
    case "PLATFORM_REDDIT":
      return "reddit";
    default:
      return "web";
  }
}

/** "JOB_STATUS_RUNNING" → "running"; unspecified reads as "pending", as on the server. */
export function statusFromEnum(name: string | undefined): JobStatusName {
  switch (name) {
    case "JOB_STATUS_RUNNING":
      return "running";
    case "JOB_STATUS_PAUSED":
      return "paused";
    case "JOB_STATUS_COMPLETED":
      return "completed";
    case "JOB_STATUS_FAILED":
      return "failed";
    case "JOB_STATUS_CANCELLED":
      return "cancelled";
    default:
      return "pending";
  }
}

/** The overview's status word ("processing" for a running job) as a status name. */
export function statusFromWord(word: OverviewJob["status"]): JobStatusName {
  return word === "processing" ? "running" : word;
}

/** "PAGE_ERROR_KIND_TOO_LARGE" → "too large". */
export function errorKindLabel(name: string | undefined): string | null {
  if (name === undefined || name === "PAGE_ERROR_KIND_UNSPECIFIED") return null;
  return name.replace(/^PAGE_ERROR_KIND_/, "").toLowerCase().replaceAll("_", " ");
}

function optionalNumber(text: string | number | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * An event's item in the gateway's ItemRecord form. Fields the item does
 * not carry stay absent, so nothing is displayed for them.
 */
export function itemFromJson(json: ItemJson): ItemRecord {
  const item: ItemRecord = { id: json.id ?? "", url: json.url ?? "", word_count: json.wordCount ?? 0, links_found: json.linksFound ?? 0, depth: json.depth ?? 0 };
  if (json.canonicalUrl) item.canonical_url = json.canonicalUrl;
  if (json.title) item.title = json.title;
  if (json.description) item.description = json.description;
  if (json.text) item.text = json.text;
  if (json.author !== undefined) item.author = json.author;
  if (json.channel !== undefined) item.channel = json.channel;
  if (json.subreddit !== undefined) item.subreddit = json.subreddit;
  const likes = optionalNumber(json.likes);
  if (likes !== undefined) item.likes = likes;
  const retweets = optionalNumber(json.retweets);
  if (retweets !== undefined) item.retweets = retweets;
  const views = optionalNumber(json.views);
  if (views !== undefined) item.views = views;
  const score = optionalNumber(json.score);
  if (score !== undefined) item.score = score;
  const comments = optionalNumber(json.comments);
  if (comments !== undefined) item.comments = comments;
  if (json.durationSeconds !== undefined) item.duration_seconds = json.durationSeconds;
  if (json.publishedAt !== undefined) item.published_at = json.publishedAt;
  if (json.nearDuplicateOf) item.near_duplicate_of = json.nearDuplicateOf;
  if (json.source) item.source = json.source;
  return item;
}

/** A card with nothing known but the id; callers fill it from a snapshot or event. */
function blankCard(id: string): JobCard {
  return {
    id,
    kind: "crawl",
    platform: "web",
    status: "pending",
    statusSeq: 0,
    factAtMs: 0,
    lastSeq: 0,
    eventSeq: 0,
    target: "",
    targetCount: 0,
    pagesDone: 0,
    pagesTotal: 0,
    successCount: 0,
    errorCount: 0,
    items: 0,
    startedAtMs: null,
    finishedAtMs: null,
    currentItem: null,
    currentPath: null,
    error: null,
  };
}

/** A card from the REST job JSON (jobs.get, jobs.list, control calls). */
export function cardFromJobJson(job: JobJson): JobCard {
  const card = blankCard(job.job_id);
  card.kind = job.kind;
  card.platform = job.platform;
  card.status = job.status;
  card.statusSeq = job.last_seq;
  card.lastSeq = job.last_seq;
  card.target = job.scan?.path ?? job.urls[0] ?? "";
  card.targetCount = job.scan === null ? job.urls.length : 1;
  card.pagesDone = job.counters.pages_done;
  card.pagesTotal = job.counters.pages_total;
  card.successCount = job.counters.success_count;
  card.errorCount = job.counters.error_count;
  card.items = job.counters.items;
  card.startedAtMs = parseTime(job.started_at);
  card.finishedAtMs = parseTime(job.finished_at);
  card.error = job.error;
  return card;
}

/** A card from the job an event's `started` carries. */
export function cardFromStartedJob(jobId: string, job: StartedJobJson | undefined, atMs: number): JobCard {
  const card = blankCard(jobId);
  if (job === undefined) return card;
  card.kind = job.kind === "JOB_KIND_SCAN" ? "scan" : "crawl";
  card.platform = platformFromEnum(job.platform);
  card.status = statusFromEnum(job.status ?? "JOB_STATUS_RUNNING");
  card.factAtMs = atMs;
  card.target = job.scan?.path ?? job.spec?.urls?.[0] ?? "";
  card.targetCount = job.scan === undefined ? (job.spec?.urls?.length ?? 0) : 1;
  card.startedAtMs = parseTime(job.startedAt) ?? atMs;
  return card;
}

/** A card from the overview's view of an active job, as of `atMs`. */
export function cardFromOverviewJob(job: OverviewJob, atMs: number): JobCard {
  const card = blankCard(job.job_id);
  card.platform = job.platform;
  card.status = statusFromWord(job.status);
  card.factAtMs = atMs;
  card.target = job.url;
  card.targetCount = 1;
  card.pagesDone = job.items_scraped;
  card.pagesTotal = job.items_total;
  card.successCount = job.success_count;
  card.errorCount = job.error_count;
  card.startedAtMs = parseTime(job.started_at);
  card.currentItem = job.current_item;
  return card;
}

/**
 * Applies an event's counters. Events of a job arrive in sequence order, so
 * each carries the newest counters; the done/success/error counts only grow
 * (taking the larger keeps a card monotonic even if a snapshot raced ahead),
 * while pages_total is whatever the job knows now.
 */
export function applyCounters(card: JobCard, counters: CountersJson | undefined, latest = true): void {
  if (counters === undefined) return;
  card.pagesDone = Math.max(card.pagesDone, counters.pagesDone ?? 0);
  if (latest) card.pagesTotal = counters.pagesTotal ?? 0;
  card.successCount = Math.max(card.successCount, counters.successCount ?? 0);
  card.errorCount = Math.max(card.errorCount, counters.errorCount ?? 0);
  card.items = Math.max(card.items, counters.items ?? 0);
}

/**
 * Merges a snapshot (REST job or overview view) into a known card. Growing
 * counts take the larger value; the rest (total, status, times, error) only
 * when the snapshot is `newer` than what the card has applied, and never
 * from an ended job back to a live one.
 */
export function mergeSnapshot(card: JobCard, snapshot: JobCard, newer: boolean): void {
  card.pagesDone = Math.max(card.pagesDone, snapshot.pagesDone);
  card.successCount = Math.max(card.successCount, snapshot.successCount);
  card.errorCount = Math.max(card.errorCount, snapshot.errorCount);
  card.items = Math.max(card.items, snapshot.items);
  if (card.target === "") {
    card.target = snapshot.target;
    card.targetCount = snapshot.targetCount;
  }
  card.startedAtMs ??= snapshot.startedAtMs;
  card.currentItem ??= snapshot.currentItem;
  if (!newer) return;
  card.pagesTotal = snapshot.pagesTotal;
  card.lastSeq = Math.max(card.lastSeq, snapshot.lastSeq);
  card.factAtMs = Math.max(card.factAtMs, snapshot.factAtMs);
  if (isTerminal(card.status) && !isTerminal(snapshot.status)) return;
  if (snapshot.kind === "scan") card.kind = "scan";
  card.platform = snapshot.platform;
  card.status = snapshot.status;
  card.statusSeq = Math.max(card.statusSeq, snapshot.statusSeq);
  card.finishedAtMs = snapshot.finishedAtMs ?? card.finishedAtMs;
  card.error = snapshot.error ?? card.error;
}
