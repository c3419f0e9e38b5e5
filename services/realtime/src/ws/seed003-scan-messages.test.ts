import { describe, expect, it } from "vitest";
import { parseScanMessage } from "./seed003-scan-messages.js";

describe("parseScanMessage", () => {
  it.each([
    ['{"action":"scan","path":"/documents","recursive":true}', { action: "scan", request: { path: "/documents", recursive: true } }],
    ['{"action":"scan","path":"docs"}', { action: "scan", request: { path: "docs", recursive: true } }],
    ['{"action":"scan","path":"docs","recursive":false,"max_files":10}', { action: "scan", request: { path: "docs", recursive: false, max_files: 10 } }],
    ['{"action":"scan","path":"docs","extra":"ignored"}', { action: "scan", request: { path: "docs", recursive: true } }],
    ['{"action":"cancel"}', { action: "cancel" }],
    ['  {"action":"cancel","path":"/ignored"}  ', { action: "cancel" }],
  ])("accepts %s", (text, message) => {
    expect(parseScanMessage(text)).toEqual({ ok: true, message });
  });

  it.each([
    ["not JSON", "{not json", "Invalid message: message is not valid JSON"],
    ["an empty frame", "", "Invalid message: message is not valid JSON"],
    ["a JSON string", '"scan"', "Invalid message: a message must be a JSON object"],
    ["a JSON array", '[{"action":"scan"}]', "Invalid message: a message must be a JSON object"],
    ["null", "null", "Invalid message: a message must be a JSON object"],
    ["a missing action", '{"path":"/documents"}', "Invalid message: action is required (scan or cancel)"],
    ["a non-string action", '{"action":1}', "Invalid message: action must be a string (scan or cancel)"],
    ["an unknown action", '{"action":"delete","path":"/"}', 'Invalid message: unknown action "delete" (expected scan or cancel)'],
    ["a scan without a path", '{"action":"scan"}', "Invalid message: path is required"],
    ["a scan with an empty path", '{"action":"scan","path":""}', "Invalid message: path must not be empty"],
    ["a scan with a numeric path", '{"action":"scan","path":42}', "Invalid message: path must be a string"],
    ["a scan with a non-boolean recursive", '{"action":"scan","path":"docs","recursive":"yes"}', "Invalid message: recursive must be a boolean"],
    ["a scan with two problems", '{"action":"scan","recursive":1}', "Invalid message: path is required; recursive must be a boolean"],
  ])("refuses %s naming the problem", (_name, text, error) => {
    expect(parseScanMessage(text)).toEqual({ ok: false, error });
  });

  it("quotes at most 64 characters of an unknown action", () => {
    const result = parseScanMessage(JSON.stringify({ action: "x".repeat(10_000) }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.length).toBeLessThan(150);
  });
});
