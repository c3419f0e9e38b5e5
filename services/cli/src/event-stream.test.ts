import type { JobEventJson } from "@trawl/proto";
import { TRPCClientError } from "@trpc/client";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Api } from "./client.js";
import { isRetryable, openEventStream, retryDelayMs } from "./event-stream.js";
import type { LinkState } from "./progress-bar.js";
import { event } from "./test-support/jobs.js";

interface Handlers {
  onStarted(): void;
  onData(value: { id: string; data: JobEventJson }): void;
  onError(error: unknown): void;
  onComplete(): void;
  onConnectionStateChange(state: { state: string; error: unknown }): void;
}

/** Records every subscription opened: its input, its handlers, whether it was stopped. */
class FakeWatch {
  readonly opened: Array<{ input: Record<string, unknown>; handlers: Handlers; stopped: boolean }> = [];
  readonly api = {
    events: {
      watch: {
        subscribe: (input: Record<string, unknown>, handlers: Handlers) => {
          const entry = { input, handlers, stopped: false };
          this.opened.push(entry);
          return { unsubscribe: () => (entry.stopped = true) };
        },
      },
    },
  } as unknown as Api;

  get last(): Handlers {
    const entry = this.opened.at(-1);
    if (entry === undefined) throw new Error("nothing subscribed");
    return entry.handlers;
  }
}

function serverError(code: string): TRPCClientError<never> {
  return TRPCClientError.from({ error: { message: `${code} happened`, code: -32000, data: { code, httpStatus: 503 } } });
}

function record() {
  const seen = { events: [] as string[], links: [] as LinkState[], errors: [] as unknown[], started: 0 };
  return {
    seen,
    handlers: {
      onStarted: () => seen.started++,
      onEvent: (data: JobEventJson) => seen.events.push(data.seq ?? "?"),
      onLink: (link: LinkState) => seen.links.push(link),
      onError: (error: unknown) => seen.errors.push(error),
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("openEventStream", () => {
  it("subscribes with the filter and passes events on", () => {
    const watch = new FakeWatch();
    const { seen, handlers } = record();
    openEventStream(watch.api, { jobId: "j", types: ["completed"], platforms: ["web"] }, handlers);
    expect(watch.opened[0]?.input).toEqual({ jobId: "j", types: ["completed"], platforms: ["web"] });
    watch.last.onStarted();
    watch.last.onData({ id: "s|1", data: event(1, { progress: {} }) });
    expect(seen).toMatchObject({ started: 1, events: ["1"] });
  });

  it("reopens a subscription the gateway cannot serve yet, resuming after the last event", async () => {
    vi.useFakeTimers();
    const watch = new FakeWatch();
    const { seen, handlers } = record();
    openEventStream(watch.api, { jobId: "j" }, handlers);
    watch.last.onData({ id: "s|7", data: event(7, { progress: {} }) });
    watch.last.onError(serverError("SERVICE_UNAVAILABLE"));
    watch.last.onComplete();
    expect(seen.links).toEqual(["reconnecting"]);
    expect(watch.opened).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(retryDelayMs(0));
    expect(watch.opened[1]?.input).toEqual({ jobId: "j", lastEventId: "s|7" });
    watch.last.onError(serverError("SERVICE_UNAVAILABLE"));
    await vi.advanceTimersByTimeAsync(retryDelayMs(1));
    expect(watch.opened).toHaveLength(3);
    expect(seen.errors).toEqual([]);
  });

  it("gives up on a refusal that retrying cannot fix", () => {
    const watch = new FakeWatch();
    const { seen, handlers } = record();
    openEventStream(watch.api, {}, handlers);
    const refusal = serverError("BAD_REQUEST");
    watch.last.onError(refusal);
    watch.last.onComplete();
    expect(seen.errors).toEqual([refusal]);
  });

  it("reports the gateway ending the stream without an error", () => {
    const watch = new FakeWatch();
    const { seen, handlers } = record();
    openEventStream(watch.api, {}, handlers);
    watch.last.onComplete();
    expect(String(seen.errors[0])).toContain("the gateway ended the event stream");
  });

  it("tells when the connection drops and when it is back", () => {
    const watch = new FakeWatch();
    const { seen, handlers } = record();
    openEventStream(watch.api, {}, handlers);
    watch.last.onConnectionStateChange({ state: "connecting", error: null });
    watch.last.onConnectionStateChange({ state: "pending", error: null });
    watch.last.onConnectionStateChange({ state: "connecting", error: new Error("closed") });
    watch.last.onConnectionStateChange({ state: "pending", error: null });
    expect(seen.links).toEqual(["live", "reconnecting", "live"]);
  });

  it("stops for good: unsubscribes, cancels a pending retry, passes nothing on", async () => {
    vi.useFakeTimers();
    const watch = new FakeWatch();
    const { seen, handlers } = record();
    const stream = openEventStream(watch.api, {}, handlers);
    watch.last.onError(serverError("SERVICE_UNAVAILABLE"));
    stream.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(watch.opened).toHaveLength(1);
    expect(watch.opened[0]?.stopped).toBe(true);
    watch.last.onData({ id: "s|1", data: event(1, {}) });
    watch.last.onComplete();
    expect(seen.events).toEqual([]);
    expect(seen.errors).toEqual([]);
  });
});

describe("retry policy", () => {
  it("retries only SERVICE_UNAVAILABLE", () => {
    expect(isRetryable(serverError("SERVICE_UNAVAILABLE"))).toBe(true);
    expect(isRetryable(serverError("NOT_FOUND"))).toBe(false);
    expect(isRetryable(new Error("SERVICE_UNAVAILABLE"))).toBe(false);
  });

  it("waits half a second, doubling up to five", () => {
    expect([0, 1, 2, 3, 4, 10].map(retryDelayMs)).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
  });
});
