import type { JobEventJson } from "@trawl/proto";
import { TRPCClientError } from "@trpc/client";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Api, JobJson } from "./client.js";
import { followJob, type FollowOptions } from "./job-follower.js";
import { event, jobJson } from "./test-support/jobs.js";

interface Handlers {
  onStarted(): void;
  onData(value: { id: string; data: JobEventJson }): void;
  onError(error: unknown): void;
  onComplete(): void;
  onConnectionStateChange(state: { state: string; error: unknown }): void;
}

/** Stands in for the gateway: answers jobs.get with `job` (or `failure`), records the subscription. */
class FakeGateway {
  job: JobJson = jobJson();
  failure: unknown;
  gets = 0;
  input: unknown;
  handlers: Handlers | undefined;
  unsubscribed = false;

  readonly api = {
    jobs: {
      get: {
        query: async () => {
          this.gets++;
          if (this.failure !== undefined) throw this.failure;
          return structuredClone(this.job);
        },
      },
    },
    events: {
      watch: {
        subscribe: (input: unknown, handlers: Handlers) => {
          this.input = input;
          this.handlers = handlers;
          return { unsubscribe: () => (this.unsubscribed = true) };
        },
      },
    },
  } as unknown as Api;

  get subscriber(): Handlers {
    if (this.handlers === undefined) throw new Error("not subscribed");
    return this.handlers;
  }

