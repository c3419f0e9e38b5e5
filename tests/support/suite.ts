/**
 * One stack per test file: booted before the first test, stopped after the
 * last, with process logs printed when a test fails.
 */
import { afterAll, afterEach, beforeAll } from "vitest";
import { type Stack, type StackOptions, startStack } from "./stack.js";
import type { RecordingClient } from "./ws-client.js";

export interface SuiteStack {
  /** The running stack (throws before beforeAll has run). */
  readonly stack: Stack;
  /** Clients opened by a test; closed after it. */
  track(client: RecordingClient): RecordingClient;
}

export function useStack(options: StackOptions = {}): SuiteStack {
  let stack: Stack | undefined;
  const clients: RecordingClient[] = [];
  beforeAll(async () => {
    stack = await startStack(options);
  });
  afterEach(async (context) => {
    if (context.task.result?.state === "fail" && stack) {
      process.stderr.write(`\n[${context.task.name}] process logs:\n${stack.diagnostics()}\n`);
    }
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await stack?.stop();
  });
  return {
    get stack(): Stack {
      if (!stack) throw new Error("stack not started");
      return stack;
    },
    track(client: RecordingClient): RecordingClient {
      clients.push(client);
      return client;
    },
  };
}
