/**
 * A real grpc-js server implementing ScraperService from a script: tests
 * append JobEvents to its log and it serves WatchEvents (replay after the
 * requested offset, then live), GetJob/ListJobs/CancelJob from its job table
 * and StartJob through a handler the test supplies. It stands in for the
 * external scraper process in this package's tests; the end-to-end suites
 * run the real one.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import {
  addService,
  CancelJobResponseSchema,
  ExportFormat,
  ExportItemsResponseSchema,
  itemCsvHeader,
  itemCsvRow,
  itemJson,
  ListItemsResponseSchema,
  PauseJobResponseSchema,
  ResumeJobResponseSchema,
  type Item,
  GetJobResponseSchema,
  GetStatsResponseSchema,
  isTerminal,
  JobEventSchema,
  JobSchema,
  JobStatus,
  ListJobsResponseSchema,
  Platform,
  ScraperService,
  StartJobResponseSchema,
  WatchEventsResponseSchema,
  type Job,
  type JobEvent,
  type Snapshot,
  type StartJobRequest,
  type WatchEventsRequest,
  type WatchEventsResponse,
} from "@trawl/proto";

type StartJobAnswer = { job: Job; estimatedTimeSeconds?: number } | { error: { code: grpc.status; details: string } };

export class ScriptedScraper {
  /** The event log; offsets are assigned on append (1, 2, 3…). */
  readonly log: JobEvent[] = [];
  readonly jobs = new Map<string, Job>();
  readonly watchRequests: WatchEventsRequest[] = [];
  /** Replay this many events before the requested offset too (to exercise de-duplication). */
  overlapOnResume = 0;
  /** Sent first on every WatchEvents call when set. */
  snapshot: Snapshot | undefined;
  /** Answers StartJob; by default registers a running web job and logs its JobStarted. */
  onStartJob: (request: StartJobRequest) => StartJobAnswer = (request) => this.defaultStart(request);

  private server: grpc.Server | undefined;
  private readonly watchers = new Set<grpc.ServerWritableStream<WatchEventsRequest, WatchEventsResponse>>();
  private nextJob = 1;
  private readonly seqs = new Map<string, bigint>();
  port = 0;

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Binds (port 0 = ephemeral, or a previous port to come back on it). */
  async start(port = this.port): Promise<number> {
    const server = new grpc.Server();
    addService(server, ScraperService, {
      startJob: (call, callback) => {
        const answer = this.onStartJob(call.request);
        if ("error" in answer) return callback(answer.error as grpc.ServiceError, null);
        return callback(null, create(StartJobResponseSchema, { job: answer.job, estimatedTimeSeconds: answer.estimatedTimeSeconds ?? 10 }));
      },
      getJob: (call, callback) => {
        const job = this.jobs.get(call.request.jobId);
        if (job === undefined) return callback({ code: grpc.status.NOT_FOUND, details: `job ${call.request.jobId} not found` } as grpc.ServiceError, null);
        return callback(null, create(GetJobResponseSchema, { job }));
      },
      listJobs: (call, callback) => {
        const wanted = call.request.statuses;
        const jobs = [...this.jobs.values()].filter((job) => wanted.length === 0 || wanted.includes(job.status)).reverse();
        return callback(null, create(ListJobsResponseSchema, { jobs: jobs.slice(0, call.request.pageSize || 50) }));
      },
      cancelJob: (call, callback) => {
        const job = this.jobs.get(call.request.jobId);
        if (job === undefined) return callback({ code: grpc.status.NOT_FOUND, details: `job ${call.request.jobId} not found` } as grpc.ServiceError, null);
        if (isTerminal(job.status)) return callback({ code: grpc.status.FAILED_PRECONDITION, details: `job ${job.id} already ended` } as grpc.ServiceError, null);
        this.append(job.id, { case: "cancelled", value: { reason: call.request.reason, counters: job.counters ?? {} } });
        return callback(null, create(CancelJobResponseSchema, { job }));
      },
      pauseJob: (call, callback) => {
        const answer = this.control(call.request.jobId, JobStatus.RUNNING, "paused");
        return "error" in answer ? callback(answer.error, null) : callback(null, create(PauseJobResponseSchema, answer));
      },
      resumeJob: (call, callback) => {
        const answer = this.control(call.request.jobId, JobStatus.PAUSED, "resumed");
        return "error" in answer ? callback(answer.error, null) : callback(null, create(ResumeJobResponseSchema, answer));
      },
      listItems: (call, callback) => {
        if (!this.jobs.has(call.request.jobId)) return callback({ code: grpc.status.NOT_FOUND, details: `job ${call.request.jobId} not found` } as grpc.ServiceError, null);
        if (call.request.pageToken !== "" && !/^\d+$/.test(call.request.pageToken)) {
          return callback({ code: grpc.status.INVALID_ARGUMENT, details: "page_token: not a token this scraper issued" } as grpc.ServiceError, null);
        }
        const query = call.request.query.toLowerCase();
        const items = this.itemsOf(call.request.jobId).filter((item) => query === "" || `${item.title} ${item.url}`.toLowerCase().includes(query));
        const start = Number(call.request.pageToken || "0");
        const size = call.request.pageSize || 50;
        const end = Math.min(items.length, start + size);
        return callback(
          null,
          create(ListItemsResponseSchema, { items: items.slice(start, end), total: items.length, nextPageToken: end < items.length ? String(end) : "" }),
        );
      },
      exportItems: (call) => {
        if (!this.jobs.has(call.request.jobId)) return call.destroy({ code: grpc.status.NOT_FOUND, details: `job ${call.request.jobId} not found` } as grpc.ServiceError);
        const rows = this.itemsOf(call.request.jobId).map((item) => itemJson(item));
        const body =
          call.request.format === ExportFormat.CSV
            ? itemCsvHeader() + rows.map(itemCsvRow).join("")
            : call.request.format === ExportFormat.NDJSON
              ? rows.map((row) => `${JSON.stringify(row)}\n`).join("")
              : JSON.stringify(rows);
        // Two chunks, so the gateway's piping is exercised across messages.
        const bytes = Buffer.from(body);
        const half = Math.floor(bytes.length / 2);
        call.write(create(ExportItemsResponseSchema, { data: bytes.subarray(0, half) }));
        call.write(create(ExportItemsResponseSchema, { data: bytes.subarray(half) }));
        call.end();
      },
      getStats: (_call, callback) => callback(null, create(GetStatsResponseSchema, {})),
      watchEvents: (call) => {
        this.watchRequests.push(call.request);
        if (this.snapshot !== undefined) call.write(create(WatchEventsResponseSchema, { message: { case: "snapshot", value: this.snapshot } }));
        const from = call.request.afterOffset - BigInt(this.overlapOnResume);
        for (const event of this.log) {
          if (event.offset > from && (call.request.jobId === "" || event.jobId === call.request.jobId)) call.write(asMessage(event));
        }
        this.watchers.add(call);
        call.on("cancelled", () => this.watchers.delete(call));
        call.on("error", () => this.watchers.delete(call));
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    this.server = server;
    return this.port;
  }

  /** Items of the job's ItemScraped events, in log order. */
  private itemsOf(jobId: string): Item[] {
    return this.log.flatMap((event) => (event.jobId === jobId && event.kind.case === "itemScraped" && event.kind.value.item !== undefined ? [event.kind.value.item] : []));
  }

  /** Pause or resume: allowed only from `from`; logs the event and answers with the job. */
  private control(jobId: string, from: JobStatus, kind: "paused" | "resumed"): { job: Job } | { error: grpc.ServiceError } {
    const job = this.jobs.get(jobId);
    if (job === undefined) return { error: { code: grpc.status.NOT_FOUND, details: `job ${jobId} not found` } as grpc.ServiceError };
    if (job.status !== from) {
      return { error: { code: grpc.status.FAILED_PRECONDITION, details: `job ${jobId} is not ${kind === "paused" ? "running" : "paused"}` } as grpc.ServiceError };
    }
    this.append(jobId, { case: kind, value: { counters: job.counters ?? {} } });
    job.status = kind === "paused" ? JobStatus.PAUSED : JobStatus.RUNNING;
    return { job };
  }

  /** Kills the server abruptly, as a crashed scraper would go. */
  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
    this.watchers.clear();
  }

  /** Registers a job (for GetJob and friends) without logging any event. */
  register(init: MessageInitShape<typeof JobSchema>): Job {
    const job = create(JobSchema, init);
    this.jobs.set(job.id, job);
    return job;
  }

  /** Appends an event of `jobId` (next seq, next offset, time `atMs`) and streams it to live watchers. */
  append(jobId: string, kind: MessageInitShape<typeof JobEventSchema>["kind"], atMs = Date.now()): JobEvent {
    const seq = (this.seqs.get(jobId) ?? 0n) + 1n;
    this.seqs.set(jobId, seq);
    const event = create(JobEventSchema, { jobId, seq, offset: BigInt(this.log.length + 1), time: timestampFromMs(atMs), kind });
    this.log.push(event);
    this.track(event);
    for (const watcher of this.watchers) {
      if (watcher.request.jobId === "" || watcher.request.jobId === jobId) watcher.write(asMessage(event));
    }
    return event;
  }

  private track(event: JobEvent): void {
    const job = this.jobs.get(event.jobId);
    if (job === undefined) return;
    job.lastSeq = event.seq;
    switch (event.kind.case) {
      case "completed":
        job.status = JobStatus.COMPLETED;
        job.finishedAt = event.time;
        break;
      case "failed":
        job.status = JobStatus.FAILED;
        job.finishedAt = event.time;
        job.error = event.kind.value.errorMessage;
        break;
      case "cancelled":
        job.status = JobStatus.CANCELLED;
        job.finishedAt = event.time;
        job.error = event.kind.value.reason;
        break;
      default:
        break;
    }
  }

  private defaultStart(request: StartJobRequest): StartJobAnswer {
    const id = `job-${this.port}-${this.nextJob++}`;
    const now = Date.now();
    const job = this.register({
      id,
      platform: request.crawl?.platform || Platform.WEB,
      status: JobStatus.RUNNING,
      spec: request.crawl,
      counters: {},
      createdAt: timestampFromMs(now),
      startedAt: timestampFromMs(now),
    });
    this.append(id, { case: "started", value: { job } }, now);
    return { job };
  }
}

function asMessage(event: JobEvent): WatchEventsResponse {
  return create(WatchEventsResponseSchema, { message: { case: "event", value: event } });
}
