/**
 * One seed 003 scan socket (`/ws/scan/{scan_id}`): the client sends
 * `{"action":"scan",…}` and `{"action":"cancel"}`; the socket runs one scan
 * at a time through the scrapers and is subscribed, on the scan channel, to
 * the job of the scan it started, so the scan's progress / completed / error
 * messages are encoded once by the dialect and fanned out by the hub like
 * every other event. Every bad message is answered with
 * `{"type":"error","message":…}` and the socket stays usable.
 */
import { Role, roleAllows } from "@trawl/proto";
import { status as grpcStatus } from "@grpc/grpc-js";
import { isTerminal, type JobEvent, type WatchEventsResponse } from "@trawl/proto";
import type { DialectDeps } from "../dialects/dialect-deps.js";
import { SEED003_SCAN_CHANNEL, type Seed003Frame } from "../dialects/seed003.js";
import { encodeScanError, encodeScanEvent, encodeScanJobState } from "../dialects/seed003-scan.js";
import { fromScraperError } from "../http/errors.js";
import { toScanJobRequest, type ScanRequest } from "../http/scrape-request.js";
import { grpcCode, grpcDetails } from "../scrapers/grpc-errors.js";
import { Delivery, type Connection } from "./connection.js";
import { parseScanMessage } from "./seed003-scan-messages.js";

/** The reason a scan cancelled from its socket ends with ("Scan cancelled: requested by the client"). */
export const CLIENT_CANCEL_REASON = "requested by the client";
/** The reason of a scan whose socket closed while it ran: its result could reach no one. */
export const SOCKET_CLOSED_REASON = "the scan socket closed";
export const ALREADY_RUNNING_MESSAGE = 'A scan is already running on this connection; send {"action":"cancel"} or wait for its result';
export const NOTHING_TO_CANCEL_MESSAGE = "No scan is running on this connection";
/** The per-job seq of a job's JobStarted, its first event. */
const STARTED_SEQ = 1n;
/** How long reading a scan's first events back from its scraper may take. */
const CATCH_UP_DEADLINE_MS = 5_000;

/** gRPC codes by which a scraper refuses a scan request for what it asks (the client's to fix). */
const REFUSALS: ReadonlySet<number> = new Set([
  grpcStatus.INVALID_ARGUMENT,
  grpcStatus.NOT_FOUND,
  grpcStatus.FAILED_PRECONDITION,
  grpcStatus.PERMISSION_DENIED,
  grpcStatus.RESOURCE_EXHAUSTED,
]);

const SessionState = {
  /** No scan, or the last one has ended. */
  IDLE: "idle",
  /** StartJob is on its way; no job id yet. */
  STARTING: "starting",
  /** Subscribed to the scan's job (running, or ended and not yet replaced). */
  WATCHING: "watching",
  CLOSED: "closed",
} as const;
type SessionState = (typeof SessionState)[keyof typeof SessionState];

export class ScanSession {
  private state: SessionState = SessionState.IDLE;
  private jobId: string | undefined;
  /** A cancel that arrived while the scan was starting: sent once its job id is known. */
  private cancelRequested = false;

  constructor(
    private readonly connection: Connection,
    private readonly deps: DialectDeps,
  ) {
    connection.onText((text) => this.onText(text));
    connection.onClosed(() => this.onClosed());
  }

  private onText(text: string): void {
    if (this.state === SessionState.CLOSED) return;
    const parsed = parseScanMessage(text);
    if (!parsed.ok) return this.sendError(parsed.error);
    if (parsed.message.action === "scan") return this.startScan(parsed.message.request);
    return this.cancelScan();
  }

  /** True from the scan message until its job has ended (as far as the live state knows). */
  private get scanRunning(): boolean {
    if (this.state === SessionState.STARTING) return true;
    if (this.state !== SessionState.WATCHING || this.jobId === undefined) return false;
    const job = this.deps.state.jobs.get(this.jobId);
    // Not in the state yet: its events have not arrived, so it has not ended.
    return job === undefined || !isTerminal(job.status);
  }

