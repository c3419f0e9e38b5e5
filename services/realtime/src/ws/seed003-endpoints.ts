/**
 * Seed 003's WebSocket endpoints: `/ws/{job_id}` streams a crawl or scan job
 * as file processing; `/ws/scan/{scan_id}` runs directory scans the client
 * asks for (see seed003-scan-session.ts). Both encode through the seed 003
 * dialects, so each event is serialised once for all their subscribers.
 */
import { isTerminal } from "@trawl/proto";
import type { DialectDeps } from "../dialects/dialect-deps.js";
import { encodeFileJobOpening, encodeJobStarted, encodeUnknownFileJob, SEED003_JOB_CHANNEL } from "../dialects/seed003.js";
import { CloseCode } from "./close-codes.js";
import { Delivery, type Connection } from "./connection.js";
import type { JobOpener } from "./endpoints.js";
import { ScanSession } from "./seed003-scan-session.js";

/**
 * `/ws/{job_id}`: job_started with the job's current total, its current
 * state (progress, or the terminal message of an ended job), then — for a
 * job still running — its live messages, so processed_files never goes
 * back. An unknown job gets the seed's
 * error message and a 1008 close. Text the client sends is answered with the
 * gateway's pong (the seed defines no client messages here, and its clients
 * ignore types they do not know).
 */
export function createFileJobOpener(deps: DialectDeps): JobOpener {
  return (connection, jobId, job) => {
    if (job === undefined) {
      connection.send(Buffer.from(encodeUnknownFileJob(jobId)), Delivery.ALWAYS, jobId);
      connection.close(CloseCode.POLICY_VIOLATION, "unknown job");
      return;
    }
    const ended = isTerminal(job.status);
    // An ended job's opening already holds its terminal message: nothing may follow it.
    if (!ended) deps.hub.subscribeJob(connection, jobId, SEED003_JOB_CHANNEL);
    // A running job the state has not seen stream yet (its scraper answered for it) will stream
    // from its first event on: its current numbers now would run ahead of the messages that follow.
    const streamed = ended || deps.state.jobs.get(jobId) === job;
    const frames = streamed ? encodeFileJobOpening(job) : [encodeJobStarted(job)];
    for (const frame of frames) connection.send(Buffer.from(frame.json), frame.delivery, jobId);
  };
}

/** `/ws/scan/{scan_id}`: the scan id is the client's own label; the socket's scans are its jobs. */
export function createScanOpener(deps: DialectDeps): (connection: Connection, scanId: string) => void {
  return (connection) => {
    new ScanSession(connection, deps);
  };
}
