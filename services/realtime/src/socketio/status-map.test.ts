import { JobStatus } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { blockedIsPossible, jobEventFor, seed004Status, wasBlocked, type Seed004JobEvent, type Seed004Status } from "./status-map.js";

describe("seed004Status", () => {
  it.each<[string, JobStatus, boolean, Seed004Status, Seed004JobEvent]>([
    ["unspecified is PENDING", JobStatus.UNSPECIFIED, false, "PENDING", "job:update"],
    ["pending is PENDING", JobStatus.PENDING, false, "PENDING", "job:update"],
    ["running is PROCESSING", JobStatus.RUNNING, false, "PROCESSING", "job:update"],
    ["paused is PROCESSING (the message says paused)", JobStatus.PAUSED, false, "PROCESSING", "job:update"],
    ["completed is DELIVERED", JobStatus.COMPLETED, false, "DELIVERED", "job:completed"],
    ["failed is ABORTED", JobStatus.FAILED, false, "ABORTED", "job:error"],
    ["failed and blocked by robots.txt is BLOCKED", JobStatus.FAILED, true, "BLOCKED", "job:error"],
    ["cancelled is ABORTED", JobStatus.CANCELLED, false, "ABORTED", "job:error"],
    ["the blocked flag only matters for a failed job", JobStatus.COMPLETED, true, "DELIVERED", "job:completed"],
    ["a cancelled job is never BLOCKED", JobStatus.CANCELLED, true, "ABORTED", "job:error"],
  ])("%s", (_name, status, blocked, expected, event) => {
    expect(seed004Status(status, blocked)).toBe(expected);
    expect(jobEventFor(expected)).toBe(event);
  });
});

describe("wasBlocked", () => {
  it.each<[string, JobStatus, number, number, boolean]>([
    ["failed, nothing fetched, robots refusals", JobStatus.FAILED, 0, 2, true],
    ["failed, nothing fetched, no robots refusal (e.g. a duration limit)", JobStatus.FAILED, 0, 0, false],
    ["failed after fetching pages (every start URL answered 404)", JobStatus.FAILED, 3, 1, false],
    ["completed jobs fetched at least one page", JobStatus.COMPLETED, 0, 5, false],
    ["cancelled before fetching", JobStatus.CANCELLED, 0, 1, false],
  ])("%s", (_name, status, pagesDone, robotsSkips, expected) => {
    expect(wasBlocked(status, pagesDone, robotsSkips)).toBe(expected);
  });

  it("only a failed job that fetched nothing needs its robots.txt count", () => {
    expect(blockedIsPossible(JobStatus.FAILED, 0)).toBe(true);
    expect(blockedIsPossible(JobStatus.FAILED, 1)).toBe(false);
    expect(blockedIsPossible(JobStatus.COMPLETED, 0)).toBe(false);
    expect(blockedIsPossible(JobStatus.RUNNING, 0)).toBe(false);
  });
});
