/**
 * The crawl frontier of one job: a FIFO queue (so the crawl is breadth-first
 * and every URL is first seen at its smallest depth), the set of URLs already
 * seen, and the page budget. A URL is accepted at most once per job.
 */

export interface FrontierEntry {
  url: string;
  depth: number;
  /** Index of the start URL (task) this page belongs to. */
  task: number;
}

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

  /** Accepts `url` unless it was seen before or the budget is spent. */
  offer(url: string, depth: number, task: number): boolean {
    if (this.acceptedCount >= this.maxPages || this.seen.has(url)) return false;
    this.seen.add(url);
    this.acceptedCount++;
    this.queue.push({ url, depth, task });
    return true;
  }

  /** Marks `url` seen without queueing it (the final URL of a redirect, already fetched). */
  markSeen(url: string): void {
    this.seen.add(url);
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