  send(data: JobEventJson): void {
    this.subscriber.onData({ id: `s|${data.offset}`, data });
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function follow(gateway: FakeGateway, options: Partial<FollowOptions> = {}) {
  const controller = new AbortController();
  const events: JobEventJson[] = [];
  const following = followJob({ api: gateway.api, jobId: gateway.job.job_id, signal: controller.signal, onEvent: (e) => events.push(e), ...options });
  return { ...following, controller, events };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("followJob", () => {
  it("ends at once, without subscribing, when the job has already ended", async () => {
    const gateway = new FakeGateway();
    gateway.job = jobJson({ status: "completed" });
    const { done } = follow(gateway);
    await expect(done).resolves.toMatchObject({ outcome: "ended", job: { status: "completed" } });
    expect(gateway.handlers).toBeUndefined();
  });

  it("ends when the job ended between the first look and the subscription", async () => {
    const gateway = new FakeGateway();
    const { done } = follow(gateway);
    await settle();
    gateway.job = jobJson({ status: "failed", error: "boom", last_seq: 22 });
    gateway.subscriber.onStarted();
    await expect(done).resolves.toMatchObject({ outcome: "ended", job: { status: "failed", error: "boom" } });
    expect(gateway.unsubscribed).toBe(true);
  });

  it("applies events as they come and ends with the job's stored final state", async () => {
    const gateway = new FakeGateway();
    const { done, state, events } = follow(gateway);
    await settle();
    gateway.subscriber.onStarted();
    await settle();
    gateway.send(event(21, { progress: { counters: { pagesDone: 30, pagesTotal: 40, successCount: 29, errorCount: 1 } } }));
    expect(state.job.counters.pages_done).toBe(30);
    gateway.job = jobJson({ status: "completed", last_seq: 22 }, { pages_done: 40, pages_total: 40 });
    gateway.send(event(22, { completed: { elapsedMs: 3000, counters: { pagesDone: 40, pagesTotal: 40 } } }));
    const result = await done;
    expect(result).toMatchObject({ outcome: "ended", job: { status: "completed", counters: { pages_done: 40 } } });
    expect(events.map((e) => e.seq)).toEqual(["21", "22"]);
    expect(gateway.unsubscribed).toBe(true);
  });

  it("ends with the state the events built when the final jobs.get fails", async () => {
    const gateway = new FakeGateway();
    const { done } = follow(gateway);
    await settle();
    gateway.failure = TRPCClientError.from(new TypeError("fetch failed", { cause: Object.assign(new Error("refused"), { code: "ECONNREFUSED" }) }));
    gateway.send(event(21, { cancelled: { reason: "enough", elapsedMs: 1000 } }));
    await expect(done).resolves.toMatchObject({ outcome: "ended", job: { status: "cancelled", error: "enough", elapsed_seconds: 1 } });
  });

  it("always watches for the end but reports only the kinds asked for", async () => {
    const gateway = new FakeGateway();
    const { done, events } = follow(gateway, { types: ["pageFailed"], platforms: ["web"] });
    await settle();
    expect(gateway.input).toEqual({ jobId: gateway.job.job_id, types: ["pageFailed", "completed", "failed", "cancelled"], platforms: ["web"] });
    gateway.send(event(21, { pageFailed: { url: "http://x/" } }));
    gateway.job = jobJson({ status: "completed", last_seq: 22 });
    gateway.send(event(22, { completed: {} }));
    await done;
    expect(events.map((e) => e.seq)).toEqual(["21"]);
  });

  it("shows a dropped connection, and looks at the job again when resubscribed", async () => {
    const gateway = new FakeGateway();
    const { done, state, controller } = follow(gateway);
    await settle();
    expect(state.link).toBe("connecting");
    gateway.subscriber.onConnectionStateChange({ state: "pending", error: null });
    gateway.subscriber.onStarted();
    expect(state.link).toBe("live");
    gateway.subscriber.onConnectionStateChange({ state: "connecting", error: new Error("WebSocket closed") });
    expect(state.link).toBe("reconnecting");
    const before = gateway.gets;
    gateway.subscriber.onConnectionStateChange({ state: "pending", error: null });
    gateway.subscriber.onStarted();
    expect(state.link).toBe("live");
    expect(gateway.gets).toBe(before + 1);
    controller.abort();
    await done;
  });

  it("stops on abort, leaving the job alone", async () => {
    const gateway = new FakeGateway();
    const { done, controller } = follow(gateway);
    await settle();
    controller.abort();
    await expect(done).resolves.toMatchObject({ outcome: "interrupted", job: { status: "running" } });
    expect(gateway.unsubscribed).toBe(true);
  });

  it("stops on abort before the job was first seen", async () => {
    const gateway = new FakeGateway();
    const { done, controller } = follow(gateway);
    controller.abort();
    await expect(done).resolves.toEqual({ outcome: "interrupted", job: undefined });
    expect(gateway.handlers).toBeUndefined();
  });

  it("rejects on a subscription error and when the gateway ends the stream early", async () => {
    const failing = new FakeGateway();
    const first = follow(failing);
    await settle();
    failing.subscriber.onError(new Error("BAD_REQUEST"));
    await expect(first.done).rejects.toThrow("BAD_REQUEST");

    const ending = new FakeGateway();
    const second = follow(ending);
    await settle();
    ending.subscriber.onComplete();
    await expect(second.done).rejects.toThrow("the gateway ended the event stream");
  });

  it("rejects when the job is unknown", async () => {
    const gateway = new FakeGateway();
    gateway.failure = new Error("Unknown job");
    await expect(follow(gateway).done).rejects.toThrow("Unknown job");
  });

  it("looks at the job every few seconds, and ends even if the end event never came", async () => {
    vi.useFakeTimers();
    const gateway = new FakeGateway();
    const { done } = follow(gateway, { refreshMs: 5_000 });
    await vi.advanceTimersByTimeAsync(0);
    gateway.subscriber.onStarted();
    gateway.failure = TRPCClientError.from(new TypeError("fetch failed", { cause: Object.assign(new Error("refused"), { code: "ECONNREFUSED" }) }));
    await vi.advanceTimersByTimeAsync(5_000);
    gateway.failure = undefined;
    gateway.job = jobJson({ status: "completed", last_seq: 30 });
    await vi.advanceTimersByTimeAsync(5_000);
    await expect(done).resolves.toMatchObject({ outcome: "ended", job: { status: "completed" } });
  });

  it("runs the clock between snapshots while the job runs, and stops it at the end", async () => {
    let now = 1_000_000;
    const gateway = new FakeGateway();
    gateway.job = jobJson({ elapsed_seconds: 2 });
    const { done, state, controller } = follow(gateway, { now: () => now });
    await settle();
    now += 1_500;
    expect(state.elapsedSeconds()).toBeCloseTo(3.5);
    gateway.send(event(21, { completed: { elapsedMs: 4_000 } }));
    now += 10_000;
    expect(state.elapsedSeconds()).toBe(4);
    controller.abort();
    await done;
  });
});
