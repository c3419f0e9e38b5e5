/**
 * `/ws/scraping/{job_id}?format=flat`: seed 002's per-job socket, streaming
 * the job's flat events (dialects/seed002.ts) from the hub's seed 002 channel.
 *
 * What a client gets on connect:
 * - an unknown job id: the seed's error event, then close 1008;
 * - a job that has ended: its terminal event (job_completed / job_failed),
 *   and nothing more;
 * - a running or paused job: the job's start as it happened — job_started
 *   and one scraper_started per task, which the live state keeps for every
 *   running job (`JobRecord.opening`), since a client can only learn the job
 *   id once the job has started — then one job_progress with the current
 *   numbers (when anything happened since), then the live events;
 * - a job the gateway has not streamed yet: just the live events, which will
 *   begin with its job_started.
 *
 * The hand-over from the replay to the live stream happens in one
 * synchronous step, so every event reaches the client once and in order:
 * the opening events the gateway applied, and the hub's frames for every
 * later one. (A job the gateway only knows from a scraper snapshot has no
 * opening events: its clients start with the job_progress.)
 */
import { isTerminal, type JobEvent } from "@trawl/proto";
import type { DialectDeps } from "../dialects/dialect-deps.js";
import { encodeEvent, encodeUnknownJob, flatDialectFrames, SEED002_CHANNEL, SEED002_DIALECT, type FlatFrame } from "../dialects/seed002.js";
import { createLiveState, type JobRecord } from "../state/live-state.js";
import { applyEvent } from "../state/reducer.js";
import { CloseCode } from "./close-codes.js";
import { Delivery, type Connection } from "./connection.js";
import type { JobOpener } from "./endpoints.js";

export function createFlatJobOpener(deps: DialectDeps): JobOpener {
  /** Sends the replayed start, then the job's current state, and subscribes — all in one synchronous step. */
  const handOver = (connection: Connection, jobId: string, job: JobRecord, replayed: readonly JobEvent[]): void => {
    const live = deps.state.jobs.get(jobId);
    const frames: FlatFrame[] = [];
    // The opening events are encoded against a scratch state holding just them, as they were when applied.
    const scratch = createLiveState();
    let replayedUpTo = 0n;
    for (const event of replayed) {
      const record = applyEvent(scratch, job.scraper, event);
      if (record !== undefined) frames.push(...encodeEvent(event, record));
      if (live !== undefined) SEED002_DIALECT.observe(event, live);
      replayedUpTo = event.seq;
    }
    if (isTerminal(job.status) || job.lastSeq > replayedUpTo) frames.push(SEED002_DIALECT.openingFrame(job, job.lastEventMs));
    for (const frame of flatDialectFrames(frames)) connection.send(frame.data, frame.delivery, frame.key ?? jobId);
    if (!isTerminal(job.status)) deps.hub.subscribeJob(connection, jobId, SEED002_CHANNEL);
  };

  return (connection, jobId, job) => {
    if (job === undefined) {
      connection.send(Buffer.from(encodeUnknownJob(jobId, deps.now())), Delivery.ALWAYS, jobId);
      connection.close(CloseCode.POLICY_VIOLATION, "unknown job");
      return;
    }
    if (isTerminal(job.status)) return handOver(connection, jobId, job, []);
    // Not streamed yet: every one of its events, JobStarted first, is still to come through the hub.
    if (!deps.state.jobs.has(jobId)) return deps.hub.subscribeJob(connection, jobId, SEED002_CHANNEL);
    handOver(connection, jobId, job, job.opening);
  };
}
