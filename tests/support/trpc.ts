/**
 * Real @trpc/client connections to a gateway — over one WebSocket (wsLink)
 * or over HTTP (httpBatchLink for queries and mutations, httpSubscriptionLink
 * with undici's EventSource for SSE subscriptions) — plus recorders for
 * subscriptions and the checks every `events.watch` stream must pass.
 */
import { JobEventSchema, type JobEventJson } from "@trawl/proto";
import type { AppRouter } from "@trawl/realtime";
import { createTRPCClient, createWSClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError, type TRPCClient, wsLink } from "@trpc/client";
import { EventSource } from "undici";
import { afterEach, expect } from "vitest";
import { WebSocket } from "ws";
import type { CrawlTruth } from "../fixture/truth.js";
import { waitFor, type WaitOptions } from "./wait.js";

export type Client = TRPCClient<AppRouter>;
export type TrpcError = TRPCClientError<AppRouter>;
export type Transport = "ws" | "http";

/** The transports a test table runs over, with the names its titles show. */
export const TRANSPORTS: ReadonlyArray<{ transport: Transport; name: string }> = [
  { transport: "ws", name: "WebSocket" },
  { transport: "http", name: "HTTP + SSE" },
];

export type WatchInput = Parameters<Client["events"]["watch"]["subscribe"]>[0];
export type StatsWatchInput = Parameters<Client["stats"]["watch"]["subscribe"]>[0];
export type StatsTick = Awaited<ReturnType<Client["stats"]["platform"]["query"]>>;

/** One `events.watch` message: the tracked id (a resume cursor) and the event's protobuf JSON. */
export interface TrackedEvent {
  readonly id: string;
  readonly data: JobEventJson;
}

/** A client and what it takes to end it. */
export interface Connection {
  readonly transport: Transport;
  readonly client: Client;
  /**
   * Ends the connection: the WebSocket is closed (every subscription on it
   * with it); over HTTP, every subscription opened through `watch*` is
   * unsubscribed, which aborts its EventSource.
   */
  close(): Promise<void>;
  /** Ties a subscription opened through this connection to it, so `close` ends it too. */
  adopt(recorder: SubscriptionRecorder<unknown>): void;
}

/** Handlers a recorder passes to `subscribe`. */
export interface RecorderHandlers<T> {
  onStarted(): void;
  onData(value: T): void;
  onError(error: TrpcError): void;
  onComplete(): void;
}

/** Everything one subscription delivered, in arrival order. */
export class SubscriptionRecorder<T> {
  readonly values: T[] = [];
  readonly errors: TrpcError[] = [];
  started = false;
  completed = false;
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(
    readonly what: string,
    subscribe: (handlers: RecorderHandlers<T>) => { unsubscribe(): void },
  ) {
    const subscription = subscribe({
      onStarted: () => {
        this.started = true;
      },
      onData: (value) => {
        if (!this.stopped) this.values.push(value);
      },
      onError: (error) => {
        this.errors.push(error);
      },
      onComplete: () => {
        this.completed = true;
      },
    });
    this.unsubscribe = () => subscription.unsubscribe();
  }

  /** Unsubscribes; nothing is recorded after this. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe();
  }

  async waitUntil<R>(what: string, probe: () => R | undefined | false, options: WaitOptions = {}): Promise<R> {
    return waitFor(`${this.what}: ${what}`, probe, { detail: () => this.describe(), ...options });
  }

  /** Resolves once the server acknowledged the subscription (WebSocket: after the procedure began listening). */
  async waitForStart(): Promise<void> {
    await this.waitUntil("subscription started", () => this.started || this.errors.length > 0);
    expect(this.errors, `${this.what}: errors before start`).toEqual([]);
  }

  /** Resolves with the first error the subscription reported. */
  async waitForError(): Promise<TrpcError> {
    return this.waitUntil("an error", () => this.errors[0]);
  }

  describe(): string {
    const tail = this.values.slice(-3).map((value) => JSON.stringify(value).slice(0, 300));
    return `${this.what}: ${this.values.length} values, started=${this.started}, completed=${this.completed}, errors=${this.errors.map((error) => `${error.data?.code ?? "?"}: ${error.message}`).join("; ")}\n  last: ${tail.join("\n        ")}`;
  }
}

/** An `events.watch` recording, with the job-stream helpers the suites need. */
export class JobEventRecorder extends SubscriptionRecorder<TrackedEvent> {
  get events(): readonly TrackedEvent[] {
    return this.values;
  }

  of(jobId: string): TrackedEvent[] {
    return this.values.filter((event) => event.data.jobId === jobId);
  }

  /** Waits for the terminal event of `jobId` (completed, failed or cancelled). */
  async waitForTerminal(jobId: string, options: WaitOptions = {}): Promise<TrackedEvent> {
    return this.waitUntil(`terminal event of ${jobId}`, () => this.of(jobId).find((event) => TERMINAL_KINDS.has(eventKind(event.data))), { timeoutMs: 120_000, ...options });
  }

