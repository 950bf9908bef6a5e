import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@nattevakt/gateway/clock';
import { parseGatewayConfig } from '@nattevakt/gateway/config/gateway-config';
import { Gateway } from '@nattevakt/gateway/gateway';
import type { Alarm } from '@nattevakt/protocol/alarm';
import { topics } from '@nattevakt/protocol/topics';
import { buildApp } from '@nattevakt/server/app';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, oslo, TOKEN, testWard } from './support/stack.js';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('the uplink is down when the alarm happens', () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('decides locally, keeps everything in the outbox across a gateway restart, and delivers once the server is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nattevakt-outage-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const logger = pino({ level: 'silent' });
    const site = testWard();
    const gatewayConfig = parseGatewayConfig({
      version: 1,
      siteId: 'test',
      mqtt: { port: 0 },
      http: { port: 0 },
      server: { url: `http://127.0.0.1:${port}`, token: TOKEN },
      stateDir: join(dir, 'gateway'),
      clock: 'simulated',
    });

    // 1. Gateway alone: the server is not running.
    const first = new Gateway({ config: gatewayConfig, siteConfig: site, clock: new ManualClock(oslo('2026-11-25T03:10:00')), logger });
    await first.start();
    const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${first.mqttPort}`);
    const local: Alarm[] = [];
    await sensor.subscribeAsync(topics.alarms('test'), { qos: 1 });
    sensor.on('message', (_t, payload) => local.push(JSON.parse(payload.toString()) as Alarm));
    await sensor.publishAsync(topics.sensorState('test', 'door-7'), '{"kind":"door","open":true}', { qos: 1 });
    await eventually('local alarm while the uplink is down', () => local[0]);
    expect(first.outboxDepth).toBe(2);
    await sensor.endAsync();
    await first.stop();

    // 2. The gateway restarts, still without a server: nothing is lost.
    const second = new Gateway({ config: gatewayConfig, clock: new ManualClock(oslo('2026-11-25T03:11:00')), logger });
    await second.start();
    cleanups.push(() => second.stop());
    expect(second.siteConfig.residents).toHaveLength(3); // booted from the configuration it stored
    expect(second.outboxDepth).toBe(2);

    // 3. The server comes up: the alarm arrives exactly once.
    const server = await buildApp({ dataDir: join(dir, 'server'), logger });
    await server.sites.save(site);
    await server.supervision.seedConsent(
      site.site.id,
      site.residents.map((r) => r.id),
      { id: 'system', name: 'e2e test' },
    );
    await server.sites.setGatewayToken('test', TOKEN);
    await server.app.listen({ host: '127.0.0.1', port });
    cleanups.push(() => server.app.close());
    await eventually('outbox drained', () => second.outboxDepth === 0, 15_000);
    const open = await server.alarms.open();
    expect(open.alarms).toHaveLength(1);
    expect(open.alarms[0]).toMatchObject({ id: local[0]?.id, rule: 'door-open-at-night', roomId: 'room-7' });
  });
});
