/**
 * The vocabulary and arithmetic of a crawl's statistics: the keys of
 * JobCounters.errors_by_kind and .skipped, and the page-time histogram the
 * p95 comes from.
 */
import { PageErrorKind, SkipReason } from "@trawl/proto";

/** JobCounters.errors_by_kind keys. */
export type ErrorKey =
  | "http_4xx"
  | "http_5xx"
  | "timeout"
  | "network"
  | "dns"
  | "not_html"
  | "too_large"
  | "too_many_redirects"
  | "blocked_address"
  | "invalid_url";

/** JobCounters.skipped keys. */
export type SkipKey = "robots" | "scope" | "depth" | "page_limit";

export const SKIP_REASONS: Record<SkipKey, SkipReason> = {
  robots: SkipReason.ROBOTS,
  scope: SkipReason.SCOPE,
  depth: SkipReason.DEPTH,
  page_limit: SkipReason.PAGE_LIMIT,
};

/**
 * The errors_by_kind key of a failed page. HTTP failures split by status
 * class: 5xx is `http_5xx`; every other unresolved status (4xx, and the rare
 * 3xx without Location or 1xx) is `http_4xx`.
 */
export function errorKey(kind: PageErrorKind, status: number): ErrorKey {
  switch (kind) {
    case PageErrorKind.HTTP:
      return status >= 500 ? "http_5xx" : "http_4xx";
    case PageErrorKind.TIMEOUT:
      return "timeout";
    case PageErrorKind.DNS:
      return "dns";
    case PageErrorKind.NOT_HTML:
      return "not_html";
    case PageErrorKind.TOO_LARGE:
      return "too_large";
    case PageErrorKind.TOO_MANY_REDIRECTS:
      return "too_many_redirects";
    case PageErrorKind.BLOCKED_ADDRESS:
      return "blocked_address";
    case PageErrorKind.INVALID_URL:
      return "invalid_url";
    default:
      return "network";
  }
}

/**
 * Page times in a fixed histogram: 1 ms buckets below 1 s, 10 ms buckets
 * below 10 s, 100 ms buckets below 120 s, and one bucket above. 2,200
 * counters (9 KB) whatever the number of pages; percentiles are exact below
 * 1 s and within a bucket's width above.
 */
export class PageTimeHistogram {
  private static readonly FINE = 1_000;
  private static readonly MEDIUM = 900; // 1 s – 10 s in 10 ms steps
  private static readonly COARSE = 1_100; // 10 s – 120 s in 100 ms steps
  private readonly buckets = new Uint32Array(PageTimeHistogram.FINE + PageTimeHistogram.MEDIUM + PageTimeHistogram.COARSE + 1);
  private total = 0;
  private max = 0;

  get count(): number {
    return this.total;
  }

  add(ms: number): void {
    const value = Math.max(0, Math.round(ms));
    const bucket = PageTimeHistogram.bucketOf(value);
    this.buckets[bucket] = (this.buckets[bucket] as number) + 1;
    this.total++;
    if (value > this.max) this.max = value;
  }

  /**
   * The smallest page time at or under which `fraction` of the pages fall
   * (nearest-rank), as the upper edge of its bucket, never above the
   * slowest page seen; 0 before any page.
   */
  percentile(fraction: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(fraction * this.total));
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i] as number;
      if (seen >= rank) return Math.min(PageTimeHistogram.upperEdge(i), this.max);
    }
    return this.max;
  }

  private static bucketOf(ms: number): number {
    const { FINE, MEDIUM, COARSE } = PageTimeHistogram;
    if (ms < 1_000) return ms;
    if (ms < 10_000) return FINE + Math.floor((ms - 1_000) / 10);
    if (ms < 120_000) return FINE + MEDIUM + Math.floor((ms - 10_000) / 100);
    return FINE + MEDIUM + COARSE;
  }

  private static upperEdge(bucket: number): number {
    const { FINE, MEDIUM, COARSE } = PageTimeHistogram;
    if (bucket < FINE) return bucket;
    if (bucket < FINE + MEDIUM) return 1_000 + (bucket - FINE) * 10 + 9;
    if (bucket < FINE + MEDIUM + COARSE) return 10_000 + (bucket - FINE - MEDIUM) * 100 + 99;
    return Number.MAX_SAFE_INTEGER;
  }
}
