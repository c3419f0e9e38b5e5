/**
 * Direct gRPC access to the scraper through the typed client from
 * @trawl/proto, plus a recorder for WatchEvents streams.
 */
import type { ServiceError } from "@grpc/grpc-js";
import { createClient, type JobEvent, ScraperService, type ServiceClient, type Snapshot, type WatchEventsResponse } from "@trawl/proto";
import { waitFor, type WaitOptions } from "./wait.js";

export type ScraperClient = ServiceClient<typeof ScraperService>;

export function scraperClient(address: string): ScraperClient {
  return createClient(ScraperService, address);
}

/** Events of the terminal kinds: nothing of that job may follow them. */
export const TERMINAL_KINDS: ReadonlySet<string> = new Set(["completed", "failed", "cancelled"]);

export function isTerminalEvent(event: JobEvent): boolean {
  return event.kind.case !== undefined && TERMINAL_KINDS.has(event.kind.case);
}

export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === "number";
}

/** Awaits a unary call that must fail; returns the grpc-js ServiceError. */
export async function expectGrpcError(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (error) {
    if (isServiceError(error)) return error;
    throw error;
  }
  throw new Error("expected the call to fail with a gRPC status");
}

/** Records a WatchEvents stream: events, snapshots, end/error. */
export class EventRecorder {
  readonly events: JobEvent[] = [];
  readonly snapshots: Snapshot[] = [];
  ended = false;
  error: ServiceError | undefined;

  constructor(readonly stream: ReturnType<ScraperClient["watchEvents"]>) {
    stream.on("data", (message: WatchEventsResponse) => {
      if (message.message.case === "event") this.events.push(message.message.value);
      else if (message.message.case === "snapshot") this.snapshots.push(message.message.value);
    });
    stream.on("error", (error: ServiceError) => {
      this.error = error;
    });
    stream.on("end", () => {
      this.ended = true;
    });
  }

  static watch(client: ScraperClient, request: { jobId?: string; afterOffset?: bigint }): EventRecorder {
    return new EventRecorder(client.watchEvents({ jobId: request.jobId ?? "", afterOffset: request.afterOffset ?? 0n }));
  }

  async waitForEvent(what: string, predicate: (event: JobEvent) => boolean, options: WaitOptions = {}): Promise<JobEvent> {
    return waitFor(what, () => this.events.find(predicate), { detail: () => `${this.events.length} events; last: ${this.events.at(-1)?.kind.case}`, ...options });
  }

  async waitForTerminal(jobId: string, options: WaitOptions = {}): Promise<JobEvent> {
    return this.waitForEvent(`terminal event of ${jobId}`, (event) => event.jobId === jobId && isTerminalEvent(event), options);
  }

  /** Cancels the call (client side) and waits until grpc-js reports it done. */
  async cancel(): Promise<void> {
    this.stream.cancel();
    await waitFor("watch stream to end after cancel", () => this.ended || this.error !== undefined, { timeoutMs: 15_000 });
  }
}
