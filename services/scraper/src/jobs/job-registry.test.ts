import { create } from "@bufbuild/protobuf";
import { CrawlSpecSchema, JobStatus, Platform } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { JobRegistry } from "./job-registry.js";
import { JobState } from "./job-state.js";

/** Six jobs j0…j5; the odd ones completed, the even ones running. */
function registry(): JobRegistry {
  const reg = new JobRegistry();
  for (let i = 0; i < 6; i++) {
    const job = new JobState(`j${i}`, i, i < 3 ? Platform.WEB : Platform.REDDIT, create(CrawlSpecSchema, { urls: ["http://a.test/"] }), ["http://a.test/"]);
    job.status = i % 2 ? JobStatus.COMPLETED : JobStatus.RUNNING;
    reg.add(job);
  }
  return reg;
}

describe("JobRegistry.list", () => {
  it.each<[string, JobStatus[], number, number | undefined, string[], number | undefined]>([
    ["newest first", [], 10, undefined, ["j5", "j4", "j3", "j2", "j1", "j0"], undefined],
    ["a first page", [], 2, undefined, ["j5", "j4"], 4],
    ["a middle page", [], 2, 4, ["j3", "j2"], 2],
    ["the last page, without a token", [], 2, 2, ["j1", "j0"], undefined],
    ["by status", [JobStatus.COMPLETED], 10, undefined, ["j5", "j3", "j1"], undefined],
    ["by status, paged", [JobStatus.RUNNING], 2, undefined, ["j4", "j2"], 2],
    ["no token when nothing further matches", [JobStatus.RUNNING], 2, 2, ["j0"], undefined],
    ["by several statuses", [JobStatus.RUNNING, JobStatus.COMPLETED], 3, undefined, ["j5", "j4", "j3"], 3],
    ["none matching", [JobStatus.CANCELLED], 10, undefined, [], undefined],
  ])("lists %s", (_name, statuses, pageSize, beforeOrdinal, ids, next) => {
    const page = registry().list({ statuses, pageSize, beforeOrdinal });
    expect(page.jobs.map((j) => j.id)).toEqual(ids);
    expect(page.nextBeforeOrdinal).toBe(next);
  });

  it("counts active jobs and keeps stats per platform that has had a job", () => {
    const reg = registry();
    reg.recordPage(Platform.REDDIT, true, 10);
    reg.recordPage(Platform.REDDIT, false, 5);
    expect(reg.activeCount()).toBe(3);
    expect(reg.platformStats().map((s) => [s.platform, s.pages, s.successCount, s.errorCount, s.totalItems, s.processingMsTotal])).toEqual([
      [Platform.WEB, 0n, 0n, 0n, 0n, 0n],
      [Platform.REDDIT, 2n, 1n, 1n, 1n, 15n],
    ]);
  });
});
