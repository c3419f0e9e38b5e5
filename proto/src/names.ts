/**
 * The lower-case names Trawl's JSON edges use for proto enums, in one place so
 * the scraper, the gateway and every dialect spell them the same way.
 */
import { JobStatus, Platform } from "./gen/trawl/v1/scraper_pb.js";

export const PLATFORM_NAMES = ["web", "twitter", "youtube", "reddit"] as const;
export type PlatformName = (typeof PLATFORM_NAMES)[number];

const platformByName: Record<PlatformName, Platform> = {
  web: Platform.WEB,
  twitter: Platform.TWITTER,
  youtube: Platform.YOUTUBE,
  reddit: Platform.REDDIT,
};

/** "web" | "twitter" | "youtube" | "reddit"; an unspecified platform reads as "web". */
export function platformName(platform: Platform): PlatformName {
  switch (platform) {
    case Platform.TWITTER:
      return "twitter";
    case Platform.YOUTUBE:
      return "youtube";
    case Platform.REDDIT:
      return "reddit";
    default:
      return "web";
  }
}

export function platformFromName(name: PlatformName): Platform {
  return platformByName[name];
}

export function isPlatformName(value: string): value is PlatformName {
  return (PLATFORM_NAMES as readonly string[]).includes(value);
}

export const JOB_STATUS_NAMES = ["pending", "running", "paused", "completed", "failed", "cancelled"] as const;
export type JobStatusName = (typeof JOB_STATUS_NAMES)[number];

export function jobStatusName(status: JobStatus): JobStatusName {
  switch (status) {
    case JobStatus.RUNNING:
      return "running";
    case JobStatus.PAUSED:
      return "paused";
    case JobStatus.COMPLETED:
      return "completed";
    case JobStatus.FAILED:
      return "failed";
    case JobStatus.CANCELLED:
      return "cancelled";
    default:
      return "pending";
  }
}

/** True once a job can no longer change: completed, failed or cancelled. */
export function isTerminal(status: JobStatus): boolean {
  return status === JobStatus.COMPLETED || status === JobStatus.FAILED || status === JobStatus.CANCELLED;
}
