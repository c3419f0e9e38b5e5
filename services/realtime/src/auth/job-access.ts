/**
 * Job visibility across tenants, for the edges that act on one job by id
 * (get, items, export, pause, resume, cancel). A job of another tenant is
 * answered exactly like a job that does not exist, so ids do not leak.
 */
import { DEFAULT_TENANT } from "@trawl/proto";
import { notFound } from "../http/errors.js";
import type { ScraperPool } from "../scrapers/scraper-pool.js";
import type { LiveState } from "../state/live-state.js";
import type { TenantScope } from "./scope.js";

/** Resolves when `jobId` is visible in `scope`; otherwise rejects with the 404 HttpError naming `field`. */
export async function assertJobVisible(pool: ScraperPool, state: LiveState, jobId: string, scope: TenantScope, field = "id"): Promise<void> {
  if (scope === undefined) return;
  const known = state.jobs.get(jobId);
  if (known !== undefined && known.tenant !== "") {
    if (known.tenant === scope) return;
    throw notFound(field, `Unknown job: ${jobId}`);
  }
  const found = await pool.getJob(jobId);
  if (found === undefined || (found.job.tenant || DEFAULT_TENANT) !== scope) throw notFound(field, `Unknown job: ${jobId}`);
}
