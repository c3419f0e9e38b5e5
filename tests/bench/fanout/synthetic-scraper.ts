/**
 * A synthetic scraper for the fan-out benchmark: a real grpc-js server
 * speaking ScraperService that emits canonical JobEvents at a fixed rate.
 * Each event's `time` is Date.now() when it is written, so a client that
 * reads the event time from what it receives measures scraper → client
 * latency. Run as a forked child; the runner drives it over IPC:
 *   → { cmd: "run", rate, durationMs, jobs, finish }   ← { type: "ran", t0, t1, counts }
 * Only the jobs' JobStarted events are kept in the log (replayed to a
 * WatchEvents call); run events are live only, so memory stays flat.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import {
  addService,
  GetJobResponseSchema,
  GetStatsResponseSchema,
  JobCountersSchema,
  JobEventSchema,
  JobSchema,
  JobStatus,
  ListJobsResponseSchema,
  Platform,
  ScraperService,
  WatchEventsResponseSchema,
  type Job,
  type JobEvent,
  type WatchEventsRequest,
  type WatchEventsResponse,
} from "@trawl/proto";

type Kind = MessageInitShape<typeof JobEventSchema>["kind"];
type Watcher = grpc.ServerWritableStream<WatchEventsRequest, WatchEventsResponse>;

const jobs = new Map<string, Job>();
const seqs = new Map<string, bigint>();
const kept: JobEvent[] = [];
const watchers = new Set<Watcher>();
let offset = 0n;
const pages = new Map<string, number>();

function emit(jobId: string, kind: Kind, keep = false): JobEvent {
  const seq = (seqs.get(jobId) ?? 0n) + 1n;
  seqs.set(jobId, seq);
  offset++;
  const event = create(JobEventSchema, { jobId, seq, offset, time: timestampFromMs(Date.now()), kind });
  if (keep) kept.push(event);
  const message = create(WatchEventsResponseSchema, { message: { case: "event", value: event } });
  for (const watcher of watchers) watcher.write(message);
  return event;
}

function counters(jobId: string) {
  const done = pages.get(jobId) ?? 0;
  return { pagesDone: done, pagesTotal: 1_000_000, successCount: done, errorCount: 0, items: done, bytes: BigInt(done * 20_000), processingMsTotal: BigInt(done * 40) };
}

function item(jobId: string, n: number) {
  return { id: `${jobId}-item-${n}`, url: `https://example.test/${jobId}/page/${n}`, title: `Page ${n} of ${jobId}`, description: "A synthetic page.", wordCount: 420, linksFound: 12 };
}

function startJob(id: string): void {
  if (jobs.has(id)) return;
  const now = timestampFromMs(Date.now());
  const job = create(JobSchema, { id, platform: Platform.WEB, status: JobStatus.RUNNING, spec: { urls: [`https://example.test/${id}`], depth: 3, platform: Platform.WEB }, counters: {}, createdAt: now, startedAt: now });
  jobs.set(id, job);
  emit(id, { case: "started", value: { job } }, true);
}

/** Emits `rate` events/s for `durationMs` round-robin over `ids`: four progress events, then one itemScraped. */
async function run(rate: number, durationMs: number, ids: string[], finish: boolean) {
  const counts = { started: 0, progress: 0, itemScraped: 0, completed: 0 };
  for (const id of ids) if (!jobs.has(id)) { startJob(id); counts.started++; }
  const t0 = Date.now();
  let sent = 0;
  const total = Math.round((rate * durationMs) / 1000);
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((Date.now() - t0) * rate) / 1000) + 1);
      while (sent < due) {
        const id = ids[sent % ids.length]!;
        const n = (pages.get(id) ?? 0) + 1;
        pages.set(id, n);
        if (sent % 5 === 4) {
          emit(id, { case: "itemScraped", value: { item: item(id, n), url: item(id, n).url, processingMs: 40, httpStatus: 200, bytes: 20_000, counters: counters(id) } });
          counts.itemScraped++;
        } else {
          emit(id, { case: "progress", value: { counters: counters(id), currentItem: item(id, n) } });
          counts.progress++;
        }
        sent++;
      }
      if (sent >= total) return resolve();
      setTimeout(tick, 1);
    };
    tick();
  });
  const t1 = Date.now();
  if (finish) {
    for (const id of ids) {
      emit(id, { case: "completed", value: { counters: counters(id), elapsedMs: t1 - t0 } }, true);
      const job = jobs.get(id)!;
      job.status = JobStatus.COMPLETED;
      job.finishedAt = timestampFromMs(t1);
      counts.completed++;
    }
  }
  return { t0, t1, counts };
}

const server = new grpc.Server();
const notFound = (id: string) => ({ code: grpc.status.NOT_FOUND, details: `job ${id} not found` }) as grpc.ServiceError;
const unimplemented = (_call: unknown, callback: (error: grpc.ServiceError) => void) => callback({ code: grpc.status.UNIMPLEMENTED, details: "synthetic scraper" } as grpc.ServiceError);
addService(server, ScraperService, {
  startJob: unimplemented,
  cancelJob: unimplemented,
  pauseJob: unimplemented,
  resumeJob: unimplemented,
  listItems: unimplemented,
  exportItems: (call) => call.destroy({ code: grpc.status.UNIMPLEMENTED, details: "synthetic scraper" } as grpc.ServiceError),
  getJob: (call, callback) => {
    const job = jobs.get(call.request.jobId);
    if (job === undefined) return callback(notFound(call.request.jobId), null);
    return callback(null, create(GetJobResponseSchema, { job: { ...job, counters: create(JobCountersSchema, counters(job.id)) } }));
  },
  listJobs: (call, callback) => {
    const wanted = call.request.statuses;
    const list = [...jobs.values()].filter((job) => wanted.length === 0 || wanted.includes(job.status)).reverse();
    return callback(null, create(ListJobsResponseSchema, { jobs: list.slice(0, call.request.pageSize || 50) }));
  },
  getStats: (_call, callback) => callback(null, create(GetStatsResponseSchema, {})),
  watchEvents: (call) => {
    for (const event of kept) {
      if (event.offset > call.request.afterOffset) call.write(create(WatchEventsResponseSchema, { message: { case: "event", value: event } }));
    }
    watchers.add(call);
    const drop = () => watchers.delete(call);
    call.on("cancelled", drop);
    call.on("error", drop);
  },
});

server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  process.send?.({ type: "ready", address: `127.0.0.1:${port}` });
});

process.on("message", (message: { cmd: string; rate: number; durationMs: number; jobs: string[]; finish?: boolean }) => {
  if (message.cmd === "run") {
    void run(message.rate, message.durationMs, message.jobs, message.finish ?? false).then((result) => process.send?.({ type: "ran", ...result }));
  } else if (message.cmd === "watchers") {
    process.send?.({ type: "watchers", count: watchers.size });
  }
});
// Never outlive the runner.
process.on("disconnect", () => process.exit(0));
