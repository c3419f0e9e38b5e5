/** Jobs over tRPC: the same calls and JSON shapes as the REST `/api/jobs` and `/api/scrape|scan`. */
import { itemJson, JOB_STATUS_NAMES, PLATFORM_NAMES } from "@trawl/proto";
import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { jobJson } from "../http/job-json.js";
import { isoInstant, LIST_LIMIT_MESSAGE, listJobsPage, PLATFORMS_MESSAGE, STATUSES_MESSAGE } from "../http/job-list-query.js";
import { fieldOfScraperError, scanRequestSchema, scrapeRequestSchema, startUrls, toScanJobRequest, toStartJobRequest } from "../http/scrape-request.js";
import { DEFAULT_TENANT } from "@trawl/proto";
import { assertJobVisible } from "../auth/job-access.js";
import { inScope } from "../auth/scope.js";
import type { TenantScope } from "../auth/scope.js";
import { controlProcedure, notFoundError, readProcedure, toTrpcError, type TrpcContext } from "./init.js";


/** Rejects with NOT_FOUND (naming `id`) unless the job is the caller's tenant's. */
async function visible(ctx: TrpcContext & { scope: TenantScope }, id: string): Promise<void> {
  await assertJobVisible(ctx.pool, ctx.state, id, ctx.scope).catch((error: unknown) => {
    throw toTrpcError(error, { field: "id" });
  });
}

/** Rejects with TOO_MANY_REQUESTS (naming `tenant`) when the caller's tenant has its share of active jobs. */
function canStart(ctx: TrpcContext & { principal: { tenant: string } }): void {
  try {
    ctx.access?.assertCanStart(ctx.state, ctx.principal.tenant);
  } catch (error) {
    throw toTrpcError(error);
  }
}

const jobId = z.string({ error: "id must be a string" }).min(1, "id is required").max(200, "id is too long");

export const jobsRouter = {
  get: readProcedure.input(z.object({ id: jobId })).query(async ({ ctx, input }) => {
    const found = await ctx.pool.getJob(input.id).catch((error: unknown) => {
      throw toTrpcError(error, { field: "id" });
    });
    if (found === undefined || !inScope(found.job.tenant || DEFAULT_TENANT, ctx.scope)) throw notFoundError("id", `Unknown job: ${input.id}`);
    return jobJson(found.job, found.address, ctx.now());
  }),

  /** Newest first; `cursor` is the previous page's `next_cursor` (null on the last page). */
  list: readProcedure
    .input(
      z.object({
        statuses: z.array(z.enum(JOB_STATUS_NAMES, { error: `statuses ${STATUSES_MESSAGE}` })).default([]),
        platforms: z.array(z.enum(PLATFORM_NAMES, { error: `platforms ${PLATFORMS_MESSAGE}` })).default([]),
        createdAfter: isoInstant("createdAfter"),
        createdBefore: isoInstant("createdBefore"),
        limit: z.number(LIST_LIMIT_MESSAGE).int(LIST_LIMIT_MESSAGE).min(1, LIST_LIMIT_MESSAGE).max(500, LIST_LIMIT_MESSAGE).default(50),
        cursor: z.string().max(4000, "cursor is too long").nullish(),
      }),
    )
    .query(({ ctx, input }) =>
      listJobsPage(ctx.pool, { ...input, cursor: input.cursor ?? undefined, tenant: ctx.scope }, ctx.now()).catch((error: unknown) => {
        throw toTrpcError(error);
      }),
    ),

  start: controlProcedure.input(scrapeRequestSchema).mutation(async ({ ctx, input }) => {
    canStart(ctx);
    const started = await ctx.pool.startJob({ ...toStartJobRequest(input), tenant: ctx.principal.tenant }).catch((error: unknown) => {
      throw toTrpcError(error, { invalidField: fieldOfScraperError });
    });
    const urls = startUrls(input);
    return {
      job_id: started.response.job?.id ?? "",
      status: "started" as const,
      url: urls[0],
      ...(input.urls === undefined ? {} : { urls }),
      estimated_time_seconds: started.response.estimatedTimeSeconds,
    };
  }),

  scan: controlProcedure.input(scanRequestSchema).mutation(async ({ ctx, input }) => {
    canStart(ctx);
    const started = await ctx.pool.startJob({ ...toScanJobRequest(input), tenant: ctx.principal.tenant }).catch((error: unknown) => {
      throw toTrpcError(error, { field: "path", invalidField: fieldOfScraperError });
    });
    return { job_id: started.response.job?.id ?? "", status: "started" as const, path: input.path, estimated_time_seconds: started.response.estimatedTimeSeconds };
  }),

  cancel: controlProcedure
    .input(z.object({ id: jobId, reason: z.string({ error: "reason must be a string" }).max(500, "reason is too long").optional() }))
    .mutation(async ({ ctx, input }) => {
      await visible(ctx, input.id);
      const cancelled = await ctx.pool.cancelJob(input.id, input.reason ?? "").catch((error: unknown) => {
        throw toTrpcError(error, { field: "id" });
      });
      return jobJson(cancelled.job, cancelled.address, ctx.now());
    }),

  pause: controlProcedure.input(z.object({ id: jobId })).mutation(async ({ ctx, input }) => {
    await visible(ctx, input.id);
    const paused = await ctx.pool.pauseJob(input.id).catch((error: unknown) => {
      throw toTrpcError(error, { field: "id" });
    });
    return jobJson(paused.job, paused.address, ctx.now());
  }),

  resume: controlProcedure.input(z.object({ id: jobId })).mutation(async ({ ctx, input }) => {
    await visible(ctx, input.id);
    const resumed = await ctx.pool.resumeJob(input.id).catch((error: unknown) => {
      throw toTrpcError(error, { field: "id" });
    });
    return jobJson(resumed.job, resumed.address, ctx.now());
  }),

  items: readProcedure
    .input(
      z.object({
        id: jobId,
        pageSize: z.number().int("pageSize must be an integer from 1 to 1000").min(1, "pageSize must be an integer from 1 to 1000").max(1000, "pageSize must be an integer from 1 to 1000").default(50),
        pageToken: z.string().max(200, "pageToken is too long").default(""),
        query: z.string().max(200, "query is too long").default(""),
        embeddings: z.boolean().default(false),
      }),
    )
    .query(async ({ ctx, input }) => {
      await visible(ctx, input.id);
      const page = await ctx.pool.listItems({ jobId: input.id, pageSize: input.pageSize, pageToken: input.pageToken, query: input.query }).catch((error: unknown) => {
        throw toTrpcError(error, { field: "id", invalidField: (details) => (/page_token/i.test(details) ? "pageToken" : "query") });
      });
      return {
        job_id: input.id,
        total: page.total,
        items: page.items.map((item) => itemJson(item, { embedding: input.embeddings })),
        next_page_token: page.nextPageToken === "" ? null : page.nextPageToken,
      };
    }),
} satisfies TRPCRouterRecord;
