/**
 * The gateway's JSON shapes as the dashboard receives them, derived from
 * the router's type so they can never drift from the server.
 */
import type { Api } from "./trpc.js";

type QueryOutput<P> = P extends { query: (...args: never[]) => Promise<infer O> } ? O : never;
type MutationOutput<P> = P extends { mutate: (...args: never[]) => Promise<infer O> } ? O : never;
/** What a subscription yields (its last overload returns an async iterator). */
type SubscriptionYield<P> = P extends { subscribe: (...args: never[]) => AsyncIterableIterator<infer Y> } ? Y : never;

export type JobJson = QueryOutput<Api["jobs"]["get"]>;
export type JobStatusName = JobJson["status"];
export type PlatformName = JobJson["platform"];
export type JobsPage = QueryOutput<Api["jobs"]["list"]>;
export type JobsListInput = Parameters<Api["jobs"]["list"]["query"]>[0];
export type ItemsPage = QueryOutput<Api["jobs"]["items"]>;
export type StartResult = MutationOutput<Api["jobs"]["start"]>;
export type ScanResult = MutationOutput<Api["jobs"]["scan"]>;
export type StartInput = Parameters<Api["jobs"]["start"]["mutate"]>[0];

export type Overview = QueryOutput<Api["stats"]["overview"]>;
export type OverviewJob = Overview["active_jobs"][number];
export type RecentPreview = Overview["recent_previews"][number];
/** An item as the gateway's JSON edges give it (snake_case, numbers). */
export type ItemRecord = RecentPreview["item"];
export type PlatformStats = NonNullable<Overview["platform_stats"][string]>;
export type ScraperHealth = Overview["scrapers"][number];

export type StatsTick = SubscriptionYield<Api["stats"]["watch"]>;
/** One `events.watch` message: the tracked id and the protobuf JSON event. */
export type TrackedEvent = SubscriptionYield<Api["events"]["watch"]>;
export type JobEventJson = TrackedEvent["data"];
export type ItemJson = NonNullable<NonNullable<JobEventJson["itemScraped"]>["item"]>;
export type CountersJson = NonNullable<NonNullable<JobEventJson["progress"]>["counters"]>;
export type StartedJobJson = NonNullable<NonNullable<JobEventJson["started"]>["job"]>;
export type PageFailedJson = NonNullable<JobEventJson["pageFailed"]>;

export const PLATFORMS = ["web", "twitter", "youtube", "reddit"] as const satisfies readonly PlatformName[];
export const JOB_STATUSES = ["pending", "running", "paused", "completed", "failed", "cancelled"] as const satisfies readonly JobStatusName[];
