/** Logging in for the server suites: a user made through the service, a session cookie got over HTTP. */

import type { NattevaktServer } from '../../src/app.js';
import type { Role } from '../../src/auth/auth-service.js';

export const PASSWORD = 'correct horse battery staple';

export interface TestUser {
  username: string;
  displayName?: string;
  role?: Role;
  sites?: string[];
}

/** Creates (or replaces) the user and logs in over HTTP; resolves with the `Cookie` header value. */
export async function loginAs(server: NattevaktServer, user: TestUser): Promise<string> {
  await server.auth.upsertUser({
    username: user.username,
    displayName: user.displayName ?? user.username,
    role: user.role ?? 'nurse',
    password: PASSWORD,
    sites: user.sites ?? ['demo'],
  });
  const response = await server.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    headers: { 'x-nattevakt': '1' },
    payload: { username: user.username, password: PASSWORD },
  });
  if (response.statusCode !== 200) throw new Error(`login as ${user.username} failed: ${response.statusCode} ${response.body}`);
  const cookie = response.cookies.find((c) => c.name === 'nattevakt_session');
  if (cookie === undefined) throw new Error('login set no session cookie');
  return `${cookie.name}=${cookie.value}`;
}

const nurses = new WeakMap<NattevaktServer, Promise<string>>();

/** GET as a nurse of site `demo` (logged in once per server). */
export async function get(server: NattevaktServer, url: string) {
  let cookie = nurses.get(server);
  if (cookie === undefined) {
    cookie = loginAs(server, { username: 'test-nurse', displayName: 'Test Nurse' });
    nurses.set(server, cookie);
  }
  return server.app.inject({ method: 'GET', url, headers: { cookie: await cookie } });
}
