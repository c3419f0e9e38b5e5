/** The gateway's tRPC API. Clients import `type AppRouter` only. */
import { eventsRouter } from "./events.js";
import { router } from "./init.js";
import { jobsRouter } from "./jobs.js";
import { statsRouter } from "./stats.js";

export const appRouter = router({
  jobs: jobsRouter,
  stats: statsRouter,
  events: eventsRouter,
});

export type AppRouter = typeof appRouter;
