import { describe, expect, it } from "vitest";
import { HostScheduler, type Release } from "./host-scheduler.js";
import { TokenBucket } from "./token-bucket.js";

const settle = () => new Promise((resolve) => setImmediate(resolve));
const never = new AbortController().signal;

/** Acquires `host` and records when (and in which order) each grant arrived. */
function recorder(scheduler: HostScheduler) {
  const granted: string[] = [];
  const times: number[] = [];
  const releases = new Map<string, Release>();
  const acquire = (host: string, name: string, signal = never) =>
    scheduler.acquire(host, signal).then((release) => {
      granted.push(name);
      times.push(performance.now());
      releases.set(name, release);
    });
  return { granted, times, acquire, release: (name: string) => releases.get(name)?.() };
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - (times[i] as number));

describe("HostScheduler", () => {
  it("never starts more than its concurrency for one host, first come first served", async () => {
    const scheduler = new HostScheduler({ concurrency: 2, delayMs: 0 });
    const r = recorder(scheduler);
    for (const name of ["a", "b", "c", "d"]) void r.acquire("h:1", name);
    await settle();
    expect(r.granted).toEqual(["a", "b"]);
    r.release("b");
    r.release("b"); // a second release of one hold changes nothing
    await settle();
    expect(r.granted).toEqual(["a", "b", "c"]);
    r.release("a");
    await settle();
    expect(r.granted).toEqual(["a", "b", "c", "d"]);
  });

  it("limits each host on its own", async () => {
    const scheduler = new HostScheduler({ concurrency: 1, delayMs: 0 });
    const r = recorder(scheduler);
    void r.acquire("a:1", "a1");
    void r.acquire("a:1", "a2");
    void r.acquire("b:1", "b1");
    await settle();
    expect(r.granted).toEqual(["a1", "b1"]);
  });

  it("rejects a waiter whose signal aborts and serves the next one", async () => {
    const scheduler = new HostScheduler({ concurrency: 1, delayMs: 0 });
    const r = recorder(scheduler);
    const controller = new AbortController();
    void r.acquire("h:1", "a");
    const aborted = r.acquire("h:1", "b", controller.signal);
    void r.acquire("h:1", "c");
    controller.abort(new Error("job cancelled"));
    await expect(aborted).rejects.toThrow("job cancelled");
    r.release("a");
    await settle();
    expect(r.granted).toEqual(["a", "c"]);
    await expect(scheduler.acquire("h:1", controller.signal)).rejects.toThrow("job cancelled");
  });

  it("spaces the starts of requests to one host by its delay", async () => {
    const scheduler = new HostScheduler({ concurrency: 8, delayMs: 100 });
    const r = recorder(scheduler);
    await Promise.all(["a", "b", "c"].map((name) => r.acquire("h:1", name)));
    expect(r.granted).toEqual(["a", "b", "c"]);
    // A lower bound with room for timer and measurement jitter; the point is that starts are spread, not bunched.
    for (const gap of gaps(r.times)) expect(gap).toBeGreaterThanOrEqual(80);
  });

  it("raises a host's delay (Crawl-delay) but never lowers it", () => {
    const scheduler = new HostScheduler({ concurrency: 1, delayMs: 100 });
    scheduler.raiseDelay("h:1", 500);
    scheduler.raiseDelay("h:1", 200);
    expect(scheduler.delayOf("h:1")).toBe(500);
    expect(scheduler.delayOf("other:1")).toBe(100);
  });

  it("holds a host off when a release passes a Retry-After, before letting the next waiter in", async () => {
    const scheduler = new HostScheduler({ concurrency: 1, delayMs: 0 });
    const release = await scheduler.acquire("h:1", never);
    const next = scheduler.acquire("h:1", never);
    const began = performance.now();
    release(80);
    (await next)();
    expect(performance.now() - began).toBeGreaterThanOrEqual(70);
    (await scheduler.acquire("other:1", never))();
  });

  it("caps a hold-off at its maximum", async () => {
    const scheduler = new HostScheduler({ concurrency: 1, delayMs: 0, maxHoldOffMs: 10 });
    (await scheduler.acquire("h:1", never))(3_600_000);
    (await scheduler.acquire("h:1", never))();
  });

  it("takes a token from the shared rate limiter for every start, across hosts", async () => {
    const scheduler = new HostScheduler({ concurrency: 8, delayMs: 0 }, new TokenBucket(20));
    const r = recorder(scheduler);
    await Promise.all([r.acquire("a:1", "a1"), r.acquire("b:1", "b1"), r.acquire("a:1", "a2"), r.acquire("c:1", "c1")]);
    expect(r.granted).toHaveLength(4);
    for (const gap of gaps(r.times)) expect(gap).toBeGreaterThanOrEqual(35);
  });

  it("on close, rejects every waiter", async () => {
    const scheduler = new HostScheduler({ concurrency: 1, delayMs: 0 });
    await scheduler.acquire("h:1", never);
    const waiting = scheduler.acquire("h:1", never);
    scheduler.close(new Error("done"));
    await expect(waiting).rejects.toThrow("done");
  });
});
