/**
 * What the hostile-input suites share: fast-check settings (a small seeded run in CI, a long one
 * by hand), and a real server with a real gateway whose broker has enrolled devices (a sensor per
 * door, a simulator, a Zigbee2MQTT bridge) on ephemeral loopback ports.
 *
 *   FUZZ_RUNS=5000 FUZZ_SEED=$RANDOM npx vitest run e2e/test/fuzz      # a long run by hand
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '@nattevakt/gateway/broker/credentials';
import { ManualClock } from '@nattevakt/gateway/clock';
import { parseGatewayConfig } from '@nattevakt/gateway/config/gateway-config';
import { Gateway } from '@nattevakt/gateway/gateway';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import { buildApp, type NattevaktServer } from '@nattevakt/server/app';
import type { Parameters } from 'fast-check';
import { pino } from 'pino';
import { oslo, TOKEN, testWard } from '../support/stack.js';

/** Runs per property: modest in CI; `FUZZ_RUNS` for a long run by hand. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
/** One seed for every property, so a CI failure replays; `FUZZ_SEED` to explore. */
export const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
export const fcOptions = (runs = RUNS): Parameters<unknown> => ({ numRuns: runs, seed: SEED, endOnFailure: true });

export const SITE = 'fuzz';
export const OTHER_SITE = 'fuzz-other';
export const DEVICE_PASSWORD = 'fuzz device password, long enough';
/** A Zigbee2MQTT door contact mapped onto `door-z` (friendly names may contain '/'). */
export const Z2M_DOOR = 'ward/r12/door';

/** The control room: nothing hostile is ever sent for its door, so its alarm after the fuzz is a clean signal. */
export const CONTROL = { roomId: 'room-99', residentId: 'res-99', sensorId: 'door-99' } as const;

/** The test ward plus a Zigbee2MQTT door in room 12 and the control room 99. */
export function fuzzWard(siteId = SITE): SiteConfig {
  const ward = testWard(siteId);
  const plan = ward.residents[0]?.plan;
  if (plan === undefined) throw new Error('test ward without residents');
  return {
    ...ward,
    rooms: [...ward.rooms, { id: CONTROL.roomId, name: 'Rom 99' }],
    residents: [...ward.residents, { id: CONTROL.residentId, name: 'Beboer 99', roomId: CONTROL.roomId, plan }],
    sensors: [
      ...ward.sensors,
      { id: 'door-z', kind: 'door', roomId: 'room-12' },
      { id: CONTROL.sensorId, kind: 'door', roomId: CONTROL.roomId },
    ],
  };
}

export interface FuzzStack {
  server: NattevaktServer;
  gateway: Gateway;
  clock: ManualClock;
  httpUrl: string;
  mqttUrl: string;
  stop(): Promise<void>;
}

let hashed: Promise<string> | undefined;

/**
 * A real server and a real gateway (simulated clock at 03:00 in Oslo: night), the gateway's broker
 * with enrolled devices: `door-1` and `door-7` (sensors, each only its own topics), `sim` (the
 * simulator: every sensor of the site and the clock), `z2m` (a bridge below `zigbee2mqtt/`).
 */
export async function startFuzzStack(): Promise<FuzzStack> {
  const dir = mkdtempSync(join(tmpdir(), 'nattevakt-fuzz-'));
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  const server = await buildApp({ dataDir: join(dir, 'server'), logger, auth: { secureCookies: false } });
  const site = fuzzWard();
  await server.sites.save(site);
  await server.sites.save(testWard(OTHER_SITE));
  // Arming needs a recorded legal basis: every resident of both sites gets a seeded consent.
  for (const ward of [site, testWard(OTHER_SITE)]) {
    await server.supervision.seedConsent(
      ward.site.id,
      ward.residents.map((r) => r.id),
      { id: 'system', name: 'fuzz test' },
    );
  }
  await server.sites.setGatewayToken(SITE, TOKEN);
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const httpUrl = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
  hashed ??= hashPassword(DEVICE_PASSWORD);
  const passwordHash = await hashed;
  const clock = new ManualClock(oslo('2026-11-25T03:00:00'));
  const gateway = new Gateway({
    config: parseGatewayConfig({
      version: 1,
      siteId: SITE,
      mqtt: {
        port: 0,
        devices: [
          { username: 'door-1', passwordHash, role: 'sensor', sensorIds: ['door-1'] },
          { username: 'door-7', passwordHash, role: 'sensor', sensorIds: ['door-7'] },
          { username: CONTROL.sensorId, passwordHash, role: 'sensor', sensorIds: [CONTROL.sensorId] },
          { username: 'sim', passwordHash, role: 'simulator' },
          { username: 'z2m', passwordHash, role: 'bridge', prefix: 'zigbee2mqtt' },
        ],
      },
      http: { port: 0 },
      server: { url: httpUrl, token: TOKEN },
      stateDir: join(dir, 'gateway'),
      clock: 'simulated',
      zigbee2mqtt: { baseTopic: 'zigbee2mqtt', devices: [{ friendlyName: Z2M_DOOR, sensorId: 'door-z' }] },
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
    async stop() {
      await gateway.stop();
      await server.app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sum of a prom-client counter, over all labels or those matching `labels`. */
export async function counter(
  metric: { get(): Promise<{ values: { value: number; labels: Record<string, string | number | undefined> }[] }> },
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}