  private startScan(request: ScanRequest): void {
    const principal = this.connection.principal;
    if (!roleAllows(principal.role, Role.CONTROL)) return this.sendError(`forbidden: this token's role (${principal.role}) may not start scans; it needs control`);
    if (this.scanRunning) return this.sendError(ALREADY_RUNNING_MESSAGE);
    try {
      this.deps.access?.assertCanStart(this.deps.state, principal.tenant);
    } catch (error) {
      return this.sendError(error instanceof Error ? error.message : String(error));
    }
    this.forgetJob();
    this.state = SessionState.STARTING;
    this.cancelRequested = false;
    // Where each scraper's log stood before the start: the scan's events all come after it.
    const offsets = new Map([...this.deps.state.scrapers].map(([address, scraper]) => [address, scraper.lastOffset]));
    this.deps.pool.startJob({ ...toScanJobRequest(request), tenant: principal.tenant }).then(
      ({ response, address }) => this.onStarted(response.job?.id, address, offsets.get(address) ?? 0n),
      (error: unknown) => this.onStartFailed(error),
    );
  }

  private onStarted(jobId: string | undefined, address: string, offsetBefore: bigint): void {
    if (jobId === undefined || jobId === "") {
      this.deps.logger.error({ scraper: address }, "StartJob answered without a job");
      return this.onStartFailed(new Error("the scraper answered without a job"));
    }
    if (this.state === SessionState.CLOSED) {
      this.cancel(jobId, SOCKET_CLOSED_REASON);
      return;
    }
    this.jobId = jobId;
    this.state = SessionState.WATCHING;
    this.deps.hub.subscribeJob(this.connection, jobId, SEED003_SCAN_CHANNEL);
    this.deps.logger.info({ jobId, scraper: address }, "scan started from a scan socket");
    // The events of a quick scan can be applied before StartJob's answer got here;
    // when any after its JobStarted (which has no scan message) were, the
    // subscription missed them, and they are read back from the scraper's log.
    const applied = this.deps.state.jobs.get(jobId);
    if (applied !== undefined && applied.lastSeq > STARTED_SEQ) void this.catchUp(jobId, address, offsetBefore, applied.lastSeq);
    if (this.cancelRequested) this.cancel(jobId, CLIENT_CANCEL_REASON);
  }

  private onStartFailed(error: unknown): void {
    if (this.state === SessionState.CLOSED) return;
    this.state = SessionState.IDLE;
    this.sendError(startFailureMessage(error));
    if (!REFUSALS.has(grpcCode(error) ?? -1)) this.deps.logger.warn({ err: error instanceof Error ? error.message : String(error) }, "scan start failed");
  }

  private cancelScan(): void {
    if (this.state === SessionState.STARTING) {
      this.cancelRequested = true;
      return;
    }
    if (!this.scanRunning || this.jobId === undefined) return this.sendError(NOTHING_TO_CANCEL_MESSAGE);
    this.cancel(this.jobId, CLIENT_CANCEL_REASON);
  }

  /** Cancels the scan; its JobCancelled reaches the client as the scan's error message. */
  private cancel(jobId: string, reason: string): void {
    this.deps.pool.cancelJob(jobId, reason).catch((error: unknown) => {
      if (this.state === SessionState.CLOSED || this.jobId !== jobId) return;
      const code = grpcCode(error);
      if (code === grpcStatus.FAILED_PRECONDITION || code === grpcStatus.NOT_FOUND) {
        // It ended meanwhile (its result is on its way), or no scraper knows it any more.
        if (code === grpcStatus.NOT_FOUND) this.forgetJob();
        return this.sendError(`${NOTHING_TO_CANCEL_MESSAGE}: the scan has already ended`);
      }
      this.sendError(`Failed to cancel the scan: ${fromScraperError(error).message}`);
    });
  }

