import { io } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { percentile } from '../src/alarms/delivery.js';
import type { NattevaktServer } from '../src/app.js';
import { decision, eventually, type GatewaySocket, Harness, ManualClock, type StaffSocket, sleep, T0 } from './alarm-harness.js';
import { engines } from './support/databases.js';
import { get, loginAs } from './support/login.js';

const at = (ms: number) => new Date(T0 + ms).toISOString();

describe.each(engines)('delivery and read receipts from the tablets ($name)', (engine) => {
  const h = new Harness(engine);
  let server: NattevaktServer;
  let url: string;
  let clock: ManualClock;
  let gateway: { socket: GatewaySocket; raise: (d: ReturnType<typeof decision>) => Promise<unknown> };
  let tabA: StaffSocket;
  let tabB: StaffSocket;

  beforeEach(async () => {
    clock = new ManualClock();
    ({ server, url } = await h.server({ clock }));
    gateway = await h.gateway(url);
    tabA = (await h.staff(url)).socket;
    tabB = (await h.staff(url, 'Ola')).socket;
  });
  afterEach(() => h.close());

  it('records the first delivery and display per device, idempotently, without changing the alarm', async () => {
    const watcher = await h.staff(url);
    await gateway.raise(decision('d1'));
    const raised = await eventually('raised', () => watcher.alarms[0]);
    const device = '3f2b8c1e-6d7a-4e3b-9f1a-2c4d5e6f7a8b';

    clock.advance(200);
    const first = await tabA.emitWithAck('delivered', { alarmId: 'd1', seq: raised.seq, device });
    expect(first).toEqual({ ok: true, receipt: { alarmId: 'd1', device, seq: raised.seq, deliveredAt: at(200), displayedAt: null } });
    clock.advance(100);
    // The same receipt again (a retry after a lost ack), and a stale one: the first time stays.
    expect(await tabA.emitWithAck('delivered', { alarmId: 'd1', seq: raised.seq, device })).toEqual(first);
    clock.advance(100);
    const displayed = await tabA.emitWithAck('displayed', { alarmId: 'd1', device });
    expect(displayed).toEqual({ ok: true, receipt: { ...(first.ok ? first.receipt : {}), displayedAt: at(400) } });
    clock.advance(100);
    expect(await tabA.emitWithAck('displayed', { alarmId: 'd1', device })).toEqual(displayed);

    // A newer version delivered moves seq up, never down; the times stay the first ones.
    expect(await tabA.emitWithAck('delivered', { alarmId: 'd1', seq: raised.seq + 5, device })).toMatchObject({
      receipt: { seq: raised.seq + 5, deliveredAt: at(200) },
    });
    expect(await tabA.emitWithAck('delivered', { alarmId: 'd1', seq: raised.seq, device })).toMatchObject({
      receipt: { seq: raised.seq + 5 },
    });

    // A read receipt without a delivery confirmation (lost on the way) counts as delivered then.
    expect(await tabB.emitWithAck('displayed', { alarmId: 'd1', device: 'tab-b' })).toEqual({
      ok: true,
      receipt: { alarmId: 'd1', device: 'tab-b', seq: null, deliveredAt: at(500), displayedAt: at(500) },
    });

    const timeline = (await get(server, '/api/alarms/d1/delivery')).json();
    expect(timeline.devices).toHaveLength(2);
    // Receipts are not lifecycle: no audit row, no new seq, no broadcast.
    await sleep(30);
    expect(watcher.alarms).toHaveLength(1);
    expect(await server.alarms.get('d1')).toMatchObject({ alarm: { seq: raised.seq }, audit: [{ action: 'raised' }] });
  });

  it('refuses receipts for an unknown alarm or with a bad device id', async () => {
    await gateway.raise(decision('d2'));
    expect(await tabA.emitWithAck('delivered', { alarmId: 'nope', seq: 1, device: 'tab-a' })).toEqual({ ok: false, error: 'not-found' });
    expect(await tabA.emitWithAck('displayed', { alarmId: 'nope', device: 'tab-a' })).toEqual({ ok: false, error: 'not-found' });
    for (const device of ['x'.repeat(65), '', 'tab a', '../etc']) {
      const result = await tabA.emitWithAck('delivered', { alarmId: 'd2', seq: 1, device });
      expect(result, JSON.stringify(device)).toMatchObject({ ok: false, error: expect.stringContaining('invalid: /device') });
    }
    expect(await tabA.emitWithAck('delivered', { alarmId: 'd2', device: 'tab-a' } as never)).toMatchObject({
      ok: false,
      error: expect.stringContaining('/seq'),
    });
    expect(await tabA.emitWithAck('delivered', { alarmId: 'd2', seq: 1, device: 'x'.repeat(64) })).toMatchObject({ ok: true });
  });

  it('refuses a receipt from a tablet of another site and records nothing', async () => {
    await gateway.raise(decision('d9'));
    const cookie = await loginAs(server, { username: 'elsewhere', sites: ['other-site'] });
    const stranger: StaffSocket = io(`${url}/staff`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { cookie },
    });
    h.onClose(() => stranger.disconnect());
    await new Promise<void>((resolve, reject) => {
      stranger.once('connect', () => resolve());
      stranger.once('connect_error', reject);
    });
    expect(await stranger.emitWithAck('delivered', { alarmId: 'd9', seq: 1, device: 'tab-x' })).toEqual({ ok: false, error: 'forbidden' });
    expect(await stranger.emitWithAck('displayed', { alarmId: 'd9', device: 'tab-x' })).toEqual({ ok: false, error: 'forbidden' });
    const timeline = await server.delivery.timeline('d9');
    expect(JSON.stringify(timeline)).not.toContain('tab-x');
  });

  it('records a whole ward of receipts arriving at once, each answered for itself, an unknown alarm refused', async () => {
    await gateway.raise(decision('d8'));
    clock.advance(200);
    // Sent without waiting for answers, as 60 tablets confirm one alarm together: they are written in batches.
    const devices = Array.from({ length: 60 }, (_, i) => `tab-${i}`);
    const answers = await Promise.all([
      ...devices.map((device, i) => (i % 2 === 0 ? tabA : tabB).emitWithAck('delivered', { alarmId: 'd8', seq: 1 + (i % 3), device })),
      // The same tablet twice in one batch: the higher seq stays, the first time stays.
      tabA.emitWithAck('delivered', { alarmId: 'd8', seq: 7, device: 'tab-0' }),
      tabA.emitWithAck('displayed', { alarmId: 'd8', device: 'tab-1' }),
      tabA.emitWithAck('delivered', { alarmId: 'nope', seq: 1, device: 'tab-0' }),
    ]);
    expect(answers.slice(0, 60).every((a) => a.ok)).toBe(true);
    expect(answers.slice(0, 60).map((a) => (a.ok ? a.receipt.device : a.error))).toEqual(devices);
    expect(answers.at(-1)).toEqual({ ok: false, error: 'not-found' });
    const timeline = await server.delivery.timeline('d8');
    expect(timeline?.devices).toHaveLength(60);
    const byDevice = new Map(timeline?.devices.map((d) => [d.device, d]));
    expect(byDevice.get('tab-0')).toEqual({ alarmId: 'd8', device: 'tab-0', seq: 7, deliveredAt: at(200), displayedAt: null });
    expect(byDevice.get('tab-1')).toEqual({ alarmId: 'd8', device: 'tab-1', seq: 2, deliveredAt: at(200), displayedAt: at(200) });
    expect(byDevice.get('tab-5')).toMatchObject({ seq: 3, deliveredAt: at(200) });
  });

  it('shows one alarm’s timeline from sensor to resolution with its latencies', async () => {
    await gateway.raise(decision('d3', { decidedAt: at(-100), evidence: { eventIds: ['e'], since: at(-1000) } }));
    clock.advance(200);
    await tabA.emitWithAck('delivered', { alarmId: 'd3', seq: 1, device: 'tab-a' });
    clock.advance(100);
    await tabB.emitWithAck('delivered', { alarmId: 'd3', seq: 1, device: 'tab-b' });
    clock.advance(200);
    await tabA.emitWithAck('displayed', { alarmId: 'd3', device: 'tab-a' });
    clock.advance(60_000 - 500);
    await server.escalations.runDue();
    clock.advance(5_000);
    await tabA.emitWithAck('acknowledge', { alarmId: 'd3', by: 'Kari' });
    clock.advance(120_000);
    await tabA.emitWithAck('resolve', { alarmId: 'd3', by: 'Kari', outcome: 'assisted' });

    const response = await get(server, '/api/alarms/d3/delivery');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      alarmId: 'd3',
      siteId: 'demo',
      rule: 'door-open-at-night',
      priority: 'high',
      status: 'resolved',
      escalationLevel: 1,
      stages: {
        conditionSince: at(-1000),
        sensorAt: null,
        raisedAt: '2026-11-25T01:59:59.000Z',
        decidedAt: at(-100),
        receivedAt: at(0),
        firstDeliveredAt: at(200),
        firstDisplayedAt: at(500),
        acknowledgedAt: at(65_000),
        acknowledgedBy: 'Kari',
        conditionClearedAt: null,
        resolvedAt: at(185_000),
        resolvedBy: 'Kari',
      },
      escalations: [{ level: 1, at: at(60_000) }],
      devices: [
        { alarmId: 'd3', device: 'tab-a', seq: 1, deliveredAt: at(200), displayedAt: at(500) },
        { alarmId: 'd3', device: 'tab-b', seq: 1, deliveredAt: at(300), displayedAt: null },
      ],
      latencyMs: { decidedToReceived: 100, receivedToFirstDelivered: 200, receivedToFirstDisplayed: 500, receivedToAcknowledged: 65_000 },
    });
    expect((await get(server, '/api/alarms/nope/delivery')).statusCode).toBe(404);
  });

  it('reports p50 / p90 / max over acknowledged and resolved alarms in a period', async () => {
    // r1: decided→received 100, first delivered 200, first displayed 500, acknowledged 20 s.
    await gateway.raise(decision('r1', { decidedAt: at(-100) }));
    clock.advance(200);
    await tabA.emitWithAck('delivered', { alarmId: 'r1', seq: 1, device: 'tab-a' });
    clock.advance(100);
    await tabB.emitWithAck('delivered', { alarmId: 'r1', seq: 1, device: 'tab-b' });
    clock.advance(200);
    await tabA.emitWithAck('displayed', { alarmId: 'r1', device: 'tab-a' });
    // r2 (received at +1 s): 50, 100, 400, resolved without "Jeg går".
    clock.advance(500);
    await gateway.raise(decision('r2', { decidedAt: at(950) }));
    clock.advance(100);
    await tabA.emitWithAck('delivered', { alarmId: 'r2', seq: 2, device: 'tab-a' });
    clock.advance(300);
    await tabB.emitWithAck('displayed', { alarmId: 'r2', device: 'tab-b' });
    await tabB.emitWithAck('resolve', { alarmId: 'r2', by: 'Ola', outcome: 'back-by-themselves' });
    // r3 (received at +2 s): 300, 50, never displayed, acknowledged after 5 s.
    clock.advance(600);
    await gateway.raise(decision('r3', { decidedAt: at(1700) }));
    clock.advance(50);
    await tabA.emitWithAck('delivered', { alarmId: 'r3', seq: 3, device: 'tab-a' });
    clock.advance(4_950);
    await tabA.emitWithAck('acknowledge', { alarmId: 'r3', by: 'Kari' });
    clock.advance(13_000);
    await tabA.emitWithAck('acknowledge', { alarmId: 'r1', by: 'Kari' }); // at +20 s
    // r4 (at +20 s): decided 1 s before, acknowledged and resolved at once. r5: 100 ms, escalated
    // once, then resolved. r6: escalated but still active, so left out.
    await gateway.raise(decision('r4', { decidedAt: at(19_000) }));
    await gateway.raise(decision('r5', { decidedAt: at(19_900) }));
    await gateway.raise(decision('r6'));
    await tabA.emitWithAck('acknowledge', { alarmId: 'r4', by: 'Kari' });
    await tabA.emitWithAck('resolve', { alarmId: 'r4', by: 'Kari', outcome: 'assisted' });
    clock.advance(60_000);
    expect(await server.escalations.runDue()).toBe(2);
    await tabA.emitWithAck('resolve', { alarmId: 'r5', by: 'Kari', outcome: 'false-alarm' });

    const response = await get(server, `/api/reports/alarm-latency?from=${at(0)}&to=${at(3_600_000)}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      from: at(0),
      to: at(3_600_000),
      siteId: 'demo', // the nurse's only site, when none is named
      alarms: 5,
      escalated: 1,
      escalatedToNurseInCharge: 0,
      latencyMs: {
        decidedToReceived: { count: 5, p50: 100, p90: 1_000, max: 1_000 }, // 50 100 100 300 1000
        receivedToFirstDelivered: { count: 3, p50: 100, p90: 200, max: 200 }, // 50 100 200
        receivedToFirstDisplayed: { count: 2, p50: 400, p90: 500, max: 500 }, // 400 500
        receivedToAcknowledged: { count: 3, p50: 5_000, p90: 20_000, max: 20_000 }, // 0 5000 20000
      },
    });

    // [from, to): the first three alarms only.
    const early = (await get(server, `/api/reports/alarm-latency?from=${at(0)}&to=${at(19_999)}`)).json();
    expect(early).toMatchObject({
      alarms: 3,
      latencyMs: {
        decidedToReceived: { count: 3, p50: 100, p90: 300, max: 300 },
        receivedToAcknowledged: { count: 2, p50: 5_000, p90: 20_000, max: 20_000 },
      },
    });
    const onlyR2 = (await get(server, `/api/reports/alarm-latency?from=${at(1000)}&to=${at(2000)}&site=demo`)).json();
    expect(onlyR2).toMatchObject({ siteId: 'demo', alarms: 1, latencyMs: { receivedToAcknowledged: { count: 0, p50: null, max: null } } });
    // A site the nurse does not belong to: refused.
    const otherSite = await get(server, `/api/reports/alarm-latency?site=elsewhere&from=${at(0)}`);
    expect(otherSite.statusCode).toBe(403);

    // Defaults: the 24 hours up to now (server clock).
    const recent = (await get(server, '/api/reports/alarm-latency')).json();
    expect(recent).toMatchObject({ to: new Date(clock.now()).toISOString(), alarms: 5 });

    expect((await get(server, `/api/reports/alarm-latency?from=${at(10)}&to=${at(0)}`)).statusCode).toBe(400);
    expect((await get(server, '/api/reports/alarm-latency?from=yesterday')).statusCode).toBe(400);
  });

  it('computes nearest-rank percentiles', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 90)).toBe(7);
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect([percentile(ten, 50), percentile(ten, 90), percentile(ten, 100)]).toEqual([5, 9, 10]);
  });
});
