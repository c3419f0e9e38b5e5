/**
 * Follows one job to its end over `events.watch`, with `jobs.get` to close
 * the gaps a stream alone leaves:
 *
 * - the job may end before the subscription starts: once the gateway
 *   confirms the subscription (`started`, after it began listening), a
 *   `jobs.get` tells whether the end already happened;
 * - after a reconnect the stream resumes from the last event id and the
 *   gateway replays what was missed (event-stream.ts); each new `started`
 *   triggers a fresh `jobs.get` too;
 * - a slow `jobs.get` every few seconds keeps the clock honest while no
 *   event arrives, and ends the follow even if an end event were lost.
 */
import type { JobEventJson, PlatformName } from "@trawl/proto";
import type { Api, JobJson } from "./client.js";
import { isUnreachable } from "./errors.js";
import { openEventStream } from "./event-stream.js";
import { applyJobEvent, eventKind, isTerminalStatus, TERMINAL_KINDS, terminalKind } from "./job-events.js";
import type { LinkState } from "./progress-bar.js";

export const REFRESH_INTERVAL_MS = 5_000;

export interface FollowOptions {
  readonly api: Api;
  readonly jobId: string;
  /** Aborting stops following (Ctrl-C); the job itself is left alone. */
  readonly signal: AbortSignal;
  /** Event kinds to report through `onEvent` (all when absent); the end is always watched for. */
  readonly types?: readonly string[];
  readonly platforms?: readonly PlatformName[];
  readonly refreshMs?: number;
  readonly now?: () => number;
  /** Each event of the job, in order (only the kinds in `types`). */
  readonly onEvent?: (event: JobEventJson) => void;
  /** The job's state or the link changed. */
  readonly onChange?: () => void;
  /** The gateway confirmed the subscription (again, after a reconnect): events from now on arrive. */
  readonly onSubscribed?: () => void;
}

/** How following ended; an interruption before the job's first look carries no job. */
export type FollowResult = { readonly outcome: "ended"; readonly job: JobJson } | { readonly outcome: "interrupted"; readonly job: JobJson | undefined };

/** What is known about a followed job right now, for a progress display. */
export interface FollowState {
  readonly job: JobJson;
  readonly link: LinkState;
  /** The job's elapsed time, running on between snapshots while it runs. */
  elapsedSeconds(): number;
}

/**
 * Starts following: `state` reflects the job as events arrive; `done`
 * settles when the job ends (with its final `jobs.get` state) or when
 * `signal` aborts. Rejects on a gateway refusal or if the gateway ends the
 * stream.
 */
export function followJob(options: FollowOptions): { readonly state: FollowState; readonly done: Promise<FollowResult> } {
  const { api, jobId, signal } = options;
  const now = options.now ?? Date.now;
  let job: JobJson | undefined;
  let link: LinkState = "connecting";
  let clock = { elapsed: 0, at: now() };

  const state: FollowState = {
    get job(): JobJson {
      if (job === undefined) throw new Error("followJob: no job state yet");
      return job;
    },
    get link() {
      return link;
    },
    elapsedSeconds() {
      if (job === undefined) return 0;
      if (isTerminalStatus(job.status) || job.started_at === null) return job.elapsed_seconds;
      return clock.elapsed + (now() - clock.at) / 1000;
    },
  };

  /** Takes a `jobs.get` answer unless the stream is already further along. */
  const accept = (fetched: JobJson): void => {
    if (job !== undefined && fetched.last_seq < job.last_seq) return;
    job = fetched;
    clock = { elapsed: fetched.elapsed_seconds, at: now() };
  };

  const done = new Promise<FollowResult>((resolve, reject) => {
    let settled = false;
    let unsubscribe: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;

    const cleanup = (): void => {
      settled = true;
      if (timer !== undefined) clearInterval(timer);
      signal.removeEventListener("abort", onAbort);
      unsubscribe?.();
    };
    const succeed = (result: FollowResult): void => {
      if (settled) return;
      cleanup();
      resolve(result);
    };
    const fail = (error: unknown): void => {
      if (settled) return;
      cleanup();
      reject(error);
    };
    const current = (): JobJson => {
      if (job === undefined) throw new Error("followJob: no job state yet");
      return job;
    };
    function onAbort(): void {
      succeed({ outcome: "interrupted", job });
    }

    /** Fetches the job; ends the follow when it has ended. */
    const refresh = async (): Promise<void> => {
      const fetched = await api.jobs.get.query({ id: jobId });
      if (settled) return;
      accept(fetched);
      options.onChange?.();
      if (isTerminalStatus(fetched.status)) succeed({ outcome: "ended", job: fetched });
    };
    /**
     * A refresh that cannot reach the gateway is not fatal: the stream is
     * reconnecting too, and the next refresh (or the end event) decides. A
     * refusal (the job is gone) is.
     */
    const refreshInBackground = (): void => {
      refresh().catch((error: unknown) => {
        if (!isUnreachable(error)) fail(error);
      });
    };

    const types = options.types === undefined ? undefined : [...new Set([...options.types, ...TERMINAL_KINDS])];
    const wanted = (event: JobEventJson): boolean => options.types === undefined || options.types.includes(eventKind(event) ?? "");

    const subscribe = (): void => {
      const stream = openEventStream(
        api,
        { jobId, ...(types === undefined ? {} : { types }), ...(options.platforms === undefined ? {} : { platforms: options.platforms }) },
        {
          onStarted: () => {
            options.onSubscribed?.();
            refreshInBackground();
          },
          onEvent: (data) => {
            if (settled) return;
            job = applyJobEvent(current(), data);
            if (wanted(data)) options.onEvent?.(data);
            options.onChange?.();
            if (terminalKind(data) === undefined) return;
            // The stream said it ended; the job's stored state has the exact final numbers.
            const ended = current();
            api.jobs.get.query({ id: jobId }).then(
              (fetched) => succeed({ outcome: "ended", job: isTerminalStatus(fetched.status) ? fetched : ended }),
              () => succeed({ outcome: "ended", job: ended }),
            );
          },
          onLink: (next) => {
            link = next;
            options.onChange?.();
          },
          onError: fail,
        },
      );
      unsubscribe = () => stream.stop();
    };

    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    api.jobs.get.query({ id: jobId }, { signal }).then((fetched) => {
      if (settled) return;
      accept(fetched);
      options.onChange?.();
      if (isTerminalStatus(fetched.status)) return succeed({ outcome: "ended", job: fetched });
      subscribe();
      timer = setInterval(refreshInBackground, options.refreshMs ?? REFRESH_INTERVAL_MS);
    }, fail);
  });

  return { state, done };
}