  async waitForCount(count: number, options: WaitOptions = {}): Promise<readonly TrackedEvent[]> {
    return this.waitUntil(`${count} events`, () => this.values.length >= count && this.values, options);
  }
}

/**
 * Opens clients against the gateway `baseUrl()` names at the time of the
 * call (it changes when a test restarts the gateway) and closes every one
 * of them after each test.
 */
export class TrpcClients {
  private readonly open: Array<() => Promise<void>> = [];

  constructor(private readonly baseUrl: () => string) {}

  connect(transport: Transport, baseUrl = this.baseUrl()): Connection {
    return transport === "ws" ? this.ws(baseUrl) : this.http(baseUrl);
  }

  /** A client over one WebSocket to `/trpc` (Node 20 has no global WebSocket: `ws` stands in). */
  ws(baseUrl = this.baseUrl()): Connection {
    const wsClient = createWSClient({
      url: `${baseUrl.replace(/^http/, "ws")}/trpc`,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      retryDelayMs: () => 200,
    });
    const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
    // Closing the socket ends every subscription on it.
    return this.track({ transport: "ws", client, close: () => wsClient.close(), adopt: () => undefined });
  }

  /** A client over HTTP: batched queries and mutations, SSE subscriptions. */
  http(baseUrl = this.baseUrl()): Connection {
    const subscriptions = new Set<SubscriptionRecorder<unknown>>();
    const url = `${baseUrl}/trpc`;
    const client = createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === "subscription",
          true: httpSubscriptionLink({ url, EventSource }),
          false: httpBatchLink({ url }),
        }),
      ],
    });
    return this.track({
      transport: "http",
      client,
      close: async () => {
        for (const recorder of subscriptions) recorder.stop();
        subscriptions.clear();
      },
      adopt: (recorder) => subscriptions.add(recorder),
    });
  }

  watchEvents(connection: Connection, input: WatchInput, what = `events.watch(${JSON.stringify(input)}) over ${connection.transport}`): JobEventRecorder {
    const recorder = new JobEventRecorder(what, (handlers) => connection.client.events.watch.subscribe(input, handlers));
    this.own(connection, recorder);
    return recorder;
  }

  watchStats(connection: Connection, input: StatsWatchInput): SubscriptionRecorder<StatsTick> {
    const recorder = new SubscriptionRecorder<StatsTick>(`stats.watch over ${connection.transport}`, (handlers) => connection.client.stats.watch.subscribe(input, handlers));
    this.own(connection, recorder);
    return recorder;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((close) => close()));
  }

  private track(connection: Connection): Connection {
    this.open.push(() => connection.close());
    return connection;
  }

  private own(connection: Connection, recorder: SubscriptionRecorder<unknown>): void {
    connection.adopt(recorder);
    this.open.push(async () => recorder.stop());
  }
}

/** Clients for one test file, closed after every test. */
export function useTrpcClients(baseUrl: () => string): TrpcClients {
  const clients = new TrpcClients(baseUrl);
  afterEach(async () => {
    await clients.closeAll();
  });
  return clients;
}

/** Resolves with the TRPCClientError `call` rejects with (failing if it resolves or throws anything else). */
export async function trpcError(call: Promise<unknown>): Promise<TrpcError> {
  const outcome = await call.then(
    (value) => ({ resolved: value }),
    (error: unknown) => ({ error }),
  );
  if ("resolved" in outcome) throw new Error(`expected a tRPC error, got ${JSON.stringify(outcome.resolved).slice(0, 300)}`);
  expect(outcome.error).toBeInstanceOf(TRPCClientError);
  return outcome.error as TrpcError;
}

/**
 * `stats.overview`'s cursor — the gateway's current position in every
 * scraper's log (`address|offset`, checked against the scrapers the
 * overview lists): a subscription given it as `lastEventId`
 * replays everything applied after this instant — so a per-job watch opened
 * after `jobs.start` still sees the job from its first event.
 */
export async function cursorNow(client: Client): Promise<string> {
  const { scrapers, cursor } = await client.stats.overview.query();
  expect(scrapers.length, "the gateway knows its scrapers").toBeGreaterThan(0);
  expect(cursor).toBe(scrapers.map((scraper) => `${scraper.address}|${scraper.last_offset}`).join(","));
  return cursor;
}

/** The JobEvent kinds (`started`, `itemScraped`, …) as their JSON names, from the generated schema. */
export const EVENT_KINDS: readonly string[] = JobEventSchema.oneofs.flatMap((oneof) => oneof.fields.map((field) => field.jsonName));

export const TERMINAL_KINDS: ReadonlySet<string> = new Set(["completed", "failed", "cancelled"]);

/** The kind of an event: the one oneof member its JSON carries. */
export function eventKind(event: JobEventJson): string {
  const kinds = EVENT_KINDS.filter((kind) => kind in event);
  expect(kinds, `one kind in ${JSON.stringify(event).slice(0, 200)}`).toHaveLength(1);
  return kinds[0] ?? "";
}

