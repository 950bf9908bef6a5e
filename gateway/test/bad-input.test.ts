import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlarmDecision } from '@nattevakt/protocol/alarm';
import { topics } from '@nattevakt/protocol/topics';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { parseGatewayConfig } from '../src/config/gateway-config.js';
import { Gateway } from '../src/gateway.js';
import { siteWithAstrid } from './support/site.js';

const site = siteWithAstrid([
  { id: 'door-7', kind: 'door', roomId: 'room-7' },
  { id: 'bed-7', kind: 'bed', roomId: 'room-7', residentId: 'res-7' },
]);

/** A log destination the test can read: one parsed JSON object per line. */
function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { lines, logger };
}

describe('gateway with bad input from sensors', () => {
  let dir: string;
  let gateway: Gateway;
  let client: MqttClient;
  let logs: ReturnType<typeof captureLogs>;
  const alarms: AlarmDecision[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-bad-input-'));
    logs = captureLogs();
    gateway = new Gateway({
      config: parseGatewayConfig({ version: 1, siteId: 'demo', mqtt: { port: 0 }, http: { port: 0 }, stateDir: dir }),
      siteConfig: site,
      clock: new ManualClock(Date.parse('2026-11-25T02:10:00Z')), // 03:10 in Oslo
      logger: logs.logger,
    });
    await gateway.start();
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.mqttPort}`, { clientId: 'test-sensor' });
    await client.subscribeAsync(topics.alarms('demo'), { qos: 1 });
    client.on('message', (_topic, payload) => alarms.push(JSON.parse(payload.toString()) as AlarmDecision));
  });

  afterEach(async () => {
    alarms.length = 0;
    await client.endAsync();
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const rejectedCount = async (reason: string) =>
    (await gateway.metrics.rejected.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
  const waitFor = async (check: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
  };

  it('rejects each bad message with one log line and a counter, then processes the next valid one', async () => {
    const bad: [string, string, string][] = [
      [topics.sensorState('demo', 'door-7'), '{"kind":"door","open":', 'not-json'],
      [topics.sensorState('demo', 'door-7'), '{"kind":"door","open":"very"}', 'schema'],
      [topics.sensorState('demo', 'door-99'), '{"kind":"door","open":true}', 'unknown-sensor'],
      [topics.sensorState('demo', 'door-7'), '{"kind":"bed","occupied":true}', 'wrong-kind'],
      [topics.sensorState('demo', 'door-7'), JSON.stringify({ kind: 'door', open: true, pad: 'x'.repeat(4000) }), 'oversize'],
    ];
    for (const [topic, payload] of bad) await client.publishAsync(topic, payload, { qos: 1 });
    await waitFor(async () => (await rejectedCount('oversize')) === 1);
    for (const [, , reason] of bad) expect(await rejectedCount(reason), reason).toBe(1);
    const rejections = logs.lines.filter((l) => l.msg === 'sensor message rejected');
    expect(rejections.map((l) => l.reason)).toEqual(bad.map(([, , reason]) => reason));
    expect(rejections[0]).toMatchObject({ level: 40, sensorId: 'door-7', topic: topics.sensorState('demo', 'door-7') });
    expect(alarms).toEqual([]);

    // The same sensor's next valid message is still decided on, on the same connection.
    await client.publishAsync(topics.sensorState('demo', 'door-7'), '{"kind":"door","open":true}', { qos: 1 });
    await waitFor(() => alarms.length === 1);
    expect(alarms[0]).toMatchObject({ rule: 'door-open-at-night', roomId: 'room-7', residentId: 'res-7' });
    expect(client.connected).toBe(true);
    // Everything accepted waits in the durable outbox (no server configured here).
    expect(gateway.outboxDepth).toBe(2);
  });

  it('refuses publishing outside the sensor topics by closing the connection', async () => {
    const intruder = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.mqttPort}`, { clientId: 'intruder', reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => intruder.once('close', () => resolve()));
    intruder.publish(topics.alarms('demo'), JSON.stringify({ fake: true }), { qos: 0 });
    await closed;
    await intruder.endAsync(true);
    expect(alarms).toEqual([]);
  });

  it('says which setting to change when the broker port is taken', async () => {
    const second = new Gateway({
      config: parseGatewayConfig({
        version: 1,
        siteId: 'demo',
        mqtt: { port: gateway.mqttPort },
        http: { port: 0 },
        stateDir: join(dir, 'second'),
      }),
      siteConfig: site,
      logger: pino({ level: 'silent' }),
    });
    await expect(second.start()).rejects.toThrow(/already in use.*mqtt\.port/s);
  });
});
