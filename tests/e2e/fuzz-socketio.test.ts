/**
 * Property-based fuzzing (fast-check) of the Socket.IO edge (seed 004)
 * through a real socket.io-client against the real gateway: any event name
 * with any arguments gets an acknowledgement that is either a subscription
 * confirmation or the seed's `job:error` shape naming the problem; the
 * connection stays up, and a new client is served afterwards.
 */
import fc from "fast-check";
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useStack } from "../support/suite.js";

const suite = useStack({ gatewayEnv: { WS_MAX_MESSAGES_PER_SECOND: "100000" } });
const RUNS = 200;

function connect(url: string): Promise<Socket> {
  const socket = io(url, { transports: ["websocket"], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

describe("Socket.IO edge under fast-check", () => {
  let socket: Socket;
  beforeAll(async () => {
    socket = await connect(suite.stack.gateway.url);
  });
  afterAll(() => {
    socket.close();
  });

  it("acknowledges any event with any arguments with a confirmation or a job:error naming the problem, and stays connected", async () => {
    const event = fc.oneof(fc.constantFrom("subscribe:job", "subscribe:batch", "unsubscribe:job", "unsubscribe:batch"), fc.string({ minLength: 1, maxLength: 40 }));
    const argument = fc.oneof(
      fc.jsonValue(),
      fc.record({ job_id: fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null)), batch_id: fc.oneof(fc.string(), fc.constant(undefined)) }, { requiredKeys: [] }),
    );
    await fc.assert(
      fc.asyncProperty(event, fc.array(argument, { maxLength: 3 }), async (name, args) => {
        if (["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"].includes(name)) return;
        const answer = await socket.timeout(5_000).emitWithAck(name, ...args);
        const shape = answer as Record<string, unknown>;
        const confirmed = Object.keys(shape).length === 1 && (typeof shape.job_id === "string" || typeof shape.batch_id === "string");
        const refused = typeof shape.message === "string" && shape.status === "ABORTED" && typeof shape.timestamp === "string";
        expect(confirmed || refused, `${name} ${JSON.stringify(args).slice(0, 200)} → ${JSON.stringify(answer).slice(0, 200)}`).toBe(true);
      }),
      { numRuns: RUNS },
    );
    expect(socket.connected).toBe(true);
  }, 120_000);

  it("still serves a new client afterwards", async () => {
    const fresh = await connect(suite.stack.gateway.url);
    expect(fresh.connected).toBe(true);
    fresh.close();
  });
});
