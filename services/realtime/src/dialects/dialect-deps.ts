/** What a dialect's endpoints may use: the live state, the hub, the scrapers, a clock and the logger. */
import type { GatewayAccess } from "../auth/gateway-access.js";
import type { Logger } from "pino";
import type { ScraperPool } from "../scrapers/scraper-pool.js";
import type { LiveState } from "../state/live-state.js";
import type { Hub } from "../ws/hub.js";

export interface DialectDeps {
  state: LiveState;
  hub: Hub;
  pool: ScraperPool;
  now: () => number;
  logger: Logger;
  /** Tokens and origins; without it every client is the open principal. */
  access?: GatewayAccess;
}
