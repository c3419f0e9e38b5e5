/**
 * Boots the real Trawl processes for a suite: a scraper (gRPC on an
 * ephemeral port) and a gateway (HTTP/WS on an ephemeral port) watching it,
 * plus the fixture site they crawl. Ports come from the services' own
 * "listening" log lines, exactly as the process contract describes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FixtureSite, type FixtureSiteOptions, startFixtureSite } from "../fixture/site.js";
import { GATEWAY_MAIN, SCRAPER_MAIN, type ServiceProcess, startService } from "./processes.js";

export interface ScraperProcess extends ServiceProcess {
  /** "127.0.0.1:<port>" */
  readonly address: string;
}

export interface GatewayProcess extends ServiceProcess {
  /** "http://127.0.0.1:<port>" */
  readonly url: string;
  /** "ws://127.0.0.1:<port>" */
  readonly wsUrl: string;
}

/** Crawl timeout used by every suite: far below the fixture's slow page, far above a normal page. */
export const TEST_REQUEST_TIMEOUT_MS = 4_000;

export const DEFAULT_SCRAPER_ENV: Readonly<Record<string, string>> = {
  SCRAPER_HOST: "127.0.0.1",
  SCRAPER_PORT: "0",
  CRAWL_REQUEST_TIMEOUT_MS: String(TEST_REQUEST_TIMEOUT_MS),
  CRAWL_MAX_DEPTH: "10",
  CRAWL_MAX_PAGES: "1000",
  CRAWL_MAX_PAGES_LIMIT: "5000",
  CRAWL_CONCURRENCY: "8",
  PROGRESS_INTERVAL_MS: "50",
  // The fixture site is on 127.0.0.1, which the SSRF guard refuses unless allowed.
  CRAWL_ALLOW_ADDRESSES: "127.0.0.1",
  // No pacing and no retries, so the suites stay fast and the 500/503 pages' truth is unchanged;
  // robots.txt stays respected (the fixture's allows everything).
  CRAWL_PER_HOST_DELAY_MS: "0",
  CRAWL_PER_HOST_CONCURRENCY: "8",
  CRAWL_MAX_RETRIES: "0",
};

export const DEFAULT_GATEWAY_ENV: Readonly<Record<string, string>> = {
  GATEWAY_HOST: "127.0.0.1",
  GATEWAY_PORT: "0",
};

/**
 * Starts a scraper. Unless `env` names a DATA_DIR (as the resume tests do, to
 * restart on the same data), it gets a fresh one of its own, removed when the
 * process exits: a scraper resumes every unfinished job it finds in its
 * database, so suites must never share one.
 */
export async function startScraper(env: Record<string, string> = {}): Promise<ScraperProcess> {
  const ownDataDir = env.DATA_DIR === undefined ? mkdtempSync(join(tmpdir(), "trawl-scraper-")) : undefined;
  let service: ServiceProcess;
  try {
    service = await startService({
      name: "scraper",
      main: SCRAPER_MAIN,
      env: { ...DEFAULT_SCRAPER_ENV, ...(ownDataDir === undefined ? {} : { DATA_DIR: ownDataDir }), ...env },
      isListening: (json) => json.msg === "scraper listening" && typeof json.address === "string",
    });
  } catch (error) {
    if (ownDataDir !== undefined) rmSync(ownDataDir, { recursive: true, force: true });
    throw error;
  }
  if (ownDataDir !== undefined) void service.exited.then(() => rmSync(ownDataDir, { recursive: true, force: true }));
  return Object.assign(service, { address: String(service.listening.address) });
}

export async function startGateway(scraperAddresses: readonly string[], env: Record<string, string> = {}): Promise<GatewayProcess> {
  const service = await startService({
    name: "gateway",
    main: GATEWAY_MAIN,
    env: { ...DEFAULT_GATEWAY_ENV, SCRAPER_ADDRESSES: scraperAddresses.join(","), ...env },
    isListening: (json) => json.msg === "gateway listening" && typeof json.url === "string",
  });
  const url = String(service.listening.url).replace(/\/$/, "");
  return Object.assign(service, { url, wsUrl: url.replace(/^http/, "ws") });
}

export interface StackOptions {
  readonly site?: FixtureSiteOptions;
  readonly scraperEnv?: Record<string, string>;
  readonly gatewayEnv?: Record<string, string>;
}

export interface Stack {
  readonly site: FixtureSite;
  readonly scraper: ScraperProcess;
  /** The current gateway (replaceable: see `restartGateway`). */
  gateway: GatewayProcess;
  /** Kills the gateway (SIGKILL) and starts a new one against the same scraper. */
  restartGateway(): Promise<GatewayProcess>;
  /** Log tails of every process, for failure messages. */
  diagnostics(): string;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const site = await startFixtureSite(options.site);
  let scraper: ScraperProcess | undefined;
  try {
    scraper = await startScraper(options.scraperEnv);
    const gateway = await startGateway([scraper.address], options.gatewayEnv);
    const started = scraper;
    const retired: GatewayProcess[] = [];
    const stack: Stack = {
      site,
      scraper: started,
      gateway,
      restartGateway: async () => {
        await stack.gateway.kill();
        retired.push(stack.gateway);
        stack.gateway = await startGateway([started.address], options.gatewayEnv);
        return stack.gateway;
      },
      diagnostics: () =>
        [`--- scraper (${started.address}) ---`, started.logTail(60), `--- gateway (${stack.gateway.url}) ---`, stack.gateway.logTail(60)].join("\n"),
      stop: async () => {
        await Promise.allSettled([stack.gateway.stop(), ...retired.map((old) => old.kill())]);
        await started.stop();
        await site.close();
      },
    };
    return stack;
  } catch (error) {
    await scraper?.kill();
    await site.close();
    throw error;
  }
}
