/**
 * The crawl frontier of one job: a FIFO queue (so the crawl is breadth-first
 * and every URL is first seen at its smallest depth), the set of URLs already
 * seen (keyed by {@link dedupeKey}, so `/a/` and `/a` are one page), and the
 * page budget. A URL is accepted at most once per job.
 */
import { dedupeKey } from "./normalize-url.js";

export interface FrontierEntry {
  url: string;
  depth: number;
  /** Index of the start URL (task) this page belongs to. */
  task: number;
}

/** What became of an offered URL. */
export type OfferResult = "accepted" | "seen" | "full";

export class Frontier {
  private readonly seen = new Set<string>();
  private queue: FrontierEntry[] = [];
  private head = 0;
  private acceptedCount = 0;

  constructor(private readonly maxPages: number) {}

  /** URLs accepted so far: processed, in flight and queued. */
  get accepted(): number {
    return this.acceptedCount;
  }

  /** True once the page budget is spent: nothing more will be accepted. */
  get full(): boolean {
    return this.acceptedCount >= this.maxPages;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  /** True when `url` (or its trailing-slash twin) was accepted or marked seen. */
  has(url: string): boolean {
    return this.seen.has(dedupeKey(url));
  }

  /** Accepts `url` unless it was seen before or the budget is spent. */
  offer(url: string, depth: number, task: number): OfferResult {
    const key = dedupeKey(url);
    if (this.seen.has(key)) return "seen";
    if (this.acceptedCount >= this.maxPages) return "full";
    this.seen.add(key);
    this.acceptedCount++;
    this.queue.push({ url, depth, task });
    return "accepted";
  }

  /** Marks `url` seen without queueing it (the final URL of a redirect, a URL robots.txt disallows). */
  markSeen(url: string): void {
    this.seen.add(dedupeKey(url));
  }

  /**
   * Gives back the budget of an accepted URL that will not be fetched after
   * all (robots.txt disallows it); it stays seen.
   */
  release(): void {
    if (this.acceptedCount > 0) this.acceptedCount--;
  }

  /**
   * Continues a stored frontier (a job resumed after a restart): `seen` URLs
   * are never accepted again, `queued` are fetched in order, and `accepted`
   * of the budget is already spent.
   */
  restore(queued: readonly FrontierEntry[], seen: Iterable<string>, accepted: number): void {
    for (const url of seen) this.seen.add(dedupeKey(url));
    for (const entry of queued) {
      this.seen.add(dedupeKey(entry.url));
      this.queue.push({ url: entry.url, depth: entry.depth, task: entry.task });
    }
    this.acceptedCount = Math.max(accepted, this.acceptedCount + queued.length);
  }

  next(): FrontierEntry | undefined {
    if (this.head >= this.queue.length) return undefined;
    const entry = this.queue[this.head++];
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return entry;
  }
}
