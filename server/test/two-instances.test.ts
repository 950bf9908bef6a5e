/**
 * Two server instances in one process, on one PostgreSQL database and the machine's Redis (each
 * test its own key prefix): what a nurse on one instance sees of a gateway on the other, and
 * every piece of state an instance keeps that the other must not hold stale. The same with real
 * processes, and Redis and PostgreSQL restarted under load: e2e/test/two-instances.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alarm } from '@nattevakt/protocol/alarm';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import type { GatewayStatus } from '@nattevakt/protocol/socket-events';
import type { RoomState, SiteClock, WardView } from '@nattevakt/protocol/ward';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppOptions, NattevaktServer } from '../src/app.js';
import { decision, eventually, Harness, ManualClock, type StaffSocket, site, sleep } from './alarm-harness.js';
import { engines } from './support/databases.js';
import { get, loginAs } from './support/login.js';
import { cleanup, freshPrefix, redisAvailable, redisUrl } from './support/redis.js';

const postgres = engines.find((e) => e.name === 'postgres');

/** Waits until both instances' adapters hear each other, so a message sent now is not lost to a late subscription. */
async function linked(...servers: NattevaktServer[]): Promise<void> {
  for (const server of servers) {
    const adapter = server.io.of('/').adapter as unknown as { serverCount(): Promise<number> };
    await eventually('the instances hear each other', async () => (await adapter.serverCount()) >= servers.length, 5_000);
  }
}

const seqs = (alarms: Alarm[], id: string) => alarms.filter((a) => a.id === id).map((a) => a.seq);
const duplicates = (values: number[]) => values.filter((v, i) => values.indexOf(v) !== i);

