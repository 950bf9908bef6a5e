import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlarmDecision } from '@nattevakt/protocol/alarm';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import { topics } from '@nattevakt/protocol/topics';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startBroker } from '../src/broker/broker.js';
import { ExternalTransport } from '../src/broker/external-transport.js';
import { ManualClock } from '../src/clock.js';
import { ConfigError, MQTT_LIMIT_DEFAULTS, parseGatewayConfig } from '../src/config/gateway-config.js';
import { Gateway } from '../src/gateway.js';
import { siteWithAstrid } from './support/site.js';

const MOSQUITTO = { host: '127.0.0.1', port: 1883 };
const silent = pino({ level: 'silent' });

/** True when something accepts TCP connections there. */
const reachable = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connectTcp(port, host);
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('close', () => resolve(false));
    socket.once('error', () => resolve(false));
  });

const mosquitto = await reachable(MOSQUITTO.host, MOSQUITTO.port);
if (!mosquitto) {
  if (process.env.CI === 'true') throw new Error(`Mosquitto is required in CI at ${MOSQUITTO.host}:${MOSQUITTO.port}`);
  console.warn(`\n*** SKIPPING the external-broker tests: no Mosquitto at ${MOSQUITTO.host}:${MOSQUITTO.port} ***\n`);
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });

describe.skipIf(!mosquitto)('gateway in external-broker mode, through Mosquitto', () => {
  // A site id of its own per run, so that nothing collides on the shared broker.
  const siteId = `ext-${randomBytes(4).toString('hex')}`;
  const url = `mqtt://${MOSQUITTO.host}:${MOSQUITTO.port}`;
  const site: SiteConfig = {
    ...siteWithAstrid([{ id: 'door-7', kind: 'door', roomId: 'room-7' }]),
    site: { id: siteId, name: 'External', timezone: 'Europe/Oslo' },
  };
  let dir: string;
  let observer: MqttClient;
  let sensor: MqttClient;
  const alarms: AlarmDecision[] = [];
  const running: Gateway[] = [];

  const startGateway = async () => {
    const gateway = new Gateway({
      config: parseGatewayConfig({
        version: 1,
        siteId,
        mqtt: { mode: 'external', external: { url } },
        http: { port: 0 },
        stateDir: dir,
      }),
      siteConfig: site,
      clock: new ManualClock(Date.parse('2026-11-25T02:10:00Z')), // 03:10 in Oslo
      logger: silent,
    });
    running.push(gateway);
    await gateway.start();
    return gateway;
  };
  const stopGateways = async () => {
    for (const gateway of running.splice(0)) await gateway.stop();
  };
  const waitFor = async (check: () => boolean, ms = 5000) => {
    for (const until = Date.now() + ms; Date.now() < until && !check(); ) await new Promise((r) => setTimeout(r, 20));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-broker-external-'));
    observer = await mqtt.connectAsync(url, { clientId: `observer-${siteId}` });
    observer.on('message', (_topic, payload) => alarms.push(JSON.parse(payload.toString()) as AlarmDecision));
    await observer.subscribeAsync(topics.alarms(siteId), { qos: 1 });
    sensor = await mqtt.connectAsync(url, { clientId: `sensor-${siteId}` });
  });

  afterEach(async () => {
    await stopGateways();
    alarms.length = 0;
    await sensor.publishAsync(topics.sensorState(siteId, 'door-7'), '{"kind":"door","open":false}', { qos: 1 });
  });

  afterAll(async () => {
    await observer.endAsync();
    await sensor.endAsync();
    // Drop the gateway's persistent session: a clean-session connection ends it [MQTT-3.1.2-6].
    const cleanup = await mqtt.connectAsync(url, { clientId: `nattevakt-gateway-${siteId}`, clean: true });
    await cleanup.endAsync();
    rmSync(dir, { recursive: true, force: true });
  });

  it('decides on a sensor message published to Mosquitto and publishes the alarm back to it', async () => {
    const gateway = await startGateway();
    const health = (await (await fetch(`http://127.0.0.1:${gateway.healthPort}/health`)).json()) as { mqtt: string };
    expect(health.mqtt).toBe(url);
    await sensor.publishAsync(topics.sensorState(siteId, 'door-7'), '{"kind":"door","open":true}', { qos: 1 });
    await waitFor(() => alarms.length === 1);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ rule: 'door-open-at-night', siteId, roomId: 'room-7', residentId: 'res-7' });
  });

  it('receives the QoS 1 messages Mosquitto queued while the gateway was restarting', async () => {
    await startGateway(); // establishes the persistent session and its subscriptions
    await stopGateways();
    await sensor.publishAsync(topics.sensorState(siteId, 'door-7'), '{"kind":"door","open":true}', { qos: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(alarms).toEqual([]);
    await startGateway();
    await waitFor(() => alarms.length === 1);
    expect(alarms[0]).toMatchObject({ rule: 'door-open-at-night', siteId, roomId: 'room-7' });
  });
});

describe('external transport without Mosquitto', () => {
  const brokers: EmbeddedBroker[] = [];
  const transports: ExternalTransport[] = [];
  afterEach(async () => {
    for (const transport of transports.splice(0)) await transport.stop();
    for (const broker of brokers.splice(0)) await broker.close();
  });
  const embedded = async (port: number) => {
    const broker = await startBroker({
      mqtt: { host: '127.0.0.1', port, devices: [], users: [], limits: MQTT_LIMIT_DEFAULTS },
      siteId: 'demo',
      acceptClock: false,
      logger: silent,
    });
    brokers.push(broker);
    return broker;
  };

  it('starts without its broker and connects, with backoff, once the broker is there', async () => {
    const port = await freePort();
    const received: string[] = [];
    const transport = new ExternalTransport({
      url: `mqtt://127.0.0.1:${port}`,
      clientId: 'gateway-backoff-test',
      logger: silent,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    transports.push(transport);
    await transport.start(['nattevakt/v1/demo/sensors/#'], (topic, _payload, done) => {
      received.push(topic);
      done();
    });
    expect(transport.connected).toBe(false);
    await new Promise((r) => setTimeout(r, 400)); // a few failed attempts
    await embedded(port);
    for (let i = 0; i < 100 && !transport.connected; i++) await new Promise((r) => setTimeout(r, 20));
    expect(transport.connected).toBe(true);
    // Subscribed again on the new broker: a sensor's message comes through.
    const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
    for (let i = 0; i < 50 && received.length === 0; i++) {
      await sensor.publishAsync('nattevakt/v1/demo/sensors/door-7/state', '{"kind":"door","open":true}', { qos: 1 });
      await new Promise((r) => setTimeout(r, 20));
    }
    await sensor.endAsync();
    expect(received[0]).toBe('nattevakt/v1/demo/sensors/door-7/state');
  });

  it('fails start-up when the broker refuses a subscription (SUBACK 0x80), naming the topic', async () => {
    const broker = await embedded(0);
    const transport = new ExternalTransport({ url: `mqtt://127.0.0.1:${broker.port}`, clientId: 'gateway-acl-test', logger: silent });
    transports.push(transport);
    // The embedded broker in demo mode lets clients read only its own site's topics.
    const start = transport.start(['nattevakt/v1/other-site/sensors/#'], (_topic, _payload, done) => done());
    await expect(start).rejects.toBeInstanceOf(ConfigError);
    await expect(start).rejects.toThrow(/refused the subscription to nattevakt\/v1\/other-site\/sensors\/# \(SUBACK 0x80\)/);
  });
});
