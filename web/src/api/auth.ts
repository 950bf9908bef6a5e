/** Login session: an httpOnly cookie the server sets; this module only asks who is logged in. */

export type Role = 'nurse' | 'nurse_in_charge' | 'relative' | 'technician' | 'admin';

export interface Me {
  username: string;
  displayName: string;
  role: Role;
  sites: string[];
}

/** Same-origin requests carry the session cookie; state-changing ones also the CSRF header. */
export const API_HEADERS = { accept: 'application/json', 'x-nattevakt': '1' } as const;

/** The logged-in user, or null when there is no session (401). Other failures throw. */
export async function fetchMe(): Promise<Me | null> {
  const response = await fetch('/api/auth/me', { headers: API_HEADERS, credentials: 'same-origin', cache: 'no-store' });
  if (response.status === 401) return null;
  if (!response.ok) throw new Error(`/api/auth/me: HTTP ${response.status}`);
  return ((await response.json()) as { user: Me }).user;
}

export type LoginResult = { ok: true; user: Me } | { ok: false; reason: 'wrong' | 'tooMany' | 'failed' };

export async function login(username: string, password: string): Promise<LoginResult> {
  try {
    const response = await fetch('/api/auth/login', {
      method: 'POST',
      headers: { ...API_HEADERS, 'content-type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ username, password }),
    });
    if (response.ok) return { ok: true, user: ((await response.json()) as { user: Me }).user };
    if (response.status === 401) return { ok: false, reason: 'wrong' };
    if (response.status === 429) return { ok: false, reason: 'tooMany' };
    return { ok: false, reason: 'failed' };
  } catch {
    return { ok: false, reason: 'failed' };
  }
}

export async function logout(): Promise<void> {
  await fetch('/api/auth/logout', { method: 'POST', headers: API_HEADERS, credentials: 'same-origin' }).catch(() => undefined);
}
