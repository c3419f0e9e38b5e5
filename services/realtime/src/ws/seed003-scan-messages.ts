/**
 * The client messages of seed 003's scan socket, validated by zod:
 * `{"action":"scan","path":…,"recursive"?:…}` and `{"action":"cancel"}`.
 * The seed asks for exactly this ("Invalid Messages: should be validated",
 * and its pydantic `ScanMessage`); the scan fields reuse `POST /api/scan`'s
 * schema so both edges accept the same requests. Whether the path lies
 * inside the scan roots is the scraper's decision (it resolves symbolic
 * links), not this module's.
 */
import { z } from "zod";
import { scanRequestSchema, type ScanRequest } from "../http/scrape-request.js";

export type ScanClientMessage = { action: "scan"; request: ScanRequest } | { action: "cancel" };

export type ParsedScanMessage = { ok: true; message: ScanClientMessage } | { ok: false; error: string };

/** The actions the socket understands, in the order error messages list them. */
export const SCAN_ACTIONS = ["scan", "cancel"] as const;

const envelopeSchema = z.object(
  {
    action: z.string({ error: (issue) => (issue.input === undefined ? "action is required (scan or cancel)" : "action must be a string (scan or cancel)") }),
  },
  { error: "a message must be a JSON object" },
);

/** Parses one text frame; `error` says what is wrong in words a client developer can act on. */
export function parseScanMessage(text: string): ParsedScanMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid("message is not valid JSON");
  }
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success) return invalid(issuesText(envelope.error));
  const action = envelope.data.action;
  switch (action) {
    case "scan": {
      const request = scanRequestSchema.safeParse(value);
      return request.success ? { ok: true, message: { action: "scan", request: request.data } } : invalid(issuesText(request.error));
    }
    case "cancel":
      return { ok: true, message: { action: "cancel" } };
    default:
      return invalid(`unknown action ${JSON.stringify(action.slice(0, 64))} (expected ${SCAN_ACTIONS.join(" or ")})`);
  }
}

function invalid(reason: string): ParsedScanMessage {
  return { ok: false, error: `Invalid message: ${reason}` };
}

function issuesText(error: z.ZodError): string {
  return error.issues.map((issue) => issue.message).join("; ");
}
