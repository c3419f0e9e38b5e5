/**
 * Every scraper the gateway talks to, and how calls are routed among them:
 * StartJob goes to the connected scraper with the fewest active jobs;
 * GetJob, the control calls (cancel, pause, resume) and item listing go to
 * the job's owner when the state knows it, else to every scraper; ListJobs
 * merges all of them.
 */
import { status, type ClientReadableStream } from "@grpc/grpc-js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  ExportFormat,
  ExportItemsResponse,
  Job,
  ListItemsRequestSchema,
  ListItemsResponse,
  ListJobsRequestSchema,
  StartJobRequestSchema,
  StartJobResponse,
  WatchEventsResponse,
} from "@trawl/proto";
import type { Logger } from "pino";
import { activeJobsOf, type LiveState } from "../state/live-state.js";
import type { BackoffPolicy } from "./backoff.js";
import { grpcCode, isUnreachable, NoScraperAvailableError } from "./grpc-errors.js";
import { type ListCursor, mergePages, type ScraperPage } from "./job-list.js";
import { ScraperLink } from "./scraper-link.js";

/** ListJobs' largest page. */
const MAX_LIST_PAGE_SIZE = 500;

/** What ListJobs filters on (every field optional on the wire). */
export type JobListFilter = Pick<MessageInitShape<typeof ListJobsRequestSchema>, "statuses" | "platforms" | "createdAfter" | "createdBefore" | "tenant">;

/** Deadline of unary calls to a scraper. */
const CALL_DEADLINE_MS = 5_000;

export interface ScraperHealth {
  address: string;
  connected: boolean;
  last_offset: number;
}

export interface OwnedJob {
  job: Job;
  /** The scraper that answered. */
  address: string;
}

export interface ScraperPoolOptions {
  addresses: readonly string[];
  state: LiveState;
  onMessage: (address: string, message: WatchEventsResponse) => void;
  logger: Logger;
  backoff?: BackoffPolicy;
  /** The API token every call to the scrapers carries (SCRAPER_TOKEN), when they require one. */
  token?: string | undefined;
}

export class ScraperPool {
  readonly links: readonly ScraperLink[];
  private readonly state: LiveState;

  constructor(options: ScraperPoolOptions) {
    this.state = options.state;
    this.links = options.addresses.map(
      (address) =>
        new ScraperLink({
          address,
          resumeOffset: () => options.state.scrapers.get(address)?.lastOffset ?? 0n,
          onMessage: options.onMessage,
          logger: options.logger,
          ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
          ...(options.token === undefined ? {} : { token: options.token }),
        }),
    );
  }

  start(): void {
    for (const link of this.links) link.start();
  }

  stop(): void {
    for (const link of this.links) link.stop();
  }

  health(): ScraperHealth[] {
    return this.links.map((link) => ({
      address: link.address,
      connected: link.connected,
      last_offset: Number(this.state.scrapers.get(link.address)?.lastOffset ?? 0n),
    }));
  }

  /**
   * Starts a job on the least-loaded connected scraper. Scrapers that turn
   * out unreachable are skipped; scrapers not (yet) connected are tried last.
   * Throws NoScraperAvailableError when none answers, or the scraper's error.
   */
  async startJob(request: MessageInitShape<typeof StartJobRequestSchema>): Promise<{ response: StartJobResponse; address: string }> {
    const ranked = this.links
      .map((link) => ({ link, connected: link.connected, load: activeJobsOf(this.state, link.address) }))
      .sort((a, b) => Number(b.connected) - Number(a.connected) || a.load - b.load);
    let lastError: unknown;
    for (const { link } of ranked) {
      try {
        const response = await link.client.startJob(request, { deadlineMs: CALL_DEADLINE_MS });
        return { response, address: link.address };
      } catch (error) {
        if (!isUnreachable(error)) throw error;
        lastError = error;
      }
    }
    throw new NoScraperAvailableError(undefined, { cause: lastError });
  }

  /** The job from its owner (or whichever scraper has it); undefined when none does. */
  async getJob(jobId: string, deadlineMs = CALL_DEADLINE_MS): Promise<OwnedJob | undefined> {
    const results = await this.askEach(jobId, (link) => link.client.getJob({ jobId }, { deadlineMs }));
    for (const result of results) {
      if (result.status === "fulfilled" && result.value.response.job !== undefined) {
        return { job: result.value.response.job, address: result.value.address };
      }
    }
    throwIfAllUnreachable(results);
    return undefined;
  }

  /** Cancels the job on its owner. Rejects NOT_FOUND when no scraper has it, FAILED_PRECONDITION when it ended. */
  cancelJob(jobId: string, reason: string): Promise<OwnedJob> {
    return this.controlJob(jobId, (link) => link.client.cancelJob({ jobId, reason }, { deadlineMs: CALL_DEADLINE_MS }));
  }

  /** Pauses the job on its owner. Rejects NOT_FOUND, or FAILED_PRECONDITION unless it is running. */
  pauseJob(jobId: string): Promise<OwnedJob> {
    return this.controlJob(jobId, (link) => link.client.pauseJob({ jobId }, { deadlineMs: CALL_DEADLINE_MS }));
  }

  /** Resumes the job on its owner. Rejects NOT_FOUND, or FAILED_PRECONDITION unless it is paused. */
  resumeJob(jobId: string): Promise<OwnedJob> {
    return this.controlJob(jobId, (link) => link.client.resumeJob({ jobId }, { deadlineMs: CALL_DEADLINE_MS }));
  }

