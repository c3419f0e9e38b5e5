import { describe, expect, it } from "vitest";
import { ConnectionLimiter } from "./connection-limiter.js";
import { MessageRate } from "./message-rate.js";


describe("ConnectionLimiter", () => {
  it("bounds connections per address and in total, and frees a place when a socket closes", () => {
    const limiter = new ConnectionLimiter(3, 2);
    expect(limiter.admit("10.0.0.1")).toBeUndefined();
    expect(limiter.admit("10.0.0.1")).toBeUndefined();
    expect(limiter.admit("10.0.0.1")).toBe("connections_per_ip");
    expect(limiter.admit("10.0.0.2")).toBeUndefined();
    expect(limiter.admit("10.0.0.3")).toBe("connections");
    limiter.release("10.0.0.1");
    expect(limiter.open).toBe(2);
    expect(limiter.admit("10.0.0.1")).toBeUndefined();
  });
});

describe("MessageRate", () => {
  it("allows a burst of two seconds' worth, then the rate, refilling with time", () => {
    let now = 0;
    const rate = new MessageRate(5, () => now);
    const burst = Array.from({ length: 12 }, () => rate.take());
    expect(burst.filter(Boolean)).toHaveLength(10);
    now += 1_000;
    expect(Array.from({ length: 6 }, () => rate.take()).filter(Boolean)).toHaveLength(5);
  });
});
