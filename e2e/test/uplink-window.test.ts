import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@nattevakt/gateway/clock';
import { parseGatewayConfig } from '@nattevakt/gateway/config/gateway-config';
import { EventBus } from '@nattevakt/gateway/event-bus';
import { Gateway } from '@nattevakt/gateway/gateway';
import { createGatewayMetrics } from '@nattevakt/gateway/observability/metrics';
import { Outbox } from '@nattevakt/gateway/outbox/outbox';
import { Uplink } from '@nattevakt/gateway/uplink/uplink';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type {
  GatewayClientToServer,
  GatewayServerToClient,
  OutboxItem,
  StaffClientToServer,
  StaffServerToClient,
} from '@nattevakt/protocol/socket-events';
import { topics } from '@nattevakt/protocol/topics';
import { buildApp, type NattevaktServer } from '@nattevakt/server/app';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, loginOverHttp, oslo, PASSWORD, TOKEN, testWard } from './support/stack.js';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const ITEMS = 4_000;
const START = oslo('2026-11-25T02:00:00');

/** The n-th door event, in the order the gateway wrote them. */
function doorEvent(n: number): SensorEvent {
  const open = n % 2 === 0;
  return {
    id: `evt-${String(n).padStart(6, '0')}`,
    siteId: 'test',
    sensorId: 'door-7',
    sensorKind: 'door',
    roomId: 'room-7',
    time: new Date(START + n * 10).toISOString(),
    open,
    format: 'native',
    raw: JSON.stringify({ kind: 'door', open }),
  };
}

