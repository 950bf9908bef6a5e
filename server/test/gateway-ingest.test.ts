import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Alarm, type AlarmDecision, alarmDecision } from '@nattevakt/protocol/alarm';
import type { SensorEvent } from '@nattevakt/protocol/sensor-event';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import type { BatchAck, GatewayClientToServer, GatewayServerToClient, OutboxItem } from '@nattevakt/protocol/socket-events';
import type { RoomState } from '@nattevakt/protocol/ward';
import fc from 'fast-check';
import { io, type Socket } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type NattevaktServer } from '../src/app.js';
import { engines } from './support/databases.js';
import { get, loginAs, type TestUser } from './support/login.js';

const TOKEN = 'gateway-token-for-tests-0001';
const site: SiteConfig = {
  version: 1,
  site: { id: 'demo', name: 'Demo', timezone: 'Europe/Oslo' },
  rooms: [{ id: 'room-1', name: 'Rom 1' }],
  residents: [
    {
      id: 'res-1',
      name: 'Astrid H.',
      roomId: 'room-1',
      plan: {
        armed: true,
        nightWindow: { start: '22:00', end: '07:00' },
        rules: { doorOpenAtNight: { enabled: true, priority: 'high' }, outOfBedTooLong: { enabled: true, minutes: 20, priority: 'high' } },
      },
    },
  ],
  sensors: [{ id: 'bed-1', kind: 'bed', roomId: 'room-1', residentId: 'res-1' }],
};

const event = (id: string, occupied: boolean, time: string): SensorEvent => ({
  id,
  siteId: 'demo',
  sensorId: 'bed-1',
  sensorKind: 'bed',
  roomId: 'room-1',
  residentId: 'res-1',
  time,
  occupied,
  online: true,
  format: 'native',
  raw: JSON.stringify({ kind: 'bed', occupied }),
});

const decision: AlarmDecision = {
  id: 'alarm-1',
  siteId: 'demo',
  residentId: 'res-1',
  roomId: 'room-1',
  sensorId: 'bed-1',
  rule: 'out-of-bed-too-long',
  priority: 'high',
  raisedAt: '2026-11-25T02:20:00.000Z',
  decidedAt: '2026-11-25T02:20:00.001Z',
  evidence: { eventIds: ['e1'], since: '2026-11-25T02:00:00.000Z', thresholdMinutes: 20 },
};

