#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkSiteConfig } from '@nattevakt/protocol/site-config';
import { pino } from 'pino';
import { buildApp } from './app.js';
import type { Role } from './auth/auth-service.js';
import { parseRawEventDays } from './reports/retention.js';
import { isPostgresUrl } from './stores/relational/database.js';

const usage = `Usage: node server/dist/src/main.js [options]

Runs the Nattevakt server: alarm lifecycle, stores, REST API, Socket.IO and the web app.

Options:
  --host ADDR            listen address (default 127.0.0.1); off loopback the session cookie is Secure,
                         so serve it behind HTTPS
  --port N               HTTP port (default 8080, or NATTEVAKT_PORT)
  --data-dir DIR         embedded stores (default data/server)
  --database-url URL     relational store: postgres://user@host:5432/db (PostgreSQL, production)
                         or a SQLite file path (default: DIR/nattevakt.db, or DATABASE_URL)
  --web-dir DIR          built web app (default web/dist of this checkout)
  --redis-url URL        more than one instance: redis://host:6379[/db] for the Socket.IO adapter and
                         messages between instances (default REDIS_URL); use PostgreSQL with it
  --redis-key-prefix P   prefix of every Redis key and channel (default REDIS_KEY_PREFIX or "nattevakt:")
  --raw-event-days N     delete raw sensor events after N days (default 30, or NATTEVAKT_RAW_EVENT_DAYS);
                         nights are summarised first, and summaries and the alarm audit trail are kept
  --escalate-after LIST  escalation delay per priority in ms, e.g. high=60000,medium=180000,low=off
                         (default high=60000,medium=180000,low=600000,technical=1800000)
  --seed-site FILE       create or replace a site from a site configuration JSON (demo); every resident
                         whose plan there says "armed": true and who has no legal basis yet gets a consent
                         recorded as "demo seed" (audited), so the demo ward is armed
  --gateway-token TOKEN  the token that site's gateway authenticates with (with --seed-site)
  --bootstrap-admin NAME the first admin of a new installation, created only while no enabled admin
                         exists (safe on every start and on every instance); the password is
                         NATTEVAKT_ADMIN_PASSWORD (at least 12 characters), or a new random one
                         printed once on stderr
  --seed-demo-users      create demo users (sykepleier, leder, tekniker, admin) on the seeded site with
                         new random passwords, printed once on stderr (demo only; with --seed-site)
  --help                 this text

Environment (time series; the embedded SQLite store when INFLUX_URL is unset):
  INFLUX_URL             InfluxDB base URL (2.x, 3 Core/Enterprise, 1.8+), e.g. http://influxdb:8086
  INFLUX_TOKEN           API token (1.8 with auth: user:password)
  INFLUX_ORG             organisation (2.x; ignored by 1.8 and 3.x)
  INFLUX_BUCKET          bucket (2.x), database (3.x) or db/rp (1.8); also the InfluxQL database

Environment (more than one instance):
  REDIS_URL              as --redis-url
  REDIS_KEY_PREFIX       as --redis-key-prefix, so several installations can share one Redis

Environment (first start):
  NATTEVAKT_ADMIN_PASSWORD  the password --bootstrap-admin gives the first admin

Environment (secrets):
  NATTEVAKT_SECRET_KEY   32 bytes (64 hex digits or base64) that encrypt stored secrets, such as the
                         password of a gateway broker's simulator device for scenario runs (AES-256-GCM);
                         default: DIR/secret.key, created once with mode 0600. Every instance of a
                         cluster needs the same key: set it there`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: process.env.NATTEVAKT_PORT ?? '8080' },
      'data-dir': { type: 'string', default: 'data/server' },
      'database-url': { type: 'string', default: process.env.DATABASE_URL || undefined },
      'web-dir': { type: 'string' },
      'redis-url': { type: 'string', default: process.env.REDIS_URL || undefined },
      'redis-key-prefix': { type: 'string', default: process.env.REDIS_KEY_PREFIX || 'nattevakt:' },
      'escalate-after': { type: 'string' },
      'raw-event-days': { type: 'string', default: process.env.NATTEVAKT_RAW_EVENT_DAYS || undefined },
      'seed-site': { type: 'string' },
      'gateway-token': { type: 'string' },
      'seed-demo-users': { type: 'boolean' },
      'bootstrap-admin': { type: 'string' },
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
  const databaseUrl = values['database-url'];
  const redisUrl = values['redis-url'];
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl))
    throw new UsageError(`--redis-url (or REDIS_URL) must be a redis:// or rediss:// URL, got "${redisUrl}"`);
  const escalation = values['escalate-after'] === undefined ? undefined : parseEscalation(values['escalate-after']);
  const rawEventDays = values['raw-event-days'];
  let retention: { rawEventDays: number } | undefined;
  try {
    retention =
      rawEventDays === undefined
        ? undefined
        : { rawEventDays: parseRawEventDays(rawEventDays, '--raw-event-days (or NATTEVAKT_RAW_EVENT_DAYS)') };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const server = await buildApp({
    dataDir: values['data-dir'],
    ...(databaseUrl !== undefined ? { databaseUrl } : {}),
    webDir,
    ...influxOptions(),
    ...(redisUrl !== undefined ? { redis: { url: redisUrl, keyPrefix: values['redis-key-prefix'] } } : {}),
    ...(escalation !== undefined ? { escalation: { afterMs: escalation } } : {}),
    ...(retention !== undefined ? { retention } : {}),
    // Browsers keep `Secure` cookies from plain http only on loopback; anywhere else, serve over HTTPS.
    auth: { secureCookies: !isLoopback(values.host) },
    logger: pino({ name: 'server' }),
    ...(process.env.NATTEVAKT_SECRET_KEY ? { commissioning: { secretKey: process.env.NATTEVAKT_SECRET_KEY } } : {}),
  });
  const log = server.logger;
  const postgres = databaseUrl !== undefined && isPostgresUrl(databaseUrl);
  log.info({ engine: postgres ? 'postgres' : 'sqlite', clustered: redisUrl !== undefined }, 'relational store ready');
  if (redisUrl !== undefined && !process.env.NATTEVAKT_SECRET_KEY)
    log.warn(
      'Redis is set but NATTEVAKT_SECRET_KEY is not: each instance seals stored secrets with its own key, so a simulator password set on one cannot be read on another',
    );
  if (redisUrl !== undefined && !postgres)
    log.warn(
      'Redis is set but the relational store is SQLite: instances on other machines cannot share it; use --database-url postgres://…',
    );

  if (values['seed-site'] !== undefined) {
    const checked = checkSiteConfig(JSON.parse(readFileSync(values['seed-site'], 'utf8')));
    if (!checked.ok) throw new UsageError(`${values['seed-site']} is not a valid site configuration:\n  ${checked.errors.join('\n  ')}`);
    await server.sites.save(checked.value);
    if (values['gateway-token'] !== undefined) await server.sites.setGatewayToken(checked.value.site.id, values['gateway-token']);
    // Arming needs a recorded legal basis: the demo's residents get a consent marked as seeded.
    const seeded = await server.supervision.seedConsent(
      checked.value.site.id,
      checked.value.residents.filter((r) => r.plan.armed).map((r) => r.id),
      { id: 'system', name: 'demo seed' },
    );
    log.info({ siteId: checked.value.site.id, residents: checked.value.residents.length, consentsSeeded: seeded }, 'site seeded');
    if (values['seed-demo-users']) {
      const lines: string[] = [];
      for (const [username, displayName, role] of DEMO_USERS) {
        const password = randomBytes(9).toString('base64url');
        await server.auth.upsertUser({ username, displayName, role, password, sites: [checked.value.site.id] });
        lines.push(`${DEMO_LOGIN}   ${username.padEnd(11)} ${password}   (${displayName}, ${role})`);
      }
      // A relative of the first resident, who has consented to share summaries (demo only).
      const resident = checked.value.residents[0];
      if (resident !== undefined) {
        const password = randomBytes(9).toString('base64url');
        await server.auth.upsertUser({ username: 'parorende', displayName: 'Pårørende Demo', role: 'relative', password, sites: [] });
        const seed = { id: 'system', username: 'system', displayName: 'demo seed', role: 'admin' as const, sites: [] };
        await server.relatives.link(checked.value.site.id, resident.id, 'parorende', seed);
        if ((await server.relatives.consent(checked.value.site.id, resident.id)) === null)
          await server.relatives.recordConsent(
            checked.value.site.id,
            resident.id,
            { givenBy: 'resident', givenOn: new Date().toISOString().slice(0, 10), note: 'demo seed' },
            seed,
          );
        lines.push(`${DEMO_LOGIN}   ${'parorende'.padEnd(11)} ${password}   (Pårørende Demo, relative of ${resident.name})`);
      }
      // Printed once, on the terminal only: never in a log line.
      process.stderr.write(`${DEMO_LOGIN} demo users for site ${checked.value.site.id} (username, password):\n${lines.join('\n')}\n`);
    }
  } else if (values['seed-demo-users']) throw new UsageError('--seed-demo-users needs --seed-site');

  const bootstrap = values['bootstrap-admin'];
  if (bootstrap !== undefined) {
    const given = process.env.NATTEVAKT_ADMIN_PASSWORD;
    if (given !== undefined && given.length < 12) throw new UsageError('NATTEVAKT_ADMIN_PASSWORD must be at least 12 characters');
    const password = given ?? randomBytes(15).toString('base64url');
    const created = await server.auth.bootstrapAdmin({
      username: bootstrap,
      displayName: bootstrap,
      password,
      sites: server.sites.list().map((c) => c.site.id),
    });
    if (!created) log.info('an admin exists: --bootstrap-admin changes nothing');
    else {
      log.info({ username: bootstrap }, 'first admin created');
      // Printed once, on the terminal only: never in a log line.
      if (given === undefined)
        process.stderr.write(`first admin: ${bootstrap}   password: ${password}   (change it after the first login)\n`);
    }
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

/** Marks the printed demo logins, so scripts/demo.mjs shows them but keeps them out of its log files. */
const DEMO_LOGIN = '[demo-login]';

const DEMO_USERS: [string, string, Role][] = [
  ['sykepleier', 'Sykepleier Demo', 'nurse'],
  ['leder', 'Leder Demo', 'nurse_in_charge'],
  ['tekniker', 'Tekniker Demo', 'technician'],
  ['admin', 'Admin Demo', 'admin'],
];

const PRIORITIES = ['high', 'medium', 'low', 'technical'] as const;

/** `high=60000,medium=180000,low=off` → delays per priority (ms; `off`: never escalates). */
function parseEscalation(list: string): Partial<Record<(typeof PRIORITIES)[number], number | null>> {
  const afterMs: Partial<Record<(typeof PRIORITIES)[number], number | null>> = {};
  for (const part of list.split(',')) {
    const [name, value] = part.split('=', 2).map((s) => s.trim());
    const priority = PRIORITIES.find((p) => p === name);
    if (priority === undefined || value === undefined || value === '')
      throw new UsageError(`--escalate-after: "${part}" is not priority=ms; priorities are ${PRIORITIES.join(', ')}`);
    const ms = value === 'off' ? null : Number(value);
    if (ms !== null && !(Number.isInteger(ms) && ms > 0))
      throw new UsageError(`--escalate-after: ${priority} must be a whole number of milliseconds above 0, or off; got "${value}"`);
    afterMs[priority] = ms;
  }
  return afterMs;
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);

/** The InfluxDB time-series engine from INFLUX_* variables; none (embedded store) without INFLUX_URL. */
function influxOptions(): { influx?: { url: string; token?: string; org: string; bucket: string } } {
  const { INFLUX_URL: url, INFLUX_TOKEN: token, INFLUX_ORG: org, INFLUX_BUCKET: bucket } = process.env;
  if (!url) return {};
  if (!bucket) throw new UsageError('INFLUX_URL is set but INFLUX_BUCKET is not: name the bucket (2.x), database (3.x) or db/rp (1.8)');
  return { influx: { url, org: org || '-', bucket, ...(token ? { token } : {}) } };
}

main().catch((error: unknown) => {
  process.stderr.write(`nattevakt server: ${error instanceof UsageError ? error.message : (error as Error).stack}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
