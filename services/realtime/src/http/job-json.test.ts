import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { JobKind, JobSchema, JobStatus } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { jobJson } from "./job-json.js";

const T0 = Date.parse("2026-11-22T10:00:00Z");

describe("jobJson rates", () => {
  it.each([
    {
      name: "a finished job is measured from start to finish, whatever the time now",
      job: { startedAt: timestampFromMs(T0), finishedAt: timestampFromMs(T0 + 4_000), counters: { pagesDone: 10, processingMsTotal: 1_234n } },
      now: T0 + 60_000,
      expected: { elapsed_seconds: 4, pages_per_second: 2.5, avg_page_ms: 123.4 },
    },
    {
      name: "a running job is measured up to now",
      job: { status: JobStatus.RUNNING, startedAt: timestampFromMs(T0), counters: { pagesDone: 3, processingMsTotal: 30n } },
      now: T0 + 2_000,
      expected: { elapsed_seconds: 2, pages_per_second: 1.5, avg_page_ms: 10 },
    },
    {
      name: "a job that has not started has no rate",
      job: { status: JobStatus.PENDING },
      now: T0,
      expected: { elapsed_seconds: 0, pages_per_second: 0, avg_page_ms: 0 },
    },
  ])("$name", ({ job, now, expected }) => {
    const json = jobJson(create(JobSchema, { id: "j", kind: JobKind.CRAWL, ...job }), "127.0.0.1:1", now);
    expect({ elapsed_seconds: json.elapsed_seconds, pages_per_second: json.counters.pages_per_second, avg_page_ms: json.counters.avg_page_ms }).toEqual(expected);
  });

  it("describes a scan as a scan, with its spec", () => {
    const json = jobJson(create(JobSchema, { id: "s", kind: JobKind.SCAN, scan: { path: "/docs", recursive: true, maxFiles: 10 } }), "a", T0);
    expect(json).toMatchObject({ kind: "scan", scan: { path: "/docs", recursive: true, max_files: 10 } });
  });
});
