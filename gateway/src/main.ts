#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { hashPassword } from './broker/credentials.js';
import { ConfigError, loadGatewayConfigFile, parseGatewayConfig } from './config/gateway-config.js';
import { Gateway } from './gateway.js';

const usage = `Usage: node gateway/dist/src/main.js --config gateway.json
       node gateway/dist/src/main.js hash-password < password-file

Runs one site's Nattevakt gateway: embedded MQTT broker, rules, outbox and uplink.

Commands:
  hash-password   reads a device's MQTT password from stdin (or asks for it without echo) and
                  prints its argon2id hash for mqtt.devices[].passwordHash in the configuration
                  (gateway/README.md, "Broker and security")

Options:
  --config FILE   gateway configuration (JSON; see deploy/CONFIGURATION.md)
  --help          this text

Environment overrides: NATTEVAKT_MQTT_PORT, NATTEVAKT_SERVER_URL, NATTEVAKT_GATEWAY_TOKEN.`;

const logger = pino({ name: 'gateway' });

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { config: { type: 'string' }, help: { type: 'boolean' } }, allowPositionals: true });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (positionals[0] === 'hash-password') {
    // Only the hash goes to stdout, so `hash-password < pw > hash` never captures anything else.
    const password = await readPassword();
    const problem = password === null ? 'cancelled' : passwordProblem(password);
    if (password === null || problem !== null) {
      process.stderr.write(`nattevakt gateway hash-password: ${problem}\n`);
      process.exitCode = 2;
      return;
    }
    process.stdout.write(`${await hashPassword(password)}\n`);
    return;
  }
  if (positionals.length > 0) throw new ConfigError(`unknown command ${positionals[0]}\n\n${usage}`);
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

/** Why a device password is not good enough, or null. */
function passwordProblem(password: string): string | null {
  if ([...password].length < 12) return 'use a password of at least 12 characters (e.g. openssl rand -base64 18)';
  if (password.length > 1024) return 'the password is longer than 1024 characters';
  return null;
}

/** The password from a pipe or file (one trailing line break dropped), or typed at a terminal without echo; null if cancelled. */
async function readPassword(): Promise<string | null> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  process.stderr.write('Password (not shown): ');
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  let password = '';
  try {
    for await (const chunk of stdin) {
      for (const char of chunk as string) {
        if (char === '\r' || char === '\n' || char === '\u0004') return password;
        if (char === '\u0003') return null; // Ctrl-C
        if (char === '\u007f' || char === '\b') password = [...password].slice(0, -1).join('');
        else password += char;
      }
    }
    return password;
  } finally {
    stdin.setRawMode(false);
    process.stderr.write('\n');
  }
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