describe('the uplink keeps several batches in flight', () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('delivers the outbox in order, each item stored once, across a server restart mid-stream', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nattevakt-window-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const httpUrl = `http://127.0.0.1:${port}`;
    const logger = pino({ level: 'silent' });
    const site = testWard();

    const outbox = new Outbox(join(dir, 'outbox.db'));
    cleanups.push(() => outbox.close());
    for (let n = 0; n < ITEMS; n++) outbox.append({ type: 'event', event: doorEvent(n) });
    expect(outbox.depth()).toBe(ITEMS);

    /** What the server stored, in the order it stored it: a technician follows door-7 live. */
    const heard: string[] = [];
    const startServer = async (): Promise<NattevaktServer> => {
      const server = await buildApp({ dataDir: join(dir, 'server'), logger });
      await server.sites.save(site);
      await server.sites.setGatewayToken('test', TOKEN);
      await server.auth.upsertUser({
        username: 'tekniker',
        displayName: 'Tekniker',
        role: 'technician',
        password: PASSWORD,
        sites: ['test'],
      });
      await server.app.listen({ host: '127.0.0.1', port });
      const cookie = await loginOverHttp(httpUrl, 'tekniker', PASSWORD);
      const socket: Socket<StaffServerToClient, StaffClientToServer> = io(`${httpUrl}/staff`, {
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        extraHeaders: { cookie },
      });
      socket.on('sensorEvent', (event) => heard.push(event.id));
      await new Promise<void>((resolve, reject) => {
        socket.on('connect', () => resolve());
        socket.on('connect_error', reject);
      });
      expect(await socket.emitWithAck('subscribeSensor', { siteId: 'test', sensorId: 'door-7' })).toEqual({ ok: true });
      cleanups.push(() => void socket.disconnect());
      return server;
    };

    let server = await startServer();
    const metrics = createGatewayMetrics({ outboxDepth: () => outbox.depth(), outboxOldestAgeSeconds: () => 0 });
    // Small batches, so the stream is long enough to be cut in the middle.
    const uplink = new Uplink(
      { url: httpUrl, token: TOKEN, siteId: 'test' },
      outbox,
      new EventBus(),
      new ManualClock(START),
      metrics,
      logger,
      () => 0,
      { batchItems: 25, window: 4, retryMs: 200 },
    );
    uplink.start();
    cleanups.push(() => uplink.stop());

    let mostInFlight = 0;
    const watch = setInterval(() => {
      mostInFlight = Math.max(mostInFlight, uplink.inFlight);
    }, 1);
    cleanups.push(() => clearInterval(watch));

    // The server goes away with batches in flight, part of the outbox delivered.
    await eventually('a part delivered', () => outbox.depth() < ITEMS - 200, 15_000);
    expect(outbox.depth()).toBeGreaterThan(0);
    const cutAt = heard.length;
    await server.app.close();
    expect(outbox.depth()).toBeGreaterThan(0);

    // It comes back on the same address: the uplink resends everything unacknowledged.
    server = await startServer();
    cleanups.push(() => server.app.close());
    await eventually('outbox drained', () => outbox.depth() === 0, 30_000);
    // The live stream may miss what the first server stored as it closed; the store has it all (below).
    await eventually('the last event heard', () => heard.includes(doorEvent(ITEMS - 1).id) || undefined, 10_000);
    clearInterval(watch);

    expect(mostInFlight).toBeGreaterThan(1);
    expect(cutAt).toBeGreaterThan(0);
    expect(cutAt).toBeLessThan(ITEMS);
    // In order: the first time the server stores an event, every earlier one is already stored.
    const firstTimes = [...new Set(heard)];
    expect(firstTimes.length).toBeGreaterThan(ITEMS / 2);
    expect(firstTimes).toEqual([...firstTimes].sort());
    // Stored once each: resent events are de-duplicated by id.
    const stored = await server.timeSeries.range('test', new Date(START - 1_000), new Date(START + ITEMS * 10 + 1_000), ITEMS * 2, {
      sensors: ['door-7'],
    });
    expect(stored).toHaveLength(ITEMS);
    expect(new Set(stored.map((e) => e.id)).size).toBe(ITEMS);
  }, 60_000);

  it('the server stores a gateway’s batches one after another, in the order they came', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nattevakt-window-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const server = await buildApp({ dataDir: join(dir, 'server'), logger: pino({ level: 'silent' }) });
    cleanups.push(() => server.app.close());
    await server.sites.save(testWard());
    await server.sites.setGatewayToken('test', TOKEN);
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const address = server.app.server.address() as { port: number };
    const gateway: Socket<GatewayServerToClient, GatewayClientToServer> = io(`http://127.0.0.1:${address.port}/gateway`, {
      auth: { token: TOKEN, siteId: 'test' },
      transports: ['websocket'],
      forceNew: true,
    });
    cleanups.push(() => void gateway.disconnect());
    await new Promise<void>((resolve, reject) => {
      gateway.on('connect', () => resolve());
      gateway.on('connect_error', reject);
    });
    // A big batch, then a small one sent before the first is answered: stored concurrently, the
    // small one would finish first.
    const items = (from: number, count: number): OutboxItem[] =>
      Array.from({ length: count }, (_, i) => ({ type: 'event', event: doorEvent(from + i) }));
    const answered: string[] = [];
    await Promise.all([
      gateway.emitWithAck('batch', items(0, 500)).then((ack) => answered.push(`big:${ack.accepted}`)),
      gateway.emitWithAck('batch', items(500, 1)).then((ack) => answered.push(`small:${ack.accepted}`)),
      gateway.emitWithAck('batch', items(501, 1)).then((ack) => answered.push(`last:${ack.accepted}`)),
    ]);
    expect(answered).toEqual(['big:500', 'small:1', 'last:1']);
  });

  it('a restarted gateway lists the open alarms on its retained topic at once, also those already delivered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nattevakt-window-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const logger = pino({ level: 'silent' });
    const config = parseGatewayConfig({
      version: 1,
      siteId: 'test',
      mqtt: { port: 0 },
      http: { port: 0 },
      stateDir: dir,
      clock: 'simulated',
    });
    const first = new Gateway({ config, siteConfig: testWard(), clock: new ManualClock(oslo('2026-11-25T03:10:00')), logger });
    await first.start();
    const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${first.mqttPort}`);
    await sensor.publishAsync(topics.sensorState('test', 'door-7'), '{"kind":"door","open":true}', { qos: 1 });
    await sensor.endAsync();
    await first.stop();

    // Nothing changes after the restart: the list must still be there for a consumer that comes now.
    const second = new Gateway({ config, clock: new ManualClock(oslo('2026-11-25T03:11:00')), logger });
    await second.start();
    cleanups.push(() => second.stop());
    const consumer = await mqtt.connectAsync(`mqtt://127.0.0.1:${second.mqttPort}`);
    cleanups.push(() => consumer.endAsync());
    const lists: { rule: string; roomId: string }[][] = [];
    consumer.on('message', (_topic, payload) => lists.push(JSON.parse(payload.toString()) as { rule: string; roomId: string }[]));
    await consumer.subscribeAsync(`${topics.alarms('test')}/active`, { qos: 1 });
    const list = await eventually('the retained list of open alarms', () => lists[0]);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ rule: 'door-open-at-night', roomId: 'room-7' });
  });
});
