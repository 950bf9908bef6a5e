import type { AddressInfo } from 'node:net';
import type { SiteConfig } from '@nattevakt/protocol/site-config';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type NattevaktServer } from '../src/app.js';
import { site } from './alarm-harness.js';
import { engines } from './support/databases.js';
import { loginAs, PASSWORD } from './support/login.js';

const CSRF = { 'x-nattevakt': '1' };
const NEW_PASSWORD = 'a brand new long password';

describe.each(engines)('users and sites over REST ($name)', (engine) => {
  let server: NattevaktServer;
  let url: string;
  const sockets: Socket[] = [];

  const start = async () => {
    server = await buildApp({ ...(await engine.store()), auth: { secureCookies: false } });
    await server.sites.save(site);
    await server.sites.save({ ...site, site: { ...site.site, id: 'other', name: 'Annen' } });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    return loginAs(server, { username: 'admin', displayName: 'Ada Admin', role: 'admin', sites: ['demo'] });
  };
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, cookie: string | undefined, payload?: object) =>
    server.app.inject({ method, url: path, headers: { ...CSRF, ...(cookie ? { cookie } : {}) }, ...(payload ? { payload } : {}) });
  const login = (username: string, password: string) =>
    server.app.inject({ method: 'POST', url: '/api/auth/login', headers: CSRF, payload: { username, password } });
  const cookieOf = (response: Awaited<ReturnType<typeof login>>) => {
    const c = response.cookies.find((x) => x.name === 'nattevakt_session');
    if (c === undefined) throw new Error(`no session cookie: ${response.statusCode} ${response.body}`);
    return `${c.name}=${c.value}`;
  };
  const connect = async (
    namespace: '/staff' | '/gateway',
    options: { cookie?: string; token?: string; onConfig?: (config: SiteConfig) => void },
  ) => {
    const socket = io(`${url}${namespace}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      ...(options.cookie ? { extraHeaders: { cookie: options.cookie } } : {}),
      ...(options.token ? { auth: { token: options.token } } : {}),
    });
    sockets.push(socket);
    if (options.onConfig) socket.on('config', options.onConfig);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return socket;
  };
  const disconnected = (socket: Socket) => new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.disconnect();
    await server?.app.close();
    await engine.reset();
  });

  it('an admin creates a user who can log in; the password is stored as argon2id and audited without it', async () => {
    const admin = await start();
    const created = await call('POST', '/api/users', admin, {
      username: 'Kari.N',
      displayName: 'Kari Nordmann',
      role: 'nurse',
      sites: ['demo'],
      password: PASSWORD,
    });
    expect(created.statusCode).toBe(201);
    const user = created.json().user;
    expect(user).toMatchObject({ username: 'kari.n', displayName: 'Kari Nordmann', role: 'nurse', sites: ['demo'], disabledAt: null });
    expect(JSON.stringify(created.json())).not.toContain(PASSWORD);
    expect((await login('kari.n', PASSWORD)).statusCode).toBe(200);
    expect((await server.auth.storedHashes()).passwords.every((h) => h.startsWith('$argon2id$'))).toBe(true);

    const audit = await call('GET', `/api/users/${user.id}/audit`, admin);
    expect(audit.json().entries).toEqual([
      expect.objectContaining({
        action: 'created',
        actor: 'Ada Admin',
        username: 'kari.n',
        detail: { displayName: 'Kari Nordmann', role: 'nurse', sites: ['demo'] },
      }),
    ]);
    expect(audit.body).not.toContain(PASSWORD);
  });

  it('refuses bad input with the field named, and writes nothing', async () => {
    const admin = await start();
    const body = { username: 'ola', displayName: 'Ola', role: 'nurse', sites: ['demo'], password: PASSWORD };
    const cases: [object, number, RegExp][] = [
      [{ ...body, admin: true }, 400, /must NOT have additional properties/],
      [{ ...body, password: 'short' }, 400, /password/],
      [{ ...body, role: 'superuser' }, 400, /role/],
      [{ ...body, sites: ['demo', 'nowhere'] }, 400, /body\/sites\/1: no site "nowhere"/],
      [{ ...body, role: 'relative' }, 400, /body\/sites: a relative belongs to no site/],
      [{ ...body, username: 'has space' }, 400, /username/],
    ];
    for (const [payload, status, message] of cases) {
      const answer = await call('POST', '/api/users', admin, payload);
      expect(answer.statusCode, JSON.stringify(payload)).toBe(status);
      expect(answer.json().error).toMatch(message);
    }
    const users = await call('GET', '/api/users', admin);
    expect(users.json().users.map((u: { username: string }) => u.username)).toEqual(['admin']);

    expect((await call('POST', '/api/users', admin, body)).statusCode).toBe(201);
    const taken = await call('POST', '/api/users', admin, { ...body, username: 'OLA', displayName: 'Another' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error).toBe('body/username: "ola" is taken');
    expect((await call('PATCH', '/api/users/no-such-id', admin, { displayName: 'X' })).statusCode).toBe(404);
    expect((await call('PATCH', '/api/users/no-such-id', admin, {})).statusCode).toBe(400);
  });

  it('a change of role or sites is audited and reconnects the live board with its new rights', async () => {
    const admin = await start();
    const created = (
      await call('POST', '/api/users', admin, { username: 'per', displayName: 'Per', role: 'nurse', sites: ['demo'], password: PASSWORD })
    ).json().user;
    const per = cookieOf(await login('per', PASSWORD));
    const board = await connect('/staff', { cookie: per });
    const gone = disconnected(board);

    const changed = await call('PATCH', `/api/users/${created.id}`, admin, { role: 'nurse_in_charge', sites: ['other', 'demo'] });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().user).toMatchObject({ role: 'nurse_in_charge', sites: ['demo', 'other'] });
    expect(await gone).toBe('io server disconnect');
    // The session itself lives on, with the new rights.
    expect((await call('GET', '/api/auth/me', per)).json().user).toMatchObject({ role: 'nurse_in_charge', sites: ['demo', 'other'] });
    expect((await call('GET', '/api/sites/other/audit', per)).statusCode).toBe(200);

    // A change that changes nothing writes nothing.
    expect((await call('PATCH', `/api/users/${created.id}`, admin, { displayName: 'Per' })).statusCode).toBe(200);
    const audit = (await call('GET', `/api/users/${created.id}/audit`, admin)).json().entries;
    expect(audit.map((e: { action: string }) => e.action)).toEqual(['updated', 'created']);
    expect(audit[0].detail).toEqual({
      role: { before: 'nurse', after: 'nurse_in_charge' },
      sites: { before: ['demo'], after: ['demo', 'other'] },
    });

    // An admin cannot lock themselves out.
    const me = (await call('GET', '/api/auth/me', admin)).json().user;
    const adminId = (await call('GET', '/api/users?role=admin', admin)).json().users[0].id;
    expect(me.username).toBe('admin');
    expect((await call('PATCH', `/api/users/${adminId}`, admin, { role: 'nurse' })).statusCode).toBe(409);
    expect((await call('POST', `/api/users/${adminId}/disable`, admin)).statusCode).toBe(409);
  });

  it('disabling ends the sessions and live sockets at once; enabling lets the user in again; a reset password ends the old sessions', async () => {
    const admin = await start();
    const id = (
      await call('POST', '/api/users', admin, { username: 'liv', displayName: 'Liv', role: 'nurse', sites: ['demo'], password: PASSWORD })
    ).json().user.id;
    const liv = cookieOf(await login('liv', PASSWORD));
    const board = await connect('/staff', { cookie: liv });
    const gone = disconnected(board);

    const disabled = await call('POST', `/api/users/${id}/disable`, admin);
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json().user.disabledAt).toEqual(expect.any(String));
    await gone;
    expect((await call('GET', '/api/auth/me', liv)).statusCode).toBe(401);
    expect((await login('liv', PASSWORD)).statusCode).toBe(401);

    expect((await call('POST', `/api/users/${id}/enable`, admin)).json().user.disabledAt).toBeNull();
    const again = cookieOf(await login('liv', PASSWORD));

    const reset = await call('POST', `/api/users/${id}/password`, admin, { password: NEW_PASSWORD });
    expect(reset.statusCode).toBe(200);
    expect(reset.body).not.toContain(NEW_PASSWORD);
    expect((await call('GET', '/api/auth/me', again)).statusCode).toBe(401);
    expect((await login('liv', PASSWORD)).statusCode).toBe(401);
    expect((await login('liv', NEW_PASSWORD)).statusCode).toBe(200);
    expect((await call('POST', `/api/users/${id}/password`, admin, { password: 'short' })).json().error).toMatch(/password/);

    const audit = (await call('GET', `/api/users/${id}/audit`, admin)).json().entries;
    expect(audit.map((e: { action: string; actor: string }) => `${e.action} by ${e.actor}`)).toEqual([
      'password-reset by Ada Admin',
      'enabled by Ada Admin',
      'disabled by Ada Admin',
      'created by Ada Admin',
    ]);
    expect(JSON.stringify(audit)).not.toContain(NEW_PASSWORD);
    expect((await call('GET', '/api/users?status=disabled', admin)).json().users).toEqual([]);
  });

  it('a nurse in charge lists the users of their own sites only, sees only shared sites, and changes nothing', async () => {
    const admin = await start();
    await loginAs(server, { username: 'ingrid', role: 'nurse', sites: ['demo'] });
    await loginAs(server, { username: 'tor', role: 'nurse', sites: ['other'] });
    await loginAs(server, { username: 'siv', role: 'technician', sites: ['demo', 'other'] });
    const relative = (
      await call('POST', '/api/users', admin, {
        username: 'datter',
        displayName: 'Datter',
        role: 'relative',
        sites: [],
        password: PASSWORD,
      })
    ).json().user;
    const lead = await loginAs(server, { username: 'leder', role: 'nurse_in_charge', sites: ['demo'] });
    const linked = await call('PUT', '/api/sites/demo/residents/res-1/relatives/datter', lead);
    expect(linked.statusCode).toBe(200);

    const list = (await call('GET', '/api/users', lead)).json();
    expect(list.users.map((u: { username: string }) => u.username)).toEqual(['admin', 'datter', 'ingrid', 'leder', 'siv']);
    expect(list.users.find((u: { username: string }) => u.username === 'siv').sites).toEqual(['demo']);
    expect((await call('GET', '/api/users?site=other', lead)).statusCode).toBe(403);
    expect((await call('GET', `/api/users/${relative.id}`, lead)).statusCode).toBe(200);
    const torId = (await call('GET', '/api/users?site=other&role=nurse', admin)).json().users[0].id;
    expect((await call('GET', `/api/users/${torId}`, lead)).statusCode).toBe(404);
    expect((await call('GET', `/api/users/${torId}`, admin)).statusCode).toBe(200);
    expect((await call('POST', `/api/users/${torId}/disable`, lead)).statusCode).toBe(403);
    expect((await call('GET', `/api/users/${torId}/audit`, lead)).statusCode).toBe(403);

    // Paging by username.
    const first = (await call('GET', '/api/users?limit=2', admin)).json();
    expect(first.users.map((u: { username: string }) => u.username)).toEqual(['admin', 'datter']);
    const second = (await call('GET', `/api/users?limit=2&after=${first.nextAfter}`, admin)).json();
    expect(second.users.map((u: { username: string }) => u.username)).toEqual(['ingrid', 'leder']);
  });

  it('an admin creates a site with a gateway token shown once; the gateway connects with it; a duplicate id changes nothing', async () => {
    const admin = await start();
    const created = await call('POST', '/api/sites', admin, { id: 'solsiden', name: 'Solsiden sykehjem' });
    expect(created.statusCode).toBe(201);
    const { gatewayToken, site: made, revision } = created.json();
    expect(made).toEqual({ id: 'solsiden', name: 'Solsiden sykehjem', timezone: 'Europe/Oslo' });
    expect(revision).toBe(1);
    expect(gatewayToken).toMatch(/^[\w-]{43}$/);
    // The creator is a member and may configure it at once.
    expect((await call('GET', '/api/sites', admin)).json().sites.map((s: { id: string }) => s.id)).toContain('solsiden');
    expect((await call('POST', '/api/sites/solsiden/rooms', admin, { id: 'rom-1', name: 'Rom 1' })).statusCode).toBe(201);

    const config = new Promise<SiteConfig>((resolve) => {
      void connect('/gateway', { token: gatewayToken, onConfig: resolve });
    });
    expect((await config).site.id).toBe('solsiden');

    const again = await call('POST', '/api/sites', admin, { id: 'solsiden', name: 'Someone else' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toBe('body/id: a site "solsiden" exists already');
    expect(server.sites.get('solsiden')?.site.name).toBe('Solsiden sykehjem');
    expect(await server.sites.authenticateGateway(gatewayToken)).toBe('solsiden');

    const badZone = await call('POST', '/api/sites', admin, { id: 'x', name: 'X', timezone: 'Mars/Olympus' });
    expect(badZone.statusCode).toBe(400);
    expect(badZone.json().error).toMatch(/\/site\/timezone: "Mars\/Olympus" is not an IANA time zone/);
    expect(server.sites.get('x')).toBeUndefined();
    expect((await call('POST', '/api/sites', admin, { id: 'Bad Id', name: 'X' })).json().error).toMatch(/body\/id/);

    const audit = (await call('GET', '/api/sites/solsiden/audit', admin)).json().entries;
    expect(audit.at(-1)).toMatchObject({ entity: 'site', action: 'created', actor: 'Ada Admin', revision: 1 });
    expect(JSON.stringify(audit)).not.toContain(gatewayToken);
  });

  it('rotating a gateway token revokes the old one at once and disconnects its gateway', async () => {
    const admin = await start();
    const { gatewayToken: old } = (await call('POST', '/api/sites', admin, { id: 'fjordly', name: 'Fjordly' })).json();
    const gateway = await connect('/gateway', { token: old });
    const gone = disconnected(gateway);

    const rotated = await call('POST', '/api/sites/fjordly/gateway-token', admin);
    expect(rotated.statusCode).toBe(200);
    const fresh = rotated.json().gatewayToken;
    expect(fresh).not.toBe(old);
    expect(await gone).toBe('io server disconnect');
    await expect(connect('/gateway', { token: old })).rejects.toThrow('unauthorized');
    await connect('/gateway', { token: fresh });

    expect((await call('POST', '/api/sites/other/gateway-token', admin)).statusCode).toBe(403);
    const audit = (await call('GET', '/api/sites/fjordly/audit', admin)).json().entries;
    expect(audit[0]).toMatchObject({ entity: 'site', action: 'gateway-token-rotated', actor: 'Ada Admin', revision: null });
    expect(JSON.stringify(audit)).not.toContain(fresh);
  });
});
