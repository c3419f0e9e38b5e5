import { describe, expect, it } from "vitest";
import { ThroughputSampler } from "./throughput.js";

describe("ThroughputSampler", () => {
  it.each([
    { name: "a job counted from 0 when it started while watched", track: 0, samples: [5, 15], want: [5, 10] },
    { name: "a job first seen mid-crawl counts from what it had then", track: undefined, samples: [500, 510], want: [0, 10] },
    { name: "a counter that never moves reads as zero", track: 0, samples: [0, 0, 0], want: [0, 0, 0] },
  ])("$name", ({ track, samples, want }) => {
    const sampler = new ThroughputSampler();
    if (track !== undefined) sampler.track("a", track);
    samples.forEach((pagesDone, index) => sampler.sample(1_000_000 + index * 1000, [{ id: "a", pagesDone }]));
    expect(sampler.series()[1]).toEqual(want);
  });

  it("sums every job and divides by the time between samples", () => {
    const sampler = new ThroughputSampler();
    sampler.track("a", 0);
    sampler.track("b", 0);
    sampler.sample(10_000, [{ id: "a", pagesDone: 0 }, { id: "b", pagesDone: 0 }]);
    sampler.sample(12_000, [{ id: "a", pagesDone: 6 }, { id: "b", pagesDone: 4 }]);
    expect(sampler.series()).toEqual([[10, 12], [0, 5]]);
  });

  it("keeps only the window", () => {
    const sampler = new ThroughputSampler(3);
    for (let second = 0; second < 10; second++) sampler.sample(second * 1000, []);
    expect(sampler.series()[0]).toEqual([6, 7, 8, 9]);
  });
});
