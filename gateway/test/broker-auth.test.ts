import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlarmDecision } from '@nattevakt/protocol/alarm';
import { topics } from '@nattevakt/protocol/topics';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../src/broker/credentials.js';
import { ManualClock } from '../src/clock.js';
import { type MqttDevice, parseGatewayConfig } from '../src/config/gateway-config.js';
import { Gateway } from '../src/gateway.js';
import { siteWithAstrid } from './support/site.js';

const site = siteWithAstrid(
  [
    { id: 'door-7', kind: 'door', roomId: 'room-7' },
    { id: 'door-8', kind: 'door', roomId: 'room-8' },
  ],
  [{ id: 'room-8', name: 'Rom 8' }],
);

const PASSWORD = 'correct horse battery staple';
const DOOR_OPEN = '{"kind":"door","open":true}';

/** The devices of the test site, all with the same password (hashing is slow by design: once). */
async function devices(): Promise<MqttDevice[]> {
  const passwordHash = await hashPassword(PASSWORD);
  return [
    { username: 'door-7', passwordHash, role: 'sensor', sensorIds: ['door-7'] },
    { username: 'door-8', passwordHash, role: 'sensor', sensorIds: ['door-8'] },
    { username: 'z2m', passwordHash, role: 'bridge', prefix: 'zigbee2mqtt' },
    { username: 'panel', passwordHash, role: 'consumer' },
    { username: 'sim', passwordHash, role: 'simulator' },
  ];
}

