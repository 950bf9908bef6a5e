/**
 * Who may use which route: every HTTP route Fastify serves (read from its route tree, so a new
 * route without a rule here fails), for every role and for no session, at the user's own site and
 * at another one, and for a relative at their own resident and at another; then the gateway
 * namespace with a wrong token, and the login rate limit. The table is the policy: a change to a
 * route's authorization that does not change the table fails this suite.
 */
import type { AddressInfo } from 'node:net';
import type { SiteConfig, SupervisionPlan } from '@nattevakt/protocol/site-config';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type NattevaktServer } from '../src/app.js';
import type { Role } from '../src/auth/auth-service.js';
import { decision, site as harnessSite, ManualClock, TOKEN } from './alarm-harness.js';
import { engines } from './support/databases.js';
import { loginAs, PASSWORD } from './support/login.js';
import { routedOperations } from './support/routes.js';

type Principal = Role | 'anonymous';
const ROLES: Role[] = ['nurse', 'nurse_in_charge', 'relative', 'technician', 'admin'];
const STAFF: Role[] = ['nurse', 'nurse_in_charge', 'admin'];
const WARD_READ: Role[] = [...STAFF, 'technician'];
const CARE_ADMIN: Role[] = ['nurse_in_charge', 'admin'];
const ADMIN: Role[] = ['admin'];
const RELATIVE: Role[] = ['relative'];

/** Where a request points: the user's own site and resident, or another's. */
interface Target {
  site: 'demo' | 'other';
  resident: string;
  alarm: string;
  userId: string;
}

interface Rule {
  /** Who gets past authorization; `public`: also without a session; `session`: every logged-in role. */
  allow: readonly Role[] | 'public' | 'session';
  /**
   * What else to ask, expecting a refusal. `site` (the default for paths and queries that name a
   * site): each allowed role at the other site gets 403. `resident`: the relative asks for a resident
   * not linked to them (same site) and for one at another site, 403. An object: only these roles,
   * with this status (a user of another site is "not found" to a nurse in charge). `none`: global.
   */
  cross?: 'site' | 'resident' | 'none' | { roles: readonly Role[]; status: number };
  query?: (t: Target) => string;
  body?: (t: Target) => object;
  params?: Record<string, (t: Target) => string>;
  /** Each call in a fresh session of its own (logout ends the session it is sent with). */
  fresh?: boolean;
  /** Statuses that count as "worked" besides 2xx, with the reason the fixture gives no 2xx. */
  worked?: number[];
}

const plan = (): Omit<SupervisionPlan, 'armed'> => {
  const resident = harnessSite.residents[0];
  if (resident === undefined) throw new Error('the harness site has no resident');
  const { armed: _armed, ...rest } = resident.plan;
  return rest;
};
const siteParam = (t: Target) => `site=${t.site}`;

