/**
 * The `dialect` label of a raw WebSocket connection, from the route its
 * upgrade took: the hub channel that endpoint's frames go out on, so the
 * connection gauge and the hub's per-channel counters line up.
 */
import { SEED002_CHANNEL } from "../dialects/seed002.js";
import { SEED003_JOB_CHANNEL, SEED003_SCAN_CHANNEL } from "../dialects/seed003.js";
import { SEED000_CHANNEL } from "../ws/hub.js";
import type { WsRoute } from "../ws/routes.js";

/** The dialect of a raw WebSocket route; undefined for routes served by other edges (tRPC, Socket.IO) or by nobody. */
export function rawWsDialect(route: WsRoute): string | undefined {
  switch (route.kind) {
    case "scraping":
    case "stats":
      return SEED000_CHANNEL;
    case "job":
      return route.format === "flat" ? SEED002_CHANNEL : SEED000_CHANNEL;
    case "file-job":
      return SEED003_JOB_CHANNEL;
    case "scan":
      return SEED003_SCAN_CHANNEL;
    default:
      return undefined;
  }
}