  /** A page of the job's stored items, from the scraper that has the job. */
  async listItems(request: MessageInitShape<typeof ListItemsRequestSchema> & { jobId: string }): Promise<ListItemsResponse> {
    const results = await this.askEach(request.jobId, (link) => link.client.listItems(request, { deadlineMs: CALL_DEADLINE_MS }));
    for (const result of results) if (result.status === "fulfilled") return result.value.response;
    throwIfAllUnreachable(results);
    throw firstRefusal(results) ?? notFound(request.jobId);
  }

  /**
   * The export stream of the job's items from its owner. The owner comes from
   * the live state or, failing that, from asking every scraper for the job.
   */
  async exportItems(jobId: string, format: ExportFormat): Promise<ClientReadableStream<ExportItemsResponse>> {
    const owner = (await this.getJob(jobId))?.address;
    const link = this.links.find((candidate) => candidate.address === owner);
    if (link === undefined) throw notFound(jobId);
    return link.client.exportItems({ jobId, format });
  }

  /**
   * Runs a control call (cancel, pause, resume) on the job's owner and
   * returns the job it answers with. NOT_FOUND when no scraper has the job;
   * the owner's refusal (FAILED_PRECONDITION) is passed on as it is.
   */
  private async controlJob(jobId: string, call: (link: ScraperLink) => Promise<{ job?: Job }>): Promise<OwnedJob> {
    const results = await this.askEach(jobId, call);
    for (const result of results) {
      if (result.status === "fulfilled" && result.value.response.job !== undefined) {
        return { job: result.value.response.job, address: result.value.address };
      }
    }
    throwIfAllUnreachable(results);
    throw firstRefusal(results) ?? notFound(jobId);
  }

  /** Jobs of every reachable scraper, newest first, at most `pageSize`. */
  /**
   * One page of every scraper's jobs that pass `filter`, newest first; see
   * job-list.ts for how the cursor spans scrapers. A scraper that does not
   * answer is left out of this page (and tried again for the next one);
   * only when none answers does the call fail.
   */
  async listJobs(filter: JobListFilter, limit: number, cursor?: ListCursor): Promise<{ jobs: OwnedJob[]; cursor: ListCursor | undefined }> {
    const listed = this.links.map(async (link): Promise<ScraperPage | undefined> => {
      // A scraper the cursor does not name (added since) is listed from its start.
      const position = cursor?.has(link.address) === true ? cursor.get(link.address) : { token: "", skip: 0 };
      if (position === null || position === undefined) return undefined;
      const pageSize = Math.min(MAX_LIST_PAGE_SIZE, position.skip + limit);
      const response = await link.client.listJobs({ ...filter, pageToken: position.token, pageSize }, { deadlineMs: CALL_DEADLINE_MS });
      return { address: link.address, jobs: response.jobs.slice(position.skip), position, nextToken: response.nextPageToken };
    });
    const results = await Promise.allSettled(listed);
    const rejected = results.filter((result) => result.status === "rejected");
    if (results.length > 0 && rejected.length === results.length) {
      const [first] = rejected;
      if (first !== undefined && !isUnreachable(first.reason)) throw first.reason;
      throw new NoScraperAvailableError(undefined, { cause: first?.reason });
    }
    const pages = results.flatMap((result) => (result.status === "fulfilled" && result.value !== undefined ? [result.value] : []));
    const merged = mergePages(pages, limit);
    // Scrapers that did not answer keep their position for the next page.
    let next = merged.cursor;
    for (const [i, result] of results.entries()) {
      const address = this.links[i]?.address;
      if (result.status === "fulfilled" || address === undefined) continue;
      next ??= new Map([...this.links.map((link) => [link.address, null] as const)]);
      next.set(address, cursor?.has(address) === true ? (cursor.get(address) ?? null) : { token: "", skip: 0 });
    }
    return { jobs: merged.jobs, cursor: next };
  }

  /**
   * Runs `call` on the job's owner first; when the owner is unknown or does
   * not answer with the job, on every other scraper too (in parallel).
   */
  private async askEach<T>(jobId: string, call: (link: ScraperLink) => Promise<T>): Promise<Array<PromiseSettledResult<Answer<T>>>> {
    const run = (link: ScraperLink): Promise<Answer<T>> => call(link).then((response) => ({ response, address: link.address }));
    const ownerAddress = this.state.jobs.get(jobId)?.scraper;
    const owner = this.links.find((link) => link.address === ownerAddress);
    let first: Array<PromiseSettledResult<Answer<T>>> = [];
    if (owner !== undefined) {
      first = await Promise.allSettled([run(owner)]);
      const [answer] = first;
      if (answer?.status === "fulfilled") return first;
      if (answer?.status === "rejected" && grpcCode(answer.reason) === status.FAILED_PRECONDITION) return first;
    }
    const others = this.links.filter((link) => link !== owner);
    return [...first, ...(await Promise.allSettled(others.map(run)))];
  }
}

interface Answer<T> {
  response: T;
  address: string;
}

function throwIfAllUnreachable(results: ReadonlyArray<PromiseSettledResult<unknown>>): void {
  if (results.length > 0 && results.every((result) => result.status === "rejected" && isUnreachable(result.reason))) {
    const first = results[0];
    throw new NoScraperAvailableError(undefined, { cause: first?.status === "rejected" ? first.reason : undefined });
  }
}

/** The first answer that is neither NOT_FOUND nor "unreachable": a scraper that has the job and refused. */
function firstRefusal(results: ReadonlyArray<PromiseSettledResult<unknown>>): unknown {
  const refusal = results.find((result) => result.status === "rejected" && grpcCode(result.reason) !== status.NOT_FOUND && !isUnreachable(result.reason));
  return refusal?.status === "rejected" ? refusal.reason : undefined;
}

function notFound(jobId: string): Error {
  return Object.assign(new Error(`job ${jobId} not found`), { code: status.NOT_FOUND, details: `job ${jobId} not found` });
}