/** The policy, one rule per route. */
const RULES: Record<string, Rule> = {
  // Public
  'post /api/auth/login': { allow: 'public', body: () => ({ username: 'target-demo', password: PASSWORD }) },
  'get /api/health': { allow: 'public' },
  'get /api/health/live': { allow: 'public' },
  'get /metrics': { allow: 'public' },
  'get /api/openapi.json': { allow: 'public' },
  // Any session
  'post /api/auth/logout': { allow: 'session', fresh: true },
  'get /api/auth/me': { allow: 'session' },
  // The ward and alarms
  'get /api/ward': { allow: WARD_READ, query: siteParam },
  'get /api/alarms/open': { allow: STAFF, query: siteParam },
  'get /api/alarms/changes': { allow: STAFF, query: (t) => `since=0&site=${t.site}` },
  'get /api/alarms': { allow: STAFF, query: siteParam },
  'get /api/alarms/{id}': { allow: STAFF },
  'get /api/alarms/{id}/delivery': { allow: STAFF },
  'post /api/alarms/{id}/acknowledge': { allow: STAFF },
  'post /api/alarms/{id}/resolve': { allow: STAFF, body: () => ({ outcome: 'assisted' }), worked: [409] },
  'get /api/reports/alarm-latency': { allow: STAFF, query: siteParam },
  'get /api/sites/{siteId}/events': { allow: WARD_READ, query: () => 'from=2026-11-24T00:00:00Z&to=2026-11-25T00:00:00Z' },
  // Sites and their configuration
  'get /api/sites': { allow: WARD_READ, cross: 'none' },
  'post /api/sites': { allow: ADMIN, cross: 'none', body: () => ({ id: 'site-new', name: 'Ny' }) },
  'post /api/sites/{siteId}/gateway-token': { allow: ADMIN },
  'get /api/sites/{siteId}/rooms': { allow: WARD_READ },
  'post /api/sites/{siteId}/rooms': { allow: ADMIN, body: () => ({ id: 'room-new', name: 'Nytt rom' }) },
  'put /api/sites/{siteId}/rooms/{roomId}': { allow: ADMIN, body: () => ({ name: 'Rom 1' }) },
  'delete /api/sites/{siteId}/rooms/{roomId}': { allow: ADMIN, params: { roomId: () => 'room-spare' } },
  'get /api/sites/{siteId}/sensors': { allow: WARD_READ },
  'post /api/sites/{siteId}/sensors': { allow: ADMIN, body: () => ({ id: 'sensor-new', kind: 'door', roomId: 'room-2' }) },
  'put /api/sites/{siteId}/sensors/{sensorId}': { allow: ADMIN, body: () => ({ kind: 'door', roomId: 'room-1' }) },
  'delete /api/sites/{siteId}/sensors/{sensorId}': { allow: ADMIN, params: { sensorId: () => 'spare-sensor' } },
  'get /api/sites/{siteId}/residents': { allow: WARD_READ },
  'post /api/sites/{siteId}/residents': { allow: CARE_ADMIN, body: () => ({ id: 'res-new', name: 'Ny beboer', roomId: 'room-2' }) },
  'get /api/sites/{siteId}/residents/{residentId}': { allow: WARD_READ },
  'put /api/sites/{siteId}/residents/{residentId}': { allow: CARE_ADMIN, body: () => ({ name: 'Astrid H.', roomId: 'room-1' }) },
  'delete /api/sites/{siteId}/residents/{residentId}': { allow: CARE_ADMIN, params: { residentId: () => 'res-3' } },
  'get /api/sites/{siteId}/residents/{residentId}/plan': { allow: WARD_READ },
  'put /api/sites/{siteId}/residents/{residentId}/plan': { allow: CARE_ADMIN, body: plan },
  // Supervision: legal basis, plan status, reminders, the unprotected list, the audit trail
  'get /api/sites/{siteId}/residents/{residentId}/legal-basis': { allow: CARE_ADMIN },
  'post /api/sites/{siteId}/residents/{residentId}/legal-basis': {
    allow: CARE_ADMIN,
    body: () => ({ kind: 'consent', givenBy: 'resident', consentedOn: '2026-11-01' }),
  },
  'post /api/sites/{siteId}/residents/{residentId}/legal-basis/end': {
    allow: CARE_ADMIN,
    body: () => ({ reason: 'samtykket trukket' }),
    worked: [409],
  },
  'post /api/sites/{siteId}/residents/{residentId}/legal-basis/evaluation': {
    allow: CARE_ADMIN,
    body: () => ({ evaluatedOn: '2026-11-20', nextEvaluationOn: '2027-05-20' }),
    // The fixture's legal basis is a consent, which has no evaluation.
    worked: [409],
  },
  'post /api/sites/{siteId}/residents/{residentId}/plan/pause': {
    allow: CARE_ADMIN,
    body: () => ({ reason: 'på sykehus' }),
    worked: [409],
  },
  'post /api/sites/{siteId}/residents/{residentId}/plan/resume': { allow: CARE_ADMIN, body: () => ({}), worked: [409] },
  'post /api/sites/{siteId}/residents/{residentId}/plan/end': { allow: CARE_ADMIN, body: () => ({ reason: 'flyttet' }), worked: [409] },
  'get /api/sites/{siteId}/evaluation-reminders': { allow: CARE_ADMIN },
  'get /api/sites/{siteId}/unprotected': { allow: WARD_READ },
  'get /api/sites/{siteId}/audit': { allow: CARE_ADMIN },
  // Nights and reports
  'get /api/sites/{siteId}/residents/{residentId}/nights': { allow: STAFF },
  // No events are recorded in this fixture, so the night is "not found" after authorization.
  'get /api/sites/{siteId}/residents/{residentId}/nights/{night}': { allow: STAFF, worked: [404] },
  'get /api/sites/{siteId}/reports/alarms': { allow: CARE_ADMIN },
  'post /api/sites/{siteId}/residents/{residentId}/what-if': {
    allow: CARE_ADMIN,
    body: () => ({ plan: { ...plan(), armed: true }, nights: 1 }),
  },
  'get /api/sites/{siteId}/residents/{residentId}/fhir/alarms': { allow: CARE_ADMIN },
  // Relatives: links, consent to share, access log (staff side)
  'get /api/sites/{siteId}/residents/{residentId}/relatives': { allow: CARE_ADMIN },
  'put /api/sites/{siteId}/residents/{residentId}/relatives/{username}': { allow: CARE_ADMIN },
  'delete /api/sites/{siteId}/residents/{residentId}/relatives/{username}': { allow: CARE_ADMIN, worked: [404] },
  'post /api/sites/{siteId}/residents/{residentId}/sharing-consent': {
    allow: CARE_ADMIN,
    params: { residentId: () => 'res-2' },
    body: () => ({ givenBy: 'resident', givenOn: '2026-11-01' }),
    worked: [409],
  },
  'delete /api/sites/{siteId}/residents/{residentId}/sharing-consent': {
    allow: CARE_ADMIN,
    params: { residentId: () => 'res-2' },
    worked: [409],
  },
  'get /api/sites/{siteId}/relative-access-log': { allow: CARE_ADMIN },
  // The relative's own view
  'get /api/relative/residents': { allow: RELATIVE, cross: 'none' },
  'get /api/relative/residents/{siteId}/{residentId}/last-night': { allow: RELATIVE, cross: 'resident' },
  'get /api/relative/residents/{siteId}/{residentId}/trend': { allow: RELATIVE, cross: 'resident' },
  // People
  'get /api/users': { allow: CARE_ADMIN, query: siteParam, cross: { roles: ['nurse_in_charge'], status: 403 } },
  'get /api/users/{userId}': { allow: CARE_ADMIN, cross: { roles: ['nurse_in_charge'], status: 404 } },
  'post /api/users': {
    allow: ADMIN,
    cross: 'none',
    body: () => ({ username: 'new-user', displayName: 'Ny', role: 'nurse', sites: ['demo'], password: PASSWORD }),
  },
  'patch /api/users/{userId}': { allow: ADMIN, cross: 'none', body: () => ({ displayName: 'Target' }) },
  'post /api/users/{userId}/disable': { allow: ADMIN, cross: 'none' },
  'post /api/users/{userId}/enable': { allow: ADMIN, cross: 'none' },
  'post /api/users/{userId}/password': { allow: ADMIN, cross: 'none', body: () => ({ password: PASSWORD }) },
  'get /api/users/{userId}/audit': { allow: ADMIN, cross: 'none' },
  // Commissioning and maintenance: test settings, scenario runs, the self-test log
  'get /api/sites/{siteId}/test-settings': { allow: ['technician', 'nurse_in_charge', 'admin'] },
  'put /api/sites/{siteId}/test-settings/simulator': {
    allow: ADMIN,
    body: () => ({ url: 'mqtt://127.0.0.1:1884', username: 'simulator', password: 'simulator password' }),
  },
  'delete /api/sites/{siteId}/test-settings/simulator': { allow: ADMIN },
  'put /api/sites/{siteId}/test-settings/self-test': {
    allow: CARE_ADMIN,
    body: () => ({ at: '10:00', graceMinutes: 15, sensorId: 'door-1' }),
  },
  'delete /api/sites/{siteId}/test-settings/self-test': { allow: CARE_ADMIN },
  'get /api/scenarios': { allow: ['technician', 'admin'], cross: 'none' },
  // The fixture has no simulator connection and is no scenario's ward: refused with 409 after authorization.
  'post /api/sites/{siteId}/scenario-runs': { allow: ['technician', 'admin'], body: () => ({ scenario: 'bed-exit' }), worked: [409] },
  'get /api/sites/{siteId}/scenario-runs': { allow: ['technician', 'admin'] },
  'get /api/sites/{siteId}/scenario-runs/{runId}': {
    allow: ['technician', 'admin'],
    params: { runId: () => '00000000-0000-4000-8000-000000000000' },
    worked: [404],
  },
  'post /api/sites/{siteId}/self-tests': { allow: WARD_READ, body: () => ({ ok: true, at: '2026-11-25T09:00:00.000Z', resolved: true }) },
  'get /api/sites/{siteId}/self-tests': { allow: ['technician', 'nurse_in_charge', 'admin'] },
};

