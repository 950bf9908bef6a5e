#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkSiteConfig } from '@nattevakt/protocol/site-config';
import { pino } from 'pino';
import { buildApp } from './app.js';

const usage = `Usage: node server/dist/src/main.js [options]

Runs the Nattevakt server: alarm lifecycle, stores, REST API, Socket.IO and the web app.

Options:
  --host ADDR            listen address (default 127.0.0.1; there is no login yet, keep it on loopback)
  --port N               HTTP port (default 8080, or NATTEVAKT_PORT)
  --data-dir DIR         embedded stores (default data/server)
  --web-dir DIR          built web app (default web/dist of this checkout)
  --seed-site FILE       create or replace a site from a site configuration JSON (demo)
  --gateway-token TOKEN  the token that site's gateway authenticates with (with --seed-site)
  --help                 this text`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: process.env.NATTEVAKT_PORT ?? '8080' },
      'data-dir': { type: 'string', default: 'data/server' },
      'web-dir': { type: 'string' },
      'seed-site': { type: 'string' },
      'gateway-token': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a TCP port number, got "${values.port}"`);
  const here = dirname(fileURLToPath(import.meta.url));
  const webDir = values['web-dir'] ?? resolve(here, '../../../web/dist');
  const server = await buildApp({ dataDir: values['data-dir'], webDir, logger: pino({ name: 'server' }) });
  const log = server.logger;

  if (values['seed-site'] !== undefined) {
    const checked = checkSiteConfig(JSON.parse(readFileSync(values['seed-site'], 'utf8')));
    if (!checked.ok) throw new UsageError(`${values['seed-site']} is not a valid site configuration:\n  ${checked.errors.join('\n  ')}`);
    await server.sites.save(checked.value);
    if (values['gateway-token'] !== undefined) await server.sites.setGatewayToken(checked.value.site.id, values['gateway-token']);
    log.info({ siteId: checked.value.site.id, residents: checked.value.residents.length }, 'site seeded');
  }

  try {
    await server.app.listen({ host: values.host, port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new UsageError(`port ${port} is in use: start with --port N (or NATTEVAKT_PORT) to use another`);
    throw error;
  }
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    server.app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

class UsageError extends Error {}

main().catch((error: unknown) => {
  process.stderr.write(`nattevakt server: ${error instanceof UsageError ? error.message : (error as Error).stack}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
