import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import { topics } from '@nattevakt/protocol/topics';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { ConfigError, parseGatewayConfig } from '../src/config/gateway-config.js';
import { Gateway } from '../src/gateway.js';
import { UnchangedReports } from '../src/outbox/unchanged-reports.js';
import { siteWithAstrid } from './support/site.js';

const site = siteWithAstrid([
  { id: 'door-7', kind: 'door', roomId: 'room-7' },
  { id: 'bed-7', kind: 'bed', roomId: 'room-7', residentId: 'res-7' },
]);
const T0 = Date.parse('2026-11-25T02:10:00Z'); // 03:10 in Oslo

describe('report by exception: what goes to the server', () => {
  let dir: string;
  let gateway: Gateway;
  let client: MqttClient;
  let clock: ManualClock;
  const seen: SensorEvent[] = [];

  async function start(config: Record<string, unknown> = {}) {
    dir = mkdtempSync(join(tmpdir(), 'gateway-unchanged-'));
    clock = new ManualClock(T0);
    gateway = new Gateway({
      // No server: the outbox keeps everything it is given, so its depth is what would be sent.
      config: parseGatewayConfig({ version: 1, siteId: 'demo', mqtt: { port: 0 }, http: { port: 0 }, stateDir: dir, ...config }),
      siteConfig: site,
      clock,
      logger: pino({ level: 'silent' }),
    });
    gateway.bus.on('sensorEvent', seen, (event) => void seen.push(event));
    await gateway.start();
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.mqttPort}`, { clientId: 'test-sensor' });
  }

  afterEach(async () => {
    seen.length = 0;
    await client?.endAsync();
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const publish = (sensorId: string, payload: object) =>
    client.publishAsync(topics.sensorState('demo', sensorId), JSON.stringify(payload), { qos: 1 });
  const folded = async () => (await gateway.metrics.reportsFolded.get()).values.reduce((sum, v) => sum + v.value, 0);

  it('keeps every change at once and an unchanged report once a minute; the rules see every report', async () => {
    await start();
    // QoS 1: each publish resolves on the PUBACK, which the gateway sends once the message is handled.
    await publish('bed-7', { kind: 'bed', occupied: true, battery: 90 });
    for (let i = 0; i < 5; i++) await publish('bed-7', { kind: 'bed', occupied: true, battery: 90, linkquality: 80 + i });
    expect(seen).toHaveLength(6);
    expect(gateway.outboxDepth).toBe(1);
    expect(await folded()).toBe(5);

    // A change goes at once: the state, then the battery, then another sensor's first report.
    await publish('bed-7', { kind: 'bed', occupied: false, battery: 90 });
    await publish('bed-7', { kind: 'bed', occupied: false, battery: 89 });
    await publish('door-7', { kind: 'door', open: false, battery: 70 });
    expect(gateway.outboxDepth).toBe(4);

    // A minute after the last kept report of the bed mat, an unchanged one goes again (alive).
    clock.advanceTo(T0 + 59_000);
    await publish('bed-7', { kind: 'bed', occupied: false, battery: 89 });
    expect(gateway.outboxDepth).toBe(4);
    clock.advanceTo(T0 + 60_000);
    await publish('bed-7', { kind: 'bed', occupied: false, battery: 89 });
    expect(gateway.outboxDepth).toBe(5);
    expect(await folded()).toBe(6);
    expect(seen).toHaveLength(11);

    const text = await (await fetch(`http://127.0.0.1:${gateway.healthPort}/metrics`)).text();
    expect(text).toMatch(/nattevakt_gateway_reports_folded_total\{kind="bed"\} 6/);
  });

  it('keeps every report with unchangedReportSeconds 0', async () => {
    await start({ unchangedReportSeconds: 0 });
    for (let i = 0; i < 4; i++) await publish('door-7', { kind: 'door', open: false });
    expect(gateway.outboxDepth).toBe(4);
    expect(await folded()).toBe(0);
  });

  it('refuses an interval that is not whole seconds from 0 to an hour, naming the setting', () => {
    for (const bad of [-1, 3601, 1.5, '60'])
      expect(() => parseGatewayConfig({ version: 1, siteId: 'demo', mqtt: { port: 0 }, unchangedReportSeconds: bad })).toThrow(
        /unchangedReportSeconds/,
      );
    expect(() => parseGatewayConfig({ version: 1, siteId: 'demo', mqtt: { port: 0 }, unchangedReportSeconds: -1 })).toThrow(ConfigError);
    expect(parseGatewayConfig({ version: 1, siteId: 'demo', mqtt: { port: 0 } }).unchangedReportSeconds).toBe(60);
  });
});

describe('UnchangedReports', () => {
  const event = (overrides: Partial<SensorEvent> = {}): SensorEvent => ({
    id: 'e',
    siteId: 'demo',
    sensorId: 'door-7',
    sensorKind: 'door',
    roomId: 'room-7',
    time: new Date(T0).toISOString(),
    open: false,
    format: 'native',
    raw: '{}',
    ...overrides,
  });

  it('keeps a report whose room or resident changed (the sensor was moved), and one after the clock went back', () => {
    const reports = new UnchangedReports(60_000);
    expect(reports.keep(event(), T0)).toBe(true);
    expect(reports.keep(event(), T0 + 1)).toBe(false);
    expect(reports.keep(event({ roomId: 'room-8' }), T0 + 2)).toBe(true);
    expect(reports.keep(event({ roomId: 'room-8', residentId: 'res-8' }), T0 + 3)).toBe(true);
    expect(reports.keep(event({ roomId: 'room-8', residentId: 'res-8', tamper: true }), T0 + 4)).toBe(true);
    expect(reports.keep(event({ roomId: 'room-8', residentId: 'res-8', tamper: true, online: false }), T0 + 5)).toBe(true);
    expect(reports.keep(event({ roomId: 'room-8', residentId: 'res-8', tamper: true, online: false, batteryLow: true }), T0 + 6)).toBe(
      true,
    );
    expect(reports.keep(event({ roomId: 'room-8', residentId: 'res-8', tamper: true, online: false, batteryLow: true }), T0 - 60_000)).toBe(
      true,
    );
    reports.reset();
    expect(reports.keep(event({ roomId: 'room-8', residentId: 'res-8', tamper: true, online: false, batteryLow: true }), T0 - 59_000)).toBe(
      true,
    );
  });
});
