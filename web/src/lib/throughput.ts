/**
 * Pages-per-second over a sliding window, sampled from the jobs' own
 * `pagesDone` counters: each sample is the growth of those counters since
 * the previous sample, divided by the time between the two. A job seen for
 * the first time counts from its baseline (0 when it started while
 * watched), so joining mid-crawl does not read as a burst.
 */

export interface JobPages {
  readonly id: string;
  readonly pagesDone: number;
}

/** uPlot's aligned data: x in Unix seconds, then one y array. */
export type Series = [times: number[], values: number[]];

export class ThroughputSampler {
  private readonly lastDone = new Map<string, number>();
  private lastAtMs: number | undefined;
  private readonly times: number[] = [];
  private readonly rates: number[] = [];

  constructor(private readonly windowSeconds = 300) {}

  /** Counts `id` from `pagesDone` (a job that just started counts from 0). */
  track(id: string, pagesDone: number): void {
    if (!this.lastDone.has(id)) this.lastDone.set(id, pagesDone);
  }

  /** Takes one sample at `nowMs` from every job's current counter. */
  sample(nowMs: number, jobs: Iterable<JobPages>): void {
    let pages = 0;
    for (const job of jobs) {
      const before = this.lastDone.get(job.id);
      if (before !== undefined) pages += Math.max(0, job.pagesDone - before);
      this.lastDone.set(job.id, Math.max(before ?? 0, job.pagesDone));
    }
    const seconds = this.lastAtMs === undefined ? 1 : Math.max(0.001, (nowMs - this.lastAtMs) / 1000);
    this.lastAtMs = nowMs;
    this.times.push(nowMs / 1000);
    this.rates.push(pages / seconds);
    const oldest = nowMs / 1000 - this.windowSeconds;
    while (this.times.length > 0 && (this.times[0] ?? 0) < oldest) {
      this.times.shift();
      this.rates.shift();
    }
  }

  /** A copy of the window, oldest first. */
  series(): Series {
    return [[...this.times], [...this.rates]];
  }
}
