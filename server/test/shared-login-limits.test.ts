/**
 * The login lock-out and the login rate limit count across instances: two servers on one database
 * (a shared SQLite file, or one PostgreSQL database) give an attacker no more tries than one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppOptions, buildApp, type NattevaktServer } from '../src/app.js';
import { MAX_FAILURES } from '../src/auth/auth-service.js';
import { engines } from './support/databases.js';
import { PASSWORD } from './support/login.js';

describe.each(engines)('login limits shared by two instances ($name)', (engine) => {
  const servers: NattevaktServer[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.app.close();
    await engine.reset();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** Two instances on one database, each with the same login rate limit. */
  async function pair(loginRateLimit = { max: 1_000, timeWindowMs: 60_000 }): Promise<[NattevaktServer, NattevaktServer]> {
    const dir = mkdtempSync(join(tmpdir(), 'nattevakt-limits-'));
    dirs.push(dir);
    const options: Partial<AppOptions> = { auth: { secureCookies: false, loginRateLimit } };
    const a = await buildApp({ ...options, ...(await engine.store(dir)) });
    servers.push(a);
    const b = await buildApp({ ...options, ...(await engine.store(dir)) });
    servers.push(b);
    await a.auth.upsertUser({ username: 'kari', displayName: 'Kari', role: 'nurse', password: PASSWORD, sites: [] });
    await a.auth.upsertUser({ username: 'ola', displayName: 'Ola', role: 'nurse', password: PASSWORD, sites: [] });
    return [a, b];
  }

  const login = (server: NattevaktServer, username: string, password: string, remoteAddress = '127.0.0.1') =>
    server.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'x-nattevakt': '1' },
      payload: { username, password },
      remoteAddress,
    });

  it('wrong passwords tried on A and on B add up: the username is locked on both, even for the right password', async () => {
    const [a, b] = await pair();
    for (let i = 0; i < MAX_FAILURES - 1; i++) expect((await login(a, 'kari', `guess-${i}`)).statusCode).toBe(401);
    expect((await login(b, 'Kari', 'one more guess')).statusCode).toBe(401);
    for (const server of [a, b]) {
      const locked = await login(server, 'kari', PASSWORD);
      expect(locked.statusCode).toBe(429);
      expect(locked.json().error).toMatch(/too many failed logins/);
    }
    // Another username is not touched.
    expect((await login(b, 'ola', PASSWORD)).statusCode).toBe(200);
  });

  it('a right password on B starts the count again for A too', async () => {
    const [a, b] = await pair();
    for (let i = 0; i < MAX_FAILURES - 1; i++) expect((await login(a, 'kari', `guess-${i}`)).statusCode).toBe(401);
    expect((await login(b, 'kari', PASSWORD)).statusCode).toBe(200);
    for (let i = 0; i < MAX_FAILURES - 1; i++) expect((await login(a, 'kari', `again-${i}`)).statusCode).toBe(401);
    expect((await login(a, 'kari', PASSWORD)).statusCode).toBe(200);
  });

  it('guesses sent all at once to both instances get no more tries than one after the other', async () => {
    const [a, b] = await pair();
    const answers = await Promise.all([...Array(12)].map((_, i) => login(i % 2 === 0 ? a : b, 'kari', `parallel-${i}`)));
    const codes = answers.map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 401)).toHaveLength(MAX_FAILURES);
    expect(codes.filter((c) => c === 429)).toHaveLength(12 - MAX_FAILURES);
    expect(await b.auth.limits.locked('kari')).toBe(true);
  });

  it('the rate limit per address counts logins on both instances, and not another address', async () => {
    const [a, b] = await pair({ max: 3, timeWindowMs: 60_000 });
    expect((await login(a, 'kari', PASSWORD)).statusCode).toBe(200);
    expect((await login(b, 'ola', PASSWORD)).statusCode).toBe(200);
    expect((await login(a, 'kari', PASSWORD)).statusCode).toBe(200);
    const limited = await login(b, 'ola', PASSWORD);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toMatch(/too many login attempts; try again in \d+ s/);
    expect((await login(a, 'kari', PASSWORD)).statusCode).toBe(429);
    expect((await login(b, 'ola', PASSWORD, '192.0.2.7')).statusCode).toBe(200);
  });

  it('a rate-limit window that ended starts again', async () => {
    const [a, b] = await pair({ max: 1, timeWindowMs: 2_000 });
    expect((await login(a, 'kari', PASSWORD)).statusCode).toBe(200);
    expect((await login(b, 'kari', PASSWORD)).statusCode).toBe(429);
    await new Promise((r) => setTimeout(r, 2_100));
    expect((await login(b, 'kari', PASSWORD)).statusCode).toBe(200);
    expect((await login(a, 'kari', PASSWORD)).statusCode).toBe(429);
  });
});
