import { type SensorEvent, sensorEvent } from '@nattevakt/protocol/sensor-event';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type NattevaktServer } from '../src/app.js';
import { engines } from './support/databases.js';
import { loginAs } from './support/login.js';

const site = (id: string): SiteConfig => ({
  version: 1,
  site: { id, name: `Site ${id}`, timezone: 'Europe/Oslo' },
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
  sensors: [
    { id: 'bed-1', kind: 'bed', roomId: 'room-1', residentId: 'res-1' },
    { id: 'door-1', kind: 'door', roomId: 'room-1' },
  ],
});

const bed = (id: string, time: string, occupied: boolean, siteId = 'demo'): SensorEvent => ({
  id,
  siteId,
  sensorId: 'bed-1',
  sensorKind: 'bed',
  roomId: 'room-1',
  residentId: 'res-1',
  time,
  sensorTime: time,
  occupied,
  online: true,
  battery: 87,
  linkquality: 200,
  format: 'native',
  raw: JSON.stringify({ kind: 'bed', occupied, time }),
});

const door = (id: string, time: string, open: boolean): SensorEvent => ({
  id,
  siteId: 'demo',
  sensorId: 'door-1',
  sensorKind: 'door',
  roomId: 'room-1',
  time,
  open,
  tamper: false,
  format: 'native',
  raw: JSON.stringify({ kind: 'door', open }),
});

describe.each(engines)('GET /api/sites/:siteId/events ($name)', (engine) => {
  let server: NattevaktServer;
  let cookie: string;

  beforeEach(async () => {
    server = await buildApp(await engine.store());
    await server.sites.save(site('demo'));
    await server.sites.save(site('other'));
    // A technician may read sensor events, of the sites they belong to ('nowhere' is not configured).
    cookie = await loginAs(server, { username: 'tekniker', role: 'technician', sites: ['demo', 'other', 'nowhere'] });
  });
  afterEach(async () => {
    await server.app.close();
    await engine.reset();
  });

  const get = async (url: string) => {
    const response = await server.app.inject({ method: 'GET', url, headers: { cookie } });
    return { status: response.statusCode, body: response.json() as { events: SensorEvent[]; error?: string } };
  };

  it('returns the events of the site in [from, to), oldest first, exactly as stored', async () => {
    const events = [
      bed('e1', '2026-11-25T02:00:00.000Z', false),
      door('e2', '2026-11-25T02:00:30.000Z', true),
      bed('e3', '2026-11-25T02:01:00.000Z', true),
      door('e4', '2026-11-25T02:02:00.000Z', false),
    ];
    // Written out of order, and with another site's event at the same time.
    await server.timeSeries.write([events[2], events[0], events[3], events[1]].filter((e) => e !== undefined));
    await server.timeSeries.write([bed('x1', '2026-11-25T02:00:00.000Z', false, 'other')]);

    const all = await get('/api/sites/demo/events?from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z');
    expect(all.status).toBe(200);
    expect(all.body.events).toEqual(events);
    for (const event of all.body.events) expect(sensorEvent.check(event).ok).toBe(true);

    // `from` is inclusive, `to` exclusive; an offset other than Z means the same instant.
    const window = await get(`/api/sites/demo/events?from=${encodeURIComponent('2026-11-25T03:00:30+01:00')}&to=2026-11-25T02:02:00.000Z`);
    expect(window.body.events.map((e) => e.id)).toEqual(['e2', 'e3']);
    const other = await get('/api/sites/other/events?from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z');
    expect(other.body.events.map((e) => e.id)).toEqual(['x1']);
  });

  it('returns at most `limit` events, 1000 when not given', async () => {
    const start = Date.parse('2026-11-25T02:00:00.000Z');
    await server.timeSeries.write(
      Array.from({ length: 1001 }, (_, i) => bed(`e${i}`, new Date(start + i * 1000).toISOString(), i % 2 === 0)),
    );
    const byDefault = await get('/api/sites/demo/events?from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z');
    expect(byDefault.body.events).toHaveLength(1000);
    expect(byDefault.body.events[0]?.id).toBe('e0');
    const three = await get('/api/sites/demo/events?from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z&limit=3');
    expect(three.body.events.map((e) => e.id)).toEqual(['e0', 'e1', 'e2']);
    const most = await get('/api/sites/demo/events?from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z&limit=10000');
    expect(most.body.events).toHaveLength(1001);
  });

  it('answers 200 with no events for an empty range', async () => {
    expect(await get('/api/sites/demo/events?from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z')).toEqual({
      status: 200,
      body: { events: [] },
    });
  });

  it('answers 404 for a site it does not know', async () => {
    expect(await get('/api/sites/nowhere/events?from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z')).toEqual({
      status: 404,
      body: { error: 'no site "nowhere"' },
    });
  });

  it.each([
    ['from equal to to', 'from=2026-11-25T02:00:00Z&to=2026-11-25T02:00:00Z', 'before'],
    ['from after to', 'from=2026-11-25T03:00:00Z&to=2026-11-25T02:00:00Z', 'before'],
    ['the same instant written two ways', `from=${encodeURIComponent('2026-11-25T03:00:00+01:00')}&to=2026-11-25T02:00:00Z`, 'before'],
    ['from missing', 'to=2026-11-25T02:00:00Z', 'from'],
    ['to missing', 'from=2026-11-25T02:00:00Z', 'to'],
    ['from not an instant', 'from=yesterday&to=2026-11-25T02:00:00Z', 'from'],
    ['a date without a time', 'from=2026-11-25&to=2026-11-26T02:00:00Z', 'from'],
    ['limit above 10000', 'from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z&limit=10001', 'limit'],
    ['limit 0', 'from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z&limit=0', 'limit'],
    ['limit not a number', 'from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z&limit=all', 'limit'],
  ])('answers 400 for %s', async (_what, query, mentions) => {
    const response = await get(`/api/sites/demo/events?${query}`);
    expect(response.status).toBe(400);
    expect(response.body.error).toContain(mentions);
  });

  it('answers 400 for a site id that cannot be one', async () => {
    const response = await get('/api/sites/NOT_AN_ID/events?from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z');
    expect(response.status).toBe(400);
  });
});
