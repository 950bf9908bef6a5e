import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from './alarm-harness.js';
import { engines } from './support/databases.js';

const login = (server: Awaited<ReturnType<Harness['server']>>['server'], username: string, password: string) =>
  server.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'x-nattevakt': '1' }, payload: { username, password } });

describe.each(engines)('the first admin of a new installation ($name)', (engine) => {
  const h = new Harness(engine);
  afterEach(() => h.close());

  it('is created once, can log in and manage users, and a second bootstrap changes nothing', async () => {
    const { server } = await h.server();
    const password = 'first-admin-password-1';
    expect(await server.auth.bootstrapAdmin({ username: 'Drift', displayName: 'Drift', password, sites: ['demo'] })).toBe(true);
    const response = await login(server, 'drift', password);
    expect(response.statusCode).toBe(200);
    const cookie = (response.headers['set-cookie'] as string | string[] | undefined)?.toString().split(';', 1)[0] ?? '';
    const users = await server.app.inject({ method: 'GET', url: '/api/users', headers: { cookie } });
    expect(users.statusCode).toBe(200);
    expect(JSON.stringify(users.json())).toContain('"role":"admin"');
    // Its creation is audited as done by the system, like a user an admin creates.
    const admin = (users.json() as { users: { id: string; username: string }[] }).users.find((u) => u.username === 'drift');
    const audit = await server.app.inject({ method: 'GET', url: `/api/users/${admin?.id}/audit`, headers: { cookie } });
    expect(audit.json()).toMatchObject({
      entries: [
        {
          username: 'drift',
          action: 'created',
          actor: 'system (--bootstrap-admin)',
          actorId: 'system',
          detail: { displayName: 'Drift', role: 'admin', sites: ['demo'] },
        },
      ],
    });

    // Run again (a restart, or another instance), with another name and password: nothing changes.
    expect(await server.auth.bootstrapAdmin({ username: 'other', displayName: 'Other', password: 'another-password-2', sites: [] })).toBe(
      false,
    );
    expect((await login(server, 'other', 'another-password-2')).statusCode).toBe(401);
    expect((await login(server, 'drift', password)).statusCode).toBe(200);
  });

  it('refuses to turn an existing non-admin user into the admin', async () => {
    const { server } = await h.server();
    await server.auth.upsertUser({ username: 'kari', displayName: 'Kari', role: 'nurse', password: 'kari-password-123', sites: ['demo'] });
    await expect(
      server.auth.bootstrapAdmin({ username: 'kari', displayName: 'Kari', password: 'hijack-password-9', sites: ['demo'] }),
    ).rejects.toThrow(/taken/);
    expect((await login(server, 'kari', 'hijack-password-9')).statusCode).toBe(401);
  });
});
