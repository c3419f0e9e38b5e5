import { create } from "@bufbuild/protobuf";
import { JobProgressSchema } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { MemoryEventLog } from "./memory-event-log.js";

const progress = () => ({ case: "progress" as const, value: create(JobProgressSchema, {}) });

describe("MemoryEventLog", () => {
  it("assigns global offsets from 1, per-job seqs from 1 and the append time", () => {
    const log = new MemoryEventLog(100);
    expect(log.headOffset()).toBe(0n);
    expect(log.oldestOffset()).toBe(1n);
    const events = ["a", "b", "a", "a", "b"].map((job) => log.append(job, progress()));
    expect(events.map((e) => [e.jobId, e.offset, e.seq])).toEqual([
      ["a", 1n, 1n],
      ["b", 2n, 1n],
      ["a", 3n, 2n],
      ["a", 4n, 3n],
      ["b", 5n, 2n],
    ]);
    expect(events.every((e) => e.time !== undefined)).toBe(true);
    expect(log.lastSeq("a")).toBe(3n);
    expect(log.lastSeq("unknown")).toBe(0n);
  });

  it("reads after an offset, by job, a batch at a time", async () => {
    const log = new MemoryEventLog(100);
    for (const job of ["a", "b", "a", "b", "a", "b"]) log.append(job, progress());
    expect((await log.read(2n, 10)).events.map((e) => e.offset)).toEqual([3n, 4n, 5n, 6n]);
    expect(await log.read(0n, 2)).toMatchObject({ through: 2n });
    const byJob = await log.read(0n, 2, "b");
    expect(byJob.events.map((e) => e.offset)).toEqual([2n, 4n]);
    expect(byJob.through).toBe(4n);
    expect(await log.read(6n, 10)).toEqual({ events: [], through: 6n });
  });

  it("retains only the newest events", async () => {
    const log = new MemoryEventLog(3);
    for (let i = 0; i < 10_000; i++) log.append("a", progress());
    expect(log.headOffset()).toBe(10_000n);
    expect(log.oldestOffset()).toBe(9_998n);
    expect((await log.read(0n, 10)).events.map((e) => e.offset)).toEqual([9_998n, 9_999n, 10_000n]);
    expect(log.lastSeq("a")).toBe(10_000n);
  });

  it("tells listeners about every append until they unsubscribe", () => {
    const log = new MemoryEventLog(10);
    let calls = 0;
    const unsubscribe = log.onAppend(() => calls++);
    log.append("a", progress());
    unsubscribe();
    log.append("a", progress());
    expect(calls).toBe(1);
  });
});
