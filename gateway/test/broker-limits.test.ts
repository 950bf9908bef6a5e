import { mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlarmDecision } from '@nattevakt/protocol/alarm';
import { topics } from '@nattevakt/protocol/topics';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedTransport } from '../src/broker/broker.js';
import { hashPassword } from '../src/broker/credentials.js';
import { ManualClock } from '../src/clock.js';
import { MQTT_LIMIT_DEFAULTS, parseGatewayConfig } from '../src/config/gateway-config.js';
import { Gateway } from '../src/gateway.js';
import { siteWithAstrid } from './support/site.js';

// door-8 and door-9 are in an empty room: their messages are decided on, but raise nothing.
const site = siteWithAstrid(
  [
    { id: 'door-7', kind: 'door', roomId: 'room-7' },
    { id: 'door-8', kind: 'door', roomId: 'room-8' },
    { id: 'door-9', kind: 'door', roomId: 'room-8' },
  ],
  [{ id: 'room-8', name: 'Rom 8' }],
);

const PASSWORD = 'correct horse battery staple';

describe('embedded broker limits', () => {
  let dir: string;
  let gateway: Gateway;
  let panel: MqttClient;
  const clients: MqttClient[] = [];
  const alarms: { alarm: AlarmDecision; at: number }[] = [];

  const connect = async (username: string, options: IClientOptions = {}) => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.mqttPort}`, {
      username,
      password: PASSWORD,
      reconnectPeriod: 0,
      ...options,
    });
    clients.push(client);
    return client;
  };
  const closed = (client: MqttClient) => new Promise<void>((resolve) => client.once('close', () => resolve()));
  const refused = async (reason: string) =>
    (await gateway.metrics.registry.getSingleMetric('nattevakt_gateway_mqtt_refused_total')?.get())?.values.find(
      (v) => v.labels.reason === reason,
    )?.value ?? 0;
  const doorMessages = async () => (await gateway.metrics.messages.get()).values.find((v) => v.labels.kind === 'door')?.value ?? 0;
  const waitFor = async (check: () => boolean | Promise<boolean>, ms = 2000) => {
    for (const until = Date.now() + ms; Date.now() < until && !(await check()); ) await new Promise((r) => setTimeout(r, 10));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-broker-limits-'));
    const passwordHash = await hashPassword(PASSWORD);
    gateway = new Gateway({
      config: parseGatewayConfig({
        version: 1,
        siteId: 'demo',
        mqtt: {
          port: 0,
          devices: [
            { username: 'door-7', passwordHash, role: 'sensor', sensorIds: ['door-7'] },
            { username: 'door-8', passwordHash, role: 'sensor', sensorIds: ['door-8'] },
            { username: 'door-9', passwordHash, role: 'sensor', sensorIds: ['door-9'] },
            { username: 'z2m', passwordHash, role: 'bridge', prefix: 'zigbee2mqtt' },
            { username: 'panel', passwordHash, role: 'consumer' },
          ],
          limits: { connectTimeoutMs: 1000 },
        },
        http: { port: 0 },
        stateDir: dir,
      }),
      siteConfig: site,
      clock: new ManualClock(Date.parse('2026-11-25T02:10:00Z')), // 03:10 in Oslo
      logger: pino({ level: 'silent' }),
    });
    await gateway.start();
    panel = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.mqttPort}`, { username: 'panel', password: PASSWORD });
    panel.on('message', (_topic, payload) =>
      alarms.push({ alarm: JSON.parse(payload.toString()) as AlarmDecision, at: performance.now() }),
    );
    await panel.subscribeAsync(topics.alarms('demo'), { qos: 1 });
  });

  afterEach(async () => {
    alarms.length = 0;
    for (const client of clients.splice(0)) await client.endAsync(true);
  });

  afterAll(async () => {
    await panel.endAsync(true);
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`closes the connection on a packet over ${MQTT_LIMIT_DEFAULTS.maxPacketBytes} bytes and counts it`, async () => {
    const before = await doorMessages();
    const door = await connect('door-7');
    const gone = closed(door);
    door.publish(
      topics.sensorState('demo', 'door-7'),
      JSON.stringify({ kind: 'door', open: true, pad: 'x'.repeat(MQTT_LIMIT_DEFAULTS.maxPacketBytes + 1000) }),
      { qos: 1 },
    );
    await gone;
    expect(await refused('oversize')).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(await doorMessages()).toBe(before);
    expect(alarms).toEqual([]);
  });

  it('cuts a connection from the header of an oversize packet, before its body or any password check', async () => {
    const socket = connectTcp(gateway.mqttPort, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const started = performance.now();
    const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // CONNECT announcing 100 MiB of Remaining Length: 0x10, then 100 MiB as a variable byte integer.
    socket.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x32]));
    await gone;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await refused('oversize')).toBe(2);
  });

  it('closes the connection on a topic deeper than maxTopicLevels', async () => {
    const bridge = await connect('z2m');
    const gone = closed(bridge);
    bridge.publish(`zigbee2mqtt/${'level/'.repeat(MQTT_LIMIT_DEFAULTS.maxTopicLevels)}end`, '{}', { qos: 1 });
    await gone;
    await waitFor(async () => (await refused('too-many-levels')) === 1);
    expect(await refused('too-many-levels')).toBe(1);
  });

  it('closes a connection that sends no CONNECT within connectTimeoutMs', async () => {
    const socket = connectTcp(gateway.mqttPort, '127.0.0.1');
    const started = performance.now();
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThan(900);
    expect(waited).toBeLessThan(3000);
  });

  it('limits a flooding sensor and disconnects it, while another sensor’s alarm still gets through promptly', async () => {
    const before = await doorMessages();
    const flooder = await connect('door-8');
    const door = await connect('door-7');
    const gone = closed(flooder);
    const started = performance.now();
    for (let i = 0; i < 2000; i++) flooder.publish(topics.sensorState('demo', 'door-8'), '{"kind":"door","open":false}', { qos: 0 });
    const sent = performance.now();
    await door.publishAsync(topics.sensorState('demo', 'door-7'), '{"kind":"door","open":true}', { qos: 1 });
    const doorAlarm = () => alarms.find(({ alarm }) => alarm.rule === 'door-open-at-night' && alarm.roomId === 'room-7');
    await waitFor(() => doorAlarm() !== undefined);
    expect((doorAlarm()?.at ?? Number.POSITIVE_INFINITY) - sent).toBeLessThan(1000);

    await gone;
    const elapsedSeconds = (performance.now() - started) / 1000;
    // Accepted: the burst, the sustained rate while it lasted, and door-7's single message.
    const accepted = (await doorMessages()) - before;
    expect(accepted).toBeGreaterThanOrEqual(MQTT_LIMIT_DEFAULTS.burst);
    expect(accepted).toBeLessThanOrEqual(MQTT_LIMIT_DEFAULTS.burst + Math.ceil(elapsedSeconds * MQTT_LIMIT_DEFAULTS.messagesPerSecond) + 1);
    expect(await refused('rate-limited')).toBeGreaterThanOrEqual(MQTT_LIMIT_DEFAULTS.floodDisconnectAfter - 1);
    expect(await refused('flood-disconnect')).toBe(1);
    expect(door.connected).toBe(true);

    // Reconnecting does not give the flooder a fresh burst: its bucket is kept by user name.
    const beforeReconnect = await doorMessages();
    const again = await connect('door-8');
    for (let i = 0; i < MQTT_LIMIT_DEFAULTS.burst; i++) {
      again.publish(topics.sensorState('demo', 'door-8'), '{"kind":"door","open":false}', { qos: 0 });
    }
    await again.publishAsync(topics.sensorState('demo', 'door-8'), '{"kind":"door","open":false}', { qos: 1 });
    const refill = Math.ceil(((performance.now() - started) / 1000) * MQTT_LIMIT_DEFAULTS.messagesPerSecond);
    expect((await doorMessages()) - beforeReconnect).toBeLessThanOrEqual(Math.min(refill, MQTT_LIMIT_DEFAULTS.burst));
  });

  it('holds QoS 1 messages over the limit back instead of dropping them: everything acknowledged is decided on', async () => {
    const before = await doorMessages();
    const sensor = await connect('door-9');
    const started = performance.now();
    const count = MQTT_LIMIT_DEFAULTS.burst + 20;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        sensor.publishAsync(topics.sensorState('demo', 'door-9'), JSON.stringify({ kind: 'door', open: i % 2 === 0 }), { qos: 1 }),
      ),
    );
    // 20 over the burst at 20 messages a second: the last acknowledgement came about a second later.
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThan(800);
    expect(waited).toBeLessThan(3000);
    // aedes acknowledges a QoS 1 message just before handing it on: give the last one a moment.
    await waitFor(async () => (await doorMessages()) - before === count);
    expect((await doorMessages()) - before).toBe(count);
    expect(sensor.connected).toBe(true);
    const throttled = await gateway.metrics.registry.getSingleMetric('nattevakt_gateway_mqtt_throttled_messages_total')?.get();
    expect(throttled?.values[0]?.value).toBeGreaterThanOrEqual(20);
  });

  it('exposes the counters on the gateway’s /metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${gateway.healthPort}/metrics`)).text();
    expect(text).toMatch(/nattevakt_gateway_mqtt_refused_total\{reason="oversize"\} 2/);
    expect(text).toMatch(/nattevakt_gateway_mqtt_clients \d+/);
  });
});

describe('embedded broker acknowledgements', () => {
  it('acknowledges a QoS 1 message only after the gateway has handled it', async () => {
    const handled: number[] = [];
    const transport = new EmbeddedTransport({
      mqtt: { host: '127.0.0.1', port: 0, devices: [], users: [], limits: MQTT_LIMIT_DEFAULTS },
      siteId: 'demo',
      acceptClock: false,
      logger: pino({ level: 'silent' }),
    });
    // A slow handler (say, a busy disk under the outbox): the PUBACK waits for it.
    await transport.start([topics.sensorsOfSite('demo')], (_topic, _payload, done) => {
      setTimeout(() => {
        handled.push(performance.now());
        done();
      }, 300);
    });
    const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${transport.port}`, { reconnectPeriod: 0 });
    try {
      await sensor.publishAsync(topics.sensorState('demo', 'door-7'), '{"kind":"door","open":true}', { qos: 1 });
      const acknowledged = performance.now();
      expect(handled).toHaveLength(1);
      expect(acknowledged).toBeGreaterThanOrEqual(handled[0] ?? Number.POSITIVE_INFINITY);
    } finally {
      await sensor.endAsync();
      await transport.stop();
    }
  });
});
