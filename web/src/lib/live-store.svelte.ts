/**
 * The dashboard's live state: the overview snapshot (`stats.overview`)
 * reduced together with every job event (`events.watch`, all jobs) and the
 * periodic platform totals (`stats.watch`), plus the connection's state and
 * a once-a-second clock that drives elapsed times and the throughput series.
 *
 * The first subscription starts exactly where the overview snapshot ends:
 * its `lastEventId` is the overview's `cursor`, so the gateway replays
 * whatever happened between the two calls.
 * Reconnecting is the tRPC client's: it resubscribes `events.watch` with
 * the last tracked id, and the gateway replays exactly the missed events.
 * On every reconnect the overview is queried again as well.
 */
import type { JobEventJson, JobJson, Overview, PlatformStats, ScraperHealth } from "./api-types.js";
import type { JobCard } from "./job-model.js";
import { applyEvent, applyJob, applyOverview, dismiss, emptyLiveData, type LiveData } from "./live-reducer.js";
import { describeError } from "./errors.js";
import { parseTime } from "./job-model.js";
import { ThroughputSampler, type Series } from "./throughput.js";
import type { GatewayConnection } from "./trpc.js";

export type ConnectionWord = "connected" | "connecting" | "disconnected";
export type ControlAction = "pause" | "resume" | "cancel";

/** What a subscription call returns. */
interface Unsubscribable {
  unsubscribe(): void;
}

/** Delay before subscribing again after the server ended a subscription with an error. */
const RESUBSCRIBE_MS = [1000, 2000, 5000, 10000] as const;

export class LiveStore {
  data: LiveData = $state(emptyLiveData());
  platformStats: Record<string, PlatformStats> = $state({});
  activeJobsCount = $state(0);
  scrapers: ScraperHealth[] = $state([]);
  connection: ConnectionWord = $state("connecting");
  /** Why the socket is down (while it retries). */
  connectionError: string | null = $state(null);
  /** What last went wrong fetching live data (the overview, a job), until the overview loads again. */
  problem: string | null = $state(null);
  /** The gateway's clock, advanced once a second. */
  nowMs = $state(Date.now());
  throughput: Series = $state.raw([[], []]);

  /** Cards on the overview, newest first. */
  readonly pinned: JobCard[] = $derived(this.data.pinned.flatMap((id) => this.data.jobs[id] ?? []));