export function kindsOf(events: readonly TrackedEvent[]): string[] {
  return events.map((event) => eventKind(event.data));
}

export function ofKind(events: readonly TrackedEvent[], kind: string): TrackedEvent[] {
  return events.filter((event) => kind in event.data);
}

/**
 * A whole job stream as one subscriber received it: only `jobId`'s events,
 * seq 1..N without a gap or repeat, offsets rising, each id naming a cursor
 * at its own event, one terminal event and it is the last.
 */
export function expectWholeJobStream(events: readonly TrackedEvent[], jobId: string, terminal = "completed"): void {
  expect(
    events.filter((event) => event.data.jobId !== jobId).map((event) => event.data.jobId),
    "events of other jobs",
  ).toEqual([]);
  expect(
    events.map((event) => Number(event.data.seq)),
    "seq runs 1..N with no gap or repeat",
  ).toEqual(events.map((_, index) => index + 1));
  const offsets = events.map((event) => BigInt(event.data.offset ?? "0"));
  expect(
    offsets.every((offset, index) => index === 0 || offset > (offsets[index - 1] ?? 0n)),
    "offsets rise",
  ).toBe(true);
  expect(
    events.filter((event) => !event.id.split(",").some((part) => part.endsWith(`|${event.data.offset}`))).map((event) => event.id),
    "each id is a cursor at its event's offset",
  ).toEqual([]);
  const kinds = kindsOf(events);
  expect(kinds[0], "the first event").toBe("started");
  expect(
    kinds.filter((kind) => TERMINAL_KINDS.has(kind)),
    "exactly one terminal event",
  ).toEqual([terminal]);
  expect(kinds.at(-1), "the terminal event is the last").toBe(terminal);
}

/** Protobuf JSON enum name of a truth error kind. */
export function errorKindName(kind: string): string {
  return `PAGE_ERROR_KIND_${kind}`;
}

/**
 * The crawl's events against the truth: one itemScraped per successful
 * page (each truth item exactly once), one pageFailed per failed page with
 * the truth's error kind, and the terminal counters equal to the truth's.
 */
export function expectEventsMatchTruth(events: readonly TrackedEvent[], truth: CrawlTruth): void {
  const scraped = ofKind(events, "itemScraped").map((event) => event.data.itemScraped?.item);
  const problems: string[] = [];
  const seen = new Set<unknown>();
  for (const item of scraped) {
    const expected = truth.itemsById.get(item?.id ?? "");
    if (expected === undefined) problems.push(`itemScraped ${item?.id} (${item?.url}) is no page of the crawl`);
    else if (seen.has(expected)) problems.push(`second itemScraped for ${expected.requestedUrl}`);
    else if (!expected.urls.includes(item?.url ?? "")) problems.push(`itemScraped ${item?.id}: url ${item?.url} is not one of ${expected.urls.join(", ")}`);
    seen.add(expected);
  }
  expect(problems, "itemScraped events vs truth").toEqual([]);
  // Before counting, name the pages that should have succeeded and did not, with what the crawler said about them.
  const failures = new Map(ofKind(events, "pageFailed").map((event) => [event.data.pageFailed?.url, event.data.pageFailed]));
  const missing = [...new Set(truth.itemsById.values())]
    .filter((item) => !seen.has(item))
    .map((item) => {
      const failure = item.urls.map((url) => failures.get(url)).find((found) => found !== undefined);
      return `${item.requestedUrl}: ${failure === undefined ? "no event" : `pageFailed ${failure.errorKind} ${failure.message ?? ""}`}`;
    });
  expect(missing, "successful pages of the truth without an itemScraped").toEqual([]);
  expect(scraped, "one itemScraped per successful page").toHaveLength(truth.successCount);

  const failed = ofKind(events, "pageFailed").map((event) => event.data.pageFailed);
  const expectedFailures = truth.pages.filter((page) => !page.outcome.ok);
  const describeFailure = (url: string | undefined, kind: string | undefined): string => `${url} ${kind}`;
  expect(
    failed.map((page) => describeFailure(page?.url, page?.errorKind)).sort(),
    "one pageFailed per failed page, with the truth's error kind",
  ).toEqual(expectedFailures.map((page) => describeFailure(page.url, page.outcome.ok ? undefined : errorKindName(page.outcome.kind))).sort());

  const terminal = events.at(-1)?.data;
  const counters = terminal?.completed?.counters ?? terminal?.failed?.counters ?? terminal?.cancelled?.counters;
  // Protobuf JSON leaves zero counters out.
  expect(
    { pagesDone: counters?.pagesDone ?? 0, pagesTotal: counters?.pagesTotal ?? 0, successCount: counters?.successCount ?? 0, errorCount: counters?.errorCount ?? 0 },
    "terminal event counters",
  ).toEqual({ pagesDone: truth.pagesDone, pagesTotal: truth.pagesTotal, successCount: truth.successCount, errorCount: truth.errorCount });
}
