/**
 * One list of jobs over several scrapers, newest first, a page at a time.
 *
 * Each scraper pages its own jobs (ListJobs page tokens). A gateway page
 * merges the scrapers' pages by creation time, so it must remember, per
 * scraper, where the next page starts: the scraper's page token plus how many
 * jobs of that scraper page were already handed out (`skip`). Jobs are only
 * ever added at the new end of a scraper's list, so a (token, skip) position
 * stays valid while new jobs arrive. The cursor is that map, base64url JSON.
 */
import type { Job } from "@trawl/proto";

/** Where one scraper's part of the list continues; `null` once it is exhausted. */
export type ScraperPosition = { token: string; skip: number } | null;

export type ListCursor = Map<string, ScraperPosition>;

/** A scraper's answer for one gateway page. */
export interface ScraperPage {
  address: string;
  /** The jobs after `skip`, newest first. */
  jobs: Job[];
  /** The token the jobs were listed with, and how many were skipped. */
  position: { token: string; skip: number };
  /** The scraper's own next_page_token ("" when it has no more). */
  nextToken: string;
}

export interface MergedPage {
  jobs: Array<{ job: Job; address: string }>;
  /** Undefined when every scraper is exhausted. */
  cursor: ListCursor | undefined;
}

export function createdMs(job: Job): number {
  const at = job.createdAt ?? job.startedAt;
  return at === undefined ? 0 : Number(at.seconds) * 1000 + at.nanos / 1e6;
}

export function encodeListCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify(Object.fromEntries(cursor))).toString("base64url");
}

/** The cursor `encodeListCursor` made, or undefined for anything else. */
export function decodeListCursor(text: string): ListCursor | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const cursor: ListCursor = new Map();
  for (const [address, position] of Object.entries(parsed)) {
    if (position === null) {
      cursor.set(address, null);
      continue;
    }
    const { token, skip } = (position ?? {}) as { token?: unknown; skip?: unknown };
    if (typeof token !== "string" || typeof skip !== "number" || !Number.isInteger(skip) || skip < 0 || skip > 10_000) return undefined;
    cursor.set(address, { token, skip });
  }
  return cursor;
}

/**
 * Merges the scrapers' pages newest first and takes up to `limit` jobs. It
 * stops early when a scraper that has more jobs runs out of listed ones,
 * because its unlisted jobs may be newer than the other scrapers' next ones:
 * a short page, never a job out of order or lost.
 */
export function mergePages(pages: readonly ScraperPage[], limit: number): MergedPage {
  const heads = pages.map(() => 0);
  const jobs: MergedPage["jobs"] = [];
  while (jobs.length < limit) {
    let best = -1;
    for (const [i, page] of pages.entries()) {
      const job = page.jobs[heads[i] as number];
      if (job === undefined) continue;
      const bestJob = best === -1 ? undefined : pages[best]?.jobs[heads[best] as number];
      if (bestJob === undefined || createdMs(job) > createdMs(bestJob)) best = i;
    }
    if (best === -1) break;
    const page = pages[best] as ScraperPage;
    jobs.push({ job: page.jobs[heads[best] as number] as Job, address: page.address });
    heads[best] = (heads[best] as number) + 1;
    if (heads[best] === page.jobs.length && page.nextToken !== "") break;
  }

  const cursor: ListCursor = new Map();
  for (const [i, page] of pages.entries()) {
    const taken = heads[i] as number;
    if (taken < page.jobs.length) cursor.set(page.address, { token: page.position.token, skip: page.position.skip + taken });
    else cursor.set(page.address, page.nextToken === "" ? null : { token: page.nextToken, skip: 0 });
  }
  const exhausted = [...cursor.values()].every((position) => position === null);
  return { jobs, cursor: exhausted ? undefined : cursor };
}