describe.skipIf(postgres === undefined || !redisAvailable)('two instances on PostgreSQL and Redis', () => {
  const h = new Harness(postgres);
  const prefixes: string[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await h.close();
    for (const prefix of prefixes.splice(0)) await cleanup(prefix);
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** Two instances on one database and one Redis prefix; `syncPollMs` long unless a test wants the database path. */
  async function pair(options: Partial<AppOptions> & { syncPollMs?: number } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'nattevakt-two-'));
    dirs.push(dir);
    const prefix = freshPrefix();
    prefixes.push(prefix);
    const { syncPollMs = 3_600_000, ...rest } = options;
    const redis = { url: redisUrl, keyPrefix: prefix, syncPollMs };
    const a = await h.server({ ...rest, dataDir: dir, redis });
    const b = await h.server({ ...rest, dataDir: dir, redis });
    await linked(a.server, b.server);
    return { a, b, dir };
  }

  it('a gateway on A raises an alarm; a nurse on B gets it and acknowledges it; A sees that; escalation fires once', async () => {
    const clock = new ManualClock();
    // No safety poll during the test: the test decides when each scheduler looks.
    const { a, b } = await pair({ clock, escalation: { safetyPollMs: 3_600_000 } });
    const kariOnB = await h.staff(b.url, 'Kari');
    const olaOnA = await h.staff(a.url, 'Ola');
    const gateway = await h.gateway(a.url);
    const toGateway: Alarm[] = [];
    gateway.socket.on('alarm', (alarm) => toGateway.push(alarm));

    expect(await gateway.raise(decision('d1', { priority: 'high' }))).toMatchObject({ ok: true, accepted: 1 });
    const raised = await eventually('the alarm on B', () => kariOnB.alarms.find((x) => x.id === 'd1'));
    expect(raised).toMatchObject({ status: 'active', roomName: 'Rom 1', residentName: 'Astrid H.' });
    await eventually('the alarm on A', () => olaOnA.alarms.find((x) => x.id === 'd1'));

    // Both schedulers look at the same moment, many times: one escalation step, claimed once.
    clock.advance(60_000);
    const claims = await Promise.all([...Array(4)].flatMap(() => [a.server.escalations.runDue(), b.server.escalations.runDue()]));
    expect(claims.reduce((sum, n) => sum + n, 0)).toBe(1);
    for (const tablet of [kariOnB, olaOnA])
      await eventually('the escalation on every tablet', () => tablet.alarms.find((x) => x.id === 'd1' && x.escalationLevel === 1));

    const acknowledged = await kariOnB.socket.emitWithAck('acknowledge', { alarmId: 'd1', by: 'ignored' });
    expect(acknowledged).toMatchObject({ ok: true, alarm: { status: 'acknowledged', acknowledgedBy: 'Kari' } });
    const seenOnA = await eventually('the acknowledgement on A', () =>
      olaOnA.alarms.find((x) => x.id === 'd1' && x.status === 'acknowledged'),
    );
    expect(seenOnA.acknowledgedBy).toBe('Kari');
    await eventually('the acknowledgement at the gateway on A', () => toGateway.find((x) => x.id === 'd1' && x.status === 'acknowledged'));

    clock.advance(3_600_000);
    expect(await a.server.escalations.runDue()).toBe(0);
    expect(await b.server.escalations.runDue()).toBe(0);
    await sleep(200);
    const audit = (await a.server.alarms.get('d1'))?.audit.map((x) => x.action);
    expect(audit).toEqual(['raised', 'escalated', 'acknowledged']);
    // Every tablet saw every version exactly once, in order.
    for (const tablet of [kariOnB, olaOnA]) {
      expect(seqs(tablet.alarms, 'd1')).toHaveLength(3);
      expect(duplicates(seqs(tablet.alarms, 'd1'))).toEqual([]);
      expect(seqs(tablet.alarms, 'd1')).toEqual([...seqs(tablet.alarms, 'd1')].sort((x, y) => x - y));
    }
  });

  it('a site configuration saved on A is what B uses and pushes to its gateway; saves on both get distinct revisions', async () => {
    const { a, b } = await pair();
    const gatewayOnB = await h.gateway(b.url);
    const configs: SiteConfig[] = [];
    gatewayOnB.socket.on('config', (config) => configs.push(config));
    const before = b.server.sites.get('demo')?.revision ?? 0;

    const renamed: SiteConfig = { ...site, rooms: [{ id: 'room-1', name: 'Rom 1 nord' }] };
    const saved = await a.server.sites.save(renamed);
    expect(saved.revision).toBe(before + 1);
    await eventually('B holds the new configuration', () => b.server.sites.get('demo')?.revision === saved.revision);
    const pushed = await eventually('the gateway on B gets it', () => configs.find((c) => c.revision === saved.revision));
    expect(pushed.rooms[0]?.name).toBe('Rom 1 nord');
    // An alarm raised on B is described with the configuration saved on A.
    await gatewayOnB.raise(decision('d2'));
    expect((await b.server.alarms.get('d2'))?.alarm.roomName).toBe('Rom 1 nord');

    // Saved on both at once: the database hands out the revisions, so none is given twice.
    const [onA, onB] = await Promise.all([a.server.sites.save(site), b.server.sites.save(renamed)]);
    expect(new Set([onA.revision, onB.revision]).size).toBe(2);
    const last = Math.max(onA.revision ?? 0, onB.revision ?? 0);
    for (const s of [a, b]) await eventually('both end on the last save', () => s.server.sites.get('demo')?.revision === last);
  });

  it('the board is the same on both: room state, site clock and the gateway link, live and over REST', async () => {
    const { a, b } = await pair();
    const kariOnB = await h.staff(b.url, 'Kari');
    const rooms: RoomState[] = [];
    const clocks: SiteClock[] = [];
    const links: GatewayStatus[] = [];
    kariOnB.socket.on('room', (room) => rooms.push(room));
    kariOnB.socket.on('clock', (clock) => clocks.push(clock));
    kariOnB.socket.on('gateway', (status) => links.push(status));

    const gatewayOnA = await h.gateway(a.url);
    await eventually('B hears the gateway connect', () => links.find((l) => l.connected));
    await gatewayOnA.socket.emitWithAck('batch', [
      {
        type: 'event',
        event: {
          id: 'ev-1',
          siteId: 'demo',
          sensorId: 'bed-1',
          sensorKind: 'bed',
          roomId: 'room-1',
          residentId: 'res-1',
          time: '2026-11-25T02:00:00.000Z',
          occupied: false,
          online: true,
          battery: 81,
          format: 'native',
          raw: '{}',
        },
      },
    ]);
    gatewayOnA.socket.emit('clock', { siteId: 'demo', time: '2026-11-25T02:00:05.000Z', simulated: true, speed: 60 });
    const room = await eventually('the room on B', () => rooms.find((r) => r.roomId === 'room-1'));
    expect(room.bed).toEqual({ occupied: false, since: '2026-11-25T02:00:00.000Z' });
    await eventually('the clock on B', () => clocks.length > 0);

    const ward = (await get(b.server, '/api/ward?site=demo')).json<WardView>();
    expect(ward.gatewayConnected).toBe(true);
    expect(ward.clock).toMatchObject({ time: '2026-11-25T02:00:05.000Z', simulated: true, speed: 60 });
    expect(ward.rooms[0]?.bed).toEqual({ occupied: false, since: '2026-11-25T02:00:00.000Z' });
    expect(ward.rooms[0]?.sensors.find((s) => s.id === 'bed-1')).toMatchObject({ online: true, battery: 81 });

    // A heartbeat applied on B after one applied on A keeps `since`: the state is read from the database, not memory.
    const gatewayOnB = await h.gateway(b.url);
    await gatewayOnB.socket.emitWithAck('batch', [
      {
        type: 'event',
        event: {
          id: 'ev-2',
          siteId: 'demo',
          sensorId: 'bed-1',
          sensorKind: 'bed',
          roomId: 'room-1',
          time: '2026-11-25T02:10:00.000Z',
          occupied: false,
          format: 'native',
          raw: '{}',
        },
      },
    ]);
    expect((await a.server.ward.room('demo', 'room-1'))?.bed).toEqual({ occupied: false, since: '2026-11-25T02:00:00.000Z' });
    gatewayOnB.socket.disconnect();

    gatewayOnA.socket.disconnect();
    await eventually('B hears the gateway leave', () => links.at(-1)?.connected === false);
    expect((await get(b.server, '/api/ward?site=demo')).json<WardView>().gatewayConnected).toBe(false);
  });

  it('an alarm change nobody told the instances about reaches their tablets from the database', async () => {
    const { a, b, dir } = await pair({ syncPollMs: 200 });
    // A third instance without Redis: whatever it changes, it tells nobody.
    const c = await h.server({ dataDir: dir });
    const kariOnA = await h.staff(a.url, 'Kari');
    const olaOnB = await h.staff(b.url, 'Ola');
    const perOnC = await h.staff(c.url, 'Per');
    await (await h.gateway(c.url)).raise(decision('d3'));
    for (const tablet of [kariOnA, olaOnB])
      await eventually('the alarm from the database', () => tablet.alarms.find((x) => x.id === 'd3'), 3_000);
    await perOnC.socket.emitWithAck('acknowledge', { alarmId: 'd3', by: 'Per' });
    for (const tablet of [kariOnA, olaOnB])
      await eventually(
        'the acknowledgement from the database',
        () => tablet.alarms.find((x) => x.id === 'd3' && x.status === 'acknowledged'),
        3_000,
      );
    await sleep(600); // three more polls: nothing is passed on twice
    for (const tablet of [kariOnA, olaOnB]) expect(seqs(tablet.alarms, 'd3')).toHaveLength(2);
  });

  it('a site configuration saved where nobody is told reaches the instances and their gateways from the database', async () => {
    const { a, b, dir } = await pair({ syncPollMs: 200 });
    const c = await h.server({ dataDir: dir });
    const gatewayOnB = await h.gateway(b.url);
    const configs: SiteConfig[] = [];
    gatewayOnB.socket.on('config', (config) => configs.push(config));
    const saved = await c.server.sites.save({ ...site, rooms: [{ id: 'room-1', name: 'Rom 1 sør' }] });
    for (const s of [a, b])
      await eventually('the instance reloads it', () => s.server.sites.get('demo')?.revision === saved.revision, 3_000);
    const pushed = await eventually('the gateway on B gets it', () => configs.find((x) => x.revision === saved.revision), 3_000);
    expect(pushed.rooms[0]?.name).toBe('Rom 1 sør');
    await sleep(600);
    expect(
      configs.filter((x) => x.revision === saved.revision),
      'pushed once',
    ).toHaveLength(1);
  });

  it('a tablet whose link drops for a moment gets what it missed, or is told it must resync', async () => {
    const { a, b } = await pair();
    const cookie = await loginAs(b.server, { username: 'kari', displayName: 'Kari' });
    const tablet: StaffSocket = io(`${b.url}/staff`, { transports: ['websocket'], extraHeaders: { cookie }, forceNew: true });
    h.onClose(() => tablet.disconnect());
    const received: Alarm[] = [];
    tablet.on('alarm', (alarm) => received.push(alarm));
    await eventually('connected', () => tablet.connected);
    const gateway = await h.gateway(a.url);
    // Recovery needs one packet with an offset first; then the link drops (as on a Wi-Fi blip).
    await gateway.raise(decision('before'));
    await eventually('the first alarm', () => received.find((x) => x.id === 'before'));
    tablet.io.engine.close();
    await eventually('disconnected', () => !tablet.connected);
    await gateway.raise(decision('meanwhile'));
    await eventually('reconnected', () => tablet.connected, 10_000);
    await sleep(300);
    // The board resyncs over REST exactly when `recovered` is false (web/src/api/ward-connection.ts).
    expect(received.some((x) => x.id === 'meanwhile') || !tablet.recovered, 'the missed alarm, or recovered = false').toBe(true);
  });

  it('health reports Redis and the database; readiness fails without Redis; liveness does not', async () => {
    const { a } = await pair();
    const up = await a.server.app.inject({ method: 'GET', url: '/api/health' });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toMatchObject({ status: 'ok', database: true, redis: true });

    // Redis on a port nobody listens on.
    const dir = mkdtempSync(join(tmpdir(), 'nattevakt-two-'));
    dirs.push(dir);
    const lonely = await h.server({ dataDir: dir, redis: { url: 'redis://127.0.0.1:1', keyPrefix: freshPrefix() } });
    const down = await lonely.server.app.inject({ method: 'GET', url: '/api/health' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ status: 'degraded', database: true, redis: false });
    expect((await lonely.server.app.inject({ method: 'GET', url: '/api/health/live' })).statusCode).toBe(200);

    const alone = await h.server();
    expect((await alone.server.app.inject({ method: 'GET', url: '/api/health' })).json()).toMatchObject({ status: 'ok', redis: null });
  });
});