describe('embedded broker with enrolled devices', () => {
  let dir: string;
  let enrolled: MqttDevice[];
  const gateways: Gateway[] = [];
  const clients: MqttClient[] = [];
  let gateway: Gateway;
  let panel: MqttClient;
  const alarms: AlarmDecision[] = [];

  const startGateway = async (options: { simulatedClock: boolean; users?: { username: string; password: string }[] }) => {
    const started = new Gateway({
      config: parseGatewayConfig({
        version: 1,
        siteId: 'demo',
        mqtt: { port: 0, devices: enrolled, users: options.users ?? [] },
        http: { port: 0 },
        stateDir: join(dir, `gateway-${gateways.length}`),
      }),
      siteConfig: site,
      // An injected ManualClock is the simulated clock; without one the gateway runs on the system clock.
      ...(options.simulatedClock ? { clock: new ManualClock(Date.parse('2026-11-25T02:10:00Z')) } : {}), // 03:10 in Oslo
      logger: pino({ level: 'silent' }),
    });
    gateways.push(started);
    await started.start();
    return started;
  };
  const connect = async (username: string | undefined, options: IClientOptions = {}, target = gateway) => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${target.mqttPort}`, {
      username,
      password: username === undefined ? undefined : PASSWORD,
      reconnectPeriod: 0,
      ...options,
    });
    clients.push(client);
    return client;
  };
  /** Resolves when the broker closes the client's connection. */
  const closed = (client: MqttClient) => new Promise<void>((resolve) => client.once('close', () => resolve()));
  const refused = async (reason: string, target = gateway) =>
    (await target.metrics.registry.getSingleMetric('nattevakt_gateway_mqtt_refused_total')?.get())?.values.find(
      (v) => v.labels.reason === reason,
    )?.value ?? 0;
  const settle = () => new Promise((r) => setTimeout(r, 150));
  /** The SUBACK return codes, in order; mqtt.js rejects when any is 0x80 and carries the SUBACK on the error. */
  const subscribe = (client: MqttClient, filters: string[]): Promise<number[]> =>
    client.subscribeAsync(Object.fromEntries(filters.map((filter) => [filter, { qos: 1 as const }]))).then(
      (granted) => granted.map((g) => g.qos),
      (error: { packet?: { granted?: number[] } }) => error.packet?.granted ?? Promise.reject(error),
    );
  const waitFor = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-broker-auth-'));
    enrolled = await devices();
    gateway = await startGateway({ simulatedClock: true });
    panel = await connect('panel');
    panel.on('message', (_topic, payload) => alarms.push(JSON.parse(payload.toString()) as AlarmDecision));
    await panel.subscribeAsync(topics.alarms('demo'), { qos: 1 });
  });

  afterEach(async () => {
    alarms.length = 0;
    // Close the open door again, so the next test's door event is a new opening.
    const door = await connect('door-7');
    await door.publishAsync(topics.sensorState('demo', 'door-7'), '{"kind":"door","open":false}', { qos: 1 });
    for (const client of clients.splice(0)) if (client !== panel) await client.endAsync(true);
    clients.push(panel);
  });

  afterAll(async () => {
    for (const client of clients.splice(0)) await client.endAsync(true);
    for (const started of gateways) await started.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong password, an unknown user and a missing one with the CONNACK codes of MQTT 3.1.1', async () => {
    const before = await refused('bad-credentials');
    const attempt = (options: IClientOptions) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.mqttPort}`, { reconnectPeriod: 0, ...options }).then(
        (client) => {
          clients.push(client);
          throw new Error('connected');
        },
        (error: Error & { code?: number }) => ({ code: error.code, message: error.message }),
      );
    expect(await attempt({ username: 'door-7', password: 'wrong password' })).toEqual({
      code: 4,
      message: 'Connection refused: Bad username or password',
    });
    expect(await attempt({ username: 'nobody', password: PASSWORD })).toMatchObject({ code: 4 });
    expect(await attempt({})).toEqual({ code: 5, message: 'Connection refused: Not authorized' });
    expect(await refused('bad-credentials')).toBe(before + 2);
  });

  it("decides on a sensor's own topic and delivers the alarm to a consumer", async () => {
    const door = await connect('door-7');
    await door.publishAsync(topics.sensorState('demo', 'door-7'), DOOR_OPEN, { qos: 1 });
    await waitFor(() => alarms.length === 1);
    expect(alarms[0]).toMatchObject({ rule: 'door-open-at-night', roomId: 'room-7', residentId: 'res-7' });
    expect(door.connected).toBe(true);
  });

  it("closes a sensor's connection when it publishes to another device's topic, and decides nothing", async () => {
    const before = await refused('publish-denied');
    const door8 = await connect('door-8');
    const gone = closed(door8);
    door8.publish(topics.sensorState('demo', 'door-7'), DOOR_OPEN, { qos: 1 });
    await gone;
    await settle();
    expect(alarms).toEqual([]);
    expect(await refused('publish-denied')).toBe(before + 1);
  });

  it('keeps a bridge under its prefix', async () => {
    const bridge = await connect('z2m');
    await bridge.publishAsync('zigbee2mqtt/bridge/state', '{"state":"online"}', { qos: 1 });
    expect(await subscribe(bridge, ['zigbee2mqtt/#', 'nattevakt/v1/demo/#', '#'])).toEqual([1, 128, 128]);
    expect(bridge.connected).toBe(true);
    const gone = closed(bridge);
    bridge.publish(topics.sensorState('demo', 'door-7'), DOOR_OPEN, { qos: 1 });
    await gone;
    await settle();
    expect(alarms).toEqual([]);
  });

  it('lets a consumer read alarms but nothing else, and publish nothing', async () => {
    const consumer = await connect('panel', { clientId: 'second-panel' });
    const filters = [
      topics.alarms('demo'),
      `${topics.alarms('demo')}/#`,
      topics.sensorsOfSite('demo'),
      'nattevakt/v1/demo/#',
      '#',
      '$SYS/#',
    ];
    expect(await subscribe(consumer, filters)).toEqual([1, 1, 128, 128, 128, 128]);
    const gone = closed(consumer);
    consumer.publish(topics.sensorState('demo', 'door-7'), DOOR_OPEN, { qos: 0 });
    await gone;
  });

  it('lets a sensor subscribe to its own command topics only', async () => {
    const door = await connect('door-7');
    const filters = [
      'nattevakt/v1/demo/sensors/door-7/#',
      'nattevakt/v1/demo/sensors/door-8/#',
      'nattevakt/v1/demo/sensors/+/#',
      topics.alarms('demo'),
    ];
    expect(await subscribe(door, filters)).toEqual([1, 128, 128, 128]);
  });

  it('takes the clock only from the simulator, and nobody may publish alarms or to $SYS', async () => {
    const sim = await connect('sim');
    await sim.publishAsync(topics.clock('demo'), JSON.stringify({ time: '2026-11-25T02:11:00.000Z', speed: 1 }), { qos: 1 });
    await waitFor(() => gateway.clock.now() === Date.parse('2026-11-25T02:11:00Z'));
    expect(gateway.clock.now()).toBe(Date.parse('2026-11-25T02:11:00Z'));

    const door = await connect('door-7');
    const doorGone = closed(door);
    door.publish(topics.clock('demo'), JSON.stringify({ time: '2026-11-25T09:00:00.000Z', speed: 1 }), { qos: 1 });
    await doorGone;
    expect(gateway.clock.now()).toBe(Date.parse('2026-11-25T02:11:00Z'));

    for (const topic of [topics.alarms('demo'), `${topics.alarms('demo')}/extra`, '$SYS/broker/uptime']) {
      const intruder = await connect('sim', { clientId: `sim-${topic.length}` });
      const gone = closed(intruder);
      intruder.publish(topic, JSON.stringify({ fake: true }), { qos: 0 });
      await gone;
    }
    await settle();
    // Had any of them got through, the panel would have received { fake: true } on the alarms topic.
    expect(alarms.filter((alarm) => 'fake' in alarm)).toEqual([]);
  });

  it('refuses the clock from the simulator too when the gateway runs on the system clock', async () => {
    const systemGateway = await startGateway({ simulatedClock: false });
    const sim = await connect('sim', {}, systemGateway);
    const gone = closed(sim);
    sim.publish(topics.clock('demo'), JSON.stringify({ time: '2026-11-25T02:30:00.000Z', speed: 1 }), { qos: 1 });
    await gone;
    expect(await refused('publish-denied', systemGateway)).toBe(1);
  });

  it('still accepts the deprecated plain-password users, with the demo rules', async () => {
    const legacyGateway = await startGateway({ simulatedClock: true, users: [{ username: 'old-sensor', password: 'plain-password' }] });
    const old = await connect(undefined, { username: 'old-sensor', password: 'plain-password' }, legacyGateway);
    await old.publishAsync(topics.sensorState('demo', 'door-8'), '{"kind":"door","open":false}', { qos: 1 });
    expect(old.connected).toBe(true);
    await expect(
      mqtt.connectAsync(`mqtt://127.0.0.1:${legacyGateway.mqttPort}`, { username: 'old-sensor', password: 'wrong', reconnectPeriod: 0 }),
    ).rejects.toMatchObject({ code: 4 });
  });
});
