/**
 * A real gateway (ephemeral port on 127.0.0.1, silent logs, quick link
 * backoff) watching one scripted scraper, connected before it is returned.
 * Both are stopped by the caller's `cleanups`, gateway first.
 */
import { pino } from "pino";
import { expect, vi } from "vitest";
import { parseConfig, type GatewayConfig } from "../config.js";
import { createGateway, type Gateway } from "../gateway.js";
import { ScriptedScraper } from "./scripted-scraper.js";

export interface GatewayWithDouble {
  gateway: Gateway;
  double: ScriptedScraper;
  url: string;
  port: number;
}

export interface GatewayWithDoubleOptions {
  /** Environment the gateway's config is parsed from (e.g. WS_MAX_BUFFERED_BYTES). */
  env?: Record<string, string>;
  /** Config fields set after parsing. */
  overrides?: Partial<GatewayConfig>;
  /** Called with the started scraper before the gateway starts (to script its answers). */
  script?: (double: ScriptedScraper) => void;
}

export async function startGatewayWithDouble(cleanups: Array<() => Promise<void> | void>, options: GatewayWithDoubleOptions = {}): Promise<GatewayWithDouble> {
  const double = new ScriptedScraper();
  await double.start(0);
  cleanups.push(() => double.stop());
  options.script?.(double);
  const config: GatewayConfig = { ...parseConfig(options.env ?? {}), port: 0, scraperAddresses: [double.address], logLevel: "silent", ...options.overrides };
  const gateway = createGateway(config, pino({ level: "silent" }), { backoff: { initialMs: 20, maxMs: 200 } });
  const { url, port } = await gateway.listen();
  cleanups.push(() => gateway.close());
  await vi.waitFor(() => expect(gateway.health().every((link) => link.connected)).toBe(true), { timeout: 10_000 });
  return { gateway, double, url, port };
}