/** A site with two more residents (one to delete), an empty room and a spare sensor. */
function fixture(id: 'demo' | 'other'): SiteConfig {
  const resident = harnessSite.residents[0];
  if (resident === undefined) throw new Error('the harness site has no resident');
  return {
    version: 1,
    site: { id, name: id === 'demo' ? 'Demo' : 'Annen', timezone: 'Europe/Oslo' },
    rooms: [
      { id: 'room-1', name: 'Rom 1' },
      { id: 'room-2', name: 'Rom 2' },
      { id: 'room-spare', name: 'Ledig rom' },
    ],
    residents: [
      resident,
      { ...resident, id: 'res-2', name: 'Bjørn K.', roomId: 'room-2' },
      { ...resident, id: 'res-3', name: 'Cato L.', roomId: 'room-2' },
    ],
    sensors: [
      { id: 'bed-1', kind: 'bed', roomId: 'room-1', residentId: 'res-1' },
      { id: 'door-1', kind: 'door', roomId: 'room-1' },
      { id: 'bed-2', kind: 'bed', roomId: 'room-2', residentId: 'res-2' },
      { id: 'spare-sensor', kind: 'door', roomId: 'room-2' },
    ],
  };
}

describe.each(engines)('access to every route by role, site and resident ($name)', (engine) => {
  let server: NattevaktServer;
  const cookies = new Map<Role, string>();
  const users = { demo: '', other: '' };
  const CSRF = { 'x-nattevakt': '1' };

  beforeAll(async () => {
    server = await buildApp({
      ...(await engine.store()),
      clock: new ManualClock(),
      auth: { secureCookies: false, loginRateLimit: { max: 10_000, timeWindowMs: 60_000 } },
    });
    for (const id of ['demo', 'other'] as const) {
      await server.sites.save(fixture(id));
      await server.supervision.seedConsent(id, ['res-1', 'res-2', 'res-3'], { id: 'system', name: 'test' });
      await server.alarms.raise(decision(`alarm-${id}`, { siteId: id }), id);
    }
    for (const role of ROLES)
      cookies.set(role, await loginAs(server, { username: `p-${role}`, role, sites: role === 'relative' ? [] : ['demo'] }));
    for (const id of ['demo', 'other'] as const) {
      await server.auth.upsertUser({ username: `target-${id}`, displayName: 'Target', role: 'nurse', password: PASSWORD, sites: [id] });
      users[id] = (
        await server.app.inject({ method: 'GET', url: `/api/users?site=${id}&role=nurse`, headers: { cookie: cookies.get('admin') ?? '' } })
      )
        .json()
        .users.find((u: { username: string }) => u.username === `target-${id}`)?.id;
    }
    expect(users.other).toEqual(expect.any(String));
    await server.auth.upsertUser({ username: 'rel-spare', displayName: 'Spare', role: 'relative', password: PASSWORD, sites: [] });
    // The relative p-relative is linked to res-1 at demo, which consents to sharing; res-2 consents too but is not theirs.
    const lead = { ...CSRF, cookie: cookies.get('nurse_in_charge') ?? '' };
    const setup = [
      await server.app.inject({ method: 'PUT', url: '/api/sites/demo/residents/res-1/relatives/p-relative', headers: lead }),
      ...(await Promise.all(
        ['res-1', 'res-2'].map((r) =>
          server.app.inject({
            method: 'POST',
            url: `/api/sites/demo/residents/${r}/sharing-consent`,
            headers: lead,
            payload: { givenBy: 'resident', givenOn: '2026-11-01' },
          }),
        ),
      )),
    ];
    for (const answer of setup) expect(answer.statusCode, answer.body).toBe(200);
  });
  afterAll(async () => {
    await server?.app.close();
    await engine.reset();
  });

  const own = (): Target => ({ site: 'demo', resident: 'res-1', alarm: 'alarm-demo', userId: users.demo });
  const otherSite = (): Target => ({ site: 'other', resident: 'res-1', alarm: 'alarm-other', userId: users.other });
  const otherResident = (): Target => ({ ...own(), resident: 'res-2' });

  const DEFAULT_PARAMS: Record<string, (t: Target) => string> = {
    siteId: (t) => t.site,
    residentId: (t) => t.resident,
    roomId: () => 'room-1',
    sensorId: () => 'door-1',
    id: (t) => t.alarm,
    username: () => 'rel-spare',
    night: () => '2026-11-24',
    userId: (t) => t.userId,
  };

  async function send(operation: string, rule: Rule, principal: Principal, target: Target) {
    const [method, template] = operation.split(' ') as [string, string];
    const path = template.replace(/\{(\w+)\}/g, (_m, name: string) => {
      const value = (rule.params?.[name] ?? DEFAULT_PARAMS[name])?.(target);
      if (value === undefined) throw new Error(`${operation}: no value for path parameter ${name}`);
      return encodeURIComponent(value);
    });
    let cookie: string | undefined;
    if (principal !== 'anonymous')
      cookie = rule.fresh
        ? await loginAs(server, { username: `p-${principal}`, role: principal, sites: principal === 'relative' ? [] : ['demo'] })
        : cookies.get(principal);
    const query = rule.query?.(target);
    const body = rule.body?.(target);
    return server.app.inject({
      method: method.toUpperCase() as 'GET',
      url: query ? `${path}?${query}` : path,
      headers: { ...CSRF, ...(cookie ? { cookie } : {}) },
      ...(body !== undefined ? { payload: body } : {}),
    });
  }

  it('has a rule for every route Fastify serves, and no rule for a route that is gone', () => {
    const routed = routedOperations(server.app.printRoutes({ commonPrefix: false })).filter(
      (op) => !op.startsWith('head ') && (op.includes(' /api/') || op.endsWith(' /metrics')),
    );
    expect(routed.length).toBeGreaterThan(60);
    expect([...new Set(routed)].sort()).toEqual(Object.keys(RULES).sort());
  });

  it.each(Object.entries(RULES))('%s', async (operation, rule) => {
    const allowed: readonly Role[] = rule.allow === 'public' || rule.allow === 'session' ? ROLES : rule.allow;
    const outcome: string[] = [];
    const expectStatus = (who: string, status: number, wanted: number | ((s: number) => boolean), body: string) => {
      const ok = typeof wanted === 'number' ? status === wanted : wanted(status);
      if (!ok) outcome.push(`${who}: got ${status} ${body.slice(0, 160)}`);
    };

    // No session: 401 (public routes answer anyway).
    const anonymous = await send(operation, rule, 'anonymous', own());
    expectStatus('no session', anonymous.statusCode, rule.allow === 'public' ? (s) => s < 400 : 401, anonymous.body);

    // A role that may not: 403, and nothing changes.
    for (const role of ROLES.filter((r) => !allowed.includes(r))) {
      const answer = await send(operation, rule, role, own());
      expectStatus(role, answer.statusCode, 403, answer.body);
    }

    // The right role at the wrong site, or the relative at another resident.
    const pathNamesSite = operation.includes('{siteId}') || rule.query?.(own()).includes('site=') === true;
    const cross = rule.cross ?? (pathNamesSite && rule.allow !== 'public' ? 'site' : 'none');
    if (cross === 'site')
      for (const role of allowed) {
        const answer = await send(operation, rule, role, otherSite());
        expectStatus(`${role} at the other site`, answer.statusCode, 403, answer.body);
      }
    else if (cross === 'resident')
      for (const target of [otherResident(), otherSite()]) {
        const answer = await send(operation, rule, 'relative', target);
        expectStatus(`relative at ${target.site}/${target.resident}`, answer.statusCode, 403, answer.body);
      }
    else if (cross !== 'none')
      for (const role of cross.roles) {
        const answer = await send(operation, rule, role, otherSite());
        expectStatus(`${role} at the other site`, answer.statusCode, cross.status, answer.body);
      }

    // Every allowed role gets past authorization with a valid request; at least one is served.
    let served = false;
    for (const role of allowed) {
      const answer = await send(operation, rule, role, own());
      const status = answer.statusCode;
      expectStatus(role, status, (s) => s !== 400 && s !== 401 && s !== 403 && s < 500, answer.body);
      if ((status >= 200 && status < 300) || rule.worked?.includes(status)) served = true;
    }
    if (!served) outcome.push('no allowed role was served (the sample request is wrong?)');
    expect(outcome, operation).toEqual([]);
  });

  it('refuses a /gateway socket with a wrong or no token, and takes the right one', async () => {
    await server.sites.setGatewayToken('demo', TOKEN);
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}/gateway`;
    const connect = (auth: object) =>
      new Promise<string>((resolve) => {
        const socket = io(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
        socket.once('connect', () => {
          socket.disconnect();
          resolve('connected');
        });
        socket.once('connect_error', (error) => {
          socket.disconnect();
          resolve(error.message);
        });
      });
    expect(await connect({ token: 'not-the-gateway-token-of-any-site' })).toBe('unauthorized');
    expect(await connect({ token: `${TOKEN.slice(0, -1)}x` })).toBe('unauthorized');
    expect(await connect({})).toBe('unauthorized');
    expect(await connect({ token: 42 })).toBe('unauthorized');
    expect(await connect({ token: TOKEN })).toBe('connected');
  });
});

describe('login rate limit', () => {
  let server: NattevaktServer;
  afterAll(async () => {
    await server?.app.close();
  });

  it('refuses the attempt past the limit per address with 429, even with the right password, and not another address', async () => {
    server = await buildApp({ dataDir: ':memory:', auth: { loginRateLimit: { max: 3, timeWindowMs: 60_000 } } });
    await server.auth.upsertUser({ username: 'kari', displayName: 'Kari', role: 'nurse', password: PASSWORD, sites: [] });
    const login = (password: string, remoteAddress: string) =>
      server.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        remoteAddress,
        headers: { 'x-nattevakt': '1' },
        payload: { username: 'kari', password },
      });
    // Different usernames would not help: the limit is per address.
    expect((await login('wrong-1', '10.0.0.1')).statusCode).toBe(401);
    expect((await login('wrong-2', '10.0.0.1')).statusCode).toBe(401);
    expect((await login(PASSWORD, '10.0.0.1')).statusCode).toBe(200);
    const limited = await login(PASSWORD, '10.0.0.1');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toMatch(/^too many login attempts; try again in \d+ s$/);
    expect(limited.cookies).toEqual([]);
    expect((await login(PASSWORD, '10.0.0.2')).statusCode).toBe(200);
  });
});
