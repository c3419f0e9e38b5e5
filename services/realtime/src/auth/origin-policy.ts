/**
 * Which browser origins may talk to the gateway (ALLOWED_ORIGINS).
 *
 * Browsers send `Origin` with every WebSocket upgrade and cross-site request;
 * other clients (CLIs, services, the seeds' Python examples) send none. A
 * request without `Origin` is therefore allowed — tokens, not origins, guard
 * those — and a browser request is allowed from the gateway's own origin (the
 * dashboard) and from the listed origins; `*` allows every origin. This keeps
 * another web page from riding on a user's loopback gateway or cookies.
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;
  readonly any: boolean;

  constructor(list: readonly string[]) {
    this.any = list.includes("*");
    this.allowed = new Set(list.filter((origin) => origin !== "*").map(normalizeOrigin));
  }

  /** True when a request with this `Origin` (undefined: none) to `host` (its Host header) may proceed. */
  allows(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined || this.any) return true;
    const normalized = normalizeOrigin(origin);
    if (this.allowed.has(normalized)) return true;
    return host !== undefined && (normalized === `http://${host.toLowerCase()}` || normalized === `https://${host.toLowerCase()}`);
  }

  /** True when `origin` is listed (or `*`): such origins get CORS headers. */
  listed(origin: string): boolean {
    return this.any || this.allowed.has(normalizeOrigin(origin));
  }
}

/** Parses ALLOWED_ORIGINS: comma-separated `scheme://host[:port]` entries or `*`; throws naming the bad entry. */
export function parseAllowedOrigins(value: string | undefined): string[] {
  const entries = (value ?? "").split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
  for (const entry of entries) {
    if (entry === "*") continue;
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new Error(`"${entry}" is not an origin (scheme://host[:port])`);
    }
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.origin !== normalizeOrigin(entry)) throw new Error(`"${entry}" is not an origin (scheme://host[:port], no path)`);
  }
  return entries;
}

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/$/, "").toLowerCase();
}
