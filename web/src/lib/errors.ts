/**
 * What a failed call tells the user: the server's own message, and the
 * request field it names (the gateway's error formatter puts it in
 * `data.field`). Zod refusals carry their message per field in
 * `data.zodError`; the first one is the readable sentence ("url must be an
 * absolute http or https URL"), where `message` is zod's JSON dump.
 */
import { TRPCClientError } from "@trpc/client";
import type { AppRouter } from "@trawl/realtime";

export interface CallError {
  message: string;
  /** The request field the error is about, when the server named one. */
  field: string | null;
}

export function describeError(error: unknown): CallError {
  if (error instanceof TRPCClientError) {
    const data = (error as TRPCClientError<AppRouter>).data;
    const field = typeof data?.field === "string" ? data.field : null;
    const zod = data?.zodError;
    if (zod != null) {
      const perField = field === null ? undefined : (zod.fieldErrors as Record<string, string[] | undefined>)[field]?.[0];
      const anyField = Object.values(zod.fieldErrors as Record<string, string[] | undefined>).find((messages) => messages !== undefined && messages.length > 0)?.[0];
      const message = perField ?? anyField ?? zod.formErrors[0];
      if (message !== undefined) return { message, field };
    }
    return { message: error.message, field };
  }
  return { message: error instanceof Error ? error.message : String(error), field: null };
}
