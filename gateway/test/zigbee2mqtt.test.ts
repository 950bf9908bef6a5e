import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlarmDecision } from '@nattevakt/protocol/alarm';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import { topics } from '@nattevakt/protocol/topics';
import { hash } from '@node-rs/argon2';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { parseGatewayConfig } from '../src/config/gateway-config.js';
import { Gateway } from '../src/gateway.js';
import { siteWithAstrid } from './support/site.js';

const site = siteWithAstrid([
  { id: 'door-7', kind: 'door', roomId: 'room-7' },
  { id: 'bed-7', kind: 'bed', roomId: 'room-7', residentId: 'res-7' },
]);

/** One test password for the bridge (Zigbee2MQTT's mqtt.user / mqtt.password) and the alarm panel. */
const PASSWORD = 'password-for-tests-only';

/** An Aqara MCCGQ14LM as Zigbee2MQTT publishes it, door opened. */
const DOOR_OPEN = '{"battery":97,"contact":false,"linkquality":87,"voltage":3015,"last_seen":"2026-11-25T03:09:58+01:00"}';

describe('gateway with Zigbee2MQTT devices', () => {
  let dir: string;
  let gateway: Gateway;
  let z2m: MqttClient;
  const alarms: AlarmDecision[] = [];
  const events: SensorEvent[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  let passwordHash: string;

  beforeAll(async () => {
    passwordHash = await hash(PASSWORD);
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-z2m-'));
    gateway = new Gateway({
      config: parseGatewayConfig({
        version: 1,
        siteId: 'demo',
        mqtt: {
          port: 0,
          devices: [
            // The broker lets the bridge publish below its prefix only; consumers read the alarms.
            { role: 'bridge', username: 'zigbee2mqtt', passwordHash, prefix: 'zigbee2mqtt' },
            { role: 'consumer', username: 'alarm-panel', passwordHash },
          ],
        },
        http: { port: 0 },
        stateDir: dir,
        zigbee2mqtt: {
          devices: [
            { friendlyName: 'ward2/r7/door', sensorId: 'door-7' },
            { friendlyName: 'ward2/r7/bed', sensorId: 'bed-7', bedField: 'occupancy' },
          ],
        },
      }),
      siteConfig: site,
      clock: new ManualClock(Date.parse('2026-11-25T02:10:00Z')), // 03:10 in Oslo
      logger: pino({ level: 'silent' }),
    });
    gateway.bus.on('sensorEvent', events, (event) => void events.push(event));
    await gateway.start();
    // Zigbee2MQTT is one MQTT client publishing for all its devices.
    z2m = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.mqttPort}`, {
      clientId: 'zigbee2mqtt_bridge',
      username: 'zigbee2mqtt',
      password: PASSWORD,
      reconnectPeriod: 0,
    });
    const nurse = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.mqttPort}`, {
      clientId: 'alarm-panel',
      username: 'alarm-panel',
      password: PASSWORD,
    });
    await nurse.subscribeAsync(topics.alarms('demo'), { qos: 1 });
    nurse.on('message', (_topic, payload) => alarms.push(JSON.parse(payload.toString()) as AlarmDecision));
    closers.push(() => nurse.endAsync());
  });

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await z2m.endAsync(true);
    gateway.bus.removeAllOf(events);
    await gateway.stop();
    // Cleared only now, so nothing still in flight leaks into the next test.
    alarms.length = 0;
    events.length = 0;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Publishes as the bridge; a broker that refuses the topic closes the connection, which fails the test at once. */
  const publish = (topic: string, payload: string, retain = false) =>
    new Promise<void>((resolve, reject) => {
      const refused = () => reject(new Error(`the broker closed the bridge's connection on publishing to ${topic}`));
      z2m.once('close', refused);
      z2m.publishAsync(topic, payload, { qos: 1, retain }).then(
        () => {
          z2m.off('close', refused);
          resolve();
        },
        (error: unknown) => {
          z2m.off('close', refused);
          reject(error as Error);
        },
      );
    });
  const waitFor = async (check: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
  };
  const rejectedCount = async (reason: string) =>
    (await gateway.metrics.rejected.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

  it('raises door-open-at-night when a Zigbee2MQTT door contact opens at 03:10', async () => {
    await publish('zigbee2mqtt/ward2/r7/door', DOOR_OPEN);
    await waitFor(() => alarms.length === 1);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ rule: 'door-open-at-night', sensorId: 'door-7', roomId: 'room-7', residentId: 'res-7' });
    expect(events[0]).toMatchObject({ format: 'zigbee2mqtt', open: true, battery: 97, raw: DOOR_OPEN });
    expect(alarms[0]?.evidence.eventIds).toEqual([events[0]?.id]);
  });

  it('reads availability in the legacy and the Z2M 2.x form', async () => {
    await publish('zigbee2mqtt/ward2/r7/door/availability', 'offline', true);
    await publish('zigbee2mqtt/ward2/r7/bed/availability', '{"state":"offline"}', true);
    await publish('zigbee2mqtt/ward2/r7/bed/availability', '{"state":"online"}', true);
    await publish('zigbee2mqtt/ward2/r7/door/availability', 'online', true);
    await waitFor(() => events.length === 4 && alarms.length === 2);
    expect(events.map((e) => [e.sensorId, e.online])).toEqual([
      ['door-7', false],
      ['bed-7', false],
      ['bed-7', true],
      ['door-7', true],
    ]);
    // Offline in either form is a technical alarm for the technician, not a care alarm.
    expect(alarms.map((a) => [a.rule, a.sensorId, a.priority])).toEqual([
      ['sensor-offline', 'door-7', 'technical'],
      ['sensor-offline', 'bed-7', 'technical'],
    ]);
  });

  it('ignores the bridge and command topics, and decides on a good message after a bad one from the same device', async () => {
    await publish('zigbee2mqtt/bridge/state', '{"state":"online"}', true);
    await publish('zigbee2mqtt/ward2/r7/bed/set', '{"sensitivity":"high"}');
    await publish('zigbee2mqtt/ward2/r7/door', '{"contact":"false","battery":97}');
    await publish('zigbee2mqtt/ward2/r7/door', '{"contact":false,"battery":');
    await waitFor(async () => (await rejectedCount('not-json')) === 1);
    expect(await rejectedCount('schema')).toBe(1);
    expect(await rejectedCount('unknown-sensor')).toBe(0); // the bridge and /set topics are not counted as refusals
    expect(events).toEqual([]);
    expect(alarms).toEqual([]);

    await publish('zigbee2mqtt/ward2/r7/door', DOOR_OPEN);
    await waitFor(() => alarms.length === 1);
    expect(alarms[0]).toMatchObject({ rule: 'door-open-at-night', sensorId: 'door-7' });
    expect(z2m.connected).toBe(true);
  });
});