  /**
   * Sends what the subscription missed: when the scan's result (or failure)
   * is among the events applied before it, that message, after the last
   * progress before it. Missed progress alone is not worth sending — newer
   * progress follows live.
   */
  private async catchUp(jobId: string, address: string, afterOffset: bigint, untilSeq: bigint): Promise<void> {
    const events = await this.readJobEvents(jobId, address, afterOffset, untilSeq);
    if (this.state === SessionState.CLOSED || this.jobId !== jobId) return;
    if (events === undefined) {
      this.deps.logger.warn({ jobId, scraper: address }, "could not read a scan's first events back from its scraper");
      const job = this.deps.state.jobs.get(jobId);
      if (job !== undefined && isTerminal(job.status)) this.sendFrames(encodeScanJobState(job));
      return;
    }
    const frames = events.flatMap((event) => encodeScanEvent(event));
    const end = frames.findIndex((frame) => frame.type !== "progress");
    if (end === -1) return;
    const lastProgress = frames.slice(0, end).at(-1);
    this.sendFrames(lastProgress === undefined ? [frames[end] as Seed003Frame] : [lastProgress, frames[end] as Seed003Frame]);
  }

  /** The job's events up to `untilSeq`, read from its scraper's log; undefined when the log no longer has them. */
  private readJobEvents(jobId: string, address: string, afterOffset: bigint, untilSeq: bigint): Promise<JobEvent[] | undefined> {
    const link = this.deps.pool.links.find((candidate) => candidate.address === address);
    if (link === undefined) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const events: JobEvent[] = [];
      const call = link.client.watchEvents({ jobId, afterOffset });
      let settled = false;
      const finish = (result: JobEvent[] | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        call.cancel();
        resolve(result);
      };
      const timer = setTimeout(() => finish(undefined), CATCH_UP_DEADLINE_MS);
      timer.unref();
      call.on("data", (message: WatchEventsResponse) => {
        // A snapshot first means the log was trimmed past the scan's events.
        if (message.message.case !== "event") return finish(undefined);
        const event = message.message.value;
        if (event.jobId !== jobId) return;
        if (event.seq <= untilSeq) events.push(event);
        if (event.seq >= untilSeq) finish(events);
      });
      call.on("error", () => finish(undefined));
      call.on("end", () => finish(undefined));
    });
  }

  private onClosed(): void {
    const running = this.state === SessionState.WATCHING && this.scanRunning;
    this.state = SessionState.CLOSED;
    // The result of a scan goes to the socket that asked for it alone; with it gone, stop the work.
    if (running && this.jobId !== undefined) {
      const jobId = this.jobId;
      this.deps.pool.cancelJob(jobId, SOCKET_CLOSED_REASON).catch((error: unknown) => this.deps.logger.debug({ jobId, err: grpcDetails(error) }, "cancelling an orphaned scan failed"));
    }
  }

  /** Ends the subscription to an ended scan, so this socket hears nothing more of it. */
  private forgetJob(): void {
    if (this.jobId !== undefined) this.deps.hub.unsubscribeJob(this.connection, this.jobId, SEED003_SCAN_CHANNEL);
    this.jobId = undefined;
    this.state = SessionState.IDLE;
  }

  private sendFrames(frames: readonly Seed003Frame[]): void {
    for (const frame of frames) this.connection.send(Buffer.from(frame.json), frame.delivery, frame.jobId);
  }

  private sendError(message: string): void {
    this.connection.send(Buffer.from(encodeScanError(message)), Delivery.ALWAYS, this.jobId ?? "");
  }
}

/**
 * The error message of a scan the scrapers refused or could not start, in
 * the seed's "Failed to scan directory: Directory not found" form. The
 * scraper names the field ("scan.path: …"); the client only sent a path.
 */
export function startFailureMessage(error: unknown): string {
  const code = grpcCode(error);
  const detail = code !== undefined && REFUSALS.has(code) ? grpcDetails(error) : fromScraperError(error).message;
  const match = /^scan\.(\w+): (.*)$/s.exec(detail);
  const reason = match === null ? detail : match[1] === "path" ? (match[2] ?? "") : `${match[1]} ${match[2] ?? ""}`;
  return `Failed to scan directory: ${reason}`;
}
