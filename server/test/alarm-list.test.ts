import type { Alarm } from '@nattevakt/protocol/alarm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NattevaktServer } from '../src/app.js';
import { decision, eventually, Harness, ManualClock, site } from './alarm-harness.js';
import { engines } from './support/databases.js';
import { loginAs } from './support/login.js';

const CSRF = { 'x-nattevakt': '1' };
const ids = (body: { alarms: Alarm[] }) => body.alarms.map((a) => a.id);

describe.each(engines)('alarm history, filters and commands over REST ($name)', (engine) => {
  const h = new Harness(engine);
  let server: NattevaktServer;
  let url: string;
  let clock: ManualClock;
  let nurse: string;

  const get = async (path: string, cookie = nurse) => server.app.inject({ method: 'GET', url: path, headers: { cookie } });
  const post = (path: string, cookie: string, payload?: object) =>
    server.app.inject({ method: 'POST', url: path, headers: { ...CSRF, cookie }, ...(payload ? { payload } : {}) });

  beforeEach(async () => {
    clock = new ManualClock();
    ({ server, url } = await h.server({ clock }));
    await server.sites.save({ ...site, site: { ...site.site, id: 'other', name: 'Annen' } });
    // Received a minute apart: a1 (high, door), a2 (medium, out of bed), a3 (technical), and b1 at the other site.
    await server.alarms.raise(decision('a1'), 'demo');
    clock.advance(60_000);
    await server.alarms.raise(decision('a2', { rule: 'out-of-bed-too-long', priority: 'medium', sensorId: 'bed-1' }), 'demo');
    clock.advance(60_000);
    await server.alarms.raise(decision('a3', { rule: 'sensor-offline', priority: 'technical', sensorId: 'bed-1' }), 'demo');
    clock.advance(60_000);
    await server.alarms.raise(decision('b1', { siteId: 'other' }), 'other');
    clock.advance(60_000);
    nurse = await loginAs(server, { username: 'kari', displayName: 'Kari', role: 'nurse', sites: ['demo'] });
  });
  afterEach(() => h.close());

  it('filters by status, priority, rule, resident, site and received time, newest first, within the nurse’s sites', async () => {
    expect((await post('/api/alarms/a1/acknowledge', nurse)).statusCode).toBe(200);
    expect((await post('/api/alarms/a2/resolve', nurse, { outcome: 'false-alarm' })).statusCode).toBe(200);

    expect(ids((await get('/api/alarms')).json())).toEqual(['a3', 'a2', 'a1']);
    expect(ids((await get('/api/alarms?status=active')).json())).toEqual(['a3']);
    expect(ids((await get('/api/alarms?status=acknowledged&status=resolved')).json())).toEqual(['a2', 'a1']);
    expect(ids((await get('/api/alarms?priority=high&priority=technical')).json())).toEqual(['a3', 'a1']);
    expect(ids((await get('/api/alarms?rule=out-of-bed-too-long')).json())).toEqual(['a2']);
    expect(ids((await get('/api/alarms?residentId=res-1&site=demo')).json())).toEqual(['a3', 'a2', 'a1']);
    expect(ids((await get('/api/alarms?residentId=res-9')).json())).toEqual([]);
    // `from` inclusive, `to` exclusive, any offset: 03:01+01:00 is 02:01Z, when a2 was received.
    expect(ids((await get('/api/alarms?from=2026-11-25T03:01:00%2B01:00&to=2026-11-25T02:02:00Z')).json())).toEqual(['a2']);

    // Another site's alarms: never by default, 403 when asked for.
    const refused = await get('/api/alarms?site=other');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('you do not have access to site "other"');
    const both = await loginAs(server, { username: 'leder', role: 'nurse_in_charge', sites: ['demo', 'other'] });
    expect(ids((await get('/api/alarms?site=other', both)).json())).toEqual(['b1']);
    expect(ids((await get('/api/alarms', both)).json())).toEqual(['b1', 'a3', 'a2', 'a1']);

    // Bad input names the field.
    for (const [query, field] of [
      ['status=open', 'status'],
      ['priority=urgent', 'priority'],
      ['rule=fire', 'rule'],
      ['from=yesterday', 'from'],
      ['limit=0', 'limit'],
      ['colour=red', 'additional'],
      ['from=2026-11-25T03:00:00Z&to=2026-11-25T02:00:00Z', 'from'],
    ] as const) {
      const answer = await get(`/api/alarms?${query}`);
      expect(answer.statusCode, query).toBe(400);
      expect(answer.json().error, query).toContain(field);
    }
    const technician = await loginAs(server, { username: 'siv', role: 'technician', sites: ['demo'] });
    expect((await get('/api/alarms', technician)).statusCode).toBe(403);
  });

  it('pages with a cursor: every alarm once, in order, also when alarms share a received time', async () => {
    // Two more received at the very same instant as each other.
    await server.alarms.raise(decision('a5'), 'demo');
    await server.alarms.raise(decision('a4'), 'demo');
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = (await get(`/api/alarms?limit=1${cursor ? `&cursor=${cursor}` : ''}`)).json() as {
        alarms: Alarm[];
        next: string | null;
      };
      seen.push(...ids(page));
      cursor = page.next;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(seen).toEqual(['a5', 'a4', 'a3', 'a2', 'a1']);
    expect(pages).toBe(5);
    const bad = await get('/api/alarms?cursor=not-a-cursor');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/^querystring\/cursor/);
  });

  it('acknowledges and resolves over REST as the logged-in nurse: broadcast to the board, audited, refused when taken', async () => {
    const board = await h.staff(url, 'Ola');
    const acked = await post('/api/alarms/a1/acknowledge', nurse);
    expect(acked.statusCode).toBe(200);
    expect(acked.json().alarm).toMatchObject({
      status: 'acknowledged',
      acknowledgedBy: 'Kari',
      acknowledgedAt: '2026-11-25T02:04:00.000Z',
    });
    await eventually('the board hears Kari is going', () => board.alarms.find((a) => a.id === 'a1' && a.acknowledgedBy === 'Kari'));

    const ola = await loginAs(server, { username: 'ola', displayName: 'Ola', sites: ['demo'] });
    const taken = await post('/api/alarms/a1/acknowledge', ola);
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error).toBe('Kari is already going to this alarm');
    expect((await post('/api/alarms/a1/acknowledge', nurse)).statusCode).toBe(200);

    const noNote = await post('/api/alarms/a1/resolve', nurse, { outcome: 'other' });
    expect(noNote.statusCode).toBe(400);
    expect(noNote.json().error).toBe('body/note: a note is required when the outcome is "other"');
    expect((await post('/api/alarms/a1/resolve', nurse, { outcome: 'assisted', by: 'Someone else' })).statusCode).toBe(400);
    const resolved = await post('/api/alarms/a1/resolve', nurse, { outcome: 'other', note: 'Hjalp henne på toalettet' });
    expect(resolved.json().alarm).toMatchObject({ status: 'resolved', outcome: 'other', resolvedBy: 'Kari' });
    expect((await post('/api/alarms/a1/resolve', ola, { outcome: 'assisted' })).statusCode).toBe(409);
    expect((await post('/api/alarms/nope/acknowledge', nurse)).statusCode).toBe(404);
    expect((await post('/api/alarms/b1/acknowledge', nurse)).statusCode).toBe(403);

    const history = (await get('/api/alarms/a1')).json();
    expect(history.audit.map((a: { action: string; actor: string }) => `${a.action}:${a.actor}`)).toEqual([
      'raised:gateway:demo',
      'acknowledged:Kari',
      'resolved:Kari',
    ]);
  });
});
