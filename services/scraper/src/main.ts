/**
 * The scraper process: parse the environment, listen, log the bound address,
 * shut down gracefully on SIGTERM/SIGINT.
 */
import { pino } from "pino";
import { ConfigError, loadConfig, type ScraperConfig } from "./config.js";
import { createScraperServer } from "./server.js";

let config: ScraperConfig;
try {
  config = loadConfig(process.env);
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
  process.exit(1);
}

const logger = pino({ level: config.logLevel });
const server = createScraperServer(config, logger);
server.onFatal(() => {
  // Already logged by the server; stop without checkpointing — the next start resumes from what was committed.
  logger.fatal("scraper stopping after a storage failure");
  server.close().finally(() => process.exit(1));
  setTimeout(() => process.exit(1), 5_000).unref();
});

try {
  const { address, metricsUrl } = await server.listen();
  logger.info({ address, ...(metricsUrl === undefined ? {} : { metrics: `${metricsUrl}/metrics` }) }, "scraper listening");
  if (config.authTokens.length === 0) logger.warn(config.accessNotice);
  else logger.info({ tokens: config.authTokens.length }, config.accessNotice);
} catch (err) {
  logger.fatal({ err }, "scraper could not listen");
  process.exit(1);
}

let stopping = false;
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "scraper shutting down");
  server.close().then(
    () => {
      logger.info("scraper stopped");
      process.exit(0);
    },
    (err: unknown) => {
      logger.error({ err }, "scraper shutdown failed");
      process.exit(1);
    },
  );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
