import type { SiteConfig } from '@nattevakt/protocol/site-config';
import { afterEach, describe, expect, it } from 'vitest';
import type { Role } from '../src/auth/auth-service.js';
import { eventually, Harness, ManualClock, site } from './alarm-harness.js';
import { engines } from './support/databases.js';
import { loginAs } from './support/login.js';

const CSRF = { 'x-nattevakt': '1' };
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

describe.each(engines)('rooms, residents, sensors and plans over REST ($name)', (engine) => {
  const h = new Harness(engine);
  afterEach(() => h.close());

  async function start() {
    const { server, url } = await h.server({ clock: new ManualClock() });
    await server.sites.save({ ...site, site: { ...site.site, id: 'other', name: 'Annen' } });
    const cookies = new Map<string, string>();
    const as = async (role: Role, sites = ['demo']) => {
      const key = `${role}:${sites.join(',')}`;
      let cookie = cookies.get(key);
      if (cookie === undefined) {
        cookie = await loginAs(server, { username: key.replace(/[^a-z]/g, ''), displayName: `${role} person`, role, sites });
        cookies.set(key, cookie);
      }
      const c = cookie;
      return (method: Method, path: string, payload?: object) =>
        server.app.inject({ method, url: path, headers: { cookie: c, ...CSRF }, ...(payload ? { payload } : {}) });
    };
    const gateway = await h.gateway(url);
    const configs: SiteConfig[] = [];
    gateway.socket.on('config', (config) => configs.push(config));
    return { server, as, configs };
  }

  it('lets the admin build a room with a sensor and the nurse in charge add a resident and a plan; each change is pushed and audited', async () => {
    const { server, as, configs } = await start();
    const admin = await as('admin');
    const leder = await as('nurse_in_charge');
    const r0 = server.sites.get('demo')?.revision ?? 0;

    const room = await admin('POST', '/api/sites/demo/rooms', { id: 'room-2', name: 'Rom 2' });
    expect(room.statusCode).toBe(201);
    expect(room.json()).toEqual({ room: { id: 'room-2', name: 'Rom 2' }, revision: r0 + 1 });
    await eventually('room pushed', () => configs.find((c) => c.revision === r0 + 1 && c.rooms.some((r) => r.id === 'room-2')));

    const resident = await leder('POST', '/api/sites/demo/residents', { id: 'res-2', name: 'Bjørn K.', roomId: 'room-2' });
    expect(resident.statusCode).toBe(201);
    expect(resident.json()).toMatchObject({
      revision: r0 + 2,
      resident: { id: 'res-2', roomId: 'room-2', plan: { armed: false }, status: { state: 'active' }, legalBasis: null },
    });
    const sensor = await admin('POST', '/api/sites/demo/sensors', { id: 'bed-2', kind: 'bed', roomId: 'room-2', residentId: 'res-2' });
    expect(sensor.json()).toEqual({ sensor: { id: 'bed-2', kind: 'bed', roomId: 'room-2', residentId: 'res-2' }, revision: r0 + 3 });

    const plan = {
      nightWindow: { start: '21:30', end: '07:00' },
      rules: {
        doorOpenAtNight: { enabled: false, priority: 'high' },
        outOfBedTooLong: { enabled: true, minutes: 15, priority: 'medium' },
        bedExit: { enabled: true, priority: 'high' },
      },
    };
    const planned = await leder('PUT', '/api/sites/demo/residents/res-2/plan', plan);
    expect(planned.statusCode).toBe(200);
    expect(planned.json()).toMatchObject({ residentId: 'res-2', revision: r0 + 4, plan: { ...plan, armed: false } });
    const pushed = await eventually('plan pushed', () => configs.find((c) => c.revision === r0 + 4));
    expect(pushed.residents.find((r) => r.id === 'res-2')?.plan).toEqual({ ...plan, armed: false });

    // The same plan again changes nothing: no new revision, nothing pushed.
    expect((await leder('PUT', '/api/sites/demo/residents/res-2/plan', plan)).json()).toMatchObject({ revision: null });

    // A legal basis arms the plan.
    await leder('POST', '/api/sites/demo/residents/res-2/legal-basis', { kind: 'consent', givenBy: 'resident', consentedOn: '2026-11-24' });
    expect((await leder('GET', '/api/sites/demo/residents/res-2')).json().resident).toMatchObject({
      plan: { armed: true },
      legalBasis: { kind: 'consent', evaluation: 'not-applicable', nextEvaluationOn: null },
    });

    // Rename and move; then tear down in the order the references allow.
    expect((await admin('PUT', '/api/sites/demo/rooms/room-2', { name: 'Rom 2B' })).json()).toMatchObject({ room: { name: 'Rom 2B' } });
    expect((await admin('DELETE', '/api/sites/demo/rooms/room-2')).statusCode).toBe(409);
    expect((await leder('DELETE', '/api/sites/demo/residents/res-2')).json()).toEqual({
      error: 'sensors bed-2 are linked to resident "res-2": unlink or delete them first',
    });
    expect((await admin('PUT', '/api/sites/demo/sensors/bed-2', { kind: 'bed', roomId: 'room-2' })).statusCode).toBe(200);
    expect((await leder('DELETE', '/api/sites/demo/residents/res-2')).statusCode).toBe(200);
    expect((await admin('DELETE', '/api/sites/demo/sensors/bed-2')).statusCode).toBe(200);
    expect((await admin('DELETE', '/api/sites/demo/rooms/room-2')).statusCode).toBe(200);
    expect(server.sites.get('demo')?.rooms.map((r) => r.id)).toEqual(['room-1']);

    const audit = (await leder('GET', '/api/sites/demo/audit')).json().entries as {
      entity: string;
      action: string;
      actor: string;
      revision: number | null;
    }[];
    expect(audit.slice(0, 10).map((e) => `${e.entity}:${e.action}:${e.actor}`)).toEqual([
      'room:deleted:admin person',
      'sensor:deleted:admin person',
      'resident:deleted:nurse_in_charge person',
      'sensor:updated:admin person',
      'room:updated:admin person',
      'legal-basis:recorded:nurse_in_charge person',
      'plan:updated:nurse_in_charge person',
      'plan:updated:nurse_in_charge person',
      'sensor:created:admin person',
      'resident:created:nurse_in_charge person',
    ]);
    expect(audit[6]?.revision).toBeNull(); // the plan saved unchanged: recorded, no new revision
    // A removed resident's legal basis is ended, not deleted.
    const history = (await leder('GET', '/api/sites/demo/residents/res-2/legal-basis')).json();
    expect(history).toMatchObject({ current: null, history: [{ endReason: 'resident removed' }] });
  });

  it('refuses bad input with a 4xx naming the field, and changes nothing', async () => {
    const { server, as } = await start();
    const admin = await as('admin');
    const before = server.sites.get('demo');
    const refusals: [Method, string, object | undefined, number, RegExp][] = [
      ['POST', '/api/sites/demo/rooms', { id: 'Room 3', name: 'x' }, 400, /^body\/id must match pattern/],
      ['POST', '/api/sites/demo/rooms', { name: '' }, 400, /^body\/name must NOT have fewer than 1 characters/],
      ['POST', '/api/sites/demo/rooms', { name: 'x', floor: 2 }, 400, /must NOT have additional properties/],
      ['POST', '/api/sites/demo/rooms', { id: 'room-1', name: 'x' }, 409, /^body\/id: room "room-1" already exists/],
      ['POST', '/api/sites/demo/sensors', { id: 's-9', kind: 'bed', roomId: 'nowhere' }, 400, /^body\/roomId: no room "nowhere"/],
      ['POST', '/api/sites/demo/sensors', { id: 's-9', kind: 'smoke', roomId: 'room-1' }, 400, /^body\/kind/],
      ['POST', '/api/sites/demo/sensors', { id: 'bed-1', kind: 'bed', roomId: 'room-1' }, 409, /sensor "bed-1" already exists/],
      ['POST', '/api/sites/demo/residents', { name: 'X', roomId: 'nowhere' }, 400, /^body\/roomId: no room "nowhere"/],
      ['PUT', '/api/sites/demo/residents/res-1/plan', { ...site.residents[0]?.plan }, 400, /must NOT have additional properties/],
      [
        'PUT',
        '/api/sites/demo/residents/res-1/plan',
        { nightWindow: { start: '25:00', end: '07:00' }, rules: site.residents[0]?.plan.rules },
        400,
        /^body\/nightWindow\/start must match pattern/,
      ],
      ['PUT', '/api/sites/demo/rooms/nowhere', { name: 'x' }, 404, /^no room "nowhere"/],
      ['DELETE', '/api/sites/demo/sensors/nowhere', undefined, 404, /^no sensor "nowhere"/],
      ['GET', '/api/sites/nowhere/rooms', undefined, 403, /site "nowhere"/],
    ];
    for (const [method, path, payload, status, message] of refusals) {
      const answer = await admin(method, path, payload);
      expect(answer.statusCode, `${method} ${path} ${JSON.stringify(payload)}`).toBe(status);
      expect(answer.json().error).toMatch(message);
    }
    expect(server.sites.get('demo')).toEqual(before);
  });

  it('authorizes every route by role and site', async () => {
    const { server, as } = await start();
    const routes: { method: Method; path: string; body?: object; read: Role[]; write?: Role[] }[] = [
      { method: 'GET', path: '/api/sites/SITE/rooms', read: ['nurse', 'nurse_in_charge', 'admin', 'technician'] },
      { method: 'POST', path: '/api/sites/SITE/rooms', body: { name: 'Nytt rom' }, read: ['admin'] },
      { method: 'GET', path: '/api/sites/SITE/sensors', read: ['nurse', 'nurse_in_charge', 'admin', 'technician'] },
      { method: 'PUT', path: '/api/sites/SITE/sensors/door-1', body: { kind: 'door', roomId: 'room-1' }, read: ['admin'] },
      { method: 'GET', path: '/api/sites/SITE/residents', read: ['nurse', 'nurse_in_charge', 'admin', 'technician'] },
      {
        method: 'PUT',
        path: '/api/sites/SITE/residents/res-1',
        body: { name: 'Astrid H.', roomId: 'room-1' },
        read: ['admin', 'nurse_in_charge'],
      },
      { method: 'GET', path: '/api/sites/SITE/residents/res-1/plan', read: ['nurse', 'nurse_in_charge', 'admin', 'technician'] },
      {
        method: 'PUT',
        path: '/api/sites/SITE/residents/res-1/plan',
        body: noArmed(site.residents[0]?.plan),
        read: ['admin', 'nurse_in_charge'],
      },
      { method: 'GET', path: '/api/sites/SITE/residents/res-1/legal-basis', read: ['admin', 'nurse_in_charge'] },
      { method: 'GET', path: '/api/sites/SITE/evaluation-reminders', read: ['admin', 'nurse_in_charge'] },
      { method: 'GET', path: '/api/sites/SITE/unprotected', read: ['nurse', 'nurse_in_charge', 'admin', 'technician'] },
      { method: 'GET', path: '/api/sites/SITE/audit', read: ['admin', 'nurse_in_charge'] },
    ];
    const roles: Role[] = ['nurse', 'nurse_in_charge', 'admin', 'technician', 'relative'];
    for (const route of routes) {
      for (const role of roles) {
        const call = await as(role);
        const own = await call(route.method, route.path.replace('SITE', 'demo'), route.body);
        const allowed = route.read.includes(role);
        expect(own.statusCode, `${role} ${route.method} ${route.path} on its own site`).toBe(
          allowed ? (route.method === 'POST' ? 201 : 200) : 403,
        );
        // A member of site demo asking for site "other": refused whatever the role.
        const foreign = await call(route.method, route.path.replace('SITE', 'other'), route.body);
        expect(foreign.statusCode, `${role} ${route.method} ${route.path} on another site`).toBe(403);
      }
      const anonymous = await server.app.inject({
        method: route.method,
        url: route.path.replace('SITE', 'demo'),
        headers: CSRF,
        ...(route.body ? { payload: route.body } : {}),
      });
      expect(anonymous.statusCode).toBe(401);
    }
    // A state change without the CSRF header or a same-site Origin is refused before anything else.
    const crossSite = await server.app.inject({
      method: 'POST',
      url: '/api/sites/demo/rooms',
      headers: { cookie: await loginAs(server, { username: 'admin2', role: 'admin' }), origin: 'https://evil.example' },
      payload: { name: 'x' },
    });
    expect(crossSite.statusCode).toBe(403);
  });
});

function noArmed(plan: SiteConfig['residents'][number]['plan'] | undefined) {
  if (plan === undefined) throw new Error('fixture has no plan');
  const { armed: _armed, ...rest } = plan;
  return rest;
}
