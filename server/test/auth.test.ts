import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type NattevaktServer } from '../src/app.js';
import { site } from './alarm-harness.js';
import { engines } from './support/databases.js';
import { loginAs, PASSWORD } from './support/login.js';

const CSRF = { 'x-nattevakt': '1' };

describe.each(engines)('people, sessions and access ($name)', (engine) => {
  let server: NattevaktServer;

  const start = async (loginMax = 10) => {
    server = await buildApp({
      ...(await engine.store()),
      auth: { secureCookies: true, loginRateLimit: { max: loginMax, timeWindowMs: 60_000 } },
    });
    await server.sites.save(site);
    await server.sites.save({ ...site, site: { ...site.site, id: 'other', name: 'Annen' } });
    return server;
  };
  const login = (username: string, password: string, headers: Record<string, string> = CSRF) =>
    server.app.inject({ method: 'POST', url: '/api/auth/login', headers, payload: { username, password } });
  const get = (url: string, cookie?: string) =>
    server.app.inject({ method: 'GET', url, ...(cookie === undefined ? {} : { headers: { cookie } }) });

  afterEach(async () => {
    await server?.app.close();
    await engine.reset();
  });

  it('logs in with an argon2id password and sets a secure httpOnly SameSite=Strict session cookie', async () => {
    await start();
    await server.auth.upsertUser({ username: 'kari', displayName: 'Kari N.', role: 'nurse', password: PASSWORD, sites: ['demo'] });
    const ok = await login('Kari', PASSWORD);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ user: { username: 'kari', displayName: 'Kari N.', role: 'nurse', sites: ['demo'] } });
    const setCookie = String(ok.headers['set-cookie']);
    expect(setCookie).toMatch(/^nattevakt_session=[\w-]{40,};/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('Secure');
    expect(setCookie).toContain('SameSite=Strict');
    const cookie = setCookie.split(';')[0] ?? '';
    expect((await get('/api/auth/me', cookie)).json()).toMatchObject({ user: { displayName: 'Kari N.' } });

    // Only hashes are stored: the password as argon2id, the session token as SHA-256.
    const users = await server.auth.storedHashes();
    expect(users.passwords.every((h) => h.startsWith('$argon2id$'))).toBe(true);
    expect(users.sessions).toEqual([
      createHash('sha256')
        .update(decodeURIComponent(cookie.split('=')[1] ?? ''))
        .digest('hex'),
    ]);
  });

  it('gives the same answer for a wrong password and an unknown user, and rejects unknown fields', async () => {
    await start();
    await loginAs(server, { username: 'kari' });
    const wrong = await login('kari', 'not the password');
    const unknown = await login('nobody', 'not the password');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json()).toEqual({ error: 'wrong username or password' });
    const extra = await server.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: CSRF,
      payload: { username: 'kari', password: PASSWORD, admin: true },
    });
    expect(extra.statusCode).toBe(400);
  });

  it('rate-limits login attempts: the N+1th within the window gets 429', async () => {
    await start(3);
    for (let i = 0; i < 3; i++) expect((await login('nobody', `guess-${i}`)).statusCode).toBe(401);
    const limited = await login('nobody', 'guess-3');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toContain('too many login attempts');
  });

  it('locks a username after repeated failures, even with the right password', async () => {
    await start(100);
    await loginAs(server, { username: 'kari' });
    for (let i = 0; i < 5; i++) expect((await login('kari', `guess-${i}`)).statusCode).toBe(401);
    expect((await login('kari', PASSWORD)).statusCode).toBe(429);
  });

  it('requires a session for every API route but health and login (401)', async () => {
    await start();
    for (const url of ['/api/auth/me', '/api/ward', '/api/alarms/open', '/api/alarms/changes?since=0', '/api/reports/alarm-latency'])
      expect((await get(url)).statusCode, url).toBe(401);
    expect((await get('/api/ward', 'nattevakt_session=made-up-token-made-up-token')).statusCode).toBe(401);
    expect((await get('/api/health')).statusCode).toBe(200);
    expect((await get('/metrics')).statusCode).toBe(200);
  });

  it('refuses other sites and roles with 403', async () => {
    await start();
    const nurseA = await loginAs(server, { username: 'kari', sites: ['demo'] });
    expect((await get('/api/ward', nurseA)).statusCode).toBe(200);
    expect((await get('/api/alarms/open?site=demo', nurseA)).statusCode).toBe(200);
    expect((await get('/api/alarms/open?site=other', nurseA)).statusCode).toBe(403);
    expect((await get('/api/ward?site=other', nurseA)).statusCode).toBe(403);
    expect((await get('/api/reports/alarm-latency?site=other', nurseA)).statusCode).toBe(403);
    expect((await get('/api/sites/other/events?from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z', nurseA)).statusCode).toBe(403);

    // An alarm of site other, asked for by id.
    await server.alarms.raise(
      {
        id: 'b1',
        siteId: 'other',
        residentId: 'res-1',
        roomId: 'room-1',
        sensorId: 'door-1',
        rule: 'door-open-at-night',
        priority: 'high',
        raisedAt: '2026-11-25T01:59:59.000Z',
        decidedAt: '2026-11-25T01:59:59.900Z',
        evidence: { eventIds: ['b1-e1'], since: '2026-11-25T01:59:59.000Z' },
      },
      'other',
    );
    expect((await get('/api/alarms/b1', nurseA)).statusCode).toBe(403);
    expect((await get('/api/alarms/open', nurseA)).json().alarms).toEqual([]);
    const nurseB = await loginAs(server, { username: 'ola', sites: ['other'] });
    expect((await get('/api/alarms/b1', nurseB)).statusCode).toBe(200);

    const relative = await loginAs(server, { username: 'datter', role: 'relative', sites: ['demo'] });
    expect((await get('/api/ward', relative)).statusCode).toBe(403);
    expect((await get('/api/alarms/open', relative)).statusCode).toBe(403);
    const technician = await loginAs(server, { username: 'tekniker', role: 'technician', sites: ['demo'] });
    expect((await get('/api/ward', technician)).statusCode).toBe(200);
    expect((await get('/api/alarms/open', technician)).statusCode).toBe(403);
  });

  it('refuses a state-changing request without a matching Origin or X-Nattevakt (CSRF)', async () => {
    await start();
    await loginAs(server, { username: 'kari' });
    expect((await login('kari', PASSWORD, {})).statusCode).toBe(403);
    expect((await login('kari', PASSWORD, { origin: 'https://evil.example' })).statusCode).toBe(403);
    expect((await login('kari', PASSWORD, { origin: 'http://localhost:8080', host: 'localhost:8080' })).statusCode).toBe(200);
  });

  it('logout ends the session and its live sockets', async () => {
    await start();
    const cookie = await loginAs(server, { username: 'kari' });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    const socket = io(`${url}/staff`, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { cookie } });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const closed = new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));
      const out = await server.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { ...CSRF, cookie } });
      expect(out.statusCode).toBe(200);
      await closed;
      expect((await get('/api/auth/me', cookie)).statusCode).toBe(401);
    } finally {
      socket.disconnect();
    }
  });

  it('refuses a /staff socket without a session cookie, or of a relative', async () => {
    await start();
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    const relative = await loginAs(server, { username: 'datter', role: 'relative' });
    for (const headers of [
      {} as Record<string, string>,
      { cookie: 'nattevakt_session=made-up-token-made-up-token' },
      { cookie: relative },
    ]) {
      const socket = io(`${url}/staff`, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: headers });
      const error = await new Promise<Error>((resolve, reject) => {
        socket.once('connect', () => reject(new Error('connected without a staff session')));
        socket.once('connect_error', resolve);
      });
      socket.disconnect();
      expect(error.message).toMatch(/login required|role/);
    }
  });

  it('sends alarms only to the sockets of their site, acting as the logged-in person', async () => {
    await start();
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    const connect = async (cookie: string) => {
      const socket = io(`${url}/staff`, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { cookie } });
      const alarms: string[] = [];
      socket.on('alarm', (a) => alarms.push(a.id));
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      return { socket, alarms };
    };
    const a = await connect(await loginAs(server, { username: 'kari', displayName: 'Kari N.', sites: ['demo'] }));
    const b = await connect(await loginAs(server, { username: 'ola', sites: ['other'] }));
    try {
      await server.alarms.raise(
        {
          id: 'x1',
          siteId: 'demo',
          residentId: 'res-1',
          roomId: 'room-1',
          sensorId: 'door-1',
          rule: 'door-open-at-night',
          priority: 'high',
          raisedAt: '2026-11-25T01:59:59.000Z',
          decidedAt: '2026-11-25T01:59:59.900Z',
          evidence: { eventIds: ['x1-e1'], since: '2026-11-25T01:59:59.000Z' },
        },
        'demo',
      );
      const until = Date.now() + 3000;
      while (a.alarms.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      expect(a.alarms).toEqual(['x1']);
      // Site other's nurse hears nothing of it, and may not acknowledge it.
      expect(b.alarms).toEqual([]);
      expect(await b.socket.emitWithAck('acknowledge', { alarmId: 'x1', by: 'Ola' })).toEqual({ ok: false, error: 'forbidden' });
      // A technician of the site hears it, but may only read.
      const tech = await connect(await loginAs(server, { username: 'tekniker', role: 'technician', sites: ['demo'] }));
      try {
        expect(await tech.socket.emitWithAck('acknowledge', { alarmId: 'x1', by: 'Tekniker' })).toEqual({ ok: false, error: 'forbidden' });
      } finally {
        tech.socket.disconnect();
      }
      const acked = await a.socket.emitWithAck('acknowledge', { alarmId: 'x1', by: 'Someone Else' });
      expect(acked).toMatchObject({ ok: true, alarm: { acknowledgedBy: 'Kari N.' } });
    } finally {
      a.socket.disconnect();
      b.socket.disconnect();
    }
  });
});
