/** Platform statistics over tRPC: a query and a periodic subscription (what `/ws/stats` sends). */
import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { platformStatsView } from "../state/views.js";
import type { LiveState } from "../state/live-state.js";
import { publicProcedure } from "./init.js";

function statsOf(state: LiveState) {
  return { platform_stats: platformStatsView(state), active_jobs_count: state.active.size };
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
  platform: publicProcedure.query(({ ctx }) => statsOf(ctx.state)),

  watch: publicProcedure
    .input(
      z.object({
        intervalSeconds: z.number("intervalSeconds must be a number from 1 to 60").min(1, "intervalSeconds must be a number from 1 to 60").max(60, "intervalSeconds must be a number from 1 to 60").default(5),
      }),
    )
    .subscription(async function* ({ ctx, input, signal }) {
      do yield statsOf(ctx.state);
      while (await sleep(input.intervalSeconds * 1000, signal));
    }),
} satisfies TRPCRouterRecord;