  private clockOffsetMs = 0;
  private everConnected = false;
  private subscribed = false;
  private stopped = false;
  private readonly sampler = new ThroughputSampler();
  /** Events of jobs whose card is being fetched, in arrival order. */
  private readonly waiting = new Map<string, JobEventJson[]>();
  private lastEventId: string | null = null;
  private eventsSubscription: Unsubscribable | undefined;
  private statsSubscription: Unsubscribable | undefined;
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private statsRetryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly gateway: GatewayConnection) {}

  /** Subscribes and starts the clock; returns what stops both. */
  start(): () => void {
    const connection = this.gateway.socket.connectionState.subscribe({
      next: (state) => {
        if (state.state === "pending") {
          this.connection = "connected";
          this.connectionError = null;
          this.everConnected = true;
          if (this.subscribed) {
            void this.refreshOverview();
          } else {
            this.subscribed = true;
            void this.refreshOverview().then((cursor) => {
              if (this.stopped) return;
              this.lastEventId = cursor;
              this.subscribeEvents();
            });
          }
        } else if (state.state === "connecting") {
          this.connection = state.error === null && !this.everConnected ? "connecting" : "disconnected";
          this.connectionError = state.error?.message ?? null;
        } else {
          this.connection = "disconnected";
        }
      },
    });
    this.subscribeStats();
    const clock = setInterval(() => this.tick(), 1000);
    return () => {
      this.stopped = true;
      clearInterval(clock);
      clearTimeout(this.retryTimer);
      clearTimeout(this.statsRetryTimer);
      connection.unsubscribe();
      this.eventsSubscription?.unsubscribe();
      this.statsSubscription?.unsubscribe();
    };
  }

  get api(): GatewayConnection["api"] {
    return this.gateway.api;
  }

  private subscribeStats(): void {
    this.statsSubscription = this.gateway.api.stats.watch.subscribe(
      { intervalSeconds: 2 },
      {
        onData: (tick) => {
          this.platformStats = tick.platform_stats;
          this.activeJobsCount = tick.active_jobs_count;
        },
        onError: (error) => {
          this.problem = `platform totals: ${describeError(error).message}`;
          this.statsRetryTimer = setTimeout(() => this.subscribeStats(), RESUBSCRIBE_MS[1]);
        },
      },
    );
  }

  private subscribeEvents(): void {
    this.eventsSubscription = this.gateway.api.events.watch.subscribe(this.lastEventId === null ? {} : { lastEventId: this.lastEventId }, {
      onData: ({ id, data }) => {
        this.lastEventId = id;
        this.failures = 0;
        this.onEvent(data);
      },
      onError: (error) => {
        // The gateway ended the stream (a scraper's log could not be replayed, say):
        // subscribe again from the last event, or from now when that id is refused.
        if (error.data?.code === "BAD_REQUEST") this.lastEventId = null;
        const delay = RESUBSCRIBE_MS[Math.min(this.failures, RESUBSCRIBE_MS.length - 1)] ?? 10000;
        this.failures += 1;
        this.retryTimer = setTimeout(() => {
          this.subscribeEvents();
          void this.refreshOverview();
        }, delay);
      },
    });
  }

  private onEvent(event: JobEventJson): void {
    const jobId = event.jobId ?? "";
    const queued = this.waiting.get(jobId);
    if (queued !== undefined) {
      queued.push(event);
      return;
    }
    if (event.started !== undefined) this.sampler.track(jobId, 0);
    if (applyEvent(this.data, event, this.nowMs) === "unknown-job") {
      this.waiting.set(jobId, [event]);
      void this.fetchUnknownJob(jobId);
    }
  }

  /** A job we got events for without knowing it: fetch it, then apply what arrived meanwhile. */
  private async fetchUnknownJob(id: string): Promise<void> {
    try {
      const job = await this.gateway.api.jobs.get.query({ id });
      applyJob(this.data, job, true);
    } catch (error) {
      this.problem = `job ${id}: ${describeError(error).message}`;
    }
    const queued = this.waiting.get(id) ?? [];
    this.waiting.delete(id);
    if (this.data.jobs[id] === undefined) return;
    for (const event of queued) applyEvent(this.data, event, this.nowMs);
  }

  /**
   * Queries the overview and merges it in; returns the events cursor the
   * snapshot was taken at (null when the query failed).
   */
  async refreshOverview(): Promise<string | null> {
    let overview: Overview;
    try {
      overview = await this.gateway.api.stats.overview.query();
    } catch (error) {
      this.problem = `overview: ${describeError(error).message}`;
      return null;
    }
    this.problem = null;
    const serverMs = parseTime(overview.at);
    if (serverMs !== null) this.clockOffsetMs = serverMs - Date.now();
    applyOverview(this.data, overview);
    this.platformStats = overview.platform_stats;
    this.scrapers = overview.scrapers;
    // The gateway's position in every scraper's log as of this overview (empty while it watches none).
    return overview.cursor === "" ? null : overview.cursor;
  }

  private tick(): void {
    this.nowMs = Date.now() + this.clockOffsetMs;
    this.sampler.sample(this.nowMs, Object.values(this.data.jobs));
    this.throughput = this.sampler.series();
  }

  /** Fetches a job (for its page) and merges it into the live data; throws what the gateway answered. */
  async loadJob(id: string): Promise<JobJson> {
    const job = await this.gateway.api.jobs.get.query({ id });
    applyJob(this.data, job, false);
    return job;
  }

  /** Pauses, resumes or cancels a job; throws what the gateway answered. */
  async control(action: ControlAction, id: string): Promise<void> {
    let job: JobJson;
    if (action === "pause") job = await this.gateway.api.jobs.pause.mutate({ id });
    else if (action === "resume") job = await this.gateway.api.jobs.resume.mutate({ id });
    else job = await this.gateway.api.jobs.cancel.mutate({ id, reason: "cancelled from the dashboard" });
    applyJob(this.data, job, false);
  }

  dismiss(id: string): void {
    dismiss(this.data, id);
  }
}
