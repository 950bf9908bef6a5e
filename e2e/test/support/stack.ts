import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@nattevakt/gateway/clock';
import { parseGatewayConfig } from '@nattevakt/gateway/config/gateway-config';
import { Gateway } from '@nattevakt/gateway/gateway';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import { buildApp, type CommissioningOptions, type NattevaktServer } from '@nattevakt/server/app';
import type { Role } from '@nattevakt/server/auth/auth-service';
import { DateTime } from 'luxon';
import { pino } from 'pino';
import { TcpProxy } from './processes.js';

export const TOKEN = 'test-gateway-token-0123456789';
export const LOCAL_FEED_TOKEN = 'local-feed-token-for-tablets-01';

/** A small ward: three rooms, each with a resident, a bed sensor and a door sensor. */
export function testWard(siteId = 'test'): SiteConfig {
  const rooms = [1, 7, 12];
  return {
    version: 1,
    site: { id: siteId, name: 'Testheimen', timezone: 'Europe/Oslo' },
    rooms: rooms.map((n) => ({ id: `room-${n}`, name: `Rom ${n}` })),
    residents: rooms.map((n) => ({
      id: `res-${n}`,
      name: `Beboer ${n}`,
      roomId: `room-${n}`,
      plan: {
        armed: true,
        nightWindow: { start: '22:00', end: '07:00' },
        rules: {
          doorOpenAtNight: { enabled: true, priority: 'high' },
          outOfBedTooLong: { enabled: true, minutes: 20, priority: 'medium' },
        },
      },
    })),
    sensors: rooms.flatMap((n) => [
      { id: `bed-${n}`, kind: 'bed' as const, roomId: `room-${n}`, residentId: `res-${n}` },
      { id: `door-${n}`, kind: 'door' as const, roomId: `room-${n}` },
    ]),
  };
}

/** An instant given as local wall-clock time in Oslo. */
export const oslo = (iso: string): number => DateTime.fromISO(iso, { zone: 'Europe/Oslo' }).toMillis();

export interface Stack {
  server: NattevaktServer;
  gateway: Gateway;
  clock: ManualClock;
  httpUrl: string;
  mqttUrl: string;
  /** The gateway's health port: /health, /metrics and the local alarm feed (/local). */
  gatewayUrl: string;
  /** With `uplinkProxy`: the TCP proxy the gateway reaches the server through, to cut its uplink. */
  uplink: TcpProxy | null;
  stop(): Promise<void>;
}

/** Starts a real server and a real gateway on ephemeral loopback ports, the gateway on a manual site clock. */
export async function startStack(options: {
  start: number;
  webDir?: string;
  site?: SiteConfig;
  /** The address the gateway announces for its local feed (none when omitted). */
  localFeedUrl?: string;
  /** Devices of the gateway's broker (anonymous demo broker when omitted), e.g. a simulator device. */
  mqttDevices?: { role: 'simulator' | 'bridge' | 'consumer'; username: string; passwordHash: string; prefix?: string }[];
  /** The server's wall clock (tests move it by hand); the system clock when omitted. */
  serverClock?: { now(): number };
  /** Scenario runs and the self-test watch (e.g. `selfTestPollMs: 0` to check by hand). */
  commissioning?: CommissioningOptions;
  /** The gateway reaches the server through a TCP proxy the test can cut (`stack.uplink`). */
  uplinkProxy?: boolean;
}): Promise<Stack> {
  const site = options.site ?? testWard();
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-e2e-'));
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  const server = await buildApp({
    dataDir: join(dir, 'server'),
    logger,
    // Plain http on loopback: the browser keeps the session cookie only without `Secure`.
    auth: { secureCookies: false },
    ...(options.webDir ? { webDir: options.webDir } : {}),
    ...(options.serverClock ? { clock: options.serverClock } : {}),
    ...(options.commissioning ? { commissioning: options.commissioning } : {}),
  });
  await server.sites.save(site);
  // Arming needs a recorded legal basis (issue 4): the test ward's residents get a seeded consent.
  await server.supervision.seedConsent(
    site.site.id,
    site.residents.map((r) => r.id),
    { id: 'system', name: 'e2e test' },
  );
  await server.sites.setGatewayToken(site.site.id, TOKEN);
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const httpPort = (server.app.server.address() as AddressInfo).port;
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const uplink = options.uplinkProxy ? await new TcpProxy(httpPort).start() : null;
  const clock = new ManualClock(options.start);
  const gateway = new Gateway({
    config: parseGatewayConfig({
      version: 1,
      siteId: site.site.id,
      mqtt: { port: 0, ...(options.mqttDevices ? { host: '127.0.0.1', devices: options.mqttDevices } : {}) },
      http: { port: 0 },
      server: { url: uplink ? `http://127.0.0.1:${uplink.port}` : httpUrl, token: TOKEN },
      stateDir: join(dir, 'gateway'),
      clock: 'simulated',
      localFeed: { token: LOCAL_FEED_TOKEN, allowedOrigins: [], ...(options.localFeedUrl ? { publicUrl: options.localFeedUrl } : {}) },
    }),
    siteConfig: site,
    clock,
    logger,
  });
  await gateway.start();
  return {
    server,
    gateway,
    clock,
    httpUrl,
    mqttUrl: `mqtt://127.0.0.1:${gateway.mqttPort}`,
    gatewayUrl: `http://127.0.0.1:${gateway.healthPort}`,
    uplink,
    async stop() {
      await gateway.stop();
      await uplink?.stop();
      await server.app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const PASSWORD = 'e2e password, long enough';

export interface Person {
  username: string;
  displayName?: string;
  role?: Role;
  /** Member of these sites; every configured site when omitted. */
  sites?: string[];
}

/** Creates a person on the stack's site (through the service), so a browser can log in as them. */
export async function addPerson(stack: Stack, person: Person): Promise<void> {
  await stack.server.auth.upsertUser({
    username: person.username,
    displayName: person.displayName ?? person.username,
    role: person.role ?? 'nurse',
    password: PASSWORD,
    sites: person.sites ?? stack.server.sites.list().map((c) => c.site.id),
  });
}

/** Creates the person and logs in over HTTP: resolves with the `Cookie` header for fetch and socket.io-client. */
export async function login(stack: Stack, person: Person): Promise<string> {
  await addPerson(stack, person);
  return loginOverHttp(stack.httpUrl, person.username, PASSWORD);
}

/** POST /api/auth/login; the session cookie as a `Cookie` header value. */
export async function loginOverHttp(httpUrl: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${httpUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-nattevakt': '1' },
    body: JSON.stringify({ username, password }),
  });
  if (!response.ok) throw new Error(`login as ${username}: ${response.status} ${await response.text()}`);
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('nattevakt_session='));
  if (cookie === undefined) throw new Error('login set no session cookie');
  return cookie.split(';', 1)[0] ?? '';
}

/** Resolves when `predicate` holds, polling; fails with `what` after `ms`. */
export async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
