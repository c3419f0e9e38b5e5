/**
 * The gateway process: parse the environment, listen, log the URL, and shut
 * down gracefully on SIGTERM/SIGINT.
 */
import { pino } from "pino";
import { ConfigError, parseConfig, type GatewayConfig } from "./config.js";
import { createGateway } from "./gateway.js";

function readConfig(): GatewayConfig {
  try {
    return parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`trawl gateway: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

const config = readConfig();
const logger = pino({ level: config.logLevel });
const gateway = createGateway(config, logger);

try {
  const { url } = await gateway.listen();
  logger.info({ url }, "gateway listening");
  if (config.authTokens.length === 0) logger.warn(config.accessNotice);
  else logger.info({ tokens: config.authTokens.length }, config.accessNotice);
} catch (error) {
  logger.fatal({ err: error instanceof Error ? error.message : String(error) }, "gateway failed to listen");
  process.exit(1);
}

const shutdown = (signal: NodeJS.Signals): void => {
  logger.info({ signal }, "gateway shutting down");
  gateway.close().then(
    () => {
      logger.info("gateway closed");
      process.exit(0);
    },
    (error: unknown) => {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, "gateway shutdown failed");
      process.exit(1);
    },
  );
};
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