describe.each(engines)('ingestion from a gateway ($name)', (engine) => {
  let server: NattevaktServer;
  let options: Awaited<ReturnType<typeof engine.store>>;
  let url: string;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    options = await engine.store();
    server = await buildApp(options);
    await server.sites.save(site);
    await server.sites.setGatewayToken('demo', TOKEN);
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.disconnect();
    await server.app.close();
    await engine.reset();
  });

  async function connectGateway(token: string) {
    const socket: Socket<GatewayServerToClient, GatewayClientToServer> = io(`${url}/gateway`, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      // Never a Manager cached for this host and port by an earlier test: a server started later
      // may get the same port, and a cached Manager would reconnect with the old one's headers.
      forceNew: true,
    });
    sockets.push(socket);
    const config = new Promise<SiteConfig>((resolve) => socket.once('config', resolve));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return { socket, config };
  }

  /** A logged-in tablet on `/staff`; `listen` adds its handlers before it connects, so nothing sent on connect is missed. */
  async function connectStaff(user: TestUser, listen: (staff: Socket) => void = () => {}): Promise<Socket> {
    const cookie = await loginAs(server, user);
    const staff: Socket = io(`${url}/staff`, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { cookie } });
    sockets.push(staff);
    listen(staff);
    await new Promise<void>((resolve, reject) => {
      staff.once('connect', () => resolve());
      staff.once('connect_error', reject);
    });
    return staff;
  }

  it('refuses a gateway with an unknown token', async () => {
    await expect(connectGateway('not-the-right-token-at-all')).rejects.toThrow('unauthorized');
  });

  it('pushes the site configuration to the gateway on connect', async () => {
    const { config } = await connectGateway(TOKEN);
    // No legal basis is recorded for the resident, so the pushed plan is unarmed whatever the input said.
    const unarmed = site.residents.map((r) => ({ ...r, plan: { ...r.plan, armed: false } }));
    expect(await config).toEqual({ ...site, residents: unarmed, revision: 1 });
  });

  it('stores a re-delivered batch once (idempotent by id)', async () => {
    const { socket } = await connectGateway(TOKEN);
    const batch: OutboxItem[] = [
      { type: 'event', event: event('e1', false, '2026-11-25T02:00:00.000Z') },
      { type: 'alarm', alarm: decision },
    ];
    const first: BatchAck = await socket.emitWithAck('batch', batch);
    const again: BatchAck = await socket.emitWithAck('batch', batch);
    expect(first).toEqual({ ok: true, accepted: 2, rejected: [] });
    expect(again).toEqual({ ok: true, accepted: 2, rejected: [] });
    const stored = await server.timeSeries.range('demo', new Date('2026-11-25T00:00:00Z'), new Date('2026-11-26T00:00:00Z'));
    expect(stored.map((e) => e.id)).toEqual(['e1']);
    const open = await server.alarms.open();
    expect(open.alarms.map((a) => a.id)).toEqual(['alarm-1']);
    const history = await server.alarms.get('alarm-1');
    expect(history?.audit.map((a) => a.action)).toEqual(['raised']);
    expect((await server.metrics.duplicates.get()).values[0]?.value).toBe(1);
  });

  it('rejects invalid items by index and stores the valid ones', async () => {
    const { socket } = await connectGateway(TOKEN);
    const otherSite = { ...event('e2', true, '2026-11-25T02:05:00.000Z'), siteId: 'other' };
    const ack: BatchAck = await socket.emitWithAck('batch', [
      { type: 'event', event: { id: 'x' } },
      { type: 'event', event: otherSite },
      { type: 'event', event: event('e3', true, '2026-11-25T02:06:00.000Z') },
    ] as OutboxItem[]);
    expect(ack.ok).toBe(true);
    expect(ack.accepted).toBe(1);
    expect(ack.rejected.map((r) => r.index)).toEqual([0, 1]);
    expect(ack.rejected[1]?.error).toContain('authenticated for demo');
    const room = await server.ward.room('demo', 'room-1');
    expect(room?.bed).toEqual({ occupied: true, since: '2026-11-25T02:06:00.000Z' });
  });

  it('applies a batch of one sensor in order, tells the room once with its state after the batch, and keeps it over a restart', async () => {
    // On a database that outlives the app (not the in-memory SQLite of the other tests).
    await server.app.close();
    options = await engine.store(mkdtempSync(join(tmpdir(), 'nattevakt-ward-')));
    server = await buildApp(options);
    await server.sites.save(site);
    await server.sites.setGatewayToken('demo', TOKEN);
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    const told: RoomState[] = [];
    await connectStaff({ username: 'nurse-rooms', displayName: 'Kari' }, (staff) => staff.on('room', (room: RoomState) => told.push(room)));
    const { socket } = await connectGateway(TOKEN);
    const ack: BatchAck = await socket.emitWithAck('batch', [
      { type: 'event', event: event('b1', true, '2026-11-25T02:00:00.000Z') },
      { type: 'event', event: event('b2', false, '2026-11-25T02:00:05.000Z') },
      { type: 'event', event: event('b3', true, '2026-11-25T02:00:10.000Z') },
      // Older than what the batch already told (an outbox replay): ignored.
      { type: 'event', event: event('b4', false, '2026-11-25T01:59:00.000Z') },
      // The same state again: "since" stays at the change.
      { type: 'event', event: event('b5', true, '2026-11-25T02:00:20.000Z') },
    ]);
    expect(ack).toEqual({ ok: true, accepted: 5, rejected: [] });
    const after = { occupied: true, since: '2026-11-25T02:00:10.000Z' };
    expect((await server.ward.room('demo', 'room-1'))?.bed).toEqual(after);
    // The room is told once for the batch (its state after all of it); a second batch tells it again.
    await socket.emitWithAck('batch', [{ type: 'event', event: event('b6', false, '2026-11-25T02:01:00.000Z') }]);
    for (let waited = 0; told.length < 2 && waited < 5_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(told.map((room) => room.bed)).toEqual([after, { occupied: false, since: '2026-11-25T02:01:00.000Z' }]);

    // What was written is what a restarted server shows.
    for (const s of sockets.splice(0)) s.disconnect();
    await server.app.close();
    server = await buildApp(options);
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    expect((await server.ward.room('demo', 'room-1'))?.bed).toEqual({ occupied: false, since: '2026-11-25T02:01:00.000Z' });
    expect((await server.ward.room('demo', 'room-1'))?.sensors[0]?.lastSeen).toBe('2026-11-25T02:01:00.000Z');
  });

  it('takes a batch as JSON text in a binary attachment (as the gateway sends it), and refuses one that is not JSON', async () => {
    const { socket } = await connectGateway(TOKEN);
    const items: OutboxItem[] = [
      { type: 'event', event: event('bin-1', true, '2026-11-25T02:10:00.000Z') },
      { type: 'alarm', alarm: { ...decision, id: 'alarm-bin' } },
    ];
    const ack: BatchAck = await socket.emitWithAck('batch', Buffer.from(JSON.stringify(items)));
    expect(ack).toEqual({ ok: true, accepted: 2, rejected: [] });
    const stored = await server.timeSeries.range('demo', new Date('2026-11-25T00:00:00Z'), new Date('2026-11-26T00:00:00Z'));
    expect(stored.map((e) => e.id)).toEqual(['bin-1']);
    expect((await server.alarms.open()).alarms.map((a) => a.id)).toEqual(['alarm-bin']);
    const bad: BatchAck = await socket.emitWithAck('batch', Buffer.from('[{"type":"event",'));
    expect(bad).toEqual({ ok: false, accepted: 0, rejected: [], error: 'a binary batch is the JSON text of an array of outbox items' });
    // (A failed batch refuses the ones right behind it on that connection: a fresh one for the next.)
    const again = await connectGateway(TOKEN);
    const notArray: BatchAck = await again.socket.emitWithAck('batch', Buffer.from('{"type":"event"}'));
    expect(notArray.error).toBe('a batch is an array of outbox items');
  });

  it('stores a batch’s alarms and clearings in order in one go, tells each change in that order, and a re-delivery changes nothing', async () => {
    const told: string[] = [];
    await connectStaff({ username: 'nurse-order' }, (staff) =>
      staff.on('alarm', (a: Alarm) => told.push(`${a.id} ${a.conditionClearedAt === null ? 'raised' : 'cleared'} ${a.seq}`)),
    );
    const { socket } = await connectGateway(TOKEN);
    const batch: OutboxItem[] = [
      { type: 'alarm', alarm: { ...decision, id: 'order-a' } },
      { type: 'event', event: event('order-e1', true, '2026-11-25T02:21:00.000Z') },
      { type: 'cleared', cleared: { alarmId: 'order-a', siteId: 'demo', clearedAt: '2026-11-25T02:21:00.000Z', eventId: 'order-e1' } },
      { type: 'alarm', alarm: { ...decision, id: 'order-b' } },
    ];
    expect(await socket.emitWithAck('batch', batch)).toEqual({ ok: true, accepted: 4, rejected: [] });
    for (let waited = 0; told.length < 3 && waited < 5_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    const seqs = told.map((line) => Number(line.split(' ')[2]));
    expect(told.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual(['order-a raised', 'order-a cleared', 'order-b raised']);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const history = await server.alarms.get('order-a');
    expect(history?.audit.map((a) => a.action)).toEqual(['raised', 'condition-cleared']);
    // The same batch again (a lost ack): nothing changes, nobody is told.
    expect(await socket.emitWithAck('batch', batch)).toEqual({ ok: true, accepted: 4, rejected: [] });
    await new Promise((r) => setTimeout(r, 100));
    expect(told).toHaveLength(3);
    expect((await server.alarms.get('order-a'))?.audit).toHaveLength(2);
  });

  it('tells the gateway what a nurse did to its alarm (acknowledged, resolved), not the raise and clearing it sent itself', async () => {
    const toStaff: Alarm[] = [];
    const staff = await connectStaff({ username: 'nurse-echo' }, (staff) => staff.on('alarm', (a: Alarm) => toStaff.push(a)));
    const { socket } = await connectGateway(TOKEN);
    const toGateway: Alarm[] = [];
    socket.on('alarm', (a) => toGateway.push(a));
    const batch: OutboxItem[] = [
      { type: 'alarm', alarm: { ...decision, id: 'echo-a' } },
      { type: 'cleared', cleared: { alarmId: 'echo-a', siteId: 'demo', clearedAt: '2026-11-25T02:21:00.000Z', eventId: 'echo-e1' } },
    ];
    expect(await socket.emitWithAck('batch', batch)).toEqual({ ok: true, accepted: 2, rejected: [] });
    for (let waited = 0; toStaff.length < 2 && waited < 5_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(toStaff.map((a) => a.conditionClearedAt === null)).toEqual([true, false]);
    expect(await staff.emitWithAck('acknowledge', { alarmId: 'echo-a', by: 'Kari' })).toMatchObject({ ok: true });
    expect(await staff.emitWithAck('resolve', { alarmId: 'echo-a', by: 'Kari', outcome: 'false-alarm' })).toMatchObject({ ok: true });
    for (let waited = 0; toGateway.length < 2 && waited < 5_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    expect(toGateway.map((a) => `${a.id} ${a.status} ${a.acknowledgedBy}`)).toEqual([
      'echo-a acknowledged nurse-echo',
      'echo-a resolved nurse-echo',
    ]);
  });

  it('passes an announced alarm to the site’s tablets at once as provisional, stores nothing, and refuses a malformed or foreign one', async () => {
    await server.sites.save({ ...site, site: { ...site.site, id: 'other' } });
    const tablet = async (username: string, sites: string[]) => {
      const provisional: AlarmDecision[] = [];
      const stored: Alarm[] = [];
      await connectStaff({ username, sites }, (staff) => {
        staff.on('provisionalAlarm', (d: AlarmDecision) => provisional.push(d));
        staff.on('alarm', (a: Alarm) => stored.push(a));
      });
      return { provisional, stored };
    };
    const ours = await tablet('nurse-demo', ['demo']);
    const theirs = await tablet('nurse-other', ['other']);
    const { socket } = await connectGateway(TOKEN);
    const metric = async (name: string) => {
      const text = await server.metrics.registry.getSingleMetricAsString(name);
      return text.split('\n').filter((line) => !line.startsWith('#'));
    };

    // Refused: not a decision, and a decision of a site this gateway is not authenticated for.
    socket.emit('alarmDecided', { ...decision, id: 'bad', priority: 'urgent' } as unknown as AlarmDecision);
    socket.emit('alarmDecided', { ...decision, id: 'foreign', siteId: 'other' });
    socket.emit('alarmDecided', { ...decision, id: 'alarm-early' });
    const waitFor = async (done: () => boolean) => {
      for (let waited = 0; !done() && waited < 5_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    };
    await waitFor(() => ours.provisional.length > 0);
    expect(ours.provisional).toEqual([{ ...decision, id: 'alarm-early' }]);
    expect(ours.stored).toEqual([]);
    // Not stored: no lifecycle, no list entry, until the outbox brings it.
    expect((await server.alarms.open()).alarms).toEqual([]);
    expect(await metric('nattevakt_server_provisional_alarms_total')).toEqual(['nattevakt_server_provisional_alarms_total 1']);
    expect(await metric('nattevakt_server_rejected_items_total')).toEqual([
      'nattevakt_server_rejected_items_total{reason="schema"} 1',
      'nattevakt_server_rejected_items_total{reason="wrong-site"} 1',
    ]);
    expect(socket.connected).toBe(true);

    // The batch that follows stores it: the same id, now with a seq and a lifecycle.
    const ack: BatchAck = await socket.emitWithAck('batch', [{ type: 'alarm', alarm: { ...decision, id: 'alarm-early' } }]);
    expect(ack).toEqual({ ok: true, accepted: 1, rejected: [] });
    await waitFor(() => ours.stored.length > 0);
    expect(ours.stored.map((a) => [a.id, a.status, a.seq > 0])).toEqual([['alarm-early', 'active', true]]);
    // The nurse of another site heard neither.
    await new Promise((r) => setTimeout(r, 100));
    expect(theirs.provisional).toEqual([]);
    expect(theirs.stored).toEqual([]);
  });

  it('hostile announcements (any JSON, mutated decisions): only a valid decision of its own site reaches a tablet, each other one is counted, the gateway stays connected', async () => {
    const heard: unknown[] = [];
    await connectStaff({ username: 'nurse-fuzz' }, (staff) => staff.on('provisionalAlarm', (d: unknown) => heard.push(d)));
    const { socket } = await connectGateway(TOKEN);
    const mutated = fc
      .record({ key: fc.constantFrom(...Object.keys(decision), 'extra'), value: fc.jsonValue() })
      .map(({ key, value }) => ({ ...decision, [key]: value }));
    const hostile = fc.oneof(fc.jsonValue(), mutated, fc.constant({ ...decision, siteId: 'other' }), fc.constant(decision));
    const sent = fc.sample(hostile, { numRuns: 300, seed: 20261125 });
    let valid = 0;
    for (const [index, value] of sent.entries()) {
      const ok = alarmDecision.is(value) && (value as AlarmDecision).siteId === 'demo';
      if (ok) valid++;
      socket.emit('alarmDecided', (ok ? { ...(value as AlarmDecision), id: `fuzz-${index}` } : value) as AlarmDecision);
    }
    // A last valid one: once it is heard, every earlier one has been handled (one connection, in order).
    socket.emit('alarmDecided', { ...decision, id: 'fuzz-last' });
    for (let waited = 0; !heard.some((d) => (d as AlarmDecision).id === 'fuzz-last') && waited < 10_000; waited += 20)
      await new Promise((r) => setTimeout(r, 20));
    expect(heard).toHaveLength(valid + 1);
    expect(heard.every((d) => alarmDecision.is(d) && d.siteId === 'demo')).toBe(true);
    const rejected = (await server.metrics.registry.getSingleMetric('nattevakt_server_rejected_items_total')?.get())?.values ?? [];
    expect(rejected.reduce((sum, v) => sum + v.value, 0)).toBe(sent.length - valid);
    expect(socket.connected).toBe(true);
    expect((await server.alarms.open()).alarms).toEqual([]);
  });

  it('answers a batch that is not an array with an error instead of crashing', async () => {
    const { socket } = await connectGateway(TOKEN);
    const ack = (await socket.emitWithAck('batch', { nope: true } as unknown as OutboxItem[])) as BatchAck;
    expect(ack).toMatchObject({ ok: false, error: expect.stringContaining('array') });
    expect(socket.connected).toBe(true);
  });
});

describe.each(engines)('REST ($name)', (engine) => {
  it('reports health and refuses a bad query with a 400 that says why', async () => {
    const server = await buildApp(await engine.store());
    try {
      const health = await get(server, '/api/health');
      expect(health.statusCode).toBe(200);
      expect(health.json()).toMatchObject({ status: 'ok', database: true });
      const bad = await get(server, '/api/alarms/changes?since=minus-one');
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toContain('since');
      const missing = await get(server, '/api/alarms/nope');
      expect(missing.statusCode).toBe(404);
      const noSite = await get(server, '/api/ward');
      expect(noSite.statusCode).toBe(404);
      const metrics = await get(server, '/metrics');
      expect(metrics.body).toContain('nattevakt_server_ingested_items_total');
    } finally {
      await server.app.close();
      await engine.reset();
    }
  });
});
