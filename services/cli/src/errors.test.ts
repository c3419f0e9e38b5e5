import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { describeError, GatewayUnreachableError, isUnreachable, networkCode, UsageError } from "./errors.js";
import { ExitCode } from "./exit-codes.js";

const GATEWAY = "http://127.0.0.1:8000";

function refused(): TRPCClientError<never> {
  const socketError = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8000"), { code: "ECONNREFUSED" });
  return TRPCClientError.from(new TypeError("fetch failed", { cause: socketError }));
}

function serverError(message: string, data: Record<string, unknown>): TRPCClientError<never> {
  return TRPCClientError.from({ error: { message, code: -32600, data: { code: "BAD_REQUEST", httpStatus: 400, ...data } } });
}

describe("describeError", () => {
  it("maps a usage error to exit 2 with its message", () => {
    expect(describeError(new UsageError("--depth must be an integer"), GATEWAY)).toEqual({ message: "--depth must be an integer", exitCode: ExitCode.USAGE });
  });

  it("maps a refused connection to exit 3, naming the gateway and how to choose another", () => {
    const described = describeError(refused(), GATEWAY);
    expect(described.exitCode).toBe(ExitCode.UNREACHABLE);
    expect(described.message).toBe(`cannot reach the gateway at ${GATEWAY}: connection refused (ECONNREFUSED). Is it running? Set --gateway or TRAWL_GATEWAY.`);
  });

  it("maps a timeout to exit 3", () => {
    const timeout = TRPCClientError.from(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
    expect(describeError(timeout, GATEWAY)).toMatchObject({ exitCode: ExitCode.UNREACHABLE, message: expect.stringContaining("no answer in time") });
  });

  it("maps an answer that is not tRPC to exit 3: something else listens there", () => {
    const other = TRPCClientError.from(new Error("Unable to transform response from server"));
    expect(describeError(other, GATEWAY)).toMatchObject({ exitCode: ExitCode.UNREACHABLE, message: expect.stringContaining("not a Trawl gateway") });
  });

  it("maps a gateway refusal to exit 1 with its message and field", () => {
    expect(describeError(serverError("max_pages is too large", { field: "max_pages" }), GATEWAY)).toEqual({ message: "max_pages is too large (field: max_pages)", exitCode: ExitCode.FAILED });
    expect(describeError(serverError("cannot pause", { field: null }), GATEWAY)).toEqual({ message: "cannot pause", exitCode: ExitCode.FAILED });
  });

  it("maps anything else to exit 1 with its message", () => {
    expect(describeError(new Error("EACCES: permission denied, open 'x'"), GATEWAY)).toEqual({ message: "EACCES: permission denied, open 'x'", exitCode: ExitCode.FAILED });
    expect(describeError("odd", GATEWAY)).toEqual({ message: "odd", exitCode: ExitCode.FAILED });
    expect(describeError(new GatewayUnreachableError("gone"), GATEWAY).exitCode).toBe(ExitCode.UNREACHABLE);
  });
});

describe("isUnreachable and networkCode", () => {
  it("look through the cause chain", () => {
    expect(networkCode(refused())).toBe("ECONNREFUSED");
    expect(isUnreachable(refused())).toBe(true);
  });

  it("do not count a refusal or a plain error as unreachable", () => {
    expect(isUnreachable(serverError("nope", {}))).toBe(false);
    expect(isUnreachable(new Error("x"))).toBe(false);
    expect(networkCode(new Error("x"))).toBeUndefined();
  });
});
