/**
 * What seed 004 needs about a job beyond the live state's JobRecord: how many
 * tasks (start URLs) its batch has, how many of them ended, and how many URLs
 * robots.txt refused (to tell BLOCKED from ABORTED). Learnt from the events
 * as the gateway applies them, or from a scraper's Job (GetJob) for a job
 * whose start this gateway did not see. Nothing here is estimated: an unknown
 * fact stays undefined until one of those sources tells it.
 */
import { isTerminal, type Job, type JobCounters, type JobEvent } from "@trawl/proto";

export interface JobFacts {
  /** The job's tasks: one per start URL (a directory scan has none); undefined until learnt. */
  tasks: number | undefined;
  /** Tasks that finished or failed. */
  tasksEnded: number;
  /** URLs robots.txt refused, as of the job's end (or the Job that told us); undefined until learnt. */
  robotsSkips: number | undefined;
}

/** How many ended jobs' facts are kept for late subscribers (GetJob answers for older ones). */
export const DEFAULT_MAX_ENDED_FACTS = 10_000;

export class JobFactsBook {
  private readonly facts = new Map<string, JobFacts>();
  /** Ids of ended jobs, oldest first, for eviction. */
  private readonly ended = new Set<string>();

  constructor(private readonly maxEnded = DEFAULT_MAX_ENDED_FACTS) {}

  get size(): number {
    return this.facts.size;
  }

  get(jobId: string): JobFacts | undefined {
    return this.facts.get(jobId);
  }

  /** Folds one applied event in; returns the job's facts after it. */
  observe(event: JobEvent): JobFacts {
    const facts = this.entry(event.jobId);
    const kind = event.kind;
    switch (kind.case) {
      case "started": {
        const job = kind.value.job;
        if (job !== undefined) facts.tasks = tasksOf(job);
        break;
      }
      case "taskFinished":
      case "taskFailed":
        facts.tasksEnded = facts.tasks === undefined ? facts.tasksEnded + 1 : Math.min(facts.tasks, facts.tasksEnded + 1);
        break;
      case "completed":
      case "failed":
      case "cancelled":
        this.end(event.jobId, facts, kind.value.counters);
        break;
      default:
        break;
    }
    return facts;
  }

  /** Takes what a scraper's Job tells (GetJob): its tasks, and for an ended job its robots.txt refusals. */
  learn(job: Job): JobFacts {
    const facts = this.entry(job.id);
    facts.tasks = tasksOf(job);
    if (isTerminal(job.status)) this.end(job.id, facts, job.counters);
    return facts;
  }

  /** Every task of an ended job has ended (the scraper reports each one before the terminal event). */
  private end(jobId: string, facts: JobFacts, counters: JobCounters | undefined): void {
    if (facts.tasks !== undefined) facts.tasksEnded = facts.tasks;
    if (counters !== undefined) facts.robotsSkips = counters.skipped.robots ?? 0;
    this.ended.delete(jobId);
    this.ended.add(jobId);
    while (this.ended.size > this.maxEnded) {
      const oldest = this.ended.values().next().value;
      if (oldest === undefined) break;
      this.ended.delete(oldest);
      this.facts.delete(oldest);
    }
  }

  private entry(jobId: string): JobFacts {
    let facts = this.facts.get(jobId);
    if (facts === undefined) {
      facts = { tasks: undefined, tasksEnded: 0, robotsSkips: undefined };
      this.facts.set(jobId, facts);
    }
    return facts;
  }
}

/** A crawl's tasks are its start URLs; a scan (no crawl spec) has none. */
function tasksOf(job: Job): number {
  return job.spec?.urls.length ?? 0;
}
