import type { Alarm } from '@nattevakt/protocol/alarm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NattevaktServer } from '../src/app.js';
import { decision, eventually, Harness, ManualClock, sleep } from './alarm-harness.js';
import { engines } from './support/databases.js';
import { get } from './support/login.js';

describe.each(engines)('alarm lifecycle over /staff ($name)', (engine) => {
  const h = new Harness(engine);
  let server: NattevaktServer;
  let url: string;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock();
    ({ server, url } = await h.server({ clock }));
  });
  afterEach(() => h.close());

  async function raised(id: string, priority: Alarm['priority'] = 'high') {
    const gateway = await h.gateway(url);
    expect(await gateway.raise(decision(id, { priority }))).toEqual({ ok: true, accepted: 1, rejected: [] });
  }

  it('goes active → acknowledged → resolved, seen by every tablet with a growing seq', async () => {
    const kari = await h.staff(url);
    const ola = await h.staff(url, 'Ola');
    await raised('a1');
    const active = await eventually('alarm broadcast', () => ola.alarms.find((a) => a.id === 'a1'));
    expect(active).toMatchObject({
      status: 'active',
      residentName: 'Astrid H.',
      roomName: 'Rom 1',
      escalationLevel: 0,
      escalatedAt: null,
      nextEscalationAt: '2026-11-25T02:01:00.000Z',
      receivedAt: '2026-11-25T02:00:00.000Z',
    });

    clock.advance(20_000);
    const acked = await kari.socket.emitWithAck('acknowledge', { alarmId: 'a1', by: 'Kari' });
    expect(acked).toMatchObject({
      ok: true,
      alarm: { status: 'acknowledged', acknowledgedBy: 'Kari', acknowledgedAt: '2026-11-25T02:00:20.000Z', nextEscalationAt: null },
    });
    await eventually('Ola sees Kari going', () => ola.alarms.find((a) => a.status === 'acknowledged' && a.acknowledgedBy === 'Kari'));

    clock.advance(60_000);
    const resolved = await kari.socket.emitWithAck('resolve', { alarmId: 'a1', by: 'Kari', outcome: 'assisted' });
    expect(resolved).toMatchObject({ ok: true, alarm: { status: 'resolved', outcome: 'assisted', resolvedBy: 'Kari', note: null } });
    await eventually('Ola sees it resolved', () => ola.alarms.find((a) => a.status === 'resolved'));

    const seqs = ola.alarms.map((a) => a.seq);
    expect(seqs).toHaveLength(3);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    const history = (await get(server, '/api/alarms/a1')).json();
    expect(history.audit.map((a: { action: string; actor: string }) => `${a.action}:${a.actor}`)).toEqual([
      'raised:gateway:demo',
      'acknowledged:Kari',
      'resolved:Kari',
    ]);
    expect(history.audit[2].detail).toEqual({ outcome: 'assisted' });
  });

  it('resolves an active alarm directly, and refuses to resolve it twice', async () => {
    const kari = await h.staff(url);
    await raised('a2');
    const first = await kari.socket.emitWithAck('resolve', { alarmId: 'a2', by: 'Kari', outcome: 'false-alarm' });
    expect(first).toMatchObject({
      ok: true,
      alarm: { status: 'resolved', acknowledgedAt: null, outcome: 'false-alarm', nextEscalationAt: null },
    });
    expect(await kari.socket.emitWithAck('resolve', { alarmId: 'a2', by: 'Ola', outcome: 'assisted' })).toEqual({
      ok: false,
      error: 'already-resolved',
    });
    expect(await kari.socket.emitWithAck('acknowledge', { alarmId: 'a2', by: 'Kari' })).toEqual({ ok: false, error: 'already-resolved' });
    expect((await server.alarms.get('a2'))?.audit.map((a) => a.action)).toEqual(['raised', 'resolved']);
  });

  it('treats a second "Jeg går" by the same nurse as a no-op and refuses another nurse', async () => {
    const kari = await h.staff(url);
    const ola = await h.staff(url, 'Ola');
    await raised('a3');
    const first = await kari.socket.emitWithAck('acknowledge', { alarmId: 'a3', by: 'Kari' });
    const again = await kari.socket.emitWithAck('acknowledge', { alarmId: 'a3', by: 'Kari' });
    expect(again).toEqual(first);
    expect(await ola.socket.emitWithAck('acknowledge', { alarmId: 'a3', by: 'Ola' })).toEqual({
      ok: false,
      error: 'already-acknowledged:Kari',
    });
    expect((await server.alarms.get('a3'))?.audit.map((a) => a.action)).toEqual(['raised', 'acknowledged']);
    await sleep(50);
    expect(ola.alarms.filter((a) => a.id === 'a3').map((a) => a.status)).toEqual(['active', 'acknowledged']);
  });

  it('needs a note for the outcome "other", and takes one', async () => {
    const kari = await h.staff(url);
    await raised('a4');
    expect(await kari.socket.emitWithAck('resolve', { alarmId: 'a4', by: 'Kari', outcome: 'other' })).toEqual({
      ok: false,
      error: 'note-required',
    });
    expect(await kari.socket.emitWithAck('resolve', { alarmId: 'a4', by: 'Kari', outcome: 'other', note: '   ' })).toEqual({
      ok: false,
      error: 'note-required',
    });
    expect((await server.alarms.get('a4'))?.alarm.status).toBe('active');
    const done = await kari.socket.emitWithAck('resolve', { alarmId: 'a4', by: 'Kari', outcome: 'other', note: 'Ville på do' });
    expect(done).toMatchObject({ ok: true, alarm: { status: 'resolved', outcome: 'other', note: 'Ville på do' } });
  });

  it('answers commands for an unknown alarm, and malformed ones, without a broadcast', async () => {
    const kari = await h.staff(url);
    expect(await kari.socket.emitWithAck('acknowledge', { alarmId: 'nope', by: 'Kari' })).toEqual({ ok: false, error: 'not-found' });
    expect(await kari.socket.emitWithAck('resolve', { alarmId: 'nope', by: 'Kari', outcome: 'assisted' })).toEqual({
      ok: false,
      error: 'not-found',
    });
    const bad = await kari.socket.emitWithAck('resolve', { alarmId: 'nope', by: 'Kari', outcome: 'fine' } as never);
    expect(bad).toMatchObject({ ok: false, error: expect.stringContaining('invalid: /outcome') });
    await sleep(30);
    expect(kari.alarms).toEqual([]);
  });

  it('returns the lifecycle fields from every alarm endpoint (response schemas keep them)', async () => {
    const kari = await h.staff(url);
    await raised('a5');
    clock.advance(61_000);
    await server.escalations.runDue();
    await eventually('escalated broadcast', () => kari.alarms.find((a) => a.escalationLevel === 1));
    const expected = {
      id: 'a5',
      escalationLevel: 1,
      escalatedAt: '2026-11-25T02:01:01.000Z',
      nextEscalationAt: '2026-11-25T02:02:01.000Z',
    };
    const open = (await get(server, '/api/alarms/open')).json();
    expect(open.alarms[0]).toMatchObject(expected);
    const changes = (await get(server, '/api/alarms/changes?since=0')).json();
    expect(changes.alarms[0]).toMatchObject(expected);
    const one = (await get(server, '/api/alarms/a5')).json();
    expect(one.alarm).toMatchObject(expected);
    expect(one.audit.at(-1)).toMatchObject({ action: 'escalated', actor: 'system', detail: { level: 1, notified: 'all-nurses' } });
  });

  it('lets a tablet that missed changes catch up from /api/alarms/changes?since=<seq>, escalations included', async () => {
    const kari = await h.staff(url);
    await raised('b1');
    await raised('b2', 'medium');
    await eventually('both alarms', () => kari.alarms.length === 2);
    const lastSeen = Math.max(...kari.alarms.map((a) => a.seq));

    // The tablet drops off the Wi-Fi; meanwhile b1 escalates, b2 is acknowledged and resolved.
    kari.socket.disconnect();
    clock.advance(60_000);
    expect(await server.escalations.runDue()).toBe(1);
    const ola = await h.staff(url, 'Ola');
    await ola.socket.emitWithAck('acknowledge', { alarmId: 'b2', by: 'Ola' });
    await ola.socket.emitWithAck('resolve', { alarmId: 'b2', by: 'Ola', outcome: 'back-by-themselves' });

    const response = await get(server, `/api/alarms/changes?since=${lastSeen}`);
    const body = response.json() as { seq: number; alarms: Alarm[] };
    expect(body.alarms.map((a) => [a.id, a.status, a.escalationLevel])).toEqual([
      ['b1', 'active', 1],
      ['b2', 'resolved', 0],
    ]);
    expect(body.seq).toBe(lastSeen + 3);
    expect(body.alarms.every((a) => a.seq > lastSeen)).toBe(true);
    // Nothing newer than the head: an up-to-date tablet gets an empty list.
    expect((await get(server, `/api/alarms/changes?since=${body.seq}`)).json()).toEqual({ seq: body.seq, alarms: [] });
  });
});
