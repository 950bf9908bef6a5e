#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ConfigError, loadGatewayConfigFile, parseGatewayConfig } from './config/gateway-config.js';
import { Gateway } from './gateway.js';

const usage = `Usage: node gateway/dist/src/main.js --config gateway.json

Runs one site's Nattevakt gateway: embedded MQTT broker, rules, outbox and uplink.

Options:
  --config FILE   gateway configuration (JSON; see docs/configuration.md)
  --help          this text

Environment overrides: NATTEVAKT_MQTT_PORT, NATTEVAKT_SERVER_URL, NATTEVAKT_GATEWAY_TOKEN.`;

const logger = pino({ name: 'gateway' });

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (values.config === undefined) throw new ConfigError(`--config is required\n\n${usage}`);
  let config = loadGatewayConfigFile(values.config);
  const env = process.env;
  if (env.NATTEVAKT_MQTT_PORT || env.NATTEVAKT_SERVER_URL || env.NATTEVAKT_GATEWAY_TOKEN) {
    config = parseGatewayConfig({
      ...config,
      mqtt: { ...config.mqtt, ...(env.NATTEVAKT_MQTT_PORT ? { port: Number(env.NATTEVAKT_MQTT_PORT) } : {}) },
      server:
        env.NATTEVAKT_SERVER_URL || env.NATTEVAKT_GATEWAY_TOKEN
          ? { url: env.NATTEVAKT_SERVER_URL ?? config.server?.url, token: env.NATTEVAKT_GATEWAY_TOKEN ?? config.server?.token }
          : config.server,
    });
  }
  const gateway = new Gateway({ config, logger });
  await gateway.start();
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    gateway.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    logger.fatal(error.message);
    process.stderr.write(`\nnattevakt gateway: ${error.message}\n`);
    process.exit(2);
  }
  logger.fatal({ err: error }, 'gateway failed to start');
  process.exit(1);
});
