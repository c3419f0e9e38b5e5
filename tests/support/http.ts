/** JSON over HTTP with Node's global fetch. */

export interface JsonResponse<T = unknown> {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: T;
  readonly text: string;
}

async function toJson<T>(response: Response): Promise<JsonResponse<T>> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, contentType: response.headers.get("content-type"), body: body as T, text };
}

export async function getJson<T = Record<string, unknown>>(url: string): Promise<JsonResponse<T>> {
  return toJson<T>(await fetch(url, { headers: { accept: "application/json" } }));
}

/** POSTs `body` as JSON, or a raw string as-is (for malformed-JSON cases). */
export async function postJson<T = Record<string, unknown>>(url: string, body?: unknown, options: { raw?: string; contentType?: string } = {}): Promise<JsonResponse<T>> {
  const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  return toJson<T>(
    await fetch(url, {
      method: "POST",
      headers: { "content-type": options.contentType ?? "application/json", accept: "application/json" },
      ...(payload !== undefined ? { body: payload } : {}),
    }),
  );
}
