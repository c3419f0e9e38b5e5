/**
 * Statistics over tRPC: platform totals as a query and a periodic
 * subscription (what `/ws/stats` sends), and the live overview a dashboard
 * opens with (what seed 000's `initial_state` carries, plus previews).
 */
import { isTerminal, itemJson, platformName } from "@trawl/proto";
import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { isoTime } from "../state/time.js";
import { jobView, platformStatsView, recentPreviews } from "../state/views.js";
import type { LiveState } from "../state/live-state.js";
import { eventJson } from "./event-bus.js";
import { currentCursor } from "./cursor.js";
import { inScope, type TenantScope } from "../auth/scope.js";
import { readProcedure, takeSubscriptionSlot } from "./init.js";

function statsOf(state: LiveState, scope: TenantScope) {
  let active = 0;
  for (const id of state.active) if (inScope(state.jobs.get(id)?.tenant ?? "", scope)) active++;
  return { platform_stats: platformStatsView(state, scope), active_jobs_count: active };
}

/** Waits `ms`, or less when `signal` aborts; resolves true when the wait ran out. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve(false);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    timer.unref();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export const statsRouter = {
  platform: readProcedure.query(({ ctx }) => statsOf(ctx.state, ctx.scope)),

  /**
   * Everything live right now: active jobs (with their first URL and the
   * item they last reported), platform totals, the recent item previews and
   * failures (oldest first), each scraper's link, and `cursor`: subscribing to
   * `events.watch` with it as `lastEventId` continues exactly where this
   * overview stands, so no event falls between the two.
   */
  overview: readProcedure.query(({ ctx }) => {
    const now = ctx.now();
    const activeJobs = [];
    for (const id of ctx.state.active) {
      const job = ctx.state.jobs.get(id);
      if (job === undefined || isTerminal(job.status) || !inScope(job.tenant, ctx.scope)) continue;
      activeJobs.push({ ...jobView(job, now), url: job.url, current_item: job.currentItem === undefined ? null : itemJson(job.currentItem) });
    }
    return {
      at: isoTime(now),
      active_jobs: activeJobs,
      platform_stats: platformStatsView(ctx.state, ctx.scope),
      recent_previews: recentPreviews(ctx.state, ctx.scope).map((preview) => ({
        job_id: preview.jobId,
        platform: platformName(preview.platform),
        item: itemJson(preview.item),
        at: isoTime(preview.atMs),
      })),
      /** The most recent failures (pageFailed, taskFailed, failed events), oldest first. */
      recent_errors: ctx.state.errors.filter((event) => inScope(ctx.state.jobs.get(event.jobId)?.tenant ?? "", ctx.scope)).map(eventJson),
      scrapers: ctx.pool.health(),
      /** Pass as `lastEventId` to `events.watch` to receive every event after this overview, none twice. */
      cursor: currentCursor(ctx.state),
    };
  }),

  watch: readProcedure
    .input(
      z.object({
        intervalSeconds: z.number("intervalSeconds must be a number from 1 to 60").min(1, "intervalSeconds must be a number from 1 to 60").max(60, "intervalSeconds must be a number from 1 to 60").default(5),
      }),
    )
    .subscription(async function* ({ ctx, input, signal }) {
      const release = takeSubscriptionSlot(ctx);
      try {
        do yield statsOf(ctx.state, ctx.scope);
        while (await sleep(input.intervalSeconds * 1000, signal));
      } finally {
        release();
      }
    }),
} satisfies TRPCRouterRecord;
